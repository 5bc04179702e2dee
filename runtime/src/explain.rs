//! One request replayed through the request path without sockets, step by step, for
//! `hapee-lb route`: each rule with its condition's outcome and the headers it changed, each
//! `use_backend` condition, the backend, the server and how the balancing chose it, or the
//! final deny, redirect or return. Everything runs through the live path's own functions
//! (`rules::run`, `route::choose_backend`, `server_choice`, `BackendRt::pick`).

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
}

/// The whole replay.
#[derive(Debug, Clone)]
pub struct Trace {
    pub frontend: String,
    pub rules: Vec<RuleStep>,
    pub switches: Vec<SwitchStep>,
    /// `continue`, `deny 403`, `return 200`, `redirect 302 /new`, `tarpit 500`, `reject`.
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
        Verdict::Redirect(r) => format!("redirect {} {}", r.code, rules::redirect_location(r, txn)),
        Verdict::Service(s) => format!("use-service {s}"),
        Verdict::Script(call, _) => format!("lua.{}", call.name),
    }
}

/// Runs `list`'s `http-request` rules one at a time, recording each; the final verdict.
fn trace_rules(
    proxy: &str,
    list: &[CompiledRule],
    txn: &mut Txn,
    out: &mut Vec<RuleStep>,
) -> String {
    for (index, rule) in list.iter().enumerate() {
        if rule.set != RuleSet::HttpRequest {
            continue;
        }
        let before_places = txn.fetch_at(
            hapee_compiler::registry::capabilities::at::FE_HRQ_HDR
                | hapee_compiler::registry::capabilities::at::BE_HRQ_HDR,
        );
        let matched = rule.condition.holds(txn);
        txn.fetch_at(before_places);
        let before = headers_of(txn);
        // The rule runs through the live path's own evaluation, alone.
        let verdict = rules::run(std::slice::from_ref(rule), RuleSet::HttpRequest, txn);
        let stopped = match (&verdict, &rule.action) {
            (Verdict::Continue, Action::Allow) if matched => Some("allow".to_string()),
            (Verdict::Continue, _) => None,
            (v, _) => Some(verdict_text(v, txn)),
        };
        out.push(RuleStep {
            proxy: proxy.to_string(),
            index,
            matched,
            headers: changes(&before, &headers_of(txn)),
            stopped: stopped.clone(),
        });
        if let Some(s) = stopped {
            return s;
        }
    }
    "continue".into()
}

fn balance(be: &BackendRt, txn: &Txn) -> Balance {
    let (forced, key, _) = crate::http::forward::server_choice(be, txn);
    let chosen = forced
        .filter(|&i| be.servers[i].is_usable())
        .or_else(|| be.pick(key, None));
    Balance {
        hash_key: key,
        forced: forced.is_some(),
        server: chosen.map(|i| be.servers[i].name.to_string()),
        address: chosen.and_then(|i| be.servers[i].addr().map(|a| a.to_string())),
    }
}

/// Replays `head` (an HTTP/1.x request head) arriving at frontend `fe` from `client`;
/// `None` when the head does not parse.
pub fn trace(
    shared: &Arc<Shared>,
    fe: usize,
    client: SocketAddr,
    local: SocketAddr,
    tls: bool,
    head: &[u8],
) -> Option<Trace> {
    let view = crate::decide::parse_head(head)?;
    let frontend: &FrontendRt = shared.frontends.get(fe)?;
    let mut txn = Txn::new(shared.clone(), client, local, frontend.name.clone());
    // `--tls`: a TLS connection whose handshake settled nothing in particular (`ssl_fc`).
    txn.tls = tls.then(|| Arc::new(crate::tls::TlsInfo::default()));
    txn.request = Some(view);
    let mut steps = Vec::new();
    let mut verdict = trace_rules(&frontend.name, &frontend.rules, &mut txn, &mut steps);
    let mut switches = Vec::new();
    let mut backend = None;
    let mut chosen_balance = None;
    if verdict == "continue" || verdict == "allow" {
        let before = txn.fetch_at(hapee_compiler::registry::capabilities::at::FE_SET_BCK);
        for (index, s) in frontend.switches.iter().enumerate() {
            let matched = s.condition.holds(&txn);
            switches.push(SwitchStep { index, matched });
            if matched {
                break;
            }
        }
        txn.fetch_at(before);
        if let Some(b) = crate::route::choose_backend(shared, frontend, &txn) {
            let be = &shared.backends[b];
            backend = Some(be.name.to_string());
            txn.backend = Some(be.name.clone());
            if !crate::route::is_own_backend(shared, frontend, b) {
                verdict = trace_rules(&be.name, &be.rules, &mut txn, &mut steps);
            }
            if verdict == "continue" || verdict == "allow" {
                if let Some(ff) = be.forwardfor.as_ref().or(frontend.forwardfor.as_ref()) {
                    crate::http::forward::add_forwardfor(ff, &mut txn);
                }
                let b = balance(be, &txn);
                txn.server = b.server.as_deref().map(Arc::from);
                chosen_balance = Some(b);
                verdict = "continue".into();
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
