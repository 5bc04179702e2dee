//! Keeping unpinned worker threads off each other's CPU.
//!
//! Linux balances runnable tasks by their count and load, not by what they are. On a host
//! where the workers share the CPUs with other busy programs (two workers, a client and an
//! origin on two CPUs), the scheduler is content with both workers on one CPU and the
//! others on the other, and can leave them so for seconds: each worker then waits out its
//! sibling's turns, and requests see stalls of several milliseconds while the median does
//! not move. Workers that each need more CPU per request look overloaded when stacked and
//! get separated by the balancer; lean ones do not, so the leaner the request path, the
//! more often it happens (measured: README, "nbthread 2: the workers kept apart, and what the tail is not").
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
/// The shortest time between two moves of one worker; doubled, up to [`MAX_COOLDOWN`], for
/// each move that follows the previous one within four cooldowns (the scheduler moving the
/// worker back: the two must not fight), back to this after a quiet spell.
const MIN_COOLDOWN: Duration = Duration::from_millis(10);
const MAX_COOLDOWN: Duration = Duration::from_secs(1);
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
    /// When this worker last moved, and how long it waits before the next move.
    last_move: Option<Instant>,
    cooldown: Duration,
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
            last_move: None,
            cooldown: MIN_COOLDOWN,
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
        // Read at each move rather than kept from the start: an operator's `taskset` since
        // then is what the thread is given back.
        let affinity = || nix::sched::sched_getaffinity(Pid::from_raw(0)).ok();
        if let Some((free, allowed)) = self.look(now, cpu as u32, affinity) {
            if move_to(free, &allowed) {
                self.moved(now, free);
            }
        }
    }

    /// Records this wake-up on `cpu`, and says where to move (with the set to give back
    /// after) when the worker is due to: stacked twice in a row, past its cooldown, with a
    /// free CPU in what `affinity` reads.
    fn look(
        &mut self,
        now: Instant,
        cpu: u32,
        affinity: impl FnOnce() -> Option<CpuSet>,
    ) -> Option<(u32, CpuSet)> {
        let workers = &*self.workers;
        let at = workers.since_epoch(now);
        let slot = &workers.slots[self.index];
        slot.cpu.store(cpu, Ordering::Relaxed);
        slot.woke_us.store(at, Ordering::Relaxed);
        if now.duration_since(self.last_check) < CHECK_EVERY {
            return None;
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
            return None;
        }
        self.strikes += 1;
        if self.strikes < 2 {
            return None;
        }
        self.strikes = 0;
        if let Some(last) = self.last_move {
            let since = now.duration_since(last);
            if since < self.cooldown {
                return None;
            }
            self.cooldown = if since < self.cooldown * 4 {
                (self.cooldown * 2).min(MAX_COOLDOWN)
            } else {
                MIN_COOLDOWN
            };
        }
        let allowed = affinity()?;
        let free =
            allowed_cpus(&allowed).find(|&c| c != cpu && !busy_cpus.iter().any(|&(_, b)| b == c));
        free.map(|free| (free, allowed))
    }

    /// Records a move made to `cpu`.
    fn moved(&mut self, now: Instant, cpu: u32) {
        self.last_move = Some(now);
        self.workers.slots[self.index]
            .cpu
            .store(cpu, Ordering::Relaxed);
        self.workers.moves.fetch_add(1, Ordering::Relaxed);
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

    fn cpus(list: &[usize]) -> CpuSet {
        let mut set = CpuSet::new();
        for &c in list {
            set.set(c).expect("a CPU index in range");
        }
        set
    }

    fn worker(workers: &Arc<Workers>, index: usize, t0: Instant) -> Me {
        Me {
            workers: workers.clone(),
            index,
            last_check: t0,
            strikes: 0,
            last_move: None,
            cooldown: MIN_COOLDOWN,
        }
    }

    /// Worker 0 woke on `cpu` at `now`.
    fn first_woke(workers: &Workers, cpu: u32, now: Instant) {
        workers.slots[0].cpu.store(cpu, Ordering::Relaxed);
        workers.slots[0]
            .woke_us
            .store(workers.since_epoch(now), Ordering::Relaxed);
    }

    /// Worker 1 found on worker 0's CPU at two looks in a row moves to the free CPU, not to
    /// a CPU outside its set, nor to one another worker uses.
    #[test]
    fn a_stacked_worker_moves_to_a_free_cpu_of_its_set() {
        let workers = Workers::new(3).expect("three workers");
        let t0 = Instant::now();
        let mut me = worker(&workers, 1, t0);
        // Worker 2 uses CPU 1; CPUs 1, 2 and 3 are allowed, 0 is where 0 and 1 are.
        workers.slots[2].cpu.store(1, Ordering::Relaxed);
        let allowed = || Some(cpus(&[0, 1, 3]));
        for ms in [5, 10] {
            let now = t0 + Duration::from_millis(ms);
            first_woke(&workers, 0, now);
            workers.slots[2]
                .woke_us
                .store(workers.since_epoch(now), Ordering::Relaxed);
            let to = me.look(now, 0, allowed).map(|(cpu, _)| cpu);
            assert_eq!(to, if ms == 5 { None } else { Some(3) }, "at {ms} ms");
        }
    }

    /// The lower of two stacked workers stays, and so does a worker whose sibling has not
    /// woken for longer than RECENT.
    #[test]
    fn the_lower_worker_and_a_worker_beside_an_idle_one_stay() {
        let workers = Workers::new(2).expect("two workers");
        let t0 = Instant::now();
        let mut low = worker(&workers, 0, t0);
        workers.slots[1].cpu.store(0, Ordering::Relaxed);
        for ms in [5, 10, 15] {
            let now = t0 + Duration::from_millis(ms);
            workers.slots[1]
                .woke_us
                .store(workers.since_epoch(now), Ordering::Relaxed);
            assert_eq!(low.look(now, 0, || Some(cpus(&[0, 1]))), None);
        }
        let mut high = worker(&workers, 1, t0);
        first_woke(&workers, 0, t0);
        for ms in [25, 30, 35] {
            let now = t0 + Duration::from_millis(ms);
            assert_eq!(
                high.look(now, 0, || Some(cpus(&[0, 1]))),
                None,
                "at {ms} ms"
            );
        }
    }

    /// More workers than CPUs: no CPU is free, nobody moves.
    #[test]
    fn no_free_cpu_no_move() {
        let workers = Workers::new(3).expect("three workers");
        let t0 = Instant::now();
        let mut me = worker(&workers, 2, t0);
        for ms in [5, 10, 15] {
            let now = t0 + Duration::from_millis(ms);
            first_woke(&workers, 0, now);
            workers.slots[1].cpu.store(1, Ordering::Relaxed);
            workers.slots[1]
                .woke_us
                .store(workers.since_epoch(now), Ordering::Relaxed);
            assert_eq!(me.look(now, 0, || Some(cpus(&[0, 1]))), None);
        }
    }

    /// A worker stacked again right after a move waits out its cooldown; a move soon after
    /// the previous one doubles it, a quiet spell brings it back to the least.
    #[test]
    fn moves_back_to_back_are_spaced_out() {
        let workers = Workers::new(2).expect("two workers");
        let t0 = Instant::now();
        let mut me = worker(&workers, 1, t0);
        // Always stacked: worker 0 is wherever worker 1 is at each look.
        let mut look = |ms: u64| {
            let now = t0 + Duration::from_millis(ms);
            first_woke(&workers, 0, now);
            let moved = me.look(now, 0, || Some(cpus(&[0, 1]))).is_some();
            if moved {
                me.moved(now, 1);
            }
            (moved, me.cooldown)
        };
        let ten = MIN_COOLDOWN;
        assert!(!look(5).0, "one strike");
        assert_eq!(look(10), (true, ten), "two strikes: moved");
        look(15);
        assert_eq!(
            look(20),
            (true, ten * 2),
            "10 ms after: moved, the cooldown doubled"
        );
        look(25);
        assert!(!look(30).0, "10 ms after, under the 20 ms cooldown: stays");
        look(35);
        assert_eq!(
            look(40),
            (true, ten * 4),
            "20 ms after: moved, doubled again"
        );
        look(200);
        assert_eq!(
            look(205),
            (true, ten),
            "after a quiet spell: moved, back to 10 ms"
        );
    }

    /// A real move: the thread runs on the CPU it asked for and gets its whole set back.
    #[test]
    fn move_to_gives_the_set_back() {
        let Ok(allowed) = nix::sched::sched_getaffinity(Pid::from_raw(0)) else {
            return;
        };
        let Some(target) = allowed_cpus(&allowed).nth(1) else {
            eprintln!("skipped: one CPU allowed");
            return;
        };
        assert!(move_to(target, &allowed));
        let after = nix::sched::sched_getaffinity(Pid::from_raw(0)).expect("affinity");
        assert_eq!(
            allowed_cpus(&after).collect::<Vec<_>>(),
            allowed_cpus(&allowed).collect::<Vec<_>>()
        );
    }
}
