//! The Runtime API (HAProxy's stats socket): a sans-I/O interpreter (`cli`) with its command
//! table (`commands`) and one file per command group (`info`, `stat`, `servers`, `anon`), the
//! socket listeners (`socket`), and the counters everything reports (`counters`, `health`).

pub mod anon;
pub mod cli;
pub mod commands;
pub mod counters;
pub mod fields;
pub mod health;
pub mod info;
pub mod maps;
pub mod page;
mod page_modules;
pub mod prometheus;
mod promex_fields;
mod resolver_stats;
pub mod servers;
pub mod service;
pub mod sessions;
pub mod socket;
pub mod ssl;
mod ssl_show;
pub mod stat;
pub mod tls_keys;
pub mod trace;

use counters::{Counter, Counters, Peak};
use hapee_compiler::plan::{Plan, StatsPlan};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Process-wide figures and settings the Runtime API reports and changes.
pub struct Process {
    pub started: SystemTime,
    pub started_at: Instant,
    pub nbthread: u32,
    /// `maxconn` reported (`show info`): the configured one, else HAProxy's usual default.
    pub maxconn: AtomicU64,
    /// `maxconn` enforced: set in the configuration or by `set maxconn global`; 0 is none.
    pub maxconn_limit: AtomicU64,
    /// The most `set maxconn global` accepts (HAProxy's `hardmaxconn`): the starting one.
    pub hard_maxconn: u64,
    /// The configuration's `maxconn`, 0 without one.
    pub configured_maxconn: u64,
    /// `set rate-limit connections|sessions global`: 0 is none.
    pub conn_rate_limit: AtomicU64,
    pub sess_rate_limit: AtomicU64,
    /// `tune.maxaccept`: connections a listener takes in a row before letting other work (and
    /// the other threads polling the same socket) have a turn; `None`: no limit.
    pub maxaccept: Option<u32>,
    /// `spread-checks`, in % of a check's interval.
    pub spread_checks: u32,
    /// `pp2-never-send-local`: health checks' PROXY v2 headers name their connection.
    pub pp2_never_send_local: bool,
    pub node: String,
    pub description: Option<String>,
    pub stats: StatsPlan,
    /// Connections of the whole process (`CumConns`); `CumReq` is the stream count of
    /// [`crate::txn::streams_started`].
    pub counters: Counters,
    pub peak_conns: Peak,
    /// `anonkey` / `set anon global-key`: the key `set anon on` uses when given none.
    pub anon_global_key: AtomicU32,
    /// Per-frontend session rate over the last second and its peak, sampled by the API thread.
    rates: Vec<(AtomicU64, AtomicU64, AtomicU64)>,
    /// Per-frontend HTTP request rate and its peak (`req_rate`, `req_rate_max`).
    req_rates: Vec<(AtomicU64, AtomicU64, AtomicU64)>,
    /// The process-wide connection rate and its peak.
    conn_rate: (AtomicU64, AtomicU64, AtomicU64),
    /// How to ask each worker for its sessions (`show sess`); filled as workers start.
    session_askers: std::sync::Mutex<Vec<sessions::Asker>>,
}

/// What `set maxconn global` starts from when the configuration sets none.
pub const DEFAULT_MAXCONN: u32 = 4096;

impl Process {
    pub fn new(plan: &Plan) -> Process {
        let threads = plan.global.nbthread.max(1) as usize;
        // `trace` lines configure the trace sources as the CLI command does (`check` has
        // reported their errors).
        for words in &plan.global.traces {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let _ = trace::command(&words);
        }
        let host = crate::log::machine_name().unwrap_or_default().to_string();
        Process {
            started: SystemTime::now(),
            started_at: Instant::now(),
            nbthread: plan.global.nbthread.max(1),
            maxconn: AtomicU64::new(u64::from(plan.global.maxconn.unwrap_or(DEFAULT_MAXCONN))),
            maxconn_limit: AtomicU64::new(u64::from(plan.global.maxconn.unwrap_or(0))),
            hard_maxconn: u64::from(plan.global.maxconn.unwrap_or(DEFAULT_MAXCONN)),
            configured_maxconn: u64::from(plan.global.maxconn.unwrap_or(0)),
            conn_rate_limit: AtomicU64::new(u64::from(plan.global.process.maxconnrate)),
            sess_rate_limit: AtomicU64::new(u64::from(plan.global.process.maxsessrate)),
            maxaccept: plan.global.process.maxaccept,
            spread_checks: plan.global.process.spread_checks,
            pp2_never_send_local: plan.global.process.pp2_never_send_local,
            node: plan.global.node.clone().unwrap_or(host),
            description: plan.global.description.clone(),
            stats: plan.global.stats.clone(),
            counters: Counters::new(threads),
            peak_conns: Peak::default(),
            anon_global_key: AtomicU32::new(plan.global.process.anon_key),
            rates: plan.frontends.iter().map(|_| Default::default()).collect(),
            req_rates: plan.frontends.iter().map(|_| Default::default()).collect(),
            conn_rate: Default::default(),
            session_askers: Default::default(),
        }
    }

    /// Registers a worker's `show sess` channel (once per worker, at its start).
    pub fn add_session_asker(&self, asker: sessions::Asker) {
        self.session_askers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(asker);
    }

    /// The workers' `show sess` channels (the Runtime API only).
    pub fn session_askers(&self) -> Vec<sessions::Asker> {
        self.session_askers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The session rate of frontend `i` over the last second and its peak, then its request
    /// rate and peak.
    pub fn frontend_rates(&self, i: usize) -> [u64; 4] {
        let of = |v: &[(AtomicU64, AtomicU64, AtomicU64)]| {
            v.get(i).map_or((0, 0), |r| {
                (r.1.load(Ordering::Relaxed), r.2.load(Ordering::Relaxed))
            })
        };
        let (sess, sess_max) = of(&self.rates);
        let (req, req_max) = of(&self.req_rates);
        [sess, sess_max, req, req_max]
    }

    /// The session (or request) rate of frontend `i` now, for `fe_sess_rate` and
    /// `fe_req_rate`: the last whole second's, or what came since it when that is more (the
    /// first requests of a quiet frontend count at once, as in HAProxy's sliding window).
    pub fn frontend_rate_now(&self, i: usize, total: u64, requests: bool) -> u64 {
        let slots = if requests {
            &self.req_rates
        } else {
            &self.rates
        };
        slots.get(i).map_or(0, |r| {
            let last_second = r.1.load(Ordering::Relaxed);
            last_second.max(total.saturating_sub(r.0.load(Ordering::Relaxed)))
        })
    }

    pub fn conn_rates(&self) -> (u64, u64) {
        (
            self.conn_rate.1.load(Ordering::Relaxed),
            self.conn_rate.2.load(Ordering::Relaxed),
        )
    }

    /// Called once a second: turns the counters' growth into rates.
    pub fn sample_rates(&self, shared: &crate::state::Shared) {
        let step = |slot: &(AtomicU64, AtomicU64, AtomicU64), total: u64| {
            let before = slot.0.swap(total, Ordering::Relaxed);
            let rate = total.saturating_sub(before);
            slot.1.store(rate, Ordering::Relaxed);
            slot.2.fetch_max(rate, Ordering::Relaxed);
        };
        for ((fe, slot), req_slot) in shared
            .frontends
            .iter()
            .zip(&self.rates)
            .zip(&self.req_rates)
        {
            step(slot, fe.counters.get(Counter::Sessions));
            step(req_slot, fe.counters.get(Counter::Requests));
            // A new second for `rate-limit sessions`.
            fe.session_slots.store(0, Ordering::Relaxed);
        }
        step(&self.conn_rate, self.counters.get(Counter::Connections));
        crate::tls::limits::sample_rate();
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started_at.elapsed().as_secs()
    }
}

/// Whether frontend `fe` may accept a connection now: below the process's and the
/// frontend's `maxconn` and under `set rate-limit connections global`. A listener that may
/// not leaves connections in the kernel's backlog, as HAProxy does. Atomics only.
#[inline]
pub fn may_accept(shared: &crate::state::Shared, fe: usize) -> bool {
    let p = &shared.process;
    let below = |limit: u64, now: u64| limit == 0 || now < limit;
    let f = &shared.frontends[fe];
    below(
        p.maxconn_limit.load(Ordering::Relaxed),
        shared.active.load(Ordering::Relaxed),
    ) && below(
        f.maxconn.load(Ordering::Relaxed),
        f.active.load(Ordering::Relaxed),
    ) && below(
        p.conn_rate_limit.load(Ordering::Relaxed),
        p.conn_rate.1.load(Ordering::Relaxed),
    ) && below(
        // Every accepted connection opens a session here (the `tcp-request connection`
        // rules run after accepting), so the session rate is the connection rate.
        p.sess_rate_limit.load(Ordering::Relaxed),
        p.conn_rate.1.load(Ordering::Relaxed),
    ) && !f.paused.load(Ordering::Relaxed)
        && (f.session_rate_limit == 0
            || f.session_slots.load(Ordering::Relaxed) < f.session_rate_limit)
}

/// Takes one of this second's sessions of frontend `fe` under its `rate-limit sessions`, in
/// one step, so that two threads that both saw room cannot both take the last one; whether
/// there was one (always, without a limit). [`may_accept`] only says whether it is worth
/// accepting.
#[inline]
pub fn take_session_slot(shared: &crate::state::Shared, fe: usize) -> bool {
    let f = &shared.frontends[fe];
    f.session_rate_limit == 0
        || f.session_slots
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < f.session_rate_limit).then_some(n + 1)
            })
            .is_ok()
}

/// Counts one accepted connection of frontend `fe` by its listener of rank `listener` (on
/// the worker that accepted it).
#[inline]
pub fn count_accept(shared: &crate::state::Shared, fe: usize, listener: usize) {
    let f = &shared.frontends[fe];
    if let Some(l) = f.listeners.get(listener).filter(|_| f.socket_stats) {
        l.counters.add(Counter::Sessions, 1);
        l.peak_conns.see(l.conns.load(Ordering::Relaxed) as u64);
    }
    f.counters.add(Counter::Sessions, 1);
    f.counters.add(Counter::Connections, 1);
    f.peak_active.see(f.active.load(Ordering::Relaxed));
    shared.process.counters.add(Counter::Connections, 1);
    shared
        .process
        .peak_conns
        .see(shared.active.load(Ordering::Relaxed));
}

/// A transaction's queue, connect, response and total times in ms, as HAProxy averages them:
/// none unless a server was connected to and (in HTTP) answered.
fn txn_times(txn: &crate::txn::Txn) -> Option<[u64; 4]> {
    let t = &txn.timings;
    let http = txn.request.is_some();
    let response = if http { t.response } else { 0 };
    if t.connect < 0 || response < 0 {
        return None;
    }
    // The round's clock, as the other timings: reading the clock itself is a call each.
    let total = crate::clock::now()
        .saturating_duration_since(txn.start)
        .as_millis() as u64;
    Some([
        t.queue.max(0) as u64,
        t.connect as u64,
        response as u64,
        total,
    ])
}

/// The counters of the listener a transaction came in by, when its frontend has `option
/// socket-stats`.
pub fn listener_counters<'a>(
    fe: &'a crate::state::FrontendRt,
    txn: &crate::txn::Txn,
) -> Option<&'a Counters> {
    let l = fe.listeners.get(txn.listener?)?;
    fe.socket_stats.then_some(&l.counters)
}

/// A transaction's frontend, and its backend and server once chosen.
type TxnProxies<'a> = (
    &'a crate::state::FrontendRt,
    Option<&'a crate::state::BackendRt>,
    Option<&'a std::sync::Arc<crate::state::ServerRt>>,
);

/// The frontend, backend and server a transaction counts into (the last two once chosen).
fn txn_proxies(txn: &crate::txn::Txn) -> Option<TxnProxies<'_>> {
    let shared = &txn.shared;
    let fe = shared
        .frontends
        .iter()
        .find(|f| std::sync::Arc::ptr_eq(&f.name, &txn.frontend))?;
    let be = txn
        .backend
        .as_deref()
        .and_then(|name| shared.backend_index.get(name))
        .map(|&i| &shared.backends[i]);
    // The transaction's own server, not one of the same name elsewhere.
    let server = be.and_then(|be| {
        let name = txn.server.as_ref()?;
        be.server_named(name)
            .filter(|s| std::sync::Arc::ptr_eq(&s.name, name))
    });
    Some((fe, be, server))
}

/// `option contstats`: a transaction's bytes counted into its frontend, backend and server
/// while they flow, as HAProxy does each time a stream with a backend wakes up, so that the
/// counters move during a long transfer. What was counted so far is remembered, and the
/// transaction's end counts only the rest ([`count_txn`]). Stick-table byte counters are still
/// counted at the end.
pub struct LiveBytes {
    shared: std::sync::Arc<crate::state::Shared>,
    frontend: usize,
    /// Its listener's rank, when it counts on its own (`option socket-stats`).
    listener: Option<usize>,
    backend: Option<usize>,
    server: Option<usize>,
    counted_in: std::sync::atomic::AtomicU64,
    counted_out: std::sync::atomic::AtomicU64,
}

impl LiveBytes {
    /// For a transaction whose frontend has `option contstats` and whose backend is chosen.
    pub fn of(txn: &crate::txn::Txn) -> Option<Self> {
        let shared = &txn.shared;
        // Called as every server response starts: without the option, the frontend is all
        // that is looked up.
        let frontend = shared
            .frontends
            .iter()
            .position(|f| std::sync::Arc::ptr_eq(&f.name, &txn.frontend))?;
        if !shared.frontends[frontend].contstats {
            return None;
        }
        let (fe, be, server) = txn_proxies(txn)?;
        let be = be?;
        Some(LiveBytes {
            frontend,
            listener: txn.listener.filter(|_| fe.socket_stats),
            backend: shared.backends.iter().position(|b| std::ptr::eq(b, be)),
            server: server
                .and_then(|s| be.servers.iter().position(|x| std::sync::Arc::ptr_eq(x, s))),
            shared: shared.clone(),
            counted_in: Default::default(),
            counted_out: Default::default(),
        })
    }

    /// Counts `bytes_in` more bytes from the client and `bytes_out` more to it.
    pub fn add(&self, bytes_in: u64, bytes_out: u64) {
        let fe = &self.shared.frontends[self.frontend];
        let be = self.backend.map(|i| &self.shared.backends[i]);
        let server = be.zip(self.server).map(|(b, i)| &b.servers[i]);
        let listener = self
            .listener
            .and_then(|i| fe.listeners.get(i))
            .map(|l| &l.counters);
        let targets = [
            Some(&fe.counters),
            listener,
            be.map(|b| &b.counters),
            server.map(|s| &s.counters),
        ];
        for c in targets.into_iter().flatten() {
            c.add(Counter::BytesIn, bytes_in);
            c.add(Counter::BytesOut, bytes_out);
        }
        self.counted_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.counted_out.fetch_add(bytes_out, Ordering::Relaxed);
    }

    /// Counts `bytes` more one way: from the client when `upload`, else to it.
    pub fn add_one_way(&self, bytes: u64, upload: bool) {
        if upload {
            self.add(bytes, 0)
        } else {
            self.add(0, bytes)
        }
    }

    /// Brings the counters up to the transaction's totals so far, with `more_out` bytes sent
    /// to the client that the transaction does not hold yet (a server's body so far).
    pub fn catch_up(&self, txn: &crate::txn::Txn, more_out: u64) {
        let (counted_in, counted_out) = self.counted();
        self.add(
            txn.received().saturating_sub(counted_in),
            (txn.bytes_out + more_out).saturating_sub(counted_out),
        );
    }

    /// The bytes counted so far, in and out.
    pub fn counted(&self) -> (u64, u64) {
        (
            self.counted_in.load(Ordering::Relaxed),
            self.counted_out.load(Ordering::Relaxed),
        )
    }
}

/// Counts a finished transaction into its frontend, backend and server.
pub fn count_txn(txn: &crate::txn::Txn) {
    use counters::{status_class, Ended, Role};
    let Some((fe, be, server)) = txn_proxies(txn) else {
        return;
    };
    let http = fe.mode == hapee_compiler::ir::Mode::Http && txn.request.is_some();
    let listener = listener_counters(fe, txn);
    // What `option contstats` counted already.
    let (live_in, live_out) = txn.live.as_ref().map_or((0, 0), |l| l.counted());
    // The same counts go to each of the four sets, each added by one call of the same code.
    let ended = Ended {
        bytes_in: txn.received().saturating_sub(live_in),
        bytes_out: txn.bytes_out.saturating_sub(live_out),
        request: http,
        status: txn.status.filter(|_| http).map(status_class),
        failed_rewrites: u64::from(txn.rewrites.failed),
        abort: match &txn.term {
            [b'C', _] => Some(Counter::ClientAborts),
            [b'S', _] => Some(Counter::ServerAborts),
            _ => None,
        },
        times: txn_times(txn),
        conn_error: txn.term == *b"SC",
        retries: u64::from(txn.retries),
    };
    fe.counters.add_ended(&ended, Role::Frontend);
    if let Some(l) = listener {
        l.add_ended(&ended, Role::Listener);
    }
    // A statistics page its own section serves (a listen's, or a frontend's) never went
    // through the backend: HAProxy counts it intercepted, and only its bytes on that side.
    let own_page = txn.server.as_deref() == Some("<STATS>")
        && be.is_some_and(|b| Arc::ptr_eq(&b.name, &fe.name) || *b.name == *fe.name);
    match be {
        Some(be) if own_page => {
            be.counters.add(Counter::BytesIn, ended.bytes_in);
            be.counters.add(Counter::BytesOut, ended.bytes_out);
        }
        Some(be) => {
            be.counters.add_ended(&ended, Role::Backend);
            be.peak_active.see(be.active.load(Ordering::Relaxed));
        }
        None => {}
    }
    if let Some(s) = server {
        s.counters.add_ended(&ended, Role::Server);
    }
    crate::trace_event!(
        Stream,
        1,
        "end",
        "{} -> {}/{} status {} term {} in {}ms",
        txn.client,
        txn.backend.as_deref().unwrap_or("-"),
        txn.server.as_deref().unwrap_or("-"),
        txn.status.map_or(-1, i32::from),
        String::from_utf8_lossy(&txn.term),
        txn.start.elapsed().as_millis()
    );
    let denied = txn.term == *b"PR" && matches!(txn.status, Some(403));
    let intercepted = (txn.term[0] == b'P' && txn.server.is_none() && !denied) || own_page;
    // A request the proxy could not read: malformed (400) or late (408).
    let unread =
        txn.server.is_none() && matches!(txn.status, Some(400 | 408)) && txn.term[0] != b'P';
    if denied || intercepted || unread {
        count_refused(fe, listener, denied, intercepted, unread);
    }
}

/// The frontend's counts of a transaction the proxy answered itself or could not read.
#[cold]
#[inline(never)]
fn count_refused(
    fe: &crate::state::FrontendRt,
    listener: Option<&Counters>,
    denied: bool,
    intercepted: bool,
    unread: bool,
) {
    if denied {
        fe.counters.add(Counter::DeniedReq, 1);
        if let Some(l) = listener {
            l.add(Counter::DeniedReq, 1);
        }
    }
    if intercepted {
        fe.counters.add(Counter::Intercepted, 1);
    }
    if unread {
        fe.counters.add(Counter::ErrorsReq, 1);
        if let Some(l) = listener {
            l.add(Counter::ErrorsReq, 1);
        }
    }
}
