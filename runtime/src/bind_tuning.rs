//! Socket settings of a `bind` line, applied to a listening TCP socket once it is bound: the
//! length of its accept queue (`backlog`), the segment size advertised to clients (`mss`),
//! how long sent data may stay unacknowledged before a connection is dropped (`tcp-ut`) and
//! the network interface it accepts connections from (`interface`), accepting a connection
//! only once its first data came (`defer-accept`) and TCP Fast Open (`tfo`). Connections
//! accepted from the socket inherit the segment size and the timeout.

use hapee_compiler::ir::values::{parse_time, TimeUnit};
use hapee_compiler::plan::ListenerPlan;
use socket2::SockRef;
use std::net::TcpListener;
use std::os::fd::AsRawFd;

/// Applies the listener's settings to `socket`, or says which one failed and why.
pub fn apply(socket: &TcpListener, l: &ListenerPlan) -> Result<(), String> {
    let sock = SockRef::from(socket);
    let backlog = match l.option("backlog") {
        Some(text) => {
            let n: i32 = number(text, "backlog")?;
            // A second listen() on a listening socket only sets the queue's new length.
            sock.listen(n).map_err(|e| format!("backlog {n}: {e}"))?;
            n
        }
        None => crate::listener::DEFAULT_BACKLOG,
    };
    if l.has_option("defer-accept") {
        // As HAProxy does: up to one second for the first data before accepting anyway.
        set_tcp_int(socket, libc::TCP_DEFER_ACCEPT, 1).map_err(|e| format!("defer-accept: {e}"))?;
    }
    if l.has_option("tfo") {
        // The queue of pending Fast Open connections is as long as the accept queue.
        set_tcp_int(socket, libc::TCP_FASTOPEN, backlog).map_err(|e| format!("tfo: {e}"))?;
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

/// Sets an integer option of the TCP level on `socket`.
fn set_tcp_int(
    socket: &TcpListener,
    option: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    crate::sockopt::set_int(socket.as_raw_fd(), libc::IPPROTO_TCP, option, value)
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{what}: invalid number '{text}'"))
}
