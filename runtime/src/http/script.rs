//! Script actions and services on the request path: routing pauses where a rule calls a
//! script (`http-request lua.<name>`), the script runs (and may wait), and routing resumes at
//! the next rule; `use-service lua.<name>` hands the request to a script that answers it.

use super::{reply, route, ReqBody, ResBody, Route};
use crate::script::{self, ActionEnd, Phase, ScriptReply};
use crate::txn::Txn;
use hapee_compiler::spoe::SpoeEvent;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Response;

/// Runs the script actions routing stopped at, until it reaches a decision that needs no
/// script action: a response, a rule's ending, a service, or a backend to forward to.
pub(super) async fn settle(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    mut routed: Route,
    mut body: ReqBody,
) -> (ReqBody, Route) {
    loop {
        routed = match routed {
            Route::WaitBody(wait, resume) => {
                let shared = ctx.shared.clone();
                let fe = ctx.frontend();
                let be = resume.backend.map(|b| &shared.backends[b]);
                let mut files = Vec::new();
                files.extend(be.map(|b| &b.errorfiles));
                files.push(&fe.errorfiles);
                let limit = shared.bufsize.max(8192);
                // Boxed: waiting for a body is rare and its future large (1.9 kB in a debug
                // build), and this future is boxed anew for every request a script action
                // pauses, copied whole into fresh memory each time.
                match Box::pin(wait.wait(txn, body, limit, &files)).await {
                    Ok(waited) => {
                        body = waited;
                        route(ctx, txn, resume)
                    }
                    Err(resp) => {
                        return (
                            super::forward::streamed_empty(),
                            Route::Reply(Box::new(resp)),
                        )
                    }
                }
            }
            Route::Resolve(resume) => {
                let shared = ctx.shared.clone();
                let rules = match resume.backend {
                    Some(b) => &shared.backends[b].rules,
                    None => &ctx.frontend().rules,
                };
                let at = resume.from.checked_sub(1).and_then(|i| rules.get(i));
                match at.map(|rule| &rule.action) {
                    Some(crate::rules::Action::DoResolve(r)) => r.run(txn).await,
                    Some(crate::rules::Action::SendSpoeGroup(g)) => {
                        let proxy = match resume.backend {
                            Some(b) => shared.backends[b].name.clone(),
                            None => ctx.frontend().name.clone(),
                        };
                        g.run(txn, &proxy, crate::spoe::Wait::Free).await;
                    }
                    _ => {}
                }
                route(ctx, txn, resume)
            }
            Route::SpoeEvent(resume) => {
                let frontend = ctx.frontend().name.clone();
                let backend = resume.backend.map(|b| ctx.shared.backends[b].name.clone());
                let proxies: Vec<&str> = [Some(&frontend), backend.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|n| &**n)
                    .collect();
                let events = super::routing::BACKEND_EVENTS;
                crate::spoe::on_events(txn, &proxies, &events).await;
                route(ctx, txn, resume)
            }
            Route::Script(call, resume) if resume.content => {
                content_script(ctx, txn, &call, resume).await
            }
            Route::Script(call, resume) => {
                let phase = Phase::HttpRequest;
                match script::run_action(&call, phase, txn).await {
                    ActionEnd::Continue => route(ctx, txn, resume),
                    // HAProxy's stream, left without a target, ends with its 503.
                    ActionEnd::Abort => Route::Reply(Box::new(unstamped(ctx, txn, 503, *b"PR"))),
                    ActionEnd::Invalid => Route::Reply(Box::new(unstamped(ctx, txn, 400, *b"PR"))),
                    ActionEnd::Stop | ActionEnd::Yield(_) => {
                        let rules = match resume.backend {
                            Some(b) => &ctx.shared.backends[b].rules,
                            None => &ctx.frontend().rules,
                        };
                        let from = crate::rules::redirects_from(rules, resume.from);
                        route(ctx, txn, super::routing::Resume { from, ..resume })
                    }
                    ActionEnd::RulesDone => route(
                        ctx,
                        txn,
                        super::routing::Resume {
                            from: usize::MAX,
                            done: true,
                            ..resume
                        },
                    ),
                    ActionEnd::Deny => {
                        let be = resume.backend.map(|b| &ctx.shared.backends[b].errorfiles);
                        let files: Vec<_> =
                            be.into_iter().chain([&ctx.frontend().errorfiles]).collect();
                        super::routing::denied(txn, &files)
                    }
                    ActionEnd::Done(reply) => Route::Reply(Box::new(done(txn, reply, *b"LR"))),
                    ActionEnd::Failed => Route::Reply(Box::new(unstamped(ctx, txn, 500, *b"IR"))),
                }
            }
            decided => return (body, decided),
        };
    }
}

/// A script action of the `tcp-request content` rules of an HTTP proxy: it may wait while
/// the inspection delay of the proxy whose rules these are runs, and HAProxy's last call
/// comes when it ends (at once without one). The delay is counted from the rules' first wait
/// and shared by their actions (`Txn::rules_exp`), as HAProxy sets the stream's expiry once.
/// The request is whole, so its channel has nothing more to give. The content rules go on
/// after it, then the `http-request` ones, unless it ends them.
async fn content_script(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    call: &script::ScriptCall,
    resume: super::routing::Resume,
) -> Route {
    let delay = match resume.backend {
        Some(b) => ctx.shared.backends[b].inspect_delay,
        None => ctx.frontend().inspect_delay,
    };
    let deadline = delay.map(|d| {
        *txn.rare_mut()
            .rules_exp
            .get_or_insert_with(|| tokio::time::Instant::now() + d)
    });
    let end = Box::pin(script::run_action_fed(
        call,
        Phase::TcpRequest,
        txn,
        None,
        None,
        deadline,
    ))
    .await;
    let http_rules = super::routing::Resume {
        from: 0,
        content: false,
        ..resume
    };
    match end {
        ActionEnd::Continue => route(ctx, txn, resume),
        ActionEnd::Stop | ActionEnd::RulesDone | ActionEnd::Yield(_) => {
            txn.end_rules_delay();
            route(ctx, txn, http_rules)
        }
        ActionEnd::Done(reply) => Route::Reply(Box::new(done(txn, reply, *b"LR"))),
        ActionEnd::Deny | ActionEnd::Abort | ActionEnd::Invalid | ActionEnd::Failed => {
            super::routing::unlogged(txn);
            Route::Rule(Box::new(super::routing::rejected(txn)))
        }
    }
}

/// `use-service lua.<name>`: the script's service answers the request (read whole first), and
/// its response goes through the `http-response` rules as a server's would.
pub(super) async fn service(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    name: &str,
    body: ReqBody,
) -> Response<ResBody> {
    let limit = ctx.shared.bufsize.max(8192);
    let files = [&ctx.frontend().errorfiles];
    let read = if ctx.shared.filters.has_scripts() {
        Box::pin(super::script_service::request(txn, body, limit, &files)).await
    } else {
        super::prefetch::buffered_body(body, limit)
            .await
            .map_err(Err)
    };
    let data = match read {
        Ok(data) => data,
        Err(Ok(answer)) => return answer,
        Err(Err(status)) => {
            let resp = reply::error(status, &files);
            return super::local(txn, resp, b"PR");
        }
    };
    if !data.is_empty() {
        txn.rare_mut().request_body = Some(data.clone());
    }
    // HAProxy logs the service in place of the server: `<lua.name>`.
    txn.server = Some(format!("<lua.{name}>").into());
    // No queue, connection or server wait for a service, as HAProxy logs it.
    txn.timings.queue = 0;
    txn.timings.connect = 0;
    txn.timings.response = 0;
    let version = txn.request.as_ref().map(|r| r.version);
    let resp = match script::run_service(name, txn, data).await {
        Some(r) => service_response(r, version),
        None => reply::error(500, &[&ctx.frontend().errorfiles]),
    };
    let resp = super::local(txn, resp, b"LR");
    let backend = txn
        .backend
        .as_deref()
        .and_then(|b| ctx.shared.backend_index.get(b).copied());
    let mut resp = Box::pin(through_response_rules(ctx, txn, backend, resp)).await;
    // A whole body would be given its length: one whose end is the connection's goes as
    // one of no told length.
    if resp
        .extensions()
        .get::<hyper::ext::CloseDelimited>()
        .is_some()
    {
        if let http_body_util::Either::Left(full) = resp.body_mut() {
            let whole = http_body_util::BodyExt::collect(full).await;
            let whole = whole.map(|c| c.to_bytes()).unwrap_or_default();
            let untold = crate::upstream::ServerBody::untold(whole);
            *resp.body_mut() = http_body_util::Either::Right(Box::new(untold));
        }
    }
    resp
}

/// The response of a script's service, in the version of the request, as HAProxy's applet
/// writes its status line. One that gives no length of its own (and is not bodiless by its
/// status) goes out chunked to an HTTP/1.1 client (the header counted in the log as HAProxy
/// counts the one it adds), and to an HTTP/1.0 one as it comes, the connection closing after
/// it. A service that failed midway has its connection cut after what it sent.
fn service_response(r: ScriptReply, version: Option<hyper::Version>) -> Response<ResBody> {
    let framed = r.headers.iter().any(|(n, _)| {
        n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
    });
    let bodiless = r.status < 200 || r.status == 204 || r.status == 304;
    let untold = !framed && !bodiless;
    let mut resp = to_response(r);
    match version {
        Some(hyper::Version::HTTP_11) if untold => {
            resp.headers_mut().insert(
                hyper::header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            );
        }
        Some(hyper::Version::HTTP_10) => {
            *resp.version_mut() = hyper::Version::HTTP_10;
            if untold {
                resp.extensions_mut().insert(hyper::ext::CloseDelimited);
            }
        }
        _ => {}
    }
    resp
}

/// `txn:done()`: the script's reply, or an empty response when it gave none.
pub(crate) fn done(txn: &mut Txn, reply: Option<ScriptReply>, term: [u8; 2]) -> Response<ResBody> {
    let r = reply.unwrap_or(ScriptReply {
        status: 200,
        ..Default::default()
    });
    super::local(txn, to_response(r), &term)
}

/// An action that could not run ends the transaction with HAProxy's internal error: 500,
/// logged with termination state `term`.
pub(crate) fn failed(ctx: &super::ConnCtx, txn: &mut Txn, term: [u8; 2]) -> Response<ResBody> {
    error_page(ctx, txn, 500, term)
}

/// The frontend's error page `status` in answer, logged with termination state `term`.
fn error_page(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    status: u16,
    term: [u8; 2],
) -> Response<ResBody> {
    let resp = reply::error(status, &[&ctx.frontend().errorfiles]);
    super::local(txn, resp, &term)
}

/// The error page of a request whose script action ended it (`act.ABORT`, `act.INVALID`, an
/// error): HAProxy stops the request's analysis before stamping it as received (`%TR` -1).
fn unstamped(ctx: &super::ConnCtx, txn: &mut Txn, status: u16, term: [u8; 2]) -> Response<ResBody> {
    txn.timings.request = -1;
    error_page(ctx, txn, status, term)
}

/// The response a script made; headers that are not valid HTTP are left out. One cut short
/// ([`ScriptReply::cut`]) breaks off after its body; a service still running streams the rest
/// ([`ScriptReply::rest`]).
pub(super) fn to_response(r: ScriptReply) -> Response<ResBody> {
    let mut lent = None;
    let body = if let Some(rest) = r.rest {
        lent = Some(script::LentTxn(rest.slot));
        http_body_util::Either::Right(Box::new(crate::upstream::ServerBody::script(
            r.body,
            rest.source,
        )))
    } else if r.cut {
        http_body_util::Either::Right(Box::new(crate::upstream::ServerBody::cut_short(r.body)))
    } else {
        reply::full(r.body)
    };
    let mut resp = Response::new(body);
    if let Some(lent) = lent {
        resp.extensions_mut().insert(lent);
    }
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let mut has_length = false;
    let mut chunked = false;
    for (n, v) in &r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            has_length |= n == hyper::header::CONTENT_LENGTH;
            chunked |= n == hyper::header::TRANSFER_ENCODING;
            resp.headers_mut().append(n, v);
        }
    }
    if has_length && chunked {
        resp.headers_mut().remove(hyper::header::TRANSFER_ENCODING);
    }
    // HAProxy's phrase for the status when the script gave none (`299 Success`).
    let reason = r
        .reason
        .as_deref()
        .unwrap_or_else(|| super::reason::of(r.status));
    if resp.status().canonical_reason() != Some(reason) {
        if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.as_bytes()) {
            resp.extensions_mut().insert(phrase);
        }
    }
    resp
}

/// A response the proxy made (a service's) goes through the `http-response` rules as a
/// server's would.
async fn through_response_rules(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    backend: Option<usize>,
    resp: Response<ResBody>,
) -> Response<ResBody> {
    let (mut parts, body) = resp.into_parts();
    txn.response = Some(super::script_service::head_view(&mut parts));
    if let Some(own) = response_rules(ctx, txn, backend, None).await {
        return own;
    }
    let filtered = !txn.filters.scripts.is_empty();
    if let Some(view) = txn.response.as_mut() {
        let made = parts.status.as_u16();
        parts.status = hyper::StatusCode::from_u16(view.status).unwrap_or(parts.status);
        super::reply::LoggedStatus::keep_made(&mut parts.extensions, made, parts.status.as_u16());
        // The script filters' callbacks see (and change) the head where it is.
        if !filtered {
            parts.headers = std::mem::take(&mut view.headers);
        }
    }
    if let Some(reason) = txn.status_reason.take() {
        super::respond::status_phrase(&mut parts.extensions, parts.status, reason);
    }
    if !filtered {
        return Response::from_parts(parts, body);
    }
    let files = [&ctx.frontend().errorfiles];
    let response = super::script_service::response(txn, &mut parts, body, &files);
    match Box::pin(response).await {
        Ok(body) => Response::from_parts(parts, body),
        Err(page) => page,
    }
}

/// Runs the `http-response` rules of backend `backend` (unless it is the frontend's own) and
/// of the frontend on `txn.response`, script actions included; the response that ends the
/// transaction instead, if a rule makes one.
pub(crate) async fn response_rules(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    backend: Option<usize>,
    mut body: Option<&mut crate::upstream::ServerBody>,
) -> Option<Response<ResBody>> {
    use crate::rules::{self, Verdict};
    use hapee_compiler::registry::RuleSet;
    let shared = &ctx.shared;
    let fe = ctx.frontend();
    let be = backend.map(|b| (b, &shared.backends[b]));
    let backend_rules = be
        .filter(|&(b, _)| !crate::route::is_own_backend(shared, fe, b))
        .map(|(_, be)| &be.rules[..]);
    let ruleset = [backend_rules, Some(&fe.rules[..])];
    // The proxy each rule list belongs to, whose SPOE engines its rules name (made only
    // where they are asked for: most responses meet neither an engine nor a rule).
    let owners = || [be.map(|(_, be)| be.name.clone()), Some(fe.name.clone())];
    if !shared.spoe.is_empty() {
        // The response side's events: the server connection's, its content's (which
        // HAProxy's filter inspects in HTTP streams too), then the response's.
        let events = [
            SpoeEvent::OnServerSession,
            SpoeEvent::OnTcpResponse,
            SpoeEvent::OnHttpResponse,
        ];
        let owners = owners();
        let proxies: Vec<&str> = owners.iter().flatten().map(|n| &**n).collect();
        crate::spoe::on_events(txn, &proxies, &events).await;
    }
    let has_rules = |r: &&[rules::CompiledRule]| r.iter().any(|r| r.set == RuleSet::HttpResponse);
    // Most responses meet no `http-response` rule: nothing is set up for them.
    if !ruleset.iter().flatten().any(has_rules) {
        return None;
    }
    let mut files = Vec::new();
    if let Some((_, be)) = be {
        files.push(&be.errorfiles);
    }
    files.push(&fe.errorfiles);
    for (rules, owner) in ruleset.into_iter().zip(owners()) {
        let (Some(rules), Some(owner)) = (rules, owner) else {
            continue;
        };
        if !has_rules(&rules) {
            continue;
        }
        let mut from = 0;
        loop {
            match rules::run_from(rules, RuleSet::HttpResponse, txn, from) {
                Verdict::Continue => break,
                Verdict::Reply(r) => return Some(reply::reply(r, txn, &files)),
                Verdict::Redirect(r) => {
                    txn.term = *b"LH";
                    return Some(r.response(txn));
                }
                Verdict::RewriteFailed => {
                    txn.term = *b"PH";
                    return Some(reply::error(500, &files));
                }
                // `wait-for-body`: a response the proxy made is whole already.
                Verdict::WaitBody(wait, next) => {
                    let limit = shared.bufsize.max(1024);
                    if let Some(b) = body.as_deref_mut() {
                        match wait.wait_response(b, limit).await {
                            Some(held) => txn.rare_mut().response_body = Some(held),
                            None => {
                                txn.term = *b"sH";
                                return Some(reply::error(504, &files));
                            }
                        }
                    }
                    from = next;
                }
                Verdict::Spoe(group, next) => {
                    group.run(txn, &owner, crate::spoe::Wait::Free).await;
                    from = next;
                }
                Verdict::Script(call, next) => {
                    match script::run_action(call, Phase::HttpResponse, txn).await {
                        ActionEnd::Continue => from = next,
                        ActionEnd::Stop | ActionEnd::RulesDone | ActionEnd::Yield(_) => break,
                        // HAProxy 2.6 and 2.7.0 were seen to end the response rules there
                        // and send the response as it is, logged as denied (`PH`), rather
                        // than a 502.
                        ActionEnd::Deny | ActionEnd::Abort => {
                            txn.term = *b"PH";
                            return None;
                        }
                        ActionEnd::Invalid => {
                            txn.term = *b"PH";
                            return Some(reply::error(502, &files));
                        }
                        ActionEnd::Done(r) => return Some(done(txn, r, *b"LH")),
                        ActionEnd::Failed => return Some(failed(ctx, txn, *b"IH")),
                    }
                }
                // Only `silent-drop` ends `http-response` rules so: no answer at all. HAProxy
                // logs the server's status, and the stream as ended by the proxy while the
                // request stood (`PR`: its finish state was not set yet).
                Verdict::Reject => {
                    txn.term = *b"PR";
                    let mut dropped = reply::aborted();
                    dropped.extensions_mut().remove::<reply::NoStatus>();
                    let status = txn.response.as_ref().map(|r| r.status);
                    if let Some(s) = status.and_then(|s| hyper::StatusCode::from_u16(s).ok()) {
                        *dropped.status_mut() = s;
                    }
                    return Some(dropped);
                }
                _ => {
                    txn.term = *b"PH";
                    return Some(reply::error(502, &files));
                }
            }
        }
    }
    None
}
