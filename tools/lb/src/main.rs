//! `hapee-lb`: check, run and anonymize HAProxy 2.7 configurations.
//!
//! Two command-line styles are accepted: subcommands (`hapee-lb check -f x.cfg`) and HAProxy's own
//! flags (`hapee-lb -c -f x.cfg`, `-dC<key>`), so existing scripts and service files keep working.

/// `println!` that ignores a closed stdout (`hapee-lb check | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that ignores a closed stdout.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// mimalloc: the compiler allocates many small strings; the system allocator was a third of the
/// check time on large configurations (see bench/check.sh). The `system-alloc` feature leaves
/// it out for heap profilers.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: heap::Mimalloc = heap::Mimalloc;

mod args;
mod check;
mod fix;
mod fmt;
#[cfg(not(feature = "system-alloc"))]
mod heap;
mod lua;
mod route;
mod route_offline;
mod run;
mod unsupported;

use std::process::ExitCode;

/// HAProxy names this process in peers sections `-L <name>`, else the host name, and gives
/// the configuration that name as `HAPROXY_LOCALPEER` (set before anything runs on another
/// thread).
fn set_local_peer(flag: Option<&str>) {
    let name = match flag {
        Some(name) => Some(name),
        None => hapee_runtime::log::machine_name(),
    };
    if let Some(name) = name {
        std::env::set_var("HAPROXY_LOCALPEER", name);
    }
}

fn main() -> ExitCode {
    #[cfg(not(feature = "system-alloc"))]
    heap::keep_freed_pages_a_while();
    #[cfg(not(feature = "system-alloc"))]
    hapee_runtime::on_worker_start(heap::cache_on_this_thread);
    let argv: Vec<String> = std::env::args().collect();
    match args::parse(&argv) {
        Ok(args::Command::Check(opts)) => {
            set_local_peer(opts.localpeer.as_deref());
            // `check` loads the scripts as HAProxy's `-c` does; `run` loads them once, in the
            // engine that serves.
            hapee_compiler::lua::set_loader(Box::<hapee_lua::Checker>::default());
            check::exit_now(check::run(&opts))
        }
        Ok(args::Command::Run(opts)) => {
            set_local_peer(opts.localpeer.as_deref());
            ExitCode::from(run::run(&opts))
        }
        Ok(args::Command::EvalCondition(expr)) => {
            let build = hapee_compiler::cond::BuildInfo::default();
            match hapee_compiler::cond::evaluate(&expr, &build, &hapee_compiler::syntax::ProcessEnv)
            {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!(
                        "{:<10} ({}) : Failed to evaluate condition: {}",
                        "[ALERT]",
                        std::process::id(),
                        e.message
                    );
                    ExitCode::from(2)
                }
            }
        }
        Ok(args::Command::Dump { options, files }) => ExitCode::from(dump(&options, &files)),
        Ok(args::Command::Fmt(a)) => ExitCode::from(fmt::run(&a)),
        Ok(args::Command::Route(a)) => ExitCode::from(route::run(&a)),
        Ok(args::Command::Explain(code)) => ExitCode::from(explain(code.as_deref())),
        Ok(args::Command::Docs(dir)) => ExitCode::from(docs(dir.as_deref())),
        Ok(args::Command::Help(text)) => {
            say_raw!("{text}");
            ExitCode::SUCCESS
        }
        Ok(args::Command::Version) => {
            say!(
                "hapee-lb {} (HAProxy 2.7 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("hapee-lb: {message}");
            eprintln!("Try 'hapee-lb --help'.");
            ExitCode::from(1)
        }
    }
}

/// `-dC`: prints the dump; like HAProxy, lexical errors go to stderr and the exit code is 0.
fn dump(options: &str, files: &[std::path::PathBuf]) -> u8 {
    let mut db = hapee_compiler::source::SourceDb::new();
    for f in files {
        if let Err(e) = db.load_path(f) {
            eprintln!("{:<10} ({}) : config : {e}", "[ALERT]", std::process::id());
            return 1;
        }
    }
    let opts = hapee_anon::dump::DumpOptions::parse(options);
    let (text, errors) = hapee_anon::dump::dump(&db, &hapee_compiler::syntax::ProcessEnv, opts);
    for e in errors {
        eprintln!("{:<10} ({}) : config : {e}", "[ALERT]", std::process::id());
    }
    say_raw!("{text}");
    0
}

/// `explain CODE`: the long explanation of a code (or rule name); without one, the list.
fn explain(code: Option<&str>) -> u8 {
    use hapee_compiler::codes::{rule, RULES};
    match code {
        None => {
            for r in RULES {
                say!("{} {} {:?} {}", r.code, r.name, r.severity, r.summary);
            }
            0
        }
        Some(c) => match rule(c) {
            Some(r) => {
                say!(
                    "{} ({}, {:?})\n\n{}\n\n{}",
                    r.code,
                    r.name,
                    r.severity,
                    r.summary,
                    r.explanation
                );
                0
            }
            None => {
                let hint = hapee_compiler::lint::suggest_any_code(c)
                    .map_or(String::new(), |b| format!("; did you mean '{b}'?"));
                eprintln!("hapee-lb: unknown code '{c}'{hint} (see 'hapee-lb explain --list')");
                1
            }
        },
    }
}

/// `docs`: prints the generated references, or writes them into a directory.
fn docs(dir: Option<&std::path::Path>) -> u8 {
    let files = [
        (
            "diagnostics.md",
            hapee_compiler::docs::diagnostics_markdown(),
        ),
        ("keywords.md", hapee_compiler::docs::keywords_markdown()),
    ];
    for (name, text) in files {
        match dir {
            Some(d) => {
                if let Err(e) =
                    std::fs::create_dir_all(d).and_then(|_| std::fs::write(d.join(name), text))
                {
                    eprintln!("hapee-lb: cannot write {}: {e}", d.join(name).display());
                    return 1;
                }
            }
            None => say_raw!("{text}"),
        }
    }
    0
}
