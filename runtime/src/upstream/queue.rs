//! Waiting for a connection slot of a server at its `maxconn`, bounded by `timeout queue`
//! (else `timeout connect`, as in HAProxy). The waiting requests are counted on the server and
//! on its backend (`show stat` `qcur` and `qmax`, the logs' `%sq` and `%bq`). hapee queues a
//! request on the server the balancing picked (which skips full servers while one has room),
//! so a backend's count is the sum of its servers' queues, where HAProxy keeps a queue of its
//! own for requests no server could take.
//!
//! A request stops counting however its wait ends, including when it is dropped while waiting
//! (its client went away): the count is a guard's.

use crate::api::counters::Peak;
use crate::state::{BackendRt, ServerRt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// Requests waiting now, and the most there have been.
#[derive(Default)]
pub struct QueueCount {
    cur: AtomicU64,
    peak: Peak,
}

impl QueueCount {
    pub fn current(&self) -> u64 {
        self.cur.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> u64 {
        self.peak.get()
    }

    /// `clear counters`: the peak starts again from now.
    pub fn reset_peak(&self) {
        self.peak.reset();
    }

    /// Counts one more waiting request; returns how many were waiting before it.
    fn enter(&self) -> u64 {
        let before = self.cur.fetch_add(1, Ordering::Relaxed);
        self.peak.see(before + 1);
        before
    }

    fn leave(&self) {
        self.cur.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One request counted in its server's (unless past `maxqueue`) and backend's queues while it
/// exists.
struct Waiting<'a>(Option<&'a ServerRt>, &'a BackendRt);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(server) = self.0 {
            server.queue.leave();
        }
        self.1.queue.leave();
    }
}

/// What waiting for a slot gave.
pub struct Slot {
    /// The slot, held until the server's response is over; `None` when the wait timed out.
    pub permit: Option<OwnedSemaphorePermit>,
    /// How many requests were ahead in the server's and the backend's queues (`%sq`, `%bq`).
    pub ahead: [u64; 2],
}

/// A connection slot of `server` (of backend `be`), waiting at most `wait` for one. A server
/// without `maxconn` has no slots: the permit is then `None` at once, and so is the wait's
/// outcome reported as taken (`Ok`).
pub async fn take(server: &ServerRt, be: &BackendRt, wait: Duration) -> Result<Slot, Slot> {
    let Some(slots) = &server.slots else {
        return Ok(Slot {
            permit: None,
            ahead: [0, 0],
        });
    };
    if let Ok(permit) = slots.clone().try_acquire_owned() {
        return Ok(Slot {
            permit: Some(permit),
            ahead: [0, 0],
        });
    }
    crate::cold::cold(wait_for_slot(server, be, wait, slots)).await
}

/// The wait for a slot of a full server, counted in the queues meanwhile.
async fn wait_for_slot(
    server: &ServerRt,
    be: &BackendRt,
    wait: Duration,
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
) -> Result<Slot, Slot> {
    // A server whose queue is at its `maxqueue` takes no more waiting requests: HAProxy then
    // queues the request in the backend's own queue, served by the first slot to free. hapee
    // has no backend queue: the request waits for this server's slot, counted only in the
    // backend's queue.
    let in_server_queue = server
        .maxqueue
        .is_none_or(|limit| server.queue.current() < limit);
    let ahead = [
        if in_server_queue {
            server.queue.enter()
        } else {
            0
        },
        be.queue.enter(),
    ];
    let _waiting = Waiting(in_server_queue.then_some(server), be);
    match tokio::time::timeout(wait, slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(Slot {
            permit: Some(permit),
            ahead,
        }),
        _ => Err(Slot {
            permit: None,
            ahead,
        }),
    }
}

/// Whether `server` is at its `maxconn` (a request for it would wait).
pub fn is_full(server: &ServerRt) -> bool {
    server
        .slots
        .as_ref()
        .is_some_and(|s| s.available_permits() == 0)
}

/// How long a request may wait in the queue of backend `be`.
pub fn limit(be: &BackendRt) -> Duration {
    be.timeouts
        .queue
        .or(be.timeouts.connect)
        .unwrap_or(Duration::from_secs(5))
}
