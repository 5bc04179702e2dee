//! Client-side connection drivers, one per protocol. Each hands the same request type to the
//! one request path in `crate::http`.

pub mod h1;
pub mod h2;

use crate::http::ConnCtx;
use crate::rules::{self, Verdict};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;

/// Runs the frontend's `tcp-request connection` rules, before any request is read: whether
/// the connection may go on.
pub(crate) fn connection_allowed(ctx: &ConnCtx) -> bool {
    let fe = ctx.frontend();
    let mut txn = Txn::new(ctx.shared.clone(), ctx.client, ctx.local, fe.name.clone());
    txn.tls = ctx.tls.clone();
    !matches!(
        rules::run(&fe.rules, RuleSet::TcpRequestConnection, &mut txn),
        Verdict::Reject | Verdict::Deny(_)
    )
}
