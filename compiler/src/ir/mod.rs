//! The typed model of a configuration, built from the syntax tree, with HAProxy's checks.
//!
//! [`build`] walks every active statement once: it resolves the keyword against the registry,
//! records what later stages need in typed form (proxies, binds, servers, rules, names), and reports
//! per-line errors. [`check`] then runs the post-parse checks HAProxy makes once every section is
//! known (name resolution, inheritance rules, thread mapping, mode compatibility).

mod acl;
mod action_tail;
mod bind;
mod bodies;
mod bwlim;
mod capture_slots;
mod fcgi;
pub(crate) mod filter_chain;
pub(crate) use bind::check_ignore_err;
mod build;
mod check_expect;
mod check_words;
mod checks;
mod connect_addrs;
mod content_delay;
mod cookie;
mod cpumap;
mod directives;
mod email_alerts;
mod exprs;
mod extcheck;
mod global;
mod global_once;
mod global_stats;
mod global_tunes;
mod global_values;
mod global_vars;
mod http_aliases;
mod http_check_send;
mod httpcheck;
mod ids;
pub(crate) mod ignored;
mod keywords;
mod layer6;
mod log_formats;
mod model;
mod mux;
mod order;
mod places;
mod postparsers;
pub(crate) mod proxy;
mod proxy_args;
mod proxy_names;
pub mod quic;
mod redirect_words;
mod replies;
pub mod reuse;
mod ring;
mod rule_args;
mod rules;
mod section_lines;
mod section_names;
mod server_line;
mod server_values;
mod shift;
mod ssl_binds;
mod stick_table;
pub(crate) use shift::{Shift, Shifter};
mod stkctr;
pub(crate) use rule_args::unknown_service;
mod threads;
mod timeouts;
mod tls_lists;
mod tls_versions;
mod track;
pub use tls_lists::crt_list_line_lists;
pub mod values;

pub use acl::patterns_take_operators;
pub use build::{build, build_consuming, build_reusing};
pub use checks::default_nbthread;
pub use cpumap::thread_cpus;
pub(crate) use global_tunes::{case_adjust_froms, case_adjust_pair};
pub use keywords::unknown_action;
pub use model::*;
pub use threads::{map_threads, resolve_bind};

use crate::diagnostic::Diagnostic;
use crate::source::{SourceDb, Span};
use crate::syntax::{Environment, SyntaxTree};

/// Options that change what the checks may look at.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Skip checks that depend on the machine: files, certificates, name resolution.
    pub no_env: bool,
    /// The command line asked for master-worker mode (`-W`, `-Ws`).
    pub master_worker: bool,
    /// Run hapee's own lints after HAProxy's checks (off for the HAProxy-compatible `-c`).
    pub lints: bool,
    /// HAProxy's `-dr`: a server name that does not resolve only disables the server.
    pub resolve_dontfail: bool,
}

/// The checks HAProxy makes once every section is read (references, modes, thread mappings…).
pub fn post_parse_checks(
    db: &SourceDb,
    config: &Config,
    options: &CheckOptions,
) -> Vec<Diagnostic> {
    checks::check(db, config, options, Vec::new(), &[], true)
}

/// [`post_parse_checks`], with what was found earlier but is HAProxy's to report once the
/// configuration is read (strings it compiles then, files it opens then): each is reported
/// first among the findings of the proxy it is written in, as HAProxy reaches it there.
/// `certless` holds the spans of the `crt`/`crt-list` words that loaded no certificate
/// ([`crate::envcheck::certless`]). Unless `warnings`, checks of a proxy that can only warn
/// are skipped: the errors are the same (a caller that shows only errors).
pub fn post_parse_checks_with(
    db: &SourceDb,
    config: &Config,
    options: &CheckOptions,
    deferred: Vec<Diagnostic>,
    certless: &[Span],
    warnings: bool,
) -> Vec<Diagnostic> {
    checks::check(db, config, options, deferred, certless, warnings)
}

/// Builds the model and runs every check, returning the model and all diagnostics in source order
/// for per-line ones, followed by post-parse ones.
pub fn analyze(
    db: &SourceDb,
    tree: &SyntaxTree,
    env: &dyn Environment,
    options: &CheckOptions,
) -> (Config, Vec<Diagnostic>) {
    let (config, mut diags) = build(db, tree, env, options);
    diags.extend(checks::check(db, &config, options, Vec::new(), &[], true));
    (config, diags)
}
