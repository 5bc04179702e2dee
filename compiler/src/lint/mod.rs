//! Lints: checks HAProxy's `-c` does not make, each with an `L` code (see `codes.rs`), a default
//! severity the user can change (`--allow/--warn/--deny`, `.hapee.toml`, or a
//! `# hapee: allow(CODE)` comment on the line), and a fix where one exists.

mod config;
mod reuse;
mod rules;
mod settings;

use crate::check::Compilation;
use crate::diagnostic::Diagnostic;
use crate::ir::CheckOptions;

pub use config::{allow_lists, settings_file, Level, LintConfig};
use reuse::Findings;
pub use reuse::LintCache;
pub(crate) use reuse::LintReuse;
pub use settings::{
    allow_comment_findings, suggest as suggest_code, suggest_any as suggest_any_code,
};

type Rule = fn(&Compilation, &CheckOptions, &mut Findings, &mut Vec<Diagnostic>);

/// Every lint rule, in the order their findings are reported.
const RULES: [Rule; 12] = [
    |c, _, f, out| rules::references(&c.config, f, out),
    |c, _, f, out| rules::rule_order(&c.config, f, out),
    |c, _, f, out| rules::addresses(&c.config, f, out),
    |c, _, f, out| rules::health_checks(&c.config, f, out),
    |c, _, f, out| rules::host_matching(&c.config, f, out),
    |c, _, f, out| rules::modes(&c.config, f, out),
    |c, _, f, out| rules::stats(c, f, out),
    |c, _, f, out| rules::retries(&c.config, f, out),
    |c, _, _, out| rules::rings(&c.config, out),
    |c, options, _, out| rules::global(c, options, out),
    |c, _, _, out| crate::ir::quic::lints(&c.config, out),
    |c, _, _, out| skipped_after_carriage_return(&c.db, out),
];

/// L022: a line HAProxy reads only up to a `\r` that ends no line, with text after it (old Mac
/// line endings): editors show that text as lines of their own, HAProxy skips it.
fn skipped_after_carriage_return(db: &crate::source::SourceDb, out: &mut Vec<Diagnostic>) {
    for (id, f) in db.files().filter(|(_, f)| f.may_have_lone_cr()) {
        let starts = f.line_starts();
        for line in 0..starts.len() {
            let range = f.line_range(line);
            let text = &f.text[range.clone()];
            let Some(cr) = text.find('\r') else {
                continue;
            };
            if text[cr..]
                .trim_matches(|c: char| c.is_ascii_whitespace())
                .is_empty()
            {
                continue;
            }
            let at = crate::source::Span::new(id, range.start + cr, range.end);
            out.push(
                Diagnostic::new(
                    "L022",
                    "the text after this carriage return is skipped: HAProxy reads the line only up to it",
                )
                .at(at)
                .help("end the lines with line feeds ('\\n' or '\\r\\n'), not with a carriage return alone"),
            );
        }
    }
}

/// Above this many proxies the rules run on two threads (below, a thread costs more than the
/// rules themselves).
const PARALLEL_PROXIES: usize = 2048;

/// Runs every lint over a compilation that has no errors.
pub fn run(c: &Compilation, options: &CheckOptions) -> Vec<Diagnostic> {
    let run_rules = |rules: &[Rule]| {
        let mut out = Vec::new();
        let mut findings = Findings { reuse: None };
        for rule in rules {
            rule(c, options, &mut findings, &mut out);
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

/// [`run`], taking the findings of the proxies that are those of the previous compilation
/// from `reuse` (and keeping this run's there), in one thread: most findings are taken, not
/// computed.
pub(crate) fn run_reusing(
    c: &Compilation,
    options: &CheckOptions,
    reuse: &mut LintReuse,
) -> Vec<Diagnostic> {
    // Thousands of findings on large configurations: room for as many as the last run's.
    let mut out = Vec::with_capacity(reuse.reported_before());
    let mut findings = Findings {
        reuse: Some(&mut *reuse),
    };
    for rule in &RULES {
        rule(c, options, &mut findings, &mut out);
    }
    reuse.set_reported(out.len());
    out
}
