//! Idle server connections. As in HAProxy, a connection whose response is complete goes back
//! to its server's idle pool at once, for any session to draw from (and the first request of
//! a session only as `http-reuse` allows); under `http-reuse never` it is private and stays
//! with its session for the session's next request.
//!
//! Each server keeps one idle list per thread ([`ServerIdle`]). A thread takes from its own
//! list first; when that is empty it may take one from another thread's list (HAProxy's
//! takeover), unless `tune.idle-pool.shared off` forbids it or the server has fewer idle
//! connections than its `pool-low-conn`, so that each thread keeps a few of its own rather
//! than one thread's connections wandering from thread to thread. Each list has its own
//! lock: the owner's take and put meet another thread only while that one looks into the
//! list, and a thread looking at another's list only tries the lock, never waits on it.
//!
//! A connection that carried more than one request (or a FastCGI one) has shown that the
//! server keeps connections open: it is "safe", and `http-reuse aggressive` lets a session's
//! first request take only such a one.
//!
//! Idle connections are purged every 5 s (HAProxy's default `pool-purge-delay`): those the
//! server closed, and those no request needed over the whole period (the list's low-water
//! mark: connections are taken from the top, so the bottom ones are those that sat unused).

use super::ServerConn;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often idle connections are purged (HAProxy's default `pool-purge-delay`).
pub const PURGE_DELAY: Duration = Duration::from_secs(5);

/// Idle connections kept per server, per thread.
const MAX_IDLE: usize = 64;

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

/// A server's idle connections on one thread, the most recently used last.
#[derive(Default)]
struct IdleList {
    conns: Vec<Idle>,
    /// The fewest idle connections since the last purge: that many sat unused all along.
    low: usize,
}

/// A server's idle connections, one list per thread, with the counts the Runtime API shows.
pub struct ServerIdle {
    lists: Box<[Mutex<IdleList>]>,
    /// Idle connections per thread (`idle_per_thr`), read without the lists' locks to skip
    /// the empty ones.
    per_thread: Box<[AtomicU32]>,
    /// All idle connections (`idle_cur`), and the safe ones among them.
    total: AtomicU32,
    safe: AtomicU32,
    /// `pool-max-conn` (`None`: no limit).
    max: Option<u32>,
    /// `pool-low-conn`.
    low_conn: u32,
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

impl std::fmt::Debug for ServerIdle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdle")
            .field("total", &self.total)
            .field("max", &self.max)
            .finish()
    }
}

impl ServerIdle {
    pub fn new(layout: &PoolLayout, max: Option<u32>, low_conn: u32) -> ServerIdle {
        let threads = layout.group_of.len().max(1);
        ServerIdle {
            lists: (0..threads).map(|_| Mutex::default()).collect(),
            per_thread: (0..threads).map(|_| AtomicU32::new(0)).collect(),
            total: AtomicU32::new(0),
            safe: AtomicU32::new(0),
            max,
            low_conn,
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

    /// Idle connections on each thread (`idle_per_thr`).
    pub fn per_thread(&self) -> impl Iterator<Item = u32> + '_ {
        self.per_thread.iter().map(|n| n.load(Ordering::Acquire))
    }

    /// `pool-max-conn` as HAProxy shows it (-1: no limit).
    pub fn limit(&self) -> i64 {
        self.max.map_or(-1, i64::from)
    }

    fn list(&self, thread: usize) -> Option<MutexGuard<'_, IdleList>> {
        // A thread that panicked holding the lock left a list of sockets, still consistent.
        let m = self.lists.get(thread)?;
        Some(m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts a connection leaving `thread`'s list (the list is locked).
    fn forget(&self, thread: usize, idle: &Idle) {
        self.total.fetch_sub(1, Ordering::AcqRel);
        self.per_thread[thread].fetch_sub(1, Ordering::AcqRel);
        if idle.safe {
            self.safe.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The most recently used connection of a locked list, safe or not as `safe` says, that
    /// can take a request now; connections the server closed meanwhile are dropped on the way.
    fn pop_kind(&self, thread: usize, list: &mut IdleList, safe: bool) -> Option<ServerConn> {
        let mut at = list.conns.len();
        while at > 0 {
            at -= 1;
            if list.conns[at].safe != safe {
                continue;
            }
            let idle = list.conns.remove(at);
            self.forget(thread, &idle);
            list.low = list.low.min(list.conns.len());
            if idle.conn.is_usable() {
                return Some(idle.conn);
            }
        }
        None
    }

    /// A connection from a locked list: a safe one when only those may serve, else one not
    /// yet proven first, then a safe one.
    fn pop(&self, thread: usize, list: &mut IdleList, safe_only: bool) -> Option<ServerConn> {
        if safe_only {
            return self.pop_kind(thread, list, true);
        }
        self.pop_kind(thread, list, false)
            .or_else(|| self.pop_kind(thread, list, true))
    }

    /// An idle connection for a request on `thread`: one of the thread's own, else (when
    /// the pools are shared and the server has at least `pool-low-conn` idle) one taken from
    /// another thread of its group.
    pub fn take(&self, thread: usize, wanted: Wanted) -> Option<ServerConn> {
        match wanted {
            Wanted::Safe => self.take_from_any_thread(thread, true),
            Wanted::SafeFirst => (self.safe() > 0)
                .then(|| self.take_from_any_thread(thread, true))
                .flatten()
                .or_else(|| self.take_from_any_thread(thread, false)),
            Wanted::Any => self.take_from_any_thread(thread, false),
        }
    }

    fn take_from_any_thread(&self, thread: usize, safe_only: bool) -> Option<ServerConn> {
        if self.idle() == 0 || (safe_only && self.safe() == 0) {
            return None;
        }
        if let Some(conn) = self
            .list(thread)
            .and_then(|mut l| self.pop(thread, &mut l, safe_only))
        {
            return Some(conn);
        }
        if !self.shared || self.idle() < self.low_conn {
            return None;
        }
        let threads = self.lists.len();
        let group = self.group_of.get(thread).copied();
        let start = self.next_takeover.load(Ordering::Relaxed) % threads;
        for i in (start..threads).chain(0..start) {
            if i == thread
                || self.group_of.get(i).copied() != group
                || self.per_thread[i].load(Ordering::Acquire) == 0
            {
                continue;
            }
            // A list its owner (or another thief) holds is passed over, as HAProxy does.
            let Ok(mut list) = self.lists[i].try_lock() else {
                continue;
            };
            if let Some(conn) = self.pop(i, &mut list, safe_only) {
                drop(list);
                self.next_takeover.store(i + 1, Ordering::Relaxed);
                return conn.adopt();
            }
        }
        None
    }

    /// Keeps an idle connection on `thread`'s list; one the server has no room for (its
    /// `pool-max-conn` reached) closes.
    fn put(&self, thread: usize, conn: ServerConn, safe: bool) {
        let now = self.total.fetch_add(1, Ordering::AcqRel) + 1;
        if self.max.is_some_and(|m| now > m) {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let Some(mut list) = self.list(thread) else {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return;
        };
        if list.conns.len() >= MAX_IDLE {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        self.per_thread[thread].fetch_add(1, Ordering::AcqRel);
        if safe {
            self.safe.fetch_add(1, Ordering::AcqRel);
        }
        list.conns.push(Idle { conn, safe });
    }

    /// Closes `thread`'s idle connections that no request took since the last purge, and
    /// those the server closed. Whether any are left.
    fn purge(&self, thread: usize) -> bool {
        let Some(mut list) = self.list(thread) else {
            return false;
        };
        let unused = list.low.min(list.conns.len());
        let mut kept = Vec::with_capacity(list.conns.len() - unused);
        for (at, idle) in std::mem::take(&mut list.conns).into_iter().enumerate() {
            if at >= unused && idle.conn.is_usable() {
                kept.push(idle);
            } else {
                self.forget(thread, &idle);
            }
        }
        list.conns = kept;
        list.low = list.conns.len();
        !list.conns.is_empty()
    }
}

/// A thread's idle pool: the servers it left connections with (for its purge), and its
/// multiplexed connections.
#[derive(Clone, Default)]
pub struct Pool {
    thread: usize,
    servers: Rc<RefCell<HashMap<ServerKey, Arc<ServerIdle>>>>,
    /// The thread's multiplexed (HTTP/2) connections, which stay shared while in use.
    h2: super::h2::H2Pool,
}

impl Pool {
    pub fn new(thread: usize) -> Pool {
        Pool {
            thread,
            ..Pool::default()
        }
    }

    /// The thread's purge, every [`PURGE_DELAY`], for as long as the pool is in use.
    pub async fn purge_regularly(self) {
        let thread = self.thread;
        let weak = Rc::downgrade(&self.servers);
        drop(self);
        let mut tick = tokio::time::interval(PURGE_DELAY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(servers) = weak.upgrade() else {
                return;
            };
            servers.borrow_mut().retain(|_, s| s.purge(thread));
        }
    }

    fn put(&self, key: ServerKey, idle: &Arc<ServerIdle>, conn: ServerConn, safe: bool) {
        idle.put(self.thread, conn, safe);
        let mut servers = self.servers.borrow_mut();
        if !servers.get(&key).is_some_and(|s| Arc::ptr_eq(s, idle)) {
            servers.insert(key, idle.clone());
        }
    }
}

/// A session's private idle connection (`http-reuse never`) and its server.
type Own = Option<(ServerKey, ServerConn)>;

/// The idle connections one client session sees: its private one, then the server's pool.
#[derive(Clone)]
pub struct SessionConns {
    pool: Pool,
    own: Rc<RefCell<Own>>,
}

impl SessionConns {
    pub fn new(pool: Pool) -> SessionConns {
        SessionConns {
            pool,
            own: Rc::default(),
        }
    }

    /// An idle connection to `key`: the session's private one if it has one, else (with
    /// `shared`, which says which) one from the server's pool.
    pub fn take(
        &self,
        key: ServerKey,
        shared: Option<Wanted>,
        idle: &ServerIdle,
    ) -> Option<ServerConn> {
        let own = self.own.borrow_mut().take();
        if let Some((k, conn)) = own {
            if k == key && conn.is_usable() {
                return Some(conn);
            }
            // Another server's, or closed by the server: a private connection is not shared.
        }
        idle.take(self.pool.thread, shared?)
    }

    /// Keeps a connection whose response is complete: in the server's pool when it may be
    /// shared (within its `pool-max-conn`), else as the session's private one.
    pub fn keep(&self, key: ServerKey, shared: bool, conn: ServerConn, idle: &Arc<ServerIdle>) {
        if shared {
            let safe = conn.is_safe();
            self.pool.put(key, idle, conn, safe);
        } else {
            *self.own.borrow_mut() = Some((key, conn));
        }
    }

    /// The thread's multiplexed connections.
    pub fn h2(&self) -> &super::h2::H2Pool {
        &self.pool.h2
    }

    /// The session is over: its private connection closes with it.
    pub fn end(&self) {
        self.own.borrow_mut().take();
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
            let dial = super::super::dial::Dial::Direct;
            let conn = ServerConn::connect(addr, dial, None, None, None, false).await;
            out.push(conn.ok().unwrap());
        }
        (listener, out)
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
        let idle = ServerIdle::new(&layout(true), None, 0);
        idle.put(0, c.pop().unwrap(), false);
        assert_eq!(
            (idle.idle(), idle.per_thread().collect::<Vec<_>>()),
            (1, vec![1, 0, 0])
        );
        // Only a safe one would do: there is none.
        assert!(idle.take(1, Wanted::Safe).is_none());
        // Thread 2 is in another group.
        assert!(idle.take(2, Wanted::Any).is_none());
        assert!(idle.take(1, Wanted::Any).is_some());
        assert_eq!(
            (idle.idle(), idle.per_thread().collect::<Vec<_>>()),
            (0, vec![0, 0, 0])
        );
        // `pool-low-conn 2`: with one idle, a thread keeps to its own list.
        let idle = ServerIdle::new(&layout(true), None, 2);
        idle.put(0, c.pop().unwrap(), true);
        assert!(idle.take(1, Wanted::Any).is_none());
        assert_eq!(idle.safe(), 1);
        assert!(idle.take(0, Wanted::Safe).is_some());
        // `tune.idle-pool.shared off`.
        let idle = ServerIdle::new(&layout(false), None, 0);
        idle.put(0, c.pop().unwrap(), false);
        assert!(idle.take(1, Wanted::Any).is_none());
        assert!(idle.take(0, Wanted::Any).is_some());
        // `pool-max-conn 0`: nothing is kept.
        let idle = ServerIdle::new(&layout(true), Some(0), 0);
        idle.put(0, c.pop().unwrap(), false);
        assert_eq!((idle.idle(), idle.limit()), (0, 0));
        assert!(idle.take(0, Wanted::Any).is_none());
    }

    #[tokio::test]
    async fn a_first_request_under_always_prefers_a_safe_connection_on_another_thread() {
        let (_l, mut c) = conns(2).await;
        let idle = ServerIdle::new(&layout(true), None, 0);
        idle.put(0, c.pop().unwrap(), true);
        idle.put(1, c.pop().unwrap(), false);
        assert!(idle.take(1, Wanted::SafeFirst).is_some());
        // The safe one was thread 0's: thread 1 keeps its own unproven one.
        assert_eq!(idle.per_thread().collect::<Vec<_>>(), vec![0, 1, 0]);
        assert_eq!(idle.safe(), 0);
    }

    #[tokio::test]
    async fn the_purge_closes_what_sat_unused_over_a_period() {
        let (_l, mut c) = conns(2).await;
        let idle = ServerIdle::new(&layout(true), None, 0);
        idle.put(0, c.pop().unwrap(), false);
        idle.put(0, c.pop().unwrap(), false);
        // First purge: the low-water mark starts at the list's length after it.
        assert!(idle.purge(0));
        let taken = idle.take(0, Wanted::Any).unwrap();
        idle.put(0, taken, false);
        // One of the two was used meanwhile: the other one goes.
        assert!(idle.purge(0));
        assert_eq!(idle.idle(), 1);
    }
}
