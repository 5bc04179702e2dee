//! HTTP/2 connections from clients (ALPN `h2` over TLS, or prior knowledge on a `proto h2`
//! listener): hyper's HTTP/2 server multiplexes the streams, each handed to the same request
//! path as an HTTP/1 request. The `tune.h2.*` settings are announced; reset floods
//! (CVE-2023-44487) and streams the client keeps erroring are cut by h2's limits; a graceful
//! stop sends GOAWAY (after a round trip that keeps the client from dropping requests, see
//! `h2_stop`) and lets the open streams finish.

use crate::http::{handle_boxed, websocket, ConnCtx, IncomingBody};
use hyper_util::rt::TokioIo;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client transport that notes when bytes last moved, for the connection's inactivity
/// limit.
struct Activity<S> {
    stream: S,
    last: Rc<Cell<Instant>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Activity<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.stream).poll_read(cx, buf);
        if r.is_ready() {
            self.last.set(crate::clock::now());
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Activity<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write(cx, data);
        if r.is_ready() {
            self.last.set(crate::clock::now());
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What the service answers for a stream that gets no response: hyper resets it.
#[derive(Debug)]
struct Unanswered;

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the stream ends without an answer")
    }
}

impl std::error::Error for Unanswered {}

/// Why a stream is reset: hyper takes the reason from an HTTP/2 error it finds here
/// (`PROTOCOL_ERROR` for a malformed request), else resets with `INTERNAL_ERROR`.
type StreamEnd = Box<dyn std::error::Error + Send + Sync>;

/// Runs hyper's per-stream futures. Those the connection hands over while it is polled get
/// their first poll right after it, in the connection's task, in the order they came; only
/// those not done then become tasks of their own on the worker thread's `LocalSet`.
///
/// A stream the proxy answers by itself (`return`, redirects, errors, the cache, stats) is
/// done in that first poll, and then costs no task (allocation, scheduling, join state).
/// Polling the new streams together after the connection, rather than each as hyper accepts
/// it, keeps each part's code hot for the whole batch. The first poll sees a waker that does
/// nothing, which loses no wake-up: a spawned task is polled at least once, and that poll
/// registers its own waker wherever the stream waits.
#[derive(Clone, Default)]
struct LocalExec(Rc<NewStreams>);

#[derive(Default)]
struct NewStreams {
    /// Whether the connection is being polled (see [`LocalExec::poll_conn`]).
    batching: Cell<bool>,
    queued: std::cell::RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>>,
}

impl<F: Future<Output = ()> + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        if self.0.batching.get() {
            self.0.queued.borrow_mut().push(Box::pin(fut));
        } else {
            // Handed over from elsewhere (a stream's tunnel, from the stream's own task).
            tokio::task::spawn_local(fut);
        }
    }
}

impl LocalExec {
    /// Polls the connection, then gives each stream it handed over meanwhile its first poll.
    fn poll_conn<C: Future>(&self, conn: Pin<&mut C>, cx: &mut Context<'_>) -> Poll<C::Output> {
        self.0.batching.set(true);
        let polled = conn.poll(cx);
        self.0.batching.set(false);
        let queued = std::mem::take(&mut *self.0.queued.borrow_mut());
        let mut first = Context::from_waker(std::task::Waker::noop());
        for mut stream in queued {
            if stream.as_mut().poll(&mut first).is_pending() {
                tokio::task::spawn_local(stream);
            }
        }
        polled
    }
}

/// Streams a client may reset before they are served, and stream errors it may cause, before
/// the connection is closed with GOAWAY.
const MAX_PENDING_RESETS: usize = 20;
const MAX_ERROR_RESETS: usize = 256;
/// The largest header block accepted, decoded (HPACK bombs stop here).
const MAX_HEADER_LIST: u32 = 64 * 1024;

/// What a client's header block may hold, as HAProxy 2.7 bounds it: its frames fit in one
/// buffer (`tune.bufsize`), its fields (pseudo-headers included) number fewer than twice
/// `tune.http.maxhdr`, and the request decoded leaves `tune.maxrewrite` free in a buffer.
fn header_limits(shared: &crate::state::Shared) -> h2::server::HeaderLimits {
    // HAProxy's internal message keeps a small header of its own at the buffer's start.
    const HTX_HEADER: usize = 40;
    h2::server::HeaderLimits {
        block: shared.bufsize,
        fields: 2 * shared.http_maxhdr.unwrap_or(crate::upstream::MAX_HEADERS),
        decoded: shared
            .bufsize
            .saturating_sub(HTX_HEADER + shared.room.maxrewrite),
    }
}

/// The connection preface every HTTP/2 client begins with (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads into `held` until it holds as many bytes as the preface, then answers whether they
/// are the preface; false when the client closes (or fails) first.
async fn read_preface<R: AsyncRead + Unpin>(stream: &mut R, held: &mut bytes::BytesMut) -> bool {
    use tokio::io::AsyncReadExt;
    while held.len() < PREFACE.len() {
        if !matches!(stream.read_buf(held).await, Ok(n) if n > 0) {
            return false;
        }
    }
    held.starts_with(PREFACE)
}

/// Logs a connection whose first bytes were not HTTP/2's preface, or that closed before it,
/// as HAProxy does: a `<BADREQ>` line with no status, `PR`; one that sent nothing is silenced
/// by `option dontlognull` or `option http-ignore-probes`.
fn log_bad_preface(ctx: &ConnCtx, came: bool) {
    let fe = ctx.frontend();
    if !came && (fe.dontlognull || fe.ignore_probes) {
        return;
    }
    let mut txn = super::h1::session_txn(ctx);
    txn.status = Some(0);
    txn.term = *b"PR";
    txn.timings.request = -1;
    crate::http::log_txn(&txn);
}

/// Serves one HTTP/2 client connection until it closes or the proxy stops.
pub async fn serve<S>(stream: S, ctx: Rc<ConnCtx>, stopping: crate::stop::Stopping)
where
    S: AsyncRead + AsyncWrite + Unpin + crate::http::idle::ClientStream + 'static,
{
    // The client speaks first: HAProxy sends its SETTINGS only once the preface came, and
    // judges the first bytes only once the preface's length of them came (hyper's server
    // would announce its SETTINGS at once). Other bytes (an HTTP/1 request) or an early
    // close end the connection without a frame, logged; silence until `timeout client` ends
    // it unlogged.
    let mut stream = stream;
    // Room for a buffer's worth, as HAProxy reads: what it took in closes with a FIN, not
    // a reset for unread bytes.
    let mut held = bytes::BytesMut::with_capacity(ctx.shared.bufsize);
    let wait = ctx
        .frontend()
        .timeouts
        .client
        .unwrap_or(std::time::Duration::from_secs(3600));
    let preface = tokio::select! {
        read = tokio::time::timeout(wait, read_preface(&mut stream, &mut held)) => read.ok(),
        _ = stopping.wait() => None,
    };
    match preface {
        Some(true) => {}
        Some(false) => {
            // What came past a buffer's worth is dropped before the close, as HAProxy drains
            // its side: a FIN, not a reset for unread bytes.
            stream.drain_unread();
            return log_bad_preface(&ctx, !held.is_empty());
        }
        None => return,
    }
    let stream = crate::upgrade::Replay::new(held.freeze(), stream);
    // `tcp-request connection` rules ran when the connection was accepted (`crate::accept`).
    ctx.frontend()
        .counters
        .add(crate::api::counters::Counter::H2Connections, 1);
    let tune = &ctx.shared.h2;
    let exec = LocalExec::default();
    let mut builder = hyper::server::conn::http2::Builder::new(exec.clone());
    builder
        .header_table_size(tune.header_table_size)
        .initial_stream_window_size(tune.initial_window_size)
        .max_concurrent_streams(tune.max_concurrent_streams)
        .max_frame_size(tune.max_frame_size.clamp(16384, 16_777_215))
        .max_header_list_size(MAX_HEADER_LIST)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .max_local_error_reset_streams(MAX_ERROR_RESETS)
        .interim_responses(ctx.shared.early_hints)
        .auto_date_header(false)
        .header_limits(header_limits(&ctx.shared))
        // The connection window stays at 65,535 until the client's first DATA, then opens to
        // 2^31-1, and each DATA is acknowledged as it is consumed, stream first, as HAProxy's
        // HTTP/2 demultiplexer does (hyper's default announced 1 MB at once).
        .haproxy_window_updates()
        // A client's FIN after complete requests still gets their answers, as from HAProxy.
        .answer_after_eof();
    // WebSocket over HTTP/2 (RFC 8441), announced as HAProxy does unless
    // `h2-workaround-bogus-websocket-clients` keeps it from clients that misuse it.
    if tune.extended_connect {
        builder.enable_connect_protocol();
    }
    crate::trace_event!(
        H2,
        2,
        "conn_new",
        "new H2 connection from {} to frontend {}",
        ctx.client,
        ctx.frontend().name
    );
    let svc_ctx = ctx.clone();
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            crate::trace_event!(
                H2,
                2,
                "rx_headers",
                "stream request headers: {} {}",
                req.method(),
                req.uri()
            );
            // An extended CONNECT goes through the request path as HTTP/1.1's upgrade, and its
            // 101 comes back as the 200 that opens the stream's tunnel.
            let extended = websocket::from_client_extended_connect(&mut req);
            // RFC 8441 §4: an extended CONNECT carries `:authority`, as every HTTP/2 request
            // should; HAProxy resets one without (hyper's HTTP/2 has checked the rest).
            let malformed = extended && req.uri().authority().is_none();
            // Boxed, and built in its box (`handle_boxed`): the request path's future is several
            // kB, and hyper moves the stream's future a few times on its way into the spawned
            // task, where a pointer moves for nothing.
            let answer = (!malformed).then(|| {
                handle_boxed(
                    svc_ctx.clone(),
                    super::with_h2_host(req).map(IncomingBody::from),
                )
            });
            async move {
                let Some(answer) = answer else {
                    return Err(StreamEnd::from(h2::Error::from(h2::Reason::PROTOCOL_ERROR)));
                };
                let Ok(mut resp) = answer.await;
                // A stream ended without an answer (`reject`…) is reset rather than answered.
                if resp
                    .extensions()
                    .get::<crate::http::reply::CloseUnanswered>()
                    .is_some()
                {
                    return Err(StreamEnd::from(Unanswered));
                }
                if extended {
                    websocket::to_client_extended_connect(&mut resp);
                }
                Ok(resp)
            }
        });
    let last = Rc::new(Cell::new(crate::clock::now()));
    let (stream, quiesce) = super::h2_stop::gate(stream);
    let stream = Activity {
        stream,
        last: last.clone(),
    };
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // Every poll of the connection goes through the executor, which then runs new streams.
    macro_rules! served {
        () => {
            std::future::poll_fn(|cx| exec.poll_conn(conn.as_mut(), cx))
        };
    }
    let idle = ctx.frontend().timeouts.client;
    // `timeout client` of silence both ways ends the connection with GOAWAY; the streams
    // still open finish first.
    let quiet = async {
        let Some(limit) = idle else {
            return std::future::pending().await;
        };
        loop {
            let deadline = last.get() + limit;
            tokio::time::sleep_until(deadline.into()).await;
            if last.get() + limit <= crate::clock::now() {
                return;
            }
        }
    };
    tokio::pin!(quiet);
    let stopped = tokio::select! {
        biased;
        _ = served!() => return,
        _ = stopping.wait() => true,
        _ = &mut quiet => false,
    };
    // `close-spread-time`: the GOAWAY waits for a random moment of the window, or is never
    // sent by the stop (the connection then ends by its own silence).
    let stopped = stopped && {
        use crate::close_spread::OnStop;
        match crate::close_spread::on_stop() {
            OnStop::Default => true,
            OnStop::After(delay) => tokio::select! {
                _ = served!() => return,
                _ = tokio::time::sleep(delay) => true,
                _ = &mut quiet => false,
            },
            OnStop::Keep => tokio::select! {
                _ = served!() => return,
                _ = &mut quiet => false,
            },
        }
    };
    if stopped {
        // One round trip first, so that the client drops no request it queued (`h2_stop`).
        tokio::select! {
            _ = served!() => return,
            _ = quiesce.run() => {}
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = match idle {
        Some(limit) => tokio::time::timeout(limit, served!()).await.ok(),
        None => Some(served!().await),
    };
}
