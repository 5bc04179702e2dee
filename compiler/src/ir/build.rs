//! Walks the syntax tree once and builds the [`Config`] model, reporting per-line errors.

use super::model::*;
use super::{global, proxy, CheckOptions};
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::registry::SectionKind;
use crate::source::{SourceDb, Span};
use crate::syntax::{Environment, Line, SyntaxTree, Word};

/// A parsed ACL criterion: its object references, output type and map converter files (name,
/// path), or the parse error.
pub(super) type CachedCriterion = Result<
    (
        Vec<crate::expr::sample::ObjectRef>,
        crate::registry::SampleType,
        Vec<(String, String)>,
    ),
    crate::expr::sample::ExprError,
>;

/// The state shared by the statement handlers of every section.
pub(super) struct Builder<'t> {
    pub config: Config,
    pub diags: Vec<Diagnostic>,
    /// Index of the defaults section that new proxies inherit from (the last one declared).
    pub last_defaults: Option<usize>,
    /// Whether a section other than `global` was seen (some global keywords must come first).
    pub seen_non_global: bool,
    pub db: &'t SourceDb,
    /// Addresses expand `$VAR` themselves (HAProxy's `env_expand`).
    pub env: &'t dyn Environment,
    /// How each defaults section was used by regular proxies (frontend / backend capability).
    pub defaults_use: Vec<Option<ProxyKind>>,
    /// Defaults sections used by name (`from`) and used implicitly, by proxy index.
    pub defaults_explicit: rustc_hash::FxHashSet<usize>,
    pub defaults_implicit: rustc_hash::FxHashSet<usize>,
    /// `crt-base` and `ca-base` from global, applied to relative certificate paths.
    pub crt_base: Option<String>,
    /// First proxy of each name with a frontend (backend) side, for duplicate-name checks.
    pub frontend_names: rustc_hash::FxHashMap<Text, usize>,
    /// Parsed ACL criteria by text: their object references and output type, or the parse
    /// error.
    pub acl_criteria: rustc_hash::FxHashMap<String, CachedCriterion>,
    pub backend_names: rustc_hash::FxHashMap<Text, usize>,
    pub ca_base: Option<String>,
    /// Names declared so far in the proxy being built, for lookups that stay O(1) in proxies
    /// with thousands of servers or ACLs.
    pub in_proxy: ProxyNames,
    /// Set when a message got an absolute line number (see [`super::reuse`]).
    pub positional: std::cell::Cell<bool>,
}

/// Server and ACL names of the proxy whose body is being built.
#[derive(Clone, Default)]
pub(super) struct ProxyNames {
    /// The first server (not from a template) of each name, by its line span.
    pub servers: rustc_hash::FxHashMap<Text, Span>,
    pub acls: rustc_hash::FxHashSet<Text>,
    /// Every declaration of each ACL name so far, those in error too, as indices into the
    /// proxy's `acls`: a condition finds its ACLs without a scan of them all.
    pub acl_decls: rustc_hash::FxHashMap<Text, Vec<usize>>,
}

/// Read-only view of one statement line: its words with HAProxy's "missing word is empty" rule.
pub(super) struct Stmt<'a> {
    pub line: &'a Line,
}

impl<'a> Stmt<'a> {
    pub fn word(&self, i: usize) -> &'a str {
        self.line.words.get(i).map_or("", |w| w.value.as_str())
    }

    pub fn words(&self) -> &'a [Word] {
        &self.line.words
    }

    pub fn len(&self) -> usize {
        self.line.words.len()
    }

    /// Span of word `i`, or of the end of the line when it is missing.
    pub fn span(&self, i: usize) -> Span {
        match self.line.words.get(i) {
            Some(w) => w.span,
            None => {
                let end = self.line.words.last().map_or(self.line.span, |w| w.span);
                Span {
                    file: end.file,
                    start: end.end,
                    end: end.end,
                }
            }
        }
    }

    /// Span from word `i` to the last word.
    pub fn span_from(&self, i: usize) -> Span {
        let first = self.span(i);
        self.line.words.last().map_or(first, |last| {
            if i < self.len() {
                first.cover(last.span)
            } else {
                first
            }
        })
    }

    pub fn spanned(&self, i: usize) -> Spanned<Text> {
        Spanned::new(self.word(i).into(), self.span(i))
    }

    pub fn spanned_from(&self, i: usize) -> ThinVec<Spanned<Text>> {
        self.line
            .words
            .iter()
            .skip(i)
            .map(Spanned::from_word)
            .collect()
    }

    /// The statement as a [`DirectiveLine`] when the plan lowers its keyword (`at` is the
    /// keyword's index). Other statements are not kept twice: the typed model has them.
    pub fn directive(&self, at: usize) -> Option<super::model::DirectiveLine> {
        let word = self.word(at);
        // Keywords `plan::lower` reads (a `match`: one length test, not 35 comparisons, for
        // every statement).
        let lowered = matches!(
            word,
            "log"
            | "log-format"
            | "error-log-format"
            | "log-tag"
            | "capture"
            | "errorfile"
            | "http-error"
            | "option"
            | "http-check"
            | "default-server"
            | "hash-type"
            | "balance"
            | "use-server"
            | "tune.bufsize"
            | "stick-table"
            | "stick"
            | "localpeer"
            | "tune.stick-counters"
            | "tune.peers.max-updates-at-once"
            | "stats"
            | "node"
            | "description"
            | "id"
            | "hard-stop-after"
            | "mworker-max-reloads"
            // TLS bases and HTTP/2 settings (plan::tls; the `tune.ssl.*` and `ssl-default-*`
            // statements are kept by prefix below).
            | "crt-base"
            | "ca-base"
            | "tune.h2.header-table-size"
            | "tune.h2.initial-window-size"
            | "tune.h2.max-concurrent-streams"
            | "tune.h2.max-frame-size"
            // Run at start-up by the trace subsystem (plan: `GlobalPlan::traces`).
            | "trace"
            // Backends without balancing (`plan::direct`).
            | "dispatch"
            | "transparent"
            // The room kept for rewrites (`GlobalPlan::maxrewrite`).
            | "tune.maxrewrite"
            // How accepted connections spread over threads (`GlobalPlan::listener_multi_queue`).
            | "tune.listener.multi-queue"
            // Whether threads take each other's idle server connections
            // (`GlobalPlan::idle_pool_shared`).
            | "tune.idle-pool.shared"
        );
        let inspect_delay =
            matches!(word, "tcp-request" | "tcp-response") && self.word(at + 1) == "inspect-delay";
        // The QUIC settings, read by `plan::quic` and checked by `ir::quic`.
        let quic = word.starts_with("tune.quic.") || word == "cluster-secret";
        // The global section's variables (`plan::GlobalPlan::set_vars`).
        let set_var = matches!(word, "set-var" | "set-var-fmt");
        // And the Lua statements (`lua-load…`, `tune.lua.*`), read by `plan::lua`.
        let lua = word.starts_with("lua-") || word.starts_with("tune.lua.");
        // Error pages, unique ids and capture slots (`plan::errors`, `plan::http_options`,
        // `plan::captures`): capture rules only, as they number the slots with the
        // `capture`/`declare capture` lines.
        let pages = matches!(
            word,
            "errorfiles"
                | "errorloc"
                | "errorloc302"
                | "errorloc303"
                | "unique-id-format"
                | "unique-id-header"
                | "declare"
        );
        let capture_rule = (word == "http-request" && self.word(at + 1) == "capture")
            || (word == "tcp-request"
                && self.word(at + 1) == "content"
                && self.word(at + 2) == "capture");
        // The server-state files (`plan::server_state`).
        let state = word.starts_with("server-state-") || word == "load-server-state-from-file";
        // The TLS tunables and defaults, read by `plan::tls`.
        let tls = word.starts_with("tune.ssl.")
            || word.starts_with("ssl-default-")
            || word == "ssl-server-verify";
        // And the HTTP filters (`plan::filters`).
        let filters = matches!(word, "compression" | "filter");
        // Cookie persistence and the monitor URI (`plan::persist`).
        let persist = matches!(
            word,
            "cookie"
                | "dynamic-cookie-key"
                | "force-persist"
                | "ignore-persist"
                | "monitor-uri"
                | "monitor"
        );
        // FastCGI applications, email alerts and external checks (`plan::fcgi`,
        // `plan::mailers`).
        let apps = matches!(word, "use-fcgi-app" | "email-alert" | "external-check");
        if !lowered
            && !apps
            && !inspect_delay
            && !set_var
            && !quic
            && !lua
            && !tls
            && !filters
            && !persist
            && !pages
            && !capture_rule
            && !state
        {
            return None;
        }
        Some(self.as_directive(at))
    }

    /// The statement as a [`DirectiveLine`], whatever its keyword.
    pub fn as_directive(&self, at: usize) -> super::model::DirectiveLine {
        super::model::DirectiveLine {
            prefix: (at > 0).then(|| self.word(0).into()),
            keyword: self.word(at).into(),
            args: self
                .line
                .words
                .iter()
                .skip(at + 1)
                .map(|w| w.value.clone())
                .collect(),
            span: self.span_from(at),
        }
    }

    pub fn whole(&self) -> Span {
        self.line
            .words
            .first()
            .map_or(self.line.span, |f| self.span_from(0).cover(f.span))
    }
}

impl<'t> Builder<'t> {
    pub fn new(db: &'t SourceDb, env: &'t dyn Environment) -> Self {
        Builder {
            config: Config::default(),
            diags: Vec::new(),
            last_defaults: None,
            seen_non_global: false,
            db,
            env,
            defaults_use: Vec::new(),
            defaults_explicit: Default::default(),
            defaults_implicit: Default::default(),
            crt_base: None,
            frontend_names: Default::default(),
            acl_criteria: Default::default(),
            backend_names: Default::default(),
            ca_base: None,
            in_proxy: ProxyNames::default(),
            positional: std::cell::Cell::new(false),
        }
    }

    fn globals(&self) -> GlobalsSeen {
        GlobalsSeen {
            expose_experimental: self.config.global.expose_experimental,
            stick_counters: self.config.global.stick_counters,
            crt_base: self.crt_base.clone(),
            ca_base: self.ca_base.clone(),
        }
    }

    pub(super) fn set_globals(&mut self, seen: &GlobalsSeen) {
        self.config.global.expose_experimental = seen.expose_experimental;
        self.config.global.stick_counters = seen.stick_counters;
        self.crt_base.clone_from(&seen.crt_base);
        self.ca_base.clone_from(&seen.ca_base);
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Records a file the configuration depends on (checked later unless `--no-env`).
    /// A pattern file named by `-f` (or a map converter), with the words HAProxy wraps its error
    /// in.
    pub fn pattern_file_ref(&mut self, path: Spanned<Text>, prefix: String, suffix: &str) {
        self.push_pattern_file(path, prefix, suffix, false);
    }

    /// A pattern file HAProxy only opens after parsing, with its whole message prefix.
    pub fn deferred_pattern_file_ref(&mut self, path: Spanned<Text>, prefix: String) {
        self.push_pattern_file(path, prefix, ".", true);
    }

    fn push_pattern_file(
        &mut self,
        path: Spanned<Text>,
        prefix: String,
        suffix: &str,
        after: bool,
    ) {
        self.config.files.push(FileRef {
            kind: FileKind::PatternFile,
            path,
            keyword: "-f".to_string(),
            base: None,
            wording: Some((prefix, suffix.to_string())),
            after_parse: after,
        });
    }

    pub fn file_ref(&mut self, kind: FileKind, keyword: &str, path: Spanned<Text>) {
        let base = match kind {
            FileKind::Certificate | FileKind::CertificateList | FileKind::PrivateKey => {
                self.crt_base.clone()
            }
            FileKind::CaFile | FileKind::CrlFile => self.ca_base.clone(),
            _ => None,
        };
        self.config.files.push(FileRef {
            kind,
            path,
            keyword: keyword.to_string(),
            base,
            wording: None,
            after_parse: false,
        });
    }

    /// The file kind of a certificate-related bind/server option, if it names a file.
    pub fn tls_file_kind(option: &str) -> Option<FileKind> {
        match option {
            "crt" => Some(FileKind::Certificate),
            "crt-list" => Some(FileKind::CertificateList),
            "ca-file" | "ca-verify-file" | "ca-sign-file" => Some(FileKind::CaFile),
            "crl-file" => Some(FileKind::CrlFile),
            _ => None,
        }
    }

    /// `file:line` of a span, as HAProxy embeds it in messages.
    pub fn location(&self, span: Span) -> String {
        self.positional.set(true);
        location(self.db, span)
    }

    /// The 1-based line number of a byte offset, for messages.
    pub fn line_number(&self, span: Span) -> u32 {
        self.positional.set(true);
        self.db.file(span.file).line_col(span.start as usize).line
    }
}

/// `file:line` of a span, as HAProxy embeds it in messages.
pub(super) fn location(db: &SourceDb, span: Span) -> String {
    let f = db.file(span.file);
    format!("{}:{}", f.name, f.line_col(span.start as usize).line)
}

/// Proxy bodies (frontends, backends, listens) hold most lines of large configurations and
/// read nothing of one another, so above this many lines they are built on all cores. Below it
/// threads cost more than they save.
const PARALLEL_BODY_LINES: usize = 8192;

/// Shares of the proxy bodies per thread (see [`build_bodies_from`]).
const SHARES_PER_THREAD: usize = 4;

/// Builds the model from the syntax tree.
pub fn build(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
) -> (Config, Vec<Diagnostic>) {
    let body_lines: usize = tree
        .sections
        .iter()
        .filter(|s| s.kind.is_proxy() && s.kind != SectionKind::Defaults)
        .map(|s| s.body.len())
        .sum();
    let workers = if body_lines >= PARALLEL_BODY_LINES {
        crate::cores()
    } else {
        1
    };
    build_with(db, tree, env, options, workers, None)
}

/// [`build`] reusing the proxy bodies of a previous build that still hold (see
/// [`super::reuse`]); the model and diagnostics are those of [`build`].
pub fn build_reusing(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    reuse: &mut super::reuse::BodyReuse,
) -> (Config, Vec<Diagnostic>) {
    build_with(db, tree, env, options, crate::cores(), Some(reuse))
}

/// [`build`] with proxy bodies shared among `workers` threads (tests choose the number).
pub(crate) fn build_with(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    _options: &CheckOptions,
    workers: usize,
    reuse: Option<&mut super::reuse::BodyReuse>,
) -> (Config, Vec<Diagnostic>) {
    let mut b = Builder::new(db, env);
    // Sized once: on configs with tens of thousands of proxies, growing these vectors by
    // doubling copied megabytes and left a quarter of them unused.
    let proxy_sections = tree.sections.iter().filter(|s| s.kind.is_proxy()).count();
    b.config.proxies.reserve_exact(proxy_sections);
    b.defaults_use.reserve_exact(proxy_sections);
    let mut bodies = Vec::new();
    let mut spans = crate::timing::Spans::new("build");
    for section in &tree.sections {
        let header = tree.header(section);
        let head = Stmt { line: header };
        match section.kind {
            SectionKind::Global => {
                for line in tree.body(section) {
                    global::statement(&mut b, &Stmt { line });
                }
            }
            kind if kind.is_proxy() => {
                b.seen_non_global = true;
                let Some(index) = proxy::open(&mut b, kind, &head) else {
                    continue;
                };
                let body = Body {
                    index,
                    section,
                    globals: b.globals(),
                };
                // Later proxies inherit from a defaults section: its body is built in place.
                if kind == SectionKind::Defaults {
                    proxy_body(&mut b, tree, &body, index);
                } else {
                    bodies.push(body);
                }
            }
            kind => {
                b.seen_non_global = true;
                let mut named = NamedSection {
                    kind,
                    name: (head.len() > 1).then(|| head.spanned(1)),
                    header: head.whole(),
                    members: Vec::new(),
                    has_bind: false,
                    lines: Vec::new(),
                };
                for line in tree.body(section) {
                    let stmt = Stmt { line };
                    global::other_section_statement(&mut b, &mut named, &stmt);
                    // The plan lowers resolvers, program, cache, ring, log-forward, fcgi-app and
                    // mailers sections from their statements.
                    if matches!(
                        kind,
                        SectionKind::Resolvers
                            | SectionKind::Program
                            | SectionKind::Cache
                            | SectionKind::Ring
                            | SectionKind::LogForward
                            | SectionKind::FcgiApp
                            | SectionKind::Mailers
                    ) {
                        let at = usize::from(matches!(stmt.word(0), "no" | "default"));
                        if !stmt.word(at).is_empty() {
                            named.lines.push(stmt.as_directive(at));
                        }
                    }
                }
                b.config.sections.push(named);
            }
        }
    }
    spans.mark("sections and headers");
    build_bodies(&mut b, tree, bodies, workers, reuse);
    spans.mark("bodies");
    b.config.reindex();
    spans.mark("reindex");
    spans.done();
    (b.config, b.diags)
}

/// The global settings a proxy body reads, as they stood when its section began (a later
/// `global` section does not apply to it). Bodies are built after every header, possibly on
/// another thread with a builder of its own: a body that needs another global setting must
/// have it added here, or it would read the wrong value.
#[derive(Hash)]
pub(super) struct GlobalsSeen {
    expose_experimental: bool,
    /// `tune.stick-counters`: how many sticky counters rules may name.
    stick_counters: Option<u32>,
    crt_base: Option<String>,
    ca_base: Option<String>,
}

/// A proxy whose statements are still to be built.
pub(super) struct Body<'a> {
    index: usize,
    pub section: &'a crate::syntax::Section,
    pub globals: GlobalsSeen,
}

fn proxy_body(b: &mut Builder, tree: &SyntaxTree, body: &Body, index: usize) {
    start_body(b, tree, body, index);
    for line in tree.body(body.section) {
        proxy::statement(b, index, &Stmt { line });
    }
}

/// Readies `b` for the statements of proxy `index`'s body.
pub(super) fn start_body(b: &mut Builder, tree: &SyntaxTree, body: &Body, index: usize) {
    b.set_globals(&body.globals);
    b.in_proxy.servers.clear();
    b.in_proxy.acls.clear();
    b.in_proxy.acl_decls.clear();
    let servers = tree
        .body(body.section)
        .filter(|l| l.words.first().is_some_and(|w| w.value == "server"))
        .count();
    b.config.proxies[index].servers.reserve_exact(servers);
}

/// Builds the bodies of frontends, backends and listens: in order on small configurations, in
/// contiguous shares on all cores on large ones, and only those whose previous build does not
/// hold when `reuse` has them. Each body is built by a builder without the other proxies; the
/// results are put back in source order, so the model and the diagnostics are the same either
/// way.
fn build_bodies(
    b: &mut Builder,
    tree: &SyntaxTree,
    bodies: Vec<Body>,
    workers: usize,
    mut reuse: Option<&mut super::reuse::BodyReuse>,
) {
    // Bodies set the globals they saw; the model keeps the final ones.
    let last = b.globals();
    let db = b.db;
    let mut spans = crate::timing::Spans::new("proxy bodies");
    let fingerprints: Vec<u64> = match reuse.as_deref_mut() {
        Some(r) => bodies
            .iter()
            .map(|body| {
                let proxy = &b.config.proxies[body.index];
                r.fingerprint(
                    db,
                    tree,
                    body.section,
                    proxy,
                    &b.config.proxies,
                    &body.globals,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let mut built: Vec<Option<(Proxy, BodyOutput)>> = match reuse.as_deref_mut() {
        Some(r) => bodies
            .iter()
            .zip(&fingerprints)
            .map(|(body, &f)| r.take(db, tree, body.section, f))
            .collect(),
        // Nothing to reuse: no slot per body (on 10,000 backends that is megabytes of `None`).
        None => Vec::new(),
    };
    let missing: Vec<&Body> = bodies
        .iter()
        .enumerate()
        .filter(|&(i, _)| built.get(i).is_none_or(Option::is_none))
        .map(|(_, body)| body)
        .collect();
    let plans: Vec<Plan> = match reuse.as_deref_mut() {
        Some(r) => missing
            .iter()
            .map(|body| {
                let proxy = &b.config.proxies[body.index];
                r.plan(
                    db,
                    tree,
                    body.section,
                    proxy,
                    &b.config.proxies,
                    &body.globals,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let lines: usize = missing
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let resumed = plans.get(i).and_then(|p| p.resume.as_ref());
            d.section.body.len() - resumed.map_or(0, |r| r.1)
        })
        .sum();
    // Reused bodies cost nothing: only the lines to build decide on threads.
    let workers = if reuse.is_some() && lines < PARALLEL_BODY_LINES {
        1
    } else {
        workers.min(missing.len())
    };
    spans.mark("reuse");
    // Each share's results are freed as soon as they are moved into the model.
    let mut fresh = build_bodies_from(b, tree, &missing, workers, plans)
        .into_iter()
        .flatten();
    spans.mark("build");
    for (i, body) in bodies.iter().enumerate() {
        let (proxy, output) = match built.get_mut(i).and_then(Option::take) {
            Some(done) => done,
            None => match fresh.next() {
                Some((proxy, output, kept)) => {
                    if let (Some(r), Some(kept)) = (reuse.as_deref_mut(), kept) {
                        r.keep(db, tree, body.section, kept);
                    }
                    (proxy, output)
                }
                None => continue,
            },
        };
        b.config.proxies[body.index] = proxy;
        match reuse.as_deref_mut() {
            Some(r) => {
                b.diags.extend(output.diags.iter().cloned());
                b.config.files.extend(output.files.iter().cloned());
                b.config.acl_hosts.extend(output.acl_hosts.iter().cloned());
                r.remember(db, tree, body.section, fingerprints[i], body.index, output);
            }
            None => {
                b.diags.extend(output.diags);
                b.config.files.extend(output.files);
                b.config.acl_hosts.extend(output.acl_hosts);
            }
        }
    }
    spans.mark("merge");
    // Source order, as `check::compile` sorts them anyway.
    b.diags.sort_by_key(Diagnostic::source_order);
    b.set_globals(&last);
    // Files in the order of their lines, as if every section had been built where it stands
    // (several files of one line keep the order the line gave them).
    b.config.files.sort_by_cached_key(|f| {
        let file = db.file(f.path.span.file);
        (
            f.path.span.file.0,
            file.line_index(f.path.span.start as usize),
        )
    });
    spans.mark("sort");
    spans.done();
}

use super::reuse::{BodyOutput, Kept, Plan};

/// A body's proxy and output, and the state it kept for the next build.
type Built = (Proxy, BodyOutput, Option<Kept>);

/// A body's proxy as its header opened it, and how to build it.
type Opened = (Proxy, Plan);

/// Builds `bodies` (their proxies as their headers opened them, taken from `b`) with `workers`
/// threads, each as its plan says when there is one, and returns each one's proxy and output
/// in order, share by share (not gathered in one list: on a large configuration that would
/// hold every built proxy twice).
fn build_bodies_from(
    b: &mut Builder,
    tree: &SyntaxTree,
    bodies: &[&Body],
    workers: usize,
    plans: Vec<Plan>,
) -> Vec<Vec<Built>> {
    let mut plans = plans.into_iter();
    let mut opened: Vec<Opened> = bodies
        .iter()
        .map(|body| {
            let p = &mut b.config.proxies[body.index];
            let placeholder = Proxy::new(p.kind, None, p.header);
            let plan = plans.next().unwrap_or_default();
            (std::mem::replace(p, placeholder), plan)
        })
        .collect();
    let (db, env) = (b.db, b.env);
    if workers < 2 {
        let mut w = Builder::new(db, env);
        return vec![build_share(&mut w, tree, bodies, &mut opened)];
    }
    // Contiguous shares of about the same number of lines, several per thread: lines differ in
    // cost (a condition costs more than a server), so threads take the next share when done.
    let lines: usize = bodies.iter().map(|d| d.section.body.len()).sum();
    let count = workers * SHARES_PER_THREAD;
    let mut shares: Vec<(&[&Body], Vec<Opened>)> = Vec::with_capacity(count);
    let (mut from, mut acc) = (0, 0);
    let mut rest = opened.into_iter();
    for (i, body) in bodies.iter().enumerate() {
        acc += body.section.body.len();
        if acc * count >= lines * (shares.len() + 1) && shares.len() + 1 < count {
            shares.push((
                &bodies[from..=i],
                rest.by_ref().take(i + 1 - from).collect(),
            ));
            from = i + 1;
        }
    }
    shares.push((&bodies[from..], rest.collect()));
    /// A share's opened proxies, then what they built into.
    type Slot = std::sync::Mutex<(Vec<Opened>, Vec<Built>)>;
    let slots: Vec<Slot> = shares
        .into_iter()
        .map(|(_, proxies)| std::sync::Mutex::new((proxies, Vec::new())))
        .collect();
    let mut starts = Vec::with_capacity(slots.len());
    let mut at = 0;
    for slot in &slots {
        let n = slot.lock().map_or(0, |s| s.0.len());
        starts.push(at..at + n);
        at += n;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (Some(slot), Some(range)) = (slots.get(i), starts.get(i)) else {
            break;
        };
        // Each share is taken by one thread only: the lock is never contended.
        let mut slot = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (proxies, out) = &mut *slot;
        let mut w = Builder::new(db, env);
        *out = build_share(&mut w, tree, &bodies[range.clone()], proxies);
        // Only placeholders are left: free them now rather than with the other shares.
        *proxies = Vec::new();
    };
    let lua_scope = crate::lua::scope();
    let lua_seen = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // A thread the system refuses leaves its shares to the others and to this one.
            let _ = std::thread::Builder::new().spawn_scoped(scope, || {
                let ((), seen) = crate::lua::within(&lua_scope, work);
                if let Ok(mut all) = lua_seen.lock() {
                    all.extend(seen);
                }
            });
        }
        work();
    });
    crate::lua::record_seen(
        lua_seen
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .1
        })
        .collect()
}

/// Builds `bodies` one after the other with `w`, each from its opened proxy and plan.
fn build_share(
    w: &mut Builder,
    tree: &SyntaxTree,
    bodies: &[&Body],
    opened: &mut [Opened],
) -> Vec<Built> {
    let mut out = Vec::with_capacity(bodies.len());
    for (body, (proxy, plan)) in bodies.iter().zip(opened.iter_mut()) {
        let placeholder = Proxy::new(proxy.kind, None, proxy.header);
        w.config.proxies.clear();
        w.config.proxies.push(std::mem::replace(proxy, placeholder));
        w.positional.set(false);
        let plan = std::mem::take(plan);
        let kept = if plan.resume.is_none() && plan.capture.is_none() {
            proxy_body(w, tree, body, 0);
            None
        } else {
            super::reuse::build_planned(w, tree, body, plan)
        };
        let Some(built) = w.config.proxies.pop() else {
            continue;
        };
        out.push((
            built,
            BodyOutput {
                diags: std::mem::take(&mut w.diags),
                files: std::mem::take(&mut w.config.files),
                acl_hosts: std::mem::take(&mut w.config.acl_hosts),
                positional: w.positional.get(),
            },
            kept,
        ));
    }
    out
}

/// The `no`/`default` prefixes HAProxy accepts, and the error for any other use.
pub(super) fn check_prefix(b: &mut Builder, stmt: &Stmt) -> usize {
    let first = stmt.word(0);
    if first != "no" && first != "default" {
        return 0;
    }
    const ALLOWED: [&str; 7] = [
        "option",
        "log",
        "busy-polling",
        "set-dumpable",
        "strict-limits",
        "insecure-fork-wanted",
        "numa-cpu-mapping",
    ];
    if !ALLOWED.contains(&stmt.word(1)) {
        let d = Diagnostic::new(
            "E200",
            "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        );
        b.push(d.at(stmt.span(0)).label("this prefix is not allowed here"));
    }
    1
}

/// HAProxy's `invalid_char`: the first character not allowed in a proxy or object name.
pub(super) fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
}

/// HAProxy reports a too-short message with this shape; used for all "missing argument" errors.
pub(super) fn tight(d: Diagnostic) -> Diagnostic {
    d.form(HaproxyForm::ParsingTight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::MapEnv;

    fn configs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                configs(&p, out);
            } else if p.extension().is_some_and(|e| e == "cfg") {
                out.push(p);
            }
        }
    }

    /// The model and diagnostics of `text` built in order and with `workers` threads.
    fn both_ways(name: &str, text: &str, workers: usize) {
        let mut db = SourceDb::new();
        db.add(name, text);
        let env = MapEnv::default();
        let (tree, _) = crate::syntax::parse(&db, &env);
        let options = CheckOptions::default();
        let (seq_config, mut seq_diags) = build_with(&db, &tree, &env, &options, 1, None);
        let (par_config, par_diags) = build_with(&db, &tree, &env, &options, workers, None);
        // Source order, as `check::compile` sorts them.
        seq_diags.sort_by_key(Diagnostic::source_order);
        assert_eq!(
            format!("{seq_config:?}"),
            format!("{par_config:?}"),
            "{name}"
        );
        assert_eq!(seq_diags, par_diags, "{name}");
    }

    #[test]
    fn proxy_bodies_build_the_same_on_any_number_of_threads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        configs(
            &crate::testkit::corpus_dir().join("regtests-2.7"),
            &mut files,
        );
        configs(&root.join("testdata"), &mut files);
        files.sort();
        assert!(files.len() > 200, "corpus and fixtures found");
        // All of them as one file: thousands of proxies with every kind of error, with global
        // sections (crt-base, expose-experimental-directives) between them.
        let mut all = String::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            both_ways(&f.display().to_string(), &text, 2);
            all.push_str(&text);
            all.push('\n');
        }
        for workers in [2, 3, 7] {
            both_ways("all.cfg", &all, workers);
        }
    }
}
