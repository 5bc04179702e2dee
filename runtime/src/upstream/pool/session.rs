//! The connections one client session sees: the server connections it keeps to itself (its
//! private HTTP/1 ones; its multiplexed ones are in [`super::session_h2`]), then the servers'
//! shared pools.

use super::super::h2::H2Conn;
use super::super::reuse::ReuseMode;
use super::super::ServerConn;
use super::multiplexed::H2Want;
use super::{Pool, ServerIdle, ServerKey, Wanted};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// The idle connections one client session sees: its private ones, then the server's pool.
///
/// A session keeps the connections no other session may use (`http-reuse never`, a
/// transparent target), at most `max-session-srv-conns` of them idle at once, as
/// HAProxy does: one that goes idle while the session already has that many idle closes. An
/// HTTP/1 one goes idle as its response ends; a multiplexed one as its last stream ends,
/// which the session sees at its next look at them (see [`session_h2`]).
#[derive(Clone)]
pub struct SessionConns {
    pub(super) pool: Pool,
    /// Its idle private HTTP/1 connections with their servers, in the order they went idle.
    pub(super) own: Rc<RefCell<Vec<(ServerKey, ServerConn)>>>,
    /// Its own multiplexed connections (see [`SessionConns::keep_h2`]).
    pub(super) own_h2: Rc<RefCell<Vec<(ServerKey, H2Conn)>>>,
    /// `max-session-srv-conns`: how many of its own it keeps idle.
    pub(super) keep_idle: usize,
    /// Which busy multiplexed connections it holds ([`super::super::reuse::Sharing::Session`]).
    pub(super) id: u64,
}

impl SessionConns {
    pub fn new(pool: Pool, keep_idle: usize) -> SessionConns {
        SessionConns {
            pool,
            own: Rc::default(),
            own_h2: Rc::default(),
            keep_idle,
            id: super::super::reuse::session_id(),
        }
    }

    /// An idle connection to `key`: the session's private one if it has one that may carry a
    /// request opening with the PROXY header `line` (see `Link::carries_proxy_line`), else (with `shared`,
    /// which says which) one from the server's pool, counted in use from now.
    pub fn take(
        &self,
        key: ServerKey,
        shared: Option<Wanted>,
        idle: &Arc<ServerIdle>,
        line: Option<&[u8]>,
    ) -> Option<ServerConn> {
        let mut own = self.own.borrow_mut();
        // Those the server closed meanwhile go; those of other servers stay for later.
        own.retain(|(_, c)| c.is_usable());
        if let Some(at) = own
            .iter()
            .position(|(k, c)| *k == key && c.carries_proxy_line(line))
        {
            return Some(own.remove(at).1);
        }
        drop(own);
        let mut conn = idle.take(self.pool.thread, shared?, line)?;
        conn.in_use = Some(idle.in_use());
        Some(conn)
    }

    /// The server of the session's latest private idle connection to backend `be` that is
    /// still open: where `option prefer-last-server` sends the session's next request.
    pub fn own_server(&self, be: usize) -> Option<usize> {
        self.own
            .borrow()
            .iter()
            .rev()
            .find(|(k, conn)| k.0 == be && conn.is_usable())
            .map(|(k, _)| k.1)
    }

    /// A new connection to the server, counted in use until it goes idle or closes.
    pub fn opened(conn: ServerConn, idle: &Arc<ServerIdle>) -> ServerConn {
        let mut conn = conn;
        conn.in_use = Some(idle.in_use());
        conn
    }

    /// A new connection private to its session (`http-reuse never`, a transparent target):
    /// HAProxy counts it among the server's connections in use as it makes it, and takes it
    /// out of that count as it makes it private. Its peak and the estimate keep it.
    pub fn opened_private(conn: ServerConn, idle: &Arc<ServerIdle>) -> ServerConn {
        drop(idle.in_use());
        conn
    }

    /// Keeps a connection whose response is complete: in the server's pool when it may be
    /// shared (as the pool's rules allow), else as the session's private one.
    pub fn keep(&self, key: ServerKey, shared: bool, conn: ServerConn, idle: &Arc<ServerIdle>) {
        if shared {
            let safe = conn.is_safe();
            idle.put(self.pool.thread, conn, safe);
            self.pool.register(key, idle);
        } else if self.idle_own() < self.keep_idle {
            self.own.borrow_mut().push((key, conn));
        }
        // Else it closes here: the session keeps enough idle ones already.
    }

    /// A multiplexed connection to `key` with room for a stream that this session's request
    /// may join under `http-reuse` `mode` (see [`ServerIdle::take_h2`]); an idle one only
    /// when `shared` says the request may take one.
    pub fn take_h2(
        &self,
        key: ServerKey,
        shared: Option<Wanted>,
        mode: ReuseMode,
        max_reuse: Option<u64>,
        idle: &Arc<ServerIdle>,
    ) -> Option<H2Conn> {
        let want = self.h2_want(mode, max_reuse);
        let conn = idle.take_h2(self.pool.thread, shared.is_some(), want)?;
        self.pool.register(key, idle);
        Some(conn)
    }

    /// Offers a new multiplexed connection that this session opened to the requests
    /// `http-reuse` `mode` lets join it.
    pub fn offer_h2(
        &self,
        key: ServerKey,
        conn: &H2Conn,
        mode: ReuseMode,
        max_reuse: Option<u64>,
        idle: &Arc<ServerIdle>,
    ) {
        idle.offer_h2(self.pool.thread, conn, self.h2_want(mode, max_reuse));
        self.pool.register(key, idle);
    }

    fn h2_want(&self, mode: ReuseMode, max_reuse: Option<u64>) -> H2Want {
        H2Want {
            session: self.id,
            mode,
            max_reuse,
        }
    }

    /// The session is over: its private connections close with it.
    pub fn end(&self) {
        self.own.borrow_mut().clear();
        self.own_h2.borrow_mut().clear();
    }
}
