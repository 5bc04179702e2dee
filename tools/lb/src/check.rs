//! `hapee-lb check` / `hapee-lb -c`: compile, print diagnostics, and exit like `haproxy -c`.

use crate::args::{CheckArgs, Format};
use hapee_compiler::check::{compile_model_only, compile_with, Compilation};
use hapee_compiler::diagnostic::{Diagnostic, Severity};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::lint::LintConfig;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use std::io::Write;

/// Exit codes of `haproxy -c`.
const EXIT_VALID: u8 = 0;
const EXIT_ERRORS: u8 = 1;
const EXIT_NO_LISTENER: u8 = 2;

/// Files of at least this many bytes in all build a model whose heap fills huge pages
/// ([`crate::heap::huge_pages_from_now`]): from 1 MiB (about 30,000 lines) the heap is tens of
/// MiB, which 2 MiB pages round up by a few MiB, for a quarter less CPU time (`host` 110k:
/// 9,612 -> 757 page faults, 41.4 -> 29.4 ms). A smaller heap pays more in memory than it
/// gains (`acl` 20k: 8.7 -> 7.8 ms, but 14.8 -> 19.0 MiB, against HAProxy's 57).
const HUGE_PAGES_FROM_BYTES: u64 = 1 << 20;

/// How many times `--fix` fixes and checks again: a fix may uncover another (the lints appear
/// once the errors are fixed).
const FIX_ROUNDS: u8 = 4;

pub fn run(args: &CheckArgs) -> u8 {
    run_round(args, FIX_ROUNDS)
}

/// [`run`], with `rounds` more `--fix` rounds allowed.
fn run_round(args: &CheckArgs, rounds: u8) -> u8 {
    let load_error = |e: &dyn std::fmt::Display| {
        match args.format {
            Format::Haproxy => eprintln!("{}", haproxy_prefix("ALERT", &format!("config : {e}"))),
            _ => eprintln!("error: {e}"),
        }
        EXIT_ERRORS
    };
    // Each folder is listed once: its files' sizes decide the heap's pages before they are read.
    let mut listed = Vec::new();
    for path in &args.files {
        match SourceDb::config_files(path) {
            Ok(files) => listed.extend(files),
            Err(e) => return load_error(&e),
        }
    }
    #[cfg(not(feature = "system-alloc"))]
    {
        // What will be read: a folder's files count, not the folder's own entry.
        let bytes: u64 = listed.iter().map(|(_, len)| len).sum();
        if bytes >= HUGE_PAGES_FROM_BYTES {
            crate::heap::huge_pages_from_now();
        }
    }
    let mut db = SourceDb::new();
    for (path, _) in &listed {
        if let Err(e) = db.load_file(path) {
            return load_error(&e);
        }
    }
    let options = CheckOptions {
        no_env: args.no_env,
        master_worker: args.master_worker,
        lints: args.format != Format::Haproxy,
        resolve_dontfail: args.resolve_dontfail,
    };
    let lint_config = match lint_config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERRORS;
        }
    };
    // With `-q` only errors are shown and only errors decide the verdict, unless a warning can
    // become one (`--deny-warnings`, a code denied): lints and the runtime's refusals, all
    // warnings or less, are then not looked for at all.
    let errors_only =
        args.quiet && !args.deny_warnings && !lint_config.denies_any() && !args.dump_plan;
    // Nothing below reads the syntax tree then (its words are freed while the model is built),
    // nor builds a plan (the model leaves out what only a plan reads).
    let mut compilation = if errors_only {
        compile_model_only(db, &ProcessEnv, &options)
    } else {
        compile_with(db, &ProcessEnv, &options, options.lints)
    };
    // What `run` would refuse is a warning here (HAProxy's own format stays HAProxy's).
    if args.format != Format::Haproxy && !errors_only && !compilation.has_errors() {
        let missing = crate::unsupported::diagnostics(&compilation);
        compilation.diagnostics.extend(missing);
        let tls = hapee_compiler::refusals::tls_names::diagnostics(&compilation);
        compilation.diagnostics.extend(tls);
    }
    // `.hapee.toml` entries that name no rule (L023; the allow comments' are the compiler's),
    // whether or not the configuration has errors: they are about the settings, not the model.
    if options.lints && !errors_only {
        let settings = lint_config.settings_diagnostics(&mut compilation.db);
        compilation.diagnostics.extend(settings);
    }
    compilation.diagnostics = lint_config.apply(
        &compilation.db,
        std::mem::take(&mut compilation.diagnostics),
    );
    // `--fix`: the fixes of what would be shown are written, then the files checked again.
    if args.fix && args.format != Format::Haproxy && !errors_only {
        match crate::fix::write(&compilation.db, &compilation.diagnostics) {
            Ok(0) => {}
            Ok(n) => {
                eprintln!("fixed {n} problem{}", if n == 1 { "" } else { "s" });
                std::mem::forget(compilation);
                let again = CheckArgs {
                    fix: rounds > 1,
                    ..args.clone()
                };
                return run_round(&again, rounds - 1);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        }
    }
    let verdict = verdict(&compilation, args);
    // Keep only what is shown, in place: copying thousands of diagnostics would cost as much
    // memory again.
    compilation.diagnostics.retain(|d| {
        (args.show_diag || d.severity != Severity::Hint)
            && (!args.quiet || d.severity == Severity::Error)
    });
    let shown = &compilation.diagnostics;
    if args.dump_plan && !compilation.has_errors() {
        let g = &compilation.config.global;
        let nbthread = g
            .nbthread
            .as_ref()
            .map_or_else(hapee_compiler::ir::default_nbthread, |v| v.value);
        let plan = hapee_compiler::plan::build(&compilation.config, nbthread);
        match serde_json::to_string_pretty(&plan) {
            Ok(json) => say!("{json}"),
            Err(e) => eprintln!("error: cannot serialize the plan: {e}"),
        }
    }
    match args.format {
        Format::Haproxy => print_haproxy(&compilation, shown, verdict, args),
        Format::Json => say!("{}", render::json(&compilation.db, shown)),
        Format::Sarif => say!("{}", render::sarif(&compilation.db, shown)),
        Format::Human => print_human(&compilation, shown, verdict, args),
    }
    let code = verdict.code();
    // The process exits right after: freeing a large model one node at a time only costs time.
    std::mem::forget(compilation);
    code
}

/// Ends the process with `code` once what was printed is written, without the work of an
/// orderly exit: the allocator's exit hook walks and purges every page of the model (the
/// model itself is never freed, see [`run`]), which cost more than a small file's lexing.
pub fn exit_now(code: u8) -> ! {
    let _ = std::io::stdout().lock().flush();
    let _ = std::io::stderr().lock().flush();
    // SAFETY: `_exit` ends the process at once and has no precondition. What is skipped is the
    // exit hooks and destructors: the output is flushed above, `check` holds no file,
    // lock or child process that needs them, and its threads (scoped) are all joined.
    unsafe { libc::_exit(i32::from(code)) }
}

/// Lint levels: `.hapee.toml` (in the first `-f` folder or the first file's folder, or a parent
/// up to the repository root; else in the current directory), then flags.
fn lint_config(args: &CheckArgs) -> Result<LintConfig, String> {
    let mut cfg = LintConfig::discover(
        std::path::Path::new("."),
        args.files.first().map(|p| p.as_path()),
    )?;
    for (code, level) in &args.lint_levels {
        cfg.set(code, *level)?;
    }
    Ok(cfg)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Valid { warnings: bool },
    Errors,
    ZeroWarning,
    NoListener { warnings: bool },
}

impl Verdict {
    fn code(self) -> u8 {
        match self {
            Verdict::Valid { .. } => EXIT_VALID,
            Verdict::Errors | Verdict::ZeroWarning => EXIT_ERRORS,
            Verdict::NoListener { .. } => EXIT_NO_LISTENER,
        }
    }
}

fn verdict(c: &Compilation, args: &CheckArgs) -> Verdict {
    if c.has_errors() {
        Verdict::Errors
    } else if args.deny_warnings && c.has_warnings() {
        Verdict::ZeroWarning
    } else if !(c.config.has_listener() || args.master_worker || c.config.global.master_worker) {
        // In master-worker mode the worker's end of the master's socket pair is a listener
        // of HAProxy's CLI frontend, so a configuration without any other still starts.
        Verdict::NoListener {
            warnings: c.has_warnings(),
        }
    } else {
        Verdict::Valid {
            warnings: c.has_warnings(),
        }
    }
}

fn haproxy_prefix(level: &str, rest: &str) -> String {
    format!(
        "{:<10} ({}) : {rest}",
        format!("[{level}]"),
        std::process::id()
    )
}

fn print_haproxy(c: &Compilation, shown: &[Diagnostic], verdict: Verdict, args: &CheckArgs) {
    // HAProxy stops before its whole-configuration checks when a line had an error.
    let line_error = shown.iter().any(|d| d.is_error() && !d.after_parse);
    // Once it has read a global `quiet`, HAProxy prints nothing more while it starts: not the
    // alerts of the lines after it, nor its closing words.
    let quiet = c.config.global.quiet;
    let before_quiet = |d: &Diagnostic| match (quiet, d.span) {
        (None, _) => true,
        (Some(q), Some(s)) => (s.file, s.start) < (q.file, q.start),
        (Some(_), None) => false,
    };
    let shown: Vec<&Diagnostic> = shown
        .iter()
        .filter(|d| !(line_error && d.after_parse) && before_quiet(d))
        .collect();
    let (shown, aborted) = render::haproxy_reached(&c.db, &shown);
    let stops = render::haproxy_fatal_stops(&c.db, &shown);
    let shown = render::haproxy_stopped(shown, &stops);
    let shown = &shown[..];
    let pid = std::process::id();
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    if !args.quiet && !shown.is_empty() {
        let _ = writeln!(
            err,
            "{}",
            haproxy_prefix(
                "NOTICE",
                &format!(
                    "haproxy version is 2.7.0-hapee-{}",
                    env!("CARGO_PKG_VERSION")
                )
            )
        );
        let exe = std::env::args().next().unwrap_or_default();
        let _ = writeln!(
            err,
            "{}",
            haproxy_prefix("NOTICE", &format!("path to executable is {exe}"))
        );
    }
    let contexts = render::stale_contexts(&c.config);
    let places = render::stale_context_places(&c.db, &contexts, shown);
    for (i, d) in shown.iter().enumerate() {
        let line = render::haproxy_line(&c.db, d, pid);
        // A place HAProxy's message context kept from an earlier line comes first.
        match places.iter().find(|(j, _)| *j == i) {
            Some((_, place)) => {
                let (head, rest) = line.split_once(" : config : ").unwrap_or((&line, ""));
                let _ = writeln!(err, "{head} : config : {place}{rest}");
            }
            None => {
                let _ = writeln!(err, "{line}");
            }
        }
    }
    if quiet.is_some() {
        return;
    }
    match verdict {
        Verdict::Errors => {
            // HAProxy names the files whose reading failed; the checks after reading name none.
            let mut files: Vec<_> = shown
                .iter()
                .filter(|d| d.is_error() && !d.after_parse)
                .filter_map(|d| d.span)
                .map(|s| s.file)
                // An SPOE file's errors end in the error of the `filter` line that read it.
                .filter(|f| !c.config.spoe_files.contains(f))
                .collect();
            files.dedup();
            for f in files {
                let _ = writeln!(
                    err,
                    "{}",
                    haproxy_prefix(
                        "ALERT",
                        &format!(
                            "config : Error(s) found in configuration file : {}",
                            c.db.file(f).name
                        )
                    )
                );
            }
            // An aborting error ends the process right after the file is named.
            if !aborted {
                let _ = writeln!(
                    err,
                    "{}",
                    haproxy_prefix(
                        "ALERT",
                        &format!("config : {}", render::haproxy_failure(shown))
                    )
                );
            }
        }
        Verdict::ZeroWarning => {
            let _ = writeln!(
                err,
                "{}",
                haproxy_prefix(
                    "ALERT",
                    "config : Some warnings were found and 'zero-warning' is set. Aborting."
                )
            );
        }
        Verdict::NoListener { warnings } => {
            if !args.quiet {
                // HAProxy says it before it looks for a listener.
                if warnings {
                    say!("Warnings were found.");
                }
                say!(
                    "Configuration file has no error but will not start (no listener) => exit(2)."
                );
            }
        }
        Verdict::Valid { warnings } => {
            if !args.quiet {
                if warnings {
                    say!("Warnings were found.");
                }
                say!("Configuration file is valid");
            }
        }
    }
}

/// How many diagnostics of one code the human output shows before summing up the rest.
const SHOWN_PER_CODE: usize = 5;

/// The diagnostics the human output prints (each code's first few), and per code left out, how
/// many were.
fn grouped(shown: &[Diagnostic]) -> (Vec<Diagnostic>, Vec<(&'static str, usize)>) {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut kept = Vec::new();
    let mut left_out: Vec<(&'static str, usize)> = Vec::new();
    for d in shown {
        let n = seen.entry(d.code).or_default();
        *n += 1;
        if *n <= SHOWN_PER_CODE {
            kept.push(d.clone());
        } else if let Some(entry) = left_out.iter_mut().find(|(c, _)| *c == d.code) {
            entry.1 += 1;
        } else {
            left_out.push((d.code, 1));
        }
    }
    (kept, left_out)
}

fn print_human(c: &Compilation, shown: &[Diagnostic], verdict: Verdict, args: &CheckArgs) {
    let (kept, left_out) = match args.all {
        true => (None, Vec::new()),
        false => {
            let (kept, left_out) = grouped(shown);
            (Some(kept), left_out)
        }
    };
    eprint!(
        "{}",
        render::human(&c.db, kept.as_deref().unwrap_or(shown), args.color)
    );
    for (code, more) in &left_out {
        let name = hapee_compiler::codes::rule(code).map_or("", |r| r.name);
        eprintln!("... and {more} more {code} ({name}); 'hapee-lb check --all' shows every one\n");
    }
    if args.quiet {
        return;
    }
    let errors = shown
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = shown
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    match verdict {
        Verdict::Errors => eprintln!(
            "{}, {}: configuration is invalid",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
        Verdict::ZeroWarning => eprintln!(
            "{} with --deny-warnings: configuration rejected",
            plural(warnings, "warning")
        ),
        Verdict::NoListener { .. } => {
            say!("Configuration has no error but will not start (no listener).")
        }
        Verdict::Valid { .. } if warnings > 0 => say!(
            "Configuration file is valid ({})",
            plural(warnings, "warning")
        ),
        Verdict::Valid { .. } => say!("Configuration file is valid"),
    }
}
