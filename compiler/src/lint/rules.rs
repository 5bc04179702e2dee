//! The lint rules, grouped by concern.

use super::reuse::{Findings, Slot};
use crate::check::Compilation;
use crate::diagnostic::{Diagnostic, Edit};
use crate::ir::{CheckOptions, Config, Mode, Proxy, ProxyKind, RuleSet, Spanned, Text};
use crate::registry::{self, SectionKind};
use rustc_hash::{FxHashMap, FxHashSet};

fn live(config: &Config) -> impl Iterator<Item = &Proxy> {
    config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
}

/// Every condition of a proxy (rules, `redirect` directives, switching rules, use-server), as
/// word lists.
fn conditions(p: &Proxy) -> impl Iterator<Item = &[Spanned<Text>]> {
    (p.rules.iter().chain(&p.redirects))
        .map(|r| r.condition.as_slice())
        .chain(p.use_backends.iter().map(|u| u.condition.as_slice()))
}

/// The words of the conditions of the lines kept as plain directives rather than rules:
/// `stats admin`, `stats http-request`, `use-server`, `stick on|match|store-*`,
/// `monitor fail`, `force-persist`, `ignore-persist`…
fn stats_condition_words(p: &Proxy) -> impl Iterator<Item = &str> {
    p.directives
        .iter()
        .filter(|d| d.prefix.is_none())
        .flat_map(|d| {
            d.args
                .iter()
                .map(|a| a.as_str())
                .skip_while(|a| *a != "if" && *a != "unless")
        })
}

/// L001 unused backends, L002 unused ACLs.
pub(super) fn references(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    let dynamic = live(config).any(|p| p.use_backends.iter().any(|u| u.dynamic));
    if !dynamic {
        // The backends that may be unused, each marked used when a name written somewhere
        // is its name: a lookup per name, not a set of every word of every rule.
        let candidates = live(config).filter(|p| p.kind == ProxyKind::Backend);
        let mut used: FxHashMap<&str, bool> =
            FxHashMap::with_capacity_and_hasher(config.proxies.len(), Default::default());
        used.extend(
            candidates
                .filter(|p| p.stick_table.is_none())
                .map(|p| (p.name_str(), false)),
        );
        let mut mark = |name: &str| {
            if let Some(u) = used.get_mut(name) {
                *u = true;
            }
        };
        for p in live(config) {
            for u in p.use_backends.iter().filter(|u| !u.dynamic) {
                mark(&u.target.value);
            }
            p.default_backend.iter().for_each(|d| mark(&d.value));
            for r in &p.rules {
                // `use-service`, `track-sc … table X` and expression arguments also name
                // backends.
                r.args.iter().for_each(|a| mark(&a.value));
            }
            for r in &p.sample_refs {
                mark(&r.reference.value);
                r.reference
                    .value
                    .split('/')
                    .next()
                    .into_iter()
                    .for_each(&mut mark);
            }
            for s in &p.servers {
                for w in s.options.windows(2).filter(|w| w[0].value == "track") {
                    w[1].value.split('/').next().into_iter().for_each(&mut mark);
                }
            }
        }
        // An SPOE agent's `use-backend` (in its SPOE file).
        for e in &config.spoe_engines {
            mark(&e.backend);
        }
        for p in live(config).filter(|p| p.kind == ProxyKind::Backend) {
            if used.get(p.name_str()) == Some(&false) {
                if let Some(name) = &p.name {
                    out.push(
                        Diagnostic::new("L001", format!("backend '{}' is never used by any frontend or listen section", name.value))
                            .at(name.span)
                            .label("unused backend")
                            .help("route traffic to it with 'use_backend'/'default_backend', or remove it"),
                    );
                }
            }
        }
    }
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::UnusedAcls, i, p, out, unused_acls);
    }
}

/// L002 in one proxy.
fn unused_acls(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.acls.is_empty() {
        return;
    }
    let words = conditions(p).map(<[_]>::len).sum();
    let mut used_acls: FxHashSet<&str> =
        FxHashSet::with_capacity_and_hasher(words, Default::default());
    for cond in conditions(p) {
        for w in cond {
            used_acls.insert(w.value.trim_start_matches('!'));
        }
    }
    used_acls.extend(stats_condition_words(p).map(|w| w.trim_start_matches('!')));
    // Rules of a named defaults section may use the ACLs of the sections that inherit it.
    for acl in &p.acls {
        let name = acl.name.value.as_str();
        if !used_acls.contains(name) && p.acls.iter().filter(|a| a.name.value == name).count() == 1
        {
            out.push(
                Diagnostic::new(
                    "L002",
                    format!(
                        "ACL '{name}' is declared but never used in {} '{}'",
                        p.kind.type_str(),
                        p.name_str()
                    ),
                )
                .at(acl.name.span)
                .label("unused ACL")
                .fix(
                    "remove the ACL",
                    vec![Edit {
                        span: acl.span,
                        replacement: String::new(),
                    }],
                ),
            );
        }
    }
}

/// Actions after which no later rule of the same set runs.
fn stops_evaluation(set: RuleSet, action: &str) -> bool {
    registry::action(set, action).is_some_and(|a| a.is_final)
        || action == "allow"
        || action == "use-service"
}

/// Whether HAProxy itself warns about the rule right after `prev` (W253): `prev` ends an
/// HTTP rule set with one of the actions HAProxy marks final.
fn haproxy_warns_after(set: RuleSet, prev: &crate::ir::RuleDecl) -> bool {
    matches!(
        set,
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse
    ) && matches!(
        prev.action.value.as_str(),
        "allow" | "deny" | "tarpit" | "auth" | "return" | "redirect"
    )
}

/// L003 unreachable rules, L004 shadowed `use_backend`, L018 duplicate rules.
pub(super) fn rule_order(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::RuleOrder, i, p, out, rule_order_of);
    }
}

/// L003, L004 and L018 in one proxy.
fn rule_order_of(p: &Proxy, out: &mut Vec<Diagnostic>) {
    let mut stopped: FxHashMap<RuleSet, &crate::ir::RuleDecl> = FxHashMap::default();
    let mut last: FxHashMap<RuleSet, &crate::ir::RuleDecl> = FxHashMap::default();
    let mut seen = ByText::with_capacity(p.rules.len());
    let rule_text = |r: &crate::ir::RuleDecl, out: &mut String| {
        use std::fmt::Write;
        let _ = write!(out, "{:?}\0{} ", r.set, r.action.value);
        join(&r.args, out);
        out.push(' ');
        join(&r.condition, out);
    };
    for r in &p.rules {
        if matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck) {
            continue;
        }
        let previous = last.insert(r.set, r);
        if let Some(prev) = stopped.get(&r.set) {
            // Right after the final rule, HAProxy's own warning (W253) already says it.
            if previous.is_some_and(|p| std::ptr::eq(p, *prev)) && haproxy_warns_after(r.set, prev)
            {
                continue;
            }
            out.push(
                Diagnostic::new(
                    "L003",
                    format!("this '{}' rule is never evaluated: an earlier unconditional '{}' stops the rule list", r.set.keyword(), prev.action.value),
                )
                .at(r.span)
                .label("unreachable")
                .with_secondary(prev.span, "evaluation always stops here"),
            );
            continue;
        }
        if seen.earlier(r, rule_text).is_some() {
            out.push(
                Diagnostic::new(
                    "L018",
                    format!("duplicate '{} {}' rule", r.set.keyword(), r.action.value),
                )
                .at(r.span)
                .label("same as an earlier rule")
                .fix(
                    "remove the duplicate",
                    vec![Edit {
                        span: r.span,
                        replacement: String::new(),
                    }],
                ),
            );
        }
        if r.condition.is_empty() && stops_evaluation(r.set, &r.action.value) {
            stopped.insert(r.set, r);
        }
    }
    let mut conds = ByText::with_capacity(p.use_backends.len());
    let condition_text = |u: &crate::ir::UseBackend, out: &mut String| join(&u.condition, out);
    let mut unconditional: Option<&crate::ir::UseBackend> = None;
    for u in &p.use_backends {
        if let Some(first) = unconditional {
            out.push(
                Diagnostic::new("L004", format!("'use_backend {}' is never reached: an earlier 'use_backend {}' has no condition", u.target.value, first.target.value))
                    .at(u.span)
                    .with_secondary(first.span, "always taken"),
            );
            continue;
        }
        // No condition, or one empty word: what joins to an empty text.
        let no_condition = match u.condition.as_slice() {
            [] => true,
            [w] => w.value.is_empty(),
            _ => false,
        };
        if no_condition {
            unconditional = Some(u);
        } else if let Some(prev) = conds.earlier(u, condition_text) {
            out.push(
                Diagnostic::new(
                    "L004",
                    format!(
                        "'use_backend {}' is shadowed by an earlier rule with the same condition",
                        u.target.value
                    ),
                )
                .at(u.span)
                .label("never taken")
                .with_secondary(prev.span, "same condition, taken first"),
            );
        }
    }
}

/// Words joined by spaces, written to `out`.
fn join(ws: &[Spanned<Text>], out: &mut String) {
    for (i, w) in ws.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&w.value);
    }
}

/// Items seen so far by a text they make (their words joined): a hash of each text, not the
/// text, is kept (a proxy with thousands of `use_backend` rules would otherwise make a string
/// of each), and texts are compared in full only when their hashes meet.
struct ByText<'p, T> {
    first: FxHashMap<u64, &'p T>,
    /// Items whose text's hash is that of an earlier, different text.
    more: Vec<(u64, &'p T)>,
    text: String,
    other: String,
}

impl<T> ByText<'_, T> {
    fn with_capacity(items: usize) -> Self {
        ByText {
            first: FxHashMap::with_capacity_and_hasher(items, Default::default()),
            more: Vec::new(),
            text: String::new(),
            other: String::new(),
        }
    }
}

impl<'p, T> ByText<'p, T> {
    /// The first item seen with the same text as `item` (`text` writes an item's); `item` is
    /// added when there is none.
    fn earlier(&mut self, item: &'p T, text: impl Fn(&T, &mut String)) -> Option<&'p T> {
        use std::hash::BuildHasher;
        self.text.clear();
        text(item, &mut self.text);
        let hash = rustc_hash::FxBuildHasher.hash_one(self.text.as_str());
        let more = self
            .more
            .iter()
            .filter(|(h, _)| *h == hash)
            .map(|(_, t)| *t);
        for candidate in self.first.get(&hash).copied().into_iter().chain(more) {
            self.other.clear();
            text(candidate, &mut self.other);
            if self.other == self.text {
                return Some(candidate);
            }
        }
        match self.first.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(item);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.more.push((hash, item)),
        }
        None
    }
}

/// L005 the same address bound twice, L006 the same server address twice in a backend.
pub(super) fn addresses(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    let mut bound: FxHashMap<String, (&str, crate::source::Span)> = FxHashMap::default();
    // One map for every proxy: thousands of backends would otherwise allocate one each.
    let mut servers: FxHashMap<&str, &crate::ir::Server> = FxHashMap::default();
    let proxies = config.proxies.iter().enumerate();
    for (i, p) in proxies.filter(|(_, p)| p.kind != ProxyKind::Defaults && !p.disabled) {
        for b in &p.binds {
            for addr in b.address.value.split(',') {
                if let Ok(a) = crate::address::parse(addr, crate::address::Rules::BIND) {
                    if a.family == crate::address::Family::Fd
                        || a.family == crate::address::Family::SockPair
                    {
                        continue;
                    }
                    let key = format!("{:?}|{}|{:?}|{:?}", a.transport, a.host, a.ip, a.port);
                    match bound.get(&key) {
                        Some((other, span)) => out.push(
                            Diagnostic::new(
                                "L005",
                                format!("address '{addr}' is also bound by '{other}'"),
                            )
                            .at(b.address.span)
                            .label("bound twice")
                            .with_secondary(*span, "first bound here"),
                        ),
                        None => {
                            bound.insert(key, (p.name_str(), b.address.span));
                        }
                    }
                }
            }
        }
        f.proxy(Slot::ServerAddresses, i, p, out, |p, out| {
            server_addresses(p, &mut servers, out)
        });
    }
}

/// L006 in one proxy; `servers` is a scratch map.
fn server_addresses<'p>(
    p: &'p Proxy,
    servers: &mut FxHashMap<&'p str, &'p crate::ir::Server>,
    out: &mut Vec<Diagnostic>,
) {
    servers.clear();
    for s in p.servers.iter().filter(|s| s.template.is_none()) {
        let Some(a) = &s.address else { continue };
        if a.value.contains('$') {
            continue;
        }
        if let Some(first) = servers.get(a.value.as_str()) {
            out.push(
                Diagnostic::new(
                    "L006",
                    format!(
                        "server '{}' has the same address as server '{}'",
                        s.name.value, first.name.value
                    ),
                )
                .at(a.span)
                .label("duplicate address")
                .with_secondary(first.span, "first server with it"),
            );
        } else {
            servers.insert(&a.value, s);
        }
    }
}

/// L007 `option httpchk` without `check` on the servers.
pub(super) fn health_checks(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::HealthChecks, i, p, out, health_checks_of);
    }
}

/// L007 in one proxy.
fn health_checks_of(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.kind == ProxyKind::Defaults || !p.kind.has_backend() {
        return;
    }
    if p.option("httpchk") != Some(true) {
        return;
    }
    // A server checked by a `default-server check` line, or one that follows another's
    // state (`track`, which cannot go with `check`), is not one to warn about.
    let unchecked = |s: &&crate::ir::Server| {
        let words = p.server_words(s);
        crate::registry::last_switch(&words, "check", "no-check") != Some(true)
            && crate::registry::last_server_value(&words, "track").is_none()
    };
    for s in p.servers.iter().filter(unchecked) {
        out.push(
            Diagnostic::new("L007", format!("server '{}' is never health-checked although the backend sets 'option httpchk'", s.name.value))
                .at(s.name.span)
                .label("no 'check'")
                .fix("add 'check'", vec![Edit { span: crate::source::Span { start: s.span.end, ..s.span }, replacement: " check".into() }]),
        );
    }
}

/// L008 Host matched case-sensitively, L009 Host matched exactly while it may carry a port.
pub(super) fn host_matching(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    // One list for every proxy: configurations with thousands of proxies would otherwise
    // allocate it thousands of times.
    let mut criteria: Vec<&[Spanned<Text>]> = Vec::new();
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::HostMatching, i, p, out, |p, out| {
            host_matching_of(p, &mut criteria, out)
        });
    }
}

/// L008 and L009 in one proxy; `criteria` is a scratch list.
fn host_matching_of<'p>(
    p: &'p Proxy,
    criteria: &mut Vec<&'p [Spanned<Text>]>,
    out: &mut Vec<Diagnostic>,
) {
    criteria.clear();
    criteria.extend(p.acls.iter().map(|a| a.words.as_slice()));
    for cond in conditions(p) {
        let mut rest = cond;
        while let Some(open) = rest.iter().position(|w| w.value == "{") {
            let close = rest[open..]
                .iter()
                .position(|w| w.value == "}")
                .map_or(rest.len(), |c| c + open);
            criteria.push(&rest[open + 1..close]);
            rest = &rest[close.min(rest.len())..];
            if rest.is_empty() {
                break;
            }
            rest = &rest[1..];
        }
    }
    for words in criteria.iter() {
        let Some(criterion) = words.first() else {
            continue;
        };
        // Criteria are nearly always written in lower case: copy only the others.
        let c: std::borrow::Cow<str> = if criterion.value.bytes().any(|b| b.is_ascii_uppercase()) {
            criterion.value.to_ascii_lowercase().into()
        } else {
            criterion.value.as_str().into()
        };
        let host = c.starts_with("hdr(host")
            || c.starts_with("req.hdr(host")
            || c.starts_with("hdr_") && has(&c, "(host");
        if !host {
            continue;
        }
        let mut flags = words[1..]
            .iter()
            .map(|w| w.value.as_str())
            .take_while(|w| w.starts_with('-'));
        let method = words
            .windows(2)
            .find(|w| w[0].value == "-m")
            .map(|w| w[1].value.as_str());
        if !flags.any(|f| f == "-i") && !has(&c, ",lower") && !has(&c, "host_only") {
            out.push(
                Diagnostic::new(
                    "L008",
                    "the Host header is matched case-sensitively; host names are case-insensitive",
                )
                .at(criterion.span)
                .help("add '-i' before the patterns")
                .fix(
                    "add '-i'",
                    vec![Edit {
                        span: crate::source::Span {
                            start: criterion.span.end,
                            ..criterion.span
                        },
                        replacement: " -i".into(),
                    }],
                ),
            );
        }
        let exact = (c.starts_with("hdr(host")
            || c.starts_with("req.hdr(host")
            || c.starts_with("hdr_end(host"))
            && matches!(method, None | Some("str") | Some("end"));
        if exact && !has(&c, "host_only") && !has(&c, "field(1,:)") {
            out.push(
                Diagnostic::new("L009", "the Host header may carry a port ('example.com:8080'), which this exact match misses")
                    .at(criterion.span)
                    .help("match on 'req.hdr(host),host_only' (HAProxy 2.7) or use 'hdr_dom(host)'"),
            );
        }
    }
}

/// Whether the short text `c` (a criterion) holds `part`: compared in place, without the set-up
/// of a substring search, which costs more than such a text's few comparisons.
fn has(c: &str, part: &str) -> bool {
    c.as_bytes()
        .windows(part.len())
        .any(|w| w == part.as_bytes())
}

/// L010 HTTP options in TCP proxies.
pub(super) fn modes(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::Modes, i, p, out, modes_of);
    }
}

/// L010 in one proxy.
fn modes_of(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.kind == ProxyKind::Defaults || p.effective_mode() != Mode::Tcp {
        return;
    }
    // 'option httpchk' is not among them: HTTP health checks run over TCP, whatever the
    // proxy's mode, so a TCP backend checks its servers with it as an HTTP one does.
    for (name, v) in &p.options {
        // HAProxy's own warnings say it already: W257 for a frontend's 'option httplog', W259
        // for the HTTP-only options it knows.
        if name == "httplog" && p.kind.has_frontend()
            || crate::ir::ignored::warned_http_option(p.kind, name)
        {
            continue;
        }
        if v.value
            && matches!(
                name.as_str(),
                "httplog"
                    | "forwardfor"
                    | "http-server-close"
                    | "httpclose"
                    | "http-keep-alive"
                    | "http-buffer-request"
                    | "originalto"
            )
        {
            out.push(
                Diagnostic::new(
                    "L010",
                    format!(
                        "'option {name}' has no effect in {} '{}', which runs in TCP mode",
                        p.kind.type_str(),
                        p.name_str()
                    ),
                )
                .at(v.span)
                .help("set 'mode http', or remove the option (use 'option tcplog' for TCP logs)"),
            );
        }
    }
}

/// L011 a stats page without authentication.
pub(super) fn stats(c: &Compilation, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    let proxies = &c.config.proxies;
    // Proxies are in the order of the sections that opened them (a section in error opened
    // none): the next proxy is the current section's when its header is the section's.
    let mut next = 0;
    for section in c.tree.sections.iter().filter(|s| s.kind.is_proxy()) {
        let header = c.tree.header(section).words.first().map(|w| w.span);
        let opened = proxies
            .get(next)
            .zip(header)
            .filter(|(p, h)| p.header.file == h.file && p.header.start == h.start)
            .map(|_| next);
        if opened.is_some() {
            next += 1;
        }
        if !matches!(
            section.kind,
            SectionKind::Frontend | SectionKind::Listen | SectionKind::Backend
        ) {
            continue;
        }
        // The section's lines are those of its proxy: unchanged when the proxy is.
        match opened {
            Some(i) => f.proxy(Slot::Stats, i, &proxies[i], out, |_, out| {
                stats_of(&c.tree, section, out)
            }),
            None => stats_of(&c.tree, section, out),
        }
    }
    // Every proxy was opened by a section, and found: a proxy taken from the previous model
    // takes its findings of this rule too.
    debug_assert_eq!(next, proxies.len(), "each proxy's section found");
}

/// L011 in one section.
fn stats_of(
    tree: &crate::syntax::SyntaxTree,
    section: &crate::syntax::Section,
    out: &mut Vec<Diagnostic>,
) {
    let mut page = None;
    let mut auth = false;
    for line in tree.body(section) {
        let w = |i: usize| line.words.get(i).map_or("", |w| w.value.as_str());
        match (w(0), w(1)) {
            ("stats", "enable" | "uri") => page = page.or(Some(line.span)),
            ("stats", "auth") | ("http-request", "auth") => auth = true,
            // An `allow` rule alone lets everyone else in as well: only a rule that asks for
            // credentials or refuses restricts the page.
            ("stats", "http-request") if matches!(w(2), "auth" | "deny") => auth = true,
            _ => {}
        }
    }
    if let (Some(span), false) = (page, auth) {
        out.push(
            Diagnostic::new(
                "L011",
                "the statistics page is served without authentication",
            )
            .at(span)
            .help("add 'stats auth <user>:<password>' or restrict access with 'http-request auth'"),
        );
    }
}

/// L012 retries disabled while retry-on asks for retries; L013 idle-connection reuse for first
/// requests without the retry-on events that make it safe.
pub(super) fn retries(config: &Config, f: &mut Findings, out: &mut Vec<Diagnostic>) {
    for (i, p) in config.proxies.iter().enumerate() {
        f.proxy(Slot::Retries, i, p, out, retries_of);
    }
}

/// L012 and L013 in one proxy.
fn retries_of(p: &Proxy, out: &mut Vec<Diagnostic>) {
    let live = p.kind != ProxyKind::Defaults;
    if !live || !p.kind.has_backend() || p.effective_mode() != Mode::Http {
        return;
    }
    if let (Some(on), Some(r)) = (&p.retry_on, &p.retries) {
        if r.value == 0 && on.value != "none" {
            out.push(
                Diagnostic::new("L012", "'retry-on' has no effect with 'retries 0'")
                    .at(on.span)
                    .with_secondary(r.span, "retries disabled here"),
            );
        }
    }
    let reuse = p.http_reuse.as_ref().map_or("safe", |r| r.value.as_str());
    if matches!(reuse, "aggressive" | "always") {
        let on = p.retry_on.as_ref().map_or("", |r| r.value.as_str());
        let covered = on.contains("all-retryable-errors")
            || ["conn-failure", "empty-response", "response-timeout"]
                .iter()
                .all(|e| on.split(' ').any(|w| w == *e));
        if !covered {
            let span = p.http_reuse.as_ref().map_or(p.header, |r| r.span);
            out.push(
                Diagnostic::new("L013", format!("'http-reuse {reuse}' lets idle connections serve first requests, but 'retry-on' does not cover conn-failure, empty-response and response-timeout"))
                    .at(span)
                    .help("add 'retry-on conn-failure empty-response response-timeout' so a request sent on a connection the server just closed is retried"),
            );
        }
    }
}

/// L014 more threads than CPUs, L015 no process-wide maxconn.
pub(super) fn global(c: &Compilation, options: &CheckOptions, out: &mut Vec<Diagnostic>) {
    let g = &c.config.global;
    if !options.no_env {
        if let Some(n) = &g.nbthread {
            let cpus = crate::ir::default_nbthread();
            if n.value > cpus {
                out.push(
                    Diagnostic::new(
                        "L014",
                        format!(
                            "'nbthread {}' is more than the {cpus} CPUs of this machine",
                            n.value
                        ),
                    )
                    .at(n.span),
                );
            }
        }
    }
    if g.maxconn.is_none() && c.config.has_listener() {
        let at = c
            .tree
            .sections
            .iter()
            .find(|s| s.kind == SectionKind::Global)
            .map(|s| {
                // The header's words: not the text after a lone `\r`, which HAProxy skips.
                let h = c.tree.header(s);
                match (h.words.first(), h.words.last()) {
                    (Some(first), Some(last)) => first.span.cover(last.span),
                    _ => h.span,
                }
            });
        let mut d = Diagnostic::new("L015", "no 'maxconn' in the global section: the limit then derives from the file descriptor limit")
            .help("set 'maxconn' in global to the number of connections this machine should accept");
        if let Some(span) = at {
            d = d.at(span);
        }
        out.push(d);
    }
}

/// L016: `log ring@<name>` naming no ring section (HAProxy only finds out when it starts).
pub(super) fn rings(config: &Config, out: &mut Vec<Diagnostic>) {
    let proxies = config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults);
    let lines = config
        .global
        .directives
        .iter()
        .chain(proxies.flat_map(|p| p.directives.iter()));
    let mut seen = Vec::new();
    for d in lines.filter(|d| d.keyword == "log" && d.prefix.is_none()) {
        let Some(name) = d.args.first().and_then(|a| a.strip_prefix("ring@")) else {
            continue;
        };
        let known = name == "buf0"
            || config
                .section(crate::registry::SectionKind::Ring, name)
                .is_some();
        // A defaults line is inherited by every proxy: report it once.
        if known || seen.contains(&d.span) {
            continue;
        }
        seen.push(d.span);
        let what = if matches!(name, "stdout" | "stderr") {
            format!("'{name}' is an output stream, not a ring: HAProxy will refuse to start")
        } else {
            format!("no ring named '{name}': HAProxy will refuse to start (its -c does not check ring names)")
        };
        out.push(
            Diagnostic::new("L016", what)
                .at(d.span)
                .help("declare a 'ring' section with this name, or log to 'ring@buf0'"),
        );
    }
}
