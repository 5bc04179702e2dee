//! `core.tcp()`: HAProxy's cosockets, a LuaSocket-like TCP client (optionally TLS) whose waits
//! (connect, send, receive) yield the script to the worker thread's event loop, so other
//! requests go on meanwhile. Failures answer as HAProxy's do: `nil, "Can't connect"` and
//! `nil, "connection closed."`; a timeout counts as a close.

use hapee_runtime::tls::client::ServerTlsConfig;
use mlua::{IntoLuaMulti, Lua, MultiValue, UserData, UserDataMethods, Value};
use rustls_pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// HAProxy's cosocket timeouts before `settimeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

#[derive(Default)]
struct Conn {
    stream: Option<Box<dyn Io>>,
    /// Received, not yet given to the script.
    buffered: Vec<u8>,
    eof: bool,
    timeout: Option<Duration>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

impl Conn {
    fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// Reads more; false once the peer has closed, the read failed or timed out (which
    /// closes the connection, as HAProxy's stream timeouts do).
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let limit = self.timeout();
        let Some(stream) = self.stream.as_mut() else {
            return false;
        };
        let mut chunk = [0u8; 16384];
        match tokio::time::timeout(limit, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buffered.extend_from_slice(&chunk[..n]);
                true
            }
            _ => {
                self.eof = true;
                false
            }
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buffered.len());
        self.buffered.drain(..n).collect()
    }
}

/// A `core.tcp()` object.
pub struct Socket {
    conn: Arc<Mutex<Conn>>,
}

/// `core.tcp()`.
pub fn new_socket(_: &Lua, _: ()) -> mlua::Result<Socket> {
    // HAProxy makes the socket's stream here, which takes a number of the stream count.
    hapee_runtime::txn::next_stream_number();
    Ok(Socket {
        conn: Arc::new(Mutex::new(Conn::default())),
    })
}

/// What `receive` waits for.
enum Pattern {
    Line,
    All,
    Bytes(usize),
}

fn pattern(v: Option<&Value>) -> mlua::Result<Pattern> {
    Ok(match v {
        None | Some(Value::Nil) => Pattern::Line,
        Some(Value::String(s)) => match &*s.to_str()? {
            "*l" => Pattern::Line,
            "*a" => Pattern::All,
            other => Pattern::Bytes(
                other
                    .parse()
                    .map_err(|_| mlua::Error::runtime("Unsupported pattern."))?,
            ),
        },
        Some(Value::Integer(n)) if *n >= 0 => Pattern::Bytes(*n as usize),
        Some(Value::Number(n)) if *n >= 0.0 => Pattern::Bytes(*n as usize),
        Some(_) => return Err(mlua::Error::runtime("Unsupported size.")),
    })
}

/// Where a cosocket connects.
enum Destination {
    Inet(SocketAddr),
    /// A UNIX socket's path (`/path` or `unix@path`), such as the Runtime API's.
    Unix(std::path::PathBuf),
}

/// `address[:port]` with an optional `port`, as HAProxy parses a cosocket's destination (an
/// IP address, IPv6 with or without brackets, an `ipv4@`/`ipv6@` prefix, a UNIX socket's
/// path); no name lookup.
fn destination(address: &str, port: Option<i64>) -> mlua::Result<Destination> {
    // HAProxy appends `:` to the address when a port is given, a path included.
    if let Some(path) = address
        .strip_prefix("unix@")
        .or_else(|| address.strip_prefix('/').map(|_| address))
    {
        let colon = if port.is_some_and(|p| p > 0) { ":" } else { "" };
        return Ok(Destination::Unix(format!("{path}{colon}").into()));
    }
    inet_destination(address, port).map(Destination::Inet)
}

fn inet_destination(address: &str, port: Option<i64>) -> mlua::Result<SocketAddr> {
    let cannot = || {
        mlua::Error::runtime(format!(
            "connect: cannot parse destination address '{address}'"
        ))
    };
    let bare = address
        .strip_prefix("ipv4@")
        .or_else(|| address.strip_prefix("ipv6@"))
        .unwrap_or(address);
    if let Some(port) = port.filter(|p| *p > 0) {
        let host = bare.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().map_err(|_| cannot())?;
        return Ok(SocketAddr::new(
            ip,
            u16::try_from(port).map_err(|_| cannot())?,
        ));
    }
    if let Ok(sa) = bare.parse::<SocketAddr>() {
        return Ok(sa);
    }
    match bare.parse::<IpAddr>() {
        Ok(_) => Err(mlua::Error::runtime("connect: port missing")),
        Err(_) => Err(cannot()),
    }
}

/// The TLS of `connect_ssl`: no certificate check, as HAProxy's cosocket TLS does not check.
fn unchecked_tls() -> Option<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let tls = hapee_compiler::plan::tls::ServerTls {
                verify_none: true,
                reuse: true,
                versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
                ..Default::default()
            };
            ServerTlsConfig::build(&tls, &mut Vec::new())
                .ok()
                .map(|c| c.config)
        })
        .clone()
}

/// How a connection speaks TLS: its config and the name it sends and checks.
pub(crate) type Tls = (Arc<rustls::ClientConfig>, ServerName<'static>);

/// A connection to `to` (over TLS when given), given up after `limit` at each step; with
/// the local address.
pub(crate) async fn open(
    to: SocketAddr,
    tls: Option<Tls>,
    limit: Duration,
) -> Option<(Box<dyn Io>, SocketAddr)> {
    let tcp = tokio::time::timeout(limit, tokio::net::TcpStream::connect(to))
        .await
        .ok()?
        .ok()?;
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok()?;
    let Some((config, name)) = tls else {
        return Some((Box::new(tcp), local));
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let s = tokio::time::timeout(limit, connector.connect(name, tcp))
        .await
        .ok()?
        .ok()?;
    Some((Box::new(s), local))
}

async fn connect(conn: &Mutex<Conn>, to: Destination, tls: bool) -> Option<()> {
    let mut c = conn.lock().await;
    let to = match to {
        Destination::Inet(to) => to,
        // No TLS over a UNIX socket here (HAProxy would speak it).
        Destination::Unix(_) if tls => return None,
        Destination::Unix(path) => {
            let limit = c.timeout();
            let s = tokio::time::timeout(limit, tokio::net::UnixStream::connect(path))
                .await
                .ok()?
                .ok()?;
            c.peer = None;
            c.local = None;
            c.stream = Some(Box::new(s));
            c.buffered.clear();
            c.eof = false;
            return Some(());
        }
    };
    let tls = match tls {
        true => Some((unchecked_tls()?, ServerName::IpAddress(to.ip().into()))),
        false => None,
    };
    let (stream, local) = open(to, tls, c.timeout()).await?;
    c.peer = Some(to);
    c.local = Some(local);
    c.stream = Some(stream);
    c.buffered.clear();
    c.eof = false;
    Some(())
}

/// `connect(address [, port])` and `connect_ssl`: 1, or `nil, "Can't connect"`.
async fn connect_call(
    lua: Lua,
    conn: Arc<Mutex<Conn>>,
    args: MultiValue,
    tls: bool,
) -> mlua::Result<MultiValue> {
    let address = match args.front() {
        Some(Value::String(s)) => s.to_str()?.to_string(),
        _ => return Err(mlua::Error::runtime("connect: need at least 2 arguments")),
    };
    // A port given as `nil` is a bad argument, as in HAProxy, not a missing one.
    let port = match args.get(1) {
        None => None,
        Some(v) => Some(lua.coerce_integer(v.clone())?.ok_or_else(|| {
            crate::errors::arg_error(3, &format!("number expected, got {}", v.type_name()))
        })?),
    };
    let to = destination(&address, port)?;
    match connect(&conn, to, tls).await {
        Some(()) => 1i64.into_lua_multi(&lua),
        None => (Value::Nil, "Can't connect").into_lua_multi(&lua),
    }
}

/// `send(data [, i [, j]])`'s slice bounds, as LuaSocket reads them (1-based, negatives count
/// from the end).
fn slice(len: usize, i: Option<i64>, j: Option<i64>) -> (usize, usize) {
    let len = len as i64;
    let fix = |v: i64| {
        let v = if v < 0 { len + v + 1 } else { v };
        v.clamp(0, len + 1)
    };
    let (i, j) = (fix(i.unwrap_or(1)).max(1), fix(j.unwrap_or(len)).min(len));
    if i > j {
        return (0, 0);
    }
    ((i - 1) as usize, j as usize)
}

impl UserData for Socket {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_async_method("connect", |lua, this, args: MultiValue| {
            connect_call(lua, this.conn.clone(), args, false)
        });
        m.add_async_method("connect_ssl", |lua, this, args: MultiValue| {
            connect_call(lua, this.conn.clone(), args, true)
        });
        crate::errors::add_async_method(
            m,
            "send",
            |_, this, (data, i, j): (mlua::String, Option<i64>, Option<i64>)| async move {
                let bytes = data.as_bytes().to_vec();
                let (from, to) = slice(bytes.len(), i, j);
                let mut c = this.conn.lock().await;
                let limit = c.timeout();
                let Some(stream) = c.stream.as_mut() else {
                    return Ok(-1i64);
                };
                match tokio::time::timeout(limit, stream.write_all(&bytes[from..to])).await {
                    Ok(Ok(())) => Ok((to - from) as i64),
                    _ => Ok(-1),
                }
            },
        );
        crate::errors::add_async_method(
            m,
            "receive",
            |lua, this, (want, prefix): (Option<Value>, Option<mlua::String>)| async move {
                let want = pattern(want.as_ref())?;
                let mut c = this.conn.lock().await;
                let mut out = prefix.map(|p| p.as_bytes().to_vec()).unwrap_or_default();
                let complete = match want {
                    Pattern::Line => loop {
                        if let Some(i) = c.buffered.iter().position(|b| *b == b'\n') {
                            let mut line = c.take(i + 1);
                            line.pop();
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                            out.extend(line);
                            break true;
                        }
                        if !c.fill().await {
                            out.extend(c.take(usize::MAX));
                            break false;
                        }
                    },
                    Pattern::All => {
                        while c.fill().await {}
                        out.extend(c.take(usize::MAX));
                        false
                    }
                    Pattern::Bytes(n) => {
                        while c.buffered.len() < n && c.fill().await {}
                        out.extend(c.take(n));
                        true
                    }
                };
                // At the close, what was read is the answer; with nothing, the close is.
                if complete || !out.is_empty() {
                    (lua.create_string(&out)?,).into_lua_multi(&lua)
                } else {
                    (Value::Nil, "connection closed.").into_lua_multi(&lua)
                }
            },
        );
        crate::errors::add_method(m, "settimeout", |_, this, secs: f64| {
            if secs < 0.0 {
                return Err(mlua::Error::runtime(
                    "settimeout: cannot set negatives values",
                ));
            }
            let limit = Duration::from_secs_f64(secs).max(Duration::from_millis(1));
            match this.conn.try_lock() {
                Ok(mut c) => c.timeout = Some(limit),
                Err(_) => return Err(mlua::Error::runtime("settimeout: the socket is busy")),
            }
            Ok(1)
        });
        m.add_method("setoption", |_, _, _: MultiValue| Ok(()));
        m.add_async_method("close", |_, this, ()| async move {
            let mut c = this.conn.lock().await;
            if let Some(mut s) = c.stream.take() {
                let _ = s.shutdown().await;
            }
            c.eof = true;
            Ok(1)
        });
        for (name, peer) in [("getpeername", true), ("getsockname", false)] {
            m.add_method(name, move |lua, this, ()| {
                let addr = this
                    .conn
                    .try_lock()
                    .ok()
                    .and_then(|c| if peer { c.peer } else { c.local });
                match addr {
                    Some(a) => (a.ip().to_string(), a.port()).into_lua_multi(lua),
                    None => Value::Nil.into_lua_multi(lua),
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn send_bounds_follow_luasocket() {
        assert_eq!(super::slice(5, None, None), (0, 5));
        assert_eq!(super::slice(5, Some(2), Some(-2)), (1, 4));
        assert_eq!(super::slice(5, Some(4), Some(2)), (0, 0));
        assert_eq!(super::slice(5, Some(-2), None), (3, 5));
    }

    #[test]
    fn destinations_are_addresses_not_names() {
        assert_eq!(
            super::inet_destination("127.0.0.1", Some(80)).unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        assert_eq!(
            super::inet_destination("[::1]:8080", None).unwrap(),
            "[::1]:8080".parse().unwrap()
        );
        assert!(super::destination("127.0.0.1", None).is_err());
        assert!(super::destination("example.com", Some(80)).is_err());
    }
}
