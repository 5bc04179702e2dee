//! The worker threads' clock, read once per scheduling round, as HAProxy reads its clock once
//! per polling loop. A round runs the tasks that are ready and lasts far less than the
//! millisecond that timings are logged in, so every task of a round can share one reading
//! instead of each paying for its own (a request used to read the clock a dozen times).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

thread_local! {
    /// The monotonic and wall clocks at the start of the round running on this thread.
    static ROUND: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
}

/// The time at the start of the current round; outside a round (tests, tools), the clock.
pub fn now() -> Instant {
    ROUND.with(Cell::get).map_or_else(read_now, |(now, _)| now)
}

/// The wall-clock date at the start of the current round; outside a round, the clock.
pub fn date() -> SystemTime {
    ROUND
        .with(Cell::get)
        .map_or_else(read_date, |(_, date)| date)
}

// The clock itself, read outside a round only: out of line, so that the callers of `now` and
// `date` (a dozen on the request path) do not each carry the system call's set-up.
#[cold]
#[inline(never)]
fn read_now() -> Instant {
    Instant::now()
}

#[cold]
#[inline(never)]
fn read_date() -> SystemTime {
    SystemTime::now()
}

/// Drives `inner` (a worker's `LocalSet` run, each poll of which is one round) with the clock
/// read at the start of every poll.
pub struct Rounds<F> {
    inner: Pin<Box<F>>,
    /// `crate::busy_spell`'s limit, when the thread gives its CPU back during long spells.
    yield_every: Option<std::time::Duration>,
}

impl<F: Future> Rounds<F> {
    pub fn new(inner: F) -> Rounds<F> {
        Rounds {
            inner: Box::pin(inner),
            yield_every: None,
        }
    }

    /// Rounds that give the CPU back at most once per `limit`.
    pub fn yielding_every(mut self, limit: Option<std::time::Duration>) -> Rounds<F> {
        self.yield_every = limit;
        self
    }
}

impl<F: Future> Future for Rounds<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let start = Instant::now();
        ROUND.with(|r| r.set(Some((start, SystemTime::now()))));
        let polled = self.inner.as_mut().poll(cx);
        // Between rounds the thread waits for events: a reading kept now would go stale.
        ROUND.with(|r| r.set(None));
        if let Some(limit) = self.yield_every {
            crate::busy_spell::end_of_round(start, limit);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_shares_one_reading_and_the_next_round_reads_again() {
        let seen = std::rc::Rc::new(Cell::new(Vec::new()));
        let record = seen.clone();
        let mut polls = 0;
        let mut rounds = Rounds::new(std::future::poll_fn(move |cx| {
            let first = now();
            std::thread::sleep(std::time::Duration::from_millis(2));
            assert_eq!(now(), first, "one reading for the whole round");
            let mut v = record.take();
            v.push(first);
            record.set(v);
            polls += 1;
            if polls == 2 {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Pin::new(&mut rounds).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut rounds).poll(&mut cx).is_ready());
        let v = seen.take();
        assert_eq!(v.len(), 2);
        assert!(v[1] > v[0], "each round reads the clock again");
        // Outside a round, the clock itself.
        let a = now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(now() > a);
    }
}
