//! The serving threads ask the kernel for short scheduler turns (`hapee_runtime::sched_slice`):
//! read back from the running process's threads with `sched_getattr`.

use super::harness::{curl, free_port, Origin, Proxy};
use hapee_runtime::sched_slice::{ask_for_current_thread, slice_ns_of, DEFAULT_SLICE_US};

/// Whether this kernel keeps a turn asked for by a thread of the normal policy (Linux 6.12 and
/// later): tried on a thread of the test's own.
fn kernel_keeps_turns() -> bool {
    std::thread::spawn(|| ask_for_current_thread(150) && slice_ns_of(0) == Some(150_000))
        .join()
        .unwrap()
}

/// The process's threads as (name, thread id).
fn threads(pid: u32) -> Vec<(String, libc::pid_t)> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            Some((comm.trim().to_string(), tid))
        })
        .collect()
}

#[test]
fn serving_threads_run_with_short_turns() {
    let origin = Origin::start("slice");
    let port = free_port();
    let cfg = format!(
        "global
    nbthread 2
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s {}
",
        origin.addr
    );
    let proxy = Proxy::start(&cfg, port);
    let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(status, 200, "{body}");
    let all = threads(proxy.child.id());
    let workers: Vec<_> = all
        .iter()
        .filter(|(name, _)| name.starts_with("hapee-worker"))
        .collect();
    assert_eq!(workers.len(), 2, "{all:?}");
    if !kernel_keeps_turns() {
        eprintln!("this kernel ignores the turn of a normal-policy thread: nothing to read back");
        return;
    }
    for (name, tid) in &workers {
        assert_eq!(
            slice_ns_of(*tid),
            Some(DEFAULT_SLICE_US * 1_000),
            "{name} ({tid})"
        );
    }
    let main = all.iter().find(|(_, tid)| *tid as u32 == proxy.child.id());
    let (_, main_tid) = main.expect("the main thread");
    assert_ne!(
        slice_ns_of(*main_tid),
        Some(DEFAULT_SLICE_US * 1_000),
        "only the serving threads ask"
    );
}
