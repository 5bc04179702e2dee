//! The server side of an HTTP/1.1 exchange, spoken over the socket directly: the request is
//! written and the response read in the request's own task.
//!
//! hyper's client puts a connection task and a channel between the request and its socket,
//! with a wake-up on each side per request. On a proxy that hand-off is most of the client
//! side's work, and it measured as the largest part of hapee's extra CPU per request. Heads
//! are parsed with httparse; bodies are framed as RFC 9112 §6 says (length, chunked, or up
//! to the close), with the answers hyper's client gives for the edge cases.

mod body;
pub mod dial;
pub mod direct;
pub mod fcgi;
pub mod h2;
pub mod pool;
pub mod queue;
pub mod reuse;
pub mod send_proxy;
pub mod slowstart;
pub mod socks4;
#[cfg(test)]
mod tests;
mod upload;
pub(crate) mod wire;

use crate::http::idle::Watchdog;
use crate::http::prefetch::ClientBody;
use crate::http::ReqBody;
pub use body::{is_server_timeout, IdleHome, ServerBody, ServerTunnel};
use bytes::BytesMut;
use hyper::body::Body;
use hyper::{Method, Request, Response, StatusCode};
use reuse::Failure;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;
use upload::Upload;
pub(crate) use wire::connection_has;
use wire::*;

/// The most header lines a response head may have (HAProxy's `tune.http.maxhdr` default).
pub(crate) const MAX_HEADERS: usize = 101;
/// How much room a read is given.
const READ_SIZE: usize = 16 * 1024;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a server connection could not be opened: the TLS handshake's error when that was
/// what failed, whether `timeout connect` ran out (HAProxy's `sC` rather than `SC`), and
/// whether it failed before anything went out (`dial::DialError`: retried at once).
#[derive(Debug, Default, Clone, Copy)]
pub struct ConnectFailure {
    pub tls: Option<crate::tls::errors::ServerTlsError>,
    pub timed_out: bool,
    pub at_once: bool,
}

/// A connection to a server, between exchanges or carrying one. Boxed: it moves from the
/// pool to an exchange, to the response body and back, and each request's futures hold it.
pub struct ServerConn(Box<Link>);

/// A server connection's transport: TCP, or TLS over it (`server … ssl`).
pub type ServerStream = crate::MaybeTls<tokio_rustls::client::TlsStream<crate::tls::tap::Tapped>>;

impl ServerStream {
    fn tcp(&self) -> &TcpStream {
        match self {
            ServerStream::Plain(s) => s,
            ServerStream::Tls(s) => s.get_ref().0,
        }
    }
}

/// A server connection's own address and the server's (`%bi:%bp`, `%si:%sp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnAddrs {
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

impl ConnAddrs {
    /// Both ends of a connected socket (`None` once the socket has failed).
    pub fn of(tcp: &TcpStream) -> Option<ConnAddrs> {
        Some(ConnAddrs {
            local: tcp.local_addr().ok()?,
            peer: tcp.peer_addr().ok()?,
        })
    }
}

/// The state of a server connection.
pub struct Link {
    stream: ServerStream,
    /// Read once at connect time: the log may need them after the socket is gone.
    addrs: Option<ConnAddrs>,
    /// The last read returned less than it was offered: the socket had nothing more then.
    drained: bool,
    /// `timeout server` of the exchange under way: the longest the server may stay silent
    /// (or refuse to read) while the proxy waits on it.
    timeout: Option<Duration>,
    watchdog: Watchdog,
    /// An upload is waiting for the client's next bytes: the server waits on the proxy, so
    /// `timeout server` does not run.
    waits_on_client: bool,
    /// Requests the connection carried so far.
    requests: u32,
    /// A FastCGI connection, which the application kept open on purpose (`keep-conn`).
    fastcgi: bool,
    /// Counts the connection among its server's used ones (`used_cur`) while it is out of
    /// the idle pool.
    in_use: Option<pool::InUse>,
    /// The PROXY header the connection began with: it may carry only requests that would
    /// send the same one (HAProxy hashes the header into the connection's identity).
    proxy_line: Option<Box<[u8]>>,
}

impl std::ops::Deref for ServerConn {
    type Target = Link;

    fn deref(&self) -> &Link {
        &self.0
    }
}

impl std::ops::DerefMut for ServerConn {
    fn deref_mut(&mut self) -> &mut Link {
        &mut self.0
    }
}

/// The backend's options on a connection to one of its servers: `option nolinger` (closing
/// the connection resets it) and `option srvtcpka` (keep-alive probes, timed by
/// `srvtcpka-*`).
pub fn tune_socket(tcp: &TcpStream, be: &crate::state::BackendRt) {
    if be.nolinger {
        crate::listener::reset_on_close(tcp);
    }
    if be.tcp_keep_alive {
        crate::listener::keep_alive(tcp, &be.keep_alive_timing);
    }
}

impl ServerConn {
    /// The transport, for a connection handed to the HTTP/2 client.
    pub(super) fn into_transport(self) -> ServerStream {
        self.0.stream
    }

    /// The backend's socket options (see [`tune_socket`]).
    pub fn tune(&self, be: &crate::state::BackendRt) {
        tune_socket(self.0.stream.tcp(), be);
    }

    /// What the TLS handshake settled (`ssl_bc_*`, `ssl_s_*`); `None` over clear TCP.
    pub fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        match &self.0.stream {
            ServerStream::Plain(_) => None,
            ServerStream::Tls(tls) => Some(crate::tls::backend::info(tls.get_ref())),
        }
    }

    /// Connects within `timeout` (the way `dial` says), sends `preface` (a PROXY protocol
    /// header) before anything else, then makes the TLS handshake when `tls` is given (leaving
    /// it to the first write with `early`: see `tls::client::handshake`). A failed handshake
    /// says why, and a failure says whether `timeout` ran out.
    pub async fn connect(
        addr: SocketAddr,
        dial: dial::Dial<'_>,
        timeout: Option<Duration>,
        preface: Option<Vec<u8>>,
        tls: Option<(
            &std::sync::Arc<rustls::ClientConfig>,
            rustls_pki_types::ServerName<'static>,
        )>,
        early: bool,
    ) -> Result<ServerConn, ConnectFailure> {
        let started = crate::clock::now();
        let mut tcp = dial::open(addr, dial, timeout)
            .await
            .map_err(|e| ConnectFailure {
                tls: None,
                timed_out: e.error.kind() == io::ErrorKind::TimedOut,
                at_once: e.at_once,
            })?;
        if let Some(p) = &preface {
            tokio::io::AsyncWriteExt::write_all(&mut tcp, p)
                .await
                .map_err(|_| ConnectFailure::default())?;
        }
        let _ = tcp.set_nodelay(true);
        let addrs = ConnAddrs::of(&tcp);
        let stream = match tls {
            None => ServerStream::Plain(tcp),
            Some((config, name)) => {
                let left = timeout
                    .unwrap_or(Duration::from_secs(10))
                    .saturating_sub(crate::clock::now() - started);
                let tls = crate::tls::client::handshake(config, name, tcp, left, early)
                    .await
                    .map_err(|e| ConnectFailure {
                        tls: Some(e),
                        timed_out: e.timeout,
                        at_once: false,
                    })?;
                ServerStream::Tls(Box::new(tls))
            }
        };
        Ok(ServerConn(Box::new(Link {
            stream,
            addrs,
            drained: false,
            timeout: None,
            watchdog: Watchdog::default(),
            waits_on_client: false,
            requests: 0,
            fastcgi: false,
            in_use: None,
            proxy_line: preface.map(Vec::into_boxed_slice),
        })))
    }

    /// Whether `e`, met before any byte of the first response, is the server refusing the
    /// TLS 1.3 handshake after it ended on our side: a fatal alert (a refused certificate
    /// says `bad_certificate`, `unknown_ca`, `certificate_required`…).
    fn refused_after_handshake(&self, e: &io::Error) -> bool {
        let ServerStream::Tls(tls) = &self.stream else {
            return false;
        };
        let tls13 = tls.get_ref().1.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
        let alert = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        tls13
            && matches!(alert, Some(rustls::Error::AlertReceived(a))
                if *a != rustls::AlertDescription::CloseNotify)
    }

    /// Whether the connection proved that the server keeps connections open: it carried a
    /// second request (HAProxy's "safe" idle connections), or it is a FastCGI one.
    pub fn is_safe(&self) -> bool {
        self.requests > 1 || self.fastcgi
    }

    /// The connection, now served by the calling thread's runtime: taken from another
    /// thread's idle pool, its socket moves to this thread's poller, so that its events wake
    /// this thread only (HAProxy's takeover), TLS ones included (rustls' state stays around
    /// a duplicate of the socket's descriptor). `None` when the socket cannot move.
    pub(super) fn adopt(self) -> Option<ServerConn> {
        let link = *self.0;
        let stream = match link.stream {
            ServerStream::Plain(tcp) => {
                let std = tcp.into_std().ok()?;
                ServerStream::Plain(TcpStream::from_std(std).ok()?)
            }
            ServerStream::Tls(mut tls) => {
                tls.get_mut().0.rehome().ok()?;
                ServerStream::Tls(tls)
            }
        };
        Some(ServerConn(Box::new(Link {
            stream,
            // The timer of the last exchange belonged to the other thread's runtime too.
            watchdog: Watchdog::default(),
            ..link
        })))
    }
}

impl Link {
    /// Whether the connection may carry a request that would begin a new one with the PROXY
    /// header `line` (`None`: without one): HAProxy keys a connection by the header it sent,
    /// so only the same header finds it again.
    pub fn carries_proxy_line(&self, line: Option<&[u8]>) -> bool {
        self.proxy_line.as_deref() == line
    }

    /// Both ends of the connection, as they were when it was made.
    pub fn addrs(&self) -> Option<ConnAddrs> {
        self.addrs
    }

    /// The address the connection reaches.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.stream.tcp().peer_addr().ok()
    }

    /// Whether an idle connection can carry a request: the server has neither closed it nor
    /// sent anything unasked. Costs no system call unless the socket has signalled an event.
    /// The readiness is read as the poller last left it (`try_io`), not polled: polling
    /// registered a waker under the socket's lock, twice per reused connection.
    pub fn is_usable(&self) -> bool {
        let tcp = self.stream.tcp();
        if matches!(self.stream, ServerStream::Tls(_)) {
            // Bytes under TLS cannot be peeked without breaking the record stream: a TLS
            // connection with anything pending is not reused.
            let mut signalled = false;
            let _ = tcp.try_io(Interest::READABLE, || {
                signalled = true;
                Ok(())
            });
            return !signalled;
        }
        // Without a readiness event this is `WouldBlock` at once, with no system call; with
        // one, a read that finds nothing also clears the stale readiness.
        let mut probe = [0u8; 1];
        matches!(tcp.try_read(&mut probe),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Prepares a connection for the idle pool. When the last read found the socket empty,
    /// its read readiness is cleared without the extra `recv` that would only say so again.
    /// Sound with the edge-triggered poller: bytes arriving later raise a new event, and tokio
    /// clears only the readiness it had seen before this call.
    fn settle(&self) {
        if let (true, ServerStream::Plain(tcp)) = (self.drained, &self.stream) {
            let _ = tcp.try_io(Interest::READABLE, || {
                Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
            });
        }
    }

    /// Reads what the socket has into `buf`; `Ok(0)` is the server's close, `TimedOut` a
    /// wait past `timeout server`.
    fn poll_fill(&mut self, buf: &mut BytesMut, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if let ServerStream::Tls(tls) = &mut self.stream {
            return match poll_fill_tls(tls, buf, cx) {
                Poll::Ready(Ok(n)) => {
                    self.watchdog.active();
                    Poll::Ready(Ok(n))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => self.waiting(cx),
            };
        }
        loop {
            if self.stream.tcp().poll_read_ready(cx)?.is_pending() {
                return self.waiting(cx);
            }
            if buf.capacity() - buf.len() < READ_SIZE / 4 {
                buf.reserve(READ_SIZE);
            }
            let offered = buf.capacity() - buf.len();
            match self.stream.tcp().try_read_buf(buf) {
                Ok(n) => {
                    self.drained = n < offered;
                    self.watchdog.active();
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Writes some of `data`, failing with `TimedOut` when the server stops reading for
    /// longer than `timeout server`.
    fn poll_write_some(&mut self, data: &[u8], cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        use tokio::io::AsyncWrite;
        let written = match &mut self.stream {
            ServerStream::Plain(tcp) => std::pin::Pin::new(tcp).poll_write(cx, data),
            // Still in the handshake: a resumed session taking the request as early data
            // (`allow-0rtt`). A flush would end the handshake first; the reads that follow
            // flush it all (`poll_fill_tls`), and replay it if the server rejects it.
            ServerStream::Tls(tls) if tls.get_ref().1.is_handshaking() => {
                std::pin::Pin::new(&mut **tls).poll_write(cx, data)
            }
            ServerStream::Tls(tls) => {
                // Records rustls still holds go out first, so that a request is never left
                // half-sent while its response is awaited.
                match std::pin::Pin::new(&mut **tls).poll_flush(cx) {
                    Poll::Ready(Ok(())) => std::pin::Pin::new(&mut **tls).poll_write(cx, data),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                }
            }
        };
        match written {
            Poll::Ready(Ok(0)) if !data.is_empty() => {
                Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
            }
            Poll::Ready(Ok(n)) => {
                self.watchdog.active();
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.waiting(cx),
        }
    }

    /// Writes all of `data` (see `poll_write_some`).
    async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = std::future::poll_fn(|cx| self.poll_write_some(data, cx)).await?;
            data = &data[n..];
        }
        Ok(())
    }

    /// The answer to I/O that has to wait: pending, or `TimedOut` once the server has been
    /// inactive for `timeout server` (unless the proxy is the one waiting, on its client).
    fn waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if self.waits_on_client {
            return Poll::Pending;
        }
        if self.watchdog.expired(self.timeout, None, cx) {
            Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
        } else {
            Poll::Pending
        }
    }
}

/// Reads what a TLS server connection has into `buf`, after sending the records rustls
/// still holds. A close without `close_notify` is a close (`Ok(0)`), as on TCP.
fn poll_fill_tls(
    tls: &mut tokio_rustls::client::TlsStream<crate::tls::tap::Tapped>,
    buf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    use tokio::io::{AsyncRead, AsyncWrite};
    if let Poll::Ready(Err(e)) = std::pin::Pin::new(&mut *tls).poll_flush(cx) {
        return Poll::Ready(Err(e));
    }
    let mut chunk = [0u8; READ_SIZE];
    let mut read = tokio::io::ReadBuf::new(&mut chunk);
    match std::pin::Pin::new(&mut *tls).poll_read(cx, &mut read) {
        Poll::Ready(Ok(())) => {
            buf.extend_from_slice(read.filled());
            Poll::Ready(Ok(read.filled().len()))
        }
        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Poll::Ready(Ok(0)),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// What bounds an exchange.
pub struct Limits {
    /// The connection closes after this exchange (`Connection: close` was sent).
    pub close: bool,
    /// The most bytes a response head may take (`tune.bufsize`).
    pub head_size: usize,
    /// `timeout server`.
    pub timeout: Option<Duration>,
    /// `option accept-invalid-http-response`: header lines the parser cannot read are left out
    /// rather than failing the response.
    pub lenient: bool,
}

/// Why an exchange produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeError {
    /// The server failed (mapped to a `retry-on` failure).
    Server(Failure),
    /// The client's request body broke off while it was being forwarded.
    ClientAborted,
    /// The client's HTTP/2 connection closed cleanly (a FIN, no reset) while its request body
    /// was being forwarded: HAProxy's stream sees its input shut rather than in error.
    ClientShut,
    /// The session was killed while waiting for the answer (`shutdown session`).
    Killed,
}

/// Which side broke off a request being written.
enum WriteError {
    Server,
    Client,
    /// The client's connection ended cleanly under an HTTP/2 stream (see
    /// [`ExchangeError::ClientShut`]).
    ClientShut,
}

/// A request encoded for the wire, ready for `exchange`. Encoding happens before the exchange
/// starts so that the exchange's future holds these few bytes rather than the request.
pub struct Outgoing {
    /// The head, and all of the body when it is in memory.
    wire: Vec<u8>,
    /// The client's body still to stream after `wire`, with its framing.
    streamed: Option<(ClientBody, Sending)>,
    /// The request's method, which decides how the response is framed.
    method: Method,
}

impl Outgoing {
    pub fn new(mut req: Request<ReqBody>) -> Outgoing {
        let sending = request_framing(&mut req);
        let mut wire = Vec::with_capacity(512);
        encode_head(&req, &mut wire);
        let (parts, body) = req.into_parts();
        let streamed = match body {
            http_body_util::Either::Right(full) => {
                if sending != Sending::Nothing {
                    let data = full_data(full);
                    if sending == Sending::Chunked {
                        if !data.is_empty() {
                            encode_chunk(&data, &mut wire);
                        }
                        encode_last_chunk(None, &mut wire);
                    } else {
                        wire.extend_from_slice(&data);
                    }
                }
                None
            }
            http_body_util::Either::Left(incoming) => Some((incoming, sending)),
        };
        Outgoing {
            wire,
            streamed,
            method: parts.method,
        }
    }
}

/// The bytes of a body held in memory (a `Full` yields them at once, or nothing).
fn full_data(mut full: http_body_util::Full<bytes::Bytes>) -> bytes::Bytes {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(&mut full).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => bytes::Bytes::new(),
    }
}

/// Sends the request on `conn` and reads the response head; the body is read as the response
/// is forwarded. The connection goes back to the idle pool from the body, once it is
/// complete, if the body is given a pool. The body comes boxed: the response is moved
/// several times on its way to the client, each move a copy of it.
pub async fn exchange(
    mut conn: ServerConn,
    request: Outgoing,
    limits: Limits,
) -> Result<Response<Box<ServerBody>>, ExchangeError> {
    let Outgoing {
        wire,
        streamed,
        method,
    } = request;
    // The server's inactivity counts from the start of this exchange, not from its last one.
    conn.requests += 1;
    conn.timeout = limits.timeout;
    conn.watchdog.restart();
    conn.waits_on_client = false;
    // A request in memory is written whole first. A write the server refuses is not an error
    // yet, as it may have answered first: the response is still read, but the connection
    // will not carry another request. A streamed body goes on while the response is awaited.
    let (mut sent_whole, mut upload) = match streamed {
        None => (conn.write_all(&wire).await.is_ok(), None),
        Some((incoming, sending)) => (true, Some(Box::new(Upload::new(wire, incoming, sending)))),
    };
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut received = false;
    loop {
        if !buf.is_empty() {
            if let Some(head) = parse_head(&mut buf, &method, limits.lenient)? {
                // A connection whose request is still being sent does not carry another one.
                let keep_alive = sent_whole && upload.is_none() && !limits.close && head.keep_alive;
                return Ok(head.response.map(|state| {
                    Box::new(
                        ServerBody::new(Some(conn), buf, state, keep_alive).with_upload(upload),
                    )
                }));
            }
            if buf.len() >= limits.head_size {
                return Err(ExchangeError::Server(Failure::JunkResponse));
            }
        }
        let read = std::future::poll_fn(|cx| {
            if let Some(up) = upload.as_mut() {
                match up.poll_send(&mut conn, cx) {
                    Poll::Ready(Ok(())) => upload = None,
                    Poll::Ready(Err(WriteError::Client)) => {
                        return Poll::Ready(Err(ExchangeError::ClientAborted))
                    }
                    Poll::Ready(Err(WriteError::ClientShut)) => {
                        return Poll::Ready(Err(ExchangeError::ClientShut))
                    }
                    Poll::Ready(Err(WriteError::Server)) => {
                        sent_whole = false;
                        upload = None;
                    }
                    Poll::Pending => {}
                }
            }
            conn.poll_fill(&mut buf, cx).map(Ok)
        })
        .await?;
        match read {
            Ok(n) if n > 0 => received = true,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err(ExchangeError::Server(Failure::ResponseTimeout))
            }
            _ if received => return Err(ExchangeError::Server(Failure::JunkResponse)),
            Err(e) if conn.requests == 1 && conn.refused_after_handshake(&e) => {
                return Err(ExchangeError::Server(Failure::Refused))
            }
            _ => return Err(ExchangeError::Server(Failure::EmptyResponse)),
        }
    }
}

/// The frames of a response body (data or trailers), or why it broke off.
pub type BodyFrames = Vec<Result<hyper::body::Frame<bytes::Bytes>, String>>;

/// Reads a whole response held in memory as `exchange` reads one from a server, answering
/// its status and its body's frames. For tests and fuzzing of the decoders without sockets.
pub fn decode_buffered(
    raw: &[u8],
    method: &Method,
) -> Result<(StatusCode, BodyFrames), ExchangeError> {
    let mut buf = BytesMut::from(raw);
    // All there is is in the buffer: a head still incomplete will stay so.
    let head = (parse_head(&mut buf, method, false)?)
        .ok_or(ExchangeError::Server(Failure::JunkResponse))?;
    let status = head.response.status();
    let mut body = ServerBody::new(None, buf, *head.response.body(), false);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut frames = Vec::new();
    while let Poll::Ready(Some(frame)) = std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
        frames.push(frame.map_err(|e| e.to_string()));
    }
    Ok((status, frames))
}
