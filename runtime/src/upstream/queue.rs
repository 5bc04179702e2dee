//! Waiting for a connection slot of a server at its `maxconn`, bounded by `timeout queue`
//! (else `timeout connect`, as in HAProxy). The waiting requests are counted on the server and
//! on its backend (`show stat` `qcur` and `qmax`). hapee queues a
//! request on the server the balancing picked (which skips full servers while one has room),
//! so a backend's count is the sum of its servers' queues, where HAProxy keeps a queue of its
//! own for requests no server could take.
//!
//! A request stops counting however its wait ends, including when it is dropped while waiting
//! (its client went away): the count is a guard's.
//!
//! Waiting requests are served in HAProxy's order: by priority class (`set-priority-class`,
//! lower first), then by the time they entered the queue moved by their offset
//! (`set-priority-offset`, earlier first). Only the first in that order waits on the server's
//! slots; a request that comes before it takes its place.
//!
//! The logs' `%sq` and `%bq` are HAProxy's queue positions: a request is in its server's
//! queue or, when no server was assigned to it yet, its backend's (HAProxy's own queue); as
//! it leaves, however it leaves, its position there is the number of requests that queue
//! served while it waited, plus one (HAProxy's queue index); the other is 0.

use crate::api::counters::Peak;
use crate::state::{BackendRt, ServerRt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// A connection limit below `maxconn` that moves (HAProxy's dynamic `maxconn`): with
/// `minconn` and the backend's `fullconn`, it grows from `minconn` with the backend's load
/// (`load * maxconn / fullconn`) up to `maxconn`; during `slowstart` it is scaled down by the
/// share of the ramp elapsed. The server's slots beyond the limit are held back (taken out of
/// its semaphore); the limit is looked at again when a request wants a slot and, for those
/// waiting, every second.
pub struct Throttle {
    minconn: u32,
    /// Whether the limit can move at all (`minconn` below `maxconn`, or `slowstart`).
    moves: bool,
    /// Slots taken out of the semaphore now.
    held_back: Mutex<u32>,
}

impl Throttle {
    pub fn new(maxconn: Option<u32>, s: &hapee_compiler::plan::ServerPlan) -> Throttle {
        let maxconn = maxconn.unwrap_or(0);
        let minconn = s
            .minconn
            .filter(|m| *m > 0 && *m <= maxconn)
            .unwrap_or(maxconn);
        Throttle {
            minconn,
            moves: maxconn > 0 && (minconn < maxconn || s.slowstart.is_some_and(|t| t > 0)),
            held_back: Mutex::new(0),
        }
    }
}

/// A backend's `fullconn` when it sets none, as HAProxy derives it: a tenth (rounded up, at
/// least 1) of the sum of the `maxconn` (else the global one) of the frontends that can send
/// it requests, by `default_backend`, a `use_backend` naming it, or as a `listen` section's
/// own backend when it has no `default_backend`.
pub fn derived_fullconn(plan: &hapee_compiler::plan::Plan, backend: usize) -> u32 {
    let global = plan.global.maxconn.unwrap_or(crate::api::DEFAULT_MAXCONN);
    let total: u64 = plan
        .frontends
        .iter()
        .filter(|f| {
            let by_default = match f.default_backend {
                Some(d) => d == backend,
                None => f.own_backend == Some(backend),
            };
            by_default || f.switches.iter().any(|s| s.backend == Some(backend))
        })
        .map(|f| u64::from(f.maxconn.unwrap_or(global)))
        .sum();
    u32::try_from(total.div_ceil(10)).unwrap_or(u32::MAX).max(1)
}

/// HAProxy's `srv_dynamic_maxconn`: the connection limit in force on `server` of `be`.
pub fn dynamic_maxconn(server: &ServerRt, be: &BackendRt) -> Option<u32> {
    let maxconn = server.maxconn?;
    let minconn = server.throttle.minconn;
    let mut max = maxconn;
    if let Some(full) = be.fullconn {
        // The backend's load: requests on its servers and waiting for one.
        let load: u64 = be
            .servers
            .iter()
            .map(|s| s.active.load(Ordering::Relaxed))
            .sum::<u64>()
            + be.queue.current();
        if load < u64::from(full) && minconn < maxconn {
            let scaled = load * u64::from(maxconn) / u64::from(full);
            max = u32::try_from(scaled).unwrap_or(maxconn).max(minconn);
        }
    }
    Some(server.warmup.throttle_conns(max))
}

/// Holds back or gives back slots of `server` so that only its dynamic limit can be taken.
fn adjust(server: &ServerRt, be: &BackendRt) {
    let (Some(slots), Some(maxconn)) = (&server.slots, server.maxconn) else {
        return;
    };
    if !server.throttle.moves {
        return;
    }
    let limit = dynamic_maxconn(server, be).unwrap_or(maxconn).min(maxconn);
    let target = maxconn - limit;
    let Ok(mut held) = server.throttle.held_back.lock() else {
        return;
    };
    if *held > target {
        slots.add_permits((*held - target) as usize);
        *held = target;
    } else if *held < target {
        // Only free slots can be held back; those in use are, once released, next time.
        let taken = slots.forget_permits((target - *held) as usize);
        *held += u32::try_from(taken).unwrap_or(0);
    }
}

/// Requests waiting now, and the most there have been; on a server, their order.
#[derive(Default)]
pub struct QueueCount {
    cur: AtomicU64,
    peak: Peak,
    order: Mutex<std::collections::BTreeSet<Place>>,
    /// Told whenever `order` changes.
    changed: tokio::sync::Notify,
    next: AtomicU64,
    /// Requests that left the queue with a slot (HAProxy's queue index).
    served: AtomicU64,
}

/// A waiting request's place: its priority class, then when it is due (its entry time in
/// milliseconds plus its offset), then its arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    class: i64,
    due: i64,
    arrival: u64,
}

/// A place held in a queue's order while it exists.
struct Held<'a>(&'a QueueCount, Place);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Ok(mut order) = self.0.order.lock() {
            order.remove(&self.1);
        }
        self.0.changed.notify_waiters();
    }
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

    /// Counts one more waiting request.
    fn enter(&self) {
        let before = self.cur.fetch_add(1, Ordering::Relaxed);
        self.peak.see(before + 1);
    }

    fn leave(&self) {
        self.cur.fetch_sub(1, Ordering::Relaxed);
    }

    /// The queue's index, read as a request enters it.
    pub fn index(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// The position HAProxy logs for a request leaving the queue it entered at index
    /// `entry`: the requests served from it meanwhile, itself included.
    pub fn position_since(&self, entry: u64) -> u64 {
        self.index().wrapping_sub(entry) + 1
    }

    /// Takes a place in the order for a request of `priority`.
    fn join(&self, priority: crate::conn_actions::Priority) -> Held<'_> {
        static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let now_ms = EPOCH
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as i64;
        let place = Place {
            class: priority.class,
            due: now_ms + priority.offset,
            arrival: self.next.fetch_add(1, Ordering::Relaxed),
        };
        if let Ok(mut order) = self.order.lock() {
            order.insert(place);
        }
        self.changed.notify_waiters();
        Held(self, place)
    }

    /// Whether `place` is the first in the order.
    fn is_first(&self, place: Place) -> bool {
        self.order
            .lock()
            .map_or(true, |order| order.first() == Some(&place))
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
    /// Its positions in the server's and the backend's queues (`%sq`, `%bq`).
    pub position: [u64; 2],
}

/// Whether HAProxy would hold a request for a server of `be` in the backend's own queue, no
/// server assigned to it yet: its server was picked by a balancing algorithm that skips full
/// servers, not forced (`use-server`, stickiness, a cookie, a persisted destination) nor
/// hashed from a key (`keyed`).
pub fn unassigned(be: &BackendRt, forced: Option<usize>, keyed: bool) -> bool {
    be.direct.is_none() && forced.is_none() && !(be.algorithm.is_hash() && keyed)
}

/// Where HAProxy would hold a request waiting for `server`, as its log tells (`%sq`, `%bq`):
/// its backend's queue (no server assigned yet, or the server's queue at `maxqueue`) or its
/// server's, with that queue's index as the request entered it.
#[derive(Clone, Copy, Debug)]
pub struct QueueEntry {
    in_backend: bool,
    index: u64,
}

impl QueueEntry {
    /// The entry of a request for `server` of `be`; `unassigned` when no server is assigned
    /// to it yet in HAProxy's terms.
    pub fn new(server: &ServerRt, be: &BackendRt, unassigned: bool) -> QueueEntry {
        let in_backend = unassigned
            || server
                .maxqueue
                .is_some_and(|limit| server.queue.current() >= limit);
        let queue = if in_backend { &be.queue } else { &server.queue };
        QueueEntry {
            in_backend,
            index: queue.index(),
        }
    }

    fn queue<'a>(&self, server: &'a ServerRt, be: &'a BackendRt) -> &'a QueueCount {
        if self.in_backend {
            &be.queue
        } else {
            &server.queue
        }
    }

    /// The logged positions (`%sq`, `%bq`) of a request leaving its queue now, however it
    /// leaves: the requests served from it meanwhile, itself included; the other is 0.
    pub fn position(&self, server: &ServerRt, be: &BackendRt) -> [u64; 2] {
        let mut p = [0, 0];
        p[usize::from(self.in_backend)] = self.queue(server, be).position_since(self.index);
        p
    }
}

/// A connection slot of `server` (of backend `be`), waiting at most `wait` for one, in the
/// order of `priority`; `entry` is where HAProxy would hold the request meanwhile. A server without `maxconn` has no slots: the permit is then `None` at once, and so
/// is the wait's outcome reported as taken (`Ok`).
pub async fn take(
    server: &ServerRt,
    be: &BackendRt,
    wait: Duration,
    priority: crate::conn_actions::Priority,
    entry: QueueEntry,
) -> Result<Slot, Slot> {
    let Some(slots) = &server.slots else {
        return Ok(Slot {
            permit: None,
            position: [0, 0],
        });
    };
    adjust(server, be);
    if let Ok(permit) = slots.clone().try_acquire_owned() {
        return Ok(Slot {
            permit: Some(permit),
            position: [0, 0],
        });
    }
    crate::cold::cold(wait_for_slot(server, be, wait, slots, priority, entry)).await
}

/// The wait for a slot of a full server, counted in the queues meanwhile.
async fn wait_for_slot(
    server: &ServerRt,
    be: &BackendRt,
    wait: Duration,
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
    priority: crate::conn_actions::Priority,
    entry: QueueEntry,
) -> Result<Slot, Slot> {
    // A server whose queue is at its `maxqueue` takes no more waiting requests: HAProxy then
    // queues the request in the backend's own queue, served by the first slot to free. hapee
    // has no backend queue: the request waits for this server's slot, counted only in the
    // backend's queue.
    let in_server_queue = server
        .maxqueue
        .is_none_or(|limit| server.queue.current() < limit);
    if in_server_queue {
        server.queue.enter();
    }
    be.queue.enter();
    let _waiting = Waiting(in_server_queue.then_some(server), be);
    let place = server.queue.join(priority);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        adjust(server, be);
        // A moving limit is looked at again every second (HAProxy's slow start steps).
        let step = if server.throttle.moves {
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1))
        } else {
            deadline
        };
        // Listening before looking, so that no change between the two goes unheard.
        let changed = server.queue.changed.notified();
        let mut changed = std::pin::pin!(changed);
        changed.as_mut().enable();
        let acquired = if server.queue.is_first(place.1) {
            tokio::select! {
                got = tokio::time::timeout_at(step, slots.clone().acquire_owned()) => got,
                // Another request may have come first in the order: look again.
                () = &mut changed => continue,
            }
        } else {
            match tokio::time::timeout_at(step, changed).await {
                Ok(()) => continue,
                Err(elapsed) => Err(elapsed),
            }
        };
        match acquired {
            Ok(Ok(permit)) => {
                let position = entry.position(server, be);
                entry
                    .queue(server, be)
                    .served
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(Slot {
                    permit: Some(permit),
                    position,
                });
            }
            Err(_) if step < deadline => continue,
            _ => {
                return Err(Slot {
                    permit: None,
                    position: entry.position(server, be),
                })
            }
        }
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
