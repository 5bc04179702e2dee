//! The HTTP request path, whatever protocol the request came in on: this module runs the rules,
//! picks the backend and server, forwards with retries and connection reuse, and logs. The
//! connection drivers in `crate::proto` hand it requests.

mod body;
pub(crate) mod forward;
pub mod idle;
pub mod reply;

use crate::rules::{self, Verdict};
use crate::state::{FrontendRt, HttpConnMode, Shared};
use crate::txn::{RequestView, Txn};
use crate::upstream::{self, pool};
use body::Tracked;
use bytes::Bytes;
use hapee_compiler::registry::RuleSet;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::cell::Cell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub type ReqBody = http_body_util::Either<Incoming, http_body_util::Full<Bytes>>;
/// A response body: made by the proxy, or read from a server as it is forwarded.
pub type ResBody = http_body_util::Either<http_body_util::Full<Bytes>, upstream::ServerBody>;

/// What one client connection's requests share.
pub struct ConnCtx {
    pub shared: Arc<Shared>,
    pub frontend: usize,
    pub client: SocketAddr,
    pub local: SocketAddr,
    /// The session's idle server connections.
    pub(crate) conns: pool::SessionConns,
    pub accept_date: SystemTime,
    pub(crate) requests: Cell<u64>,
    pub(crate) last_end: Cell<Instant>,
    /// The client connection's current inactivity limit.
    pub(crate) idle: idle::Limit,
    /// What the session tracks (`tcp-request connection|session track-sc*`), for all its
    /// requests; released with the connection.
    pub(crate) session_counters: Rc<std::cell::RefCell<crate::tables::track::Slots>>,
}

impl ConnCtx {
    pub fn new(
        shared: Arc<Shared>,
        frontend: usize,
        client: SocketAddr,
        local: SocketAddr,
        pool: pool::Pool,
    ) -> ConnCtx {
        ConnCtx {
            shared,
            frontend,
            client,
            local,
            conns: pool::SessionConns::new(pool),
            accept_date: crate::clock::date(),
            requests: Cell::new(0),
            last_end: Cell::new(crate::clock::now()),
            idle: idle::Limit::default(),
            session_counters: Default::default(),
        }
    }

    pub(crate) fn frontend(&self) -> &FrontendRt {
        &self.shared.frontends[self.frontend]
    }
}

impl Drop for ConnCtx {
    fn drop(&mut self) {
        self.conns.end();
    }
}

/// Whether a request asks to switch protocols: an `Upgrade` header, and `upgrade` among the
/// `Connection` tokens.
fn is_upgrade(headers: &hyper::HeaderMap) -> bool {
    headers.contains_key(hyper::header::UPGRADE) && upstream::connection_has(headers, "upgrade")
}

fn capture(
    headers: &hyper::HeaderMap,
    caps: &[hapee_compiler::plan::Capture],
) -> Vec<Option<String>> {
    caps.iter()
        .map(|c| {
            headers.get(c.name.as_str()).map(|v| {
                let s = String::from_utf8_lossy(v.as_bytes());
                s.chars().take(c.len).collect()
            })
        })
        .collect()
}

/// The response head as HAProxy counts it in `%B`: its internal (HTX) size, not the wire size.
/// A start line takes a 20-byte descriptor plus the version, the 3-digit code and the reason;
/// each header its name and value; the end of headers one byte.
fn head_len(r: &Response<ResBody>) -> u64 {
    const START_LINE_DESCRIPTOR: usize = 20;
    let reason = r
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map_or_else(
            || r.status().canonical_reason().unwrap_or("").len(),
            |p| p.as_bytes().len(),
        );
    let headers: usize = r
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    (START_LINE_DESCRIPTOR + "HTTP/1.1".len() + 3 + reason + headers + 1) as u64
}

/// Serves one request. The head is taken apart before the returned future starts, so that
/// the future (moved into hyper's dispatcher for each request) does not carry it.
pub(crate) fn handle(
    ctx: Rc<ConnCtx>,
    mut req: Request<Incoming>,
) -> impl std::future::Future<Output = Result<Response<Tracked>, Infallible>> {
    let fe = ctx.frontend();
    let mut txn = Box::new(Txn::new(
        ctx.shared.clone(),
        ctx.client,
        ctx.local,
        fe.name.clone(),
    ));
    txn.accept_date = ctx.accept_date;
    txn.stick.session = Some(ctx.session_counters.clone());
    txn.stick.count_session_request();
    let first = ctx.requests.get() == 0;
    ctx.requests.set(ctx.requests.get() + 1);
    txn.timings.idle = if first {
        0
    } else {
        (txn.start - ctx.last_end.get()).as_millis() as i64
    };
    let client_upgrade = is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    txn.captured_request = capture(&parts.headers, &fe.capture_request);
    txn.request = Some(RequestView {
        method: parts.method,
        uri: parts.uri,
        version: parts.version,
        headers: parts.headers,
    });
    txn.counters[0] = ctx.shared.active.load(Ordering::Relaxed);
    txn.counters[1] = fe.active.load(Ordering::Relaxed);
    ctx.idle.set(fe.timeouts.client);
    // One future for the whole request: nested async steps would each be moved into place.
    async move {
        let mut unanswered = Unanswered(Some(txn));
        let txn = unanswered.txn();
        let fe = ctx.frontend();
        // With `option http-buffer-request` the body is read before the rules, which may then
        // look at it (`req.body`); a buffered or empty body can also be replayed on a retry.
        let body = if fe.http_buffer_request {
            Box::pin(buffer_request(&ctx, txn, body)).await
        } else {
            Ok(forward::streamed_body(body))
        };
        let mut resp = match body.map(|body| (body, route(&ctx, txn))) {
            Err(resp) => resp,
            Ok((_, Route::Reply(resp))) => resp,
            Ok((_, Route::Rule(ending))) => end_by_rule(txn, ending).await,
            Ok((body, Route::Forward(be))) => {
                forward::forward(&ctx, txn, be, body, first, client_upgrade).await
            }
        };
        if fe.conn_mode == Some(HttpConnMode::Close) {
            resp.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
        }
        txn.status = Some(resp.status().as_u16());
        txn.stick.count_status(resp.status().as_u16());
        txn.bytes_out = head_len(&resp);
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
        Ok(resp.map(|b| Tracked::new(b, txn, after)))
    }
}

/// A request whose client went away before its response: hyper then drops the request's
/// future, and this logs it as HAProxy logs one under `option abortonclose` (hapee always
/// stops working for a client that has gone): status 400 with the page's size, `CH`.
struct Unanswered(Option<Box<Txn>>);

impl Unanswered {
    fn txn(&mut self) -> &mut Txn {
        self.0
            .as_mut()
            .expect("the transaction is taken only once answered")
    }

    fn answered(mut self) -> Box<Txn> {
        self.0
            .take()
            .expect("the transaction is taken only once answered")
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let Some(mut txn) = self.0.take() else {
            return;
        };
        let shared = txn.shared.clone();
        let mut files = Vec::new();
        if let Some(be) = txn
            .backend
            .as_deref()
            .and_then(|b| shared.backend_by_name(b))
        {
            files.push(&be.errorfiles);
        }
        if let Some(fe) = shared.frontends.iter().find(|f| f.name == txn.frontend) {
            files.push(&fe.errorfiles);
        }
        let page = reply::error(400, &files);
        let body = hyper::body::Body::size_hint(page.body())
            .exact()
            .unwrap_or(0);
        txn.status = Some(400);
        txn.bytes_out = head_len(&page) + body;
        txn.term = *b"CH";
        log_txn(&txn);
    }
}

/// A response made by the proxy, ending the transaction with termination state `term`.
fn local(txn: &mut Txn, resp: Response<ResBody>, term: &[u8; 2]) -> Response<ResBody> {
    txn.term = *term;
    resp
}

/// Reads the whole request body for `option http-buffer-request`; a body over the buffer
/// size is answered with 413.
async fn buffer_request(
    ctx: &ConnCtx,
    txn: &mut Txn,
    body: Incoming,
) -> Result<ReqBody, Response<ResBody>> {
    let fe = ctx.frontend();
    match forward::buffered_body(body, ctx.shared.bufsize.max(8192)).await {
        Ok(data) => {
            if !data.is_empty() {
                txn.request_body = Some(data.clone());
            }
            Ok(http_body_util::Either::Right(http_body_util::Full::new(
                data,
            )))
        }
        Err(status) => Err(local(txn, reply::error(status, &[&fe.errorfiles]), b"PR")),
    }
}

/// Where a request goes once the rules have seen it.
enum Route {
    /// The proxy answers itself.
    Reply(Response<ResBody>),
    /// An `http-request` rule answers, possibly after a delay.
    Rule(RuleEnding),
    /// To this backend.
    Forward(usize),
}

/// Runs the frontend's `http-request` rules, picks the backend and runs its rules.
fn route(ctx: &ConnCtx, txn: &mut Txn) -> Route {
    let shared = &ctx.shared;
    let fe = ctx.frontend();
    if let Some(ending) = apply_request_rules(&fe.rules, txn, &[&fe.errorfiles], fe.timeouts.tarpit)
    {
        return Route::Rule(ending);
    }
    let Some(be_index) = crate::route::choose_backend(shared, fe, txn) else {
        return Route::Reply(local(txn, reply::error(503, &[&fe.errorfiles]), b"SC"));
    };
    let be = &shared.backends[be_index];
    txn.backend = Some(be.name.clone());
    let files = [&be.errorfiles, &fe.errorfiles];
    if !crate::route::is_own_backend(shared, fe, be_index) {
        if let Some(ending) = apply_request_rules(&be.rules, txn, &files, be.timeouts.tarpit) {
            return Route::Rule(ending);
        }
    }
    Route::Forward(be_index)
}

/// A response the `http-request` rules made, how long to hold it back (`tarpit`), and the
/// termination state it logs: `PR` denied, `PT` tarpitted, `LR` answered by the proxy
/// (`return`, `redirect`), as HAProxy logs them.
struct RuleEnding {
    response: Response<ResBody>,
    delay: Option<Duration>,
    term: [u8; 2],
}

/// Runs `http-request` rules; a final action's response ends the transaction.
fn apply_request_rules(
    rules: &[rules::CompiledRule],
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
    tarpit: Option<Duration>,
) -> Option<RuleEnding> {
    let mut delay = None;
    let (response, term) = match rules::run(rules, RuleSet::HttpRequest, txn) {
        Verdict::Continue => return None,
        Verdict::Deny(status) => (reply::error(status, files), *b"PR"),
        Verdict::Reject => (reply::error(403, files), *b"PR"),
        Verdict::Tarpit(status) => {
            delay = Some(tarpit.unwrap_or(Duration::from_secs(5)));
            (reply::error(status, files), *b"PT")
        }
        Verdict::Reply(r) => (
            reply::reply(r, txn, files),
            if r.denial { *b"PR" } else { *b"LR" },
        ),
        Verdict::Redirect(r) => (
            reply::redirect(r.code, &rules::redirect_location(r, txn)),
            *b"LR",
        ),
    };
    Some(RuleEnding {
        response,
        delay,
        term,
    })
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

/// Writes the transaction's log line to the frontend's targets.
pub fn log_txn(txn: &Txn) {
    let Some(fe) = txn.shared.frontends.iter().find(|f| f.name == txn.frontend) else {
        return;
    };
    if fe.logs.is_empty() {
        return;
    }
    if fe.dontlognull && txn.request.is_none() && txn.bytes_out == 0 {
        return;
    }
    let line = match &fe.log_format {
        Some(f) => f.render(txn),
        None => format!(
            "Connect from {}:{} to {}:{} ({}/{})",
            txn.client.ip(),
            txn.client.port(),
            txn.local.ip(),
            txn.local.port(),
            txn.frontend,
            if fe.mode == hapee_compiler::ir::Mode::Http {
                "HTTP"
            } else {
                "TCP"
            }
        ),
    };
    let level = txn.log_level.unwrap_or(6);
    for sink in &fe.logs {
        sink.send(level, &line);
    }
}
