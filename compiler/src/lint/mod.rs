//! Lints: checks HAProxy's `-c` does not make, each with an `L` code (see `codes.rs`), a default
//! severity the user can change (`--allow/--warn/--deny`, `.hapee.toml`, or a
//! `# hapee: allow(CODE)` comment on the line), and a fix where one exists.

mod config;
mod rules;

use crate::check::Compilation;
use crate::diagnostic::Diagnostic;
use crate::ir::CheckOptions;

pub use config::{Level, LintConfig};

type Rule = fn(&Compilation, &CheckOptions, &mut Vec<Diagnostic>);

/// Every lint rule, in the order their findings are reported.
const RULES: [Rule; 11] = [
    |c, _, out| rules::references(&c.config, out),
    |c, _, out| rules::rule_order(&c.config, out),
    |c, _, out| rules::addresses(&c.config, out),
    |c, _, out| rules::health_checks(&c.config, out),
    |c, _, out| rules::host_matching(&c.config, out),
    |c, _, out| rules::modes(&c.config, out),
    |c, _, out| rules::stats(c, out),
    |c, _, out| rules::retries(&c.config, out),
    |c, _, out| rules::rings(&c.config, out),
    rules::global,
    |c, _, out| crate::ir::quic::lints(&c.config, out),
];

/// Above this many proxies the rules run on two threads (below, a thread costs more than the
/// rules themselves).
const PARALLEL_PROXIES: usize = 2048;

/// Runs every lint over a compilation that has no errors.
pub fn run(c: &Compilation, options: &CheckOptions) -> Vec<Diagnostic> {
    let run_rules = |rules: &[Rule]| {
        let mut out = Vec::new();
        for rule in rules {
            rule(c, options, &mut out);
        }
        out
    };
    if c.config.proxies.len() < PARALLEL_PROXIES {
        return run_rules(&RULES);
    }
    // The first three rules cost about as much as the others together; the findings are joined
    // in rule order, as in the single-threaded run.
    let (first, rest) = RULES.split_at(3);
    std::thread::scope(|scope| {
        // Without a second thread (the system may refuse one), the rules run here in turn.
        let later = std::thread::Builder::new().spawn_scoped(scope, || run_rules(rest));
        let mut out = run_rules(first);
        match later.map(|h| h.join()) {
            Ok(Ok(more)) => out.extend(more),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => out.extend(run_rules(rest)),
        }
        out
    })
}
