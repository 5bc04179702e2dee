//! Walks the syntax tree once and builds the [`Config`] model, reporting per-line errors.
//!
//! This module holds the builder's state, which every statement handler shares; [`walk`] has
//! the entry points and the walk over sections, [`body`] builds one proxy body and [`stmt`]
//! reads a statement's words.

mod body;
mod stmt;
mod walk;

pub(super) use body::{
    proxy_body, proxy_body_taking, start_body, statement_counts, Body, BodyWords,
};
#[cfg(test)]
pub(crate) use stmt::read_by_checks;
pub(super) use stmt::Stmt;
pub(super) use walk::PARALLEL_BODY_LINES;
pub use walk::{build, build_consuming, build_reusing};
#[cfg(test)]
pub(crate) use walk::{build_consuming_with, build_with};

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::source::{SourceDb, Span};
use crate::syntax::Environment;

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
    /// The headers of the sections (not proxies) HAProxy refused to create: their names are
    /// not taken (see [`super::section_names`]).
    pub refused_sections: Vec<crate::source::Span>,
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
    /// Whether the files a line names are looked at (not under `--no-env`), where what HAProxy
    /// makes of the line depends on them.
    pub files_checked: bool,
    /// Whether HAProxy stops reading at an error of the line being built (an HTTP rule's):
    /// the errors pushed meanwhile, and the files and host names the line names, say so.
    pub aborting_line: bool,
}

/// ACL names of the proxy whose body is being built.
#[derive(Clone, Default)]
pub(super) struct ProxyNames {
    /// Every declaration of each ACL name so far, those in error too: a condition finds its
    /// ACLs without a scan of them all.
    pub acl_decls: rustc_hash::FxHashMap<Text, AclPlaces>,
    /// A `filter spoe` line has had its configuration file read: HAProxy reads it as it reads
    /// a configuration, and forgets the name of the section it was in until the next one
    /// starts (its messages then name a `(null)` section).
    pub section_name_lost: bool,
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

impl<'t> Builder<'t> {
    pub fn new(db: &'t SourceDb, env: &'t dyn Environment) -> Self {
        let mut config = Config::default();
        config.global.local_peer = env.var("HAPROXY_LOCALPEER");
        Builder {
            config,
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
            refused_sections: Vec::new(),
            ca_base: None,
            in_proxy: ProxyNames::default(),
            positional: std::cell::Cell::new(false),
            plan_lines: true,
            warnings: true,
            files_checked: true,
            aborting_line: false,
        }
    }

    pub(super) fn globals(&self) -> GlobalsSeen {
        GlobalsSeen {
            expose_experimental: self.config.global.expose_experimental,
            stick_counters: self.config.global.stick_counters,
            crt_base: self.crt_base.clone(),
            ca_base: self.ca_base.clone(),
            default_path: self.config.global.default_path.clone(),
            files_checked: self.files_checked,
        }
    }

    pub(super) fn set_globals(&mut self, seen: &GlobalsSeen) {
        self.config.global.expose_experimental = seen.expose_experimental;
        self.config.global.stick_counters = seen.stick_counters;
        self.crt_base.clone_from(&seen.crt_base);
        self.ca_base.clone_from(&seen.ca_base);
        self.config
            .global
            .default_path
            .clone_from(&seen.default_path);
        self.files_checked = seen.files_checked;
    }

    /// The length of the file a line names, relative paths under `default-path`, or `None`
    /// when it does not open.
    pub fn file_len(&self, path: &str) -> Option<u64> {
        let default_path = self.config.global.default_path.as_deref();
        let path = crate::envcheck::under_default_path(std::path::Path::new(path), default_path);
        Some(std::fs::File::open(path).ok()?.metadata().ok()?.len())
    }

    pub fn push(&mut self, mut d: Diagnostic) {
        // E230: HAProxy refuses an HTTP rule of an anonymous defaults section before parsing it.
        if self.aborting_line && d.is_error() && d.code != "E230" {
            d.haproxy_aborts = true;
        }
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
            aborts: self.aborting_line,
            server_context: None,
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
            aborts: self.aborting_line,
            server_context: None,
        });
    }

    /// `file:line` of a span, as HAProxy embeds it in messages.
    pub fn location(&self, span: Span) -> String {
        self.positional.set(true);
        location(self.db, span)
    }
}

/// `file:line` of a span, as HAProxy embeds it in messages.
pub(super) fn location(db: &SourceDb, span: Span) -> String {
    let f = db.file(span.file);
    format!("{}:{}", f.name, f.line_col(span.start as usize).line)
}

/// The global settings a proxy body reads, as they stood when its section began (a later
/// `global` section does not apply to it). Bodies are built after every header, possibly on
/// another thread with a builder of its own: a body that needs another global setting must
/// have it added here, or it would read the wrong value.
#[derive(Hash, PartialEq)]
pub(super) struct GlobalsSeen {
    expose_experimental: bool,
    /// `tune.stick-counters`: how many sticky counters rules may name.
    stick_counters: Option<u32>,
    crt_base: Option<String>,
    ca_base: Option<String>,
    /// `default-path`: where relative file names start from.
    default_path: Option<String>,
    /// Not a setting, but read with them: whether files are looked at (not under `--no-env`).
    files_checked: bool,
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
    // Read as bytes: a character past ASCII starts with a byte that is refused too.
    let at = name
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':')))?;
    name[at..].chars().next()
}

/// HAProxy reports a too-short message with this shape; used for all "missing argument" errors.
pub(super) fn tight(d: Diagnostic) -> Diagnostic {
    d.form(HaproxyForm::ParsingTight)
}
