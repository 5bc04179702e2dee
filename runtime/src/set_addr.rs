//! `set-src`, `set-src-port`, `set-dst` and `set-dst-port`: the addresses a stream (or, from
//! `tcp-request connection|session` rules, the session) reports from then on, in logs,
//! fetches, `option forwardfor` and the PROXY header sent to servers.

use crate::sample::{Expr, Unsupported, Value};
use crate::txn::Txn;
use std::net::{IpAddr, SocketAddr};

/// Which address, and which half of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    SrcAddr,
    SrcPort,
    DstAddr,
    DstPort,
}

#[derive(Debug)]
pub struct SetAddr {
    target: Target,
    expr: Expr,
}

impl SetAddr {
    /// From the action name (`set-src`, …) and its sample expression.
    pub fn compile(action: &str, args: &[String]) -> Result<SetAddr, Unsupported> {
        let target = match action {
            "set-src" => Target::SrcAddr,
            "set-src-port" => Target::SrcPort,
            "set-dst" => Target::DstAddr,
            "set-dst-port" => Target::DstPort,
            other => return Err(Unsupported(format!("action '{other}'"))),
        };
        Ok(SetAddr {
            target,
            expr: Expr::parse(&args.join(" "))?,
        })
    }

    /// Changes the address when the expression gives an address (or a port); otherwise
    /// leaves it as it was. A `tcp-request connection` rule changes the connection's own
    /// (`on_connection`); any later one the session's or the stream's, the connection's
    /// being kept for `fc_src` and `fc_dst`.
    pub fn run(&self, txn: &mut Txn, on_connection: bool) {
        let Some(value) = self.expr.eval(txn) else {
            return;
        };
        if !on_connection && txn.conn_addrs.is_none() {
            txn.conn_addrs = Some((txn.client, txn.local));
        }
        let addr = match self.target {
            Target::SrcAddr | Target::SrcPort => &mut txn.client,
            Target::DstAddr | Target::DstPort => &mut txn.local,
        };
        match self.target {
            // The port stays.
            Target::SrcAddr | Target::DstAddr => {
                if let Some(ip) = as_ip(&value) {
                    *addr = SocketAddr::new(ip, addr.port());
                }
            }
            Target::SrcPort | Target::DstPort => {
                if let Some(port) = value.as_int() {
                    addr.set_port(port as u16);
                }
            }
        }
    }
}

/// A sample as an address: an address sample, or text that reads as one.
fn as_ip(value: &Value) -> Option<IpAddr> {
    match value {
        Value::Ip(ip) => Some(*ip),
        Value::Str(s) => s.trim().parse().ok(),
        other => other.as_ip(),
    }
}
