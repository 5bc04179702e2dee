//! HTTP/1.1 connections from clients: hyper parses and frames the client side (keep-alive,
//! pipelining, chunked bodies, `Expect: 100-continue`, HTTP/1.0, upgrades) and hands each
//! request to the request path in `crate::http`.

use crate::http::idle;
use crate::http::{handle, log_txn, ConnCtx, IncomingBody};
use crate::state::HttpConnMode;
use crate::txn::Txn;
use hyper_util::rt::TokioIo;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// Serves one client connection until it closes or the proxy stops.
pub async fn serve<S: idle::ClientStream + Send + 'static>(
    stream: S,
    ctx: Rc<ConnCtx>,
    stopping: crate::stop::Stopping,
) {
    // The `tcp-request connection` rules and the PROXY header are behind (`crate::accept`).
    let fe = ctx.frontend();
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
        .keep_alive(fe.conn_mode != Some(HttpConnMode::Close));
    // Before the first request: `timeout client` of inactivity, and `timeout http-request`
    // (else `client`) for the whole head. Between requests the inactivity limit becomes
    // `timeout http-keep-alive` (else `http-request`, else `client`).
    ctx.idle.await_head(fe.timeouts.client, fe.head_timeout());
    let stream = idle::IdleLimited::new(
        stream,
        ctx.idle.clone(),
        fe.late_head_page.clone(),
        fe.bad_request_page.clone(),
    );
    let svc_ctx = ctx.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        crate::trace_event!(
            H1,
            2,
            "rx_headers",
            "request headers: {} {} {:?}",
            req.method(),
            req.uri(),
            req.version()
        );
        handle(svc_ctx.clone(), req.map(IncomingBody::Hyper))
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        biased;
        r = conn.as_mut() => r,
        _ = stopping.wait() => {
            // A stopping process (the old one of a reload) does not close a connection under
            // a client that may be sending its next request: that request is served and
            // answered with `Connection: close` (see `crate::http::handle`), and an idle
            // connection ends at its keep-alive limit (or `hard-stop-after`). Only without
            // any limit to end the wait is an idle connection closed now.
            if fe.timeouts.http_keep_alive.or(fe.timeouts.http_request).or(fe.timeouts.client).is_none() {
                conn.as_mut().graceful_shutdown();
            }
            conn.await
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
        log_unserved(&ctx, result.err(), head_timeout);
    }
}

/// A request that never came whole is logged as HAProxy does: `<BADREQ>` with status 400,
/// `PR` when it was invalid, `CR` when the client left first, and 408 `cR` when its head did
/// not arrive in time. `option dontlognull` silences those where nothing came.
fn log_unserved(ctx: &ConnCtx, error: Option<hyper::Error>, timeout: Option<idle::HeadTimeout>) {
    let fe = ctx.frontend();
    let invalid = error
        .as_ref()
        .is_some_and(|e| e.is_parse() || e.is_parse_too_large());
    let partial = timeout == Some(idle::HeadTimeout::Partial);
    if !invalid && !partial && fe.dontlognull {
        return;
    }
    let timeout = timeout.is_some();
    let mut txn = Txn::new(ctx.shared.clone(), ctx.client, ctx.local, fe.name.clone());
    txn.accept_date = ctx.accept_date;
    txn.unix_listener = ctx.unix_listener;
    txn.tls = ctx.tls.clone();
    txn.request_date = ctx.accept_date;
    // The wait counts from the accept, or from the end of the previous response.
    txn.start = ctx.last_end.get();
    txn.status = Some(if timeout { 408 } else { 400 });
    txn.term = if invalid {
        *b"PR"
    } else if timeout {
        *b"cR"
    } else {
        *b"CR"
    };
    txn.timings.request = -1;
    txn.counters[0] = ctx.shared.active.load(Ordering::Relaxed);
    txn.counters[1] = fe.active.load(Ordering::Relaxed);
    log_txn(&txn);
}
