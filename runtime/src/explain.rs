//! One request replayed through the request path without sockets, step by step, for
//! `hapee-lb route`: each rule with its condition's outcome and the headers it changed, each
//! `use_backend` condition, the backend, the server and how the balancing chose it, or the
//! final deny, redirect or return. Everything runs through the live path's own functions
//! (`rules::run_observed`, `route::choose_backend_observed`, `vet`, `server_choice`,
//! `BackendRt::pick`), which report each step as they take it.

use crate::rules::{self, Action, CompiledRule, Verdict};
use crate::state::{BackendRt, FrontendRt, Shared};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// A header change a rule made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChange {
    pub name: String,
    /// The value now, `None` when the header went.
    pub value: Option<String>,
}

/// One rule evaluated.
#[derive(Debug, Clone)]
pub struct RuleStep {
    /// The proxy whose rule list it belongs to.
    pub proxy: String,
    /// Its index among the proxy's rules (the plan's order, check rules left out).
    pub index: usize,
    /// Whether its condition held (true for an unconditional rule).
    pub matched: bool,
    pub headers: Vec<HeaderChange>,
    /// The final outcome when this rule ended the evaluation (`allow`, `deny 403`, …).
    pub stopped: Option<String>,
}

/// One `use_backend` rule evaluated.
#[derive(Debug, Clone)]
pub struct SwitchStep {
    pub index: usize,
    pub matched: bool,
    /// The backend name a dynamic rule rendered.
    pub rendered: Option<String>,
    /// Whether it chose the backend (a dynamic name no backend has sends the request to the
    /// default backend).
    pub chose: bool,
}

/// How the server was chosen.
#[derive(Debug, Clone)]
pub struct Balance {
    /// The hash key computed from the request, for hash-based algorithms.
    pub hash_key: Option<u64>,
    /// A `use-server` rule chose the server.
    pub forced: bool,
    pub server: Option<String>,
    pub address: Option<String>,
    /// Whether the request itself decides the server (a hash key, `use-server`, stickiness,
    /// a lone server); otherwise the server is the next one in turn, the first request's here.
    pub settled: bool,
    /// The servers that can take requests (every server offline: no health check runs).
    pub candidates: Vec<String>,
}

/// The whole replay.
#[derive(Debug, Clone)]
pub struct Trace {
    pub frontend: String,
    pub rules: Vec<RuleStep>,
    pub switches: Vec<SwitchStep>,
    /// `continue`, `allow`, `deny 403`, `return 200`, `redirect 302 /new`, `tarpit 500`, `reject`,
    /// `stats page`, `error 503 (no backend)`, `error 400 (a malformed request)`.
    pub verdict: String,
    pub backend: Option<String>,
    pub balance: Option<Balance>,
    /// The request as it would leave for the server.
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
}

fn headers_of(txn: &Txn) -> Vec<(String, String)> {
    txn.request
        .as_ref()
        .map(|r| {
            r.headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect()
        })
        .unwrap_or_default()
}

/// What changed between two header lists (names lower-case, values joined per name).
fn changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<HeaderChange> {
    let joined = |list: &[(String, String)], name: &str| -> Option<String> {
        let values: Vec<&str> = list
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let mut names: Vec<&str> = before
        .iter()
        .chain(after.iter())
        .map(|(n, _)| n.as_str())
        .collect();
    names.dedup();
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(*n))
        .filter_map(|n| {
            let (b, a) = (joined(before, n), joined(after, n));
            (b != a).then(|| HeaderChange {
                name: n.to_string(),
                value: a,
            })
        })
        .collect()
}

fn verdict_text(v: &Verdict, txn: &Txn) -> String {
    match v {
        Verdict::Continue => "continue".into(),
        Verdict::Deny(s) => format!("deny {s}"),
        Verdict::Tarpit(s) => format!("tarpit {s}"),
        Verdict::Reject => "reject".into(),
        Verdict::Close => "close".into(),
        Verdict::Reply(r) => format!("return {}", r.status),
        Verdict::Redirect(r) => {
            let mut text = format!("redirect {} {}", r.code, rules::redirect_location(r, txn));
            // The cookie a redirect sets or clears is part of its answer.
            if let Some(cookie) = &r.cookie {
                text.push_str(&format!(" (set-cookie: {cookie})"));
            }
            text
        }
        Verdict::Service(s) => format!("use-service {s}"),
        Verdict::Script(call, _) => format!("lua.{} (a script action: not run offline)", call.name),
        Verdict::WaitBody(..) => "wait-for-body".into(),
        Verdict::Resolve(..) => "do-resolve".into(),
        Verdict::Spoe(..) => "send-spoe-group".into(),
        Verdict::RewriteFailed => "rewrite failed (500)".into(),
    }
}

/// Runs `list`'s rules of `set` as the live path does, recording each rule the evaluation
/// reached; the final verdict (`continue` when none ended it).
/// A `wait-for-body` rule does not end it: the request's whole body (`body`, offline) has
/// arrived when it waits, `req.body` shows it from then on, and the rules after it run.
fn trace_rules(
    proxy: &str,
    list: &[CompiledRule],
    set: RuleSet,
    txn: &mut Txn,
    body: &Body,
    out: &mut Vec<RuleStep>,
) -> String {
    let first = out.len();
    let mut before: Vec<(String, String)> = Vec::new();
    let mut observe = |txn: &Txn, step| match step {
        rules::RuleStep::Tested { index, matched } => {
            before = headers_of(txn);
            out.push(RuleStep {
                proxy: proxy.to_string(),
                index,
                matched,
                headers: Vec::new(),
                stopped: None,
            });
        }
        rules::RuleStep::Applied { .. } => {
            if let Some(last) = out.last_mut() {
                last.headers = changes(&before, &headers_of(txn));
            }
        }
    };
    let mut from = 0;
    let verdict = loop {
        match rules::run_observed(list, set, txn, from, &mut observe) {
            Verdict::WaitBody(_, next) => {
                body_arrived(body, txn);
                from = next;
            }
            v => break v,
        }
    };
    let text = verdict_text(&verdict, txn);
    // The step that ended the evaluation: the last one whose condition held.
    let last = out[first..].last_mut().filter(|s| s.matched);
    match (verdict, last) {
        (Verdict::Continue, Some(step))
            if matches!(list[step.index].action, Action::Allow | Action::Accept) =>
        {
            step.stopped = Some("allow".into());
            "allow".into()
        }
        (Verdict::Continue, _) => "continue".into(),
        (_, Some(step)) => {
            step.stopped = Some(text.clone());
            text
        }
        (_, None) => text,
    }
}

/// The request's body, offline: all of it arrives with the head.
type Body = Option<bytes::Bytes>;

/// The body read: what `req.body` shows from then on (nothing for an empty one, as live).
fn body_arrived(body: &Body, txn: &mut Txn) {
    if let Some(b) = body.as_ref().filter(|b| !b.is_empty()) {
        txn.rare_mut().request_body = Some(b.clone());
    }
}

/// A proxy's `tcp-request content` rules, which in HTTP mode run on each request before its
/// `http-request` rules (`http::routing::apply_request_rules`): only a `reject` (or a silent
/// drop) ends the request there; an `accept` merely ends the list.
fn content_rules(
    proxy: &str,
    list: &[CompiledRule],
    txn: &mut Txn,
    body: &Body,
    out: &mut Vec<RuleStep>,
) -> String {
    let verdict = trace_rules(proxy, list, RuleSet::TcpRequestContent, txn, body, out);
    if verdict == "reject" || verdict == "close" {
        "reject".into()
    } else {
        "continue".into()
    }
}

/// A proxy's rules for one request, in their order: its `tcp-request content` rules, then,
/// unless those ended it, its `http-request` rules.
fn request_rules(
    proxy: &str,
    list: &[CompiledRule],
    txn: &mut Txn,
    body: &Body,
    out: &mut Vec<RuleStep>,
) -> String {
    let content = content_rules(proxy, list, txn, body, out);
    if goes_on(&content) {
        trace_rules(proxy, list, RuleSet::HttpRequest, txn, body, out)
    } else {
        content
    }
}

/// `option http-restrict-req-hdr-names` after a proxy's rules, as the live path applies it.
fn restrict_header_names(
    setting: hapee_compiler::plan::http_options::HeaderNames,
    txn: &mut Txn,
    verdict: String,
) -> String {
    if crate::http::header_names::restrict(setting, txn) {
        verdict
    } else {
        "deny 403 (option http-restrict-req-hdr-names reject)".into()
    }
}

/// Whether the evaluation goes on after a verdict.
fn goes_on(verdict: &str) -> bool {
    verdict == "continue" || verdict == "allow"
}

fn balance(be: &BackendRt, txn: &Txn) -> Balance {
    let (by_rule, stuck, key, _) = crate::http::forward::server_choice(be, txn);
    let forced = by_rule.or(stuck);
    let chosen = forced
        .filter(|&i| be.servers[i].in_service())
        .or_else(|| be.pick(key, None));
    let settled = forced.is_some() || key.is_some() || be.servers.len() == 1;
    Balance {
        hash_key: key,
        forced: forced.is_some(),
        server: chosen.map(|i| be.servers[i].name.to_string()),
        address: chosen.and_then(|i| be.servers[i].addr().map(|a| a.to_string())),
        settled,
        candidates: be
            .servers
            .iter()
            .filter(|s| s.is_usable())
            .map(|s| s.name.to_string())
            .collect(),
    }
}

/// The connection the request is replayed on.
#[derive(Clone, Debug)]
pub struct Connection {
    pub client: SocketAddr,
    pub local: SocketAddr,
    /// Whether it is TLS, and the server name the client sent (`ssl_fc_sni`).
    pub tls: bool,
    pub sni: Option<String>,
}

/// Replays `head` (an HTTP/1.x request head) arriving at frontend `fe` on `conn`: the
/// connection rules, the request's checks, the `tcp-request content` and `http-request` rules, the backend switch, the
/// backend's rules and the server choice, each as the live path runs it. `body` is the
/// request's body, read before the rules with `option http-buffer-request` or where a
/// `wait-for-body` rule waits for it. `None` when the head does not parse.
pub fn trace(
    shared: &Arc<Shared>,
    fe: usize,
    conn: &Connection,
    head: &[u8],
    body: Option<&[u8]>,
) -> Option<Trace> {
    let body: &Body = &body.map(bytes::Bytes::copy_from_slice);
    let mut view = crate::decide::parse_head(head)?;
    let frontend: &FrontendRt = shared.frontends.get(fe)?;
    let mut txn = Txn::new(
        shared.clone(),
        conn.client,
        conn.local,
        frontend.name.clone(),
    );
    // A TLS connection whose handshake settled what rustls settles by default.
    txn.tls = conn.tls.then(|| {
        Arc::new(crate::tls::TlsInfo {
            sni: conn.sni.clone(),
            version: "TLSv1.3",
            ..Default::default()
        })
    });
    let mut steps = Vec::new();
    let mut switches = Vec::new();
    let mut backend = None;
    let mut chosen_balance = None;
    let mut verdict = trace_rules(
        &frontend.name,
        &frontend.rules,
        RuleSet::TcpRequestConnection,
        &mut txn,
        &None,
        &mut steps,
    );
    if goes_on(&verdict) {
        verdict = trace_rules(
            &frontend.name,
            &frontend.rules,
            RuleSet::TcpRequestSession,
            &mut txn,
            &None,
            &mut steps,
        );
    }
    // Connection rules end a connection with a reject whatever their action's name.
    if verdict.starts_with("deny") {
        verdict = "reject".into();
    }
    if goes_on(&verdict) {
        let leniency = crate::http::vet::Leniency {
            accept_invalid: frontend.accept_invalid_request,
        };
        let refused = crate::http::vet::vet(
            &view.method,
            &mut view.uri,
            view.version,
            &mut view.headers,
            leniency,
        )
        .err();
        txn.request = Some(view);
        if frontend.http_buffer_request {
            body_arrived(body, &mut txn);
        }
        verdict = match refused {
            Some(r) => format!("error {} (a malformed request)", r.status()),
            None => request_rules(&frontend.name, &frontend.rules, &mut txn, body, &mut steps),
        };
        if goes_on(&verdict) {
            verdict = restrict_header_names(frontend.restrict_header_names, &mut txn, verdict);
        }
    } else {
        txn.request = Some(view);
    }
    if goes_on(&verdict) {
        let chosen = crate::route::choose_backend_observed(shared, frontend, &txn, &mut |tried| {
            switches.push(SwitchStep {
                index: tried.index,
                matched: tried.matched,
                rendered: tried.rendered,
                chose: tried.chose.is_some(),
            })
        });
        match chosen {
            None if frontend.stats_page.as_ref().is_some_and(|p| p.wanted(&txn)) => {
                verdict = "stats page".into()
            }
            None => verdict = "error 503 (no backend)".into(),
            Some(b) => {
                let be = &shared.backends[b];
                backend = Some(be.name.to_string());
                txn.backend = Some(be.name.clone());
                if !crate::route::is_own_backend(shared, frontend, b) {
                    verdict = request_rules(&be.name, &be.rules, &mut txn, body, &mut steps);
                    if goes_on(&verdict) {
                        verdict =
                            restrict_header_names(be.restrict_header_names, &mut txn, verdict);
                    }
                }
                if goes_on(&verdict) && be.stats_page.as_ref().is_some_and(|p| p.wanted(&txn)) {
                    verdict = "stats page".into();
                } else if goes_on(&verdict) {
                    crate::http::proxy_headers::add_forwardfor(
                        frontend.forwardfor.as_ref(),
                        be.forwardfor.as_ref(),
                        &mut txn,
                    );
                    let b = balance(be, &txn);
                    txn.server = b.server.as_deref().map(Arc::from);
                    verdict = if b.server.is_some() {
                        "continue".into()
                    } else {
                        "error 503 (no usable server)".into()
                    };
                    chosen_balance = Some(b);
                }
            }
        }
    }
    let req = txn.request.as_ref()?;
    Some(Trace {
        frontend: frontend.name.to_string(),
        rules: steps,
        switches,
        verdict,
        backend,
        balance: chosen_balance,
        method: req.method.to_string(),
        uri: req.uri.to_string(),
        headers: headers_of(&txn),
    })
}
