//! A client session's own multiplexed (HTTP/2) server connections: those no other session may
//! use (`http-reuse never`, a server told the client's address by the PROXY protocol, a
//! transparent backend's target). HAProxy keeps such a connection in its session's list from
//! its creation: the session's later requests, and the other streams of an HTTP/2 client,
//! open their streams on it while it has room for one, and it closes with the session. It is
//! never in the server's idle pool, nor counted among its connections in use (HAProxy takes a
//! connection out of that count as it makes it private): it counts there only while it is
//! being established.
//!
//! Once its last stream ends it is idle, and `max-session-srv-conns` bounds the session's
//! idle connections of its own, HTTP/1 ones included: HAProxy closes the one going idle when
//! the session already has that many. A connection's last stream ends out of the session's
//! sight here, so the session applies the bound each time it looks at its connections:
//! those that went idle past the bound close then, the later ones in the list first.

use super::super::h2::H2Conn;
use super::{ServerKey, SessionConns};
use std::net::SocketAddr;

impl SessionConns {
    /// The session's own connection to `key` with room for a stream; with `peer`, only one
    /// reaching that address (a transparent backend's next request may go elsewhere). Closed
    /// and used-up ones are let go on the way.
    pub fn own_h2(
        &self,
        key: ServerKey,
        peer: Option<SocketAddr>,
        max_reuse: Option<u64>,
    ) -> Option<H2Conn> {
        self.close_idle_h2_past_bound(max_reuse);
        let own = self.own_h2.borrow();
        own.iter()
            .find(|(k, c)| {
                *k == key
                    && c.has_room(max_reuse)
                    && peer.is_none_or(|p| c.addrs.map(|a| a.peer) == Some(p))
            })
            .map(|(_, c)| c.clone())
    }

    /// Keeps a new connection to `key` as the session's own (busy: it is not counted against
    /// `max-session-srv-conns` until its streams end).
    pub fn keep_h2(&self, key: ServerKey, conn: &H2Conn) {
        self.close_idle_h2_past_bound(None);
        self.own_h2.borrow_mut().push((key, conn.clone()));
    }

    /// How many of its own connections are idle: HTTP/1 ones kept after their response, and
    /// multiplexed ones without a stream.
    pub(super) fn idle_own(&self) -> usize {
        let h2 = self.own_h2.borrow();
        self.own.borrow().len() + h2.iter().filter(|(_, c)| c.is_idle()).count()
    }

    /// Lets go of closed and used-up connections, and of the idle ones past the session's
    /// bound once its idle HTTP/1 ones are counted.
    fn close_idle_h2_past_bound(&self, max_reuse: Option<u64>) {
        let mut room = self.keep_idle.saturating_sub(self.own.borrow().len());
        self.own_h2.borrow_mut().retain(|(_, c)| {
            if !c.reusable(max_reuse) {
                return false;
            }
            if !c.is_idle() {
                return true;
            }
            let kept = room > 0;
            room = room.saturating_sub(1);
            kept
        });
    }
}
