//! How a server connection is opened: straight to its address, through a SOCKS4 proxy, or
//! to a UNIX stream socket (`server s1 /run/app.sock`, `unix@…`, `abns@…`).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// A server listening on a UNIX stream socket.
#[derive(Clone, Debug)]
pub enum UnixTarget {
    Path(std::path::PathBuf),
    /// A Linux abstract-namespace name (`abns@`).
    Abstract(Vec<u8>),
}

impl UnixTarget {
    /// The target of a server address of the UNIX families, `None` for the others.
    pub fn of(address: &hapee_compiler::address::Address) -> Option<UnixTarget> {
        use hapee_compiler::address::{Family, Transport};
        if address.transport != Transport::Stream {
            return None;
        }
        match address.family {
            Family::Unix => Some(UnixTarget::Path(address.host.as_str().into())),
            Family::Abstract => Some(UnixTarget::Abstract(address.host.as_bytes().to_vec())),
            _ => None,
        }
    }

    async fn connect(&self) -> io::Result<TcpStream> {
        let stream = match self {
            UnixTarget::Path(p) => tokio::net::UnixStream::connect(p).await?.into_std()?,
            UnixTarget::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                // A local connect: it completes or fails at once.
                std::os::unix::net::UnixStream::connect_addr(&addr)?
            }
        };
        crate::listener::unix_as_stream(stream)
    }
}

/// Socket options of a server connection set before it is opened: the server's `tcp-ut`,
/// the backend's `option tcp-smart-connect`, the server's `namespace`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PreConnect {
    /// TCP_USER_TIMEOUT: how long sent data may stay unacknowledged, in milliseconds.
    pub user_timeout_ms: Option<u32>,
    /// TCP_QUICKACK off: the handshake's last acknowledgement waits to go with the request.
    pub delayed_ack: bool,
    /// The network namespace the socket is made in.
    pub netns: Option<crate::netns::Netns>,
    /// IP_TRANSPARENT (IPV6_TRANSPARENT): the source bound may be a foreign address, the
    /// client's (`source … usesrc`).
    pub transparent: bool,
    /// The local ports a `source <addr>:<low>-<high>` binds from, when it names a range.
    pub ports: Option<PortRange>,
}

/// An inclusive range of local ports (`source 10.0.0.1:10000-59999`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    /// `<low>-<high>` with 1 <= low <= high, as HAProxy reads a source port range.
    fn parse(text: &str) -> Option<PortRange> {
        let (low, high) = text.split_once('-')?;
        let (low, high) = (low.parse::<u16>().ok()?, high.parse::<u16>().ok()?);
        (low >= 1 && low <= high).then_some(PortRange { low, high })
    }

    /// Binds `socket` to `ip` and a free port of the range. The search starts where the last
    /// one ended (one counter for the process), so successive connections spread over the
    /// range instead of all probing its first ports; it fails when every port is taken.
    fn bind(self, socket: &tokio::net::TcpSocket, ip: std::net::IpAddr) -> io::Result<()> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let size = u32::from(self.high - self.low) + 1;
        let start = NEXT.fetch_add(1, Ordering::Relaxed);
        for step in 0..size {
            // `size` <= 65535 and the offset is taken modulo it: the port stays in range.
            let port = self.low + ((start.wrapping_add(step)) % size) as u16;
            match socket.bind(SocketAddr::new(ip, port)) {
                Ok(()) => {
                    NEXT.store(start.wrapping_add(step + 1), Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free port in the source port range",
        ))
    }
}

impl PreConnect {
    fn apply(&self, socket: &tokio::net::TcpSocket) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        if let Some(ms) = self.user_timeout_ms {
            let ms = libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX);
            crate::sockopt::set_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, ms)?;
        }
        if self.transparent {
            let v6 = socket.local_addr().is_ok_and(|a| a.is_ipv6());
            let (level, name) = if v6 {
                (libc::SOL_IPV6, libc::IPV6_TRANSPARENT)
            } else {
                (libc::SOL_IP, libc::IP_TRANSPARENT)
            };
            crate::sockopt::set_int(fd, level, name, 1)?;
        }
        // Like HAProxy, a kernel without it still connects.
        if self.delayed_ack {
            let _ = crate::sockopt::set_int(fd, libc::IPPROTO_TCP, libc::TCP_QUICKACK, 0);
        }
        Ok(())
    }
}

/// Where a server connection whose local address cannot be bound is reported: as HAProxy
/// does for traffic and checks alike, an alert on standard error and an emergency message to
/// the backend's loggers, at each connection that fails so.
#[derive(Debug)]
pub struct BindFailure {
    pub backend: std::sync::Arc<str>,
    pub logs: Vec<hapee_compiler::plan::LogTarget>,
    pub tag: std::sync::Arc<str>,
}

impl BindFailure {
    /// Reports one failure; `tproxy` when the address was a foreign one (`usesrc`).
    fn report(&self, tproxy: bool) {
        let what = if tproxy { "tproxy source" } else { "source" };
        let text = format!(
            "Cannot bind to {what} address before connect() for backend {}.",
            self.backend
        );
        eprintln!("[ALERT]    ({}) : {text} Aborting.", std::process::id());
        for (_, sink) in crate::log::Sink::open_list(&self.logs, &self.tag) {
            if let Ok(sink) = sink {
                sink.send(0, &text);
            }
        }
    }
}

/// The way one connection is opened.
#[derive(Clone, Copy, Debug)]
pub enum Dial<'a> {
    Direct(PreConnect),
    /// Straight, from this local address (`source`) when there is one; a failure to bind it
    /// is reported where the third field says.
    From(Option<SocketAddr>, PreConnect, Option<&'a BindFailure>),
    Socks4(SocketAddr),
    Unix(&'a UnixTarget),
}

/// A TCP socket of `dst`'s family for a connection to a server, its buffers sized
/// (`tune.rcvbuf.server`, `tune.sndbuf.server`).
pub fn tcp_socket(dst: SocketAddr) -> io::Result<tokio::net::TcpSocket> {
    let socket = if dst.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    crate::sockopt::size_server_buffers(std::os::fd::AsRawFd::as_raw_fd(&socket));
    Ok(socket)
}

/// Opens a connection to `dst` the way `dial` says, within `timeout`.
pub async fn connect(
    dst: SocketAddr,
    dial: Dial<'_>,
    timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    open(dst, dial, timeout).await.map_err(|e| e.error)
}

/// Why a connection could not be opened, and whether it failed before anything went out:
/// making, setting or binding the socket, or `connect()` refusing at once (no free port, a
/// UNIX socket absent or not listening). HAProxy retries such a failure at once, where one
/// the network reports later (refused, unreachable) waits its turn-around first.
#[derive(Debug)]
pub struct DialError {
    pub error: io::Error,
    pub at_once: bool,
}

impl DialError {
    fn at_once(error: io::Error) -> Self {
        DialError {
            error,
            at_once: true,
        }
    }

    fn later(error: io::Error) -> Self {
        DialError {
            error,
            at_once: false,
        }
    }
}

/// [`connect`], telling a failure at once from a later one.
pub async fn open(
    dst: SocketAddr,
    dial: Dial<'_>,
    timeout: Option<Duration>,
) -> Result<TcpStream, DialError> {
    match dial {
        Dial::Direct(options) if options == PreConnect::default() => {
            let socket = tcp_socket(dst).map_err(DialError::at_once)?;
            connecting(socket.connect(dst), timeout).await
        }
        Dial::Direct(options) => from_local(dst, None, options, None, timeout).await,
        Dial::From(src, options, report) => from_local(dst, src, options, report, timeout).await,
        Dial::Socks4(via) => super::socks4::connect(dst, Some(via), timeout)
            .await
            .map_err(DialError::later),
        // A local connect completes or fails at once: only its time limit is a later failure.
        Dial::Unix(target) => match timeout {
            Some(t) => tokio::time::timeout(t, target.connect())
                .await
                .map_err(|_| DialError::later(io::ErrorKind::TimedOut.into()))?
                .map_err(DialError::at_once),
            None => target.connect().await.map_err(DialError::at_once),
        },
    }
}

/// Opens a TCP connection with the socket options of `options`, from the local address `src`
/// when there is one (a failure to bind it reported to `report`).
async fn from_local(
    dst: SocketAddr,
    src: Option<SocketAddr>,
    options: PreConnect,
    report: Option<&BindFailure>,
    timeout: Option<Duration>,
) -> Result<TcpStream, DialError> {
    let socket =
        crate::netns::within(options.netns, || tcp_socket(dst)).map_err(DialError::at_once)?;
    // HAProxy reports a foreign address it cannot make or bind as a tproxy one.
    let fail = |e: io::Error, tproxy: bool| {
        if let (Some(report), Some(_)) = (report, src) {
            report.report(tproxy);
        }
        DialError::at_once(e)
    };
    options
        .apply(&socket)
        .map_err(|e| fail(e, options.transparent))?;
    match (src, options.ports) {
        (Some(src), Some(range)) => range
            .bind(&socket, src.ip())
            .map_err(|e| fail(e, options.transparent))?,
        (Some(src), None) => {
            // A fixed source port is reused by each connection to another destination.
            socket
                .set_reuseaddr(src.port() != 0)
                .map_err(DialError::at_once)?;
            socket.bind(src).map_err(|e| fail(e, options.transparent))?;
        }
        (None, _) => {}
    }
    let stream = connecting(socket.connect(dst), timeout).await?;
    stream.set_nodelay(true).map_err(DialError::at_once)?;
    Ok(stream)
}

/// Awaits a TCP connect within `timeout`. Its first poll makes the `connect()` call: an
/// error answered there came at once, before anything went out.
async fn connecting(
    attempt: impl std::future::Future<Output = io::Result<TcpStream>>,
    timeout: Option<Duration>,
) -> Result<TcpStream, DialError> {
    use std::task::Poll;
    let mut attempt = std::pin::pin!(attempt);
    let first = std::future::poll_fn(|cx| Poll::Ready(attempt.as_mut().poll(cx))).await;
    if let Poll::Ready(done) = first {
        return done.map_err(DialError::at_once);
    }
    let later = match timeout {
        Some(t) => tokio::time::timeout(t, attempt)
            .await
            .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut))),
        None => attempt.await,
    };
    later.map_err(DialError::later)
}

/// The address a server connection shows the server with `source … usesrc`: transparent
/// proxying, the socket bound to a foreign address with IP_TRANSPARENT before it connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UseSrc {
    /// `client`: the client's address and port.
    Client,
    /// `clientip`: the client's address, any port.
    ClientIp,
    /// A fixed address (and port, 0 for any).
    Addr(SocketAddr),
    /// `hdr_ip(<name>[,<occ>])`: the address in a request header, its `occ`th value (from
    /// the last when negative; -1, the last, by default).
    HeaderIp(String, i32),
}

impl UseSrc {
    fn parse(word: &str) -> Result<UseSrc, String> {
        match word {
            "client" => return Ok(UseSrc::Client),
            "clientip" => return Ok(UseSrc::ClientIp),
            _ => {}
        }
        if let Some(args) = word
            .strip_prefix("hdr_ip(")
            .and_then(|a| a.strip_suffix(')'))
        {
            let (name, occ) = match args.split_once(',') {
                Some((n, o)) => (
                    n,
                    o.trim()
                        .parse()
                        .map_err(|_| format!("'usesrc {word}': bad occurrence"))?,
                ),
                None => (args, -1),
            };
            if name.is_empty() {
                return Err(format!("'usesrc {word}': no header name"));
            }
            return Ok(UseSrc::HeaderIp(name.to_ascii_lowercase(), occ));
        }
        address(word).map(UseSrc::Addr).ok_or_else(|| {
            format!("'usesrc {word}': not client, clientip, hdr_ip(<name>) nor an address")
        })
    }

    /// The source address for a connection on behalf of `client` whose request has
    /// `headers`; `None` when the header has no address (the connection then binds no
    /// foreign address, as in HAProxy).
    pub fn address(
        &self,
        client: SocketAddr,
        headers: Option<&hyper::HeaderMap>,
    ) -> Option<SocketAddr> {
        match self {
            UseSrc::Client => Some(client),
            UseSrc::ClientIp => Some(SocketAddr::new(client.ip(), 0)),
            UseSrc::Addr(a) => Some(*a),
            UseSrc::HeaderIp(name, occ) => {
                let values: Vec<&str> = headers?
                    .get_all(name.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .collect();
                let at = match *occ {
                    n if n > 0 => values.get(n as usize - 1),
                    n if n < 0 => values
                        .len()
                        .checked_sub(n.unsigned_abs() as usize)
                        .and_then(|i| values.get(i)),
                    _ => values.last(),
                };
                let ip: std::net::IpAddr = at?.parse().ok()?;
                Some(SocketAddr::new(ip, 0))
            }
        }
    }
}

/// A `source` setting: the local address of server connections, and the transparent-proxy
/// address (`usesrc`) that replaces it when there is one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub bind: Option<SocketAddr>,
    /// The local ports to bind from when the address names a range (its port is then 0).
    pub ports: Option<PortRange>,
    pub use_src: Option<UseSrc>,
}

/// A `source` setting (`<addr>[:<port>|:<low>-<high>] [usesrc …]`), empty without one.
/// `interface` is refused.
pub fn source_of(words: &[String]) -> Result<Source, String> {
    let Some(addr) = words.first() else {
        return Ok(Source::default());
    };
    let use_src = match &words[1..] {
        [] => None,
        [kw, what] if kw == "usesrc" => Some(UseSrc::parse(what)?),
        _ => {
            return Err(format!(
                "'source {}' is not supported: only 'source <addr>[:<port>] [usesrc <what>]' is (no interface binding)",
                words.join(" ")
            ))
        }
    };
    let (bind, ports) = match address(addr) {
        Some(bind) => (bind, None),
        None => address_with_ports(addr).ok_or_else(|| {
            format!("'source {addr}': not an address, an address:port nor an address:low-high")
        })?,
    };
    Ok(Source {
        bind: Some(bind),
        ports,
        use_src,
    })
}

/// `<addr>:<low>-<high>` (`[v6]:<low>-<high>` for IPv6), the address with port 0.
fn address_with_ports(addr: &str) -> Option<(SocketAddr, Option<PortRange>)> {
    let (host, range) = addr.rsplit_once(':')?;
    let range = PortRange::parse(range)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let bind = address(host).filter(|a| a.port() == 0)?;
    Some((bind, Some(range)))
}

/// `<addr>[:<port>]`, with an optional `ipv4@`/`ipv6@` prefix.
fn address(addr: &str) -> Option<SocketAddr> {
    let addr = addr
        .strip_prefix("ipv4@")
        .or_else(|| addr.strip_prefix("ipv6@"))
        .unwrap_or(addr);
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Some(a);
    }
    addr.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_port_range_is_read_with_its_address() {
        let words = |w: &str| w.split(' ').map(String::from).collect::<Vec<_>>();
        let s = source_of(&words("192.168.0.1:10000-59999")).unwrap();
        assert_eq!(s.bind, Some("192.168.0.1:0".parse().unwrap()));
        assert_eq!(
            s.ports,
            Some(PortRange {
                low: 10000,
                high: 59999
            })
        );
        let s = source_of(&words("[::1]:5-5")).unwrap();
        assert_eq!(s.bind, Some("[::1]:0".parse().unwrap()));
        assert_eq!(s.ports, Some(PortRange { low: 5, high: 5 }));
        assert_eq!(source_of(&words("10.0.0.1:80")).unwrap().ports, None);
        for bad in [
            "10.0.0.1:9-8",
            "10.0.0.1:0-8",
            "10.0.0.1:1-70000",
            "name:1-2",
        ] {
            assert!(source_of(&words(bad)).is_err(), "{bad}");
        }
    }
}
