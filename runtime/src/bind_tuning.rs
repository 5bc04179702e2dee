//! Socket settings of a `bind` line, applied to a listening TCP socket once it is bound: the
//! length of its accept queue (`backlog`), the segment size advertised to clients (`mss`),
//! how long sent data may stay unacknowledged before a connection is dropped (`tcp-ut`) and
//! the network interface it accepts connections from (`interface`). Connections accepted
//! from the socket inherit the segment size and the timeout.

use hapee_compiler::ir::values::{parse_time, TimeUnit};
use hapee_compiler::plan::ListenerPlan;
use socket2::SockRef;
use std::net::TcpListener;

/// Applies the listener's settings to `socket`, or says which one failed and why.
pub fn apply(socket: &TcpListener, l: &ListenerPlan) -> Result<(), String> {
    let sock = SockRef::from(socket);
    if let Some(text) = l.option("backlog") {
        let n: i32 = number(text, "backlog")?;
        // A second listen() on a listening socket only sets the queue's new length.
        sock.listen(n).map_err(|e| format!("backlog {n}: {e}"))?;
    }
    if let Some(text) = l.option("mss") {
        // HAProxy's negative form (lowering each client's own segment size) is not done.
        let mss: u32 = number(text, "mss")
            .map_err(|e| format!("{e} (only a positive segment size is supported)"))?;
        sock.set_mss(mss).map_err(|e| format!("mss {mss}: {e}"))?;
    }
    if let Some(text) = l.option("tcp-ut") {
        let limit =
            parse_time(text, TimeUnit::Ms).map_err(|_| format!("tcp-ut: invalid time '{text}'"))?;
        let limit = std::time::Duration::from_millis(limit.value.into());
        sock.set_tcp_user_timeout(Some(limit))
            .map_err(|e| format!("tcp-ut {text}: {e}"))?;
    }
    if let Some(name) = l.option("interface") {
        sock.bind_device(Some(name.as_bytes()))
            .map_err(|e| format!("interface {name}: {e}"))?;
    }
    Ok(())
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{what}: invalid number '{text}'"))
}
