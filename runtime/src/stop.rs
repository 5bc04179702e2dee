//! The graceful stop (SIGUSR1) as a worker thread's tasks see it. Each client connection waits
//! for it alongside its traffic, so the wait is polled at every wake-up of the connection's
//! task: here that costs a flag check and a waker comparison, where a `watch` receiver locked
//! and registered itself anew on each poll.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// One thread's stop signal; clones share it.
#[derive(Clone, Default)]
pub struct Stopping(Rc<Signal>);

#[derive(Default)]
struct Signal {
    fired: Cell<bool>,
    waiters: RefCell<Waiters>,
}

/// The wakers of the tasks waiting, in slots that waits give back when dropped.
#[derive(Default)]
struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Stopping {
    /// Fires this thread's signal once `stop` (the process-wide one) turns true.
    pub async fn relay(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let _ = stop.wait_for(|s| *s).await;
        self.fire();
    }

    /// Stops: every wait, current or future, completes.
    pub fn fire(&self) {
        self.0.fired.set(true);
        let wakers: Vec<Waker> = {
            let mut w = self.0.waiters.borrow_mut();
            w.slots.iter_mut().filter_map(Option::take).collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// A future that completes when the signal fires.
    pub fn wait(&self) -> StopWait {
        StopWait {
            signal: self.0.clone(),
            slot: None,
        }
    }
}

pub struct StopWait {
    signal: Rc<Signal>,
    slot: Option<usize>,
}

impl Future for StopWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.fired.get() {
            return Poll::Ready(());
        }
        let signal = self.signal.clone();
        let mut waiters = signal.waiters.borrow_mut();
        match self.slot {
            Some(i) => match &mut waiters.slots[i] {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            },
            None => {
                let waker = Some(cx.waker().clone());
                let i = match waiters.free.pop() {
                    Some(i) => {
                        waiters.slots[i] = waker;
                        i
                    }
                    None => {
                        waiters.slots.push(waker);
                        waiters.slots.len() - 1
                    }
                };
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for StopWait {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let mut waiters = self.signal.waiters.borrow_mut();
            waiters.slots[i] = None;
            waiters.free.push(i);
        }
    }
}

/// `busy-polling`: keeps the thread's event loop from ever sleeping, as HAProxy's null poller
/// timeout does: each turn yields, and a yielding task makes the loop look for events without
/// waiting (`event_interval(1)` looks between any two tasks). A stopping thread no longer
/// spins, as HAProxy's old processes stop busy-polling on a reload.
pub async fn busy_poll(stopping: Stopping) {
    let mut stopped = std::pin::pin!(stopping.wait());
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => return,
            _ = tokio::task::yield_now() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn waits_complete_when_the_signal_fires_and_give_their_slot_back() {
        let stopping = Stopping::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut a = stopping.wait();
        let mut b = stopping.wait();
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        assert_eq!(stopping.0.waiters.borrow().slots.len(), 2);
        drop(b);
        // The slot b gave back is used again.
        let mut c = stopping.wait();
        assert!(Pin::new(&mut c).poll(&mut cx).is_pending());
        assert_eq!(stopping.0.waiters.borrow().slots.len(), 2);
        stopping.fire();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "a and c are woken once each"
        );
        assert!(Pin::new(&mut a).poll(&mut cx).is_ready());
        assert!(Pin::new(&mut c).poll(&mut cx).is_ready());
        // A wait that starts after the stop completes at once.
        assert!(Pin::new(&mut stopping.wait()).poll(&mut cx).is_ready());
    }
}
