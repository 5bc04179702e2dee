//! Spreading accepted connections over the threads that serve a listener.
//!
//! The threads of one thread group share one listening socket per address (see
//! `crate::listener`): whichever of them is awake accepts. With `tune.listener.multi-queue`
//! on (the default), the accepting thread then hands the connection to the least loaded of the
//! listener's threads in its group, by their counts of connections being served (handed-over
//! ones included as soon as they are sent), as HAProxy does; the other thread's event loop is
//! woken through its inbox. Off, the accepting thread keeps what it accepts.
//!
//! `show activity` reports, per thread, the connections it accepted (`accepted`) and those it
//! was handed by the selection, itself included (`accq_pushed`).

use crate::listener::Serving;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One thread's figures, alone on its cache line: every accept writes the chosen thread's.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Connections this thread serves now (or has been handed and not started yet).
    active: AtomicU64,
    accepted: AtomicU64,
    pushed: AtomicU64,
}

/// The per-thread loads of the process, shared by every worker thread.
pub struct ThreadLoads {
    slots: Vec<Slot>,
    /// `tune.listener.multi-queue`.
    pub multi_queue: bool,
}

impl ThreadLoads {
    pub fn new(threads: usize, multi_queue: bool) -> ThreadLoads {
        ThreadLoads {
            slots: (0..threads.max(1)).map(|_| Slot::default()).collect(),
            multi_queue,
        }
    }

    fn slot(&self, thread: usize) -> Option<&Slot> {
        self.slots.get(thread)
    }

    /// The thread among `threads` serving the fewest connections; `me` (the accepting thread)
    /// on a tie, which saves waking another thread.
    pub fn least_loaded(&self, me: usize, threads: &[usize]) -> usize {
        let load = |t: usize| {
            self.slot(t)
                .map_or(u64::MAX, |s| s.active.load(Ordering::Relaxed))
        };
        let mut best = me;
        let mut best_load = load(me);
        for &t in threads {
            let l = load(t);
            if l < best_load {
                best = t;
                best_load = l;
            }
        }
        best
    }

    /// `thread` took a connection from its socket.
    pub fn count_accepted(&self, thread: usize) {
        if let Some(s) = self.slot(thread) {
            s.accepted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `thread` was chosen to serve a connection: it counts as loaded from now on.
    pub fn assign(&self, thread: usize, selected: bool) {
        if let Some(s) = self.slot(thread) {
            s.active.fetch_add(1, Ordering::Relaxed);
            if selected {
                s.pushed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A connection `thread` served has ended.
    pub fn release(&self, thread: usize) {
        if let Some(s) = self.slot(thread) {
            s.active.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Connections each thread accepted, in thread order.
    pub fn accepted(&self) -> Vec<u64> {
        self.slots
            .iter()
            .map(|s| s.accepted.load(Ordering::Relaxed))
            .collect()
    }

    /// Connections each thread was handed by the selection, in thread order.
    pub fn pushed(&self) -> Vec<u64> {
        self.slots
            .iter()
            .map(|s| s.pushed.load(Ordering::Relaxed))
            .collect()
    }
}

/// A connection accepted by one thread for another to serve.
pub struct Handed {
    pub stream: std::net::TcpStream,
    pub client: SocketAddr,
    /// The connection's own address when its listener has a single one (else read from
    /// the socket).
    pub local: Option<SocketAddr>,
    pub serving: Arc<Serving>,
}

/// What a thread receives connections on.
pub type Inbox = mpsc::UnboundedReceiver<Handed>;

/// The inboxes of every worker thread, and the sending ends that accept loops hold. A
/// thread's inbox ends once every accept loop that could send to it has ended, so that no
/// handed connection is lost when the process stops.
pub fn inboxes(threads: usize) -> (Vec<mpsc::UnboundedSender<Handed>>, Vec<Inbox>) {
    (0..threads).map(|_| mpsc::unbounded_channel()).unzip()
}

/// How one thread's accept loop for one socket routes what it accepts.
pub struct Route {
    /// The accepting thread.
    pub me: usize,
    /// The listener's threads in `me`'s group (`me` included) and their inboxes.
    pub peers: Vec<(usize, mpsc::UnboundedSender<Handed>)>,
    threads: Vec<usize>,
}

impl Route {
    /// The route of thread `me` among `group` (the listener's threads of its group).
    pub fn new(me: usize, group: &[usize], senders: &[mpsc::UnboundedSender<Handed>]) -> Route {
        Route {
            me,
            peers: group
                .iter()
                .filter(|&&t| t != me)
                .filter_map(|&t| Some((t, senders.get(t)?.clone())))
                .collect(),
            threads: group.to_vec(),
        }
    }

    /// The thread that serves the next connection (now counted as loaded). With one thread
    /// or `multi-queue` off, the accepting one.
    pub fn choose(&self, loads: &ThreadLoads) -> usize {
        loads.count_accepted(self.me);
        let select = loads.multi_queue && self.threads.len() > 1;
        let target = if select {
            loads.least_loaded(self.me, &self.threads)
        } else {
            self.me
        };
        loads.assign(target, select);
        target
    }

    /// Sends `handed` to `thread`'s inbox; answers it back when that thread no longer takes
    /// connections (it is stopping), for the caller to serve.
    pub fn send(&self, thread: usize, handed: Handed) -> Result<(), Handed> {
        match self.peers.iter().find(|(t, _)| *t == thread) {
            Some((_, tx)) => tx.send(handed).map_err(|e| e.0),
            None => Err(handed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_least_loaded_and_keeps_ties_local() {
        let loads = ThreadLoads::new(3, true);
        loads.assign(0, false);
        loads.assign(0, false);
        loads.assign(2, false);
        assert_eq!(loads.least_loaded(0, &[0, 1, 2]), 1);
        loads.assign(1, false);
        // 1 and 2 both serve one: the accepting thread (2) keeps it.
        assert_eq!(loads.least_loaded(2, &[0, 1, 2]), 2);
        loads.release(0);
        loads.release(0);
        assert_eq!(loads.least_loaded(1, &[0, 1, 2]), 0);
    }

    #[test]
    fn routes_alternate_over_two_threads() {
        let loads = ThreadLoads::new(2, true);
        let (senders, _inboxes) = inboxes(2);
        let route = Route::new(0, &[0, 1], &senders);
        let chosen: Vec<usize> = (0..6).map(|_| route.choose(&loads)).collect();
        assert_eq!(chosen, [0, 1, 0, 1, 0, 1]);
        assert_eq!(loads.accepted(), [6, 0]);
        assert_eq!(loads.pushed(), [3, 3]);
    }

    #[test]
    fn without_multi_queue_the_accepting_thread_keeps_it() {
        let loads = ThreadLoads::new(2, false);
        let (senders, _inboxes) = inboxes(2);
        let route = Route::new(1, &[0, 1], &senders);
        assert!((0..4).all(|_| route.choose(&loads) == 1));
        assert_eq!(loads.pushed(), [0, 0]);
    }
}
