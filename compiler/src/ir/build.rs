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
    /// Global settings HAProxy takes once, by keyword (`uid` for `user` too, `gid` for
    /// `group`): the line that gave each its value.
    pub global_once: rustc_hash::FxHashMap<&'static str, Span>,
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
    /// Whether proxies keep in [`Proxy::directives`](super::model::Proxy) the statements only
    /// the plan reads (off for a model that no plan is built from, see [`build_consuming`]).
    pub plan_lines: bool,
    /// Whether the checks that can only warn run (off for a caller that shows only errors, see
    /// [`build_consuming`]).
    pub warnings: bool,
}

/// Server and ACL names of the proxy whose body is being built.
#[derive(Clone, Default)]
pub(super) struct ProxyNames {
    /// The first server (not from a template) of each name, by its line span.
    pub servers: rustc_hash::FxHashMap<Text, Span>,
    /// Every declaration of each ACL name so far, those in error too: a condition finds its
    /// ACLs without a scan of them all.
    pub acl_decls: rustc_hash::FxHashMap<Text, AclPlaces>,
}

/// The declarations of one ACL name in a proxy, as indices into its `acls` (most names are
/// declared once: the first index is kept inline), and whether one was without error.
#[derive(Clone)]
pub(super) struct AclPlaces {
    first: usize,
    more: Vec<usize>,
    /// As in HAProxy, an ACL whose line is in error does not exist for the conditions after it.
    pub known: bool,
}

impl AclPlaces {
    pub fn new(first: usize, known: bool) -> Self {
        AclPlaces {
            first,
            more: Vec::new(),
            known,
        }
    }

    pub fn add(&mut self, at: usize, known: bool) {
        self.more.push(at);
        self.known |= known;
    }

    /// The indices, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// Read-only view of one statement line: its words with HAProxy's "missing word is empty" rule.
pub(super) struct Stmt<'a> {
    pub line: &'a Line,
    words: StmtWords<'a>,
}

/// Where a statement's words are: lexed into [`Word`]s, or a plain line's text with the bounds
/// of its words, whose values are made only for the words a statement keeps (most words are
/// only read: a `Word` per word cost a string and a span each, then a copy for those kept).
#[derive(Clone, Copy)]
enum StmtWords<'a> {
    Lexed(&'a [Word]),
    Plain {
        text: &'a str,
        bounds: &'a [(u32, u32)],
        file: crate::source::FileId,
        offset: u32,
    },
}

impl<'a> Stmt<'a> {
    /// The statement of a lexed line (its words in the line).
    pub fn new(line: &'a Line) -> Self {
        Stmt {
            line,
            words: StmtWords::Lexed(&line.words),
        }
    }

    /// The statement of `line` whose words, not lexed, are at `bounds` in `text`, the line's
    /// content (which starts where the line does).
    pub fn plain(line: &'a Line, text: &'a str, bounds: &'a [(u32, u32)]) -> Self {
        Stmt {
            line,
            words: StmtWords::Plain {
                text,
                bounds,
                file: line.span.file,
                offset: line.span.start,
            },
        }
    }

    pub fn word(&self, i: usize) -> &'a str {
        match self.words {
            StmtWords::Lexed(words) => words.get(i).map_or("", |w| w.value.as_str()),
            StmtWords::Plain { text, bounds, .. } => bounds
                .get(i)
                .and_then(|&(start, end)| text.get(start as usize..end as usize))
                .unwrap_or(""),
        }
    }

    pub fn len(&self) -> usize {
        match self.words {
            StmtWords::Lexed(words) => words.len(),
            StmtWords::Plain { bounds, .. } => bounds.len(),
        }
    }

    /// Span of word `i` when the line has it.
    fn word_span(&self, i: usize) -> Option<Span> {
        match self.words {
            StmtWords::Lexed(words) => words.get(i).map(|w| w.span),
            StmtWords::Plain {
                bounds,
                file,
                offset,
                ..
            } => bounds.get(i).map(|&(start, end)| Span {
                file,
                start: offset + start,
                end: offset + end,
            }),
        }
    }

    /// Span of the last word, if any.
    fn last_span(&self) -> Option<Span> {
        self.len().checked_sub(1).and_then(|i| self.word_span(i))
    }

    /// Span of word `i`, or of the end of the line when it is missing.
    pub fn span(&self, i: usize) -> Span {
        match self.word_span(i) {
            Some(span) => span,
            None => {
                let end = self.last_span().unwrap_or(self.line.span);
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
        self.last_span().map_or(first, |last| {
            if i < self.len() {
                first.cover(last)
            } else {
                first
            }
        })
    }

    /// The text of word `i` as a model keeps it (a copy of a lexed word as it is held, no new
    /// string built from its bytes).
    pub fn text(&self, i: usize) -> Text {
        match self.words {
            StmtWords::Lexed(words) => words.get(i).map(|w| w.value.clone()).unwrap_or_default(),
            StmtWords::Plain { .. } => Text::from(self.word(i)),
        }
    }

    pub fn spanned(&self, i: usize) -> Spanned<Text> {
        Spanned::new(self.text(i), self.span(i))
    }

    pub fn spanned_from(&self, i: usize) -> ThinVec<Spanned<Text>> {
        match self.words {
            StmtWords::Lexed(words) => words
                .get(i..)
                .unwrap_or_default()
                .iter()
                .map(Spanned::from_word)
                .collect(),
            StmtWords::Plain {
                text,
                bounds,
                file,
                offset,
            } => {
                let from = bounds.get(i..).unwrap_or_default();
                let mut all = ThinVec::with_capacity(from.len());
                for &(start, end) in from {
                    let word = text.get(start as usize..end as usize).unwrap_or("");
                    let span = Span {
                        file,
                        start: offset + start,
                        end: offset + end,
                    };
                    all.push(Spanned::new(Text::from(word), span));
                }
                all
            }
        }
    }

    /// The statement as a proxy keeps it in its directives, when it does: those the plan
    /// lowers ([`Stmt::directive`]) if `plan_lines`, else only those the checks read too.
    pub fn proxy_directive(
        &self,
        at: usize,
        plan_lines: bool,
    ) -> Option<super::model::DirectiveLine> {
        if plan_lines || read_by_checks(self.word(at)) {
            self.directive(at)
        } else {
            None
        }
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
            // The longest `capture cookie` (`plan::captures::cookie_capture_max`).
            | "tune.http.cookielen"
            // The load at which `minconn` servers reach their `maxconn` (`BackendPlan::fullconn`).
            | "fullconn"
            // The source address of server connections (`ServerPlan::source`).
            | "source"
            // Connection settings (`plan::sockets`).
            | "backlog"
            | "rate-limit"
            | "clitcpka-cnt"
            | "clitcpka-idle"
            | "clitcpka-intvl"
            | "srvtcpka-cnt"
            | "srvtcpka-idle"
            | "srvtcpka-intvl"
            | "http-send-name-header"
            | "log-format-sd"
            // A session's idle connections of its own (`FrontendPlan::max_session_srv_conns`).
            | "max-session-srv-conns"
            // Bounded loads of consistent hashing and the keep-alive queue limit
            // (`BackendPlan::hash_balance_factor`, `BackendPlan::max_keep_alive_queue`).
            | "hash-balance-factor"
            | "max-keep-alive-queue"
            // Whether HTTP/2 clients are offered extended CONNECT (`plan::tls::H2Tune`).
            | "h2-workaround-bogus-websocket-clients"
            // Certificate loading and chain sending (`plan::tls`).
            | "ssl-skip-self-issued-ca"
            | "ssl-load-extra-files"
        );
        let inspect_delay =
            matches!(word, "tcp-request" | "tcp-response") && self.word(at + 1) == "inspect-delay";
        // The QUIC settings, read by `plan::quic` and checked by `ir::quic`.
        let quic = word.starts_with("tune.quic.") || word == "cluster-secret";
        // The variables' size limits (`plan::var_limits`).
        let var_limits = word.starts_with("tune.vars.");
        // The compression limits (`plan::GlobalPlan::comp_rate_limit`).
        let comp_limits = matches!(
            word,
            "maxcomprate"
                | "maxzlibmem"
                | "maxcompcpuusage"
                | "tune.zlib.memlevel"
                | "tune.zlib.windowsize"
        );
        // The workers' polling (`plan::GlobalPlan::busy_polling`).
        let busy_polling = word == "busy-polling";
        // Stream task profiling (`plan::GlobalPlan::profiling_tasks`).
        let profiling = word == "profiling.tasks";
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
        // The TLS tunables and defaults, read by `plan::tls`, the process-wide TLS limits and
        // the HTTP client's settings (`plan::tls_process`).
        let tls = word.starts_with("tune.ssl.")
            || word.starts_with("ssl-default-")
            || word == "ssl-server-verify"
            || matches!(word, "maxsslconn" | "maxsslrate" | "issuers-chain-path")
            || word.starts_with("httpclient.");
        // And the HTTP filters (`plan::filters`).
        let filters = matches!(word, "compression" | "filter");
        // Cookie persistence and the monitor URI (`plan::persist`), RDP cookie persistence
        // (`BackendPlan::persist`).
        let persist = matches!(
            word,
            "cookie"
                | "persist"
                | "dynamic-cookie-key"
                | "force-persist"
                | "ignore-persist"
                | "monitor-uri"
                | "monitor"
        );
        // FastCGI applications, email alerts and external checks (`plan::fcgi`,
        // `plan::mailers`).
        let apps = matches!(word, "use-fcgi-app" | "email-alert" | "external-check");
        // The process's own settings (`plan::process`).
        let process = matches!(
            word,
            "chroot"
                | "setenv"
                | "presetenv"
                | "unsetenv"
                | "resetenv"
                | "tune.maxaccept"
                | "maxconnrate"
                | "maxsessrate"
                | "log-send-hostname"
                | "anonkey"
                | "tune.http.maxhdr"
                | "spread-checks"
                | "max-spread-checks"
                | "user"
                | "uid"
                | "group"
                | "gid"
                | "tune.rcvbuf.client"
                | "tune.rcvbuf.server"
                | "tune.sndbuf.client"
                | "tune.sndbuf.server"
                | "grace"
                | "unix-bind"
                | "h1-case-adjust"
                | "h1-case-adjust-file"
                | "h1-accept-payload-with-any-method"
                | "tune.http.logurilen"
                | "tune.comp.maxlevel"
                | "ulimit-n"
                | "fd-hard-limit"
                | "strict-limits"
                // The pipes HAProxy reserves open files for (`plan::fds`).
                | "maxpipes"
                | "noreuseport"
                | "pp2-never-send-local"
                | "close-spread-time"
        );
        if !lowered
            && !process
            && !apps
            && !inspect_delay
            && !set_var
            && !quic
            && !var_limits
            && !comp_limits
            && !busy_polling
            && !profiling
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
            args: (at + 1..self.len()).map(|i| self.text(i)).collect(),
            span: self.span_from(at),
        }
    }

    pub fn whole(&self) -> Span {
        self.word_span(0)
            .map_or(self.line.span, |f| self.span_from(0).cover(f))
    }
}

/// Whether the checks read a proxy's statements of this keyword from its directives, as the
/// plan does: `filter` (bandwidth limits, SPOE engines), `default-server` (a server's TLS
/// lists and address options), `log` (the names of log targets) and the log-format strings
/// `http_aliases` checks (their HTTP-only aliases, refused outside `mode http`). A model built
/// without the plan's lines keeps these.
pub(crate) fn read_by_checks(keyword: &str) -> bool {
    matches!(keyword, "filter" | "default-server" | "log")
        || super::http_aliases::reads_keyword(keyword)
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
            global_once: Default::default(),
            crt_base: None,
            frontend_names: Default::default(),
            acl_criteria: Default::default(),
            backend_names: Default::default(),
            ca_base: None,
            in_proxy: ProxyNames::default(),
            positional: std::cell::Cell::new(false),
            plan_lines: true,
            warnings: true,
        }
    }

    pub(super) fn globals(&self) -> GlobalsSeen {
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
/// threads cost more than they save: at 17,500 body lines (`bench/gen-config.py`'s `acl`
/// shape) a second thread saved no wall time on the shared 2-core VM and cost about 1 MiB of
/// peak RSS (its allocator pages) and 9 % more CPU time (page faults).
pub(super) const PARALLEL_BODY_LINES: usize = 32_768;

/// Builds the model from the syntax tree.
pub fn build(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
) -> (Config, Vec<Diagnostic>) {
    build_from(
        db,
        tree,
        env,
        options,
        workers_for(tree),
        None,
        Vec::new(),
        true,
        true,
    )
}

/// [`build`] for a caller that has no further use for the words of the proxy bodies (`check
/// -q`): each body's words are taken out of `tree` and freed as soon as the body is built, so
/// they and the model built from them are not held together. Unless `plan_lines` (a plan is
/// built from the model), proxies keep in their directives only the statements the checks
/// read ([`read_by_checks`]), not those only the plan lowers. The diagnostics are those of
/// [`build`], and so is the model but for those statements; `tree` keeps every line (span,
/// kind, comment), those bodies' without words. Unless `warnings`, the checks that can only
/// warn are skipped: the diagnostics are then [`build`]'s errors and some of its warnings.
pub fn build_consuming(
    db: &SourceDb,
    tree: &mut SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    let workers = workers_for(tree);
    build_consuming_with(db, tree, env, options, workers, plan_lines, warnings)
}

/// [`build_consuming`] with proxy bodies shared among `workers` threads.
pub(crate) fn build_consuming_with(
    db: &SourceDb,
    tree: &mut SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    workers: usize,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    let taken = take_body_words(tree);
    build_from(
        db, tree, env, options, workers, None, taken, plan_lines, warnings,
    )
}

/// Threads for the proxy bodies: all cores on large configurations, else one.
fn workers_for(tree: &SyntaxTree) -> usize {
    let body_lines: usize = tree
        .sections
        .iter()
        .filter(|s| s.kind.is_proxy() && s.kind != SectionKind::Defaults)
        .map(|s| s.body.len())
        .sum();
    if body_lines >= PARALLEL_BODY_LINES {
        crate::cores()
    } else {
        1
    }
}

/// The words of each body line of every frontend, backend and listen section (by section
/// index; `None` for other sections), moved out of `tree`. Only the words move: the lines stay
/// in the tree, where the build reads their spans.
fn take_body_words(tree: &mut SyntaxTree) -> Vec<Option<BodyWords>> {
    let SyntaxTree {
        files, sections, ..
    } = tree;
    sections
        .iter()
        .map(|s| {
            if !s.kind.is_proxy() || s.kind == SectionKind::Defaults {
                return None;
            }
            let lines = &mut files[s.file.0 as usize].lines;
            // A body whose lines all wait to be lexed (see `proxy_body_taking`) has nothing to
            // take: no list of empty entries for it.
            if s.body.iter().all(|&i| lines[i].words.is_empty()) {
                return Some(Vec::new());
            }
            let taken = s.body.iter().map(|&i| std::mem::take(&mut lines[i].words));
            Some(taken.collect())
        })
        .collect()
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
    build_from(
        db,
        tree,
        env,
        options,
        crate::cores(),
        Some(reuse),
        Vec::new(),
        true,
        true,
    )
}

/// [`build`] with proxy bodies shared among `workers` threads (tests choose the number).
#[cfg(test)]
pub(crate) fn build_with(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
    workers: usize,
) -> (Config, Vec<Diagnostic>) {
    build_from(
        db,
        tree,
        env,
        options,
        workers,
        None,
        Vec::new(),
        true,
        true,
    )
}

/// [`build_with`], reusing bodies, or with the bodies' lines in `taken` (by section index)
/// rather than in `tree`; proxies keep the statements only the plan reads if `plan_lines`.
#[allow(clippy::too_many_arguments)]
fn build_from(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    _options: &CheckOptions,
    workers: usize,
    reuse: Option<&mut super::reuse::BodyReuse>,
    mut taken: Vec<Option<BodyWords>>,
    plan_lines: bool,
    warnings: bool,
) -> (Config, Vec<Diagnostic>) {
    // Addresses expand `$NAME` with the environment the global section left.
    let changed = crate::env_changes::Changed {
        base: env,
        changes: &tree.environment,
    };
    let mut b = Builder::new(db, &changed);
    b.plan_lines = plan_lines;
    b.warnings = warnings;
    // Sized once: on configs with tens of thousands of proxies, growing these vectors by
    // doubling copied megabytes and left a quarter of them unused.
    let proxy_sections = tree.sections.iter().filter(|s| s.kind.is_proxy()).count();
    b.config.proxies.reserve_exact(proxy_sections);
    b.defaults_use.reserve_exact(proxy_sections);
    b.frontend_names.reserve(proxy_sections);
    b.backend_names.reserve(proxy_sections);
    let mut bodies = Vec::with_capacity(proxy_sections);
    let mut spans = crate::timing::Spans::new("build");
    for (at, section) in tree.sections.iter().enumerate() {
        let header = tree.header(section);
        let head = Stmt::new(header);
        match section.kind {
            SectionKind::Global => {
                for line in tree.body(section) {
                    global::statement(&mut b, &Stmt::new(line));
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
                    lines: taken.get_mut(at).and_then(Option::take),
                };
                // Later proxies inherit from a defaults section: its body is built in place.
                if kind == SectionKind::Defaults {
                    proxy_body(&mut b, tree.body(section), &body, index);
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
                    let stmt = Stmt::new(line);
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
    super::bodies::build_bodies(&mut b, tree, bodies, workers, reuse);
    spans.mark("bodies");
    b.config.env_changes = tree.environment.clone();
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
    pub index: usize,
    pub section: &'a crate::syntax::Section,
    pub globals: GlobalsSeen,
    /// The words of the body's lines when they were taken out of the tree (see
    /// [`build_consuming`]).
    pub lines: Option<BodyWords>,
}

/// The words of a proxy body's lines, taken out of the tree, one entry per line (none at all
/// when every line waits to be lexed by the build).
pub(super) type BodyWords = Vec<Box<[Word]>>;

/// Builds proxy `index`'s body from its statement `lines`.
pub(super) fn proxy_body<'l>(
    b: &mut Builder,
    lines: impl Iterator<Item = &'l Line> + Clone,
    body: &Body,
    index: usize,
) {
    start_body(
        b,
        statement_counts(
            lines
                .clone()
                .map(|l| l.words.first().map(|w| w.value.as_str())),
        ),
        body,
        index,
    );
    for line in lines {
        proxy::statement(b, index, &Stmt::new(line));
    }
}

/// [`proxy_body`] for a body whose `words` were taken out of the tree's `lines`: each line's
/// words are freed as soon as its statement is built, so a large body's words and what was
/// built from them are not all held together. A line without words (or past the end of
/// `words`, which is empty when no line had any) is a plain line whose words the parse left
/// out ([`crate::syntax::parse_deferring`]): it is lexed here.
pub(super) fn proxy_body_taking<'l>(
    b: &mut Builder,
    lines: impl Iterator<Item = &'l Line> + Clone,
    words: BodyWords,
    body: &Body,
    index: usize,
) {
    let db = b.db;
    let taken = words.iter().map(Some).chain(std::iter::repeat(None));
    let counts = statement_counts(lines.clone().zip(taken).map(|(line, words)| {
        match words.and_then(|w| w.first()) {
            Some(first) => Some(first.value.as_str()),
            // Deferred lines are plain: their first word is read without lexing the rest.
            None => Some(crate::lexer::first_word_of_plain(deferred_text(db, line))),
        }
    }));
    start_body(b, counts, body, index);
    let mut words = words.into_iter();
    for line in lines {
        match words.next() {
            Some(words) if !words.is_empty() => {
                let line = Line {
                    span: line.span,
                    kind: line.kind,
                    words,
                    comment: line.comment,
                    active: line.active,
                };
                proxy::statement(b, index, &Stmt::new(&line));
            }
            // A plain line: its words are read where they are, not made.
            _ => {
                let text = deferred_text(db, line);
                let bounds = crate::lexer::PlainBounds::scan(text);
                let stmt = match &bounds {
                    Some(bounds) => Stmt::plain(line, text, bounds.bounds()),
                    None => Stmt {
                        line,
                        words: StmtWords::Lexed(&[]),
                    },
                };
                proxy::statement(b, index, &stmt);
            }
        }
    }
}

/// The text the lexer reads of a line the parse left without its words.
fn deferred_text<'d>(db: &'d SourceDb, line: &Line) -> &'d str {
    let file = db.file(line.span.file);
    file.content(&file.text[line.span.start as usize..line.span.end as usize])
}

/// How many statements of a body make the entries of its longer lists, counted before the body
/// is built so that each list is sized once (a frontend of thousands of ACLs and switching
/// rules grew each list by doubling: copies, and pages touched for room left unused).
#[derive(Default)]
pub(super) struct StatementCounts {
    servers: usize,
    acls: usize,
    use_backends: usize,
}

/// [`StatementCounts`] of the lines of a body, given by their first words.
pub(super) fn statement_counts<'w>(
    first_words: impl Iterator<Item = Option<&'w str>>,
) -> StatementCounts {
    let mut counts = StatementCounts::default();
    for first in first_words.flatten() {
        match first {
            "server" => counts.servers += 1,
            "acl" => counts.acls += 1,
            "use_backend" => counts.use_backends += 1,
            _ => {}
        }
    }
    counts
}

/// Readies `b` for the statements of proxy `index`'s body, whose statements are `counts`.
pub(super) fn start_body(b: &mut Builder, counts: StatementCounts, body: &Body, index: usize) {
    b.set_globals(&body.globals);
    b.in_proxy.servers.clear();
    b.in_proxy.acl_decls.clear();
    b.in_proxy.acl_decls.reserve(counts.acls);
    let proxy = &mut b.config.proxies[index];
    proxy.servers.reserve_exact(counts.servers);
    proxy.acls.reserve_exact(counts.acls);
    proxy.use_backends.reserve_exact(counts.use_backends);
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
