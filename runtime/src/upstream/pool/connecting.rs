//! Multiplexed (HTTP/2) connections still being established. HAProxy offers a new HTTP/2
//! connection to the requests `http-reuse` lets join it as soon as it creates it, before the
//! server has answered (see [`super::super::reuse::Sharing::joinable_while_connecting`]):
//! they queue their streams on it rather than dial their own. Here such requests of the
//! opener's thread wait for the opener's connection, a bounded number of them, each for at most
//! its `timeout connect`; if the connection fails, each makes an attempt of its own.

use super::super::h2::{H2Conn, MAX_STREAMS};
use super::{ServerKey, SessionConns};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// A connection being established, as the requests waiting on it see it.
pub struct Connecting {
    /// `None` while it is being established; then the connection, or `None` if it failed.
    outcome: RefCell<Option<Option<H2Conn>>>,
    settled: tokio::sync::Notify,
    /// How many more requests may wait on it.
    room: Cell<u64>,
}

impl Connecting {
    /// The connection once established; `None` if it failed, or took longer than `limit`.
    pub async fn wait(&self, limit: Duration) -> Option<H2Conn> {
        let settled = async {
            loop {
                // Made before the look: a settlement from now on wakes it.
                let told = self.settled.notified();
                if let Some(outcome) = self.outcome.borrow().as_ref() {
                    return outcome.clone();
                }
                told.await;
            }
        };
        tokio::time::timeout(limit, settled).await.ok().flatten()
    }
}

/// The opener's hold on the connection it is establishing: it settles the connection for the
/// requests waiting on it, as failed if dropped before.
pub struct Dialing {
    pool: super::Pool,
    key: ServerKey,
    connecting: Rc<Connecting>,
}

impl Dialing {
    /// The connection is established (`Some`, once offered to its pool) or failed (`None`).
    pub fn settle(self, conn: Option<&H2Conn>) {
        *self.connecting.outcome.borrow_mut() = Some(conn.cloned());
    }
}

impl Drop for Dialing {
    fn drop(&mut self) {
        self.connecting.outcome.borrow_mut().get_or_insert(None);
        let mut connecting = self.pool.connecting.borrow_mut();
        if connecting
            .get(&self.key)
            .is_some_and(|c| Rc::ptr_eq(c, &self.connecting))
        {
            connecting.remove(&self.key);
        }
        self.connecting.settled.notify_waiters();
    }
}

impl SessionConns {
    /// A connection to `key` being established on this thread that the request may wait on,
    /// if one has room for it.
    pub fn join_connecting(&self, key: ServerKey) -> Option<Rc<Connecting>> {
        let connecting = self.pool.connecting.borrow();
        let c = connecting.get(&key)?;
        let room = c.room.get().checked_sub(1)?;
        c.room.set(room);
        Some(c.clone())
    }

    /// Offers the connection to `key` the request is about to establish to the thread's
    /// requests that may share it: as many as it will carry streams besides the opener's (up to
    /// `max-reuse`). `None` when another one is being established already (its room is full)
    /// or the connection will carry no other stream.
    pub fn dialing(&self, key: ServerKey, max_reuse: Option<u64>) -> Option<Dialing> {
        let room = max_reuse.map_or(u64::from(MAX_STREAMS) - 1, |m| {
            m.min(u64::from(MAX_STREAMS) - 1)
        });
        if room == 0 {
            return None;
        }
        let mut connecting = self.pool.connecting.borrow_mut();
        if connecting.contains_key(&key) {
            return None;
        }
        let c = Rc::new(Connecting {
            outcome: RefCell::new(None),
            settled: tokio::sync::Notify::new(),
            room: Cell::new(room),
        });
        connecting.insert(key, c.clone());
        Some(Dialing {
            pool: self.pool.clone(),
            key,
            connecting: c,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pool;
    use super::*;

    #[tokio::test]
    async fn requests_wait_on_a_connection_being_established_within_its_room() {
        let opener = SessionConns::new(Pool::new(0), 5);
        let other = SessionConns::new(opener.pool.clone(), 5);
        let key = (0, 0);
        let limit = Duration::from_secs(5);
        // `max-reuse 2`: two requests besides the opener's may wait on it; one connection
        // at a time is offered.
        let dialing = opener.dialing(key, Some(2)).unwrap();
        assert!(other.dialing(key, None).is_none());
        let a = other.join_connecting(key).unwrap();
        let b = other.join_connecting(key).unwrap();
        assert!(other.join_connecting(key).is_none());
        // The opener gives up before settling it: the waiters are told it failed.
        let (waited, ()) = tokio::join!(a.wait(limit), async { drop(dialing) });
        assert!(waited.is_none());
        assert!(b.wait(limit).await.is_none());
        // It is no longer offered; `max-reuse 0` offers none.
        assert!(other.join_connecting(key).is_none());
        assert!(opener.dialing(key, Some(0)).is_none());
        // A request waits no longer than its bound.
        let _dialing = opener.dialing(key, None).unwrap();
        let waiting = other.join_connecting(key).unwrap();
        assert!(waiting.wait(Duration::from_millis(20)).await.is_none());
    }
}
