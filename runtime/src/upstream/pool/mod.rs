//! Idle server connections. As in HAProxy, a connection whose response is complete goes back
//! to its server's idle pool at once, for any session to draw from (and the first request of
//! a session only as `http-reuse` allows); under `http-reuse never` it is private and stays
//! with its session for the session's next request.
//!
//! Each server keeps one list per thread ([`ServerIdle`]): its idle HTTP/1 connections, and
//! its multiplexed (HTTP/2) ones, busy or idle. A thread takes from its own list first; when
//! that has nothing it may take an idle connection from another thread's list (HAProxy's
//! takeover), unless `tune.idle-pool.shared off` forbids it or the server has fewer idle
//! connections than its `pool-low-conn`, so that each thread keeps a few of its own. A
//! multiplexed connection with streams open serves only requests of its own thread, and of
//! those only the ones `http-reuse` lets join it (see [`super::reuse::Sharing`]); once its
//! last stream ends it is idle, and counted and taken like the others. Each list has its own
//! lock: a thread looking at another's list only tries the lock, never waits on it.
//!
//! A connection that carried more than one request (or a FastCGI or HTTP/2 one) has shown
//! that the server keeps connections open: it is "safe", and `http-reuse aggressive` lets a
//! session's first request take only such a one.
//!
//! Besides: the multiplexed connections a session keeps to itself ([`session_h2`]), and those
//! being established that the thread's requests may wait on ([`connecting`]).
//!
//! What is kept, as HAProxy keeps it: the pool tracks the server's connections in use, their
//! peak since the last purge, and an estimate of what the server needs (`used_cur`,
//! `used_max`, `need_est` of `show servers conn`). A released connection is kept when its
//! thread has no idle one of its kind yet, or while used and idle ones together stay within
//! the estimate plus `pool-low-conn`, and never past `pool-max-conn`. Every `pool-purge-delay`
//! (5 s by default) the server's purge closes half of the idle connections above the
//! estimate, shared out over the threads by their idle counts, and the estimate moves half
//! way towards the last period's peak.

mod connecting;
mod multiplexed;
mod session;
mod session_h2;

use super::h2::H2Conn;
use super::ServerConn;
pub use connecting::{Connecting, Dialing};
use rustc_hash::FxHashMap as HashMap;
pub use session::SessionConns;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// HAProxy's default `pool-purge-delay`.
pub const PURGE_DELAY: Duration = Duration::from_secs(5);

/// How often each thread looks for servers whose purge is due.
const PURGE_TICK: Duration = Duration::from_millis(100);

/// (backend, server)
pub type ServerKey = (usize, usize);

/// Which idle connections a request may take, in HAProxy's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// Only those that proved the server keeps connections open (a first request under
    /// `http-reuse aggressive`).
    Safe,
    /// A safe one if the server has any, on this thread or another, else any (a first
    /// request under `http-reuse always`).
    SafeFirst,
    /// Any: on each thread the not yet proven ones first, then the safe ones (a session's
    /// later requests).
    Any,
}

/// An idle connection and whether it is safe.
struct Idle {
    conn: ServerConn,
    safe: bool,
}

/// A server's connections on one thread.
#[derive(Default)]
struct IdleList {
    /// Idle HTTP/1 (and FastCGI) connections, the oldest first.
    conns: Vec<Idle>,
    /// Multiplexed connections offered to the thread's requests, the oldest first; those
    /// with no stream open are idle (and safe).
    h2: Vec<H2Conn>,
}

impl IdleList {
    fn has_safe(&self) -> bool {
        self.conns.iter().any(|c| c.safe) || self.h2.iter().any(H2Conn::is_idle)
    }

    fn has_unsafe(&self) -> bool {
        self.conns.iter().any(|c| !c.safe)
    }

    fn holds(&self, conn: &H2Conn) -> Option<usize> {
        self.h2.iter().position(|c| c.same(conn))
    }
}

/// A server's connections, one list per thread, with the counts the Runtime API shows.
pub struct ServerIdle {
    lists: Box<[Mutex<IdleList>]>,
    /// Idle connections per thread (`idle_per_thr`), read without the lists' locks to skip
    /// the empty ones.
    per_thread: Box<[AtomicU32]>,
    /// All idle connections (`idle_cur`), and the safe ones among them.
    total: AtomicU32,
    safe: AtomicU32,
    /// Connections in use (`used_cur`), their peak since the last purge (`used_max`), and
    /// the estimate of what the server needs (`need_est`).
    used: AtomicU32,
    max_used: AtomicU32,
    est_need: AtomicU32,
    /// `pool-max-conn` (`None`: no limit).
    max: Option<u32>,
    /// `pool-low-conn`.
    low_conn: u32,
    /// `pool-purge-delay`.
    purge_delay: Duration,
    /// When the next purge is due (milliseconds from [`epoch`]); 0: none is planned.
    next_purge: AtomicU64,
    /// Where the next look into other threads' lists starts, so that they are drawn from
    /// in turn.
    next_takeover: AtomicUsize,
    /// The thread group of each thread: connections move only between threads of a group.
    group_of: Arc<[u32]>,
    /// `tune.idle-pool.shared`.
    shared: bool,
}

/// How the threads' idle pools are laid out: the group of each thread, and whether threads
/// may take each other's connections.
#[derive(Clone, Debug)]
pub struct PoolLayout {
    pub group_of: Arc<[u32]>,
    pub shared: bool,
}

impl PoolLayout {
    pub fn single(threads: usize) -> PoolLayout {
        PoolLayout {
            group_of: vec![1; threads.max(1)].into(),
            shared: true,
        }
    }
}

/// A server's pool limits: `pool-max-conn`, `pool-low-conn`, `pool-purge-delay`.
#[derive(Clone, Copy, Debug)]
pub struct PoolLimits {
    pub max: Option<u32>,
    pub low_conn: u32,
    pub purge_delay: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max: None,
            low_conn: 0,
            purge_delay: PURGE_DELAY,
        }
    }
}

impl std::fmt::Debug for ServerIdle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdle")
            .field("total", &self.total)
            .field("used", &self.used)
            .field("max", &self.max)
            .finish()
    }
}

/// The pools' clock: milliseconds since the first look at it (never 0).
fn epoch_ms(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let start = *EPOCH.get_or_init(Instant::now);
    at.saturating_duration_since(start).as_millis() as u64 + 1
}

/// Counts a connection among its server's used ones while it is out of the idle pool.
pub struct InUse(Arc<ServerIdle>);

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ServerIdle {
    pub fn new(layout: &PoolLayout, limits: PoolLimits) -> ServerIdle {
        let threads = layout.group_of.len().max(1);
        ServerIdle {
            lists: (0..threads).map(|_| Mutex::default()).collect(),
            per_thread: (0..threads).map(|_| AtomicU32::new(0)).collect(),
            total: AtomicU32::new(0),
            safe: AtomicU32::new(0),
            used: AtomicU32::new(0),
            max_used: AtomicU32::new(0),
            est_need: AtomicU32::new(0),
            max: limits.max,
            low_conn: limits.low_conn,
            purge_delay: limits.purge_delay,
            next_purge: AtomicU64::new(0),
            next_takeover: AtomicUsize::new(0),
            group_of: layout.group_of.clone(),
            shared: layout.shared,
        }
    }

    /// The server's idle connections now, over all threads (`idle_cur`).
    pub fn idle(&self) -> u32 {
        self.total.load(Ordering::Acquire)
    }

    /// The safe ones among them (`safe_nb`).
    pub fn safe(&self) -> u32 {
        self.safe.load(Ordering::Acquire)
    }

    /// Connections in use now (`used_cur`), their peak since the last purge (`used_max`)
    /// and the estimate of what the server needs (`need_est`).
    pub fn used(&self) -> (u32, u32, u32) {
        (
            self.used.load(Ordering::Acquire),
            self.max_used.load(Ordering::Acquire),
            self.est_need.load(Ordering::Acquire),
        )
    }

    /// `pool-purge-delay`.
    pub fn purge_delay(&self) -> Duration {
        self.purge_delay
    }

    /// Idle connections on each thread (`idle_per_thr`).
    pub fn per_thread(&self) -> impl Iterator<Item = u32> + '_ {
        self.per_thread.iter().map(|n| n.load(Ordering::Acquire))
    }

    /// `pool-max-conn` as HAProxy shows it (-1: no limit).
    pub fn limit(&self) -> i64 {
        self.max.map_or(-1, i64::from)
    }

    /// Counts one more connection in use, raising the peak and the estimate with it.
    fn use_conn(&self) {
        let now = self.used.fetch_add(1, Ordering::AcqRel) + 1;
        self.max_used.fetch_max(now, Ordering::AcqRel);
        self.est_need.fetch_max(now, Ordering::AcqRel);
    }

    /// Counts a connection in use until the returned mark drops (HAProxy counts every
    /// connection to the server that is neither idle nor private to its session).
    pub fn in_use(self: &Arc<Self>) -> InUse {
        self.use_conn();
        InUse(self.clone())
    }

    fn list(&self, thread: usize) -> Option<MutexGuard<'_, IdleList>> {
        // A thread that panicked holding the lock left a list of sockets, still consistent.
        let m = self.lists.get(thread)?;
        Some(m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts an idle connection in `thread`'s list (locked).
    fn count(&self, thread: usize, safe: bool) {
        self.total.fetch_add(1, Ordering::AcqRel);
        self.per_thread[thread].fetch_add(1, Ordering::AcqRel);
        if safe {
            self.safe.fetch_add(1, Ordering::AcqRel);
        }
        self.plan_purge();
    }

    /// Counts an idle connection leaving `thread`'s list (locked).
    fn forget(&self, thread: usize, safe: bool) {
        self.total.fetch_sub(1, Ordering::AcqRel);
        self.per_thread[thread].fetch_sub(1, Ordering::AcqRel);
        if safe {
            self.safe.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// A purge is due `pool-purge-delay` after the first idle connection (HAProxy's timer,
    /// set when the server gets idle connections and none is planned).
    fn plan_purge(&self) {
        if self.next_purge.load(Ordering::Acquire) == 0 {
            let due = epoch_ms(Instant::now() + self.purge_delay);
            let _ = self
                .next_purge
                .compare_exchange(0, due, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Whether a connection released on `thread` (whose list is locked) is kept idle, its
    /// server's connections in use still counting it: not past `pool-max-conn`, and either
    /// the thread has no idle one of its kind, or used and idle ones together stay within
    /// the estimate of what the server needs plus `pool-low-conn`.
    fn keeps(&self, list: &IdleList, safe: bool) -> bool {
        let idle = self.idle();
        if self.max.is_some_and(|m| idle >= m) || self.purge_delay.is_zero() {
            return false;
        }
        if !list.has_safe() && (safe || !list.has_unsafe()) {
            return true;
        }
        let (used, _, need) = self.used();
        used + idle <= used.max(need) + self.low_conn
    }

    /// The most recently used connection of a locked list, safe or not as `safe` says, that
    /// can take a request now; connections the server closed meanwhile are dropped on the way.
    fn pop_kind(
        &self,
        thread: usize,
        list: &mut IdleList,
        safe: bool,
        line: Option<&[u8]>,
    ) -> Option<ServerConn> {
        let mut at = list.conns.len();
        while at > 0 {
            at -= 1;
            let idle = &list.conns[at];
            if idle.safe != safe || !idle.conn.carries_proxy_line(line) {
                continue;
            }
            let idle = list.conns.remove(at);
            self.forget(thread, idle.safe);
            if idle.conn.is_usable() {
                return Some(idle.conn);
            }
        }
        None
    }

    /// A connection from a locked list that began with the PROXY header `line` (if any): a
    /// safe one when only those may serve, else one not yet proven first, then a safe one.
    fn pop(
        &self,
        thread: usize,
        list: &mut IdleList,
        safe_only: bool,
        line: Option<&[u8]>,
    ) -> Option<ServerConn> {
        if safe_only {
            return self.pop_kind(thread, list, true, line);
        }
        self.pop_kind(thread, list, false, line)
            .or_else(|| self.pop_kind(thread, list, true, line))
    }

    /// An idle connection for a request on `thread` that would open one with the PROXY
    /// header `line` (if any): one of the thread's own, else (when the pools are shared and
    /// the server has at least `pool-low-conn` idle) one taken from another thread of its
    /// group.
    pub fn take(&self, thread: usize, wanted: Wanted, line: Option<&[u8]>) -> Option<ServerConn> {
        match wanted {
            Wanted::Safe => self.take_from_any_thread(thread, true, line),
            Wanted::SafeFirst => (self.safe() > 0)
                .then(|| self.take_from_any_thread(thread, true, line))
                .flatten()
                .or_else(|| self.take_from_any_thread(thread, false, line)),
            Wanted::Any => self.take_from_any_thread(thread, false, line),
        }
    }

    /// Whether `thread` may look into the other threads' lists now.
    fn may_take_over(&self) -> bool {
        self.shared && self.idle() >= self.low_conn
    }

    /// The other threads of `thread`'s group, from where the last takeover left off.
    fn others(&self, thread: usize) -> impl Iterator<Item = usize> + '_ {
        let threads = self.lists.len();
        let group = self.group_of.get(thread).copied();
        let start = self.next_takeover.load(Ordering::Relaxed) % threads;
        (start..threads).chain(0..start).filter(move |&i| {
            i != thread
                && self.group_of.get(i).copied() == group
                && self.per_thread[i].load(Ordering::Acquire) > 0
        })
    }

    fn take_from_any_thread(
        &self,
        thread: usize,
        safe_only: bool,
        line: Option<&[u8]>,
    ) -> Option<ServerConn> {
        if self.idle() == 0 || (safe_only && self.safe() == 0) {
            return None;
        }
        if let Some(conn) = self
            .list(thread)
            .and_then(|mut l| self.pop(thread, &mut l, safe_only, line))
        {
            return Some(conn);
        }
        if !self.may_take_over() {
            return None;
        }
        for i in self.others(thread) {
            // A list its owner (or another thief) holds is passed over, as HAProxy does.
            let Ok(mut list) = self.lists[i].try_lock() else {
                continue;
            };
            if let Some(conn) = self.pop(i, &mut list, safe_only, line) {
                drop(list);
                self.next_takeover.store(i + 1, Ordering::Relaxed);
                return conn.adopt();
            }
        }
        None
    }

    /// Keeps an idle connection on `thread`'s list, when the rules above keep it; it no
    /// longer counts as used either way.
    fn put(&self, thread: usize, mut conn: ServerConn, safe: bool) {
        let Some(mut list) = self.list(thread) else {
            return;
        };
        let keep = self.keeps(&list, safe);
        conn.in_use = None;
        if keep && conn.is_usable() {
            self.count(thread, safe);
            list.conns.push(Idle { conn, safe });
        }
    }

    /// Runs the server's purge when it is due. Whether `thread` should keep looking at the
    /// server (a purge is planned, or its list holds connections).
    fn purge_if_due(&self, thread: usize, now: Instant) -> bool {
        let due = self.next_purge.load(Ordering::Acquire);
        if due != 0 && epoch_ms(now) >= due {
            // One thread runs each purge.
            if self
                .next_purge
                .compare_exchange(due, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.purge(thread);
                if self.idle() > 0 {
                    let next = epoch_ms(now + self.purge_delay);
                    let _ = self.next_purge.compare_exchange(
                        0,
                        next,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
            }
        }
        self.next_purge.load(Ordering::Acquire) != 0
            || self
                .list(thread)
                .is_some_and(|l| !l.conns.is_empty() || !l.h2.is_empty())
    }

    /// One purge of the server: drops what the server closed, then closes half of the idle
    /// connections above what it needs, each thread its share (the oldest first, those not
    /// yet proven before the safe ones), and updates the estimate.
    fn purge(&self, from: usize) {
        let threads = self.lists.len();
        for i in 0..threads {
            let Some(mut list) = self.list(i) else {
                continue;
            };
            let list = &mut *list;
            list.conns.retain(|idle| {
                let usable = idle.conn.is_usable();
                if !usable {
                    self.forget(i, idle.safe);
                }
                usable
            });
            list.h2.retain(|c| {
                let open = c.reusable(None);
                if !open && c.is_idle() {
                    self.forget(i, true);
                }
                open
            });
        }
        let idle = self.idle();
        if idle == 0 {
            return;
        }
        let (used, max_used, need) = self.used();
        // As HAProxy computes it, in C's int arithmetic (half, rounded up; an excess of -1
        // still counts as one).
        let excess = i64::from(used) + i64::from(idle) - i64::from(max_used.max(need));
        let to_kill = excess / 2 + (excess & 1);
        let need = ((need + max_used) / 2).max(max_used);
        self.est_need.store(need, Ordering::Release);
        self.max_used.store(used, Ordering::Release);
        if to_kill <= 0 {
            return;
        }
        for i in (from..threads).chain(0..from) {
            let on_thread = i64::from(self.per_thread[i].load(Ordering::Acquire));
            let mut quota = (to_kill * on_thread / i64::from(idle) + 1) as usize;
            let Some(mut list) = self.list(i) else {
                continue;
            };
            let list = &mut *list;
            for safe in [false, true] {
                list.conns.retain(|c| {
                    if quota == 0 || c.safe != safe {
                        return true;
                    }
                    quota -= 1;
                    self.forget(i, safe);
                    false
                });
            }
            list.h2.retain(|c| {
                if quota == 0 || !c.is_idle() {
                    return true;
                }
                quota -= 1;
                self.forget(i, true);
                false
            });
        }
    }
}

/// A thread's pool: the servers it left connections with, for its purge, and the multiplexed
/// connections being established that its requests may wait on.
#[derive(Clone, Default)]
pub struct Pool {
    thread: usize,
    servers: Rc<RefCell<HashMap<ServerKey, Arc<ServerIdle>>>>,
    connecting: Rc<RefCell<HashMap<ServerKey, Rc<Connecting>>>>,
    /// Wakes the purge when the thread starts looking at a server again.
    registered: Rc<tokio::sync::Notify>,
}

impl Pool {
    pub fn new(thread: usize) -> Pool {
        Pool {
            thread,
            ..Pool::default()
        }
    }

    /// The thread's look at its servers' purges, for as long as the pool is in use. While
    /// the thread looks at no server it sleeps until one is registered: an idle worker is
    /// not woken ten times a second for nothing (HAProxy's idle threads sleep).
    pub async fn purge_regularly(self) {
        let thread = self.thread;
        let weak = Rc::downgrade(&self.servers);
        let registered = self.registered.clone();
        drop(self);
        let mut tick = tokio::time::interval(PURGE_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            let Some(servers) = weak.upgrade() else {
                return;
            };
            let none = servers.borrow().is_empty();
            drop(servers);
            if none {
                // A registration made since the look above left its permit: none is missed.
                registered.notified().await;
                tick.reset();
            }
            tick.tick().await;
            let Some(servers) = weak.upgrade() else {
                return;
            };
            let now = Instant::now();
            servers
                .borrow_mut()
                .retain(|_, s| s.purge_if_due(thread, now));
        }
    }

    /// Remembers that the thread left connections with the server.
    fn register(&self, key: ServerKey, idle: &Arc<ServerIdle>) {
        let mut servers = self.servers.borrow_mut();
        if !servers.get(&key).is_some_and(|s| Arc::ptr_eq(s, idle)) {
            servers.insert(key, idle.clone());
            self.registered.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` connections to a local listener that keeps them open and silent.
    async fn conns(n: usize) -> (tokio::net::TcpListener, Vec<ServerConn>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = Vec::new();
        for _ in 0..n {
            let dial = super::super::dial::Dial::Direct(Default::default());
            let conn = ServerConn::connect(addr, dial, None, None, None, false).await;
            out.push(conn.ok().unwrap());
        }
        (listener, out)
    }

    fn limits(max: Option<u32>, low_conn: u32) -> PoolLimits {
        PoolLimits {
            max,
            low_conn,
            ..PoolLimits::default()
        }
    }

    fn layout(shared: bool) -> PoolLayout {
        PoolLayout {
            group_of: vec![1, 1, 2].into(),
            shared,
        }
    }

    #[tokio::test]
    async fn a_thread_takes_another_threads_connection_within_the_rules() {
        let (_l, mut c) = conns(4).await;
        // Shared pools: thread 1 takes thread 0's, and the counts follow.
        let idle = ServerIdle::new(&layout(true), PoolLimits::default());
        idle.put(0, c.pop().unwrap(), false);
        assert_eq!(
            (idle.idle(), idle.per_thread().collect::<Vec<_>>()),
            (1, vec![1, 0, 0])
        );
        // Only a safe one would do: there is none.
        assert!(idle.take(1, Wanted::Safe, None).is_none());
        // Thread 2 is in another group.
        assert!(idle.take(2, Wanted::Any, None).is_none());
        assert!(idle.take(1, Wanted::Any, None).is_some());
        assert_eq!(
            (idle.idle(), idle.per_thread().collect::<Vec<_>>()),
            (0, vec![0, 0, 0])
        );
        // `pool-low-conn 2`: with one idle, a thread keeps to its own list.
        let idle = ServerIdle::new(&layout(true), limits(None, 2));
        idle.put(0, c.pop().unwrap(), true);
        assert!(idle.take(1, Wanted::Any, None).is_none());
        assert_eq!(idle.safe(), 1);
        assert!(idle.take(0, Wanted::Safe, None).is_some());
        // `tune.idle-pool.shared off`.
        let idle = ServerIdle::new(&layout(false), PoolLimits::default());
        idle.put(0, c.pop().unwrap(), false);
        assert!(idle.take(1, Wanted::Any, None).is_none());
        assert!(idle.take(0, Wanted::Any, None).is_some());
        // `pool-max-conn 0`: nothing is kept.
        let idle = ServerIdle::new(&layout(true), limits(Some(0), 0));
        idle.put(0, c.pop().unwrap(), false);
        assert_eq!((idle.idle(), idle.limit()), (0, 0));
        assert!(idle.take(0, Wanted::Any, None).is_none());
    }

    #[tokio::test]
    async fn a_first_request_under_always_prefers_a_safe_connection_on_another_thread() {
        let (_l, mut c) = conns(2).await;
        let idle = ServerIdle::new(&layout(true), PoolLimits::default());
        idle.put(0, c.pop().unwrap(), true);
        idle.put(1, c.pop().unwrap(), false);
        assert!(idle.take(1, Wanted::SafeFirst, None).is_some());
        // The safe one was thread 0's: thread 1 keeps its own unproven one.
        assert_eq!(idle.per_thread().collect::<Vec<_>>(), vec![0, 1, 0]);
        assert_eq!(idle.safe(), 0);
    }

    #[tokio::test]
    async fn after_a_burst_the_purges_close_idle_connections_down_to_the_estimate() {
        let (_l, c) = conns(4).await;
        let idle = Arc::new(ServerIdle::new(&layout(true), PoolLimits::default()));
        // Four connections in use at once, then released one after the other: each is kept,
        // used and idle ones never exceeding the peak of four.
        let mut used: Vec<ServerConn> = c
            .into_iter()
            .map(|conn| SessionConns::opened(conn, &idle))
            .collect();
        assert_eq!(idle.used(), (4, 4, 4));
        while let Some(conn) = used.pop() {
            idle.put(0, conn, false);
        }
        assert_eq!((idle.idle(), idle.used()), (4, (0, 4, 4)));
        // The estimate halves towards the last period's peak (0); idle connections above it
        // go, half of the excess at each purge (rounded up, plus one per thread).
        let mut seen = Vec::new();
        for _ in 0..4 {
            idle.purge(0);
            seen.push((idle.idle(), idle.used().2));
        }
        assert_eq!(seen, vec![(4, 4), (4, 2), (2, 1), (0, 0)]);
    }

    #[tokio::test]
    async fn a_released_connection_beyond_the_estimate_closes() {
        let (_l, mut c) = conns(3).await;
        let idle = Arc::new(ServerIdle::new(&layout(true), PoolLimits::default()));
        // One connection in use at a time: the estimate stays at one.
        let first = SessionConns::opened(c.pop().unwrap(), &idle);
        idle.put(0, first, false);
        let second = SessionConns::opened(c.pop().unwrap(), &idle);
        // The thread already has an unproven idle one, and 1 used + 1 idle is above the
        // estimate (1): the second one closes.
        idle.put(0, second, false);
        assert_eq!((idle.idle(), idle.used()), (1, (0, 1, 1)));
        // A thread without an idle one keeps its first, whatever the estimate.
        let third = SessionConns::opened(c.pop().unwrap(), &idle);
        idle.put(1, third, false);
        assert_eq!(idle.per_thread().collect::<Vec<_>>(), vec![1, 1, 0]);
    }
}
