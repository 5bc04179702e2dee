//! Short scheduler turns for the serving threads.
//!
//! A request crosses a serving thread twice (client to server, then back). On a host where
//! those threads share the CPUs with other busy programs (here a client and an origin; in
//! production sidecars, log shippers, other services), a worker woken by a packet waits until
//! the running task's turn ends, and with Linux's default turn of several hundred microseconds
//! those waits make the latency tail. Since Linux 6.12, the EEVDF scheduler lets a thread of the
//! normal policy ask for a shorter turn (`sched_runtime` of `sched_setattr`, 0.1 to 100 ms):
//! its share of the CPU does not change (that is its weight, i.e. its nice value), but its
//! deadlines come sooner, so once woken it runs sooner, and it gives the CPU back sooner. A
//! serving thread's work per wake-up is short, so it loses nothing by it.
//!
//! Each serving thread asks for [`DEFAULT_SLICE_US`] as it starts. Kernels before 6.12 ignore
//! the field for the normal policy. A thread the operator put under another policy (real time
//! with `chrt`, deadline) is left alone, and its nice value is kept. `HAPEE_SCHED_SLICE_US`
//! in the environment sets the turn in microseconds; 0 leaves the kernel's default.
//! Measured: README, "nbthread 2: short scheduler turns for the serving threads".

/// The turn asked for, in microseconds: the shortest the kernel grants.
pub const DEFAULT_SLICE_US: u64 = 100;

/// The turn this process's serving threads ask for, from the environment or the default;
/// `None` when turned off.
pub fn configured() -> Option<u64> {
    slice_from(std::env::var("HAPEE_SCHED_SLICE_US").ok().as_deref())
}

/// The turn given by the environment variable's value: the default when unset or not a
/// number, `None` for 0.
fn slice_from(value: Option<&str>) -> Option<u64> {
    let us = value
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_SLICE_US);
    (us > 0).then_some(us)
}

/// Asks the kernel for turns of `us` microseconds for the calling thread. Returns whether the
/// request was made (the thread runs under a fair policy and the calls succeeded); the kernel
/// clamps the value to what it allows.
pub fn ask_for_current_thread(us: u64) -> bool {
    let Some(mut attr) = attr_of(0) else {
        return false;
    };
    if !matches!(
        attr.sched_policy as i32,
        libc::SCHED_OTHER | libc::SCHED_BATCH
    ) {
        return false;
    }
    attr.size = std::mem::size_of::<libc::sched_attr>() as u32;
    // Keep reset-on-fork as the operator set it; no other flag is asked for.
    attr.sched_flags &= libc::SCHED_FLAG_RESET_ON_FORK as u64;
    attr.sched_runtime = us.saturating_mul(1_000);
    attr.sched_deadline = 0;
    attr.sched_period = 0;
    // SAFETY: `attr` is a fully initialised `libc::sched_attr` that outlives the call, and its
    // `size` field is its exact size, so the kernel reads only that many bytes from it. Thread
    // id 0 names the calling thread. The call has no other memory effect.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        )
    };
    rc == 0
}

/// The scheduling attributes (policy, nice, priority, turn) of thread `tid`, 0 for the calling
/// thread.
fn attr_of(tid: libc::pid_t) -> Option<libc::sched_attr> {
    // SAFETY: `sched_attr` is a plain C struct of integers, for which all zero bytes is a
    // valid value.
    let mut attr: libc::sched_attr = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::sched_attr>() as u32;
    // SAFETY: the pointer is to a live, writable `sched_attr` of `size` bytes, and `size` is
    // passed so the kernel writes at most that many bytes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            tid,
            &mut attr as *mut libc::sched_attr,
            size,
            0,
        )
    };
    (rc == 0).then_some(attr)
}

/// Thread `tid`'s turn in nanoseconds as the kernel reports it (0 for the calling thread):
/// the one asked for, else the default turn from Linux 6.12, 0 before.
pub fn slice_ns_of(tid: libc::pid_t) -> Option<u64> {
    attr_of(tid).map(|a| a.sched_runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_gets_the_turn_it_asks_for_and_keeps_its_nice_value() {
        std::thread::spawn(|| {
            // SAFETY: setpriority on the calling thread (who = 0 with PRIO_PROCESS names the
            // calling thread on Linux) only changes its nice value.
            let niced = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 5) } == 0;
            let before = attr_of(0).expect("sched_getattr works on Linux");
            assert!(ask_for_current_thread(300));
            let after = attr_of(0).expect("sched_getattr works on Linux");
            assert_eq!(after.sched_policy, before.sched_policy);
            if niced {
                assert_eq!(after.sched_nice, 5, "the nice value is kept");
            }
            // Kernels before 6.12 accept the call and ignore the turn for the normal policy.
            let granted = slice_ns_of(0).unwrap();
            assert!(
                granted == 300_000 || granted == 0,
                "turn {granted} ns, asked for 300 µs"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_environment_sets_or_turns_off_the_turn() {
        assert_eq!(slice_from(None), Some(DEFAULT_SLICE_US));
        assert_eq!(slice_from(Some("250")), Some(250));
        assert_eq!(slice_from(Some(" 0 ")), None);
        assert_eq!(slice_from(Some("soon")), Some(DEFAULT_SLICE_US));
    }
}
