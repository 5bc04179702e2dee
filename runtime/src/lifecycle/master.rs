//! The master process (`-W`, `master-worker`): binds the listening sockets once and keeps
//! them, runs a worker on them, and reloads (SIGUSR2 or `reload` on the master CLI) by
//! compiling the configuration again, starting a new worker on the same sockets, and only
//! once it serves, stopping the old one gracefully. A configuration with errors is reported
//! and the running worker keeps serving.

use super::{cli, env, sockets};
use hapee_compiler::plan::programs::ProgramPlan;
use hapee_compiler::plan::Plan;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// What the master needs from the command that started it.
pub struct Options {
    /// Reads and compiles the configuration again; `Err` holds the messages to report.
    pub load: Box<dyn Fn() -> Result<Plan, Vec<String>>>,
    /// A worker's command line (the master adds the environment that makes it a worker).
    pub worker_command: Box<dyn Fn() -> std::process::Command>,
    /// `-S`: the master CLI socket.
    pub cli: Option<PathBuf>,
    /// `-Ws`: tell systemd when the service is ready and when it reloads.
    pub systemd: bool,
}

struct Worker {
    pid: i32,
    /// Reloads this worker has lived through.
    reloads: u32,
    started: Instant,
    current: bool,
    /// The master's end of the pipe that tells the worker when the master has gone.
    _lifeline: OwnedFd,
    /// The master's end of the channel that carries connections to the worker's Runtime API.
    cli: OwnedFd,
}

/// A running `program` section.
struct Program {
    plan: ProgramPlan,
    pid: i32,
    reloads: u32,
    started: Instant,
}

struct Master {
    options: Options,
    programs: Vec<Program>,
    /// The status the master exits with once its children are gone: the first of a current
    /// worker or program that failed (HAProxy's exit-on-failure).
    failure: Option<i32>,
    /// The program sections of the configuration in force.
    program_plans: Vec<ProgramPlan>,
    sockets: HashMap<String, TcpListener>,
    workers: Vec<Worker>,
    reloads: u32,
    failed_reloads: u32,
    started: Instant,
    max_reloads: Option<u32>,
    /// A stop was asked: no more reloads; the master exits once its children have.
    stopping: bool,
    exits: mpsc::UnboundedSender<(i32, std::process::ExitStatus)>,
}

/// The startup log kept at most (HAProxy's ring of startup messages is as small).
const STARTUP_LOG_MAX: usize = 16 * 1024;

thread_local! {
    /// What the master said since its last (re)load began: `show startup-logs`, and the
    /// answer to `reload`.
    static STARTUP_LOG: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// Whether the version and executable notices were given since the master last
    /// (re)started: HAProxy gives them before the first warning or alert of a starting process,
    /// and its master starts anew (re-executes) for each reload and once loaded.
    static VERSION_TOLD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn say(level: &str, msg: &str) {
    let line = format!("{level} ({}) : {msg}", std::process::id());
    eprintln!("{line}");
    STARTUP_LOG.with(|log| {
        let mut log = log.borrow_mut();
        if log.len() + line.len() < STARTUP_LOG_MAX {
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// Where HAProxy's master re-executes itself: a reload begins (the startup log starts
/// anew), or a load has ended (`fresh_log` false).
fn restarted(fresh_log: bool) {
    VERSION_TOLD.with(|t| t.set(false));
    if fresh_log {
        STARTUP_LOG.with(|log| log.borrow_mut().clear());
    }
}

/// Before the first warning or alert since the master (re)started: its version and the path
/// of its executable.
fn tell_version() {
    if VERSION_TOLD.with(|t| t.replace(true)) {
        return;
    }
    notice(&format!("haproxy version is {}", super::VERSION));
    notice(&format!("path to executable is {}", super::exec_path()));
}

fn alert(msg: &str) {
    tell_version();
    say("[ALERT]   ", msg);
}

fn notice(msg: &str) {
    say("[NOTICE]  ", msg);
}

fn warning(msg: &str) {
    tell_version();
    say("[WARNING] ", msg);
}

/// Runs the master until it is stopped; returns the exit code.
pub fn run(options: Options, plan: Plan) -> i32 {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 1;
    };
    let (exits, exited) = mpsc::unbounded_channel();
    let master = Master {
        options,
        programs: Vec::new(),
        failure: None,
        program_plans: plan.programs.clone(),
        sockets: HashMap::new(),
        workers: Vec::new(),
        reloads: 0,
        failed_reloads: 0,
        started: Instant::now(),
        max_reloads: plan.global.mworker_max_reloads,
        stopping: false,
        exits,
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, master.serve(plan, exited))
}

impl Master {
    async fn serve(
        mut self,
        plan: Plan,
        mut exited: mpsc::UnboundedReceiver<(i32, std::process::ExitStatus)>,
    ) -> i32 {
        if let Err(errors) = self.bind(&plan) {
            for e in errors {
                alert(&e);
            }
            return 1;
        }
        if let Err(e) = self.start_worker(&plan).await {
            alert(&e);
            return 1;
        }
        for p in plan.programs.clone() {
            self.start_program(p);
        }
        notice("Loading success.");
        self.notify_ready();
        restarted(false);
        let (cli_tx, mut cli_rx) = mpsc::unbounded_channel::<cli::Request>();
        if let Some(path) = self.options.cli.clone() {
            tokio::task::spawn_local(async move {
                if let Err(e) = cli::serve(path.clone(), cli_tx).await {
                    alert(&format!("master CLI on {}: {e}", path.display()));
                }
            });
        }
        let Some(mut signals) = Signals::install() else {
            alert("cannot install the master's signal handlers");
            self.signal_workers(Signal::SIGTERM, false);
            return 1;
        };
        loop {
            tokio::select! {
                sig = signals.next() => match sig {
                    // SIGUSR2 and SIGHUP reload, as in HAProxy.
                    Signal::SIGUSR2 | Signal::SIGHUP if !self.stopping => {
                        self.reload().await;
                    }
                    Signal::SIGUSR2 | Signal::SIGHUP => {}
                    // Pausing and resuming the listeners is the workers' business.
                    Signal::SIGTTOU | Signal::SIGTTIN => self.signal_children(sig),
                    stop => self.stop_all(stop),
                },
                Some(request) = cli_rx.recv() => self.cli_request(request).await,
                Some((pid, status)) = exited.recv() => {
                    if !self.program_exited(pid, status) {
                        self.worker_exited(pid, status);
                    }
                    if let Some(code) = self.all_gone() {
                        if let Some(path) = &self.options.cli {
                            let _ = std::fs::remove_file(path);
                        }
                        return code;
                    }
                }
            }
        }
    }

    /// Binds what `plan` listens on and the master does not hold yet.
    fn bind(&mut self, plan: &Plan) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        for (addr, thread, flags) in sockets::wanted(plan)? {
            let key = sockets::key(addr, thread);
            // Kept across the reload only with the same socket options (else bound anew).
            if self
                .sockets
                .get(&key)
                .is_some_and(|s| sockets::matches_flags(s, addr, flags))
            {
                continue;
            }
            match crate::listener::bind_with(addr, crate::listener::DEFAULT_BACKLOG, flags) {
                Ok(s) => {
                    self.sockets.insert(key, s);
                }
                Err(e) => errors.push(format!("Starting proxy: cannot bind socket ({e}) [{addr}]")),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Starts a worker on the sockets of `plan` and waits until it serves.
    async fn start_worker(&mut self, plan: &Plan) -> Result<i32, String> {
        let keys: Vec<String> = sockets::wanted(plan)
            .map_err(|e| e.join("; "))?
            .into_iter()
            .map(|(a, t, _)| sockets::key(a, t))
            .collect();
        let passed: Vec<(&String, &TcpListener)> = self
            .sockets
            .iter()
            .filter(|(k, _)| keys.contains(k))
            .collect();
        let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
        let (ready_r, ready_w) = nix::unistd::pipe2(cloexec).map_err(|e| e.to_string())?;
        let (life_r, life_w) = nix::unistd::pipe2(cloexec).map_err(|e| e.to_string())?;
        let (cli_mine, cli_theirs) = nix::sys::socket::socketpair(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::SeqPacket,
            None,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| e.to_string())?;
        let mut inherit: Vec<RawFd> = passed.iter().map(|(_, s)| s.as_raw_fd()).collect();
        inherit.push(ready_w.as_raw_fd());
        inherit.push(life_r.as_raw_fd());
        inherit.push(cli_theirs.as_raw_fd());
        let mut cmd = (self.options.worker_command)();
        cmd.env(env::LISTEN_FDS, sockets::export(passed.into_iter()))
            .env(env::READY_FD, ready_w.as_raw_fd().to_string())
            .env(env::MASTER_FD, life_r.as_raw_fd().to_string())
            .env(env::CLI_FD, cli_theirs.as_raw_fd().to_string());
        // SAFETY: runs in the child between fork and exec, where only async-signal-safe calls
        // are allowed: it only calls fcntl(2) on descriptors listed before the fork, and
        // allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &inherit {
                    nix::fcntl::fcntl(
                        fd,
                        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
                    )?;
                }
                Ok(())
            });
        }
        let mut child = tokio::process::Command::from(cmd)
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        drop(ready_w);
        drop(life_r);
        drop(cli_theirs);
        let pid = child.id().map_or(0, |p| p as i32);
        notice(&format!("New worker ({pid}) forked"));
        let exits = self.exits.clone();
        tokio::task::spawn_local(async move {
            if let Ok(status) = child.wait().await {
                let _ = exits.send((pid, status));
            }
        });
        let mut ready =
            tokio::net::unix::pipe::Receiver::from_owned_fd(ready_r).map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        // A worker that exits before it serves closes the pipe: end-of-file, not ready.
        let outcome = tokio::time::timeout(Duration::from_secs(300), ready.read(&mut byte)).await;
        if !matches!(outcome, Ok(Ok(1))) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            return Err(format!("the new worker ({pid}) failed to start"));
        }
        self.workers.push(Worker {
            pid,
            reloads: 0,
            started: Instant::now(),
            current: true,
            _lifeline: life_w,
            cli: cli_mine,
        });
        Ok(pid)
    }

    /// One request of a master CLI session.
    async fn cli_request(&mut self, request: cli::Request) {
        match request {
            cli::Request::Command { command, answer } if command == "reload" => {
                let loaded = !self.stopping && self.reload().await;
                let log = STARTUP_LOG.with(|log| log.borrow().clone());
                let _ = answer.send(format!("Success={}\n--\n{log}", u8::from(loaded)));
            }
            cli::Request::Command { command, answer } => {
                let _ = answer.send(self.answer(&command));
            }
            cli::Request::Resolve { prefix, answer } => {
                let _ = answer.send(self.resolve(&prefix));
            }
            cli::Request::Connect { pid, answer } => {
                let _ = answer.send(self.connect(pid));
            }
        }
    }

    /// The process a master CLI prefix names (HAProxy's rules): `@`, `@0` and `@master` the
    /// master (0), `@1` the current worker (fewest reloads), `@!<pid>` any worker by pid.
    fn resolve(&self, prefix: &str) -> Option<i32> {
        let name = prefix.strip_prefix('@')?;
        if name.is_empty() || name == "master" {
            return Some(0);
        }
        if let Some(pid) = name.strip_prefix('!') {
            let pid: i32 = pid.parse().ok()?;
            return self.workers.iter().find(|w| w.pid == pid).map(|w| w.pid);
        }
        match name.parse::<i32>().ok()? {
            0 => Some(0),
            1 => self.workers.iter().min_by_key(|w| w.reloads).map(|w| w.pid),
            _ => None,
        }
    }

    /// A new connection to worker `pid`'s Runtime API: one end of a fresh socket pair, the
    /// other sent to the worker.
    fn connect(&self, pid: i32) -> Option<std::os::unix::net::UnixStream> {
        let worker = self.workers.iter().find(|w| w.pid == pid)?;
        let (mine, theirs) = std::os::unix::net::UnixStream::pair().ok()?;
        super::fdpass::send(
            worker.cli.as_raw_fd(),
            b"c",
            &[theirs.as_raw_fd()],
            nix::sys::socket::MsgFlags::MSG_DONTWAIT,
        )
        .ok()?;
        Some(mine)
    }

    /// Reloads; whether the new configuration now serves.
    async fn reload(&mut self) -> bool {
        notice("Reloading HAProxy");
        // Every reload asked counts, for the master and each worker, whether it loads or not.
        self.reloads += 1;
        for w in &mut self.workers {
            w.reloads += 1;
        }
        self.notify_systemd(&[
            sd_notify::NotifyState::Reloading,
            sd_notify::NotifyState::Status("Reloading Configuration."),
        ]);
        restarted(true);
        let plan = match (self.options.load)() {
            Ok(plan) => self.bind(&plan).map(|_| plan),
            Err(errors) => Err(errors),
        };
        let outcome = match plan {
            Ok(plan) => self.start_worker(&plan).await.map(|pid| (pid, plan)),
            Err(errors) => {
                for e in errors {
                    alert(&e);
                }
                Err("Loading failure!".to_string())
            }
        };
        match outcome {
            Ok((new_pid, plan)) => {
                let max = plan.global.mworker_max_reloads;
                self.max_reloads = max;
                for w in self.workers.iter_mut().filter(|w| w.pid != new_pid) {
                    w.current = false;
                    let _ = kill(Pid::from_raw(w.pid), Signal::SIGUSR1);
                    if max.is_some_and(|m| w.reloads > m) {
                        warning(&format!(
                            "Former worker ({}) exceeded the maximum number of reloads ({}), sending SIGTERM",
                            w.pid,
                            max.unwrap_or(0)
                        ));
                        let _ = kill(Pid::from_raw(w.pid), Signal::SIGTERM);
                    }
                }
                // Sockets the new configuration no longer uses close here; the old worker
                // still holds its copies until it exits.
                let keys: Vec<String> = sockets::wanted(&plan)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(a, t, _)| sockets::key(a, t))
                    .collect();
                self.sockets.retain(|k, _| keys.contains(k));
                self.reload_programs(plan.programs.clone());
                // The count of failed reloads is of those since the last that loaded.
                self.failed_reloads = 0;
                notice("Loading success.");
                self.notify_ready();
                restarted(false);
                true
            }
            Err(e) => {
                // As in HAProxy, the running workers keep serving; the master says only this.
                self.failed_reloads += 1;
                warning(&e);
                self.notify_systemd(&[
                    sd_notify::NotifyState::Ready,
                    sd_notify::NotifyState::Status("Reload failed!"),
                ]);
                restarted(false);
                false
            }
        }
    }

    /// Handles a worker's exit, as HAProxy reports it: a current worker's failure ends
    /// everything (see [`Master::child_failed`]).
    fn worker_exited(&mut self, pid: i32, status: std::process::ExitStatus) {
        let Some(i) = self.workers.iter().position(|w| w.pid == pid) else {
            return;
        };
        let w = self.workers.remove(i);
        let code = exit_code(status);
        if !w.current {
            warning(&format!(
                "Former worker ({pid}) exited with code {code} ({})",
                exit_cause(code)
            ));
            return;
        }
        let line = format!(
            "Current worker ({pid}) exited with code {code} ({})",
            exit_cause(code)
        );
        // An exit is a warning, a signal an alert.
        if code < 128 {
            warning(&line);
        } else {
            alert(&line);
        }
        self.child_failed(code);
    }

    /// A current worker or program ended with `code`: unless that is a clean end (0) or a
    /// stop (SIGINT's 130, SIGTERM's 143), every other child is terminated, and the master
    /// exits with the first such status once they are gone.
    fn child_failed(&mut self, code: i32) {
        if code != 0 && code != 130 && code != 143 {
            alert("exit-on-failure: killing every processes with SIGTERM");
            self.signal_workers(Signal::SIGTERM, false);
            for p in &self.programs {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGTERM);
            }
        }
        if code != 0 && code != 143 && self.failure.is_none() {
            self.failure = Some(code);
        }
    }

    /// Once no worker or program is left: the master's exit status.
    fn all_gone(&self) -> Option<i32> {
        if !self.workers.is_empty() || !self.programs.is_empty() {
            return None;
        }
        let code = self.failure.unwrap_or(0).max(0);
        warning(&format!("All workers exited. Exiting... ({code})"));
        Some(code)
    }

    fn signal_workers(&self, sig: Signal, current_only: bool) {
        for w in self.workers.iter().filter(|w| w.current || !current_only) {
            let _ = kill(Pid::from_raw(w.pid), sig);
        }
    }

    /// Sends `sig` to every worker and program, old ones too (HAProxy's `mworker_kill`).
    fn signal_children(&self, sig: Signal) {
        self.signal_workers(sig, false);
        for p in &self.programs {
            let _ = kill(Pid::from_raw(p.pid), sig);
        }
    }

    /// A stop (SIGTERM, SIGINT, or SIGUSR1 for a soft one): passed on to every child; the
    /// master exits once they all have, reporting each exit as usual.
    fn stop_all(&mut self, sig: Signal) {
        self.notify_systemd(&[sd_notify::NotifyState::Stopping]);
        warning("Exiting Master process...");
        self.stopping = true;
        self.program_plans.clear();
        self.signal_children(sig);
    }

    /// The answer to one of the master's own commands ([`cli::COMMANDS`]), without the empty
    /// line that ends it.
    fn answer(&self, command: &str) -> String {
        match command {
            "show proc" => self.show_proc(),
            "show version" => format!("{}\n", super::VERSION),
            "show startup-logs" => STARTUP_LOG.with(|log| log.borrow().clone()),
            // The master CLI's own sockets are not listed, as in HAProxy 2.7's master.
            _ => String::new(),
        }
    }

    /// `show proc`, in HAProxy's layout (every column 15 wide, the last one too).
    fn show_proc(&self) -> String {
        let version = super::VERSION;
        let row =
            |pid: &dyn std::fmt::Display, kind: &str, reloads: &str, up: Duration, v: &str| {
                format!(
                    "{pid:<15} {kind:<15} {reloads:<15} {:<15} {v:<15}\n",
                    uptime(up)
                )
            };
        let mut out = format!(
            "#{:<14} {:<15} {:<15} {:<15} {:<15}\n",
            "<PID>", "<type>", "<reloads>", "<uptime>", "<version>"
        );
        out.push_str(&row(
            &std::process::id(),
            "master",
            &format!("{} [failed: {}]", self.reloads, self.failed_reloads),
            self.started.elapsed(),
            version,
        ));
        // The current workers, or the old ones.
        let workers = |current: bool| -> String {
            self.workers
                .iter()
                .filter(|w| w.current == current)
                .map(|w| {
                    let reloads = w.reloads.to_string();
                    row(&w.pid, "worker", &reloads, w.started.elapsed(), version)
                })
                .collect()
        };
        out.push_str("# workers\n");
        out.push_str(&workers(true));
        // Listed only when there are some.
        let old = workers(false);
        if !old.is_empty() {
            out.push_str("# old workers\n");
            out.push_str(&old);
        }
        out.push_str("# programs\n");
        for p in &self.programs {
            let reloads = p.reloads.to_string();
            out.push_str(&row(
                &p.pid,
                &p.plan.name,
                &reloads,
                p.started.elapsed(),
                "-",
            ));
        }
        out
    }

    /// Starts one program; a failure to start is reported and retried like a crash.
    fn start_program(&mut self, plan: ProgramPlan) {
        let mut cmd = tokio::process::Command::new(&plan.command[0]);
        cmd.args(&plan.command[1..]);
        match cmd.spawn() {
            Ok(mut child) => {
                let pid = child.id().map_or(0, |p| p as i32);
                notice(&format!("New program '{}' ({pid}) forked", plan.name));
                let exits = self.exits.clone();
                tokio::task::spawn_local(async move {
                    if let Ok(status) = child.wait().await {
                        let _ = exits.send((pid, status));
                    }
                });
                self.programs.push(Program {
                    plan,
                    pid,
                    reloads: 0,
                    started: Instant::now(),
                });
            }
            // HAProxy's forked child reports the failed exec and exits with 1 (the pid it
            // had is not known here).
            Err(e) => {
                alert(&format!(
                    "Cannot execute {}: {}",
                    plan.command[0],
                    crate::checks::engine::error_text(&e)
                ));
                alert(&format!(
                    "Current program '{}' exited with code 1 (Exit)",
                    plan.name
                ));
                self.child_failed(1);
            }
        }
    }

    /// Handles the exit of a program (`false`: not a program's pid). As in HAProxy, none is
    /// started again: a failed one ends everything.
    fn program_exited(&mut self, pid: i32, status: std::process::ExitStatus) -> bool {
        let Some(i) = self.programs.iter().position(|p| p.pid == pid) else {
            return false;
        };
        let p = self.programs.remove(i);
        let code = exit_code(status);
        alert(&format!(
            "Current program '{}' ({pid}) exited with code {code} ({})",
            p.plan.name,
            exit_cause(code)
        ));
        self.child_failed(code);
        true
    }

    /// After a reload: programs with `start-on-reload` start anew (the old instance is
    /// terminated), the others keep running; removed ones stop, new ones start.
    fn reload_programs(&mut self, plans: Vec<ProgramPlan>) {
        let mut keep = Vec::new();
        for mut p in std::mem::take(&mut self.programs) {
            let same = plans
                .iter()
                .find(|q| q.name == p.plan.name && q.command == p.plan.command);
            if same.is_some_and(|q| !q.start_on_reload) {
                p.reloads += 1;
                keep.push(p);
            } else {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGTERM);
            }
        }
        self.programs = keep;
        self.program_plans = plans.clone();
        for q in plans {
            if !self.programs.iter().any(|p| p.plan.name == q.name) {
                self.start_program(q);
            }
        }
    }

    /// `-Ws`: one datagram to systemd's `NOTIFY_SOCKET` (HAProxy 2.7's lines).
    fn notify_systemd(&self, states: &[sd_notify::NotifyState]) {
        if self.options.systemd {
            let _ = sd_notify::notify(false, states);
        }
    }

    /// Loaded (at start or on a reload): ready, with the master's pid.
    fn notify_ready(&self) {
        self.notify_systemd(&[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::MainPid(std::process::id()),
            sd_notify::NotifyState::Status("Ready."),
        ]);
    }
}

/// A child's exit status as HAProxy counts it: its exit code, or 128 plus its signal.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// `Exit`, or the signal's description (`Terminated`, `Killed`) for a status past 128.
fn exit_cause(code: i32) -> String {
    if code < 128 {
        return "Exit".into();
    }
    // SAFETY: strsignal answers a pointer to a static or thread-local string (or null),
    // read at once.
    let text = unsafe { libc::strsignal(code - 128) };
    if text.is_null() {
        return "Unknown signal".into();
    }
    // SAFETY: non-null, NUL-terminated (see above).
    unsafe { std::ffi::CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// `0d00h00m05s`.
fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}d{:02}h{:02}m{:02}s",
        s / 86400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

/// The signals a master acts on (HAProxy's master loop): SIGUSR2 and SIGHUP reload, SIGTTOU
/// and SIGTTIN go to the workers, SIGTERM, SIGINT and SIGUSR1 stop.
struct Signals(Vec<(Signal, tokio::signal::unix::Signal)>);

impl Signals {
    fn install() -> Option<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        let wanted = [
            Signal::SIGUSR2,
            Signal::SIGHUP,
            Signal::SIGTTOU,
            Signal::SIGTTIN,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGUSR1,
        ];
        let mut out = Vec::new();
        for sig in wanted {
            out.push((sig, signal(SignalKind::from_raw(sig as i32)).ok()?));
        }
        Some(Signals(out))
    }

    /// The next signal received.
    async fn next(&mut self) -> Signal {
        std::future::poll_fn(|cx| {
            for (sig, stream) in &mut self.0 {
                if stream.poll_recv(cx).is_ready() {
                    return std::task::Poll::Ready(*sig);
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_is_days_hours_minutes_seconds() {
        let d = std::time::Duration::from_secs(86400 + 3600 * 2 + 60 * 3 + 4);
        assert_eq!(super::uptime(d), "1d02h03m04s");
    }
}
