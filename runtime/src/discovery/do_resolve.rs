//! `http-request do-resolve(<var>,<resolvers>[,ipv4|ipv6]) <expr>`: the name the expression
//! gives is resolved with a `resolvers` section while the request waits, and its first
//! address stored in the variable (IPv6 asked first unless `ipv4` says otherwise, the other
//! family when the first has none). When nothing is found the variable is left as it was.

use crate::sample::{Expr, Unsupported, Value};
use crate::txn::Txn;

#[derive(Debug)]
pub struct DoResolve {
    var: String,
    resolvers: String,
    prefer_v4: bool,
    expr: Expr,
}

impl DoResolve {
    pub fn compile(action: &str, args: &[String]) -> Result<DoResolve, Unsupported> {
        let inner = action
            .split_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .ok_or_else(|| Unsupported(format!("action '{action}'")))?;
        let mut parts = inner.split(',').map(str::trim);
        let (Some(var), Some(resolvers)) = (parts.next(), parts.next()) else {
            return Err(Unsupported(format!("action '{action}'")));
        };
        let prefer_v4 = match parts.next() {
            None | Some("ipv6") => false,
            Some("ipv4") => true,
            Some(other) => return Err(Unsupported(format!("do-resolve family '{other}'"))),
        };
        Ok(DoResolve {
            var: var.to_string(),
            resolvers: resolvers.to_string(),
            prefer_v4,
            expr: Expr::parse(&args.join(" "))?,
        })
    }

    /// Resolves the name and stores what was found.
    pub async fn run(&self, txn: &mut Txn) {
        let Some(name) = self.expr.eval(txn).map(|v| v.as_text().into_owned()) else {
            return;
        };
        let section = txn
            .shared
            .resolvers
            .iter()
            .find(|s| s.name == self.resolvers)
            .cloned();
        let (Some(section), false) = (section, name.is_empty()) else {
            return;
        };
        if let Some(ip) = super::resolver::lookup(&section, &name, self.prefer_v4).await {
            txn.store_var(&self.var, Value::Ip(ip));
        }
    }
}
