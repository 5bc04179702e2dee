//! `hapee-lb run` (and HAProxy's `-f …` without `-c`): compile, refuse errors and anything the
//! runtime does not implement yet, then hand the plan to the runtime.

use hapee_compiler::check::compile;
use hapee_compiler::diagnostic::{Diagnostic, Severity};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use std::path::PathBuf;

pub struct RunArgs {
    pub files: Vec<PathBuf>,
    pub daemon: bool,
    pub pidfile: Option<PathBuf>,
    /// `-dr`: unresolvable server names disable their server instead of stopping the start.
    pub resolve_dontfail: bool,
}

pub fn run(args: &RunArgs) -> u8 {
    let mut db = SourceDb::new();
    for path in &args.files {
        if let Err(e) = db.load_path(path) {
            eprintln!("[ALERT]    ({}) : config : {e}", std::process::id());
            return 1;
        }
    }
    let options = CheckOptions {
        no_env: false,
        master_worker: false,
        lints: false,
        resolve_dontfail: args.resolve_dontfail,
    };
    let compilation = compile(db, &ProcessEnv, &options);
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error || d.severity == Severity::Warning)
        .cloned()
        .collect();
    if !errors.is_empty() {
        eprint!("{}", render::human(&compilation.db, &errors, false));
    }
    if compilation.has_errors() {
        eprintln!("hapee-lb: the configuration has errors; not starting");
        return 1;
    }
    let missing: Vec<Diagnostic> = crate::unsupported::diagnostics(&compilation)
        .into_iter()
        .map(|mut d| {
            d.severity = Severity::Error;
            d
        })
        .collect();
    if !missing.is_empty() {
        eprint!("{}", render::human(&compilation.db, &missing, false));
        eprintln!(
            "hapee-lb: {} use(s) of what the runtime does not implement yet; not starting",
            missing.len()
        );
        return 1;
    }
    if args.daemon {
        return daemonize(args);
    }
    if let Some(p) = &args.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!(
                "[ALERT]    ({}) : cannot create pidfile {} : {e}",
                std::process::id(),
                p.display()
            );
            return 1;
        }
    }
    let nbthread = compilation
        .config
        .global
        .nbthread
        .as_ref()
        .map_or_else(hapee_compiler::ir::default_nbthread, |v| v.value);
    let plan = hapee_compiler::plan::build(&compilation.config, nbthread);
    drop(compilation);
    match hapee_runtime::run(&plan) {
        Ok(_) => 0,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            }
            1
        }
    }
}

/// `-D`: starts a detached copy of this command (without `-D`) and returns.
fn daemonize(args: &RunArgs) -> u8 {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return 1;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run");
    for f in &args.files {
        cmd.arg("-f").arg(f);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0);
    match cmd.spawn() {
        Ok(child) => {
            if let Some(p) = &args.pidfile {
                let _ = std::fs::write(p, format!("{}\n", child.id()));
            }
            0
        }
        Err(e) => {
            eprintln!(
                "[ALERT]    ({}) : cannot start the daemon: {e}",
                std::process::id()
            );
            1
        }
    }
}
