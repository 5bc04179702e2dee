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

pub mod accept;
pub mod acl;
pub mod api;
pub mod balance;
pub mod bind_tuning;
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
pub mod upgrade;
pub mod upstream;
pub mod var_limits;
pub mod varint;
pub mod vars;

pub use client_stream::{ClientStream, MaybeTls};
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
                if let Err(e) = bind_tuning::apply(&socket, l, fe, plan.global.maxconn) {
                    errors.push(format!("Starting frontend {fe_name}: bind {addr}: {e}"));
                    continue;
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
        let my_checks: Vec<checks::Assignment> =
            checks.iter().filter(|c| c.thread == t).cloned().collect();
        let h = std::thread::Builder::new()
            .name(format!("hapee-worker-{}", t + 1))
            .spawn(move || {
                if let Some(start) = WORKER_START.get() {
                    start();
                }
                bind_to_cpus(t, &cpus);
                api::counters::enter_thread(t + 1);
                if let Some(engine) = engine {
                    script::enter_thread(engine.for_thread(t));
                }
                let accepting = Accepting {
                    listeners,
                    routes,
                    inbox,
                    quic,
                };
                worker(t, shared, accepting, my_checks, stop)
            })
            .map_err(|e| vec![format!("cannot start worker thread: {e}")])?;
        handles.push(h);
    }
    lifecycle::worker::announce_ready();
    lifecycle::worker::stop_old(&options.stop_after_start, options.stop_gracefully);
    let how = wait_for_signal();
    lifecycle::handover::forget_exported();
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
        let (Ok(mut usr1), Some(hard)) = (
            signal(SignalKind::user_defined1()),
            lifecycle::worker::hard_stop_signal(),
        ) else {
            return Stop::Hard;
        };
        tokio::select! {
            _ = usr1.recv() => Stop::Graceful,
            _ = lifecycle::worker::master_gone() => Stop::Graceful,
            _ = hard => Stop::Hard,
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

/// What a worker thread accepts connections from: its listening sockets (with how each
/// routes its connections), its inbox of connections other threads hand it, its QUIC
/// sockets.
struct Accepting {
    listeners: Vec<listener::Bound>,
    routes: Vec<spread::Route>,
    inbox: spread::Inbox,
    quic: Vec<quic::Bound>,
}

fn worker(
    thread: usize,
    shared: Arc<Shared>,
    sources: Accepting,
    checks: Vec<checks::Assignment>,
    stop: watch::Receiver<bool>,
) {
    let busy_polling = shared.busy_polling;
    let mut builder = tokio::runtime::Builder::new_current_thread();
    if busy_polling {
        // Events are looked for between any two tasks.
        builder.event_interval(1);
    }
    if http::compress::measures_idle() {
        // `maxcompcpuusage` reads how long the thread waits for events.
        builder
            .on_thread_park(thread_idle::parked)
            .on_thread_unpark(thread_idle::unparked);
    }
    let Ok(rt) = builder.enable_all().build() else {
        return;
    };
    api::sessions::enter_thread(thread);
    let local = tokio::task::LocalSet::new();
    let run = local.run_until(async move {
        let pool = upstream::pool::Pool::new(thread);
        tokio::task::spawn_local(pool.clone().purge_regularly());
        let stopping = stop::Stopping::default();
        let (asker, queries) = tokio::sync::mpsc::unbounded_channel();
        shared.process.add_session_asker(asker);
        tokio::task::spawn_local(api::sessions::answer(thread, queries));
        tokio::task::spawn_local(stopping.clone().relay(stop));
        if busy_polling {
            tokio::task::spawn_local(stop::busy_poll(stopping.clone()));
        }
        for task in script::hooks().map(|h| h.tasks()).unwrap_or_default() {
            tokio::task::spawn_local(task);
        }
        for at in checks {
            tokio::task::spawn_local(checks::run(shared.clone(), at));
        }
        let Accepting {
            listeners,
            routes,
            inbox,
            quic,
        } = sources;
        let server = Server {
            thread,
            shared: shared.clone(),
            pool: pool.clone(),
            stopping: stopping.clone(),
        };
        let mut accepting = vec![tokio::task::spawn_local(server.clone().serve_inbox(inbox))];
        for (bound, route) in listeners.into_iter().zip(routes) {
            let Ok(l) = bound.socket.into_tokio() else {
                continue;
            };
            accepting.push(tokio::task::spawn_local(server.clone().accept_loop(
                l,
                bound.serving,
                route,
            )));
        }
        for bound in quic {
            accepting.push(tokio::task::spawn_local(quic::serve(
                bound,
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

/// What a worker thread serves accepted connections with.
#[derive(Clone)]
struct Server {
    thread: usize,
    shared: Arc<Shared>,
    pool: upstream::pool::Pool,
    stopping: stop::Stopping,
}

impl Server {
    /// Accepts on one socket, each connection going to the thread its route chooses.
    async fn accept_loop(
        self,
        listener: listener::Accepting,
        serving: Arc<listener::Serving>,
        route: spread::Route,
    ) {
        let shared = &self.shared;
        let fe = serving.frontend;
        let mut stopped = std::pin::pin!(self.stopping.wait());
        let local = listener.local();
        // `maxsslrate` holds the connections of TLS listeners.
        let tls_rate = serving.tls.is_some();
        let may_take = || {
            api::may_accept(shared, fe)
                && serving.has_room(shared)
                && (!tls_rate || tls::limits::may_accept())
        };
        let dispatch = |stream: std::net::TcpStream, client| {
            // Counted before it is served, so that a stopping worker waits for it.
            shared.active.fetch_add(1, Ordering::Relaxed);
            shared.frontends[fe].active.fetch_add(1, Ordering::Relaxed);
            serving.conns(shared).fetch_add(1, Ordering::Relaxed);
            api::count_accept(shared, fe, serving.rank);
            if tls_rate {
                tls::limits::count_accept();
            }
            let target = route.choose(&shared.loads);
            let handed = spread::Handed {
                stream,
                client,
                local,
                serving: serving.clone(),
            };
            let handed = if target == self.thread {
                handed
            } else {
                match route.send(target, handed) {
                    Ok(()) => return,
                    // That thread has stopped taking connections: this one serves it.
                    Err(back) => {
                        shared.loads.release(target);
                        shared.loads.assign(self.thread, false);
                        back
                    }
                }
            };
            self.spawn(handed);
        };
        // Connections taken since this loop last let the others run (`tune.maxaccept`).
        let mut in_a_row = 0u32;
        loop {
            // Limits (maxconn, rate limit, `disable frontend`) hold new connections in the
            // backlog.
            while !may_take() {
                tokio::select! {
                    biased;
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                }
            }
            let accepted = tokio::select! {
                biased;
                _ = &mut stopped => break,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, client)) => {
                    // Another thread may have taken the last slot while this one waited in
                    // accept: the connection then waits, unread, for a slot of its own. The
                    // session of this second is taken last, in one step (reserving it before
                    // the accept would keep it from the threads whose sockets the kernel gives
                    // the next connections to).
                    while !may_take() || !api::take_session_slot(shared, fe) {
                        tokio::select! {
                            biased;
                            _ = &mut stopped => return,
                            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                        }
                    }
                    dispatch(stream, client);
                    in_a_row += 1;
                    // A burst of new connections is shared with the other threads polling this
                    // socket (and this thread's own connections get served) rather than taken
                    // whole by whichever thread woke first.
                    if shared.process.maxaccept.is_some_and(|max| in_a_row >= max) {
                        in_a_row = 0;
                        tokio::task::yield_now().await;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        // Before the socket closes, take the connections the kernel has already queued on it:
        // when the socket is this process's own (`-sf`), closing it would reset them.
        for (stream, client) in listener.drain() {
            dispatch(stream, client);
        }
    }

    /// Serves the connections other threads hand this one, until every accept loop that
    /// could send one has ended.
    async fn serve_inbox(self, mut inbox: spread::Inbox) {
        while let Some(handed) = inbox.recv().await {
            self.spawn(handed);
        }
    }

    /// Serves a connection (already counted) on this thread.
    fn spawn(&self, handed: spread::Handed) {
        let spread::Handed {
            stream,
            client,
            local,
            serving,
        } = handed;
        let server = self.clone();
        tokio::task::spawn_local(async move {
            let shared = &server.shared;
            match tokio::net::TcpStream::from_std(stream) {
                Ok(stream) => {
                    serve_connection(
                        stream,
                        client,
                        local,
                        serving.clone(),
                        shared.clone(),
                        server.pool.clone(),
                        server.stopping.clone(),
                    )
                    .await
                }
                // Not registered with the event loop (out of resources): dropped, uncounted.
                Err(_) => {
                    shared.frontends[serving.frontend]
                        .active
                        .fetch_sub(1, Ordering::Relaxed);
                    serving.conns(shared).fetch_sub(1, Ordering::Relaxed);
                    shared.active.fetch_sub(1, Ordering::Relaxed);
                }
            }
            shared.loads.release(server.thread);
        });
    }
}

/// One accepted connection (already counted as active), from its opening (`accept`) to
/// its end.
async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    client: std::net::SocketAddr,
    local: Option<std::net::SocketAddr>,
    serving: Arc<listener::Serving>,
    shared: Arc<Shared>,
    pool: upstream::pool::Pool,
    stopping: stop::Stopping,
) {
    let fe = serving.frontend;
    let fe_rt = &shared.frontends[fe];
    let open = std::rc::Rc::new(listener::OpenConn::counted(
        shared.clone(),
        fe,
        Some(serving.rank),
    ));
    // `disable frontend`: hold the connection until the frontend is enabled again.
    while fe_rt.paused.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stream.set_nodelay(true);
    if fe_rt.nolinger {
        listener::reset_on_close(&stream);
    }
    if fe_rt.tcp_keep_alive {
        listener::keep_alive(&stream, &fe_rt.keep_alive_timing);
    }
    let local = local.unwrap_or_else(|| stream.local_addr().unwrap_or(client));
    // Each step's future is boxed for its own time: the task holds, for as long as the
    // connection lasts, what its protocol's future needs and not the largest of all steps
    // (which an idle connection would otherwise keep).
    let opened = Box::pin(accept::open(&mut stream, &shared, &serving, client, local)).await;
    match opened {
        accept::Opened::Ready(mut txn) => {
            let stream = match &serving.tls {
                Some(tls) => {
                    let limit = fe_rt.head_timeout().unwrap_or(Duration::from_secs(10));
                    match Box::pin(tls::accept(&tls.current(), stream, limit)).await {
                        Ok((stream, info)) => {
                            txn.tls = Some(Arc::new(info));
                            Some(MaybeTls::Tls(Box::new(stream)))
                        }
                        Err(e) => {
                            // The connection is a TLS one that failed (`%ft` gets its `~`).
                            txn.tls = Some(Arc::new(tls::TlsInfo::default()));
                            txn.conn_error = Some(e);
                            http::log_embryonic(&txn, &serving.name, e);
                            None
                        }
                    }
                }
                None => Some(MaybeTls::Plain(stream)),
            };
            if let Some(stream) = stream {
                serve_opened(stream, txn, &serving, &shared, pool, stopping, open).await;
            }
        }
        accept::Opened::Rejected | accept::Opened::Failed => {}
    }
}

/// The context of an HTTP connection opened (or switched to HTTP) as `txn`.
fn http_ctx(
    txn: &txn::Txn,
    fe: usize,
    shared: &Arc<Shared>,
    pool: upstream::pool::Pool,
    open: std::rc::Rc<listener::OpenConn>,
) -> http::ConnCtx {
    let mut ctx = http::ConnCtx::new(shared.clone(), fe, txn.client, txn.local, pool);
    ctx.open = Some(open);
    ctx.proxy = txn.proxy.clone();
    ctx.unix_listener = txn.unix_listener;
    ctx.conn_addrs = txn.conn_addrs;
    ctx.listener = txn.listener;
    // What `tcp-request connection|session` rules track holds for every request.
    if let Some(session) = &txn.stick.session {
        ctx.session_counters = session.clone();
    }
    let session = api::sessions::open(fe, txn.client, txn.local);
    session.set_http();
    ctx.session = Some(session);
    ctx.tls = txn.tls.clone();
    ctx.client_fd = txn.client_fd;
    ctx
}

/// Serves an opened connection (TLS done) in its frontend's mode: TCP, or HTTP/2 when ALPN
/// or the listener's `proto h2` says so, else HTTP/1. The opening's transaction is left here
/// (an HTTP connection keeps only the context made of it).
fn serve_opened(
    stream: ClientStream,
    txn: Box<txn::Txn>,
    serving: &listener::Serving,
    shared: &Arc<Shared>,
    pool: upstream::pool::Pool,
    stopping: stop::Stopping,
    open: std::rc::Rc<listener::OpenConn>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    let fe = serving.frontend;
    if shared.frontends[fe].mode != Mode::Http {
        let shared = shared.clone();
        return Box::pin(async move {
            let mut txn = txn;
            txn.begin_stream();
            let session = api::sessions::open(fe, txn.client, txn.local);
            // The stream's task counters (`cpu_calls` …): the TCP stream's future.
            let profile = Arc::new(profiling::StreamProfile::default());
            txn.profile = Some(profile.clone());
            let tcp = profiling::Profiled::new(
                Box::pin(tcp::serve(stream, fe, *txn, &session)),
                profile,
                shared.profiling_tasks,
            );
            // A killed session (`shutdown session`) drops its connections where it is.
            // The forwarding inside logs a kill (`K-`) and ends first: polled first.
            let served = tokio::select! {
                biased;
                up = tcp => up,
                () = session.killed() => None,
            };
            let Some(up) = served else {
                return;
            };
            drop(session);
            let ctx = http_ctx(&up.txn, fe, &shared, pool, open);
            upgrade::serve(up, ctx, stopping).await
        });
    }
    let ctx = http_ctx(&txn, fe, shared, pool, open);
    // What the `tcp-request connection|session` rules set in `sess.` holds for every
    // request of the connection, as HAProxy keeps them in the session.
    ctx.sess_vars.keep(&txn);
    let h2 = serving.h2 || txn.tls.as_ref().and_then(|t| t.alpn.as_deref()) == Some("h2");
    // A killed session (`shutdown session`) is answered by the request waiting for its
    // server (`http::forward`): HAProxy's 502 with `KH`, logged.
    let ctx = Rc::new(ctx);
    if h2 {
        Box::pin(proto::h2::serve(stream, ctx, stopping))
    } else {
        Box::pin(proto::h1::serve(stream, ctx, stopping))
    }
}
