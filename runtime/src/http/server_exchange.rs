//! One attempt at a server, out of the forwarding loop: a new connection settled on HTTP/2
//! where it may be, a request sent as an HTTP/2 stream (an upgrade as an extended CONNECT,
//! a CONNECT as a stream that becomes the tunnel), and the waits a killed session cuts short.

use super::prefetch::ClientBody;
use super::websocket::{self, Way};
use super::{ConnCtx, ReqBody};
use crate::cold::cold;
use crate::state::{BackendRt, ServerRt};
use crate::txn::Txn;
use crate::upstream::h2::{Connected, StreamError};
use crate::upstream::reuse::Failure;
use crate::upstream::{self, ExchangeError, ServerBody, ServerConn};
use http_body_util::Either;
use hyper::header::{HeaderValue, UPGRADE};
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::time::Duration;

/// Waits for `exchange` unless the session is killed first (then [`ExchangeError::Killed`]);
/// meanwhile the session counts as waiting for its server.
pub(super) async fn unless_killed<T, E: From<ExchangeError>>(
    ctx: &ConnCtx,
    exchange: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let Some(session) = &ctx.session else {
        return exchange.await;
    };
    let _waiting = session.waiting();
    tokio::select! {
        biased;
        () = session.killed() => {
            // The kill ends this request; the connection's next one starts afresh.
            session.revive();
            Err(ExchangeError::Killed.into())
        }
        answer = exchange => answer,
    }
}

/// A new connection to `server` at `addr`, settled on HTTP/2 where it may be; `None` when it
/// failed (`txn.backend_error` says why a handshake did).
#[allow(clippy::too_many_arguments)]
pub(super) async fn connect_fresh(
    txn: &mut Txn,
    server: &ServerRt,
    be: &BackendRt,
    h2_tune: &hapee_compiler::plan::h2::H2Tune,
    addr: SocketAddr,
    way: Option<Way>,
    upgrade: bool,
    may_multiplex: bool,
) -> Option<Connected> {
    let preface = server.send_proxy.as_ref().map(|p| p.header(txn));
    let tls_now = server.tls.as_ref().map(|t| t.current());
    let tls = tls_now.as_deref().map(|t| {
        let config = match way {
            Some(way) => way.tls_config(t),
            None if upgrade && !may_multiplex => &t.config_h1,
            None => &t.config,
        };
        (config, t.server_name(txn, addr))
    });
    // Early data to the server only when a rejection can be replayed
    // (`retry-on 0rtt-rejected`), as HAProxy has it.
    let early = be.retry_on.zero_rtt_rejected && !may_multiplex;
    let fresh = ServerConn::connect(
        addr,
        server.dial_for(txn.client, txn.request.as_ref().map(|r| &r.headers)),
        be.timeouts.connect,
        preface,
        tls,
        early,
    )
    .await;
    let fresh = match fresh {
        Ok(c) => {
            c.tune(be);
            txn.backend_error = None;
            txn.connect_timed_out = false;
            txn.connect_failed_at_once = false;
            if be.reuse == upstream::reuse::ReuseMode::Never || be.direct.is_some() {
                upstream::pool::SessionConns::opened_private(c, &server.idle)
            } else {
                upstream::pool::SessionConns::opened(c, &server.idle)
            }
        }
        Err(e) => {
            txn.backend_error = e.tls;
            txn.connect_timed_out = e.timed_out;
            txn.connect_failed_at_once = e.at_once;
            return None;
        }
    };
    if !may_multiplex {
        return Some(Connected::H1(fresh));
    }
    let forced = way.map_or(server.plan.mux.h2, Way::forced_h2);
    upstream::h2::settle(fresh, forced, h2_tune).await
}

/// How a request goes as an HTTP/2 stream: over TLS or not, as the extended CONNECT of a
/// protocol switch or not, with the client's `TE: trailers` or not.
pub(super) struct H2Way {
    pub tls: bool,
    pub handshake: bool,
    pub client_te: Option<HeaderValue>,
}

/// The server's HTTP/2 connection does not allow the extended CONNECT a protocol switch needs.
pub(super) struct NoExtendedConnect;

/// Sends the request as a stream of `h2` and waits for the response head. A request the
/// connection went away before taking gives its body back in `stream`, to go again.
/// Awaits `exchange` with the transaction lent to the script filters of a request body
/// streaming meanwhile (when there are some).
pub(super) async fn lending<F: std::future::Future>(txn: &mut Txn, exchange: F) -> F::Output {
    match txn.filters.lent.clone() {
        Some(slot) => cold(crate::script::lend_during(txn, &slot, exchange)).await,
        None => exchange.await,
    }
}

pub(super) async fn exchange_h2(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be: &BackendRt,
    h2: upstream::h2::H2Conn,
    request: Request<ReqBody>,
    how: H2Way,
    stream: &mut Option<ClientBody>,
) -> Result<Result<Response<Box<ServerBody>>, ExchangeError>, NoExtendedConnect> {
    txn.backend_tls = h2.tls.clone();
    txn.server_addrs = h2.addrs;
    txn.server_http_major = Some(2);
    let connect = request.method() == hyper::Method::CONNECT && !how.handshake;
    let mut request = upstream::h2::h2_request(request, how.tls, how.client_te.as_ref());
    // An upgrade goes as an extended CONNECT, which the server must have allowed.
    let protocol = request.headers().get(UPGRADE).cloned();
    let wait = be.timeouts.connect.unwrap_or(Duration::from_secs(5));
    if how.handshake {
        if !h2.extended_connect(wait).await {
            return Err(NoExtendedConnect);
        }
        websocket::to_extended_connect(&mut request);
    }
    let exchange = unless_killed(
        ctx,
        upstream::h2::exchange(&h2, request, txn.timeout_server.or(be.timeouts.server)),
    );
    let answer = lending(txn, exchange).await;
    Ok(match answer {
        Err(StreamError::Failed(ExchangeError::Killed)) => Err(ExchangeError::Killed),
        Ok(mut resp) => {
            if how.handshake {
                if let Some(on) = websocket::from_extended_connect(&mut resp, protocol) {
                    resp.body_mut().upgraded_stream(on);
                }
            } else if connect && resp.status().is_success() {
                let on = hyper::upgrade::on(&mut resp);
                resp.body_mut().upgraded_stream(on);
            }
            Ok(resp.map(Box::new))
        }
        Err(StreamError::Failed(e)) => Err(e),
        // The connection went away before it took the request (a GOAWAY, a close): nothing
        // reached the server, so it goes again on a new one.
        Err(StreamError::Unsent(req)) => {
            if let Either::Left(client) = req.into_body() {
                *stream = Some(client);
            }
            Err(ExchangeError::Server(Failure::Connect))
        }
    })
}
