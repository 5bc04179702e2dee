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
//! - `logfmt`/`log`, `state` (what all threads share), `clock`, `stop`.

pub mod acl;
pub mod balance;
pub mod checks;
pub mod clock;
pub mod decide;
pub mod http;
pub mod listener;
pub mod log;
pub mod logfmt;
pub mod peers;
pub mod proto;
pub mod route;
pub mod rules;
pub mod sample;
pub mod state;
pub mod stop;
pub mod support;
pub mod tables;
pub mod tcp;
pub mod txn;
pub mod upstream;

use hapee_compiler::ir::Mode;
use hapee_compiler::plan::Plan;
use state::Shared;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How the process was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGUSR1: stop listening, let in-flight work finish.
    Graceful,
    /// SIGTERM/SIGINT.
    Hard,
}

/// Runs the plan until a signal stops it. Errors are start-up failures, one per line.
pub fn run(plan: &Plan) -> Result<Stop, Vec<String>> {
    let shared = Arc::new(Shared::build(plan)?);
    let threads = plan.global.nbthread.max(1) as usize;
    // Bind everything first so that a busy port fails the start, as in HAProxy.
    let mut per_thread: Vec<Vec<(usize, std::net::TcpListener)>> =
        (0..threads).map(|_| Vec::new()).collect();
    let mut errors = Vec::new();
    for l in &plan.listeners {
        let fe_name = &plan.frontends[l.frontend].name;
        let addrs = match listener::addresses(l) {
            Ok(a) => a,
            Err(e) => {
                errors.push(format!("Starting frontend {fe_name}: {e}"));
                continue;
            }
        };
        for addr in addrs {
            for (t, list) in per_thread.iter_mut().enumerate() {
                if !listener::served_by(l, t, &plan.global.thread_group_of) {
                    continue;
                }
                match listener::bind(addr, 1024) {
                    Ok(sock) => list.push((l.frontend, sock)),
                    Err(e) => errors.push(format!(
                        "Starting frontend {fe_name}: cannot bind socket ({e}) [{addr}]"
                    )),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let tables_thread = peers::start(plan, shared.clone()).map_err(|e| vec![e])?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let checks = checks::assignments(&shared.backends, threads);
    let mut handles = Vec::new();
    for (t, listeners) in per_thread.into_iter().enumerate() {
        let cpus = plan.global.thread_cpus.get(t).cloned().unwrap_or_default();
        let shared = shared.clone();
        let stop = stop_rx.clone();
        let my_checks: Vec<(usize, usize)> = checks
            .iter()
            .filter(|c| c.0 == t)
            .map(|c| (c.1, c.2))
            .collect();
        let h = std::thread::Builder::new()
            .name(format!("hapee-worker-{}", t + 1))
            .spawn(move || {
                bind_to_cpus(t, &cpus);
                worker(shared, listeners, my_checks, stop)
            })
            .map_err(|e| vec![format!("cannot start worker thread: {e}")])?;
        handles.push(h);
    }
    let how = wait_for_signal();
    if how == Stop::Hard {
        return Ok(Stop::Hard);
    }
    shared.stopping.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    for h in handles.into_iter().chain(tables_thread) {
        let _ = h.join();
    }
    Ok(Stop::Graceful)
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

fn wait_for_signal() -> Stop {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return Stop::Hard,
    };
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut usr1), Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::user_defined1()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return Stop::Hard;
        };
        tokio::select! {
            _ = usr1.recv() => Stop::Graceful,
            _ = term.recv() => Stop::Hard,
            _ = int.recv() => Stop::Hard,
        }
    })
}

fn worker(
    shared: Arc<Shared>,
    listeners: Vec<(usize, std::net::TcpListener)>,
    checks: Vec<(usize, usize)>,
    stop: watch::Receiver<bool>,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let local = tokio::task::LocalSet::new();
    let run = local.run_until(async move {
        let pool = upstream::pool::Pool::default();
        let stopping = stop::Stopping::default();
        tokio::task::spawn_local(stopping.clone().relay(stop));
        for (b, s) in checks {
            let be = &shared.backends[b];
            tokio::task::spawn_local(checks::run(
                be.name.clone(),
                be.health_check.clone(),
                be.timeouts.check,
                be.servers[s].clone(),
            ));
        }
        let mut accepting = Vec::new();
        for (fe, std_listener) in listeners {
            let Ok(l) = tokio::net::TcpListener::from_std(std_listener) else {
                continue;
            };
            accepting.push(tokio::task::spawn_local(accept_loop(
                l,
                fe,
                shared.clone(),
                pool.clone(),
                stopping.clone(),
            )));
        }
        for a in accepting {
            let _ = a.await;
        }
        // Graceful stop: wait for the sessions still running on every thread.
        while shared.active.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    // Each poll of `run` is one round of the thread's ready tasks.
    rt.block_on(clock::Rounds::new(run));
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    fe: usize,
    shared: Arc<Shared>,
    pool: upstream::pool::Pool,
    stopping: stop::Stopping,
) {
    let mut stopped = std::pin::pin!(stopping.wait());
    loop {
        let accepted = tokio::select! {
            biased;
            _ = &mut stopped => return,
            a = listener.accept() => a,
        };
        let Ok((stream, client)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let frontend = &shared.frontends[fe];
        let _ = stream.set_nodelay(true);
        shared.active.fetch_add(1, Ordering::Relaxed);
        frontend.active.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let pool = pool.clone();
        let stopping = stopping.clone();
        tokio::task::spawn_local(async move {
            let fe_rt = &shared.frontends[fe];
            if fe_rt.mode == Mode::Http {
                let local = stream.local_addr().unwrap_or(client);
                let ctx = Rc::new(http::ConnCtx::new(shared.clone(), fe, client, local, pool));
                proto::h1::serve(stream, ctx, stopping).await;
            } else {
                tcp::serve(stream, shared.clone(), fe).await;
            }
            fe_rt.active.fetch_sub(1, Ordering::Relaxed);
            shared.active.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
