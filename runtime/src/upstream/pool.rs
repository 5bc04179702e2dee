//! Idle server connections. As in HAProxy, a connection whose response is complete goes back
//! to its server's idle pool at once, for any session of the thread to draw from (and the
//! first request of a session only as `http-reuse` allows); under `http-reuse never` it is
//! private and stays with its session for the session's next request. The pool is per
//! thread, keyed by (backend, server). Only the owning thread touches either, so no lock sits
//! on this path, except a server's count of idle connections under `pool-max-conn`, which
//! is an atomic shared by the threads.
//!
//! Idle connections are purged every 5 s (HAProxy's default `pool-purge-delay`): those the
//! server closed, and those no request needed over the whole period (the list's low-water
//! mark: connections are taken from the top, so the bottom ones are those that sat unused).
//!
//! HAProxy's `pool-low-conn` keeps a thread from taking another thread's idle connections
//! while the server has few; hapee's threads never take each other's, so it holds as is.

use super::ServerConn;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often idle connections are purged (HAProxy's default `pool-purge-delay`).
const PURGE_DELAY: Duration = Duration::from_secs(5);

/// Idle connections kept per server, per thread.
const MAX_IDLE: usize = 64;

/// (backend, server)
pub type ServerKey = (usize, usize);

/// A server's `pool-max-conn`: how many of its connections may be idle at once, over all
/// threads, and how many are.
#[derive(Clone, Debug)]
pub struct IdleLimit {
    max: u32,
    count: Arc<AtomicU32>,
}

impl IdleLimit {
    pub fn new(max: u32) -> IdleLimit {
        IdleLimit {
            max,
            count: Arc::default(),
        }
    }

    /// Counts one more idle connection if there is room for it.
    fn admit(&self) -> Option<IdleTicket> {
        let now = self.count.fetch_add(1, Ordering::AcqRel) + 1;
        if now > self.max {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(IdleTicket(self.count.clone()))
    }

    /// The server's idle connections now.
    pub fn idle(&self) -> u32 {
        self.count.load(Ordering::Acquire)
    }
}

/// One idle connection counted against its server's limit, until it leaves the pool.
struct IdleTicket(Arc<AtomicU32>);

impl Drop for IdleTicket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An idle connection, with its place in its server's count when the server has a limit.
type Idle = (ServerConn, Option<IdleTicket>);

/// A server's idle connections on this thread, the most recently used last.
#[derive(Default)]
struct IdleList {
    conns: Vec<Idle>,
    /// The fewest idle connections since the last purge: that many sat unused all along.
    low: usize,
}

/// Idle connections by (backend, server).
type IdleMap = HashMap<ServerKey, IdleList>;

#[derive(Clone, Default)]
pub struct Pool {
    idle: Rc<RefCell<IdleMap>>,
    /// The thread's multiplexed (HTTP/2) connections, which stay shared while in use.
    h2: super::h2::H2Pool,
}

impl Pool {
    /// An idle connection to the server that can take a request now. The most recently used
    /// comes first; connections the server closed meanwhile are dropped on the way.
    fn take(&self, key: ServerKey) -> Option<ServerConn> {
        let mut map = self.idle.borrow_mut();
        let list = map.get_mut(&key)?;
        while let Some((conn, _ticket)) = list.conns.pop() {
            list.low = list.low.min(list.conns.len());
            if conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    /// Closes the idle connections that no request took since the last purge, and those the
    /// server closed.
    fn purge(idle: &RefCell<IdleMap>) {
        idle.borrow_mut().retain(|_, list| {
            let unused = list.low.min(list.conns.len());
            list.conns.drain(..unused);
            list.conns.retain(|(conn, _)| conn.is_usable());
            list.low = list.conns.len();
            !list.conns.is_empty()
        });
    }

    /// The thread's purge, every [`PURGE_DELAY`], for as long as the pool is in use.
    pub async fn purge_regularly(self) {
        let weak = Rc::downgrade(&self.idle);
        drop(self);
        let mut tick = tokio::time::interval(PURGE_DELAY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(idle) = weak.upgrade() else {
                return;
            };
            Pool::purge(&idle);
        }
    }

    /// Keeps an idle connection; one the server has no room for closes (HAProxy's answer
    /// when `pool-max-conn` is reached).
    fn put(&self, key: ServerKey, conn: ServerConn, limit: Option<&IdleLimit>) {
        let ticket = match limit {
            Some(l) => match l.admit() {
                Some(t) => Some(t),
                None => return,
            },
            None => None,
        };
        let mut map = self.idle.borrow_mut();
        let list = map.entry(key).or_default();
        if list.conns.len() < MAX_IDLE {
            list.conns.push((conn, ticket));
        }
    }
}

/// A session's private idle connection (`http-reuse never`) and its server.
type Own = Option<(ServerKey, ServerConn)>;

/// The idle connections one client session sees: its private one, then its thread's pool.
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
    /// `shared`) one from the pool.
    pub fn take(&self, key: ServerKey, shared: bool) -> Option<ServerConn> {
        let own = self.own.borrow_mut().take();
        if let Some((k, conn)) = own {
            if k == key && conn.is_usable() {
                return Some(conn);
            }
            // Another server's, or closed by the server: a private connection is not shared.
        }
        if shared {
            self.pool.take(key)
        } else {
            None
        }
    }

    /// Keeps a connection whose response is complete: in the pool when it may be shared
    /// (within the server's `limit`), else as the session's private one.
    pub fn keep(&self, key: ServerKey, shared: bool, conn: ServerConn, limit: Option<&IdleLimit>) {
        if shared {
            self.pool.put(key, conn, limit);
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
