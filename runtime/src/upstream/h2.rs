//! HTTP/2 towards servers: `server … proto h2` (prior knowledge, clear or over TLS) or `h2`
//! chosen by ALPN in the TLS handshake (`server … ssl alpn h2,http/1.1`). hyper's HTTP/2
//! client multiplexes the streams of a connection in a task of its own.
//!
//! As HAProxy does with its multiplexed backend connections, a busy connection with room for
//! another stream serves the requests `http-reuse` lets join it ([`super::reuse::Sharing`]:
//! under `always` any of its thread, under `safe` those of the client session that holds it,
//! under `aggressive` a new one only its opener), up to `max-reuse` requests after its
//! first; a new one is opened when none will do (under `always`, a `proto h2` one being
//! established is waited on instead: [`super::pool::Connecting`]). Under `never` (and where a
//! connection tells the server who its client is) a connection is its client session's own,
//! for that session's later requests and other streams. Once its last stream ends, a shared
//! one is an idle connection of the server like an HTTP/1 one (a safe one): counted in the
//! server's idle pool, kept or closed by the pool's rules, and open to the other threads of
//! its group (see [`super::pool`]). hyper's task for the connection stays on the thread that
//! opened it; streams opened from another thread are handed to that task.

use super::pool::ServerIdle;
use super::reuse::{Failure, Sharing};
use super::{ExchangeError, ServerConn};
use crate::http::ReqBody;
use crate::tls::TlsInfo;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http2::SendRequest;
use hyper::header::{HeaderValue, HOST, TE};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

/// Streams a connection is given at most before another is opened (the server may allow
/// fewer: hyper then holds the request until one ends).
pub(super) const MAX_STREAMS: u32 = 100;
/// Connections offered per server and thread.
pub(super) const MAX_CONNS: usize = 16;

/// One multiplexed server connection, as a handle to open streams on. Any thread may use it.
#[derive(Clone)]
pub struct H2Conn {
    send: SendRequest<ReqBody>,
    pub(super) state: Arc<H2State>,
    /// What its TLS handshake settled (`ssl_bc_*`, `ssl_s_*`).
    pub tls: Option<Arc<TlsInfo>>,
    /// Both ends of the connection (`%bi`, `%si`…).
    pub addrs: Option<super::ConnAddrs>,
}

/// What the handles of one connection share.
pub(super) struct H2State {
    /// Streams open now; 0: the connection is idle.
    pub(super) open: AtomicU32,
    /// Streams it carried so far (`max-reuse`).
    carried: AtomicU64,
    /// Whether the server allows extended CONNECT (RFC 8441), once its SETTINGS came.
    settings: PeerSettings,
    /// The server pool it was offered to, if any, with the server's `max-reuse`: its
    /// streams' starts and ends are counted there.
    pub(super) pool: OnceLock<(Weak<ServerIdle>, Option<u64>)>,
    /// The thread whose list holds it in that pool.
    pub(super) home: AtomicUsize,
    /// Who may join it while it is busy ([`Sharing`] as a word), under that list's lock.
    pub(super) sharing: AtomicU64,
    /// Whether ALPN chose HTTP/2 (rather than `proto h2`).
    pub(super) by_alpn: bool,
}

impl H2State {
    pub(super) fn sharing(&self) -> Sharing {
        Sharing::from_word(self.sharing.load(Ordering::Acquire))
    }

    pub(super) fn share(&self, sharing: Sharing) {
        self.sharing.store(sharing.to_word(), Ordering::Release);
    }
}

impl H2Conn {
    /// Whether it can take one more stream now: not closed or going away, below the stream
    /// limit, and (with `max-reuse`) reused fewer times than that (a connection carries
    /// `max-reuse` streams after its first, as in HAProxy).
    pub(super) fn has_room(&self, max_reuse: Option<u64>) -> bool {
        !self.send.is_closed()
            && self.send.is_ready()
            && self.state.open.load(Ordering::Acquire) < MAX_STREAMS
            && self.reusable(max_reuse)
    }

    /// Whether it may still be handed out later (not closed, `max-reuse` not reached).
    pub(super) fn reusable(&self, max_reuse: Option<u64>) -> bool {
        !self.send.is_closed()
            && max_reuse.is_none_or(|m| self.state.carried.load(Ordering::Relaxed) <= m)
    }

    /// Whether no stream is open on it.
    pub(super) fn is_idle(&self) -> bool {
        self.state.open.load(Ordering::Acquire) == 0
    }

    /// Whether the two handles are of one connection.
    pub(super) fn same(&self, other: &H2Conn) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// A stream starts: counted open (and, for a connection that was idle, no longer idle in
    /// its pool) until the returned slot drops.
    fn open_stream(&self) -> StreamSlot {
        self.state.carried.fetch_add(1, Ordering::Relaxed);
        match self.state.pool.get().and_then(|p| p.0.upgrade()) {
            Some(pool) => pool.h2_stream_opens(self),
            None => {
                self.state.open.fetch_add(1, Ordering::AcqRel);
            }
        }
        StreamSlot(self.clone())
    }
}

impl H2Conn {
    /// Whether the server announced `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441), which a
    /// WebSocket stream needs: on a new connection, its SETTINGS are waited for, at most
    /// `limit`.
    pub async fn extended_connect(&self, limit: Duration) -> bool {
        let settings = &self.state.settings;
        let seen = async {
            loop {
                let told = settings.told.notified();
                if let Some(enabled) = settings.enabled() {
                    return enabled;
                }
                told.await;
            }
        };
        tokio::time::timeout(limit, seen).await.unwrap_or(false)
    }
}

/// What a server's first SETTINGS frame said of extended CONNECT. hyper tells it only on the
/// connection's driving half (which runs in a task of its own), and not whether the frame has
/// come yet; the frame is the first the server sends (RFC 9113 §3.4), so it is read here as
/// it passes.
#[derive(Default)]
struct PeerSettings {
    /// 0: not yet known, 1: no, 2: yes.
    enabled: AtomicU8,
    told: tokio::sync::Notify,
}

impl PeerSettings {
    fn enabled(&self) -> Option<bool> {
        match self.enabled.load(Ordering::Acquire) {
            0 => None,
            n => Some(n == 2),
        }
    }

    fn tell(&self, enabled: bool) {
        self.enabled
            .store(if enabled { 2 } else { 1 }, Ordering::Release);
        self.told.notify_waiters();
    }
}

/// The identifier of `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3).
const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// A server transport that reads, on its way to hyper, the server's first frame (its SETTINGS).
struct Sniff<T> {
    io: T,
    first: Vec<u8>,
    state: Arc<H2State>,
}

impl<T> Sniff<T> {
    fn saw(&mut self, bytes: &[u8]) {
        if self.state.settings.enabled().is_some() {
            return;
        }
        self.first.extend_from_slice(bytes);
        if let Some(enabled) = settings_frame(&self.first) {
            self.state.settings.tell(enabled);
            self.first = Vec::new();
        }
    }
}

/// Whether a complete first frame allows extended CONNECT; `None` while incomplete. Anything
/// but a SETTINGS frame (or one over the default frame size) says no.
fn settings_frame(b: &[u8]) -> Option<bool> {
    const SETTINGS: u8 = 0x4;
    let head = b.get(..9)?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    if head[3] != SETTINGS || len > 16_384 || !len.is_multiple_of(6) {
        return Some(false);
    }
    let payload = b.get(9..9 + len)?;
    Some(payload.chunks_exact(6).fold(false, |on, e| {
        if u16::from_be_bytes([e[0], e[1]]) == ENABLE_CONNECT_PROTOCOL {
            u32::from_be_bytes([e[2], e[3], e[4], e[5]]) == 1
        } else {
            on
        }
    }))
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Sniff<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let now = buf.filled().len();
            if now == before {
                // The server closed before its SETTINGS.
                self.state.settings.tell(false);
            } else {
                let got = buf.filled()[before..now].to_vec();
                self.saw(&got);
            }
        }
        r
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Sniff<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Runs hyper's connection task on the worker thread's `LocalSet`.
#[derive(Clone, Copy)]
pub(crate) struct LocalExec;

impl<F: std::future::Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// A new server connection, with the protocol it ended up speaking.
pub enum Connected {
    H1(ServerConn),
    H2(H2Conn),
}

/// Makes a new connection speak HTTP/2 when the server line forces it (`proto h2`) or the
/// TLS handshake chose it by ALPN; otherwise it stays HTTP/1.1. `None`: the HTTP/2 preface
/// failed.
pub async fn settle(
    conn: ServerConn,
    forced: bool,
    tune: &hapee_compiler::plan::h2::H2Tune,
) -> Option<Connected> {
    let tls = conn.tls_info().map(Arc::new);
    let addrs = conn.addrs();
    if !forced && tls.as_ref().and_then(|t| t.alpn.as_deref()) != Some("h2") {
        return Some(Connected::H1(conn));
    }
    let mut builder = hyper::client::conn::http2::Builder::new(LocalExec);
    builder
        .initial_stream_window_size(tune.initial_window_size)
        .header_table_size(tune.header_table_size)
        .max_frame_size(tune.max_frame_size.clamp(16384, 16_777_215))
        .max_header_list_size(64 * 1024);
    let state = Arc::new(H2State {
        open: AtomicU32::new(0),
        carried: AtomicU64::new(0),
        settings: PeerSettings::default(),
        pool: OnceLock::new(),
        home: AtomicUsize::new(0),
        sharing: AtomicU64::new(Sharing::Thread.to_word()),
        by_alpn: !forced,
    });
    let io = Sniff {
        io: conn.into_transport(),
        first: Vec::new(),
        state: state.clone(),
    };
    let (send, connection) = builder.handshake(TokioIo::new(io)).await.ok()?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Some(Connected::H2(H2Conn {
        send,
        state,
        tls,
        addrs,
    }))
}

/// Puts a request in HTTP/2's form: the target carries the scheme and the authority (from
/// `Host`, which is removed), and `TE: trailers` goes on when the client asked for trailers
/// (gRPC servers require it).
pub fn h2_request(
    mut req: Request<ReqBody>,
    tls: bool,
    client_te: Option<&HeaderValue>,
) -> Request<ReqBody> {
    let authority = req.headers_mut().remove(HOST).and_then(|h| {
        h.to_str()
            .ok()
            .and_then(|s| s.parse::<hyper::http::uri::Authority>().ok())
    });
    let mut parts = req.uri().clone().into_parts();
    parts.scheme = Some(if tls {
        hyper::http::uri::Scheme::HTTPS
    } else {
        hyper::http::uri::Scheme::HTTP
    });
    if parts.authority.is_none() {
        parts.authority = authority;
    }
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
    }
    if let Ok(uri) = hyper::Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
    *req.version_mut() = hyper::Version::HTTP_2;
    let wants_trailers = client_te.is_some_and(|v| {
        v.as_bytes().split(|&b| b == b',').any(|t| {
            t.split(|&b| b == b';')
                .next()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"trailers"))
        })
    });
    if wants_trailers {
        req.headers_mut()
            .insert(TE, HeaderValue::from_static("trailers"));
    }
    req
}

/// Counts a stream as open until its response body is done with; the connection's last
/// stream to end makes it idle in its pool.
struct StreamSlot(H2Conn);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let conn = &self.0;
        match conn.state.pool.get().and_then(|p| p.0.upgrade()) {
            Some(pool) => pool.h2_stream_ends(conn),
            None => {
                conn.state.open.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

/// Why a stream gave no response: a connection that went away before the request was taken
/// (`Unsent`, which may be sent again elsewhere), or a failure after.
pub enum StreamError {
    Unsent(Box<Request<ReqBody>>),
    Failed(ExchangeError),
}

impl From<ExchangeError> for StreamError {
    fn from(e: ExchangeError) -> Self {
        StreamError::Failed(e)
    }
}

/// Sends `req` as a new stream on `conn` and waits for the response head, for at most
/// `timeout` (`timeout server`).
pub async fn exchange(
    conn: &H2Conn,
    req: Request<ReqBody>,
    timeout: Option<Duration>,
) -> Result<Response<super::ServerBody>, StreamError> {
    let slot = conn.open_stream();
    let mut send = conn.send.clone();
    let sent = send.try_send_request(req);
    let answered = match timeout {
        Some(limit) => match tokio::time::timeout(limit, sent).await {
            Ok(a) => a,
            Err(_) => {
                return Err(StreamError::Failed(ExchangeError::Server(
                    Failure::ResponseTimeout,
                )))
            }
        },
        None => sent.await,
    };
    match answered {
        Ok(resp) => Ok(resp.map(|incoming| {
            super::ServerBody::multiplexed(StreamBody {
                incoming,
                _slot: slot,
                timeout,
                watchdog: crate::http::idle::Watchdog::default(),
            })
        })),
        Err(mut e) => match e.take_message() {
            Some(req) => Err(StreamError::Unsent(Box::new(req))),
            None => {
                let e = e.into_error();
                let failure = if e.is_parse() || e.is_user() {
                    Failure::JunkResponse
                } else {
                    Failure::EmptyResponse
                };
                Err(StreamError::Failed(ExchangeError::Server(failure)))
            }
        },
    }
}

/// A response body read from a stream of a multiplexed connection; the server's silence
/// past `timeout server` fails it.
pub struct StreamBody {
    incoming: Incoming,
    _slot: StreamSlot,
    timeout: Option<Duration>,
    watchdog: crate::http::idle::Watchdog,
}

impl super::body::FrameSource for StreamBody {
    /// The next data or trailers frame; `Err(true)` when the server stayed silent too long.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                self.watchdog.active();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(_))) => Poll::Ready(Some(Err(false))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending if self.watchdog.expired(self.timeout, None, cx) => {
                Poll::Ready(Some(Err(true)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::settings_frame;

    #[test]
    fn the_first_settings_frame_tells_extended_connect() {
        // SETTINGS with MAX_CONCURRENT_STREAMS 100 and ENABLE_CONNECT_PROTOCOL 1.
        let frame = [
            0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, 0, 8, 0, 0, 0, 1,
        ];
        assert_eq!(settings_frame(&frame[..5]), None);
        assert_eq!(settings_frame(&frame[..15]), None);
        assert_eq!(settings_frame(&frame), Some(true));
        let mut off = frame;
        off[20] = 0;
        assert_eq!(settings_frame(&off), Some(false));
        // Not a SETTINGS frame, or a malformed one: no.
        let mut ping = frame;
        ping[3] = 6;
        assert_eq!(settings_frame(&ping), Some(false));
        assert_eq!(settings_frame(&[0, 0, 5, 4, 0, 0, 0, 0, 0]), Some(false));
    }
}
