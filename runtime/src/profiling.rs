//! The per-stream task counters of HAProxy's `profiling.tasks` (the `cpu_calls`, `cpu_ns_*`
//! and `lat_ns_*` fetches). HAProxy's stream is a task the scheduler calls; hapee's is the
//! future that serves a request (HTTP) or a connection (TCP), and a call is one poll of it.
//! The calls are always counted, as HAProxy counts its task's calls. With `profiling.tasks
//! on` each poll also adds the thread's CPU time spent in it (CLOCK_THREAD_CPUTIME_ID read
//! around the poll) and the time from its wake-up (or its creation, for the first poll) to
//! the poll; otherwise those stay 0, as in HAProxy when profiling is off. HAProxy's `auto`
//! turns profiling on only while its event loop averages over 1 ms per turn; hapee has no
//! such loop measure and treats `auto` as `off`.
//!
//! What is approximated: a response body streamed after the request's future has answered
//! is forwarded by hyper's connection task, whose polls are not counted here (HAProxy's
//! stream is called for them too).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

/// One stream's counters.
#[derive(Debug, Default)]
pub struct StreamProfile {
    calls: AtomicU64,
    cpu_ns: AtomicU64,
    lat_ns: AtomicU64,
}

impl StreamProfile {
    /// `cpu_calls`: the polls so far (this one included while it runs).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
    /// `cpu_ns_tot`: the thread CPU time of the polls that ended.
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_ns.load(Ordering::Relaxed)
    }
    /// `lat_ns_tot`: the waits between a wake-up and its poll.
    pub fn lat_ns(&self) -> u64 {
        self.lat_ns.load(Ordering::Relaxed)
    }
}

/// The time of the last wake-up of a profiled future, set by the waker it polls with.
struct WakeStamp {
    inner: std::sync::Mutex<Waker>,
    origin: Instant,
    /// Nanoseconds from `origin` to the last wake-up not yet followed by a poll, plus one
    /// (0: none).
    woken: AtomicU64,
}

impl WakeStamp {
    fn stamp(&self) {
        let ns = self.origin.elapsed().as_nanos() as u64;
        self.woken.store(ns + 1, Ordering::Relaxed);
    }
}

impl Wake for WakeStamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.stamp();
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wake_by_ref();
    }
}

/// A future whose polls count into a [`StreamProfile`] (an `Unpin` one: a boxed future).
pub struct Profiled<F> {
    inner: F,
    profile: Arc<StreamProfile>,
    /// With `profiling.tasks on`: the waker that stamps wake-ups, made at the first poll.
    stamp: Option<Arc<WakeStamp>>,
    /// With `profiling.tasks on`, when the future was made (wake-up latencies count from it);
    /// `None` otherwise, so that a request not measured reads no clock.
    created: Option<Instant>,
}

impl<F> Profiled<F> {
    /// Counts the polls of `inner` into `profile`, measuring time when `measure`.
    pub fn new(inner: F, profile: Arc<StreamProfile>, measure: bool) -> Self {
        Profiled {
            inner,
            profile,
            stamp: None,
            created: measure.then(Instant::now),
        }
    }
}

/// The calling thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    use nix::time::{clock_gettime, ClockId};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(0, |t| {
        (t.tv_sec() as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(t.tv_nsec() as u64)
    })
}

impl<F: Future + Unpin> Future for Profiled<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let inner = Pin::new(&mut this.inner);
        this.profile.calls.fetch_add(1, Ordering::Relaxed);
        let Some(created) = this.created else {
            return inner.poll(cx);
        };
        let stamp = this.stamp.get_or_insert_with(|| {
            Arc::new(WakeStamp {
                inner: std::sync::Mutex::new(cx.waker().clone()),
                origin: created,
                woken: AtomicU64::new(1),
            })
        });
        {
            let mut waker = stamp.inner.lock().unwrap_or_else(|e| e.into_inner());
            if !waker.will_wake(cx.waker()) {
                *waker = cx.waker().clone();
            }
        }
        let woken = stamp.woken.swap(0, Ordering::Relaxed);
        if woken > 0 {
            let now = created.elapsed().as_nanos() as u64;
            let lat = now.saturating_sub(woken - 1);
            this.profile.lat_ns.fetch_add(lat, Ordering::Relaxed);
        }
        let waker = Waker::from(stamp.clone());
        let mut stamped = Context::from_waker(&waker);
        let start = thread_cpu_ns();
        let polled = inner.poll(&mut stamped);
        let spent = thread_cpu_ns().saturating_sub(start);
        this.profile.cpu_ns.fetch_add(spent, Ordering::Relaxed);
        polled
    }
}
