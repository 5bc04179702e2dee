//! A statement's words as the handlers read them: lexed [`Word`]s, or a plain line's text and
//! the bounds of its words; and which statements a proxy keeps in its directives.

use crate::ir::model::*;
use crate::source::Span;
use crate::syntax::{Line, Word};

/// Read-only view of one statement line: its words with HAProxy's "missing word is empty" rule.
pub(in crate::ir) struct Stmt<'a> {
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
        /// The words, sliced once (as many as `bounds`).
        words: &'a [&'a str],
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

    /// The statement of `line` whose words, not lexed, are `words`, at `bounds` in the line's
    /// content (which starts where the line does); both have one entry per word.
    pub fn plain(line: &'a Line, words: &'a [&'a str], bounds: &'a [(u32, u32)]) -> Self {
        debug_assert_eq!(words.len(), bounds.len());
        Stmt {
            line,
            words: StmtWords::Plain {
                words,
                bounds,
                file: line.span.file,
                offset: line.span.start,
            },
        }
    }

    /// The statement of `line` without words (a line the plain scan refused whose words are
    /// not in the tree either).
    pub fn without_words(line: &'a Line) -> Self {
        Stmt {
            line,
            words: StmtWords::Lexed(&[]),
        }
    }

    pub fn word(&self, i: usize) -> &'a str {
        match self.words {
            StmtWords::Lexed(words) => words.get(i).map_or("", |w| w.value.as_str()),
            StmtWords::Plain { words, .. } => words.get(i).copied().unwrap_or(""),
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
                words,
                bounds,
                file,
                offset,
            } => {
                let from = bounds.get(i..).unwrap_or_default();
                let texts = words.get(i..).unwrap_or_default();
                let mut all = ThinVec::with_capacity(from.len());
                for (&word, &(start, end)) in texts.iter().zip(from) {
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
    pub fn proxy_directive(&self, at: usize, plan_lines: bool) -> Option<DirectiveLine> {
        if plan_lines || read_by_checks(self.word(at), self.word(at + 1)) {
            self.directive(at)
        } else {
            None
        }
    }

    /// The statement as a [`DirectiveLine`] when the plan lowers its keyword (`at` is the
    /// keyword's index). Other statements are not kept twice: the typed model has them.
    pub fn directive(&self, at: usize) -> Option<DirectiveLine> {
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
            // Whether HTTP/2 clients are offered extended CONNECT (`plan::h2::H2Tune`).
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
        // `plan::mailers`), and the permission to fork they need (`ir::extcheck`).
        let apps = matches!(
            word,
            "use-fcgi-app" | "email-alert" | "external-check" | "insecure-fork-wanted"
        );
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
    pub fn as_directive(&self, at: usize) -> DirectiveLine {
        DirectiveLine {
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

/// Whether the checks read a proxy's statement of this keyword (and first argument) from its
/// directives, as the plan does: `filter` (bandwidth limits, SPOE engines), `default-server` (a
/// server's TLS lists and address options), `log` (the names of log targets), `external-check`
/// (whether a proxy names its check's command), `use-server` and `stick` (their conditions'
/// fetches), the `http-check` settings only HTTP checks use (`disable-on-404`, `send-state`:
/// the rules are in the model's rules), `use-fcgi-app` (E238 pairs it with the backend's
/// FastCGI servers), `email-alert` (complete alerts and their mailers), `id` (two proxies
/// with one), the log-format strings
/// `http_aliases` checks (their HTTP-only aliases, refused outside `mode http`) and the `option`
/// lines among them that choose a log format. A
/// model built without the plan's lines keeps these, and no other: an `option httpchk` and an
/// `http-check expect` line in each of 2,500 backends were 0.6 MB held to the end for no check.
pub(crate) fn read_by_checks(keyword: &str, first_arg: &str) -> bool {
    match keyword {
        "filter" | "default-server" | "log" | "external-check" | "stats" | "capture"
        | "use-server" | "stick" | "use-fcgi-app" | "email-alert" | "id" => true,
        // What a proxy outside HTTP mode drops, or a balancing one cannot have
        // (`ir::ignored::http_settings`, `ir::checks::balance_mode`).
        "cookie" | "monitor-uri" | "balance" | "dispatch" => true,
        // A backend loading the global state file (`ir::checks::state_file_source`).
        "load-server-state-from-file" => true,
        // The slots capture rules name by id (`ir::capture_slots`); whether compression
        // joins the filter chain (`ir::filter_chain`).
        "declare" => first_arg == "capture",
        "compression" => true,
        "http-check" => matches!(first_arg, "disable-on-404" | "send-state"),
        _ => crate::ir::http_aliases::reads_keyword(keyword, first_arg),
    }
}
