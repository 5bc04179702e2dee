//! Statistics counters kept per worker thread and summed on read. Each thread adds to its own
//! cache-line-aligned slot, so the request path never shares a written cache line with another
//! thread and takes no lock; the Runtime API, the stats page and the exporter add the slots up.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// What is counted, for frontends, backends and servers alike (HAProxy's `show stat` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Sessions: accepted connections (frontend), connections to servers (backend, server).
    Sessions,
    BytesIn,
    BytesOut,
    /// HTTP requests.
    Requests,
    Hrsp1xx,
    Hrsp2xx,
    Hrsp3xx,
    Hrsp4xx,
    Hrsp5xx,
    HrspOther,
    DeniedReq,
    DeniedResp,
    ErrorsReq,
    ErrorsConn,
    ErrorsResp,
    Retries,
    Redispatches,
    ClientAborts,
    ServerAborts,
    /// Requests answered by the proxy itself (rules, services): `intercepted`.
    Intercepted,
    /// Times the balancer picked this server: `lbtot`.
    LbTotal,
    /// Rewrites that did not fit in the buffer (`wrew`).
    FailedRewrites,
    /// New connections opened to servers (`connect`), and requests that went on one
    /// already open (`reuse`).
    ServerConnects,
    ServerReuses,
    /// Connections accepted by a frontend (`conn_tot`).
    Connections,
    /// A frontend's client connections served as HTTP/1 and as HTTP/2 (the `h1` and `h2`
    /// statistics modules' `total_connections`).
    H1Connections,
    H2Connections,
}

const COUNTERS: usize = Counter::H2Connections as usize + 1;

/// The phases whose times are averaged (`qtime`, `ctime`, `rtime`, `ttime`) and whose
/// maxima are kept (`qtime_max` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    Queue,
    Connect,
    Response,
    Total,
}

const TIMES: usize = 4;

/// HAProxy's averaging window: the last 512 samples (`TIME_STATS_SAMPLES`).
const TIME_SAMPLES: u64 = 512;

/// One thread's counters, alone on its cache lines.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    counts: [AtomicU64; COUNTERS],
    /// Per phase, HAProxy's sliding sum: a plain sum until the window is full, then each
    /// sample replaces an average one.
    time_sums: [AtomicU64; TIMES],
    time_max: [AtomicU64; TIMES],
    /// Transactions that ended here, timed or not (HAProxy divides by the request count).
    time_samples: AtomicU64,
}

impl Slot {
    /// Counts a finished transaction's phase times (see [`Counters::add_times`]).
    fn add_times(&self, times: Option<[u64; TIMES]>) {
        // Only this thread writes its slot: plain loads and stores are enough.
        let seen = self.time_samples.load(Ordering::Relaxed);
        self.time_samples.store(seen + 1, Ordering::Relaxed);
        let Some(times) = times else {
            return;
        };
        let window = if seen > TIME_SAMPLES { TIME_SAMPLES } else { 0 };
        for (i, v) in times.into_iter().enumerate() {
            let sum = self.time_sums[i].load(Ordering::Relaxed);
            let forget = if window > 0 { sum.div_ceil(window) } else { 0 };
            self.time_sums[i].store(sum - forget + v, Ordering::Relaxed);
            if v > self.time_max[i].load(Ordering::Relaxed) {
                self.time_max[i].store(v, Ordering::Relaxed);
            }
        }
    }
}

thread_local! {
    static THREAD_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// Makes the calling thread count into slot `slot` (worker thread `n` takes `n + 1`; slot 0
/// is for every other thread).
pub fn enter_thread(slot: usize) {
    THREAD_SLOT.with(|s| s.set(slot));
}

/// The slot of the calling thread: worker `n` is `n + 1`, any other thread 0.
pub fn thread_slot() -> usize {
    THREAD_SLOT.with(Cell::get)
}

/// What a finished transaction adds to each set of counters it went through
/// ([`Counters::add_ended`]).
pub struct Ended {
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// An HTTP request, counted with its status class (`status`) where requests are.
    pub request: bool,
    pub status: Option<Counter>,
    pub failed_rewrites: u64,
    /// `ClientAborts` or `ServerAborts`.
    pub abort: Option<Counter>,
    /// The phases' times for a backend's and a server's averages (none if one never ended).
    pub times: Option<[u64; TIMES]>,
    /// The connection to the server failed (`SC`).
    pub conn_error: bool,
    pub retries: u64,
}

/// Which set of counters a transaction's end is added to: each counts a part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Frontend,
    /// A listener's own (`option socket-stats`): no requests nor their statuses.
    Listener,
    /// A backend's: its sessions, times, failed connections and retries too.
    Backend,
    /// A server's: times, failed connections and retries.
    Server,
}

/// A set of counters with one slot per thread.
pub struct Counters {
    slots: Box<[Slot]>,
}

impl Counters {
    /// Counters for `threads` worker threads (and one slot for the others).
    pub fn new(threads: usize) -> Counters {
        Counters {
            slots: (0..=threads).map(|_| Slot::default()).collect(),
        }
    }

    #[inline]
    pub fn add(&self, what: Counter, n: u64) {
        let at = THREAD_SLOT.with(Cell::get);
        // Only this thread writes its slot: a relaxed add is uncontended.
        if let Some(slot) = self.slots.get(at) {
            slot.counts[what as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Adds a finished transaction's counts ([`Ended`]) as `role` counts them, in one visit
    /// to this thread's slot; one copy of the code serves the frontend, listener, backend
    /// and server alike.
    #[inline(never)]
    pub fn add_ended(&self, ended: &Ended, role: Role) {
        let Some(slot) = self.slots.get(thread_slot()) else {
            return;
        };
        // Only this thread writes its slot: a relaxed add is uncontended.
        let add = |what: Counter, n: u64| {
            slot.counts[what as usize].fetch_add(n, Ordering::Relaxed);
        };
        add(Counter::BytesIn, ended.bytes_in);
        add(Counter::BytesOut, ended.bytes_out);
        if ended.request && role != Role::Listener {
            add(Counter::Requests, 1);
            if let Some(class) = ended.status {
                add(class, 1);
            }
        }
        if ended.failed_rewrites > 0 {
            add(Counter::FailedRewrites, ended.failed_rewrites);
        }
        if let Some(abort) = ended.abort {
            add(abort, 1);
        }
        if matches!(role, Role::Backend | Role::Server) {
            if role == Role::Backend {
                add(Counter::Sessions, 1);
            }
            if ended.conn_error {
                add(Counter::ErrorsConn, 1);
            }
            if ended.retries > 0 {
                add(Counter::Retries, ended.retries);
            }
            slot.add_times(ended.times);
        }
    }

    /// The sum over every thread.
    pub fn get(&self, what: Counter) -> u64 {
        self.slots
            .iter()
            .map(|s| s.counts[what as usize].load(Ordering::Relaxed))
            .sum()
    }

    /// Sets every counter back to zero (`clear counters all`).
    pub fn clear(&self) {
        for s in self.slots.iter() {
            let times = s.time_sums.iter().chain(&s.time_max);
            for c in s.counts.iter().chain(times) {
                c.store(0, Ordering::Relaxed);
            }
            s.time_samples.store(0, Ordering::Relaxed);
        }
    }

    /// Counts a finished transaction's phase times in ms (`None`: it never reached a
    /// server's answer, and only counts as a sample).
    #[inline]
    pub fn add_times(&self, times: Option<[u64; TIMES]>) {
        if let Some(slot) = self.slots.get(thread_slot()) {
            slot.add_times(times);
        }
    }

    /// The average time of a phase over the last 512 transactions, in ms, rounded up. A
    /// thread's sum stands for its samples (at most a window's), so the threads' averages,
    /// weighted by their samples, add up to the sums over the samples.
    pub fn average(&self, what: Time) -> u64 {
        let (mut sums, mut samples) = (0u64, 0u64);
        for s in self.slots.iter() {
            sums += s.time_sums[what as usize].load(Ordering::Relaxed);
            samples += s.time_samples.load(Ordering::Relaxed).min(TIME_SAMPLES);
        }
        if samples == 0 {
            return 0;
        }
        sums.div_ceil(samples)
    }

    /// The longest time seen of a phase, in ms.
    pub fn max_time(&self, what: Time) -> u64 {
        self.slots
            .iter()
            .map(|s| s.time_max[what as usize].load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }
}

/// The highest value a gauge reached. Written only when a new maximum is seen, so the
/// common case is one read of a line that stays shared.
#[derive(Default)]
pub struct Peak(AtomicU64);

impl Peak {
    #[inline]
    pub fn see(&self, v: u64) {
        if v > self.0.load(Ordering::Relaxed) {
            self.0.fetch_max(v, Ordering::Relaxed);
        }
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// The counter of the class of an HTTP status.
pub fn status_class(status: u16) -> Counter {
    match status {
        100..=199 => Counter::Hrsp1xx,
        200..=299 => Counter::Hrsp2xx,
        300..=399 => Counter::Hrsp3xx,
        400..=499 => Counter::Hrsp4xx,
        500..=599 => Counter::Hrsp5xx,
        _ => Counter::HrspOther,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_count_apart_and_sum_on_read() {
        let c = Arc::new(Counters::new(4));
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || {
                    enter_thread(t + 1);
                    for _ in 0..1000 {
                        c.add(Counter::Requests, 1);
                    }
                    c.add(Counter::BytesIn, 10);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        c.add(Counter::Requests, 5);
        assert_eq!(c.get(Counter::Requests), 4005);
        assert_eq!(c.get(Counter::BytesIn), 40);
        c.clear();
        assert_eq!(c.get(Counter::Requests), 0);
    }

    #[test]
    fn times_average_as_haproxy_does() {
        let c = Counters::new(1);
        enter_thread(1);
        // Below the window: the exact mean, rounded up, over every transaction.
        c.add_times(Some([0, 1, 10, 20]));
        c.add_times(Some([0, 2, 20, 41]));
        c.add_times(None);
        assert_eq!(c.average(Time::Connect), 1);
        assert_eq!(c.average(Time::Response), 10);
        assert_eq!(c.average(Time::Total), 21);
        assert_eq!(c.max_time(Time::Total), 41);
        // Past the window, old samples fade: a long run of 100 ms moves the average there.
        for _ in 0..5000 {
            c.add_times(Some([0, 0, 100, 100]));
        }
        assert!((99..=100).contains(&c.average(Time::Response)));
        c.clear();
        assert_eq!(c.average(Time::Response), 0);
    }

    #[test]
    fn peaks_and_classes() {
        let p = Peak::default();
        p.see(3);
        p.see(2);
        assert_eq!(p.get(), 3);
        assert_eq!(status_class(204), Counter::Hrsp2xx);
        assert_eq!(status_class(503), Counter::Hrsp5xx);
        assert_eq!(status_class(42), Counter::HrspOther);
    }
}
