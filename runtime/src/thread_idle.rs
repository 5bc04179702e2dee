//! How idle each worker thread has been, measured as HAProxy measures it for
//! `maxcompcpuusage`: the time the thread waited for events (its runtime parked) over samples
//! of at least half a second, the share kept at the end of each sample.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The shortest sample a share is computed over.
const SAMPLE: Duration = Duration::from_millis(500);

#[derive(Clone, Copy)]
struct Measure {
    /// When the current sample began (`None`: not yet).
    started: Option<Instant>,
    /// The time spent parked in the current sample.
    idle: Duration,
    /// When the thread parked, while it is parked.
    parked_at: Option<Instant>,
    /// The idle share of the last whole sample, in percent (100 before the first).
    pct: u32,
}

thread_local! {
    static MEASURE: Cell<Measure> = const {
        Cell::new(Measure { started: None, idle: Duration::ZERO, parked_at: None, pct: 100 })
    };
}

/// The runtime's hook before the thread waits for events.
pub fn parked() {
    MEASURE.with(|m| {
        let mut v = m.get();
        let now = Instant::now();
        v.started.get_or_insert(now);
        v.parked_at = Some(now);
        m.set(v);
    });
}

/// The runtime's hook once the thread woke up: the wait counts as idle, and a sample of at
/// least [`SAMPLE`] gives the new share (rounded to the nearest percent).
pub fn unparked() {
    MEASURE.with(|m| {
        let mut v = m.get();
        let now = Instant::now();
        if let Some(at) = v.parked_at.take() {
            v.idle += now - at;
        }
        let started = *v.started.get_or_insert(now);
        let sample = now - started;
        if sample >= SAMPLE {
            let (idle, total) = (v.idle.as_micros(), sample.as_micros());
            v.pct = ((100 * idle + total / 2) / total).min(100) as u32;
            v.started = Some(now);
            v.idle = Duration::ZERO;
        }
        m.set(v);
    });
}

/// The calling thread's idle share over its last whole sample, in percent.
pub fn idle_pct() -> u32 {
    MEASURE.with(|m| m.get().pct)
}
