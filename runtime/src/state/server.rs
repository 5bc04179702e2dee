//! A server as the runtime keeps it: its address, weights, health and maintenance state,
//! and its share of the counters, all readable and writable from every thread.

use crate::api::counters::{Counters, Peak};
use hapee_compiler::plan;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

pub struct ServerRt {
    pub name: Arc<str>,
    /// The address connections go to; the Runtime API may change it (`set server … addr`).
    addr: arc_swap::ArcSwapOption<SocketAddr>,
    /// The configured weight; `uweight` is the one in force (`set server … weight`).
    pub weight: u32,
    pub uweight: AtomicU32,
    pub backup: bool,
    pub disabled: bool,
    /// Maintenance and drain flags set by the configuration or the Runtime API.
    pub admin: AtomicU8,
    pub up: AtomicBool,
    /// Up but out of the balancing (HAProxy's "stopping" state, `NOLB` in stats): a check
    /// answered 404 under `http-check disable-on-404`, or `set server … health stopping`.
    /// Only requests assigned to it (persistence, `use-server`) still reach it. Meaningless
    /// while down: coming up clears it.
    nolb: AtomicBool,
    /// Numeric id (`puid`, `sid` in stats).
    pub id: u32,
    pub counters: Counters,
    pub peak_active: Peak,
    /// Requests waiting for one of its `maxconn` slots.
    pub queue: crate::upstream::queue::QueueCount,
    pub check: crate::api::health::CheckState,
    pub active: AtomicU64,
    /// When its load last changed (or it came up): among servers of equal load, `leastconn`
    /// takes the one whose load changed least recently, as HAProxy's tree keeps them.
    pub load_since: AtomicU64,
    /// Whether it was in the balancing when a choice last looked (see `note_in_balance`).
    in_balance: AtomicBool,
    pub total: AtomicU64,
    pub maxconn: Option<u32>,
    /// Connection slots when `maxconn` is set: waiting for one is queueing.
    pub slots: Option<Arc<tokio::sync::Semaphore>>,
    /// `maxqueue`: the most requests that may wait for a slot (none: no limit).
    pub maxqueue: Option<u64>,
    /// `server … ssl`.
    pub tls: Option<Arc<crate::tls::live::LiveServer>>,
    /// The TLS of its health checks.
    pub check_tls: Option<Arc<crate::tls::live::LiveServer>>,
    pub plan: plan::ServerPlan,
    /// The PROXY protocol header its connections start with, if any.
    pub send_proxy: Option<crate::upstream::send_proxy::SendProxy>,
    /// `socks4`: the SOCKS4 proxy its connections go through.
    pub socks4: Option<SocketAddr>,
    /// A server on a UNIX stream socket (its `addr` is then [`crate::listener::UNIX_PEER`]).
    pub unix: Option<crate::upstream::dial::UnixTarget>,
    /// With `resolvers`: the address and weight DNS answers give it (`addr` is unused).
    pub dynamic: Option<crate::discovery::Dynamic>,
    /// Sessions per second (`srv_sess_rate`).
    pub sess_rate: std::sync::Mutex<crate::tables::freq::FreqCtr>,
    /// The highest session rate seen (`rate_max`).
    pub sess_rate_max: Peak,
    /// When its last session began, in seconds since the epoch; 0: none yet (`lastsess`).
    pub last_sess: AtomicU64,
    /// The servers whose `track` names this one: they take each of its state changes.
    pub trackers: std::sync::OnceLock<Vec<Arc<ServerRt>>>,
    /// The server this one tracks (`track`), once the servers are linked.
    pub tracked_server: std::sync::OnceLock<std::sync::Weak<ServerRt>>,
    /// Its idle connections, one list per thread, within `pool-max-conn` over all threads.
    pub idle: Arc<crate::upstream::pool::ServerIdle>,
    /// `slowstart`: the ramp after it comes back up.
    pub warmup: crate::upstream::slowstart::Warmup,
    /// `minconn` (with the backend's `fullconn`) and `slowstart`: the slots held back.
    pub throttle: crate::upstream::queue::Throttle,
    /// `source`: the local address its connections are opened from.
    pub source: crate::upstream::dial::Source,
    /// Where a `source` that cannot be bound is reported (set with the backend's loggers).
    pub bind_failure: Option<Arc<crate::upstream::dial::BindFailure>>,
    /// `tcp-ut` and its backend's `option tcp-smart-connect`.
    pub pre_connect: crate::upstream::dial::PreConnect,
    /// `observe`: its traffic's errors counted toward its health.
    pub observer: Option<crate::checks::observe::Observer>,
}

/// `ServerRt::admin` bits, as HAProxy keeps them: maintenance and drain, each forced (the
/// configuration's `disabled`, the Runtime API, the stats page, an agent) or inherited from
/// the server this one tracks (`track`).
pub const ADMIN_FMAINT: u8 = 1;
pub const ADMIN_FDRAIN: u8 = 2;
pub const ADMIN_IMAINT: u8 = 4;
pub const ADMIN_IDRAIN: u8 = 8;
/// In maintenance, forced or inherited: a mask to test `admin` with.
pub const ADMIN_MAINT: u8 = ADMIN_FMAINT | ADMIN_IMAINT;
/// Draining, forced or inherited: a mask to test `admin` with.
pub const ADMIN_DRAIN: u8 = ADMIN_FDRAIN | ADMIN_IDRAIN;

impl ServerRt {
    /// How its connections are opened: to its UNIX socket, through its SOCKS4 proxy when
    /// `socks4` says the proxy applies (always for traffic; for checks with
    /// `check-via-socks4`), else straight.
    pub fn dial(&self, socks4: bool) -> crate::upstream::dial::Dial<'_> {
        use crate::upstream::dial::Dial;
        match (&self.unix, self.socks4, self.source.bind) {
            (Some(target), _, _) => Dial::Unix(target),
            (None, Some(via), _) if socks4 => Dial::Socks4(via),
            (_, _, Some(src)) => Dial::From(
                Some(src),
                crate::upstream::dial::PreConnect {
                    ports: self.source.ports,
                    ..self.pre_connect
                },
                self.bind_failure.as_deref(),
            ),
            _ => Dial::Direct(self.pre_connect),
        }
    }

    /// [`Self::dial`] for traffic on behalf of `client` (whose request has `headers`): with
    /// `source … usesrc`, from the address it names, bound transparently.
    pub fn dial_for(
        &self,
        client: SocketAddr,
        headers: Option<&hyper::HeaderMap>,
    ) -> crate::upstream::dial::Dial<'_> {
        use crate::upstream::dial::{Dial, PreConnect};
        let direct = self.unix.is_none() && self.socks4.is_none();
        let foreign = self.source.use_src.as_ref().filter(|_| direct);
        match foreign.and_then(|u| u.address(client, headers)) {
            Some(src) => Dial::From(
                Some(src),
                PreConnect {
                    transparent: true,
                    ..self.pre_connect
                },
                self.bind_failure.as_deref(),
            ),
            None => self.dial(true),
        }
    }

    /// What its traffic told (`observe`).
    pub fn observed(&self, seen: crate::checks::observe::Seen) {
        if let Some(o) = &self.observer {
            o.see(seen);
        }
    }

    /// A stream took one of its connections: its load, and the peak (`smax`) seen as it grows,
    /// as HAProxy counts it at connect time.
    pub fn take_conn(&self) {
        self.peak_active
            .see(self.active.fetch_add(1, Ordering::Relaxed) + 1);
        self.load_since.store(load_stamp(), Ordering::Relaxed);
    }

    /// A stream gave its connection back.
    pub fn release_conn(&self) {
        self.active.fetch_sub(1, Ordering::Relaxed);
        self.load_since.store(load_stamp(), Ordering::Relaxed);
    }

    /// Notes whether it can take traffic now; one that comes back (up again, out of
    /// maintenance or drain) goes after the servers of its load that stayed, as HAProxy
    /// puts a server back in its tree.
    pub fn note_in_balance(&self) {
        let now = self.is_usable() && self.current_weight() > 0;
        if now && !self.in_balance.swap(now, Ordering::Relaxed) {
            self.load_since.store(load_stamp(), Ordering::Relaxed);
        }
        if !now {
            self.in_balance.store(false, Ordering::Relaxed);
        }
    }

    /// Counts a new session on this server (the total and the rate).
    pub fn count_session(&self) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let now = crate::tables::tick(crate::tables::now_ms());
        if let Ok(mut r) = self.sess_rate.lock() {
            r.update(1000, 1, now);
            self.sess_rate_max.see(u64::from(r.read(1000, now)));
        }
        self.last_sess
            .store(crate::api::health::unix_now(), Ordering::Relaxed);
    }

    /// Sessions over the last second (`srv_sess_rate`).
    pub fn session_rate(&self) -> u32 {
        let now = crate::tables::tick(crate::tables::now_ms());
        self.sess_rate.lock().map_or(0, |r| r.read(1000, now))
    }

    /// Sets the health state, and silently that of the servers tracking this one (`track`):
    /// see [`ServerRt::set_own_up`].
    pub fn set_up(&self, up: bool) {
        self.set_own_up(up);
        for t in self.trackers.get().into_iter().flatten() {
            t.set_up(up);
        }
    }

    /// Sets this server's health state only (the reported changes hand it down to the
    /// trackers one by one). Up is running: a server leaving the stopping state (`NOLB`)
    /// ramps up again as one coming back from down does (`slowstart`).
    pub fn set_own_up(&self, up: bool) {
        let was_running = self.up.swap(up, Ordering::Relaxed) && !self.nolb.load(Ordering::Relaxed);
        if up {
            self.nolb.store(false, Ordering::Relaxed);
            if !was_running {
                self.warmup.start();
            }
        }
    }

    /// Puts the server, and silently those tracking it, in the stopping state: see
    /// [`ServerRt::set_own_stopping`].
    pub fn set_stopping(&self) {
        self.set_own_stopping();
        for t in self.trackers.get().into_iter().flatten() {
            t.set_stopping();
        }
    }

    /// Puts this server only in the stopping state: up, out of the balancing (see
    /// [`ServerRt::is_nolb`]).
    pub fn set_own_stopping(&self) {
        self.up.store(true, Ordering::Relaxed);
        self.nolb.store(true, Ordering::Relaxed);
    }

    /// Whether it is up in the stopping state (`NOLB`).
    pub fn is_nolb(&self) -> bool {
        self.up.load(Ordering::Relaxed) && self.nolb.load(Ordering::Relaxed)
    }

    /// The stopping flag as last set, also once down: whether the server was stopping when it
    /// went down (such a server was out of the balancing already).
    pub fn nolb_flag(&self) -> bool {
        self.nolb.load(Ordering::Relaxed)
    }

    /// Ends the stopping state without coming up (entering maintenance stops the server).
    pub fn clear_nolb(&self) {
        self.nolb.store(false, Ordering::Relaxed);
    }

    /// Hands its maintenance and drain down to the servers tracking it, and theirs to
    /// those tracking them, as inherited flags (silently: at start, and after a server-state
    /// file is applied).
    pub fn hand_down_admin(&self) {
        let admin = self.admin.load(Ordering::Relaxed);
        let inherited = if admin & ADMIN_MAINT != 0 {
            ADMIN_IMAINT
        } else {
            0
        } | if admin & ADMIN_DRAIN != 0 {
            ADMIN_IDRAIN
        } else {
            0
        };
        for t in self.trackers.get().into_iter().flatten() {
            t.admin.fetch_or(inherited, Ordering::Relaxed);
            t.hand_down_admin();
        }
    }

    /// The server this one tracks, as `backend/server` (its own backend named `own_backend`
    /// when `track` names none).
    pub fn tracked_name(&self, own_backend: &str) -> Option<String> {
        let (backend, server) = self.tracked()?;
        Some(format!("{}/{server}", backend.unwrap_or(own_backend)))
    }

    /// The server at the end of its `track` chain, whose checks decide its state (none for a
    /// server that tracks none).
    pub fn tracked_root(&self) -> Option<Arc<ServerRt>> {
        let mut root = self.tracked_server.get()?.upgrade()?;
        // A chain is as long as the configuration wrote it; `check` refuses loops.
        while let Some(next) = root.tracked_server.get().and_then(|w| w.upgrade()) {
            root = next;
        }
        Some(root)
    }

    /// Whether it follows another server's state (`track`).
    pub fn tracks(&self) -> bool {
        self.tracked().is_some()
    }

    /// `track [<backend>/]<server>`: the server this one follows, as written.
    pub(super) fn tracked(&self) -> Option<(Option<&str>, &str)> {
        let o = &self.plan.options;
        let name = o.get(o.iter().rposition(|w| w == "track")? + 1)?;
        Some(match name.split_once('/') {
            Some((b, s)) => (Some(b), s),
            None => (None, name.as_str()),
        })
    }

    /// The runtime state of one server of the plan, up and idle.
    pub fn new(
        s: &plan::ServerPlan,
        id: u32,
        pools: &crate::upstream::pool::PoolLayout,
        tls: Option<Arc<crate::tls::live::LiveServer>>,
        check_tls: Option<Arc<crate::tls::live::LiveServer>>,
        socks4: Option<SocketAddr>,
    ) -> ServerRt {
        let unix = s
            .address
            .as_ref()
            .and_then(crate::upstream::dial::UnixTarget::of);
        let addr = match &unix {
            Some(_) => Some(crate::listener::UNIX_PEER),
            None => crate::discovery::initial_address(s),
        };
        // A `minconn` above `maxconn` (or alone) is the limit, as in HAProxy.
        let maxconn = s
            .maxconn
            .filter(|m| *m > 0)
            .max(s.minconn.filter(|m| *m > 0));
        ServerRt {
            tls,
            check_tls,
            name: s.name.as_str().into(),
            addr: arc_swap::ArcSwapOption::from(addr.map(Arc::new)),
            weight: s.weight,
            uweight: AtomicU32::new(s.weight),
            backup: s.backup,
            disabled: s.disabled,
            admin: AtomicU8::new(if s.disabled { ADMIN_FMAINT } else { 0 }),
            id,
            counters: Counters::new(pools.group_of.len()),
            peak_active: Peak::default(),
            queue: Default::default(),
            check: crate::api::health::CheckState::new(s),
            // Servers start up; a check that fails `fall` times takes them down.
            up: AtomicBool::new(true),
            nolb: AtomicBool::new(false),
            active: AtomicU64::new(0),
            load_since: AtomicU64::new(load_stamp()),
            in_balance: AtomicBool::new(true),
            total: AtomicU64::new(0),
            maxconn,
            slots: maxconn.map(|m| Arc::new(tokio::sync::Semaphore::new(m as usize))),
            throttle: crate::upstream::queue::Throttle::new(maxconn, s),
            source: crate::upstream::dial::source_of(&s.source).unwrap_or_default(),
            bind_failure: None,
            pre_connect: crate::upstream::dial::PreConnect {
                user_timeout_ms: s.tuning.user_timeout_ms,
                delayed_ack: s.tuning.delayed_ack,
                // `check` refuses a namespace that cannot be opened; `*` (the namespace a
                // PROXY header names) is the process's own, as for a header naming none.
                netns: plan::option_value(&s.options, "namespace")
                    .filter(|n| *n != "*")
                    .and_then(|n| crate::netns::open(n).ok()),
                // Set per connection, by `dial_for`, when it binds a client's address.
                transparent: false,
                // Set per connection from `source`, by `dial`.
                ports: None,
            },
            observer: s
                .observe
                .as_ref()
                .map(crate::checks::observe::Observer::new),
            maxqueue: plan::option_value(&s.options, "maxqueue")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|m| *m > 0),
            plan: s.clone(),
            send_proxy: crate::upstream::send_proxy::SendProxy::from_options(&s.options),
            socks4,
            unix,
            dynamic: crate::discovery::resolvers_of(s)
                .map(|_| crate::discovery::Dynamic::new(addr, s.weight)),
            sess_rate: Default::default(),
            sess_rate_max: Peak::default(),
            last_sess: AtomicU64::new(0),
            trackers: Default::default(),
            tracked_server: Default::default(),
            warmup: crate::upstream::slowstart::Warmup::new(s.slowstart),
            idle: Arc::new(crate::upstream::pool::ServerIdle::new(
                pools,
                crate::upstream::pool::PoolLimits {
                    max: s.mux.pool_max_conn,
                    low_conn: s.mux.pool_low_conn,
                    purge_delay: s
                        .mux
                        .pool_purge_delay
                        .map_or(crate::upstream::pool::PURGE_DELAY, |ms| {
                            std::time::Duration::from_millis(ms.into())
                        }),
                },
            )),
        }
    }

    /// `non-stick`: stick tables never learn this server.
    pub fn non_stick(&self) -> bool {
        self.plan.non_stick
    }

    /// Whether HAProxy would call it stopped: down, or in maintenance (`downtime` runs).
    pub fn stopped(&self) -> bool {
        self.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0 || !self.up.load(Ordering::Relaxed)
    }

    /// Whether the balancing may choose it: up and running (not stopping), neither in
    /// maintenance nor draining, with an address.
    pub fn is_usable(&self) -> bool {
        self.admin.load(Ordering::Relaxed) == 0
            && self.up.load(Ordering::Relaxed)
            && !self.nolb.load(Ordering::Relaxed)
            && self.addr().is_some()
    }

    /// Whether it is in service: up, not in maintenance, with an address, draining or
    /// stopping included. A request assigned to it before the balancing (a persistence cookie,
    /// a stick table entry, `use-server`) may go to it: HAProxy sends those to any server that
    /// is not stopped, so a draining or stopping server keeps its sessions while it empties.
    pub fn in_service(&self) -> bool {
        !self.stopped() && self.addr().is_some()
    }

    /// Where to connect now: what DNS answered last for a server with `resolvers`, else the
    /// configured address (or the one `set server … addr` gave).
    pub fn addr(&self) -> Option<SocketAddr> {
        match &self.dynamic {
            Some(d) => d.addr(),
            None => self.addr.load().as_deref().copied(),
        }
    }

    /// Where to connect for a stream whose client reached `destination`: a server written
    /// without a port connects to the port the client connected to, and one written with
    /// `+N`/`-N` to that port moved by N (HAProxy's port mapping), on 16 bits as there.
    pub fn addr_toward(&self, destination: SocketAddr) -> Option<SocketAddr> {
        let mut addr = self.addr()?;
        if let Some(port) = self.mapped_port(addr, destination) {
            addr.set_port(port);
        }
        Some(addr)
    }

    /// Whether the port this server is reached on follows the client's (see
    /// [`ServerRt::addr_toward`]): its connections then serve the destination they were made
    /// for only.
    pub fn maps_ports(&self) -> bool {
        use hapee_compiler::address::Port;
        // Asked for every request: a server with a port of its own (the usual case) is
        // answered from its plan, without loading its current address.
        matches!(
            self.plan.address.as_ref().map(|a| &a.port),
            Some(Port::None | Port::Offset { .. })
        ) && self
            .addr()
            .is_some_and(|a| self.mapped_port(a, a).is_some())
    }

    /// The port a port-mapped server is reached on for `destination`; `None` when its port is
    /// its own (written, or given by DNS SRV records or the Runtime API).
    fn mapped_port(&self, addr: SocketAddr, destination: SocketAddr) -> Option<u16> {
        use hapee_compiler::address::Port;
        match self.plan.address.as_ref().map(|a| &a.port) {
            Some(Port::None) if addr.port() == 0 => Some(destination.port()),
            Some(Port::Offset { offset }) => Some((i32::from(destination.port()) + offset) as u16),
            _ => None,
        }
    }

    pub fn set_addr(&self, addr: SocketAddr) {
        self.addr.store(Some(Arc::new(addr)));
    }

    /// The weight the balancer uses now: SRV answers set it for a discovered server, the
    /// Runtime API (`set server … weight`) for the others.
    pub fn current_weight(&self) -> u32 {
        match &self.dynamic {
            Some(d) => d.weight(),
            None => self.warmup.weight(self.uweight.load(Ordering::Relaxed)),
        }
    }
}

/// The next stamp of the order in which servers' loads changed (one count for the process:
/// servers are created in the order they are declared, which is the first order).
fn load_stamp() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
