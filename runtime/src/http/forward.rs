//! Forwarding one request to a server: server choice, maxconn queue, connection (idle or
//! new), retries with `retry-on` and `option redispatch`, response rules, upgrades.

use super::{reply, ConnCtx, ReqBody, ResBody};
use crate::rules::{self, Verdict};
use crate::state::{BackendRt, HttpConnMode, ServerRt};
use crate::txn::{ResponseView, Txn};
use crate::upstream::reuse::{may_reuse, should_retry, Attempts, Failure};
use crate::upstream::{self, ExchangeError, ServerBody, ServerConn};
use bytes::Bytes;
use hapee_compiler::registry::RuleSet;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, TE, TRAILER, UPGRADE};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Headers that describe one connection, never forwarded as they are.
static HOP_BY_HOP: [HeaderName; 6] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    TE,
    TRAILER,
    UPGRADE,
];

/// Removes the hop-by-hop headers, and those the `Connection` header names (RFC 9110 §7.6.1).
/// An upgrade keeps `Upgrade`, with `Connection: upgrade`.
fn strip_hop_by_hop(h: &mut hyper::HeaderMap, keep_upgrade: bool) {
    // One pass over the (few) names finds which are present, so that only those are looked
    // up again to be removed.
    let mut present = [false; 6];
    for name in h.keys() {
        if let Some(i) = HOP_BY_HOP.iter().position(|hop| hop == name) {
            present[i] = true;
        }
    }
    if present.iter().any(|&p| p) {
        let listed: Vec<HeaderName> = h
            .get_all(CONNECTION)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(|token| token.trim_ascii())
            .filter(|t| {
                !t.is_empty()
                    && !t.eq_ignore_ascii_case(b"close")
                    && !t.eq_ignore_ascii_case(b"keep-alive")
                    && !t.eq_ignore_ascii_case(b"upgrade")
            })
            .filter_map(|t| HeaderName::from_bytes(t).ok())
            .collect();
        for name in listed {
            h.remove(name);
        }
        for (hop, here) in HOP_BY_HOP.iter().zip(present) {
            if here && !(keep_upgrade && (hop == UPGRADE || hop == CONNECTION)) {
                h.remove(hop);
            }
        }
    }
    if keep_upgrade {
        h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// The load-balancing key of hash algorithms.
fn hash_key(be: &BackendRt, txn: &Txn) -> Option<u64> {
    use crate::balance::Algorithm as A;
    let req = txn.request.as_ref()?;
    match &be.algorithm {
        A::Source => Some(be.hashing.source_key(txn.client.ip())),
        A::Uri => Some(be.hashing.key(req.uri.path().as_bytes())),
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

fn add_forwardfor(ff: &hapee_compiler::plan::ForwardFor, txn: &mut Txn) {
    let ip = txn.client.ip();
    if let Some(except) = ff.except.as_deref().and_then(crate::acl::Cidr::parse) {
        if except.contains(ip) {
            return;
        }
    }
    let Some(req) = txn.request.as_mut() else {
        return;
    };
    if ff.if_none && req.headers.contains_key(ff.header.as_str()) {
        return;
    }
    if let (Ok(name), Ok(value)) = (
        hyper::header::HeaderName::from_bytes(ff.header.as_bytes()),
        HeaderValue::from_str(&ip.to_string()),
    ) {
        req.headers.append(name, value);
    }
}

/// Keeps a server's load counters right for as long as its response is in flight.
pub struct ServerGuard {
    server: Arc<ServerRt>,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.server.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The request body as it is forwarded: an empty one is made replayable (`Full`) at once,
/// any other streams from the client.
pub(super) fn streamed_body(body: Incoming) -> ReqBody {
    use hyper::body::Body;
    if body.is_end_stream() {
        Either::Right(Full::new(Bytes::new()))
    } else {
        Either::Left(body)
    }
}

/// Reads the whole request body (`option http-buffer-request`), up to `limit` bytes; a larger
/// one is refused with 413.
pub(super) async fn buffered_body(body: Incoming, limit: usize) -> Result<Bytes, u16> {
    http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| 413)
}

/// The request for the server. Its headers are moved out of the transaction when no retry can
/// need them again (`last_use`), else copied.
fn outgoing(
    txn: &mut Txn,
    body: ReqBody,
    close: bool,
    upgrade: bool,
    last_use: bool,
) -> Request<ReqBody> {
    let view = txn
        .request
        .as_mut()
        .expect("request present while forwarding");
    let mut req = Request::new(body);
    *req.method_mut() = view.method.clone();
    *req.uri_mut() = match view.uri.path_and_query() {
        Some(pq) if view.uri.scheme().is_some() => hyper::Uri::from(pq.clone()),
        _ => view.uri.clone(),
    };
    *req.headers_mut() = if last_use {
        std::mem::take(&mut view.headers)
    } else {
        view.headers.clone()
    };
    strip_hop_by_hop(req.headers_mut(), upgrade);
    if close && !upgrade {
        req.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    req
}

fn error_for(failure: Failure) -> (u16, [u8; 2]) {
    match failure {
        Failure::Connect => (503, *b"SC"),
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
    let shared = ctx.shared.clone();
    let fe = &shared.frontends[ctx.frontend];
    let be = &shared.backends[be_index];
    let files = [&be.errorfiles, &fe.errorfiles];
    if let Some(ff) = be.forwardfor.as_ref().or(fe.forwardfor.as_ref()) {
        add_forwardfor(ff, txn);
    }
    let (replay, mut stream) = match body {
        Either::Right(full) => (Some(full), None),
        Either::Left(incoming) => (None, Some(incoming)),
    };
    let replayable = replay.is_some();
    let conn_mode = be
        .conn_mode
        .or(fe.conn_mode)
        .unwrap_or(HttpConnMode::KeepAlive);
    let close_server = conn_mode != HttpConnMode::KeepAlive;
    let key = hash_key(be, txn);
    let before = txn.fetch_at(hapee_compiler::registry::capabilities::at::BE_SET_SRV);
    let forced = be
        .use_servers
        .iter()
        .find(|(_, c)| c.holds(txn))
        .map(|(i, _)| *i);
    // `use-server` first, then stickiness; a stuck server that cannot take it is passed over.
    let (stuck, to_store) = if be.stickiness.is_empty() {
        (None, Vec::new())
    } else {
        be.stickiness
            .on_request(txn, |i| be.servers.get(i).is_some_and(|s| s.is_usable()))
    };
    let forced = forced.or(stuck);
    txn.fetch_at(before);
    let upgrade = client_upgrade.is_some();
    let mut tries = Attempts::default();
    let started = crate::clock::now();
    loop {
        let Some(si) = forced
            .filter(|&i| be.servers[i].is_usable())
            .or_else(|| be.pick(key, tries.avoid))
        else {
            txn.term = *b"SC";
            return reply::error(503, &files);
        };
        let server = be.servers[si].clone();
        txn.server = Some(server.name.clone());
        let Some(addr) = server.addr else {
            return reply::error(503, &files);
        };
        // Queue for a connection slot when the server is at its maxconn. Waiting (like
        // connecting below) is boxed, so that the request's future stays small to move.
        let slot = match &server.slots {
            Some(sem) => {
                let wait = be
                    .timeouts
                    .queue
                    .or(be.timeouts.connect)
                    .unwrap_or(Duration::from_secs(5));
                match Box::pin(tokio::time::timeout(wait, sem.clone().acquire_owned())).await {
                    Ok(Ok(p)) => Some(p),
                    _ => {
                        txn.term = *b"sQ";
                        return reply::error(503, &files);
                    }
                }
            }
            None => None,
        };
        let pool_key = (be_index, si);
        let shared_reuse = may_reuse(be.reuse, first, &be.retry_on);
        let idle = if upgrade {
            None
        } else {
            ctx.conns.take(pool_key, shared_reuse)
        };
        let reused = idle.is_some();
        // One clock read per phase boundary: each ends one timing and starts the next.
        let connect_start = crate::clock::now();
        txn.timings.queue = (connect_start - started).as_millis() as i64;
        let conn = match idle {
            Some(c) => Some(c),
            None => Box::pin(ServerConn::connect(addr, be.timeouts.connect)).await,
        };
        let Some(conn) = conn else {
            drop(slot);
            if should_retry(
                &be.retry_on,
                Failure::Connect,
                tries.count,
                be.retries,
                true,
            ) {
                tries.failed(si, be.redispatch);
                txn.retries = tries.count;
                continue;
            }
            let (status, term) = error_for(Failure::Connect);
            txn.term = term;
            return reply::error(status, &files);
        };
        let response_start = crate::clock::now();
        txn.timings.connect = (response_start - connect_start).as_millis() as i64;
        if !to_store.is_empty() {
            be.stickiness.store(&to_store, si);
        }
        let this_body = match (&replay, stream.take()) {
            (Some(full), _) => Either::Right(full.clone()),
            (None, Some(incoming)) => Either::Left(incoming),
            (None, None) => Either::Right(Full::new(Bytes::new())),
        };
        // Only failures after the request left (empty or junk response, timeout, a retryable
        // status) resend it; without those in retry-on, this is its only use.
        let resend_possible = tries.count < be.retries
            && (be.retry_on.empty_response
                || be.retry_on.junk_response
                || be.retry_on.response_timeout
                || !be.retry_on.statuses.is_empty());
        let request = outgoing(txn, this_body, close_server, upgrade, !resend_possible);
        txn.counters[2] = be.active.load(Ordering::Relaxed);
        txn.counters[3] = server.active.load(Ordering::Relaxed);
        server.active.fetch_add(1, Ordering::Relaxed);
        server.total.fetch_add(1, Ordering::Relaxed);
        let guard = ServerGuard {
            server: server.clone(),
            _slot: slot,
        };
        let head_limit = shared.bufsize.max(8192);
        let result = upstream::exchange(
            conn,
            upstream::Outgoing::new(request),
            upstream::Limits {
                close: close_server,
                head_size: head_limit,
                timeout: be.timeouts.server,
            },
        )
        .await;
        let failure = match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if be.retry_on.statuses.contains(&status) && replayable && tries.count < be.retries
                {
                    tries.failed(si, be.redispatch);
                    txn.retries = tries.count;
                    continue;
                }
                txn.timings.response = (crate::clock::now() - response_start).as_millis() as i64;
                let home = (!close_server && !upgrade).then(|| upstream::IdleHome {
                    session: ctx.conns.clone(),
                    server: pool_key,
                    shared: be.reuse != crate::upstream::reuse::ReuseMode::Never,
                });
                return respond(ctx, txn, be_index, resp, guard, home, client_upgrade);
            }
            Err(ExchangeError::ClientAborted) => {
                txn.term = *b"CH";
                return reply::error(400, &files);
            }
            // A reused connection the server had closed fails like an empty response.
            Err(ExchangeError::Server(Failure::JunkResponse)) if reused => Failure::EmptyResponse,
            Err(ExchangeError::Server(f)) => f,
        };
        drop(guard);
        if should_retry(&be.retry_on, failure, tries.count, be.retries, replayable) {
            tries.failed(si, be.redispatch);
            txn.retries = tries.count;
            continue;
        }
        let (status, term) = error_for(failure);
        txn.term = term;
        return reply::error(status, &files);
    }
}

fn respond(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be_index: usize,
    resp: Response<ServerBody>,
    guard: ServerGuard,
    idle_home: Option<upstream::IdleHome>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<ResBody> {
    let shared = ctx.shared.clone();
    let fe = &shared.frontends[ctx.frontend];
    let be = &shared.backends[be_index];
    let files = [&be.errorfiles, &fe.errorfiles];
    let switching = resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS;
    let (mut parts, mut body) = resp.into_parts();
    txn.captured_response = super::capture(&parts.headers, &fe.capture_response);
    txn.response = Some(ResponseView {
        status: parts.status.as_u16(),
        headers: std::mem::take(&mut parts.headers),
    });
    let mut ruleset: Vec<&[rules::CompiledRule]> = Vec::new();
    if !crate::route::is_own_backend(&shared, fe, be_index) {
        ruleset.push(&be.rules);
    }
    ruleset.push(&fe.rules);
    for rules in ruleset {
        match rules::run(rules, RuleSet::HttpResponse, txn) {
            Verdict::Continue => {}
            Verdict::Reply(r) => return reply::reply(r, txn, &files),
            _ => {
                txn.term = *b"PH";
                return reply::error(502, &files);
            }
        }
    }
    if !be.stickiness.is_empty() {
        if let Some(si) = be
            .servers
            .iter()
            .position(|s| Some(&s.name) == txn.server.as_ref())
        {
            be.stickiness.store(&be.stickiness.on_response(txn), si);
        }
    }
    let view = txn.response.take().expect("response view set above");
    parts.status = hyper::StatusCode::from_u16(view.status).unwrap_or(parts.status);
    // HAProxy answers in HTTP/1.1 whatever the server spoke.
    parts.version = hyper::Version::HTTP_11;
    parts.headers = view.headers;
    strip_hop_by_hop(&mut parts.headers, switching);
    // The headers now belong to the response on its way out; logs only need the status.
    txn.response = Some(ResponseView {
        status: view.status,
        headers: hyper::HeaderMap::new(),
    });
    if let (Some(client), true) = (client_upgrade, switching) {
        if let Some(server) = body.take_upgraded() {
            tokio::task::spawn_local(tunnel(client, server, be.timeouts.tunnel, guard));
        }
        return Response::from_parts(parts, super::reply::full(Bytes::new()));
    }
    body.attach(idle_home, guard);
    Response::from_parts(parts, Either::Right(body))
}

/// A WebSocket (or any `Upgrade`) tunnel: bytes both ways until one side closes or `timeout
/// tunnel` passes without traffic.
async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    (s, early): (tokio::net::TcpStream, Bytes),
    idle: Option<Duration>,
    _guard: ServerGuard,
) {
    use tokio::io::AsyncWriteExt;
    let Ok(c) = client.await else {
        return;
    };
    let mut c = TokioIo::new(c);
    // What the server sent right after its 101 belongs to the new protocol.
    if !early.is_empty() && c.write_all(&early).await.is_err() {
        return;
    }
    let limits = crate::tcp::Limits {
        a_idle: idle,
        b_idle: idle,
        ..Default::default()
    };
    crate::tcp::pipe_both(c, s, limits).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&'static str, &'static str)]) -> hyper::HeaderMap {
        let mut h = hyper::HeaderMap::new();
        for (n, v) in list {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    fn names(h: &hyper::HeaderMap) -> Vec<&str> {
        let mut v: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_lists_are_removed() {
        let mut h = headers(&[
            ("host", "a"),
            ("connection", "keep-alive, X-Trace , close"),
            ("keep-alive", "timeout=5"),
            ("x-trace", "1"),
            ("te", "trailers"),
            ("x-kept", "yes"),
        ]);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(names(&h), ["host", "x-kept"]);
        // Nothing to remove: the map is left as it is.
        let mut h = headers(&[("host", "a"), ("accept", "*/*")]);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(names(&h), ["accept", "host"]);
    }

    #[test]
    fn an_upgrade_keeps_upgrade_with_connection_upgrade() {
        let mut h = headers(&[
            ("connection", "Upgrade, x-private"),
            ("upgrade", "websocket"),
            ("x-private", "1"),
            ("proxy-connection", "keep-alive"),
        ]);
        strip_hop_by_hop(&mut h, true);
        assert_eq!(names(&h), ["connection", "upgrade"]);
        assert_eq!(h[CONNECTION], "upgrade");
        assert_eq!(h[UPGRADE], "websocket");
    }
}
