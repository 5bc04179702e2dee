//! Keeping unpinned worker threads off each other's CPU.
//!
//! Linux balances runnable tasks by their count and load, not by what they are. On a host
//! where the workers share the CPUs with other busy programs (two workers, a client and an
//! origin on two CPUs), the scheduler is content with both workers on one CPU and the
//! others on the other, and can leave them so for seconds: each worker then waits out its
//! sibling's turns, and requests see stalls of several milliseconds while the median does
//! not move. Workers that each need more CPU per request look overloaded when stacked and
//! get separated by the balancer; lean ones do not, so the leaner the request path, the
//! more often it happens (measured: README, "nbthread 2: the workers kept apart").
//!
//! Each worker, as it wakes up from waiting for events, notes the CPU it runs on. When it
//! finds, twice in a row at least [`CHECK_EVERY`] apart, a worker with a lower index that
//! woke recently on the same CPU, and a CPU of its allowed set that no recently woken worker
//! uses, it moves itself there: its affinity narrowed to that one CPU, which migrates it at
//! once, then widened back, so that the scheduler stays free to move it again. Only the
//! higher of two stacked workers moves, so the two never chase each other. Nothing moves
//! when every allowed CPU holds a worker (more workers than CPUs) or a thread's set has one
//! CPU (`cpu-map`). `HAPEE_UNSTACK=0` in the environment turns it off.

use nix::sched::CpuSet;
use nix::unistd::Pid;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long after its last wake-up a worker still counts as using its CPU.
const RECENT: Duration = Duration::from_millis(20);
/// The shortest time between two looks at the other workers, per worker.
const CHECK_EVERY: Duration = Duration::from_millis(5);
/// What a slot's CPU holds before its worker first woke up.
const NO_CPU: u32 = u32::MAX;

/// One worker's last wake-up, alone on its cache line: each worker writes its own at every
/// wake-up and reads the others' only every [`CHECK_EVERY`].
#[repr(align(64))]
struct Slot {
    cpu: AtomicU32,
    /// Microseconds from [`Workers::epoch`] to the wake-up.
    woke_us: AtomicU64,
}

/// The wake-ups of every worker of the process.
pub struct Workers {
    slots: Vec<Slot>,
    epoch: Instant,
    /// Moves made, for `show activity`'s readers and the tests.
    moves: AtomicU64,
}

impl Workers {
    /// The shared record for `threads` workers; `None` when turned off by the environment
    /// or when there is one worker.
    pub fn new(threads: usize) -> Option<Arc<Workers>> {
        if threads < 2 || std::env::var("HAPEE_UNSTACK").is_ok_and(|v| v == "0") {
            return None;
        }
        Some(Arc::new(Workers {
            slots: (0..threads)
                .map(|_| Slot {
                    cpu: AtomicU32::new(NO_CPU),
                    woke_us: AtomicU64::new(0),
                })
                .collect(),
            epoch: Instant::now(),
            moves: AtomicU64::new(0),
        }))
    }

    /// How many times a worker moved itself off a sibling's CPU.
    pub fn moves(&self) -> u64 {
        self.moves.load(Ordering::Relaxed)
    }

    fn since_epoch(&self, now: Instant) -> u64 {
        now.duration_since(self.epoch).as_micros() as u64
    }
}

/// The calling worker's side.
struct Me {
    workers: Arc<Workers>,
    index: usize,
    last_check: Instant,
    /// Consecutive looks that found this worker stacked.
    strikes: u8,
}

thread_local! {
    static ME: RefCell<Option<Me>> = const { RefCell::new(None) };
}

/// Registers the calling thread as worker `index` (after any `cpu-map` binding). Returns
/// whether its wake-ups should be reported through [`woke`]: not when the thread may run on
/// a single CPU only, or the affinity cannot be read.
pub fn enter(workers: Option<&Arc<Workers>>, index: usize) -> bool {
    let Some(workers) = workers else {
        return false;
    };
    let Ok(allowed) = nix::sched::sched_getaffinity(Pid::from_raw(0)) else {
        return false;
    };
    if allowed_cpus(&allowed).nth(1).is_none() || index >= workers.slots.len() {
        return false;
    }
    ME.with(|me| {
        *me.borrow_mut() = Some(Me {
            workers: workers.clone(),
            index,
            last_check: Instant::now(),
            strikes: 0,
        })
    });
    true
}

/// The worker's hook after it woke up from waiting for events.
pub fn woke() {
    ME.with(|me| {
        if let Some(me) = me.borrow_mut().as_mut() {
            me.woke(Instant::now());
        }
    });
}

impl Me {
    fn woke(&mut self, now: Instant) {
        let Ok(cpu) = nix::sched::sched_getcpu() else {
            return;
        };
        let cpu = cpu as u32;
        let workers = &*self.workers;
        let at = workers.since_epoch(now);
        let slot = &workers.slots[self.index];
        slot.cpu.store(cpu, Ordering::Relaxed);
        slot.woke_us.store(at, Ordering::Relaxed);
        if now.duration_since(self.last_check) < CHECK_EVERY {
            return;
        }
        self.last_check = now;
        let recent = RECENT.as_micros() as u64;
        let busy_cpus: Vec<(usize, u32)> = workers
            .slots
            .iter()
            .enumerate()
            .filter(|&(i, s)| {
                i != self.index && at.saturating_sub(s.woke_us.load(Ordering::Relaxed)) <= recent
            })
            .map(|(i, s)| (i, s.cpu.load(Ordering::Relaxed)))
            .filter(|&(_, c)| c != NO_CPU)
            .collect();
        let stacked = busy_cpus.iter().any(|&(i, c)| c == cpu && i < self.index);
        if !stacked {
            self.strikes = 0;
            return;
        }
        self.strikes += 1;
        if self.strikes < 2 {
            return;
        }
        self.strikes = 0;
        // Read at each move rather than kept from the start: an operator's `taskset` since
        // then is what the thread is given back.
        let Ok(allowed) = nix::sched::sched_getaffinity(Pid::from_raw(0)) else {
            return;
        };
        let free =
            allowed_cpus(&allowed).find(|&c| c != cpu && !busy_cpus.iter().any(|&(_, b)| b == c));
        if let Some(free) = free {
            if move_to(free, &allowed) {
                slot.cpu.store(free, Ordering::Relaxed);
                workers.moves.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The CPUs of `set`, in order.
fn allowed_cpus(set: &CpuSet) -> impl Iterator<Item = u32> + '_ {
    (0..CpuSet::count())
        .filter(|&c| set.is_set(c).unwrap_or(false))
        .map(|c| c as u32)
}

/// Moves the calling thread to `cpu` (narrowing its affinity migrates it before the call
/// returns), then gives it back `allowed`.
fn move_to(cpu: u32, allowed: &CpuSet) -> bool {
    let mut one = CpuSet::new();
    if one.set(cpu as usize).is_err() {
        return false;
    }
    let me = Pid::from_raw(0);
    let moved = nix::sched::sched_setaffinity(me, &one).is_ok();
    // Widened back in any case: a failed restore would leave the thread pinned, so it is
    // tried even when the move failed.
    let _ = nix::sched::sched_setaffinity(me, allowed);
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two workers on one thread: the second, stacked on the first's CPU twice in a row,
    /// moves to another allowed CPU and keeps its whole set afterwards.
    #[test]
    fn a_stacked_worker_moves_to_a_free_cpu_and_keeps_its_set() {
        let Ok(allowed) = nix::sched::sched_getaffinity(Pid::from_raw(0)) else {
            return;
        };
        if allowed_cpus(&allowed).nth(1).is_none() {
            eprintln!("skipped: one CPU allowed");
            return;
        }
        let workers = Workers::new(2).expect("two workers");
        let cpu = nix::sched::sched_getcpu().expect("sched_getcpu") as u32;
        // Worker 0 woke just now on this CPU.
        workers.slots[0].cpu.store(cpu, Ordering::Relaxed);
        let t0 = Instant::now();
        let mut me = Me {
            workers: workers.clone(),
            index: 1,
            last_check: t0,
            strikes: 0,
        };
        for step in 1..=2u32 {
            let now = t0 + CHECK_EVERY * step;
            let at = workers.since_epoch(now);
            workers.slots[0].woke_us.store(at, Ordering::Relaxed);
            // The first look only counts a strike; the worker may have moved by itself.
            workers.slots[0].cpu.store(
                nix::sched::sched_getcpu().expect("sched_getcpu") as u32,
                Ordering::Relaxed,
            );
            me.woke(now);
        }
        assert_eq!(workers.moves(), 1, "the stacked worker moved once");
        let after = nix::sched::sched_getaffinity(Pid::from_raw(0)).expect("affinity");
        assert_eq!(
            allowed_cpus(&after).collect::<Vec<_>>(),
            allowed_cpus(&allowed).collect::<Vec<_>>(),
            "the thread's whole set is given back"
        );
        assert_ne!(
            workers.slots[1].cpu.load(Ordering::Relaxed),
            workers.slots[0].cpu.load(Ordering::Relaxed),
            "the two workers are on different CPUs"
        );
    }

    /// The lower of two stacked workers stays where it is.
    #[test]
    fn the_lower_worker_stays() {
        let workers = Workers::new(2).expect("two workers");
        let cpu = nix::sched::sched_getcpu().expect("sched_getcpu") as u32;
        workers.slots[1].cpu.store(cpu, Ordering::Relaxed);
        let t0 = Instant::now();
        let mut me = Me {
            workers: workers.clone(),
            index: 0,
            last_check: t0,
            strikes: 0,
        };
        for step in 1..=3u32 {
            let now = t0 + CHECK_EVERY * step;
            workers.slots[1]
                .woke_us
                .store(workers.since_epoch(now), Ordering::Relaxed);
            me.woke(now);
        }
        assert_eq!(workers.moves(), 0);
    }
}
