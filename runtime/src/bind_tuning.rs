//! Socket settings of a `bind` line, applied to a listening TCP socket once it is bound: the
//! length of its accept queue (`backlog`), the segment size advertised to clients (`mss`),
//! how long sent data may stay unacknowledged before a connection is dropped (`tcp-ut`) and
//! the network interface it accepts connections from (`interface`), accepting a connection
//! only once its first data came (`defer-accept`), TCP Fast Open (`tfo`) and delayed
//! acknowledgements (`option tcp-smart-accept`). Connections accepted from the socket inherit
//! the segment size and the timeout.

use hapee_compiler::ir::values::{parse_time, TimeUnit};
use hapee_compiler::ir::Mode;
use hapee_compiler::plan::{FrontendPlan, ListenerPlan};
use socket2::SockRef;
use std::net::TcpListener;
use std::os::fd::AsRawFd;

/// Applies the listener's settings (and its frontend's) to `socket`, or says which one
/// failed and why; answers the length of its accept queue.
pub fn apply(
    socket: &TcpListener,
    l: &ListenerPlan,
    fe: &FrontendPlan,
    global_maxconn: Option<u32>,
) -> Result<i32, String> {
    let sock = SockRef::from(socket);
    let backlog = backlog(l, fe, global_maxconn)?;
    if backlog != crate::listener::DEFAULT_BACKLOG {
        // A second listen() on a listening socket only sets the queue's new length.
        sock.listen(backlog)
            .map_err(|e| format!("backlog {backlog}: {e}"))?;
    }
    if smart_accept(l, fe) {
        // The acknowledgement of the handshake's last packet waits to go with the answer.
        set_tcp_int(socket, libc::TCP_QUICKACK, 0).map_err(|e| format!("tcp-smart-accept: {e}"))?;
    }
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
        // As HAProxy: a device that cannot be bound to (absent, or no CAP_NET_RAW) is warned
        // about and the listener accepts from every interface.
        if let Err(e) = sock.bind_device(Some(name.as_bytes())) {
            let reason = crate::checks::engine::error_text(&e);
            let at = sock.local_addr().ok().and_then(|a| a.as_socket());
            let at = at.map(|a| format!(" for [{a}]")).unwrap_or_default();
            eprintln!(
                "[WARNING]  ({}) : Binding for frontend {}: cannot bind receiver to device '{name}' ({reason}){at}",
                std::process::id(),
                fe.name,
            );
        }
    }
    Ok(backlog)
}

/// The accept queue's length, as HAProxy chooses it: the line's `backlog`, else the
/// frontend's, else the line's `maxconn`, else the frontend's (which is the global one when
/// it sets none), else [`crate::listener::DEFAULT_BACKLOG`]. The kernel caps it at
/// `net.core.somaxconn`.
fn backlog(
    l: &ListenerPlan,
    fe: &FrontendPlan,
    global_maxconn: Option<u32>,
) -> Result<i32, String> {
    if let Some(text) = l.option("backlog") {
        return number(text, "backlog");
    }
    let line_maxconn = match l.option("maxconn") {
        Some(text) => Some(number::<u32>(text, "maxconn")?).filter(|n| *n > 0),
        None => None,
    };
    let n = fe
        .backlog
        .or(line_maxconn)
        .or(fe.maxconn)
        .or(global_maxconn)
        .filter(|n| *n > 0);
    Ok(n.map_or(crate::listener::DEFAULT_BACKLOG, |n| {
        i32::try_from(n).unwrap_or(i32::MAX)
    }))
}

/// `option tcp-smart-accept`: on unless `no option tcp-smart-accept`, in HTTP mode or on a
/// TLS listener, as in HAProxy.
fn smart_accept(l: &ListenerPlan, fe: &FrontendPlan) -> bool {
    let said = fe
        .options
        .iter()
        .rev()
        .find(|(name, _)| name == "tcp-smart-accept")
        .map(|(_, on)| *on);
    said.unwrap_or(fe.mode == Mode::Http || l.tls)
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
