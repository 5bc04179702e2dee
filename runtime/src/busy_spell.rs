//! Giving the CPU back during a long busy spell.
//!
//! A serving thread that always finds more events runs round after round without waiting,
//! and Linux, which looks at how long a task has run only at its timer tick (every 4 ms at
//! 250 Hz) or when another task wakes up, can leave it the CPU for the whole tick. A task made
//! runnable on that CPU in the meantime (the other serving thread, the client, the origin, a
//! sidecar) then waits those 4 ms, and so do the requests it carries. Measured: two workers
//! sharing a CPU took turns of exactly 4 ms, and p99 was 4.3 ms (README, "nbthread 2").
//!
//! So at the end of a round, at most once per limit (by default 300 µs with one serving
//! thread, 150 µs with more), a serving thread yields (`sched_yield`): a task waiting for this
//! CPU runs now, and when none waits the call returns at once.
//! `HAPEE_YIELD_EVERY_US` sets the limit in microseconds; 0 turns it off.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The default limit with one serving thread. Measured (README, "nbthread 1 and 2: how often
/// to yield"): 300 µs gave the best req/s and p99 at nbthread 1; 100 µs and 3 ms did worse.
/// Yielding with no other task waiting costs one system call, so the price of a short limit
/// is under a thousandth of the thread's time.
pub const DEFAULT_LIMIT: Duration = Duration::from_micros(300);

/// The default limit with several serving threads, where the yield mostly lets a sibling
/// worker stacked on the same CPU run: shorter, since that worker's requests wait for it.
/// Measured with the profile-guided build (README, "nbthread 1: the profile-guided build
/// under BOLT"): p99 at nbthread 2 was 1.02× HAProxy's at 150 µs, 1.12× at 300 µs.
pub const DEFAULT_LIMIT_SHARED: Duration = Duration::from_micros(150);

thread_local! {
    /// When this thread last yielded (or first ended a round).
    static LAST_YIELD: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The limit this process's `serving_threads` use, from the environment or the default.
pub fn configured(serving_threads: usize) -> Option<Duration> {
    limit_from(
        std::env::var("HAPEE_YIELD_EVERY_US").ok().as_deref(),
        serving_threads,
    )
}

fn limit_from(value: Option<&str>, serving_threads: usize) -> Option<Duration> {
    match value.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(0) => None,
        Some(us) => Some(Duration::from_micros(us)),
        None if serving_threads > 1 => Some(DEFAULT_LIMIT_SHARED),
        None => Some(DEFAULT_LIMIT),
    }
}

/// At the end of a round that started at `round_start`: yields the CPU when the last yield is
/// `limit` or more ago. Returns whether it yielded.
pub fn end_of_round(round_start: Instant, limit: Duration) -> bool {
    LAST_YIELD.with(|last| {
        let Some(since) = last.get() else {
            last.set(Some(round_start));
            return false;
        };
        if round_start.saturating_duration_since(since) < limit {
            return false;
        }
        // SAFETY: sched_yield takes no arguments and touches no memory of ours; it only asks
        // the scheduler to run another task waiting for this CPU first, if any.
        unsafe { libc::sched_yield() };
        last.set(Some(round_start));
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_yields_at_most_once_per_limit() {
        std::thread::spawn(|| {
            let limit = Duration::from_millis(5);
            assert!(
                !end_of_round(Instant::now(), limit),
                "the first round starts the count"
            );
            assert!(!end_of_round(Instant::now(), limit), "too soon");
            std::thread::sleep(Duration::from_millis(6));
            assert!(end_of_round(Instant::now(), limit), "the limit has passed");
            assert!(
                !end_of_round(Instant::now(), limit),
                "counted again from the yield"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_environment_sets_or_turns_off_the_limit() {
        assert_eq!(limit_from(None, 1), Some(DEFAULT_LIMIT));
        assert_eq!(limit_from(None, 2), Some(DEFAULT_LIMIT_SHARED));
        assert_eq!(limit_from(Some("250"), 1), Some(Duration::from_micros(250)));
        assert_eq!(limit_from(Some("250"), 4), Some(Duration::from_micros(250)));
        assert_eq!(limit_from(Some("0"), 2), None);
        assert_eq!(limit_from(Some("later"), 1), Some(DEFAULT_LIMIT));
    }
}
