//! Client-side connection drivers, one per protocol. Each hands the same request type to the
//! one request path in `crate::http`.

pub mod h1;
pub mod h2;
mod h2_stop;
pub mod h3;
pub mod netscaler;
pub mod proxy_protocol;

use crate::http::ConnCtx;
use crate::rules::{self, Verdict};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use hyper::header::{HeaderValue, HOST};
use hyper::Request;

/// HTTP/2 and HTTP/3 carry the authority in the request target; the request path and HTTP/1
/// servers expect it in `Host`, as HAProxy puts it there.
pub(crate) fn with_host<B>(req: Request<B>) -> Request<B> {
    with_authority_as_host(req, false)
}

/// [`with_host`] for HTTP/2, where HAProxy 2.7 takes `:authority` over any `Host` field
/// (RFC 9113 §8.3.1): a request carrying both is served with the authority as its only Host,
/// first, whatever Host the client wrote. (HTTP/3 keeps both, as HAProxy 2.7's does.)
pub(crate) fn with_h2_host<B>(req: Request<B>) -> Request<B> {
    with_authority_as_host(req, true)
}

fn with_authority_as_host<B>(mut req: Request<B>, over_host: bool) -> Request<B> {
    let has_host = req.headers().contains_key(HOST);
    if !has_host || (over_host && req.uri().authority().is_some()) {
        if let Some(value) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            // First, as HAProxy writes the authority's Host right after the request line.
            let mut fields = std::mem::take(req.headers_mut());
            fields.remove(HOST);
            let headers = req.headers_mut();
            headers.reserve(fields.len() + 1);
            headers.insert(HOST, value);
            headers.extend(fields);
        }
    }
    req
}

/// Runs the frontend's `tcp-request connection` rules, before any request is read: whether
/// the connection may go on. TCP connections have theirs run at accept (`crate::accept`);
/// QUIC connections, which have no accept of their own, run them here.
pub(crate) fn connection_allowed(ctx: &ConnCtx) -> bool {
    let fe = ctx.frontend();
    let mut txn = Txn::new(ctx.shared.clone(), ctx.client, ctx.local, fe.name.clone());
    txn.tls = ctx.tls.clone();
    !matches!(
        rules::run(&fe.rules, RuleSet::TcpRequestConnection, &mut txn),
        Verdict::Reject | Verdict::Deny(_)
    )
}
