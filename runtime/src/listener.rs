//! Listening sockets: one per (listener, thread), bound with SO_REUSEPORT so the kernel spreads
//! connections over the threads of the `bind … thread` set without a lock on accept.

use hapee_compiler::address::{Port, Transport};
use hapee_compiler::plan::ListenerPlan;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A listening socket of one thread, and what its connections start with.
pub struct Bound {
    pub frontend: usize,
    /// `accept-proxy`: every connection starts with a PROXY protocol header.
    pub accept_proxy: bool,
    pub socket: std::net::TcpListener,
}

/// The socket addresses a listener binds (a port range gives several).
pub fn addresses(l: &ListenerPlan) -> Result<Vec<SocketAddr>, String> {
    if l.address.transport != Transport::Stream || l.tls {
        return Err(format!(
            "bind '{}{}': only plain TCP listeners are supported by this runtime yet",
            l.address.prefix, l.address.host
        ));
    }
    let ip = match l.address.ip {
        Some(ip) => ip,
        None if l.address.host.is_empty() || l.address.host == "*" => {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
        None if l.address.host == "::" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        None => {
            use std::net::ToSocketAddrs;
            (l.address.host.as_str(), 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip())
                .ok_or_else(|| format!("cannot resolve '{}'", l.address.host))?
        }
    };
    match l.address.port {
        Port::Range { low, high } => Ok((low..=high).map(|p| SocketAddr::new(ip, p)).collect()),
        _ => Err(format!("bind '{}': a port is required", l.address.host)),
    }
}

/// A non-blocking listening socket with SO_REUSEADDR and SO_REUSEPORT.
pub fn bind(addr: SocketAddr, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(s.into())
}

/// Whether thread `t` (0-based, global) serves listener `l`.
pub fn served_by(l: &ListenerPlan, t: usize, thread_group_of: &[u32]) -> bool {
    let group = thread_group_of.get(t).copied().unwrap_or(1);
    if group != l.thread_group {
        return false;
    }
    let local = thread_group_of[..t].iter().filter(|&&g| g == group).count();
    local < 64 && l.thread_mask & (1u64 << local) != 0
}
