//! The hapee proxy runtime: runs a compiled [`Plan`].
//!
//! Worker threads each run a single-threaded tokio runtime with a `LocalSet`; listeners are
//! bound once per serving thread with SO_REUSEPORT; shared state is atomics. One module (or
//! folder) per concern:
//! - `listener`: binding; `proto/`: client connection drivers (`h1`, and `h2`/`h3` as they
//!   land), all handing requests to `http`, the request path (rules, routing, forwarding,
//!   logs); `tcp` for TCP mode;
//! - `upstream/`: server connections, the idle pools and the retry/reuse policy; `balance`;
//!   `checks`;
//! - `acl`, `sample`, `rules`, `route`, `decide` (the request path without sockets);
//! - `tables/`: stick tables and tracking; `peers/`: sharing them with other processes;
//! - `logfmt`/`log`, `state` (what all threads share), `clock`, `stop`;
//! - `serving_thread`: one worker thread's runtime, its tasks, and the accept loops.

pub mod accept;
pub mod acl;
pub mod api;
pub mod balance;
pub mod bind_tuning;
pub mod busy_spell;
pub mod bwlim;
pub mod checks;
pub mod client_stream;
pub mod clock;
pub mod close_spread;
pub(crate) mod cold;
pub mod conn_actions;
pub mod decide;
pub mod discovery;
pub mod explain;
pub mod held_records;
pub mod http;
pub mod inspect;
pub mod lifecycle;
pub mod listener;
pub mod log;
pub mod log_wait;
pub mod logfmt;
pub mod netns;
pub mod patref;
pub mod peers;
pub mod profiling;
pub mod proto;
pub mod quic;
pub mod rdp;
pub mod rings;
pub mod route;
pub mod rules;
pub mod sample;
pub mod script;
mod serving_thread;
pub mod set_addr;
mod side_thread;
pub mod sockopt;
pub mod spoe;
pub mod spread;
pub mod state;
pub mod stop;
pub mod support;
pub mod tables;
pub mod tcp;
pub mod tcp_response;
pub mod thread_idle;
pub mod tls;
pub mod txn;
pub mod unstack;
pub mod upgrade;
pub mod upstream;
pub mod var_limits;
pub mod varint;
pub mod vars;

pub use client_stream::{ClientStream, MaybeTls};
use hapee_compiler::plan::Plan;
use state::Shared;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

/// How the process was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGUSR1: stop listening, let in-flight work finish.
    Graceful,
    /// SIGTERM/SIGINT.
    Hard,
}

/// How this process starts, beyond its plan.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// `-sf`/`-st`: processes to stop (gracefully with `-sf`) once this one serves.
    pub stop_after_start: Vec<i32>,
    pub stop_gracefully: bool,
    /// The scripts' engine (`lua-load`), when the configuration loads any.
    pub engine: Option<Arc<dyn script::Engine>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("stop_after_start", &self.stop_after_start)
            .field("stop_gracefully", &self.stop_gracefully)
            .field("engine", &self.engine.is_some())
            .finish()
    }
}

/// Runs the plan until a signal stops it. Errors are start-up failures, one per line.
pub fn run(plan: &Plan) -> Result<Stop, Vec<String>> {
    run_with(plan, &RunOptions::default())
}

/// [`run`], with the start-up options of a reload and the scripts' engine.
pub fn run_with(plan: &Plan, options: &RunOptions) -> Result<Stop, Vec<String>> {
    log::send_hostname(plan.global.process.log_send_hostname.as_deref());
    sockopt::set_buffer_sizes(&plan.global.process.socket_buffers);
    logfmt::set_request_line_room(plan.global.http_logurilen);
    http::vet::accept_payload_with_any_method(plan.global.h1_accept_payload_with_any_method);
    http::compress::set_level(plan.global.comp_maxlevel);
    http::compress::set_rate_limit(plan.global.comp_rate_limit);
    http::compress::set_zlib(&plan.global.zlib);
    var_limits::set_check_limit(&plan.global.var_limits);
    close_spread::configure(plan.global.process.close_spread);
    lifecycle::limits::apply(&plan.global.process).map_err(|e| vec![e])?;
    let default_path = plan.global.default_path.as_deref();
    lifecycle::default_path::enter(default_path).map_err(|e| vec![e])?;
    // Rings come first: log targets name them.
    rings::start(plan)?;
    tls::configure(&plan.global.tls_process)?;
    let shared = Arc::new(Shared::build(plan)?);
    vars::ProcVars::initialize(&shared);
    lifecycle::server_state::apply(&shared, plan);
    discovery::start(&shared, plan)?;
    let engine = options.engine.clone();
    if let Some(engine) = &engine {
        engine.start(&shared)?;
    }
    // The files are loaded: sockets bind and files are written from where the process started.
    lifecycle::default_path::leave();
    let threads = plan.global.nbthread.max(1) as usize;
    // The Runtime API comes up first, so that it answers while the rest starts.
    let cli_sockets = api::socket::bind_all(&plan.global.stats.sockets)?;
    api::socket::serve(shared.clone(), cli_sockets)
        .map_err(|e| vec![format!("cannot start the Runtime API thread: {e}")])?;
    lifecycle::worker::serve_master_cli(shared.clone());
    // Bind everything first so that a busy port fails the start, as in HAProxy.
    let mut per_thread: Vec<Vec<listener::Bound>> = (0..threads).map(|_| Vec::new()).collect();
    let mut per_thread_quic: Vec<Vec<quic::Bound>> = (0..threads).map(|_| Vec::new()).collect();
    let quic_keys = quic::config::Keys::new(plan.global.quic.cluster_secret.as_deref());
    let mut errors = Vec::new();
    // The slots of the sockets (`lifecycle::sockets::wanted` gives them in the same order).
    let mut slots = lifecycle::sockets::Slots::default();
    for l in &plan.listeners {
        let fe_name = &plan.frontends[l.frontend].name;
        if l.address.transport == hapee_compiler::address::Transport::Quic {
            // Its certificates load from `default-path`; it binds no path.
            let bound = lifecycle::default_path::enter(default_path)
                .and_then(|()| quic::bind_listener(plan, l, &quic_keys, threads));
            lifecycle::default_path::leave();
            match bound {
                Ok(bound) => bound
                    .into_iter()
                    .for_each(|(t, b)| per_thread_quic[t].push(b)),
                Err(e) => errors.push(format!("Starting frontend {fe_name}: {e}")),
            }
            continue;
        }
        let serving =
            lifecycle::default_path::enter(default_path).and_then(|()| listener::Serving::of(l));
        lifecycle::default_path::leave();
        let serving = match serving {
            Ok(mut s) => {
                let rank = listener::rank_in_frontend(plan, l);
                if s.name.is_empty() {
                    s.name = (rank + 1).to_string();
                }
                s.rank = rank;
                let id = listener::ListenerRt::of_frontend(plan, l.frontend, 0)[rank].id;
                s.unix_id = listener::is_unix(l).then_some(id);
                Arc::new(s)
            }
            Err(e) => {
                errors.push(format!("Starting frontend {fe_name}: {e}"));
                continue;
            }
        };
        let sets = listener::thread_sets(l, threads, &plan.global.thread_group_of);
        if listener::is_unix(l) {
            // One socket for every serving thread: a path cannot be bound once per group.
            match listener::bind_unix_listener(l) {
                Ok(socket) => {
                    for set in &sets {
                        let group: Arc<[usize]> = set.as_slice().into();
                        for &t in set {
                            match socket.try_clone() {
                                Ok(s) => per_thread[t].push(listener::Bound {
                                    serving: serving.clone(),
                                    socket: listener::ListenSocket::Unix(s),
                                    group: group.clone(),
                                }),
                                Err(e) => errors.push(format!("Starting frontend {fe_name}: {e}")),
                            }
                        }
                    }
                }
                Err(e) => errors.push(format!(
                    "Starting frontend {fe_name}: cannot bind UNIX socket ({e}) [{}]",
                    l.address.host
                )),
            }
            continue;
        }
        let addrs = match listener::addresses(l) {
            Ok(a) => a,
            Err(e) => {
                errors.push(format!("Starting frontend {fe_name}: {e}"));
                continue;
            }
        };
        // One socket per address and thread group, which the group's threads share.
        for addr in addrs {
            for set in &sets {
                let flags = listener::BindFlags::of(l, &plan.global);
                let socket = match lifecycle::sockets::listen(addr, slots.next(addr), flags) {
                    Ok(socket) => socket,
                    Err(e) => {
                        errors.push(format!(
                            "Starting frontend {fe_name}: cannot bind socket ({e}) [{addr}]"
                        ));
                        continue;
                    }
                };
                let fe = &plan.frontends[l.frontend];
                match bind_tuning::apply(&socket, l, fe, plan.global.maxconn) {
                    Ok(backlog) => {
                        // HAProxy names a `listen` section's kind "proxy" in these warnings.
                        let kind = if fe.own_backend.is_some() {
                            "proxy"
                        } else {
                            "frontend"
                        };
                        lifecycle::pause::register(&socket, backlog, format!("{kind} {fe_name}"));
                    }
                    Err(e) => {
                        errors.push(format!("Starting frontend {fe_name}: bind {addr}: {e}"));
                        continue;
                    }
                }
                let group: Arc<[usize]> = set.as_slice().into();
                for &t in set {
                    match socket.try_clone() {
                        Ok(s) => per_thread[t].push(listener::Bound {
                            serving: serving.clone(),
                            socket: listener::ListenSocket::Tcp(s),
                            group: group.clone(),
                        }),
                        Err(e) => errors.push(format!("Starting frontend {fe_name}: {e}")),
                    }
                }
            }
        }
    }
    lifecycle::sockets::close_unclaimed();
    if !errors.is_empty() {
        return Err(errors);
    }
    let tables_thread = peers::start(plan, shared.clone()).map_err(|e| vec![e])?;
    // Every socket is bound: the process takes its root and drops its privileges.
    lifecycle::confine::confine(&plan.global.process).map_err(|e| vec![e])?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let checks = checks::assignments(
        &shared.backends,
        threads,
        plan.global.process.max_spread_checks,
    );
    let mut handles = Vec::new();
    let (senders, inboxes) = spread::inboxes(threads);
    let unstack = unstack::Workers::new(threads);
    // Each accept loop holds the sending ends it may use; once they have all ended, so do
    // the inboxes.
    let routes: Vec<Vec<spread::Route>> = per_thread
        .iter()
        .enumerate()
        .map(|(t, list)| {
            list.iter()
                .map(|b| spread::Route::new(t, &b.group, &senders))
                .collect()
        })
        .collect();
    drop(senders);
    let yield_every = busy_spell::configured(per_thread.len());
    for (t, (((listeners, routes), inbox), quic)) in per_thread
        .into_iter()
        .zip(routes)
        .zip(inboxes)
        .zip(per_thread_quic)
        .enumerate()
    {
        let cpus = plan.global.thread_cpus.get(t).cloned().unwrap_or_default();
        let shared = shared.clone();
        let stop = stop_rx.clone();
        let engine = engine.clone();
        let unstack = unstack.clone();
        let my_checks: Vec<checks::Assignment> =
            checks.iter().filter(|c| c.thread == t).cloned().collect();
        let h = std::thread::Builder::new()
            .name(format!("hapee-worker-{}", t + 1))
            .spawn(move || {
                if let Some(start) = WORKER_START.get() {
                    start();
                }
                bind_to_cpus(t, &cpus);
                let unstacking = unstack::enter(unstack.as_ref(), t);
                api::counters::enter_thread(t + 1);
                if let Some(engine) = engine {
                    script::enter_thread(engine.for_thread(t));
                }
                let accepting = serving_thread::Accepting {
                    listeners,
                    routes,
                    inbox,
                    quic,
                };
                serving_thread::run(
                    t,
                    shared,
                    accepting,
                    my_checks,
                    stop,
                    unstacking,
                    yield_every,
                )
            })
            .map_err(|e| vec![format!("cannot start worker thread: {e}")])?;
        handles.push(h);
    }
    lifecycle::worker::announce_ready();
    lifecycle::worker::stop_old(&options.stop_after_start, options.stop_gracefully);
    let how = wait_for_signal(&shared);
    lifecycle::handover::forget_exported();
    lifecycle::pause::forget();
    if how == Stop::Hard {
        return Ok(Stop::Hard);
    }
    shared.stopping.store(true, Ordering::Relaxed);
    if let Some(ms) = plan.global.process.grace {
        if wait_for_grace(ms) == Stop::Hard {
            return Ok(Stop::Hard);
        }
    }
    lifecycle::worker::arm_hard_stop(plan.global.hard_stop_after);
    lifecycle::worker::exit_on_terminate();
    close_spread::begin();
    let _ = stop_tx.send(true);
    for h in handles.into_iter().chain(tables_thread) {
        let _ = h.join();
    }
    Ok(Stop::Graceful)
}

/// What the binary runs first on each worker thread (its allocator's per-thread setup).
static WORKER_START: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what each worker thread runs first; the first call wins.
pub fn on_worker_start(start: fn()) {
    let _ = WORKER_START.set(start);
}

/// Binds the calling thread to `cpus` (`cpu-map`); nothing when the set is empty. A set the
/// machine cannot honour (no such CPU) leaves the thread unbound, with a warning.
fn bind_to_cpus(thread: usize, cpus: &[u32]) {
    if cpus.is_empty() {
        return;
    }
    let mut set = nix::sched::CpuSet::new();
    for &cpu in cpus {
        let _ = set.set(cpu as usize);
    }
    if let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
        eprintln!(
            "[WARNING] cpu-map: thread {} cannot be bound to CPUs {cpus:?} ({e}); it runs unbound.",
            thread + 1
        );
    }
}

fn wait_for_signal(shared: &state::Shared) -> Stop {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return Stop::Hard,
    };
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut usr1), Some(hard), Ok(mut ttou), Ok(mut ttin), Ok(mut hup)) = (
            signal(SignalKind::user_defined1()),
            lifecycle::worker::hard_stop_signal(),
            signal(SignalKind::from_raw(libc::SIGTTOU)),
            signal(SignalKind::from_raw(libc::SIGTTIN)),
            signal(SignalKind::hangup()),
        ) else {
            return Stop::Hard;
        };
        let mut hard = std::pin::pin!(hard);
        let mut master_gone = std::pin::pin!(lifecycle::worker::master_gone());
        loop {
            tokio::select! {
                _ = usr1.recv() => return Stop::Graceful,
                _ = &mut master_gone => return Stop::Graceful,
                _ = &mut hard => return Stop::Hard,
                _ = ttou.recv() => lifecycle::pause::pause(),
                _ = ttin.recv() => lifecycle::pause::resume(),
                _ = hup.recv() => lifecycle::dump_state::dump(shared),
            }
        }
    })
}

/// `grace`: the listeners go on accepting (the `stopping` fetch already true) for `ms`
/// milliseconds before the soft stop proceeds; SIGTERM or SIGINT meanwhile stops at once.
fn wait_for_grace(ms: u32) -> Stop {
    let pid = std::process::id();
    eprintln!("[NOTICE]   ({pid}) : Scheduling a soft-stop in {ms} ms.");
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Stop::Graceful;
    };
    let stop = rt.block_on(async {
        let Some(hard) = lifecycle::worker::hard_stop_signal() else {
            return Stop::Graceful;
        };
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))) => Stop::Graceful,
            _ = hard => Stop::Hard,
        }
    });
    if stop == Stop::Graceful {
        eprintln!("[NOTICE]   ({pid}) : Grace period expired, proceeding with soft-stop now.");
    }
    stop
}
