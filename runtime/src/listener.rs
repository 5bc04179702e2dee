//! Listening sockets: one per (listener, thread), bound with SO_REUSEPORT so the kernel spreads
//! connections over the threads of the `bind … thread` set without a lock on accept.

use crate::tls::live::LiveBind;
use hapee_compiler::address::{Port, Transport};
use hapee_compiler::plan::ListenerPlan;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// How a listener's connections are served, the same on every thread.
pub struct Serving {
    pub frontend: usize,
    /// The listener's TLS, on `bind … ssl`.
    pub tls: Option<Arc<LiveBind>>,
    /// `proto h2`: HTTP/2 without ALPN (prior knowledge on a clear listener).
    pub h2: bool,
    /// `accept-proxy`: every connection starts with a PROXY protocol header.
    pub accept_proxy: bool,
    /// How logs name the listener: its `name`, else its rank in its frontend (from 1).
    pub name: String,
}

impl Serving {
    pub fn of(l: &ListenerPlan) -> Result<Serving, String> {
        let tls = match &l.tls_settings {
            Some(t) => {
                let mut warnings = Vec::new();
                let built = LiveBind::build(t, &mut warnings)
                    .map_err(|e| format!("bind '{}{}': {e}", l.address.prefix, l.address.host))?;
                for w in warnings {
                    eprintln!(
                        "[WARNING]  ({}) : bind '{}{}': {w}",
                        std::process::id(),
                        l.address.prefix,
                        l.address.host
                    );
                }
                Some(built)
            }
            None => None,
        };
        Ok(Serving {
            frontend: l.frontend,
            tls,
            h2: l.proto.as_deref() == Some("h2"),
            accept_proxy: l.options.iter().any(|o| o == "accept-proxy"),
            name: l
                .options
                .iter()
                .position(|o| o == "name")
                .and_then(|i| l.options.get(i + 1))
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// A listening socket of one thread, and how its connections are served.
pub struct Bound {
    pub serving: Arc<Serving>,
    pub socket: std::net::TcpListener,
}

/// The socket addresses a listener binds (a port range gives several).
pub fn addresses(l: &ListenerPlan) -> Result<Vec<SocketAddr>, String> {
    if l.address.transport != Transport::Stream {
        return Err(format!(
            "bind '{}{}': only plain TCP listeners are supported by this runtime yet",
            l.address.prefix, l.address.host
        ));
    }
    socket_addresses(l)
}

/// The socket addresses of a listener, whatever its transport.
pub fn socket_addresses(l: &ListenerPlan) -> Result<Vec<SocketAddr>, String> {
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
    let s = reuseport_socket(addr, Type::STREAM, Protocol::TCP)?;
    s.listen(backlog)?;
    Ok(s.into())
}

/// A non-blocking socket bound to `addr` with SO_REUSEADDR and SO_REUSEPORT (IPv6 only for
/// an IPv6 address), so that each serving thread binds its own.
pub fn reuseport_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> std::io::Result<Socket> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let s = Socket::new(domain, ty, Some(proto))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s)
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
