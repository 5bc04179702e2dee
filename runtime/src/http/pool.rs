//! Per-thread pools of idle server connections, keyed by (backend, server). Only the owning
//! thread touches its pool, so no lock sits on this path.

use super::upstream::ServerConn;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// Idle connections kept per server, per thread.
const MAX_IDLE: usize = 64;

/// Idle connections by (backend, server).
type IdleMap = HashMap<(usize, usize), Vec<ServerConn>>;

#[derive(Clone, Default)]
pub struct Pool(Rc<RefCell<IdleMap>>);

impl Pool {
    /// An idle connection to the server that can take a request now. The most recently used
    /// comes first; connections the server closed meanwhile are dropped on the way.
    pub fn take(&self, key: (usize, usize)) -> Option<ServerConn> {
        let mut map = self.0.borrow_mut();
        let list = map.get_mut(&key)?;
        while let Some(conn) = list.pop() {
            if conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    pub fn put(&self, key: (usize, usize), conn: ServerConn) {
        let mut map = self.0.borrow_mut();
        let list = map.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push(conn);
        }
    }
}
