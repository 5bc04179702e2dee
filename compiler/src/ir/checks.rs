//! Post-parse checks: what HAProxy verifies once every section is known.

use super::build::location;
use super::model::*;
use super::threads;
use super::CheckOptions;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;
use crate::source::SourceDb;

fn bare(code: &'static str, message: String) -> Diagnostic {
    Diagnostic::new(code, message).form(HaproxyForm::Bare)
}

/// The post-parse checks; unless `warnings`, those of a proxy that can only warn are skipped
/// (`check -q`, whose caller keeps only the errors: the errors found are the same).
pub(super) fn check(
    db: &SourceDb,
    config: &Config,
    options: &CheckOptions,
    deferred: Vec<Diagnostic>,
    certless: &[crate::source::Span],
    warnings: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    thread_binds(db, config, &mut out);
    super::quic::check(config, &mut out);
    super::tls_lists::check(db, config, &mut out);
    let mut deferred = by_proxy(config, deferred);
    let mut tracks = super::track::refusals(config);
    for (i, p) in config.proxies.iter().enumerate() {
        if let Some(mut found) = deferred.remove(&i) {
            // HAProxy compiles a proxy's switching rules before its log strings.
            found.sort_by_key(|d| !on_line_of(db, d, "use_backend"));
            out.extend(found);
        }
        proxy_checks(db, config, p, warnings, tracks.remove(&i), &mut out);
    }
    // Each proxy's listeners once all are checked: their TLS settings.
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        super::ssl_binds::check(db, config, p, certless, &mut out);
    }
    // Sections HAProxy drops or warns about once the proxies are checked, then its
    // post-parsers.
    incomplete_peers(config, &mut out);
    super::email_alerts::unused_sections(config, &mut out);
    super::postparsers::empty_resolvers(db, config, &mut out);
    super::postparsers::check(config, options, &mut out);
    // Outside any proxy (or without a place): last, in their order.
    out.extend(deferred.into_values().flatten());
    out
}

/// The checks of one proxy, in HAProxy's order; unless `warnings`, not those that only warn
/// (W273, W284, W414, W250, W251, W258, W259, W283: 1.5 of the 6 million instructions of the
/// checks on acl 20k, most of them W284's look at every condition).
fn proxy_checks(
    db: &SourceDb,
    config: &Config,
    p: &Proxy,
    warnings: bool,
    tracks: Option<Vec<Diagnostic>>,
    out: &mut Vec<Diagnostic>,
) {
    if p.kind == ProxyKind::Defaults && p.name.is_none() {
        return;
    }
    let warns = warnings && p.kind != ProxyKind::Defaults;
    if warns && !p.disabled {
        super::email_alerts::incomplete(p, out);
    }
    backend_references(db, config, p, out);
    // Gathered once, when a check first asks.
    let acls = super::layer6::AclNames::new(p);
    if warns {
        super::layer6::check(db, p, &acls, out);
    }
    table_references(config, p, out);
    super::capture_slots::check(config, p, out);
    table_peers(config, p, out);
    if p.kind != ProxyKind::Defaults && !p.disabled {
        super::email_alerts::unknown_mailers(config, p, out);
    }
    if warns {
        super::content_delay::check(p, &acls, out);
    }
    super::exprs::resolve_refs(db, config, p, out);
    section_references(db, config, p, out);
    if p.kind != ProxyKind::Defaults {
        // HAProxy drops a TCP proxy's HTTP formats before its own warnings (missing
        // timeouts, no bind).
        super::ignored::http_settings(p, out);
        super::http_aliases::tcp_fallback(p, &acls, out);
        balance_mode(db, p, out);
        if warns {
            proxy_warnings(p, out);
        }
        check_ports(p, out);
        super::http_aliases::check(p, out);
        // HAProxy checks log addresses and modes after compiling the log formats.
        if warns {
            super::ignored::check(config, p, out);
        }
        // The filters are checked after the servers' HTTP-mode settings.
        super::filter_chain::check(config, p, out);
        super::bwlim::check(config, p, out);
        if warns {
            super::httpcheck::check(p, out);
            state_file_source(config, p, out);
        }
        super::extcheck::check(config, p, out);
        duplicate_servers(db, p, out);
        // Each server's link to the one it tracks is made after its name is checked.
        out.extend(tracks.into_iter().flatten());
        super::ignored::tcp_servers(p, out);
        stats_auth_with_rules(p, out);
        super::mux::check(db, p, out);
    }
}

/// Whether the diagnostic is on a line of `keyword`.
fn on_line_of(db: &SourceDb, d: &Diagnostic, keyword: &str) -> bool {
    d.span.is_some_and(|s| {
        let file = db.file(s.file);
        let line = file.line_range(file.line_index(s.start as usize));
        file.text
            .get(line)
            .and_then(|l| l.split_whitespace().next())
            == Some(keyword)
    })
}

/// The deferred findings by the proxy whose section holds them (its index), in their order;
/// those outside every proxy under `usize::MAX`.
fn by_proxy(
    config: &Config,
    deferred: Vec<Diagnostic>,
) -> std::collections::BTreeMap<usize, Vec<Diagnostic>> {
    let mut out: std::collections::BTreeMap<usize, Vec<Diagnostic>> = Default::default();
    for d in deferred {
        // The last proxy that starts before it (proxies are in the order they are written).
        let at = d.span.map(|s| (s.file.0, s.start));
        let proxy = at.and_then(|at| {
            config
                .proxies
                .partition_point(|p| (p.header.file.0, p.header.start) <= at)
                .checked_sub(1)
        });
        out.entry(proxy.unwrap_or(usize::MAX)).or_default().push(d);
    }
    out
}

/// `stats auth` and `stats realm` become one `stats http-request auth` rule once the proxy is
/// read, which HAProxy refuses to mix with rules of the proxy's own. A proxy's first `stats`
/// line leaves the defaults' page settings behind, so only its own lines count.
fn stats_auth_with_rules(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    let stats = |what: &[&str]| {
        p.directives.iter().find(|d| {
            d.keyword == "stats"
                && d.prefix.is_none()
                && d.args.first().is_some_and(|a| what.contains(&a.as_str()))
        })
    };
    if let (Some(rule), Some(auth)) = (stats(&["http-request"]), stats(&["auth", "realm"])) {
        out.push(
            bare(
                "E282",
                format!(
                    "{} '{}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.",
                    "proxy",
                    p.name_str()
                ),
            )
            .at(rule.span)
            .label("a rule of the statistics page")
            .with_secondary(auth.span, "this 'stats' line asks for authentication too")
            .help("ask for credentials with a 'stats http-request auth' rule instead of 'stats auth'"),
        );
    }
}

/// Peers sections without this process among their peers, which HAProxy drops once it has
/// checked the proxies (a section that is `disabled` is dropped without a word). Nothing is
/// said when the local name is unknown.
fn incomplete_peers(config: &Config, out: &mut Vec<Diagnostic>) {
    let Some(local) = config.global.local_peer.as_deref() else {
        return;
    };
    for s in config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Peers)
    {
        let disabled = peers_disabled(s);
        let local_listed = s.lines.iter().any(|d| {
            matches!(d.keyword.as_str(), "peer" | "server")
                && d.args.first().is_some_and(|a| a == local)
        });
        if disabled || local_listed {
            continue;
        }
        let name = s.name.as_ref().map_or("", |n| n.value.as_str());
        out.push(
            bare(
                "W261",
                format!("Removing incomplete section 'peers {name}' (no peer named '{local}')."),
            )
            .at(s.header)
            .severity(Severity::Warning)
            .label("this process is not one of its peers")
            .help(format!(
                "add 'peer {local} <address>' for this machine, or start with '-L <name>' naming one of its peers"
            )),
        );
    }
}

/// Whether a peers section is `disabled` (its last `disabled` or `enabled` line says so).
fn peers_disabled(peers: &NamedSection) -> bool {
    peers
        .lines
        .iter()
        .rev()
        .find(|d| matches!(d.keyword.as_str(), "disabled" | "enabled"))
        .is_some_and(|d| d.keyword == "disabled")
}

/// Maps threads to groups, then checks each bind line's `thread` set against the map.
fn thread_binds(db: &SourceDb, config: &Config, out: &mut Vec<Diagnostic>) {
    let g = &config.global;
    let nbthread = g
        .nbthread
        .as_ref()
        .map_or_else(default_nbthread, |v| v.value);
    let groups = g.thread_groups.as_ref().map_or(1, |v| v.value);
    let Some(map) = threads::map_threads(g, nbthread, out) else {
        return;
    };
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        for bind in &p.binds {
            if let Err(e) = threads::resolve_bind(bind.thread.as_ref(), groups, &map) {
                let msg = format!(
                    "Proxy '{}': {e} in 'bind {}' at [{}].",
                    p.name_str(),
                    bind.address.value,
                    location(db, bind.span)
                );
                let span = bind
                    .thread
                    .as_ref()
                    .and_then(|t| t.span)
                    .unwrap_or(bind.address.span);
                out.push(
                    bare("E316", msg)
                        .at(span)
                        .label("thread set does not fit the thread groups"),
                );
            }
        }
    }
}

/// Two servers of one proxy with the same name, found once the configuration is read (so not
/// in a disabled proxy). A server given an explicit `id` is told apart by it and never
/// conflicts; only the first earlier server of the name is reported. A `server-template`
/// line's servers (`<prefix><n>`) take part, each at the template's line.
fn duplicate_servers(db: &SourceDb, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    // A server with an explicit `id` is not compared: walked only for servers whose name is
    // taken, as almost none are (the walk looks every option up in the registry).
    let has_id = |s: &Server| super::ids::server_id(s).is_some();
    let mut report = |name: &str, at: crate::Span, first: crate::Span| {
        let line = db.file(first.file).line_col(first.start as usize).line;
        out.push(
            Diagnostic::new(
                "E226",
                format!(
                    "{} '{}', another server named '{name}' was already defined at line {line}, please use distinct names.",
                    p.kind.type_str(),
                    p.name_str(),
                ),
            )
            .at(at)
            .with_secondary(first, "first defined here"),
        );
    };
    if p.servers.iter().any(|s| s.template.is_some()) {
        // Rare: each template's servers named one by one.
        let mut first: rustc_hash::FxHashMap<String, crate::Span> = Default::default();
        for s in p.servers.iter().filter(|s| !has_id(s)) {
            for name in s.names(100_001) {
                match first.get(&name) {
                    Some(&at) => report(&name, s.name.span, at),
                    None => {
                        first.insert(name, s.span);
                    }
                }
            }
        }
        return;
    }
    if p.servers.len() <= FEW_SERVERS {
        // A backend's usual handful is compared pairwise, in place: a table grew twice for
        // them, thousands of times over on large configurations.
        for (i, s) in p.servers.iter().enumerate() {
            let name = s.name.value.as_str();
            let first = p.servers[..i]
                .iter()
                .find(|e| e.name.value.as_str() == name && !has_id(e));
            if let Some(first) = first.filter(|_| !has_id(s)) {
                report(name, s.name.span, first.span);
            }
        }
        return;
    }
    let mut first: rustc_hash::FxHashMap<&str, crate::Span> =
        rustc_hash::FxHashMap::with_capacity_and_hasher(p.servers.len(), Default::default());
    for s in p.servers.iter().filter(|s| !has_id(s)) {
        match first.entry(s.name.value.as_str()) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(s.span);
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                report(&s.name.value, s.name.span, *e.get())
            }
        }
    }
}

/// Up to this many servers, a proxy's server names are compared pairwise rather than hashed.
const FEW_SERVERS: usize = 16;

/// HAProxy's default `nbthread`: the CPUs the process may run on.
pub fn default_nbthread() -> u32 {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() as u32)
        .min(threads::MAX_THREADS)
}

/// A misspelled backend name gets the closest existing one as its fix.
fn did_you_mean_backend(config: &Config, target: &Spanned<Text>, d: Diagnostic) -> Diagnostic {
    // In the configuration's order, so that a tie always picks the same name.
    let names = config
        .proxies
        .iter()
        .filter(|b| matches!(b.kind, ProxyKind::Backend | ProxyKind::Listen))
        .map(|b| b.name_str());
    match crate::registry::best_match(&target.value, names) {
        Some(best) => d.fix(
            format!("replace with '{best}'"),
            vec![crate::diagnostic::Edit {
                span: target.span,
                replacement: best.to_string(),
            }],
        ),
        None => d,
    }
}

fn backend_references(db: &SourceDb, config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.kind == ProxyKind::Defaults {
        return;
    }
    let check_target = |target: &Spanned<Text>, what: &str, out: &mut Vec<Diagnostic>| {
        match config.backend(&target.value) {
            None => {
                let d = bare(
                    "E241",
                    format!(
                        "Proxy '{}': unable to find required {what}: '{}'.",
                        p.name_str(),
                        target.value
                    ),
                )
                .at(target.span)
                .label("no backend with this name");
                out.push(did_you_mean_backend(config, target, d));
            }
            Some((_, be)) if std::ptr::eq(be, p) => out.push(
                bare(
                    "E242",
                    format!(
                        "Proxy '{}': loop detected for {what}: '{}'.",
                        p.name_str(),
                        target.value
                    ),
                )
                .at(target.span),
            ),
            // A TCP frontend may hand over to an HTTP backend (implicit upgrade); nothing else mixes.
            Some((_, be))
                if be.effective_mode() != p.effective_mode()
                    && !(p.effective_mode() == Mode::Tcp && be.effective_mode() == Mode::Http) =>
            {
                let context = if what == "default_backend" {
                    "as its default backend"
                } else {
                    "in a 'use_backend' rule"
                };
                out.push(
                    bare(
                        "E243",
                        format!(
                            "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) {context} (see 'mode').",
                            p.effective_mode().as_str(),
                            p.kind.type_str(),
                            p.name_str(),
                            location(db, p.header),
                            be.effective_mode().as_str(),
                            be.kind.type_str(),
                            be.name_str(),
                            location(db, be.header)
                        ),
                    )
                    .at(target.span)
                    .with_secondary(be.header, "backend declared here"),
                );
            }
            Some(_) => {}
        }
    };
    if let Some(d) = &p.default_backend {
        if p.kind.has_frontend() {
            check_target(d, "default_backend", out);
        }
    }
    for ub in p.use_backends.iter().filter(|u| !u.dynamic) {
        check_target(&ub.target, "use_backend", out);
    }
    for (target, _) in &p.use_servers {
        let known =
            p.servers.iter().any(|s| s.name.value == target.value) || target.value.contains("%[");
        if !known {
            out.push(
                bare(
                    "E244",
                    format!(
                        "{} '{}' : unable to find server '{}' referenced in a 'use-server' rule.",
                        p.kind.type_str(),
                        p.name_str(),
                        target.value
                    ),
                )
                .at(target.span),
            );
        }
    }
}

fn table_references(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    for r in &p.table_refs {
        let name = r.table.as_ref().map_or(p.name_str(), |t| t.value.as_str());
        let own = r.table.is_none() && p.stick_table.is_some();
        if !own && !config.has_table(name) {
            out.push(
                bare("E245", format!("Proxy '{}': unable to find table '{}' referenced by {}.", p.name_str(), name, r.by))
                    .at(r.table.as_ref().map_or(r.span, |t| t.span))
                    .label("no stick-table with this name")
                    .help("declare a 'stick-table' in a backend with this name, or name the table with 'table <name>'"),
            );
        }
    }
}

/// The peers section a proxy's stick table names must exist.
fn table_peers(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let Some(name) = p.stick_table.as_ref().and_then(|t| t.peers.as_ref()) else {
        return;
    };
    if config.section(SectionKind::Peers, &name.value).is_none() {
        out.push(
            bare("E519", format!("Proxy '{}': unable to find sync peers '{}'.", p.name_str(), name.value))
                .at(name.span)
                .label("no peers section with this name")
                .help("declare a 'peers' section with this name, or remove 'peers' from the stick-table line"),
        );
    }
}

/// A backend that balances (a `balance` line, its own or its defaults section's) cannot also
/// send each connection to the address it was meant for (`option transparent`), and its
/// `dispatch` address goes unused.
fn balance_mode(db: &SourceDb, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || !p.kind.has_backend() {
        return;
    }
    let Some(balance) = p.last_line("balance") else {
        return;
    };
    let (kind, name) = (p.kind.type_str(), p.name_str());
    // `balance hash <expr>`: the expression is compiled once the proxy is read.
    if let (Some("hash"), Some(text)) = (
        balance.args.first().map(|a| a.as_str()),
        balance.args.get(1).filter(|a| !a.is_empty()),
    ) {
        if let Err(e) = crate::expr::sample::parse(text, false) {
            out.push(
                bare(
                    "E214",
                    format!(
                        "{kind} '{name}' [{}]: failed to parse 'balance hash' expression '{text}' in : {}.",
                        location(db, p.header),
                        e.message
                    ),
                )
                .at(balance.span)
                .label("not a sample expression HAProxy compiles"),
            );
        }
    }
    if p.option("transparent") == Some(true) {
        out.push(
            bare(
                "E535",
                format!("{kind} '{name}' cannot use both transparent and balance mode."),
            )
            .at(balance.span)
            .label("this backend balances between its servers")
            .help("remove 'option transparent', or the 'balance' line"),
        );
    } else if let Some(dispatch) = p.last_line("dispatch") {
        out.push(
            bare(
                "W535",
                format!("dispatch address of {kind} '{name}' will be ignored in balance mode."),
            )
            .severity(Severity::Warning)
            .at(dispatch.span)
            .label("not used: the backend balances")
            .with_secondary(balance.span, "balance mode set here"),
        );
    }
}

/// A backend that loads its servers' state from the global `server-state-file`, which the
/// global section does not set.
fn state_file_source(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || !p.kind.has_backend() {
        return;
    }
    let source = p.last_line("load-server-state-from-file");
    let Some(line) = source.filter(|d| d.args.first().is_some_and(|a| a == "global")) else {
        return;
    };
    if config
        .global
        .directives
        .iter()
        .any(|d| d.keyword == "server-state-file")
    {
        return;
    }
    out.push(
        bare(
            "W541",
            format!(
                "backend '{}' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!",
                p.name_str()
            ),
        )
        .severity(Severity::Warning)
        .at(line.span)
        .label("no global 'server-state-file' to load")
        .help("set 'server-state-file <path>' in the global section, or load a file of the backend's own with 'load-server-state-from-file local'"),
    );
}

fn proxy_warnings(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled {
        return;
    }
    let warn = |code: &'static str, msg: String| bare(code, msg).severity(Severity::Warning);
    if p.kind == ProxyKind::Frontend && p.binds.is_empty() {
        out.push(
            warn("W250", format!("{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.kind.type_str(), p.name_str()))
                .at(p.header),
        );
    }
    if matches!(p.effective_mode(), Mode::Tcp | Mode::Http) {
        let fe = p.kind.has_frontend() && p.timeout("client").is_none();
        // A backend side matters once it has servers; a TCP one may rely on its tunnel
        // timeout instead of the server one.
        let be_side = p.kind.has_backend() && !p.servers.is_empty();
        let connect = be_side && p.timeout("connect").is_none();
        let server = be_side
            && p.timeout("server").is_none()
            && (p.effective_mode() == Mode::Http || p.timeout("tunnel").is_none());
        if fe || connect || server {
            let mut missing = Vec::new();
            if fe {
                missing.push("client");
            }
            if connect {
                missing.push("connect");
            }
            if server {
                missing.push("server");
            }
            out.push(
                warn(
                    "W251",
                    format!("missing timeouts for {} '{}'.", p.kind.type_str(), p.name_str()),
                )
                .continuation(
                    "   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                )
                .at(p.header)
                .label(format!("no 'timeout {}'", missing.join("', 'timeout ")))
                .help("set 'timeout client', 'timeout connect' and 'timeout server', usually in the defaults section"),
            );
        }
    }
}

impl Config {
    /// Whether anything would listen: HAProxy exits 2 from `-c` otherwise.
    pub fn has_listener(&self) -> bool {
        self.proxies
            .iter()
            .any(|p| p.kind != ProxyKind::Defaults && !p.disabled && !p.binds.is_empty())
            // A `stats socket` is a listener of HAProxy's CLI frontend.
            || !self.global.stats_sockets.is_empty()
            || self.sections.iter().any(|s| {
                (s.kind == SectionKind::Peers && (s.has_bind || self.lists_local_peer(s)))
                    || s.kind == SectionKind::LogForward
            })
    }

    /// Whether a peers section lists this process with a `peer` line (which listens for the
    /// other peers); unknown without a local peer name.
    fn lists_local_peer(&self, peers: &NamedSection) -> bool {
        let Some(local) = self.global.local_peer.as_deref() else {
            return false;
        };
        !peers_disabled(peers)
            && peers
                .lines
                .iter()
                .any(|d| d.keyword == "peer" && d.args.first().is_some_and(|a| a == local))
    }
}

/// Health checks need a port: HAProxy refuses a checked server whose address gives none (no
/// port, or a port relative to the client's), unless `port`/`addr` give one or the proxy's
/// check rules start by connecting to a port.
fn check_ports(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if matches!(p.kind, ProxyKind::Defaults | ProxyKind::Frontend) {
        return;
    }
    // The proxy's rules are read once, and only when a server needs them.
    let mut connect = None;
    for s in p.servers.iter().filter(|s| s.check) {
        if !needs_check_port(s) {
            continue;
        }
        let tail = match connect.get_or_insert_with(|| first_connect(p)) {
            CheckConnect::NoRules => ".",
            CheckConnect::FirstWithoutPort => {
                " nor tcp_check rule 'connect' with port information."
            }
            CheckConnect::LaterWithoutPort => {
                ", and a tcp_check rule 'connect' with no port information."
            }
            CheckConnect::Ported => continue,
        };
        out.push(
            bare(
                "E279",
                format!(
                    "config: {} '{}': server '{}' has neither service port nor check port{tail}",
                    p.kind.type_str(),
                    p.name_str(),
                    s.name.value
                ),
            )
            .at(s.name.span)
            .label("checked, but its address gives no port"),
        );
    }
}

/// Whether a checked server's own line leaves its check without a port.
fn needs_check_port(s: &crate::ir::model::Server) -> bool {
    let option = |word: ServerWords, name| {
        s.words
            .any(word)
            .then(|| super::tls_lists::option_value(&s.options, name).map(|(v, _)| v))
            .flatten()
    };
    if option(ServerWords::PORT, "port").is_some_and(positive_port) {
        return false;
    }
    let server_rules = crate::address::Rules::SERVER;
    let addr = option(ServerWords::ADDR, "addr");
    // HAProxy only asks for a port when the check goes to a known, non-zero IP: the check
    // `addr` when it names one, else the server's own address.
    let mut check_ip_known = false;
    if let Some(Ok(a)) = addr.map(|a| crate::address::parse(a, server_rules)) {
        if !inet(&a) || fixed_port(&a) {
            return false;
        }
        check_ip_known = a.ip.is_some_and(|ip| !ip.is_unspecified());
    }
    let Some(address) = &s.address else {
        return false;
    };
    if check_ip_known {
        let parsed = crate::address::parse(&address.value, server_rules);
        return parsed.is_ok_and(|a| !fixed_port(&a));
    }
    s.lacks_port
        .unwrap_or_else(|| lacks_port(&crate::address::parse(&address.value, server_rules)))
}

/// Whether a server address, as read, is an IP literal that gives a check no port.
pub(super) fn lacks_port(address: &Result<crate::address::Address, String>) -> bool {
    match address {
        // Unix sockets and the like are checked where they are.
        Ok(a) if !inet(a) => false,
        // A host name is only known once resolved (HAProxy skips the test for a server with no
        // address yet: `-dr`, `init-addr none`, SRV records); an IP literal is known now, and
        // the wildcard address (`0.0.0.0`, `::`, `*`, empty) counts as none.
        Ok(a) if a.ip.is_none_or(|ip| ip.is_unspecified()) => false,
        Ok(a) => matches!(
            a.port,
            crate::address::Port::None | crate::address::Port::Offset { .. }
        ),
        // Reported elsewhere, or resolved later (`${VAR}` in the address).
        Err(_) => false,
    }
}

/// A `port` value HAProxy takes as a port to check (a number above 0).
fn positive_port(v: &str) -> bool {
    v.parse::<u32>().is_ok_and(|p| p > 0)
}

/// Whether an address names its own port (not none, not one relative to the client's).
fn fixed_port(a: &crate::address::Address) -> bool {
    matches!(a.port, crate::address::Port::Range { low, .. } if low > 0)
}

fn inet(a: &crate::address::Address) -> bool {
    use crate::address::Family;
    matches!(a.family, Family::Unspec | Family::Inet | Family::Inet6)
}

enum CheckConnect {
    NoRules,
    FirstWithoutPort,
    LaterWithoutPort,
    Ported,
}

/// How the proxy's health-check rules connect: the protocol options (`httpchk`,
/// `mysql-check`, …) start with a send, `tcp-check`/`http-check` lines with what they say.
fn first_connect(p: &Proxy) -> CheckConnect {
    const PROTOCOL_CHECKS: [&str; 8] = [
        "httpchk",
        "ssl-hello-chk",
        "smtpchk",
        "ldap-check",
        "mysql-check",
        "pgsql-check",
        "redis-check",
        "spop-check",
    ];
    let tcp_check = p.option("tcp-check") == Some(true);
    let protocol = PROTOCOL_CHECKS.iter().find(|o| p.option(o) == Some(true));
    let set = match (protocol, tcp_check) {
        (Some(&"httpchk"), _) => crate::registry::RuleSet::HttpCheck,
        (Some(_), _) => return CheckConnect::FirstWithoutPort,
        (None, true) => crate::registry::RuleSet::TcpCheck,
        (None, false) => return CheckConnect::NoRules,
    };
    let mut rules = p
        .rules
        .iter()
        .filter(|r| r.set == set && r.action.value != "comment");
    let ported = |r: &crate::ir::model::RuleDecl| {
        r.args.windows(2).any(|w| match w[0].value.as_str() {
            "port" => positive_port(&w[1].value),
            "addr" => crate::address::parse(&w[1].value, crate::address::Rules::SERVER)
                .is_ok_and(|a| fixed_port(&a)),
            _ => false,
        })
    };
    match rules.next() {
        None if set == crate::registry::RuleSet::TcpCheck => CheckConnect::NoRules,
        Some(r) if r.action.value == "connect" && ported(r) => {
            if rules.any(|r| r.action.value == "connect" && !ported(r)) {
                CheckConnect::LaterWithoutPort
            } else {
                CheckConnect::Ported
            }
        }
        _ => CheckConnect::FirstWithoutPort,
    }
}

/// A proxy's `errorfiles` must name existing sections.
fn section_references(db: &SourceDb, config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.kind == ProxyKind::Defaults {
        return;
    }
    for e in &p.errorfiles {
        if config.section(SectionKind::HttpErrors, &e.value).is_none() {
            out.push(
                bare(
                    "E247",
                    format!(
                        "proxy '{}': unknown http-errors section '{}' (at {}).",
                        p.name_str(),
                        e.value,
                        location(db, e.span)
                    ),
                )
                .at(e.span)
                .label("no http-errors section with this name"),
            );
        }
    }
}
