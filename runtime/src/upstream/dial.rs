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
}

impl PreConnect {
    fn apply(&self, socket: &tokio::net::TcpSocket) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        if let Some(ms) = self.user_timeout_ms {
            let ms = libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX);
            crate::sockopt::set_int(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, ms)?;
        }
        // Like HAProxy, a kernel without it still connects.
        if self.delayed_ack {
            let _ = crate::sockopt::set_int(fd, libc::IPPROTO_TCP, libc::TCP_QUICKACK, 0);
        }
        Ok(())
    }
}

/// The way one connection is opened.
#[derive(Clone, Copy, Debug)]
pub enum Dial<'a> {
    Direct(PreConnect),
    /// Straight, from this local address (`source`) when there is one.
    From(Option<SocketAddr>, PreConnect),
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
    let dial = match dial {
        Dial::Direct(options) if options == PreConnect::default() => {
            return super::socks4::connect(dst, None, timeout).await
        }
        Dial::Direct(options) => Dial::From(None, options),
        other => other,
    };
    match dial {
        Dial::Direct(_) => super::socks4::connect(dst, None, timeout).await,
        Dial::From(src, options) => {
            let socket = crate::netns::within(options.netns, || tcp_socket(dst))?;
            options.apply(&socket)?;
            if let Some(src) = src {
                // A fixed source port is reused by each connection to another destination.
                socket.set_reuseaddr(src.port() != 0)?;
                socket.bind(src)?;
            }
            let connecting = socket.connect(dst);
            let stream = match timeout {
                Some(t) => tokio::time::timeout(t, connecting)
                    .await
                    .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??,
                None => connecting.await?,
            };
            stream.set_nodelay(true)?;
            Ok(stream)
        }
        Dial::Socks4(via) => super::socks4::connect(dst, Some(via), timeout).await,
        Dial::Unix(target) => match timeout {
            Some(t) => tokio::time::timeout(t, target.connect())
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?,
            None => target.connect().await,
        },
    }
}

/// The local address of a `source` setting (`<addr>[:<port>]`), `None` without one. The
/// transparent-proxy forms (`usesrc`), `interface` and port ranges are refused.
pub fn source_of(words: &[String]) -> Result<Option<SocketAddr>, String> {
    let Some(addr) = words.first() else {
        return Ok(None);
    };
    if words.len() > 1 {
        return Err(format!(
            "'source {}' is not supported: only 'source <addr>[:<port>]' is (no transparent proxying, no interface binding)",
            words.join(" ")
        ));
    }
    let addr = addr
        .strip_prefix("ipv4@")
        .or_else(|| addr.strip_prefix("ipv6@"))
        .unwrap_or(addr);
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(Some(a));
    }
    if let Ok(ip) = addr.parse::<std::net::IpAddr>() {
        return Ok(Some(SocketAddr::new(ip, 0)));
    }
    Err(format!(
        "'source {addr}': not an address nor an address:port (port ranges are not supported)"
    ))
}
