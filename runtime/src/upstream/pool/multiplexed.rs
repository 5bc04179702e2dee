//! The multiplexed (HTTP/2) connections of a server's pool: offered while they have room for
//! a stream to the requests of their thread that `http-reuse` lets join them (see
//! [`Sharing`]), and counted idle, open to the other threads of the group, once their last
//! stream ended.

use super::super::h2::{H2Conn, H2State, MAX_CONNS};
use super::super::reuse::{ReuseMode, Sharing};
use super::{IdleList, ServerIdle};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

/// What a request brings to the multiplexed connections: its client session, the backend's
/// `http-reuse` and the server's `max-reuse`.
#[derive(Clone, Copy, Debug)]
pub struct H2Want {
    pub session: u64,
    pub mode: ReuseMode,
    pub max_reuse: Option<u64>,
}

impl ServerIdle {
    /// A multiplexed connection for a request on `thread`, in HAProxy's order: a busy one
    /// with room for a stream that the request may join (its session's first, then the
    /// thread's); else, when the request may take an idle connection (`idle_ok`), an idle one
    /// of the thread, then of another thread of the group, which moves to this one. An idle
    /// one taken is held as `http-reuse` says ([`Sharing::taken_idle`]). Closed and used-up
    /// ones are dropped on the way.
    pub fn take_h2(&self, thread: usize, idle_ok: bool, want: H2Want) -> Option<H2Conn> {
        let max_reuse = want.max_reuse;
        let mut own = self.list(thread)?;
        own.h2.retain(|c| {
            let keep = c.reusable(max_reuse);
            if !keep && c.is_idle() {
                self.forget(thread, true);
            }
            keep
        });
        let joinable = |c: &&H2Conn, held: bool| {
            let sharing = c.state.sharing();
            !c.is_idle()
                && matches!(sharing, Sharing::Session(_)) == held
                && sharing.admits(want.session)
                && c.has_room(max_reuse)
        };
        let busy = (own.h2.iter().find(|c| joinable(c, true)))
            .or_else(|| own.h2.iter().find(|c| joinable(c, false)));
        if let Some(c) = busy {
            return Some(c.clone());
        }
        if !idle_ok {
            return None;
        }
        let taken = Sharing::taken_idle(want.mode, want.session);
        // An idle connection is no one's (whoever holds one taken but not yet used loses
        // it: it would be stranded otherwise).
        let idle = (own.h2.iter().rev()).find(|c| c.is_idle() && c.has_room(max_reuse));
        if let Some(c) = idle {
            c.state.share(taken);
            return Some(c.clone());
        }
        if !self.may_take_over() || own.h2.len() >= MAX_CONNS {
            return None;
        }
        // The own list stays locked while the others are only tried: no thread waits while
        // holding a lock another waits on.
        for i in self.others(thread) {
            let Ok(mut list) = self.lists[i].try_lock() else {
                continue;
            };
            let Some(at) = (list.h2.iter()).position(|c| c.is_idle() && c.has_room(max_reuse))
            else {
                continue;
            };
            let conn = list.h2.remove(at);
            self.forget(i, true);
            conn.state.home.store(thread, Ordering::Release);
            conn.state.share(taken);
            drop(list);
            self.next_takeover.store(i + 1, Ordering::Relaxed);
            self.count(thread, true);
            own.h2.push(conn.clone());
            return Some(conn);
        }
        None
    }

    /// Offers a new multiplexed connection to the requests `http-reuse` lets join it
    /// ([`Sharing::opened`]); from now on its streams are counted here. It stays a private
    /// one past the thread's limit.
    pub fn offer_h2(self: &Arc<Self>, thread: usize, conn: &H2Conn, want: H2Want) {
        let Some(mut list) = self.list(thread) else {
            return;
        };
        if list.h2.len() >= MAX_CONNS
            || conn
                .state
                .pool
                .set((Arc::downgrade(self), want.max_reuse))
                .is_err()
        {
            return;
        }
        conn.state.home.store(thread, Ordering::Release);
        conn.state
            .share(Sharing::opened(want.mode, conn.state.by_alpn, want.session));
        list.h2.push(conn.clone());
        if conn.is_idle() {
            self.count(thread, true);
        }
    }

    /// The list that holds a pooled multiplexed connection now, locked.
    fn home_of(&self, state: &H2State) -> Option<(MutexGuard<'_, IdleList>, usize)> {
        loop {
            let home = state.home.load(Ordering::Acquire);
            let list = self.list(home)?;
            if state.home.load(Ordering::Acquire) == home {
                return Some((list, home));
            }
        }
    }

    /// A stream opens on a pooled multiplexed connection: an idle one is in use from now.
    pub(in crate::upstream) fn h2_stream_opens(&self, conn: &H2Conn) {
        let home = self.home_of(&conn.state);
        if conn.state.open.fetch_add(1, Ordering::AcqRel) == 0 {
            if let Some((list, thread)) = &home {
                if list.holds(conn).is_some() {
                    self.forget(*thread, true);
                }
            }
            self.use_conn();
        }
    }

    /// A stream of a pooled multiplexed connection ends: after its last one the connection
    /// is idle, kept as the rules above say, else closed (once every handle is gone).
    pub(in crate::upstream) fn h2_stream_ends(&self, conn: &H2Conn) {
        let home = self.home_of(&conn.state);
        let state = &conn.state;
        if state.open.fetch_sub(1, Ordering::AcqRel) != 1 {
            state.share(state.sharing().after_a_stream());
            return;
        }
        // Idle: whoever held it lets it go to the pool.
        state.share(Sharing::Thread);
        let max_reuse = conn.state.pool.get().and_then(|p| p.1);
        if let Some((mut list, thread)) = home {
            if let Some(at) = list.holds(conn) {
                // Judged as a connection coming back: the list without it.
                let back = list.h2.remove(at);
                if back.reusable(max_reuse) && self.keeps(&list, true) {
                    self.count(thread, true);
                    list.h2.insert(at, back);
                }
            }
        }
        self.used.fetch_sub(1, Ordering::AcqRel);
    }
}
