//! The HTTP request path, whatever protocol the request came in on: this module runs the rules,
//! picks the backend and server, forwards with retries and connection reuse, and logs. The
//! connection drivers in `crate::proto` hand it requests.

mod applets;
pub mod auth;
mod body;
pub mod cache;
pub mod capture;
pub mod case_adjust;
mod client_body;
pub mod compress;
pub mod early_hint;
pub mod filters;
pub(crate) mod forward;
pub(crate) mod header_names;
pub mod header_order;
pub mod header_values;
pub mod htx;
pub mod idle;
pub mod monitor;
pub mod normalize;
pub mod persist;
pub mod prefetch;
pub(crate) mod proxy_headers;
pub mod reason;
pub mod redirect;
pub mod replies;
pub mod reply;
mod respond;
pub use respond::set_status;
pub mod rewrite;
pub mod room;
mod routing;
mod script;
pub mod script_filters;
pub mod script_hold;
mod script_service;
pub mod script_tcp;
mod script_upload;
mod server_conns;
mod server_exchange;
pub mod set_timeout;
pub mod target;
mod txn_log;
mod unanswered;
pub mod unique_id;
pub mod vet;
pub mod wait_body;
pub(crate) mod websocket;

use crate::cold::{cold, ext_copy, has_ext, take_ext};
use crate::rules;
use crate::state::{FrontendRt, HttpConnMode, Shared};
use crate::txn::{RequestView, ResponseView, Txn};
use crate::upstream::{self, pool};
use applets::{applet_chunked, chunking_last, serve};
use body::Tracked;
use bytes::Bytes;
pub use client_body::IncomingBody;
use hapee_compiler::registry::RuleSet;
use hyper::{Request, Response};
use routing::{content_rules_pass, route, PageOf, Resume, Route, RuleEnding};
use std::cell::Cell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
pub use txn_log::{log_embryonic, log_txn, write_line, EmbryonicError};
use unanswered::Unanswered;

/// A request body: the client's, or one the proxy holds whole (buffered, or empty).
pub type ReqBody = http_body_util::Either<prefetch::ClientBody, http_body_util::Full<Bytes>>;
/// A response body: made by the proxy, or read from a server as it is forwarded. The server's
/// is boxed: a response is moved a dozen times on its way out, and an inline `ServerBody`
/// (240 bytes) made every response over 350 bytes to copy, the proxy's own ones too.
pub type ResBody = http_body_util::Either<http_body_util::Full<Bytes>, Box<upstream::ServerBody>>;

/// What one client connection's requests share.
pub struct ConnCtx {
    pub shared: Arc<Shared>,
    pub frontend: usize,
    pub client: SocketAddr,
    pub local: SocketAddr,
    /// The UNIX socket listener the client came in on ([`Txn::unix_listener`]).
    pub unix_listener: Option<u32>,
    /// The connection's own addresses when session rules changed the stream's
    /// ([`Txn::conn_addrs`]).
    pub conn_addrs: Option<(SocketAddr, SocketAddr)>,
    /// The listener's rank in its frontend ([`Txn::listener`]).
    pub listener: Option<usize>,
    /// The session's idle server connections.
    pub(crate) conns: pool::SessionConns,
    pub accept_date: SystemTime,
    pub(crate) requests: Cell<u64>,
    pub(crate) last_end: Cell<Instant>,
    /// The client connection's current inactivity limit.
    pub(crate) idle: idle::Limit,
    /// What the session tracks (`tcp-request connection|session track-sc*`), for all its
    /// requests; released with the connection.
    pub(crate) session_counters: Arc<std::sync::Mutex<crate::tables::track::Slots>>,
    /// The PROXY protocol header the connection started with (`client` and `local` are
    /// already those it carried).
    pub proxy: Option<Arc<crate::proto::proxy_protocol::ProxyHeader>>,
    /// Its entry in `show sess`.
    pub session: Option<crate::api::sessions::Handle>,
    /// What its TLS handshake settled, when it came over TLS.
    pub tls: Option<Arc<crate::tls::TlsInfo>>,
    /// The session's variables (`sess.*`), which each of its requests starts with.
    pub(crate) sess_vars: crate::vars::SessionVars,
    /// A TCP connection switched to HTTP (`crate::upgrade`): its `tcp-request content` rules
    /// run again for each request from this one (counted from 0: HTTP/2 streams are all new
    /// streams, an HTTP/1 connection's first request is the TCP stream itself).
    pub(crate) switched: Option<u64>,
    /// The number of the TCP stream an HTTP/1 connection switched from, which its first
    /// request goes on with (`%rt`); taken by that request.
    pub(crate) switched_stream: Cell<Option<u64>>,
    /// The client connection's place in the open counts, which a tunnel opened on it holds
    /// until its line is logged.
    pub(crate) open: Option<std::rc::Rc<crate::listener::OpenConn>>,
    /// The client socket, for the rules and fetches that reach it ([`Txn::client_fd`]).
    pub client_fd: Option<crate::sockopt::ClientFd>,
}

impl ConnCtx {
    pub fn new(
        shared: Arc<Shared>,
        frontend: usize,
        client: SocketAddr,
        local: SocketAddr,
        pool: pool::Pool,
    ) -> ConnCtx {
        let keep_own = shared.frontends[frontend].max_session_srv_conns;
        ConnCtx {
            shared,
            frontend,
            client,
            local,
            unix_listener: None,
            conn_addrs: None,
            listener: None,
            conns: pool::SessionConns::new(pool, keep_own),
            accept_date: crate::clock::date(),
            requests: Cell::new(0),
            last_end: Cell::new(crate::clock::now()),
            idle: idle::Limit::default(),
            session_counters: Default::default(),
            proxy: None,
            session: None,
            tls: None,
            sess_vars: Default::default(),
            switched: None,
            switched_stream: Cell::new(None),
            open: None,
            client_fd: None,
        }
    }

    pub(crate) fn frontend(&self) -> &FrontendRt {
        &self.shared.frontends[self.frontend]
    }

    /// Tells a transaction of this connection what it knows of the connection: where and
    /// when it came in, its own addresses, its TLS.
    pub(crate) fn copy_connection_into(&self, txn: &mut Txn) {
        txn.accept_date = self.accept_date;
        txn.unix_listener = self.unix_listener;
        txn.conn_addrs = self.conn_addrs;
        txn.listener = self.listener;
        txn.tls = self.tls.clone();
    }
}

impl Drop for ConnCtx {
    fn drop(&mut self) {
        self.conns.end();
    }
}

/// Whether a request asks to switch protocols: an `Upgrade` header, and `upgrade` among the
/// `Connection` tokens.
fn is_upgrade(headers: &hyper::HeaderMap, present: vet::Present) -> bool {
    present.upgrade
        && present.connection
        && headers.contains_key(hyper::header::UPGRADE)
        && upstream::connection_has(headers, "upgrade")
}

/// The proxy's own response head as HAProxy counts it in `%B`: its internal size, not the
/// wire size (see [`htx::response_head_data`]).
fn head_len(r: &Response<ResBody>) -> u64 {
    htx::response_head_data(r.status(), r.extensions(), r.headers(), false)
}

/// Boxes the value `make` returns, written straight into its heap slot: the slot is allocated
/// before `make` runs, so the compiler can build the value there instead of on the stack and
/// then copying it. It does so for what cannot unwind meanwhile, such as an async fn's future
/// made from its arguments ([`serve_request`]'s), not for a function that may panic.
#[inline(always)]
pub(crate) fn boxed_in_place<T>(make: impl FnOnce() -> T) -> Box<T> {
    Box::write(Box::new_uninit(), make())
}

/// A copy of `uri`, by a call laid out away from the request path.
#[cold]
#[inline(never)]
fn copied_uri(uri: &hyper::Uri) -> hyper::Uri {
    uri.clone()
}

/// What [`prepare`] took from the request head for [`serve_request`].
pub(crate) struct Prepared {
    ctx: Rc<ConnCtx>,
    txn: Box<Txn>,
    refused: Option<vet::Refusal>,
    body: IncomingBody,
    index: u64,
    first: bool,
    /// The request came over HTTP/1 (the proxy's raw pages and empty bodies depend on it).
    http1: bool,
    /// The `Connection` field an HTTP/1 answer to it carries (see [`connection_answered`]).
    connection: Option<&'static str>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
}

/// The `Connection` field HTTP/1 answers carry for what `req` asked: `close` for HTTP/1.0 or
/// a close asked, `keep-alive` for an HTTP/1.0 keep-alive, none otherwise. A request whose
/// framing forces the close (chunked beside a length, or chunked in HTTP/1.0: hyper marks it,
/// the length being gone by now) is always answered `close`, as HAProxy answers it.
fn connection_answered<B>(req: &Request<B>) -> Option<&'static str> {
    use crate::upstream::wire::connection_has;
    if has_ext::<hyper::ext::ForcedClose>(req.extensions()) {
        return Some("close");
    }
    match req.version() {
        hyper::Version::HTTP_10 if connection_has(req.headers(), "keep-alive") => {
            Some("keep-alive")
        }
        hyper::Version::HTTP_10 => Some("close"),
        _ if connection_has(req.headers(), "close") => Some("close"),
        _ => None,
    }
}

/// Serves one request. The head is taken apart before the returned future starts, so that
/// the future (moved into hyper's dispatcher for each request) does not carry it.
pub(crate) fn handle(
    ctx: Rc<ConnCtx>,
    req: Request<IncomingBody>,
) -> impl std::future::Future<Output = Result<Response<Tracked>, Infallible>> {
    let prepared = prepare(ctx, req);
    let (profile, measure) = profile_of(&prepared);
    crate::profiling::Profiled::new(Box::pin(serve_request(prepared)), profile, measure)
}

/// The counters a request's future counts its polls into, and whether it measures times.
fn profile_of(prepared: &Prepared) -> (Arc<crate::profiling::StreamProfile>, bool) {
    let profile = prepared.txn.profile.clone().unwrap_or_default();
    (profile, prepared.ctx.shared.profiling_tasks)
}

/// [`handle`]'s future, boxed. Its future is some 6 KB, most of it room for later states:
/// hyper moved it into its per-connection slot for each request, a copy that was 600
/// instructions and 90 cache write misses of a small request. Built in its box instead, only
/// the few words of [`Prepared`] are copied.
pub(crate) fn handle_boxed(
    ctx: Rc<ConnCtx>,
    req: Request<IncomingBody>,
) -> impl std::future::Future<Output = Result<Response<Tracked>, Infallible>> + Unpin {
    let prepared = prepare(ctx, req);
    let (profile, measure) = profile_of(&prepared);
    let future = Box::into_pin(boxed_in_place(|| serve_request(prepared)));
    crate::profiling::Profiled::new(future, profile, measure)
}

/// The work on the request head, before anything waits: the transaction, the checks.
fn prepare(ctx: Rc<ConnCtx>, mut req: Request<IncomingBody>) -> Prepared {
    let fe = ctx.frontend();
    // Made in its box: the transaction is over a kilobyte to copy.
    let mut txn = Txn::boxed(ctx.shared.clone(), ctx.client, ctx.local, fe.name.clone());
    ctx.copy_connection_into(&mut txn);
    txn.profile = Some(Default::default());
    txn.stick.session = Some(ctx.session_counters.clone());
    txn.stick.count_session_request();
    txn.proxy = ctx.proxy.clone();
    txn.client_fd = ctx.client_fd;
    ctx.sess_vars.enter(&mut txn);
    // Each request is a stream of its own, but for the TCP stream a switch goes on with.
    match ctx.switched_stream.take() {
        Some(number) => {
            let _ = txn.request_counter.set(number);
        }
        None => txn.begin_stream(),
    }
    let index = ctx.requests.get();
    let first = index == 0;
    txn.first_request = first;
    ctx.requests.set(ctx.requests.get() + 1);
    txn.timings.idle = if first {
        0
    } else {
        (txn.start - ctx.last_end.get()).as_millis() as i64
    };
    let http1 = req.version() < hyper::Version::HTTP_2;
    let connection = connection_answered(&req);
    if req.version() >= hyper::Version::HTTP_11 {
        if let Some(interim) = take_ext(req.extensions_mut()) {
            txn.rare_mut().interim = Some(interim);
        }
    }
    let present = vet::Present::of(req.headers());
    let switch_refused = vet::upgrade(req.version(), req.headers_mut(), present).err();
    let tunnel = is_upgrade(req.headers(), present) || req.method() == hyper::Method::CONNECT;
    let client_upgrade = tunnel.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, mut body) = req.into_parts();
    txn.raw_target = take_ext(&mut parts.extensions);
    txn.bytes_in = htx::request_head_data(&parts.method, &parts.uri, &parts.headers);
    if parts.version < hyper::Version::HTTP_2
        && present.transfer_encoding
        && parts.headers.contains_key(hyper::header::TRANSFER_ENCODING)
    {
        // A chunked HTTP/1 body ends with an end-of-trailers block of one byte.
        txn.bytes_in += 1;
    }
    if !hyper::body::Body::is_end_stream(&body) {
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        body.count_into(counter.clone());
        txn.body_in = Some(counter);
    }
    // HAProxy's test: a target that starts with neither `/` nor `*` went through a proxy.
    txn.proxy_auth = fe.use_proxy_header && parts.uri.authority().is_some();
    // A target with bytes `Uri` cannot hold is rare: its copy is a call laid out apart.
    let written_as = txn.raw_target.is_some().then(|| copied_uri(&parts.uri));
    let refused = switch_refused.or_else(|| {
        vet::vet_present(
            &parts.method,
            &mut parts.uri,
            parts.version,
            &mut parts.headers,
            present,
            vet::Leniency {
                accept_invalid: fe.accept_invalid_request,
            },
        )
        .err()
    });
    let refused = refused.or_else(|| {
        let over = parts.version < hyper::Version::HTTP_2
            && room::head_over_limit(ctx.shared.room, &parts.method, &parts.uri, &parts.headers);
        over.then_some(vet::Refusal::BadRequest)
    });
    if let (Some(before), Some(raw)) = (written_as, txn.raw_target.as_mut()) {
        target::renormalized(raw, &before, &parts.uri);
    }
    if !fe.capture_request.is_empty() {
        *txn.captured_request.get_mut() = capture::headers(&parts.headers, &fe.capture_request);
    }
    // Every declared response capture prints, empty until a server's response fills it.
    if !fe.capture_response.is_empty() {
        *txn.captured_response.get_mut() = vec![None; fe.capture_response.len()];
    }
    if refused.is_none() {
        txn.request = Some(RequestView {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: parts.headers,
            // A client's lines of one name among others' (`a`, `b`, `a`) keep their order.
            lines: header_order::Lines::take_received(&mut parts.extensions),
        });
        // A format of request and start fields only is complete now: HAProxy writes it
        // before the rules run.
        if fe.log_wait.at_request {
            txn.logged_at_request = true;
            write_line(&txn);
        }
    }
    ctx.idle.set(fe.timeouts.client);
    Prepared {
        ctx,
        txn,
        refused,
        body,
        index,
        first,
        http1,
        connection,
        client_upgrade,
    }
}

/// Serves a request once [`prepare`]d. One future for the whole request: nested async steps
/// would each be moved into place.
async fn serve_request(prepared: Prepared) -> Result<Response<Tracked>, Infallible> {
    let Prepared {
        ctx,
        txn,
        refused,
        body,
        index,
        first,
        http1,
        connection,
        client_upgrade,
    } = prepared;
    {
        let mut unanswered = Unanswered(Some(txn));
        let txn = unanswered.txn();
        let fe = ctx.frontend();
        // With `option http-buffer-request` the body is read before the rules, which may then
        // look at it (`req.body`); a buffered or empty body can also be replayed on a retry.
        let monitored = fe
            .monitor
            .as_ref()
            .and_then(|m| m.answer(txn, &[&fe.errorfiles]));
        let body = if let Some(refusal) = refused {
            Err(refuse(txn, refusal.status(), &[&fe.errorfiles]))
        } else if ctx.switched.is_some_and(|from| index >= from)
            && !content_rules_pass(&fe.rules, txn)
        {
            txn.term = *b"PR";
            Err(reply::aborted())
        } else if let Some(answer) = monitored {
            Err(answer)
        } else if fe.http_buffer_request {
            cold(buffer_request(&ctx, txn, body)).await
        } else {
            Ok(forward::streamed_body(body))
        };
        // The frontend's script filters attach as the stream starts.
        let body = match body {
            Ok(mut body) if ctx.shared.filters.has_scripts() => {
                let name = fe.name.clone();
                match cold(script_filters::attach(txn, &name, false, &mut body)).await {
                    Ok(()) => Ok(body),
                    Err(at) => Err(script_filters::failed_request(txn, &[&fe.errorfiles], at)),
                }
            }
            other => other,
        };
        let routed = match body {
            Err(resp) => Err(resp),
            Ok(body) => {
                // The frontend's SPOE events go before its rules: those of the stream and of
                // its content (HAProxy's filter adds the content inspection to HTTP streams),
                // then `on-frontend-http-request`.
                if !ctx.shared.spoe.is_empty() {
                    use hapee_compiler::spoe::SpoeEvent;
                    let events = [
                        SpoeEvent::OnClientSession,
                        SpoeEvent::OnFrontendTcpRequest,
                        SpoeEvent::OnFrontendHttpRequest,
                    ];
                    let name = fe.name.clone();
                    cold(crate::spoe::on_events(txn, &[&name], &events)).await;
                }
                match route(&ctx, txn, Resume::default()) {
                    paused @ (Route::Script(..)
                    | Route::WaitBody(..)
                    | Route::Resolve(..)
                    | Route::SpoeEvent(..)) => {
                        Ok(cold(script::settle(&ctx, txn, paused, body)).await)
                    }
                    decided => Ok((body, decided)),
                }
            }
        };
        let mut resp = match routed {
            Err(resp) => resp,
            Ok((_, Route::Reply(resp))) => *resp,
            Ok((_, Route::Rule(ending))) => end_by_rule(txn, *ending).await,
            Ok((body, Route::Stats(owner))) => {
                txn.term = *b"LR";
                // HAProxy's page is an applet the stream connects to at once.
                txn.server = Some(Arc::from("<STATS>"));
                txn.timings.queue = 0;
                txn.timings.connect = 0;
                txn.timings.response = 0;
                let page = match owner {
                    PageOf::Backend(be) => ctx.shared.backends[be].stats_page.as_ref(),
                    PageOf::Frontend => ctx.frontend().stats_page.as_ref(),
                };
                match page {
                    Some(page) => {
                        let mut resp =
                            cold(crate::api::page::serve(&ctx.shared, page, txn, body)).await;
                        applet_chunked(txn, &mut resp, false);
                        resp
                    }
                    None => reply::error_in(503, &[&ctx.frontend().errorfiles], txn),
                }
            }
            Ok((body, Route::Forward(be))) => {
                // A client's end aborts its request only under `option abortonclose` on both
                // sides: the backend's, and the one its frontend took from `defaults`
                // (HAProxy's HTTP/1 side reads no further once a request is complete unless
                // the frontend asks it to, so that the backend's alone never sees the end).
                let abort_on_end = http1
                    && ctx.shared.backends[be].abort_on_close
                    && ctx.frontend().abort_on_close;
                if abort_on_end && ctx.idle.abort_on_client_end() {
                    // The client ended before its request went anywhere: given up before
                    // a connection, no status.
                    txn.backend = Some(ctx.shared.backends[be].name.clone());
                    txn.term = *b"CC";
                    reply::aborted()
                } else {
                    let resp = forward::forward(&ctx, txn, be, body, first, client_upgrade).await;
                    if abort_on_end {
                        ctx.idle.answer_on_client_end();
                    }
                    resp
                }
            }
            Ok((body, Route::Service(service))) => cold(serve(&ctx, txn, service, body)).await,
            // `settle` leaves no script pending.
            Ok((
                _,
                Route::Script(..) | Route::WaitBody(..) | Route::Resolve(..) | Route::SpoeEvent(..),
            )) => script::failed(&ctx, txn, *b"IR"),
        };
        if !txn.filters.scripts.is_empty() {
            script_filters::end_unanswered(txn);
        }
        // A request HAProxy's parser refuses is answered by its connection layer: no
        // stream, so no `http-after-response` rules.
        if refused.is_none() {
            after_response(&ctx, txn, &mut resp);
        }
        // The client's method: a CONNECT a rule rewrote is still one to its connection.
        let connect_2xx = resp.status().is_success()
            && txn.logged_line().map(|l| l.0) == Some(&hyper::Method::CONNECT);
        if connect_2xx && txn.rare().is_none_or(|r| r.tunnel.is_none()) {
            // A 2xx to CONNECT that the proxy gave itself (a `return`, a service) is a plain
            // answer, with its body, after which the connection closes, as in HAProxy.
            resp.extensions_mut().insert(hyper::ext::NoTunnel);
        }
        ctx.sess_vars.keep(txn);
        let silent = ext_copy::<reply::CloseUnanswered>(resp.extensions()).is_some();
        if silent {
            ctx.idle.close_unanswered();
        }
        // A page without a length goes out as it is and the connection's end ends it. A
        // request the parser refused is answered with the parser's page whatever page the
        // proxy has for its status (last branch).
        let mut raw_body = 0;
        let parser_page = http1 && refused.is_some();
        if let Some(page) = take_ext::<reply::CloseDelimited>(resp.extensions_mut())
            .filter(|_| http1 && !parser_page)
        {
            // The answer to HEAD is its head alone.
            let head = txn.request.as_ref().map(|r| &r.method) == Some(&hyper::Method::HEAD);
            let body = if head { Bytes::new() } else { page.0 };
            ctx.idle
                .close_after(reply::close_delimited_wire(&resp, &body, page.1));
            raw_body = body.len() as u64;
            *resp.body_mut() = reply::full(Bytes::new());
        } else if let Some(body) = take_ext::<reply::CloseAfter>(resp.extensions_mut())
            .filter(|_| http1 && !parser_page)
            .and_then(|_| reply::made_body(&mut resp))
        {
            // Sent as it is, and the connection's end follows it.
            if !resp.headers().contains_key(hyper::header::CONTENT_LENGTH) {
                resp.headers_mut()
                    .insert(hyper::header::CONTENT_LENGTH, body.len().into());
            }
            let head = txn.request.as_ref().map(|r| &r.method) == Some(&hyper::Method::HEAD);
            let body = if head { Bytes::new() } else { body };
            ctx.idle
                .close_after(reply::close_after_wire(&resp, &body, connection));
            raw_body = body.len() as u64;
            *resp.body_mut() = reply::full(Bytes::new());
        } else if parser_page {
            // HAProxy's parser answers a request it refuses itself, with its raw page (or
            // nothing, when the proxy's page for the status is empty).
            let status = resp.status().as_u16();
            ctx.idle
                .close_after(reply::error_wire(status, &[&fe.errorfiles]));
        }
        // A stopping process ends each keep-alive connection by its next response (spread
        // over `close-spread-time`, or never with `infinite`). A response opening a tunnel
        // (a CONNECT's 2xx, a 101) is left alone, as HAProxy's HTTP/1 side leaves it.
        let tunnel = resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS || connect_2xx;
        if tunnel && http1 {
            resp.extensions_mut().insert(hyper::ext::Tunnel);
        }
        // The proxy's own answer counts as HAProxy holds it internally: a `Connection: close`
        // its HTTP/1 side writes for the connection's mode is not part of it.
        let own_head = (txn.bytes_out == 0).then(|| head_len(&resp));
        if (fe.conn_mode == Some(HttpConnMode::Close) && !tunnel)
            || (ctx.shared.stopping.load(Ordering::Relaxed)
                && crate::close_spread::close_with_response())
        {
            resp.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
        }
        chunking_last(&mut resp);
        if let Some(case) = fe.h1_case_adjust.as_ref().filter(|_| http1) {
            if let Some(spellings) = case.for_hyper(resp.headers()) {
                resp.extensions_mut().insert(spellings);
            }
        }
        let logged = ext_copy::<reply::LoggedStatus>(resp.extensions()).map(|s| s.0);
        if ext_copy::<reply::NoStatus>(resp.extensions()).is_none() {
            txn.status = Some(logged.unwrap_or(resp.status().as_u16()));
            txn.stick
                .count_status(logged.unwrap_or(resp.status().as_u16()));
        }
        // A server's (or the cache's) response head was counted as it arrived, before the
        // rules changed it; the proxy's own answers count as they go out.
        txn.bytes_out = if refused.is_some() || silent {
            0
        } else if let Some(head) = own_head {
            head + raw_body
        } else {
            txn.bytes_out
        };
        if fe.log_wait.at_response {
            log_early(txn, &resp);
        }
        ctx.last_end.set(crate::clock::now());
        let between_requests = fe
            .timeouts
            .http_keep_alive
            .or(fe.timeouts.http_request)
            .or(fe.timeouts.client);
        let after = body::NextHead {
            limit: ctx.idle.clone(),
            idle: between_requests,
            head: fe.head_timeout(),
        };
        ctx.idle.owe_head();
        let txn = unanswered.answered();
        // HAProxy counts no bytes for a request its parser refused: the page is the
        // connection's, not a transaction's.
        let counted = refused.is_none();
        let (mut head, body) = resp.into_parts();
        let mut body = Tracked::new(body, txn, after, counted);
        body.lend_to_script(take_ext(&mut head.extensions));
        body.holding_open(ctx.open.clone());
        body.keep_zero_length(&head, http1);
        Ok(Response::from_parts(head, body))
    }
}

/// Runs the `http-after-response` rules, which see every response, the proxy's own included
/// (errors, redirects, `return`), after the `http-response` rules: the backend's first, then
/// the frontend's. They may change headers and the status; an `allow` ends a rule set.
fn after_response(ctx: &ConnCtx, txn: &mut Txn, resp: &mut Response<ResBody>) {
    let shared = &ctx.shared;
    if !shared.after_response_rules {
        return;
    }
    let fe = ctx.frontend();
    let be = txn
        .backend
        .as_deref()
        .and_then(|b| shared.backend_index.get(b).copied())
        .filter(|&i| !crate::route::is_own_backend(shared, fe, i))
        .map(|i| &shared.backends[i]);
    let has_rules =
        |r: &&[rules::CompiledRule]| r.iter().any(|r| r.set == RuleSet::HttpAfterResponse);
    let sets = [be.map(|b| &b.rules[..]), Some(&fe.rules[..])];
    if !sets.iter().flatten().any(has_rules) {
        return;
    }
    let logged = txn.response.take();
    txn.response = Some(ResponseView {
        status: resp.status().as_u16(),
        version: logged
            .as_ref()
            .map_or(hyper::Version::HTTP_11, |l| l.version),
        headers: std::mem::take(resp.headers_mut()),
        lines: Default::default(),
    });
    for rules in sets.into_iter().flatten().filter(has_rules) {
        // Only header, status, variable and log actions are allowed here; none ends the response.
        let _ = rules::run(rules, RuleSet::HttpAfterResponse, txn);
    }
    let view = txn.response.take().expect("response view set above");
    if let Ok(status) = hyper::StatusCode::from_u16(view.status) {
        let made = resp.status().as_u16();
        reply::LoggedStatus::keep_made(resp.extensions_mut(), made, view.status);
        *resp.status_mut() = status;
    }
    // A `set-status` writes its reason, or the standard phrase of the status it set.
    if let Some(reason) = txn.status_reason.take() {
        let status = resp.status();
        respond::status_phrase(resp.extensions_mut(), status, reason);
    }
    *resp.headers_mut() = view.headers;
    txn.response = logged.map(|l| ResponseView {
        status: view.status,
        version: l.version,
        headers: l.headers,
        lines: Default::default(),
    });
}

/// `option logasap`, or formats that need nothing of the stream's end: a server's response is
/// logged as soon as its head is there, counting what has arrived so far (the totals still
/// count the whole response at the end); the stream still holds its server and counts on its backend, and
/// the line's counters say so, as HAProxy's. The proxy's own responses are logged at their
/// end as usual.
fn log_early(txn: &mut Txn, resp: &Response<ResBody>) {
    txn.logged_early = matches!(resp.body(), http_body_util::Either::Right(_));
}

/// A response made by the proxy, ending the transaction with termination state `term`.
fn local(txn: &mut Txn, resp: Response<ResBody>, term: &[u8; 2]) -> Response<ResBody> {
    txn.term = *term;
    resp
}

/// A request refused before the rules saw it, logged as HAProxy logs a request its parser
/// refused (`<BADREQ>`, `PR`); the connection closes, as its framing cannot be trusted.
#[cold]
#[inline(never)]
fn refuse(txn: &mut Txn, status: u16, files: &[&crate::state::ErrorFiles]) -> Response<ResBody> {
    txn.timings.request = -1;
    // Logged from the session, which counts no request bytes (`%U` 0).
    txn.bytes_in = 0;
    txn.session_log = true;
    let page = reply::error_in(status, files, txn);
    let mut resp = local(txn, page, b"PR");
    resp.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    resp
}

/// Reads the whole request body for `option http-buffer-request`; a body over the buffer
/// size is answered with 413.
async fn buffer_request(
    ctx: &ConnCtx,
    txn: &mut Txn,
    body: IncomingBody,
) -> Result<ReqBody, Response<ResBody>> {
    let fe = ctx.frontend();
    match prefetch::buffered_with_trailers(body, ctx.shared.bufsize.max(8192)).await {
        Ok((data, trailers)) => {
            if !data.is_empty() {
                txn.rare_mut().request_body = Some(data.clone());
            }
            Ok(match trailers {
                // The trailers go on after the held body, as HAProxy forwards them.
                Some(trailers) => {
                    http_body_util::Either::Left(prefetch::ClientBody::held(data, trailers))
                }
                None => http_body_util::Either::Right(http_body_util::Full::new(data)),
            })
        }
        Err(status) => {
            let page = reply::error_in(status, &[&fe.errorfiles], txn);
            Err(local(txn, page, b"PR"))
        }
    }
}

/// Ends the transaction with the rules' response, once its tarpit delay has passed. HAProxy
/// logs a tarpit's wait as queue time (`%Tw`), with no request time (`%TR` -1).
async fn end_by_rule(txn: &mut Txn, ending: RuleEnding) -> Response<ResBody> {
    if let Some(delay) = ending.delay {
        let start = crate::clock::now();
        Box::pin(tokio::time::sleep(delay)).await;
        txn.timings.request = -1;
        txn.timings.queue = (crate::clock::now() - start).as_millis() as i64;
    }
    local(txn, ending.response, &ending.term)
}

/// A header map holding `(name, value)` pairs in their order, as the tests write headers.
#[cfg(test)]
pub(crate) fn test_headers(list: &[(&'static str, &'static str)]) -> hyper::HeaderMap {
    let mut map = hyper::HeaderMap::new();
    for (name, value) in list {
        map.append(*name, hyper::header::HeaderValue::from_static(value));
    }
    map
}
