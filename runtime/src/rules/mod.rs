//! Rule programs (sans-I/O): `http-request`, `http-response` and `tcp-request` actions compiled
//! from the plan, and their effect on a transaction.

use crate::acl::Condition;
use crate::acl::Outcome;
use crate::http::header_order;
use crate::logfmt::Format;
use crate::sample::Unsupported;
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use hyper::header::HeaderName;

mod compile;

pub use compile::compile;

/// What a rule does.
#[derive(Debug)]
pub enum Action {
    Allow,
    Deny {
        status: u16,
    },
    Tarpit {
        status: u16,
    },
    Return(Reply),
    Redirect(Redirect),
    SetHeader(HeaderName, Format),
    AddHeader(HeaderName, Format),
    DelHeader(HeaderMatch),
    /// `replace-header` (the whole value) and `replace-value` (each comma-separated value,
    /// when the last field is true).
    ReplaceHeader(HeaderName, regex::Regex, String, bool),
    SetPath(Format),
    SetQuery(Format),
    SetUri(Format),
    SetMethod(Format),
    /// `set-var(…)` and `set-var-fmt(…)`.
    SetVar(crate::vars::SetVar),
    UnsetVar(String),
    SetLogLevel(u8),
    SetStatus(u16, Option<String>),
    /// `tcp-request … accept`.
    Accept,
    /// `tcp-request … reject`.
    Reject,
    /// `tcp-response content close`: the server connection is closed.
    Close,
    /// `track-sc*`, `sc-inc-gpc*`, `sc-set-gpt*`, `sc-add-gpc`.
    Table(crate::tables::action::TableAction),
    /// `lua.<name> [args]`: a script action.
    Script(crate::script::ScriptCall),
    /// `use-service <name>`: a service answers the request (or takes the TCP connection).
    UseService(Service),
    /// `tcp-request connection expect-proxy layer4`: a PROXY header comes first.
    ExpectProxy,
    /// `tcp-request connection expect-netscaler-cip layer4`: a NetScaler Client IP header
    /// comes first.
    ExpectNetscaler,
    /// `cache-use`, `cache-store`.
    Filter(crate::http::filters::FilterAction),
    /// `set-pathq`, `replace-path`, `replace-pathq`, `replace-uri`.
    RewriteUri(crate::http::rewrite::UriRewrite),
    /// `set-timeout server|tunnel …`.
    SetTimeout(crate::http::set_timeout::SetTimeout),
    /// `set-src`, `set-src-port`, `set-dst`, `set-dst-port`.
    SetAddr(crate::set_addr::SetAddr),
    /// `capture <sample> len|id …`: stores a sample in a capture slot.
    Capture(crate::http::capture::CaptureRule),
    /// `normalize-uri <normalizer>`.
    NormalizeUri(crate::http::normalize::Normalizer),
    /// `http-request|http-response wait-for-body`.
    WaitForBody(crate::http::wait_body::WaitBody),
    /// `strict-mode on|off`: whether a rewrite that does not fit ends the transaction.
    StrictMode(bool),
    /// `http-request wait-for-handshake`: the request waits for the client's TLS handshake
    /// to end. Requests are read from a TLS connection only once its handshake is over (early
    /// data included, see `tls::ServerTls`), so there is never anything to wait for.
    WaitForHandshake,
    /// `tcp-request content switch-mode http [proto <name>]`: the connection goes on in HTTP
    /// mode (with the protocol named, else the one its first bytes show). Final.
    SwitchMode(Option<String>),
    /// `do-resolve(<var>,<resolvers>[,<family>]) <expr>`: the request waits for a name's
    /// address (runtime/src/discovery/do_resolve.rs).
    DoResolve(crate::discovery::do_resolve::DoResolve),
    /// `send-spoe-group <engine> <group>`: the group's messages go to the SPOE agent and the
    /// rules wait for its answer (runtime/src/spoe/).
    SendSpoeGroup(crate::spoe::SendGroup),
    /// `early-hint <name> <fmt>`: a header of a 103 sent ahead of the response.
    EarlyHint(HeaderName, Format),
    /// `silent-drop`, `set-mark`, `set-tos`, `set-priority-*`, `set-nice`, `set-map` …
    /// (runtime/src/conn_actions.rs).
    Conn(crate::conn_actions::ConnAction),
}

/// The services of `use-service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// The built-in `prometheus-exporter`.
    PrometheusExporter,
    /// `lua.<name>`: what a script registered with `core.register_service` (the name without
    /// `lua.`).
    Script(String),
}

impl std::fmt::Display for Service {
    /// The service as `use-service` names it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Service::PrometheusExporter => f.write_str("prometheus-exporter"),
            Service::Script(name) => write!(f, "lua.{name}"),
        }
    }
}

pub use crate::http::replies::{Reply, ReplyBody};

pub use crate::http::redirect::{Redirect, RedirectKind};

#[derive(Debug)]
pub struct CompiledRule {
    pub set: RuleSet,
    pub action: Action,
    pub condition: Condition,
    /// Its file name and line (`last_rule_file`, `last_rule_line`).
    pub origin: Option<(std::sync::Arc<str>, u32)>,
    /// The backend (by index) it belongs to, or its listen section's own: where a bare server
    /// name given to `srv_queue` and the `srv_*` fetches is looked up (`None`: a frontend's
    /// rule, which finds none).
    pub servers_of: Option<usize>,
}

/// While a rule runs, the proxy it belongs to (see [`CompiledRule::servers_of`]), kept in
/// the transaction for the samples the rule evaluates. An atomic so that a log-format
/// string, rendered from a shared transaction, can set it aside: HAProxy evaluates those
/// in the stream's backend.
#[derive(Debug)]
pub struct RuleProxy(std::sync::atomic::AtomicU32);

const OUTSIDE_RULES: u32 = u32::MAX;
const NO_SERVERS: u32 = u32::MAX - 1;

impl Default for RuleProxy {
    fn default() -> RuleProxy {
        RuleProxy(std::sync::atomic::AtomicU32::new(OUTSIDE_RULES))
    }
}

impl RuleProxy {
    fn enter(&self, servers_of: Option<usize>) {
        let code = servers_of.map_or(NO_SERVERS, |i| i as u32);
        self.0.store(code, std::sync::atomic::Ordering::Relaxed);
    }

    /// Outside rules from now on (a plain store: the swap of [`RuleProxy::set_aside`] is a
    /// locked instruction, paid by every rule list run).
    fn leave(&self) {
        self.0
            .store(OUTSIDE_RULES, std::sync::atomic::Ordering::Relaxed);
    }

    /// Outside rules from now on; answers what to `restore`.
    pub fn set_aside(&self) -> u32 {
        self.0
            .swap(OUTSIDE_RULES, std::sync::atomic::Ordering::Relaxed)
    }

    pub fn restore(&self, saved: u32) {
        self.0.store(saved, std::sync::atomic::Ordering::Relaxed);
    }

    /// `None` outside rules; else the backend of the running rule (`None` for a frontend's).
    pub fn get(&self) -> Option<Option<usize>> {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            OUTSIDE_RULES => None,
            NO_SERVERS => Some(None),
            i => Some(Some(i as usize)),
        }
    }
}

/// The outcome of running a rule list.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// Go on (no final action, or `allow`).
    Continue,
    Deny(u16),
    Tarpit(u16),
    Reply(&'a Reply),
    Redirect(&'a Redirect),
    Reject,
    /// `tcp-response content close`.
    Close,
    /// A script action runs; then the rules go on from the index given (`run_from`).
    Script(&'a crate::script::ScriptCall, usize),
    /// A service answers (`use-service`).
    Service(&'a Service),
    /// The rules wait for the request body, then go on from the index given.
    WaitBody(&'a crate::http::wait_body::WaitBody, usize),
    /// The rules wait for a name's resolution, then go on from the index given.
    Resolve(&'a crate::discovery::do_resolve::DoResolve, usize),
    /// The rules wait for an SPOE agent's answer, then go on from the index given.
    Spoe(&'a crate::spoe::SendGroup, usize),
    /// A rewrite did not fit in strict mode: the transaction ends with a 500.
    RewriteFailed,
}

/// The headers a `del-header` rule removes: its name compared as its `-m` says (`str` when it
/// says nothing), regardless of case; a regular expression sees the names in lower case, as
/// HAProxy keeps them.
#[derive(Debug)]
pub enum HeaderMatch {
    Name(HeaderName),
    /// A name no message can carry (one with ':' or a space, say): nothing goes.
    Never,
    Beg(String),
    End(String),
    Sub(String),
    Reg(regex::Regex),
}

impl HeaderMatch {
    fn compile(args: &[String]) -> Result<HeaderMatch, Unsupported> {
        let name = args.first().map_or("", String::as_str);
        let method = match args.get(1).map(String::as_str) {
            Some("-m") => args.get(2).map_or("", String::as_str),
            _ => "str",
        };
        let lower = name.to_ascii_lowercase();
        Ok(match method {
            "str" => HeaderName::from_bytes(name.as_bytes())
                .map_or(HeaderMatch::Never, HeaderMatch::Name),
            "beg" => HeaderMatch::Beg(lower),
            "end" => HeaderMatch::End(lower),
            "sub" => HeaderMatch::Sub(lower),
            "reg" => {
                HeaderMatch::Reg(regex::Regex::new(name).map_err(|e| Unsupported(e.to_string()))?)
            }
            other => return Err(Unsupported(format!("del-header -m {other}"))),
        })
    }

    fn matches(&self, n: &HeaderName) -> bool {
        let n = n.as_str();
        match self {
            HeaderMatch::Name(name) => name.as_str() == n,
            HeaderMatch::Never => false,
            HeaderMatch::Beg(p) => n.starts_with(p.as_str()),
            HeaderMatch::End(p) => n.ends_with(p.as_str()),
            HeaderMatch::Sub(p) => n.contains(p.as_str()),
            HeaderMatch::Reg(re) => re.is_match(n),
        }
    }
}

/// `set-header` (`replace`) or `add-header`; `lines` is the message's line order.
fn set_header(
    headers: &mut hyper::HeaderMap,
    lines: &mut header_order::Lines,
    name: &HeaderName,
    value: String,
    replace: bool,
) {
    if let Ok(v) = crate::http::header_values::from_text(&value) {
        if replace {
            header_order::remove(headers, name);
        }
        header_order::append(headers, lines, name.clone(), v);
    }
}

/// A `replace-header` / `replace-value` rewrite of one header line: where the regex matches
/// (anywhere), the whole value becomes the expanded replacement, as HAProxy replaces. With
/// `per_value`, each comma-separated value is matched alone, and a replaced one loses the
/// blanks around it. `None` when nothing matched.
fn replace_value(re: &regex::Regex, subst: &str, line: &str, per_value: bool) -> Option<String> {
    let expand = |v: &str| {
        re.captures(v).map(|c| {
            let mut out = String::new();
            c.expand(subst, &mut out);
            out
        })
    };
    if !per_value {
        return expand(line);
    }
    let mut changed = false;
    // Cut as the `hdr()` fetches cut (not inside quoted strings).
    let parts: Vec<String> = crate::http::header_values::ranges(line.as_bytes())
        .map(|r| &line[r])
        .map(|raw| match expand(raw.trim_matches([' ', '\t'])) {
            Some(new) => {
                changed = true;
                new
            }
            None => raw.to_string(),
        })
        .collect();
    changed.then(|| parts.join(","))
}

/// Runs the rules of `set` in order until a final action; header and URI changes apply to the
/// transaction's request (or response, for `http-response`).
pub fn run<'a>(rules: &'a [CompiledRule], set: RuleSet, txn: &mut Txn) -> Verdict<'a> {
    run_from(rules, set, txn, 0)
}

/// Runs the rules of `set` from index `from` of `rules` (where a script action left off).
pub fn run_from<'a>(
    rules: &'a [CompiledRule],
    set: RuleSet,
    txn: &mut Txn,
    from: usize,
) -> Verdict<'a> {
    // No rule left to run (a proxy without rules, the usual case): nothing is fetched, and
    // the transaction is outside rules already unless a caller is inside one.
    if from >= rules.len() {
        txn.rule_proxy.leave();
        return Verdict::Continue;
    }
    let before = txn.fetch_at(places(set));
    let verdict = run_set(rules, set, txn, from, &mut |_, _| {});
    txn.fetch_at(before);
    txn.rule_proxy.leave();
    verdict
}

/// What the rules tell an observer as they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleStep {
    /// The condition of rule `index` was evaluated.
    Tested { index: usize, matched: bool },
    /// Rule `index`, not a final one, has done its work.
    Applied { index: usize },
}

/// [`run`], reporting each rule's condition and effect to `observe` (which sees the
/// transaction as the rules leave it): `hapee-lb route` explains a request with the very
/// evaluation the live path runs.
/// The evaluation starts at index `from` (where a `wait-for-body` left off, as [`run_from`]).
pub fn run_observed<'a>(
    rules: &'a [CompiledRule],
    set: RuleSet,
    txn: &mut Txn,
    from: usize,
    observe: &mut dyn FnMut(&Txn, RuleStep),
) -> Verdict<'a> {
    let before = txn.fetch_at(places(set));
    let verdict = run_set(rules, set, txn, from, observe);
    txn.fetch_at(before);
    txn.rule_proxy.leave();
    verdict
}

/// Whether content rules must wait for more data before they can decide: a rule reached in
/// order whose condition can neither pass nor fail yet (HAProxy's `ACL_TEST_MISS`). Nothing
/// runs here; the rules run once, on what has arrived, when this answers false.
pub fn awaits_data(rules: &[CompiledRule], set: RuleSet, txn: &Txn) -> bool {
    let before = txn.fetch_at(places(set));
    let mut waits = false;
    for rule in rules.iter().filter(|r| r.set == set) {
        match rule.condition.outcome(txn) {
            Outcome::Miss => {
                waits = true;
                break;
            }
            Outcome::Pass if rule.action.ends_rules() => break,
            Outcome::Pass | Outcome::Fail => {}
        }
    }
    txn.fetch_at(before);
    waits
}

/// Where the `redirect` directives start in `rules`, at or after `from` (the list's end when
/// none follows): HAProxy runs them after the `http-request` rules, which a script's
/// `act.STOP` and an `allow` end.
pub fn redirects_from(rules: &[CompiledRule], from: usize) -> usize {
    let plain = |r: &CompiledRule| matches!(&r.action, Action::Redirect(d) if d.plain);
    rules
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, r)| r.set == RuleSet::HttpRequest && plain(r))
        .map_or(usize::MAX, |(i, _)| i)
}

impl Action {
    /// Whether the action ends its rule set.
    fn ends_rules(&self) -> bool {
        if let Action::Conn(c) = self {
            return c.ends_stream();
        }
        matches!(
            self,
            Action::Allow
                | Action::Accept
                | Action::Reject
                | Action::Close
                | Action::Deny { .. }
                | Action::Tarpit { .. }
                | Action::Return(_)
                | Action::Redirect(_)
                | Action::UseService(_)
        )
    }
}

/// HAProxy's check point bits of a rule set: where its samples are fetched.
pub fn places(set: RuleSet) -> u32 {
    use hapee_compiler::registry::capabilities::at;
    match set {
        RuleSet::TcpRequestConnection => at::FE_CON_ACC,
        RuleSet::TcpRequestSession => at::FE_SES_ACC,
        RuleSet::TcpRequestContent => at::FE_REQ_CNT | at::BE_REQ_CNT,
        RuleSet::HttpRequest => at::FE_HRQ_HDR | at::BE_HRQ_HDR,
        RuleSet::HttpResponse | RuleSet::HttpAfterResponse => at::FE_HRS_HDR | at::BE_HRS_HDR,
        RuleSet::TcpResponseContent => at::FE_RES_CNT | at::BE_RES_CNT,
        RuleSet::HttpCheck | RuleSet::TcpCheck => at::BE_CHK_RUL,
    }
}

fn run_set<'a, O>(
    rules: &'a [CompiledRule],
    set: RuleSet,
    txn: &mut Txn,
    from: usize,
    observe: &mut O,
) -> Verdict<'a>
where
    O: FnMut(&Txn, RuleStep) + ?Sized,
{
    for (index, rule) in rules.iter().enumerate().skip(from) {
        if rule.set != set {
            continue;
        }
        txn.rule_proxy.enter(rule.servers_of);
        let matched = rule.condition.holds(txn);
        txn.settle_converter_vars();
        observe(txn, RuleStep::Tested { index, matched });
        if !matched {
            continue;
        }
        if matches!(&rule.action, Action::Redirect(r) if r.skipped(txn)) {
            continue;
        }
        // The last final rule of the stream (not of the connection or session rule sets).
        if rule.action.ends_rules()
            && !matches!(
                set,
                RuleSet::TcpRequestConnection | RuleSet::TcpRequestSession
            )
        {
            match &rule.origin {
                Some(origin) => txn.rare_mut().last_rule = Some(origin.clone()),
                None => {
                    if let Some(rare) = txn.rare.as_deref_mut() {
                        rare.last_rule = None;
                    }
                }
            }
        }
        let response = matches!(set, RuleSet::HttpResponse | RuleSet::HttpAfterResponse);
        // What a rewrite changes, kept to be put back when it does not fit.
        let undo = crate::http::room::Undo::before(&rule.action, txn, response);
        match &rule.action {
            // `allow` ends the `http-request` rules only: HAProxy still runs the `redirect`
            // directives after them.
            Action::Allow if set == RuleSet::HttpRequest => {
                return match redirects_from(rules, index + 1) {
                    usize::MAX => Verdict::Continue,
                    next => run_set(rules, set, txn, next, observe),
                };
            }
            Action::Allow | Action::Accept => return Verdict::Continue,
            Action::Reject => return Verdict::Reject,
            Action::Close => return Verdict::Close,
            Action::Deny { status } => return Verdict::Deny(*status),
            Action::Tarpit { status } => return Verdict::Tarpit(*status),
            Action::Return(r) => return Verdict::Reply(r),
            Action::Redirect(r) => return Verdict::Redirect(r),
            Action::Script(call) => return Verdict::Script(call, index + 1),
            Action::WaitForBody(w) => return Verdict::WaitBody(w, index + 1),
            Action::DoResolve(r) => return Verdict::Resolve(r, index + 1),
            Action::SendSpoeGroup(g) => return Verdict::Spoe(g, index + 1),
            Action::UseService(s) => return Verdict::Service(s),
            Action::SetLogLevel(l) => txn.log_level = Some(*l),
            Action::Table(t) => t.run(txn, set),
            Action::ExpectProxy => txn.expect_proxy = true,
            Action::ExpectNetscaler => txn.expect_netscaler = true,
            Action::Filter(f) => f.run(txn),
            Action::Capture(c) => c.run(txn),
            Action::RewriteUri(r) => r.run(txn),
            // A malformed encoding under `strict` makes the request a bad one.
            Action::NormalizeUri(n) => {
                if n.run(txn).is_err() {
                    return Verdict::Deny(400);
                }
            }
            Action::SetAddr(s) => s.run(txn, set == RuleSet::TcpRequestConnection),
            Action::EarlyHint(name, f) => {
                let value = f.render(txn);
                crate::http::early_hint::run(rules, set, index, name, value, txn);
            }
            Action::SetTimeout(t) => t.run(txn),
            Action::WaitForHandshake => {}
            // `silent-drop` ends the stream as `reject` does, its socket made quiet first.
            Action::Conn(c) => {
                c.run(txn);
                if c.ends_stream() {
                    return Verdict::Reject;
                }
            }
            Action::SetVar(set) => set.run(txn),
            Action::UnsetVar(name) => {
                txn.remove_var(name);
            }
            Action::SetHeader(n, f) | Action::AddHeader(n, f) => {
                let value = f.render(txn);
                let replace = matches!(rule.action, Action::SetHeader(..));
                if response {
                    if let Some(r) = txn.response.as_mut() {
                        set_header(&mut r.headers, &mut r.lines, n, value, replace);
                    }
                } else if let Some(r) = txn.request.as_mut() {
                    set_header(&mut r.headers, &mut r.lines, n, value, replace);
                    if *n == hyper::header::HOST {
                        crate::http::target::authority_follows_host(txn);
                    }
                }
            }
            Action::DelHeader(m) => {
                if let Some(h) = headers_of(txn, response) {
                    match m {
                        HeaderMatch::Name(n) => header_order::remove(h, n),
                        HeaderMatch::Never => {}
                        _ => header_order::remove_where(h, |n| m.matches(n)),
                    }
                }
            }
            Action::ReplaceHeader(n, re, subst, per_value) => {
                if let Some(h) = headers_of(txn, response) {
                    let replaced = header_order::rewrite_values(h, n, |v| {
                        replace_value(re, subst, v, *per_value)
                    });
                    // Only a Host line the rule rewrote gives the target its authority.
                    if replaced && !response && *n == hyper::header::HOST {
                        crate::http::target::authority_follows_host(txn);
                    }
                }
            }
            Action::SwitchMode(proto) => {
                txn.rare_mut().switch_mode = Some(proto.clone());
                return Verdict::Continue;
            }
            Action::StrictMode(on) => {
                if response {
                    txn.rewrites.soft_response = !on;
                } else {
                    txn.rewrites.soft_request = !on;
                }
            }
            Action::SetStatus(code, reason) => crate::http::set_status(txn, *code, reason),
            Action::SetUri(f) => {
                let value = f.render(txn);
                crate::http::rewrite::set_target(txn, &value);
            }
            Action::SetPath(f) | Action::SetQuery(f) | Action::SetMethod(f) => {
                let value = f.render(txn);
                if let Some(req) = txn.request_line_to_rewrite() {
                    rewrite_request(req, &rule.action, &value);
                }
            }
        }
        if let Some(undo) = undo {
            if !txn.rewrite_fits(response, undo.size) {
                // After the response, a failure is counted and left out: the answer is sent.
                if txn.rewrite_failed(response) && set != RuleSet::HttpAfterResponse {
                    return Verdict::RewriteFailed;
                }
                undo.restore(&rule.action, txn, response);
            }
        }
        observe(txn, RuleStep::Applied { index });
    }
    Verdict::Continue
}

pub(crate) fn headers_of(txn: &mut Txn, response: bool) -> Option<&mut hyper::HeaderMap> {
    if response {
        txn.response.as_mut().map(|r| &mut r.headers)
    } else {
        txn.request.as_mut().map(|r| &mut r.headers)
    }
}

/// `set-path`, `set-query` and `set-method`: an absolute target keeps its scheme and
/// authority through a new path or query, as HAProxy rewrites only that part.
fn rewrite_request(req: &mut crate::txn::RequestView, action: &Action, value: &str) {
    use crate::http::rewrite::{replace_part, replace_path, Part};
    match action {
        Action::SetPath(_) => replace_path(req, Part::Path, value),
        Action::SetQuery(_) => {
            let path = req.uri.path().to_string();
            let pathq = if value.is_empty() {
                path
            } else {
                format!("{path}?{}", value.trim_start_matches('?'))
            };
            replace_part(req, Part::PathQuery, &pathq);
        }
        Action::SetMethod(_) => {
            if let Ok(m) = hyper::Method::from_bytes(value.as_bytes()) {
                req.method = m;
            }
        }
        _ => {}
    }
}

/// The `Location` of a redirect for this request.
pub fn redirect_location(r: &Redirect, txn: &Txn) -> String {
    r.location(txn)
}
