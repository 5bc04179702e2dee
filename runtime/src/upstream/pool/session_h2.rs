//! A client session's own multiplexed (HTTP/2) server connections: those no other session may
//! use (`http-reuse never`, a server told the client's address by the PROXY protocol, a
//! transparent backend's target). HAProxy keeps such a connection in its session's list from
//! its creation: the session's later requests, and the other streams of an HTTP/2 client,
//! open their streams on it while it has room for one, and it closes with the session. It is
//! never in the server's idle pool, nor counted among its connections in use (HAProxy takes a
//! connection out of that count as it makes it private): it counts there only while it is
//! being established.

use super::super::h2::H2Conn;
use super::{ServerKey, SessionConns};
use std::net::SocketAddr;

/// The most connections a session keeps (HAProxy's default `max-session-srv-conns`); past it
/// the oldest idle one closes.
const MAX_KEPT: usize = 5;

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
        let mut own = self.own_h2.borrow_mut();
        own.retain(|(_, c)| c.reusable(max_reuse));
        own.iter()
            .find(|(k, c)| {
                *k == key
                    && c.has_room(max_reuse)
                    && peer.is_none_or(|p| c.addrs.map(|a| a.peer) == Some(p))
            })
            .map(|(_, c)| c.clone())
    }

    /// Keeps a new connection to `key` as the session's own.
    pub fn keep_h2(&self, key: ServerKey, conn: &H2Conn) {
        let mut own = self.own_h2.borrow_mut();
        if own.len() >= MAX_KEPT {
            if let Some(at) = own.iter().position(|(_, c)| c.is_idle()) {
                own.remove(at);
            }
        }
        own.push((key, conn.clone()));
    }
}
