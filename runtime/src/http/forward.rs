//! Forwarding one request to a server: server choice, maxconn queue, connection (idle or
//! new), retries with `retry-on` and `option redispatch`, response rules, upgrades.

use super::prefetch::{Arrived, ClientBody};
use super::proxy_headers::{add_address_header, add_forwardfor, strip_hop_by_hop};
use super::server_conns::{joined_or_new, IdleWanted, MuxUse};
use super::server_exchange::{
    connect_fresh, exchange_h2, lending, unless_killed, H2Way, NoExtendedConnect,
};
use super::websocket::{self, Way};
use super::IncomingBody;
use super::{reply, ConnCtx, ReqBody, ResBody};
use crate::api::counters::Counter;
use crate::checks::observe::Seen;
use crate::cold::cold;
use crate::state::{BackendRt, HttpConnMode, ServerRt};
use crate::txn::Txn;
use crate::upstream::h2::Connected;
use crate::upstream::reuse::{may_reuse, should_retry, Attempts, Failure};
use crate::upstream::{self, ExchangeError};
use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::header::{HeaderValue, CONNECTION, UPGRADE};
use hyper::{Request, Response};
use std::sync::Arc;

/// What decides the server before the balancing: the server a `use-server` rule forces, the
/// server stickiness holds to, the hash key of hash-based algorithms, and the stickiness keys
/// to store once the server is known.
pub(crate) fn server_choice(
    be: &BackendRt,
    txn: &Txn,
) -> (
    Option<usize>,
    Option<usize>,
    Option<u64>,
    crate::tables::stick::Pending,
) {
    let key = hash_key(be, txn);
    let before = txn.fetch_at(hapee_compiler::registry::capabilities::at::BE_SET_SRV);
    // The first rule whose condition holds decides; a rendered name no server has ends the
    // search with no server forced, as in HAProxy.
    let forced = be
        .use_servers
        .iter()
        .find(|(_, c)| c.holds(txn))
        .and_then(|(target, _)| match target {
            crate::state::UseServer::Index(i) => Some(*i),
            crate::state::UseServer::Dynamic(format) => {
                let name = format.render(txn);
                be.server_position(&name)
            }
        });
    // `use-server` first, then stickiness; a stuck server that cannot take it is passed over.
    let (stuck, to_store) = if be.stickiness.is_empty() {
        (None, Vec::new())
    } else {
        be.stickiness
            .on_request(txn, |i| be.servers.get(i).is_some_and(|s| s.in_service()))
    };
    txn.fetch_at(before);
    (forced, stuck, key, to_store)
}

/// The load-balancing key of hash algorithms.
fn hash_key(be: &BackendRt, txn: &Txn) -> Option<u64> {
    use crate::balance::Algorithm as A;
    let req = txn.request.as_ref()?;
    match &be.algorithm {
        A::Source => Some(be.hashing.source_key(txn.client.ip())),
        A::Uri(opts) => {
            let target = super::target::written(txn, &req.uri, req.version);
            Some(be.hashing.key(opts.key(&target)))
        }
        A::UrlParam(p) => req
            .uri
            .query()?
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k == p)
            .map(|(_, v)| be.hashing.key(v.as_bytes())),
        A::Hdr(h) => req
            .headers
            .get(h.as_str())
            .map(|v| be.hashing.key(v.as_bytes())),
        _ => None,
    }
}

/// Keeps a server's load counters right for as long as its response is in flight.
pub struct ServerGuard {
    server: Arc<ServerRt>,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.server.release_conn();
    }
}

/// The request body as it is forwarded: an empty one is made replayable (`Full`) at once,
/// any other streams from the client.
pub(super) fn streamed_body(body: IncomingBody) -> ReqBody {
    use hyper::body::Body;
    if body.is_end_stream() {
        Either::Right(Full::new(Bytes::new()))
    } else {
        Either::Left(ClientBody::streaming(body))
    }
}

/// An empty body, for a request answered without its own.
pub(super) fn streamed_empty() -> ReqBody {
    Either::Right(Full::new(Bytes::new()))
}

/// The request for the server. Its headers are moved out of the transaction when no retry can
/// need them again (`last_use`), else copied.
fn outgoing(
    txn: &mut Txn,
    body: ReqBody,
    connection: Option<&'static str>,
    upgrade: bool,
    last_use: bool,
) -> Request<ReqBody> {
    let view = txn
        .request
        .as_mut()
        .expect("request present while forwarding");
    let mut req = Request::new(body);
    *req.method_mut() = view.method.clone();
    *req.version_mut() = view.version;
    // An HTTP/1 client's target goes as it came, absolute form included; the absolute
    // target an HTTP/2 or HTTP/3 request is given from its pseudo-headers goes in origin form.
    *req.uri_mut() = match view.uri.path_and_query() {
        Some(pq) if view.uri.scheme().is_some() && view.version >= hyper::Version::HTTP_2 => {
            hyper::Uri::from(pq.clone())
        }
        _ => view.uri.clone(),
    };
    *req.headers_mut() = if last_use {
        std::mem::take(&mut view.headers)
    } else {
        view.headers.clone()
    };
    if view.lines.get().is_some() {
        mark(&mut req, view.lines.clone());
    }
    // The target as written: one a rule wrote, else the client's.
    let unparsed = txn.rare.as_deref().and_then(|r| r.unparsed_target.as_ref());
    let written = [unparsed, txn.raw_target.as_ref()];
    if let Some(raw) = written
        .into_iter()
        .flatten()
        .find(|r| r.parsed == *req.uri())
    {
        mark(&mut req, raw.clone());
    }
    // A protocol switch keeps its `Connection: upgrade`; a CONNECT says what the proxy
    // wants of the server's connection like any request (HAProxy's HTTP/1 side leaves the
    // field alone only for an upgrade token).
    let switch = upgrade && view.method != hyper::Method::CONNECT;
    strip_hop_by_hop(req.headers_mut(), switch);
    if let (Some(token), false) = (connection, switch) {
        req.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static(token));
    }
    req
}

/// `http-send-name-header`, out of the forwarding code.
#[inline(never)]
fn send_name_header(
    request: &mut Request<ReqBody>,
    name: &hyper::header::HeaderName,
    server: &str,
) {
    let Ok(value) = HeaderValue::from_str(server) else {
        return;
    };
    // HAProxy deletes the client's lines of that name and adds its own after all the others:
    // the server sees the field last, not where the client had put it.
    let mut lines = request
        .extensions_mut()
        .remove::<super::header_order::Lines>()
        .unwrap_or_default();
    let headers = request.headers_mut();
    super::header_order::remove(headers, name);
    super::header_order::append(headers, &mut lines, name.clone(), value);
    if lines.get().is_some() {
        request.extensions_mut().insert(lines);
    }
}

/// Inserts an extension the request rarely carries, by a call laid out apart.
#[cold]
#[inline(never)]
fn mark<T: Clone + Send + Sync + 'static>(req: &mut Request<ReqBody>, ext: T) {
    req.extensions_mut().insert(ext);
}

/// The client's `TE` field, for a request that goes over HTTP/2, out of the forwarding code.
#[cold]
#[inline(never)]
fn client_te(txn: &Txn) -> Option<HeaderValue> {
    txn.request
        .as_ref()?
        .headers
        .get(hyper::header::TE)
        .cloned()
}

/// Whether `retry-on` names this response status: a call, as most backends name none.
#[inline(never)]
fn retries_status(be: &BackendRt, status: u16) -> bool {
    be.retry_on.statuses.contains(&status)
}

fn error_for(failure: Failure) -> (u16, [u8; 2]) {
    match failure {
        Failure::Connect | Failure::Refused => (503, *b"SC"),
        Failure::ResponseTimeout => (504, *b"sH"),
        // An invalid response is the proxy's finding (`PH`); a missing one the server's.
        Failure::JunkResponse => (502, *b"PH"),
        Failure::EmptyResponse => (502, *b"SH"),
    }
}

pub async fn forward(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be_index: usize,
    body: ReqBody,
    first: bool,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<ResBody> {
    let shared = &*ctx.shared;
    let fe = &shared.frontends[ctx.frontend];
    let be = &shared.backends[be_index];
    let files = [&be.errorfiles, &fe.errorfiles];
    super::unique_id::add_header(fe, txn);
    super::filters::on_request(txn);
    // Only a hit pays for the boxed future that answers it.
    if txn.filters.cache.hit.is_some() {
        if let Some(hit) = cold(super::cache::serve_hit(ctx, txn, be_index)).await {
            return hit;
        }
    }
    add_forwardfor(fe.forwardfor.as_ref(), be.forwardfor.as_ref(), txn);
    let local = txn.local.ip();
    add_address_header(fe.originalto.as_ref(), be.originalto.as_ref(), local, txn);
    let body = if shared.filters.has_scripts() {
        match cold(super::script_filters::on_request(
            txn, &be.name, body, &files,
        ))
        .await
        {
            Ok(body) => body,
            Err(answer) => return answer,
        }
    } else {
        body
    };
    // An upload under a bandwidth limit streams, paced, rather than being held to replay.
    let upload_limits = std::mem::take(&mut txn.filters.limits.upload);
    let (replay, mut stream) = match body {
        Either::Right(full) => (Some(full), None),
        Either::Left(mut client) if !upload_limits.is_empty() => {
            client.pace(upload_limits);
            (None, Some(client))
        }
        // Script filters see it as it streams: nothing is read ahead of them.
        Either::Left(client) if client.filtered() => (None, Some(client)),
        Either::Left(client) => match cold(client.read_arrived(shared.bufsize.max(8192))).await {
            Ok(Arrived::Whole(data)) => (Some(Full::new(data)), None),
            Ok(Arrived::Partial(client)) => (None, Some(client)),
            Err(_) => {
                txn.timings.request = -1;
                return super::refuse(txn, 400, &files);
            }
        },
    };
    // `disable-l7-retry` leaves only the retries of connections that failed.
    let replayable = replay.is_some() && !txn.l7_retry_disabled;
    let conn_mode = be
        .conn_mode
        .or(fe.conn_mode)
        .unwrap_or(HttpConnMode::KeepAlive);
    // An HTTP/1.0 request goes on as one (RFC 9110 §6.2: a proxy does not claim for its client
    // a version the client did not speak); its server connection is kept all the same.
    let http10 = txn
        .request
        .as_ref()
        .is_some_and(|r| r.version == hyper::Version::HTTP_10);
    // A chunked HTTP/1.0 request (RFC 9112 §6.1: framing a 1.0 server may not read) goes on
    // a server connection that ends after it and asks nothing more (but what `option
    // http-pretend-keepalive` says), as HAProxy forces it: a server that ignores the
    // chunking reads no body and never sees the chunks as a request.
    let chunked10 = http10
        && txn
            .request
            .as_ref()
            .is_some_and(|r| r.headers.contains_key(hyper::header::TRANSFER_ENCODING));
    let close_server = conn_mode != HttpConnMode::KeepAlive;
    // What the request's `Connection` says where its version's default is not what the
    // proxy wants, as HAProxy's HTTP/1 side writes it: `keep-alive` on an HTTP/1.0 request
    // whose connection is kept (or under `option http-pretend-keepalive`), `close` on an
    // HTTP/1.1 one whose connection is not.
    let connection = if chunked10 && !be.pretend_keepalive {
        None
    } else if close_server && !be.pretend_keepalive {
        (!http10).then_some("close")
    } else {
        http10.then_some("keep-alive")
    };
    let (by_rule, stuck, key, to_store) = server_choice(be, txn);
    // Persistence cookies come after `use-server` and before stickiness, as in HAProxy; the
    // server a cookie names may be down (`option persist`, `force-persist`).
    let by_cookie = be
        .persistence
        .as_ref()
        .and_then(|p| p.on_request(be, txn, by_rule.is_some()));
    // `option prefer-last-server`: the server of the session's own idle connection, after
    // what the rules, the cookie and stickiness say and before the balancing.
    // `max-keep-alive-queue`: unless that server has a free slot, only while fewer requests
    // than the limit wait in its queue.
    let last = be
        .prefer_last_server
        .then(|| ctx.conns.own_server(be_index))
        .flatten()
        .filter(|&i| {
            let server = &be.servers[i];
            // Only a server the balancing could choose, unlike what the rules assign.
            server.is_usable()
                && be.max_keep_alive_queue.is_none_or(|limit| {
                    !upstream::queue::is_full(server) || server.queue.current() < u64::from(limit)
                })
        });
    let forced = by_rule.or(by_cookie).or(stuck).or(last);
    // A CONNECT a rule turned into another method is that request, and its answer a plain
    // one, as HAProxy's server side writes and reads what the rules left.
    let client_upgrade = client_upgrade.filter(|_| {
        txn.request
            .as_ref()
            .is_some_and(|r| r.method == hyper::Method::CONNECT || r.headers.contains_key(UPGRADE))
    });
    let upgrade = client_upgrade.is_some();
    // A protocol switch by `Upgrade` (not a CONNECT tunnel) goes the way the server's `ws`
    // says; a WebSocket one also gets the handshake keys HTTP/2 does not carry.
    let handshake = upgrade
        && txn
            .request
            .as_ref()
            .is_some_and(|r| r.method != hyper::Method::CONNECT);
    let connect = upgrade && !handshake;
    let mut ws_keys = txn
        .request
        .as_ref()
        .filter(|r| handshake && websocket::is_websocket(&r.headers))
        .map(|r| websocket::Keys::of_request(&r.headers));
    let mut tries = Attempts::default();
    let started = crate::clock::now();
    // The server the queue time was taken for: a retry on the same server keeps it (HAProxy
    // times the queue when it assigns a server, and a retry turns around to the same one),
    // a redispatch to another takes it anew.
    let mut timed_for: Option<usize> = None;
    loop {
        let (si, server, addr) = if let Some(direct) = &be.direct {
            let Some(addr) = direct.addr(txn.local) else {
                txn.term = *b"SC";
                return reply::error_in(503, &files, txn);
            };
            (upstream::direct::INDEX, direct.server.clone(), addr)
        } else {
            // A retry goes back to its server unless it redispatches, as in HAProxy. What a
            // rule, a cookie or stickiness assigned goes to any server up, draining or not.
            let Some(si) = tries
                .kept()
                .or(forced)
                .filter(|&i| {
                    be.servers[i].in_service() || (Some(i) == by_cookie && tries.avoid != Some(i))
                })
                .or_else(|| be.pick(key, tries.avoid))
            else {
                txn.term = *b"SC";
                return reply::error_in(503, &files, txn);
            };
            let server = be.servers[si].clone();
            txn.server = Some(server.name.clone());
            if let Some(s) = &ctx.session {
                s.server(server.name.clone());
            }
            let Some(addr) = server.addr_toward(txn.local) else {
                // DNS took the address away since the pick: pick again, avoiding it.
                if tries.count < be.retries.max(1) {
                    tries.failed(si, true);
                    continue;
                }
                return reply::error_in(503, &files, txn);
            };
            // `redir <prefix>`: GET and HEAD requests are sent there instead.
            if let Some(prefix) = &server.plan.tuning.redirect_prefix {
                if txn
                    .request
                    .as_ref()
                    .is_some_and(|r| matches!(r.method, hyper::Method::GET | hyper::Method::HEAD))
                {
                    server.count_session();
                    txn.term = *b"LC";
                    return super::redirect::to_server(prefix, txn);
                }
            }
            (si, server, addr)
        };
        // A direct target's connections stay with their session (HAProxy's private ones), and
        // so do those bound to a client's address (`source … usesrc`).
        // A server reached on the client's own port serves that port's streams only.
        let private = be.direct.is_some() || server.source.use_src.is_some() || server.maps_ports();
        // Queue for a connection slot when the server is at its maxconn.
        let limit = upstream::queue::limit(be);
        let unassigned = upstream::queue::unassigned(be, forced, key.is_some());
        let entry = upstream::queue::QueueEntry::new(&server, be, unassigned);
        txn.queue_wait = Some((started, unassigned, entry));
        let taken = upstream::queue::take(&server, be, limit, txn.priority, entry).await;
        let slot = match taken {
            Ok(slot) => {
                txn.queue_wait = None;
                txn.queue_pos = slot.position;
                slot.permit
            }
            Err(slot) => {
                txn.queue_wait = None;
                txn.queue_pos = slot.position;
                txn.timings.queue = (crate::clock::now() - started).as_millis() as i64;
                txn.term = *b"sQ";
                if unassigned {
                    txn.server = None;
                }
                return reply::error_in(503, &files, txn);
            }
        };
        let pool_key = (be_index, si);
        // `proto fcgi` in a backend with `use-fcgi-app`: FastCGI, one request per connection
        // at a time, kept for the next one with `option keep-conn`.
        let fcgi = be.fcgi.as_ref().filter(|_| server.plan.mux.fcgi);
        // A `send-proxy` server's connections are pooled as any other, each found again only
        // by a request that would send the same PROXY header (see `carries_proxy_line`).
        let shared_reuse = may_reuse(be.reuse, first, &be.retry_on).filter(|_| !private);
        let mux = &server.plan.mux;
        let way = handshake.then(|| match &server.tls {
            Some(t) => t.peek(|c| Way::of(mux, Some(c))),
            None => Way::of(mux, None),
        });
        // A CONNECT goes the server's usual way: over HTTP/2, a stream of its own that
        // becomes the tunnel, as HAProxy's h2 mux carries one.
        let may_multiplex = match way {
            Some(way) => way.may_multiplex(),
            None => {
                (mux.h2 || server.tls.as_ref().is_some_and(|t| t.peek(|c| c.offers_h2)))
                    && (!upgrade || connect)
            }
        };
        // A multiplexed connection with room for a stream serves the requests of the thread
        // that `http-reuse` lets join it (HAProxy's "available" connections), unless
        // connections are private (then the session keeps its own) or closed.
        let mux_use = MuxUse::of(be, &server, may_multiplex, way, close_server, private);
        // A WebSocket stream takes an idle connection only where it speaks the server's usual
        // protocol (`Way::may_reuse`): over HTTP/2 a stream of a shared connection, over
        // HTTP/1.1 a connection of its own, which the switch then keeps. Other upgrades and
        // CONNECT tunnels open their own.
        let ws_reuse = way.filter(|_| {
            txn.request
                .as_ref()
                .is_some_and(|r| websocket::is_websocket(&r.headers))
                && match &server.tls {
                    Some(t) => t.peek(|c| Way::may_reuse(mux, Some(c))),
                    None => Way::may_reuse(mux, None),
                }
        });
        // The usual case first, in line; the others out of it.
        let multiplexing = may_multiplex && (mux_use.shared || mux_use.own);
        let proxy_line = server.send_proxy.as_ref().map(|p| p.header(txn));
        let idle = if fcgi.is_none() && ws_reuse.is_none() && !upgrade && !multiplexing {
            ctx.conns
                .take(pool_key, shared_reuse, &server.idle, proxy_line.as_deref())
                // A transparent session's next request may go elsewhere.
                .filter(|c| !private || c.peer_addr() == Some(addr))
                .map(Connected::H1)
        } else {
            IdleWanted {
                fcgi,
                ws_reuse,
                upgrade,
                mux: mux_use,
                shared_reuse,
                reuse: be.reuse,
                private,
                addr,
                proxy_line: proxy_line.as_deref(),
            }
            .take(ctx, pool_key, &server)
        };
        // Or a connection being established that it may wait on (counted as a reuse, as
        // HAProxy counts a stream attached to a connection it did not open).
        let joined = idle
            .is_none()
            .then(|| mux_use.join(ctx, pool_key))
            .flatten();
        let reused = idle.is_some() || joined.is_some();
        let counted = if reused {
            Counter::ServerReuses
        } else {
            Counter::ServerConnects
        };
        be.counters.add(counted, 1);
        server.counters.add(counted, 1);
        // One clock read per phase boundary: each ends one timing and starts the next.
        let connect_start = crate::clock::now();
        if timed_for != Some(si) {
            txn.timings.queue = (connect_start - started).as_millis() as i64;
            timed_for = Some(si);
        }
        // The stream counts on its server from the connect on (HAProxy's `cur_sess`: `%sc`,
        // `scur`, `smax`), a failed attempt giving its place back.
        server.take_conn();
        let mut guard = ServerGuard {
            server: server.clone(),
            _slot: None,
        };
        let conn = match idle {
            Some(c) => Some(c),
            None => {
                let dial = connect_fresh(
                    txn,
                    &server,
                    be,
                    &shared.h2,
                    addr,
                    way,
                    upgrade,
                    may_multiplex,
                );
                cold(joined_or_new(
                    ctx, pool_key, &server, be, mux_use, joined, dial,
                ))
                .await
            }
        };
        if !reused {
            server.observed(if conn.is_some() {
                Seen::ConnectOk
            } else {
                Seen::ConnectFailed
            });
        }
        let Some(conn) = conn else {
            drop((slot, guard));
            if should_retry(
                &be.retry_on,
                Failure::Connect,
                tries.count,
                be.retries,
                true,
            ) {
                tries.failed(si, be.redispatch);
                tries.report(txn);
                let took = crate::clock::now() - connect_start;
                if let Some(pause) = Attempts::turnaround(be, took, txn.connect_failed_at_once) {
                    cold(tokio::time::sleep(pause)).await;
                }
                continue;
            }
            let (status, term) = error_for(Failure::Connect);
            txn.term = if txn.connect_timed_out { *b"sC" } else { term };
            return reply::error_in(status, &files, txn);
        };
        let response_start = crate::clock::now();
        txn.timings.connect = (response_start - connect_start).as_millis() as i64;
        if !to_store.is_empty() && !private && !server.non_stick() {
            be.stickiness.store(&to_store, si);
        }
        let this_body = match (&replay, stream.take()) {
            (Some(full), _) => Either::Right(full.clone()),
            (None, Some(client)) => Either::Left(client),
            (None, None) => Either::Right(Full::new(Bytes::new())),
        };
        // Only failures after the request left (empty or junk response, timeout, a retryable
        // status) resend it; without those in retry-on, this is its only use.
        let resend_possible = tries.count < be.retries
            && (be.retry_on.empty_response
                || be.retry_on.junk_response
                || be.retry_on.response_timeout
                || !be.retry_on.statuses.is_empty());
        // HTTP/2 only forwards the client's `TE: trailers`.
        let client_te = match conn {
            Connected::H2(_) => client_te(txn),
            _ => None,
        };
        // The FastCGI parameters come from the request as the rules left it.
        let fcgi_params = match fcgi {
            Some(app) => {
                use hyper::body::Body;
                match app.params(txn, this_body.size_hint().exact()) {
                    Some(p) => Some(p),
                    None => {
                        txn.term = *b"PH";
                        return reply::error_in(500, &files, txn);
                    }
                }
            }
            None => None,
        };
        let mut request = outgoing(txn, this_body, connection, upgrade, !resend_possible);
        // `http-send-name-header`: the server this attempt goes to, whatever the request said.
        if let (Some(name), None) = (&be.send_name_header, &be.direct) {
            send_name_header(&mut request, name, &server.name);
        }
        server.count_session();
        guard._slot = slot;
        let head_limit = shared.bufsize.max(8192);
        let multiplexed = matches!(conn, Connected::H2(_)) || fcgi.is_some();
        let result = match (conn, fcgi) {
            (Connected::H1(conn), None) => {
                txn.backend_tls = conn.tls_info().map(Arc::new);
                txn.server_addrs = conn.addrs();
                txn.server_http_major = Some(1);
                if let Some(case) = &be.h1_case_adjust {
                    mark(
                        &mut request,
                        crate::http::case_adjust::ToServer(case.clone()),
                    );
                }
                if let Some(keys) = ws_keys.as_mut() {
                    keys.complete_request(request.headers_mut());
                }
                // Pinned where it is made: a future not yet started is moved whole, and
                // this one is large.
                let exchange = std::pin::pin!(upstream::exchange(
                    conn,
                    upstream::Outgoing::new(request),
                    upstream::Limits {
                        close: close_server || chunked10,
                        head_size: head_limit,
                        timeout: txn.timeout_server.or(be.timeouts.server),
                        lenient: be.accept_invalid_response,
                    },
                ));
                let answer = lending(txn, unless_killed(ctx, exchange)).await;
                match (answer, &ws_keys) {
                    (Ok(resp), Some(keys))
                        if !keys.server_answer_valid(resp.status(), resp.headers()) =>
                    {
                        Err(ExchangeError::Server(Failure::JunkResponse))
                    }
                    (answer, _) => answer,
                }
            }
            (Connected::H1(conn), Some(app)) => {
                txn.server_addrs = conn.addrs();
                txn.server_http_major = Some(1);
                let (parts, body) = request.into_parts();
                let exchange = cold(unless_killed(
                    ctx,
                    upstream::fcgi::exchange(
                        conn,
                        app.clone(),
                        fcgi_params.unwrap_or_default(),
                        body,
                        parts.method,
                        txn.timeout_server.or(be.timeouts.server),
                    ),
                ));
                lending(txn, exchange).await.map(|resp| resp.map(Box::new))
            }
            (Connected::H2(h2), _) => {
                let sent = cold(exchange_h2(
                    ctx,
                    txn,
                    be,
                    h2,
                    request,
                    H2Way {
                        tls: server.tls.is_some(),
                        handshake,
                        client_te,
                    },
                    &mut stream,
                ))
                .await;
                match sent {
                    Ok(answer) => answer,
                    Err(NoExtendedConnect) => {
                        drop(guard);
                        txn.term = *b"SH";
                        return reply::error_in(502, &files, txn);
                    }
                }
            }
        };
        let failure = match result {
            // A switch of protocols nobody asked for is an invalid response, as in HAProxy.
            Ok(resp) if resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS && !upgrade => {
                Failure::JunkResponse
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                server.observed(Seen::Response(status));
                if replayable && tries.count < be.retries && retries_status(be, status) {
                    tries.failed(si, be.redispatch);
                    tries.report(txn);
                    continue;
                }
                txn.timings.response = (crate::clock::now() - response_start).as_millis() as i64;
                // A multiplexed connection never left its pool; a FastCGI one returns to it
                // when the application ends the request and keeps the connection.
                let fcgi_kept = fcgi.is_some_and(|app| app.keep_conn);
                let home = (!close_server && !upgrade && (!multiplexed || fcgi_kept)).then(|| {
                    upstream::IdleHome {
                        session: ctx.conns.clone(),
                        server: pool_key,
                        shared: be.reuse != crate::upstream::reuse::ReuseMode::Never && !private,
                        idle: server.idle.clone(),
                        max_reuse: mux.max_reuse.filter(|_| fcgi_kept),
                    }
                });
                let upgrade = client_upgrade.map(|u| (u, ws_keys));
                return Box::into_pin(super::boxed_in_place(|| {
                    super::respond::respond(ctx, txn, be_index, resp, guard, home, upgrade)
                }))
                .await;
            }
            // The client went while its body was being forwarded: nothing is sent back, and
            // the request is logged as HAProxy logs it, with no status, `CD`.
            Err(ExchangeError::ClientAborted | ExchangeError::ClientShut)
                if super::script_filters::upload_failed(txn) =>
            {
                drop(guard);
                txn.timings.response = -1;
                return super::script_filters::failed_upload(txn, &files);
            }
            Err(ExchangeError::ClientAborted) => {
                txn.term = *b"CD";
                txn.timings.response = -1;
                return reply::aborted();
            }
            // An HTTP/2 client whose connection closed cleanly mid-upload: HAProxy's stream
            // sees its input end before the body did, and answers (to no one) its 400, the
            // stream ending `CH`.
            Err(ExchangeError::ClientShut) => {
                drop(guard);
                txn.timings.response = -1;
                let mut page = reply::error_in(400, &files, txn);
                txn.term = *b"CH";
                // Counted whole as it is queued, as HAProxy counts it: the stream it would
                // go out on is closed, so its body is never read.
                let body = hyper::body::Body::size_hint(page.body()).exact();
                txn.bytes_out = super::head_len(&page) + body.unwrap_or(0);
                *page.body_mut() = reply::full(bytes::Bytes::new());
                return page;
            }
            // A killed session (`shutdown session`, `shutdown sessions server`): HAProxy's
            // 502, logged `KH`.
            Err(ExchangeError::Killed) => {
                drop(guard);
                let cause = ctx.session.as_ref().map_or(b'K', |s| s.kill_cause());
                txn.term = [cause, b'H'];
                return reply::error_in(502, &files, txn);
            }
            // A reused connection the server had closed fails like an empty response.
            Err(ExchangeError::Server(Failure::JunkResponse)) if reused => Failure::EmptyResponse,
            Err(ExchangeError::Server(f)) => {
                if f == Failure::Refused {
                    txn.timings.connect = -1;
                }
                server.observed(match f {
                    Failure::Refused => Seen::ConnectFailed,
                    Failure::ResponseTimeout => Seen::ReadTimeout,
                    Failure::EmptyResponse => Seen::ServerClosed,
                    _ => Seen::InvalidResponse,
                });
                f
            }
        };
        drop(guard);
        if should_retry(&be.retry_on, failure, tries.count, be.retries, replayable) {
            tries.failed(si, be.redispatch);
            tries.report(txn);
            if failure == Failure::Refused {
                // A failed connection, waited on as one that failed at once.
                let took = crate::clock::now() - connect_start;
                if let Some(pause) = Attempts::turnaround(be, took, false) {
                    cold(tokio::time::sleep(pause)).await;
                }
            }
            continue;
        }
        let (status, term) = error_for(failure);
        txn.term = term;
        let mut page = reply::error_in(status, &files, txn);
        if failure == Failure::EmptyResponse {
            // HAProxy closes the client's connection after this one.
            page.extensions_mut().insert(reply::CloseAfter);
        }
        return page;
    }
}
