//! HTTP/2 connections from clients (ALPN `h2` over TLS, or prior knowledge on a `proto h2`
//! listener): hyper's HTTP/2 server multiplexes the streams, each handed to the same request
//! path as an HTTP/1 request. The `tune.h2.*` settings are announced; reset floods
//! (CVE-2023-44487) and streams the client keeps erroring are cut by h2's limits; a graceful
//! stop sends GOAWAY and lets the open streams finish.

use crate::http::{handle, ConnCtx, IncomingBody};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::rc::Rc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Runs hyper's per-stream tasks on the worker thread's `LocalSet`.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Streams a client may reset before they are served, and stream errors it may cause, before
/// the connection is closed with GOAWAY.
const MAX_PENDING_RESETS: usize = 20;
const MAX_ERROR_RESETS: usize = 256;
/// The largest header block accepted, decoded (HPACK bombs stop here).
const MAX_HEADER_LIST: u32 = 64 * 1024;

/// Serves one HTTP/2 client connection until it closes or the proxy stops.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin + 'static>(
    stream: S,
    ctx: Rc<ConnCtx>,
    stopping: crate::stop::Stopping,
) {
    // `tcp-request connection` rules ran when the connection was accepted (`crate::accept`).
    let tune = &ctx.shared.h2;
    let mut builder = hyper::server::conn::http2::Builder::new(LocalExec);
    builder
        .header_table_size(tune.header_table_size)
        .initial_stream_window_size(tune.initial_window_size)
        .max_concurrent_streams(tune.max_concurrent_streams)
        .max_frame_size(tune.max_frame_size.clamp(16384, 16_777_215))
        .max_header_list_size(MAX_HEADER_LIST)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .max_local_error_reset_streams(MAX_ERROR_RESETS)
        .auto_date_header(false);
    let svc_ctx = ctx.clone();
    let service = hyper::service::service_fn(move |req| {
        handle(
            svc_ctx.clone(),
            super::with_host(req).map(IncomingBody::Hyper),
        )
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let idle = ctx.frontend().timeouts.client;
    tokio::select! {
        biased;
        _ = conn.as_mut() => {}
        _ = stopping.wait() => {
            conn.as_mut().graceful_shutdown();
            let _ = match idle {
                Some(limit) => tokio::time::timeout(limit, conn).await.ok(),
                None => Some(conn.await),
            };
        }
    }
}
