//! `hapee-lb run` (and HAProxy's `-f …` without `-c`): compile, refuse errors and anything the
//! runtime does not implement yet, then hand the plan to the runtime.

use hapee_compiler::check::compile;
use hapee_compiler::diagnostic::{Diagnostic, Severity};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::plan::Plan;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use hapee_runtime::lifecycle;
use std::path::PathBuf;

pub struct RunArgs {
    pub files: Vec<PathBuf>,
    pub daemon: bool,
    pub pidfile: Option<PathBuf>,
    /// `-dr`: unresolvable server names disable their server instead of stopping the start.
    pub resolve_dontfail: bool,
    /// `-W`/`-Ws`: master-worker mode (also `master-worker` in the global section).
    pub master_worker: bool,
    /// `-Ws`: readiness and reloads are told to systemd.
    pub systemd: bool,
    /// `-S`: the master CLI socket.
    pub master_cli: Option<PathBuf>,
    /// `-sf`/`-st`: processes to stop once this one serves.
    pub stop_pids: Vec<i32>,
    pub stop_gracefully: bool,
    /// `-x`: the stats socket of the process to take the listening sockets from.
    pub sockets_from: Option<PathBuf>,
    /// `-L`: this process's name in peers sections (over the `localpeer` setting).
    pub localpeer: Option<String>,
}

/// Reads and compiles the configuration into a plan. Warnings are printed on the way;
/// `Err` holds the report of why it cannot run (errors, what the runtime lacks).
fn load_plan(
    files: &[PathBuf],
    resolve_dontfail: bool,
    master_worker: bool,
) -> Result<Plan, Vec<String>> {
    let mut db = SourceDb::new();
    for path in files {
        if let Err(e) = db.load_path(path) {
            return Err(vec![format!(
                "[ALERT]    ({}) : config : {e}",
                std::process::id()
            )]);
        }
    }
    let options = CheckOptions {
        no_env: false,
        // A worker runs under a master even without `-W` on its own command line.
        master_worker: master_worker || std::env::var_os(lifecycle::env::MASTER_FD).is_some(),
        lints: false,
        resolve_dontfail,
    };
    let compilation = compile(db, &ProcessEnv, &options);
    let reported: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error || d.severity == Severity::Warning)
        .cloned()
        .collect();
    if compilation.has_errors() {
        return Err(vec![
            render::human(&compilation.db, &reported, false),
            "hapee-lb: the configuration has errors; not starting".to_string(),
        ]);
    }
    if !reported.is_empty() {
        eprint!("{}", render::human(&compilation.db, &reported, false));
    }
    let missing: Vec<Diagnostic> = crate::unsupported::diagnostics(&compilation)
        .into_iter()
        .map(|mut d| {
            d.severity = Severity::Error;
            d
        })
        .collect();
    if !missing.is_empty() {
        return Err(vec![
            render::human(&compilation.db, &missing, false),
            format!(
                "hapee-lb: {} use(s) of what the runtime does not implement yet; not starting",
                missing.len()
            ),
        ]);
    }
    let nbthread = compilation
        .config
        .global
        .nbthread
        .as_ref()
        .map_or_else(hapee_compiler::ir::default_nbthread, |v| v.value);
    let mut plan = hapee_compiler::plan::build(&compilation.config, nbthread);
    hapee_compiler::plan::locate_rules(&mut plan, &compilation.db);
    Ok(plan)
}

fn write_pidfile(args: &RunArgs) -> Result<(), u8> {
    if let Some(p) = &args.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!(
                "[ALERT]    ({}) : cannot create pidfile {} : {e}",
                std::process::id(),
                p.display()
            );
            return Err(1);
        }
    }
    Ok(())
}

pub fn run(args: &RunArgs) -> u8 {
    let mut plan = match load_plan(&args.files, args.resolve_dontfail, args.master_worker) {
        Ok(plan) => plan,
        Err(report) => {
            for line in report {
                eprintln!("{}", line.trim_end());
            }
            return 1;
        }
    };
    if let Some(name) = &args.localpeer {
        plan.global.localpeer = Some(name.clone());
    }
    // Before the scripts load, as they may read it.
    // SAFETY: no other thread runs yet: compiling joined its own threads, and the runtime,
    // the master and the scripts' engine start below.
    unsafe { lifecycle::confine::apply_environment(&plan.global.process) };
    // A worker started by a master runs its plan, whatever the flags and the configuration say.
    let is_worker = std::env::var_os(lifecycle::env::MASTER_FD).is_some();
    if args.daemon && !is_worker {
        return daemonize(args);
    }
    if !is_worker && (args.master_worker || plan.global.master_worker) {
        return master(args, plan);
    }
    // The scripts run in the process that serves (a master only supervises); they load
    // from `default-path`, as the runtime's own files do.
    if let Err(e) = lifecycle::default_path::enter(plan.global.default_path.as_deref()) {
        eprintln!("[ALERT]    ({}) : {e}", std::process::id());
        return 1;
    }
    let engine = crate::lua::engine(&plan);
    lifecycle::default_path::leave();
    let engine = match engine {
        Ok(engine) => engine,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            }
            return 1;
        }
    };
    if !is_worker {
        if let Err(code) = write_pidfile(args) {
            return code;
        }
        if let Some(path) = &args.sockets_from {
            // `/dev/null` is how a service file says "no previous process".
            if path != std::path::Path::new("/dev/null") {
                if let Err(e) = lifecycle::handover::fetch(path) {
                    eprintln!("[WARNING]  ({}) : {e}", std::process::id());
                    eprintln!(
                        "[ALERT]    ({}) : Failed to get the sockets from the old process!",
                        std::process::id()
                    );
                    return 1;
                }
            }
        }
    }
    let options = hapee_runtime::RunOptions {
        stop_after_start: args.stop_pids.clone(),
        stop_gracefully: args.stop_gracefully,
        engine,
    };
    match hapee_runtime::run_with(&plan, &options) {
        Ok(_) => 0,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            }
            1
        }
    }
}

/// `-W` or `master-worker`: this process becomes the master and runs workers.
fn master(args: &RunArgs, plan: Plan) -> u8 {
    if let Err(code) = write_pidfile(args) {
        return code;
    }
    let Ok(exe) = std::env::current_exe() else {
        return 1;
    };
    let files = args.files.clone();
    let dontfail = args.resolve_dontfail;
    let worker_files = files.clone();
    let localpeer = args.localpeer.clone();
    let options = lifecycle::master::Options {
        load: Box::new(move || load_plan(&files, dontfail, true)),
        worker_command: Box::new(move || {
            let mut cmd = std::process::Command::new(&exe);
            cmd.arg("run");
            for f in &worker_files {
                cmd.arg("-f").arg(f);
            }
            if dontfail {
                cmd.arg("-dr");
            }
            if let Some(name) = &localpeer {
                cmd.arg("-L").arg(name);
            }
            cmd
        }),
        cli: args.master_cli.clone(),
        systemd: args.systemd,
    };
    let code = lifecycle::master::run(options, plan);
    u8::try_from(code).unwrap_or(1)
}

/// `-D`: starts a detached copy of this command (without `-D`) and returns.
fn daemonize(args: &RunArgs) -> u8 {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return 1;
    };
    let mut cmd = std::process::Command::new(exe);
    // The same command line without `-D`: the copy runs in the foreground of its own group.
    cmd.args(std::env::args().skip(1).filter(|a| a != "-D"));
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
