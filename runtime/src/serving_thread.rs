//! A serving thread: its tokio runtime, the tasks it starts (idle pool purge, health checks it
//! owns, script tasks), and how it accepts and serves client connections.

use crate::state::Shared;
use crate::{
    accept, api, checks, clock, http, listener, profiling, proto, quic, script, spread, stop, tcp,
    thread_idle, tls, txn, unstack, upgrade, upstream, ClientStream, MaybeTls,
};
use hapee_compiler::ir::Mode;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What a worker thread accepts connections from: its listening sockets (with how each
/// routes its connections), its inbox of connections other threads hand it, its QUIC
/// sockets.
pub(crate) struct Accepting {
    pub(crate) listeners: Vec<listener::Bound>,
    pub(crate) routes: Vec<spread::Route>,
    pub(crate) inbox: spread::Inbox,
    pub(crate) quic: Vec<quic::Bound>,
}

pub(crate) fn run(
    thread: usize,
    shared: Arc<Shared>,
    sources: Accepting,
    checks: Vec<checks::Assignment>,
    stop: watch::Receiver<bool>,
    unstacking: bool,
    yield_every: Option<Duration>,
) {
    let busy_polling = shared.busy_polling;
    let mut builder = tokio::runtime::Builder::new_current_thread();
    if busy_polling {
        // Events are looked for between any two tasks.
        builder.event_interval(1);
    }
    // `maxcompcpuusage` reads how long the thread waits for events; `unstack` looks where it
    // runs each time it wakes up.
    let idle = http::compress::measures_idle();
    if idle {
        builder.on_thread_park(thread_idle::parked);
    }
    if idle || unstacking {
        builder.on_thread_unpark(move || {
            if idle {
                thread_idle::unparked();
            }
            if unstacking {
                unstack::woke();
            }
        });
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
    rt.block_on(clock::Rounds::new(run).yielding_every(yield_every));
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
        mut listener: listener::Accepting,
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
            !crate::lifecycle::pause::paused()
                && api::may_accept(shared, fe)
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
        let mut resumes = crate::lifecycle::pause::resumes();
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
            if resumes != crate::lifecycle::pause::resumes() {
                resumes = crate::lifecycle::pause::resumes();
                listener = match listener.renew() {
                    Ok(renewed) => renewed,
                    Err(_) => return,
                };
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
