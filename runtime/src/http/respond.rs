//! The server's response on its way to the client: response rules and persistence, the
//! version and framing an HTTP/1 client is answered in, header order, filters, and the
//! switch to a tunnel after a 101 or a 2xx to CONNECT.

use super::forward::ServerGuard;
use super::proxy_headers::strip_hop_by_hop;
use super::websocket;
use super::{reply, ConnCtx, ResBody};
use crate::cold::cold;
use crate::txn::{ResponseView, Txn};
use crate::upstream::{self, ServerBody};
use bytes::Bytes;
use http_body_util::Either;
use hyper::header::{HeaderValue, CONNECTION};
use hyper::Response;

pub(super) async fn respond(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be_index: usize,
    resp: Response<Box<ServerBody>>,
    guard: ServerGuard,
    idle_home: Option<upstream::IdleHome>,
    client_upgrade: Option<(hyper::upgrade::OnUpgrade, Option<websocket::Keys>)>,
) -> Response<ResBody> {
    let shared = &*ctx.shared;
    let fe = &shared.frontends[ctx.frontend];
    let be = &shared.backends[be_index];
    // A 2xx to CONNECT opens a tunnel as a 101 does (RFC 9110 §9.3.6).
    let connect = txn
        .request
        .as_ref()
        .is_some_and(|r| r.method == hyper::Method::CONNECT);
    let connect_tunnel = connect && resp.status().is_success();
    let switching = resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS || connect_tunnel;
    let (mut parts, mut body) = resp.into_parts();
    txn.bytes_out =
        super::htx::response_head_data(parts.status, &parts.extensions, &parts.headers, true);
    // Most frontends capture nothing: then neither the call nor the old list's drop runs.
    if !fe.capture_response.is_empty() {
        *txn.captured_response.get_mut() =
            super::capture::headers(&parts.headers, &fe.capture_response);
    }
    txn.response = Some(ResponseView {
        status: parts.status.as_u16(),
        version: parts.version,
        headers: std::mem::take(&mut parts.headers),
        // A server's lines of one name among others' keep their order.
        lines: super::header_order::Lines::take_received(&mut parts.extensions),
    });
    // The body bytes that came with the head share its buffer (`crate::http::room`).
    txn.rewrites.response_buffered = body.buffered() as usize;
    if super::htx::data_wanted() {
        txn.rewrites.response_held = body.held_data();
    }
    // `close` changes nothing here: the server's connection is not kept after a response
    // whose rules asked for it to be closed.
    if switching && crate::tcp_response::wanted(be) {
        crate::tcp_response::wait_message_end(be, txn).await;
    }
    let keep_server = match crate::tcp_response::run_rules(be, txn, None).await {
        Ok(keep) => keep,
        Err(refusal) => {
            // The stream is aborted: the client's connection closes unanswered.
            txn.term = refusal.term();
            txn.timings.response = -1;
            return reply::aborted();
        }
    };
    let idle_home = idle_home.filter(|_| keep_server);
    if let Some(own) =
        super::script::response_rules(ctx, txn, Some(be_index), Some(&mut *body)).await
    {
        return own;
    }
    // `capture cookie` takes the server's cookie as the `http-response` rules left it, and
    // before persistence inserts one (HAProxy's order).
    if let (Some(cookie), Some(view)) = (&fe.capture_cookie, &txn.response) {
        let cookie = super::capture::response_cookie(&view.headers, cookie);
        txn.rare_mut().captured_cookies[1] = cookie;
    }
    let server_index = be
        .servers
        .iter()
        .position(|s| Some(&s.name) == txn.server.as_ref());
    if let (false, Some(si)) = (be.stickiness.is_empty(), server_index) {
        if !be.servers[si].non_stick() {
            be.stickiness.store(&be.stickiness.on_response(txn), si);
        }
    }
    let mut view = txn.response.take().expect("response view set above");
    // The server's own cookie, as the rules left it, before persistence adds one.
    let server_cookie = be.check_cache && view.headers.contains_key(hyper::header::SET_COOKIE);
    if let (Some(p), Some(si)) = (&be.persistence, server_index) {
        p.on_response(be, txn, si, &mut view.headers, &mut view.lines, view.status);
    }
    if !txn.filters.scripts.is_empty() {
        // The script filters' `http_headers` see the head as the rules and persistence left it.
        txn.response = Some(view);
        if let Err(at) = cold(super::script_filters::response_headers(
            txn,
            Some(&mut body),
        ))
        .await
        {
            super::script_filters::end_after_error(txn, 0, at);
            return failed_response(ctx, txn, be);
        }
        view = txn.response.take().expect("response view put back above");
    }
    if server_cookie && shared_cache_would_keep_cookie(txn, view.status, &view.headers) {
        let status = view.status;
        txn.response = Some(view);
        return block_cacheable_cookie(ctx, txn, be, status);
    }
    let made = parts.status;
    parts.status = hyper::StatusCode::from_u16(view.status).unwrap_or(parts.status);
    reply::LoggedStatus::keep_made(&mut parts.extensions, made.as_u16(), parts.status.as_u16());
    if let Some(reason) = txn.status_reason.take() {
        status_phrase(&mut parts.extensions, parts.status, reason);
    }
    // An HTTP/1 client is answered in the version its server spoke (HTTP/1.0 or 1.1, whatever
    // the client spoke), as HAProxy writes the server's status line.
    let http1_client = txn
        .request
        .as_ref()
        .is_some_and(|r| r.version <= hyper::Version::HTTP_11);
    if parts.version != hyper::Version::HTTP_10 || !http1_client {
        parts.version = hyper::Version::HTTP_11;
    }
    parts.headers = view.headers;
    let lines = view.lines;
    super::vet::drop_connection_options(&mut parts.headers);
    strip_hop_by_hop(&mut parts.headers, switching && !connect_tunnel);
    if connect_tunnel {
        // No body follows a 2xx to CONNECT: the bytes after it are the tunnel's.
        parts.headers.remove(hyper::header::CONTENT_LENGTH);
        parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    }
    // An upgraded stream's script filters end with its tunnel.
    let tunnel_scripts = (switching && client_upgrade.is_some())
        .then(|| super::script_tcp::TunnelEnd::take(txn))
        .flatten();
    let delimited = body.delimited_by_protocol();
    let filters =
        super::filters::on_response(txn, view.status, &mut parts.headers, false, delimited);
    body.filter(filters);
    if !txn.filters.limits.download.is_empty() {
        body.pace(std::mem::take(&mut txn.filters.limits.download));
    }
    // Lines the map cannot order go out in the order they came and were added in, one name
    // per line as the map now has them.
    if let Some(order) = lines.get() {
        keep_order(&mut parts, order);
    }
    // A body the server ends by closing goes to an HTTP/1 client the same way, neither
    // chunked nor given a length, and the client's connection closes after it (said so in
    // HTTP/1.1, where closing is not the default).
    if http1_client && body.close_delimited() {
        parts.extensions.insert(hyper::ext::CloseDelimited);
        if parts.version == hyper::Version::HTTP_11 {
            parts
                .headers
                .append(CONNECTION, HeaderValue::from_static("close"));
        }
    }
    // The headers now belong to the response on its way out; logs only need the status, the
    // script filters of the body (lent the transaction as it goes out) the head too.
    let lent = txn.filters.lent.take();
    txn.response = Some(ResponseView {
        status: view.status,
        version: view.version,
        headers: match lent {
            Some(_) => parts.headers.clone(),
            None => hyper::HeaderMap::new(),
        },
        lines: Default::default(),
    });
    if let Some(slot) = lent {
        parts.extensions.insert(crate::script::LentTxn(slot));
    }
    if let (Some(upgrade), true) = (client_upgrade, switching) {
        return switched(
            ctx,
            txn,
            be,
            Switch {
                upgrade,
                parts,
                body,
                guard,
                http1_client,
                tunnel_scripts,
            },
        );
    }
    body.attach(idle_home, guard);
    Response::from_parts(parts, Either::Right(body))
}

/// The header lines the map cannot order go out as they came, one name a line: a call, as
/// few responses need it.
#[inline(never)]
fn keep_order(parts: &mut hyper::http::response::Parts, order: &[hyper::header::HeaderName]) {
    let exact = super::header_order::in_order(&parts.headers, order)
        .map(|(name, _)| name.clone())
        .collect();
    parts.extensions.insert(hyper::ext::HeaderLines(exact));
}

/// What a switch of protocols (a 101, a 2xx to CONNECT) carries to its tunnel.
struct Switch {
    upgrade: (hyper::upgrade::OnUpgrade, Option<websocket::Keys>),
    parts: hyper::http::response::Parts,
    body: Box<ServerBody>,
    guard: ServerGuard,
    http1_client: bool,
    tunnel_scripts: Option<super::script_tcp::TunnelEnd>,
}

/// The answer that switches the client's connection to a tunnel with the server's, which
/// starts as a task of its own. Out of the response's usual code.
#[cold]
#[inline(never)]
fn switched(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be: &crate::state::BackendRt,
    switch: Switch,
) -> Response<ResBody> {
    let Switch {
        upgrade: (client, keys),
        mut parts,
        mut body,
        guard,
        http1_client,
        tunnel_scripts,
    } = switch;
    // An HTTP/1 client is answered its key when the server (over HTTP/2) had none.
    if let (Some(keys), true) = (keys, http1_client) {
        keys.complete_response(&mut parts.headers);
    }
    if let Some(server) = body.take_upgraded() {
        let (to_tunnel, stream) = tokio::sync::oneshot::channel();
        tokio::task::spawn_local(websocket::tunnel(
            client,
            server,
            crate::tcp::Limits::of_tunnel(txn, ctx.frontend(), be),
            // An HTTP/1 connection's own limits end where its tunnel's begin.
            http1_client.then(|| ctx.idle.clone()),
            (guard, ctx.open.clone()),
            stream,
            tunnel_scripts,
        ));
        txn.rare_mut().tunnel = Some(websocket::TunnelLog(to_tunnel));
    }
    Response::from_parts(parts, super::reply::full(Bytes::new()))
}

/// HAProxy's answer when a filter fails on a response: its 502 page, the stream ending `PH`.
#[cold]
#[inline(never)]
fn failed_response(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be: &crate::state::BackendRt,
) -> Response<ResBody> {
    txn.term = *b"PH";
    let files = [&be.errorfiles, &ctx.frontend().errorfiles];
    let mut page = reply::error_in(502, &files, txn);
    page.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    page
}

/// `option checkcache`: whether a shared cache could keep this response to a safe request
/// with its `Set-Cookie` lines (persistence's `nocache` has added `private` by now when it
/// inserted a cookie, as HAProxy orders it).
fn shared_cache_would_keep_cookie(txn: &Txn, status: u16, headers: &hyper::HeaderMap) -> bool {
    let safe = super::persist::asked_with_a_safe_method(txn);
    let verdict = super::persist::CacheVerdict::of(status, headers);
    safe && verdict.cacheable && verdict.with_cookies
}

/// The response is refused as HAProxy refuses it: an alert on stderr and in the backend's
/// logs, the denied-response counters, and the proxy's page for the server's status (HAProxy
/// answers with the status it received, so a 200 becomes its "Service ready." page), the
/// stream ending `PH`.
fn block_cacheable_cookie(
    ctx: &ConnCtx,
    txn: &mut Txn,
    be: &crate::state::BackendRt,
    status: u16,
) -> Response<ResBody> {
    use crate::api::counters::Counter;
    let server = txn.server.as_deref().unwrap_or("<dispatch>");
    let text = format!(
        "Blocking cacheable cookie in response from instance {}, server {server}.",
        be.name
    );
    eprintln!("[ALERT]    ({}) : {text}", std::process::id());
    for (_, sink) in crate::log::Sink::open_list(&be.health_check.logs, &be.log_tag) {
        if let Ok(sink) = sink {
            sink.send(1, &text);
        }
    }
    let fe = ctx.frontend();
    fe.counters.add(Counter::DeniedResp, 1);
    if let Some(l) = crate::api::listener_counters(fe, txn) {
        l.add(Counter::DeniedResp, 1);
    }
    be.counters.add(Counter::DeniedResp, 1);
    txn.term = *b"PH";
    txn.timings.response = -1;
    let files = [&be.errorfiles, &fe.errorfiles];
    reply::error_in(status, &files, txn)
}

/// `set-status`: the response's new status, and its reason phrase (`reason`, else HAProxy's
/// for the new status: the server's phrase goes with its status).
pub fn set_status(txn: &mut Txn, code: u16, reason: &Option<String>) {
    if let Some(r) = txn.response.as_mut() {
        r.status = code;
        txn.status_reason = Some(reason.clone());
    }
}

/// Writes `reason` as the status line's phrase, or HAProxy's for `status` when none.
#[cold]
pub(super) fn status_phrase(
    extensions: &mut hyper::http::Extensions,
    status: hyper::StatusCode,
    reason: Option<String>,
) {
    extensions.remove::<hyper::ext::ReasonPhrase>();
    let reason = reason.unwrap_or_else(|| super::reason::of(status.as_u16()).to_string());
    if status.canonical_reason() == Some(reason.as_str()) {
        return;
    }
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.into_bytes()) {
        extensions.insert(phrase);
    }
}
