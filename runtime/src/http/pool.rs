//! Idle server connections. Each client session keeps the connection its last response came
//! on and tries it first, as HAProxy attaches server connections to their session; the
//! connections sessions give up (when they end, or move to another server) go to a pool per
//! thread, keyed by (backend, server), that any session may draw from unless `http-reuse
//! never` keeps connections private. Only the owning thread touches either, so no lock sits
//! on this path.

use super::upstream::ServerConn;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// Idle connections kept per server, per thread.
const MAX_IDLE: usize = 64;

/// (backend, server)
pub type ServerKey = (usize, usize);

/// Idle connections by (backend, server).
type IdleMap = HashMap<ServerKey, Vec<ServerConn>>;

#[derive(Clone, Default)]
pub struct Pool(Rc<RefCell<IdleMap>>);

impl Pool {
    /// An idle connection to the server that can take a request now. The most recently used
    /// comes first; connections the server closed meanwhile are dropped on the way.
    fn take(&self, key: ServerKey) -> Option<ServerConn> {
        let mut map = self.0.borrow_mut();
        let list = map.get_mut(&key)?;
        while let Some(conn) = list.pop() {
            if conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    fn put(&self, key: ServerKey, conn: ServerConn) {
        let mut map = self.0.borrow_mut();
        let list = map.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push(conn);
        }
    }
}

/// A session's own idle connection: its server, whether it may be shared once the session
/// lets it go, and the connection.
type Own = Option<(ServerKey, bool, ServerConn)>;

/// The idle connections one client session sees: its own, then its thread's pool.
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

    /// An idle connection to `key`: the session's own if it has one, else (with `shared`)
    /// one from the pool.
    pub fn take(&self, key: ServerKey, shared: bool) -> Option<ServerConn> {
        let own = self.own.borrow_mut().take();
        if let Some((k, s, conn)) = own {
            if k != key {
                self.give_up(k, s, conn);
            } else if conn.is_usable() {
                return Some(conn);
            }
            // Closed by the server: dropped, without probing it a second time in give_up.
        }
        if shared {
            self.pool.take(key)
        } else {
            None
        }
    }

    /// Keeps a connection whose response is complete for the session's next request; one it
    /// held before goes to the pool.
    pub fn keep(&self, key: ServerKey, shared: bool, conn: ServerConn) {
        let before = self.own.borrow_mut().replace((key, shared, conn));
        if let Some((k, s, c)) = before {
            self.give_up(k, s, c);
        }
    }

    fn give_up(&self, key: ServerKey, shared: bool, conn: ServerConn) {
        if shared && conn.is_usable() {
            self.pool.put(key, conn);
        }
    }

    /// The session is over: its connection goes to the pool (if it may be shared).
    pub fn end(&self) {
        if let Some((k, s, c)) = self.own.borrow_mut().take() {
            self.give_up(k, s, c);
        }
    }
}
