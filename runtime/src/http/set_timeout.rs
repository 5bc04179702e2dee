//! `http-request set-timeout server|tunnel <time>|<expr>`: this stream's server or tunnel
//! inactivity limit instead of the backend's, from a fixed time or a sample giving
//! milliseconds.

use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use hapee_compiler::ir::values::{parse_time, TimeUnit};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Server,
    Tunnel,
}

#[derive(Debug)]
enum Value {
    Fixed(Duration),
    Sample(Expr),
}

#[derive(Debug)]
pub struct SetTimeout {
    which: Which,
    value: Value,
}

impl SetTimeout {
    pub fn compile(args: &[String]) -> Result<SetTimeout, Unsupported> {
        let which = match args.first().map(String::as_str) {
            Some("server") => Which::Server,
            Some("tunnel") => Which::Tunnel,
            other => {
                return Err(Unsupported(format!(
                    "set-timeout '{}'",
                    other.unwrap_or_default()
                )))
            }
        };
        let text = args.get(1).map_or("", String::as_str);
        let value = match parse_time(text, TimeUnit::Ms) {
            Ok(d) if d.trailing_junk.is_none() => {
                Value::Fixed(Duration::from_millis(u64::from(d.value)))
            }
            _ => Value::Sample(Expr::parse(&args[1..].join(" "))?),
        };
        Ok(SetTimeout { which, value })
    }

    /// Sets the limit; a sample that gives no number leaves it as it was.
    pub fn run(&self, txn: &mut Txn) {
        let limit = match &self.value {
            Value::Fixed(d) => *d,
            Value::Sample(e) => match e.eval(txn).and_then(|v| v.as_int()) {
                Some(ms) if ms >= 0 => Duration::from_millis(ms as u64),
                _ => return,
            },
        };
        match self.which {
            Which::Server => txn.timeout_server = Some(limit),
            Which::Tunnel => txn.timeout_tunnel = Some(limit),
        }
    }
}
