//! HTTP/1.1 connections from clients: hyper parses and frames the client side (keep-alive,
//! pipelining, chunked bodies, `Expect: 100-continue`, HTTP/1.0, upgrades) and hands each
//! request to the request path in `crate::http`.

use crate::http::idle;
use crate::http::{handle_boxed, log_txn, ConnCtx, IncomingBody};
use crate::state::HttpConnMode;
use crate::txn::Txn;
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

/// How long a connection's HTTP state is kept while it waits for a next request that has not
/// begun: long enough that back-to-back requests never pay for rebuilding it.
const PARK_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

/// Serves one client connection until it closes or the proxy stops.
///
/// hyper's state for the connection (its read and write buffers, the request's future) exists
/// only while a request is on its way: until the client's first bytes, and again once the
/// connection has waited `PARK_GRACE` for a next request with nothing of it arrived, the
/// connection is just its socket and its limits (`idle::IdleLimited`), which decide alone
/// when the wait ends.
pub async fn serve<S: idle::ClientStream + Send + 'static>(
    stream: S,
    ctx: Rc<ConnCtx>,
    stopping: crate::stop::Stopping,
) {
    // The `tcp-request connection` rules and the PROXY header are behind (`crate::accept`).
    let fe = ctx.frontend();
    fe.counters
        .add(crate::api::counters::Counter::H1Connections, 1);
    crate::trace_event!(
        H1,
        2,
        "conn_new",
        "new H1 connection from {} to frontend {}",
        ctx.client,
        fe.name
    );
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The time limits are the connection's own (`idle`), not hyper's timers: hyper arms and
    // clears a timer for every request head, a measurable share of a small request's cost.
    builder
        .header_read_timeout(None)
        .max_buf_size(ctx.shared.bufsize.max(8192))
        .auto_date_header(false)
        // A client that shuts its side down once its request is sent is still answered, as
        // HAProxy answers it (hyper would otherwise drop the request in flight), unless the
        // backend's `option abortonclose` says such a client has given up (see
        // `Limit::abort_on_client_end`).
        .half_close(true)
        .interim_responses(ctx.shared.early_hints)
        .keep_alive(fe.conn_mode != Some(HttpConnMode::Close));
    // Only when set: hyper parses into a stack array of its default size (the same limit as
    // HAProxy's default) and into a heap one for any other.
    if let Some(max) = ctx.shared.http_maxhdr {
        builder.max_headers(max.saturating_sub(1).max(1));
    }
    // Before the first request: `timeout client` of inactivity, and `timeout http-request`
    // (else `client`) for the whole head. Between requests the inactivity limit becomes
    // `timeout http-keep-alive` (else `http-request`, else `client`).
    ctx.idle.await_head(fe.timeouts.client, fe.head_timeout());
    let mut io = idle::IdleLimited::new(
        stream,
        ctx.idle.clone(),
        fe.late_head_page.clone(),
        fe.bad_request_page.clone(),
    )
    .ignoring_probes(fe.ignore_probes)
    .answering_aborts_with(fe.abort_page.clone());
    let svc_ctx = ctx.clone();
    let mut service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        crate::trace_event!(
            H1,
            2,
            "rx_headers",
            "request headers: {} {} {:?}",
            req.method(),
            req.uri(),
            req.version()
        );
        let req = req.map(|body| {
            // While hyper reads a body from the connection, its state must stay.
            let open = (!body.is_end_stream()).then(|| svc_ctx.idle.body_open());
            IncomingBody::h1(body, open)
        });
        handle_boxed(svc_ctx.clone(), req)
    });
    // A stopping process (the old one of a reload) closes a connection that waits for its
    // next request at once, as HAProxy does (a request already under way is answered with
    // `Connection: close`, see `crate::http::handle`). Under `option idle-close-on-response`
    // it waits for that request and answers it likewise, the connection ending at its
    // keep-alive limit (or `hard-stop-after`) if none comes. A connection that has not sent
    // its first request yet is kept for it, except without any limit to end the wait.
    let close_idle_on_stop = !fe.idle_close_on_response;
    let close_on_stop = fe
        .timeouts
        .http_keep_alive
        .or(fe.timeouts.http_request)
        .or(fe.timeouts.client)
        .is_none();
    let mut stop = stopping.wait();
    let mut stopped = false;
    // `close-spread-time`: once stopped, the moment this connection closes when idle.
    let mut spread: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut spread_due = false;
    // HTTP/2 with prior knowledge on a connection that came as HTTP/1 (cleartext, or TLS
    // without ALPN h2): its first bytes are HTTP/2's preface, as HAProxy's HTTP/1 side detects.
    let mut detect_h2 = fe.h2_upgrade;
    let mut park_watch = idle::Watchdog::default();
    let result = loop {
        let ready = std::future::poll_fn(|cx| {
            if !stopped && Pin::new(&mut stop).poll(cx).is_ready() {
                stopped = true;
                spread = spread_timer(close_idle_on_stop && ctx.requests.get() > 0);
            }
            if stopped && close_on_stop {
                return Poll::Ready(Ok(false));
            }
            // Waiting for a next request: idle, so the spread moment closes it, unless the
            // request has come meanwhile (HAProxy reads what has arrived before it looks).
            spread_due |= poll_spread(&mut spread, cx);
            match io.poll_readable(cx) {
                Poll::Pending if spread_due => Poll::Ready(Ok(false)),
                polled => polled.map_ok(|()| true),
            }
        })
        .await;
        match ready {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(e) => break Err(Ended::Waiting(e)),
        }
        if std::mem::take(&mut detect_h2) {
            let mut first = bytes::BytesMut::new();
            let preface = crate::upgrade::read_h2_preface(&mut io, &mut first).await;
            io.hold(first.freeze());
            match preface {
                Ok(true) => {
                    let (stream, held) = io.into_parts();
                    let stream = crate::upgrade::Replay::new(held, stream);
                    return Box::pin(super::h2::serve(stream, ctx, stopping)).await;
                }
                Ok(false) => {}
                Err(e) => break Err(Ended::Waiting(e)),
            }
        }
        // Restarted with each state: a connection parked since the last one only once its
        // state is polled again (cheap: the timer is made once and only moved forward).
        park_watch.restart();
        let mut conn = Box::new(
            builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades(),
        );
        let step = std::future::poll_fn(|cx| {
            if !stopped && Pin::new(&mut stop).poll(cx).is_ready() {
                stopped = true;
                spread = spread_timer(close_idle_on_stop && ctx.requests.get() > 0);
                if close_on_stop {
                    Pin::new(&mut *conn).graceful_shutdown();
                }
            }
            // The spread moment closes the connection once it waits for a next request (its
            // state goes first: the wait above closes it unless the request has come); a
            // request on its way is answered first.
            spread_due |= poll_spread(&mut spread, cx);
            if spread_due && ctx.idle.parked() {
                return Poll::Ready(None);
            }
            ctx.idle.unpark();
            match Pin::new(&mut *conn).poll(cx) {
                Poll::Ready(r) => Poll::Ready(Some(r)),
                // Parked for `PARK_GRACE` already: the state goes. A client sending its
                // next request at once (keep-alive under load) keeps it, as rebuilding it
                // for every request costs more than the request's own work.
                Poll::Pending if ctx.idle.parked() => {
                    if park_watch.expired(Some(PARK_GRACE), None, cx) {
                        Poll::Ready(None)
                    } else {
                        Poll::Pending
                    }
                }
                Poll::Pending => {
                    park_watch.active();
                    Poll::Pending
                }
            }
        })
        .await;
        match step {
            Some(r) => {
                if let Some(parts) = conn.into_parts() {
                    parts.io.into_inner().drain_unread();
                }
                break r.map_err(Ended::Http);
            }
            // Waiting for a request not begun: the state goes, what it had read but not
            // parsed is kept to be read again.
            None => match conn.into_parts() {
                Some(parts) => {
                    io = parts.io.into_inner();
                    io.hold(parts.read_buf);
                    service = parts.service;
                }
                None => break Ok(()),
            },
        }
    };
    crate::trace_event!(
        H1,
        2,
        "conn_end",
        "H1 connection from {} ended after {} request(s){}",
        ctx.client,
        ctx.requests.get(),
        result
            .as_ref()
            .err()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    let head_timeout = ctx.idle.head_timeout();
    if ctx.requests.get() == 0 || head_timeout.is_some() {
        let invalid =
            matches!(&result, Err(Ended::Http(e)) if e.is_parse() || e.is_parse_too_large());
        log_unserved(&ctx, invalid, head_timeout);
    }
}

/// The timer of a stopped connection's close once idle: a random moment of what is left of
/// `close-spread-time`'s window, or (without one) at once when `close_idle` says so; none
/// under `close-spread-time infinite`.
fn spread_timer(close_idle: bool) -> Option<Pin<Box<tokio::time::Sleep>>> {
    let delay = match crate::close_spread::on_stop() {
        crate::close_spread::OnStop::After(delay) => delay,
        crate::close_spread::OnStop::Default if close_idle => std::time::Duration::ZERO,
        _ => return None,
    };
    Some(Box::pin(tokio::time::sleep(delay)))
}

/// Whether the spread moment has come (the timer then goes).
fn poll_spread(
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut std::task::Context<'_>,
) -> bool {
    let due = timer
        .as_mut()
        .is_some_and(|t| t.as_mut().poll(cx).is_ready());
    if due {
        *timer = None;
    }
    due
}

/// Why a connection ended, when not by a clean close.
enum Ended {
    /// hyper's error while a request was on its way.
    Http(hyper::Error),
    /// The wait for a request's first bytes failed, or passed its limit.
    Waiting(std::io::Error),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Http(e) => e.fmt(f),
            Ended::Waiting(e) => e.fmt(f),
        }
    }
}

/// The transaction of a line the connection logs without a request (HAProxy's `sess_log`):
/// its addresses and dates; the wait counts from the accept, or from the end of the previous
/// response.
pub(crate) fn session_txn(ctx: &ConnCtx) -> Txn {
    let fe = ctx.frontend();
    let mut txn = Txn::new(ctx.shared.clone(), ctx.client, ctx.local, fe.name.clone());
    ctx.copy_connection_into(&mut txn);
    txn.request_date = ctx.accept_date;
    txn.start = ctx.last_end.get();
    txn.session_log = true;
    txn
}

/// A request that never came whole is logged as HAProxy does: `<BADREQ>` with status 400,
/// `PR` when it was invalid, `CR` when the client left first, and 408 `cR` when its head did
/// not arrive in time. `option dontlognull` silences those where nothing came, and so does
/// `option http-ignore-probes` on the connection's first request.
fn log_unserved(ctx: &ConnCtx, invalid: bool, timeout: Option<idle::HeadTimeout>) {
    let fe = ctx.frontend();
    let partial = timeout == Some(idle::HeadTimeout::Partial);
    let probe = fe.ignore_probes && ctx.requests.get() == 0;
    if !invalid && !partial && (fe.dontlognull || probe) {
        return;
    }
    let timeout = timeout.is_some();
    let mut txn = session_txn(ctx);
    txn.status = Some(if timeout { 408 } else { 400 });
    txn.term = if invalid {
        *b"PR"
    } else if timeout {
        *b"cR"
    } else {
        *b"CR"
    };
    txn.timings.request = -1;
    // An invalid request is a request error of the frontend and its listener (a late or
    // missing one is counted with the transaction, see `crate::api::count_txn`).
    if invalid {
        use crate::api::counters::Counter;
        fe.counters.add(Counter::ErrorsReq, 1);
        if let Some(l) = crate::api::listener_counters(fe, &txn) {
            l.add(Counter::ErrorsReq, 1);
        }
    }
    log_txn(&txn);
}
