//! Routing a request: the frontend's `http-request` rules, the backend switch, then the
//! backend's rules, and how a rule list ends (a reply, a deny, a tarpit, a rejected
//! connection).

use super::{header_names, local, reply, wait_body, ConnCtx, ResBody};
use crate::rules::{self, Service, Verdict};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use hyper::Response;
use std::time::Duration;

/// Where a request goes once the rules have seen it.
pub(super) enum Route {
    /// The proxy answers itself. The answers are boxed: a route is moved a few times on
    /// every request, and inline they made it some 170 bytes to copy where the usual
    /// `Forward` is one word.
    Reply(Box<Response<ResBody>>),
    /// An `http-request` rule answers, possibly after a delay.
    Rule(Box<RuleEnding>),
    /// To this backend.
    Forward(usize),
    /// A script action runs; routing then resumes where it says.
    Script(crate::script::ScriptCall, Resume),
    /// `wait-for-body`: the body is awaited; routing then resumes where it says.
    WaitBody(wait_body::WaitBody, Resume),
    /// `do-resolve`: a name is resolved; routing then resumes where it says. The action lives
    /// in the rules of the frontend (`backend: None`) or backend the resume point names.
    Resolve(Resume),
    /// SPOE messages of `on-backend-http-request` are sent once the backend is chosen;
    /// routing then resumes with its rules.
    SpoeEvent(Resume),
    /// A service answers (`use-service`).
    Service(Service),
    /// A statistics page.
    Stats(PageOf),
}

/// Whose statistics page answers.
pub(super) enum PageOf {
    Backend(usize),
    /// The frontend's own, looked for before a backend is chosen.
    Frontend,
}

/// Where routing starts: the frontend's rules, or (once a backend is chosen) the backend's,
/// from rule index `from`.
#[derive(Clone, Copy, Default)]
pub(super) struct Resume {
    pub(super) backend: Option<usize>,
    pub(super) from: usize,
    /// A script's `act.DONE` ended the rules of the proxy being resumed: what HAProxy does
    /// after them (the header-name restriction, the stats URI) is skipped too.
    pub(super) done: bool,
    /// `from` is in the proxy's `tcp-request content` rules, which a script action paused.
    pub(super) content: bool,
}

/// Runs the frontend's `http-request` rules, picks the backend and runs its rules, from where
/// `resume` says.
pub(super) fn route(ctx: &ConnCtx, txn: &mut Txn, resume: Resume) -> Route {
    let shared = &ctx.shared;
    let fe = ctx.frontend();
    let be_index = match resume.backend {
        Some(b) => b,
        None => {
            // A connection switched from TCP ran its content rules itself (`switched`).
            let ran = apply_request_rules(
                &fe.rules,
                resume,
                txn,
                &[&fe.errorfiles],
                fe.timeouts.tarpit,
                ctx.switched.is_none(),
            );
            match ran {
                RulesRan::Through if resume.done => {}
                RulesRan::Through => {
                    if !header_names::restrict(fe.restrict_header_names, txn) {
                        return denied(txn, &[&fe.errorfiles]);
                    }
                }
                RulesRan::Ended(ending) => return Route::Rule(ending),
                RulesRan::Script(call, from, content) => {
                    return Route::Script(
                        call,
                        Resume {
                            backend: None,
                            from,
                            done: false,
                            content,
                        },
                    )
                }
                RulesRan::Service(name) => return Route::Service(name),
                RulesRan::WaitBody(w, from) => {
                    return Route::WaitBody(
                        w,
                        Resume {
                            backend: None,
                            from,
                            ..Resume::default()
                        },
                    )
                }
                RulesRan::Resolve(from) => {
                    return Route::Resolve(Resume {
                        backend: None,
                        from,
                        ..Resume::default()
                    })
                }
            }
            // The frontend's own stats page is looked for once its rules accepted the request
            // and before any backend is chosen, so it is served even with a `default_backend`
            // or a matching `use_backend` (HAProxy logs it `fe fe/<STATS>`).
            if !resume.done && fe.stats_page.as_ref().is_some_and(|p| p.wanted(txn)) {
                return Route::Stats(PageOf::Frontend);
            }
            let Some(be_index) = crate::route::choose_backend(shared, fe, txn) else {
                // No backend takes it (a dynamic name that names none, no default): HAProxy
                // never runs a backend's request processing, where it stamps the request's
                // end, so `%TR` and `%Tq` log -1.
                txn.timings.request = -1;
                let page = reply::error_in(503, &[&fe.errorfiles], txn);
                return Route::Reply(Box::new(local(txn, page, b"SC")));
            };
            txn.backend = Some(shared.backends[be_index].name.clone());
            if !shared.spoe.is_empty() && backend_event(ctx, be_index) {
                return Route::SpoeEvent(Resume {
                    backend: Some(be_index),
                    ..Resume::default()
                });
            }
            be_index
        }
    };
    let be = &shared.backends[be_index];
    txn.backend = Some(be.name.clone());
    txn.count_on_backend(be_index);
    if let Some(s) = &ctx.session {
        s.route(be_index);
    }
    let files = [&be.errorfiles, &fe.errorfiles];
    if !crate::route::is_own_backend(shared, fe, be_index) {
        let from = if resume.backend.is_some() {
            resume
        } else {
            Resume::default()
        };
        let done = resume.backend.is_some() && resume.done;
        match apply_request_rules(&be.rules, from, txn, &files, be.timeouts.tarpit, true) {
            RulesRan::Through if done => {}
            RulesRan::Through => {
                if !header_names::restrict(be.restrict_header_names, txn) {
                    return denied(txn, &files);
                }
            }
            RulesRan::Ended(ending) => return Route::Rule(ending),
            RulesRan::Script(call, from, content) => {
                let resume = Resume {
                    backend: Some(be_index),
                    from,
                    done: false,
                    content,
                };
                return Route::Script(call, resume);
            }
            RulesRan::Service(name) => return Route::Service(name),
            RulesRan::WaitBody(w, from) => {
                let resume = Resume {
                    backend: Some(be_index),
                    from,
                    ..Resume::default()
                };
                return Route::WaitBody(w, resume);
            }
            RulesRan::Resolve(from) => {
                return Route::Resolve(Resume {
                    backend: Some(be_index),
                    from,
                    ..Resume::default()
                })
            }
        }
    }
    let done = resume.backend.is_some() && resume.done;
    if !done && be.stats_page.as_ref().is_some_and(|p| p.wanted(txn)) {
        return Route::Stats(PageOf::Backend(be_index));
    }
    super::capture::take_request_cookie(fe.capture_cookie.as_ref(), txn);
    Route::Forward(be_index)
}

/// The SPOE events of a request once its backend is known.
pub(super) const BACKEND_EVENTS: [hapee_compiler::spoe::SpoeEvent; 2] = [
    hapee_compiler::spoe::SpoeEvent::OnBackendTcpRequest,
    hapee_compiler::spoe::SpoeEvent::OnBackendHttpRequest,
];

/// Whether the SPOE engines of the frontend or of backend `be` send messages on
/// [`BACKEND_EVENTS`].
fn backend_event(ctx: &ConnCtx, be: usize) -> bool {
    let spoe = &ctx.shared.spoe;
    BACKEND_EVENTS.iter().any(|&event| {
        spoe.listen(&ctx.frontend().name, event)
            || spoe.listen(&ctx.shared.backends[be].name, event)
    })
}

/// A response the `http-request` rules made, how long to hold it back (`tarpit`), and the
/// termination state it logs: `PR` denied, `PT` tarpitted, `LR` answered by the proxy
/// (`return`, `redirect`), as HAProxy logs them.
pub(super) struct RuleEnding {
    pub(super) response: Response<ResBody>,
    pub(super) delay: Option<Duration>,
    pub(super) term: [u8; 2],
}

/// How a list of `http-request` rules ended. Returned at once, never stored: the size of
/// `Ended` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub(super) enum RulesRan {
    /// No final action.
    Through,
    Ended(Box<RuleEnding>),
    /// Stopped at a script action; the rules go on from the index given (in the
    /// `tcp-request content` rules when the flag is set).
    Script(crate::script::ScriptCall, usize, bool),
    /// Stopped at `wait-for-body`; the rules go on from the index given.
    WaitBody(wait_body::WaitBody, usize),
    /// Stopped at `do-resolve` (the rule before the index given); the rules go on from there.
    Resolve(usize),
    Service(Service),
}

/// Runs `http-request` rules from where `resume` says; a final action's response ends the
/// transaction.
pub(super) fn apply_request_rules(
    rules: &[rules::CompiledRule],
    resume: Resume,
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
    tarpit: Option<Duration>,
    content_rules: bool,
) -> RulesRan {
    let mut delay = None;
    let mut from = resume.from;
    // In HTTP mode the `tcp-request content` rules run on each request, before the
    // `http-request` ones; the request is whole by then, so none of them waits for data (a
    // script action may still wait while the inspection delay runs).
    if content_rules && (from == 0 || resume.content) {
        match rules::run_from(rules, RuleSet::TcpRequestContent, txn, from) {
            Verdict::Reject | Verdict::Close => {
                unlogged(txn);
                return RulesRan::Ended(Box::new(rejected(txn)));
            }
            Verdict::Script(call, next) => return RulesRan::Script(call.clone(), next, true),
            _ => {}
        }
        // The rules are over: a later rule set's delay starts afresh.
        txn.end_rules_delay();
        from = 0;
    } else if resume.content {
        from = 0;
    }
    let verdict = rules::run_from(rules, RuleSet::HttpRequest, txn, from);
    if matches!(verdict, Verdict::Deny(_) | Verdict::Tarpit(_))
        || matches!(verdict, Verdict::Reply(r) if r.denial)
    {
        super::capture::take_request_cookie_on_denial(txn);
    }
    let (response, term) = match verdict {
        Verdict::Continue => return RulesRan::Through,
        Verdict::Script(call, next) => return RulesRan::Script(call.clone(), next, false),
        Verdict::WaitBody(w, next) => return RulesRan::WaitBody(*w, next),
        // An SPOE group is sent where a name would be resolved: the rule before `next` says
        // which (`script::settle`).
        Verdict::Resolve(_, next) | Verdict::Spoe(_, next) => return RulesRan::Resolve(next),
        Verdict::Service(service) => return RulesRan::Service(service.clone()),
        Verdict::Deny(status) => (reply::error_in(status, files, txn), *b"PR"),
        Verdict::RewriteFailed => (reply::error_in(500, files, txn), *b"PR"),
        Verdict::Reject | Verdict::Close => return RulesRan::Ended(Box::new(rejected(txn))),
        Verdict::Tarpit(status) => {
            delay = Some(tarpit.unwrap_or(Duration::ZERO));
            (reply::error_in(status, files, txn), *b"PT")
        }
        Verdict::Reply(r) => (
            reply::reply(r, txn, files),
            if r.denial { *b"PR" } else { *b"LR" },
        ),
        Verdict::Redirect(r) => (r.response(txn), *b"LR"),
    };
    RulesRan::Ended(Box::new(RuleEnding {
        response,
        delay,
        term,
    }))
}

/// `reject` (`http-request`, or `tcp-request content` in HTTP mode): the connection closes
/// without an answer (HTTP/2 resets the stream), logged as HAProxy logs it: no status (`-1`),
/// no bytes, `PR`, and no request time.
pub(super) fn rejected(txn: &mut Txn) -> RuleEnding {
    txn.timings.request = -1;
    RuleEnding {
        response: reply::aborted(),
        delay: None,
        term: *b"PR",
    }
}

/// A request the `tcp-request content` rules stopped: HAProxy's HTTP analysis, which
/// records the request line and the header captures for the log, never ran.
pub(super) fn unlogged(txn: &mut Txn) {
    txn.request_unlogged = true;
    txn.captured_request
        .get_mut()
        .iter_mut()
        .for_each(|c| *c = None);
}

/// The `tcp-request content` rules of a request on a connection switched to HTTP: whether
/// they let it through.
pub(super) fn content_rules_pass(rules: &[rules::CompiledRule], txn: &mut Txn) -> bool {
    !matches!(
        rules::run(rules, RuleSet::TcpRequestContent, txn),
        Verdict::Reject | Verdict::Deny(_)
    )
}

/// A request denied with a 403, as by a `deny` rule (refused for its header names, or by a
/// script's `act.DENY`).
pub(super) fn denied(txn: &mut Txn, files: &[&crate::state::ErrorFiles]) -> Route {
    Route::Rule(Box::new(RuleEnding {
        response: reply::error_in(403, files, txn),
        delay: None,
        term: *b"PR",
    }))
}
