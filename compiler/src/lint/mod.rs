//! Lints: checks HAProxy's `-c` does not make, each with an `L` code (see `codes.rs`), a default
//! severity the user can change (`--allow/--warn/--deny`, `.hapee.toml`, or a
//! `# hapee: allow(CODE)` comment on the line), and a fix where one exists.

mod config;
mod rules;

use crate::check::Compilation;
use crate::diagnostic::Diagnostic;
use crate::ir::CheckOptions;

pub use config::{Level, LintConfig};

/// Runs every lint over a compilation that has no errors.
pub fn run(c: &Compilation, options: &CheckOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    rules::references(&c.config, &mut out);
    rules::rule_order(&c.config, &mut out);
    rules::addresses(&c.config, &mut out);
    rules::health_checks(&c.config, &mut out);
    rules::host_matching(&c.config, &mut out);
    rules::modes(&c.config, &mut out);
    rules::stats(c, &mut out);
    rules::retries(&c.config, &mut out);
    rules::rings(&c.config, &mut out);
    rules::global(c, options, &mut out);
    out
}
