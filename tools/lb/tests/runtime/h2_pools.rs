//! How server connections are kept and shared, side by side with Debian's haproxy: an
//! HTTP/2 server connection left idle by one thread serves the other thread of its group
//! (and, with `http-reuse safe`, a session's first request opens its own), and after a burst
//! the idle connections are purged down to what the server was seen to need, every
//! `pool-purge-delay`. The origins count the connections they accept; `show servers conn`
//! shows the pool's counts.

use super::h2_servers::H2Origin;
use super::harness::{curl, free_port, wait_until, Haproxy, Origin, Proxy};
use super::idle_pools::{ask, config, idle_columns};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests through threads 1, 2, 1, 2, one client connection each: the connections the
/// origin accepted, then the idle columns after each request.
fn drive(ports: [u16; 3], conns: &AtomicUsize) -> (usize, Vec<String>) {
    let mut seen = Vec::new();
    for port in [ports[0], ports[1], ports[0], ports[1]] {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("version=HTTP/2.0"), "{body}");
        // The connection is idle once its stream is over (unless it is used up).
        wait_until(Duration::from_millis(500), || {
            !idle_columns(ports[2]).ends_with(" 0 0 0")
        });
        std::thread::sleep(Duration::from_millis(50));
        seen.push(idle_columns(ports[2]));
    }
    (conns.load(Ordering::SeqCst), seen)
}

/// hapee and, when installed, haproxy in front of an HTTP/2 origin of their own, with
/// `http-reuse` set to `reuse` and `server` ending the server line.
fn both_h2(global: &str, reuse: &str, server: &str) -> Vec<(usize, Vec<String>)> {
    let mut results = Vec::new();
    let run = |start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>| {
        let origin = H2Origin::start();
        let ports = [free_port(), free_port(), free_port()];
        let cfg = config(ports, origin.addr, global, &format!("proto h2 {server}"))
            .replace("http-reuse always", &format!("http-reuse {reuse}"));
        let _proxy = start(&cfg, ports[0]);
        assert!(wait_until(Duration::from_secs(5), || {
            std::net::TcpStream::connect(("127.0.0.1", ports[1])).is_ok()
        }));
        drive(ports, &origin.conns)
    };
    results.push(run(&|cfg, port| Box::new(Proxy::start(cfg, port))));
    if Haproxy::installed() {
        results.push(run(&|cfg, port| Box::new(Haproxy::start(cfg, port))));
    }
    results
}

#[test]
fn an_idle_h2_connection_serves_the_other_thread_of_its_group() {
    let runs = both_h2("", "always", "");
    let (conns, idle) = &runs[0];
    // One connection for the four requests: idle (and safe) between them, it goes to
    // whichever thread needs it.
    assert_eq!(*conns, 1, "{idle:?}");
    assert_eq!(
        idle,
        &[
            "0 1 -1 1 1 0",
            "0 1 -1 1 0 1",
            "0 1 -1 1 1 0",
            "0 1 -1 1 0 1"
        ]
    );
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

#[test]
fn without_shared_pools_or_under_http_reuse_safe_h2_connections_stay_apart() {
    // Each thread keeps to its own connection.
    let runs = both_h2("    tune.idle-pool.shared off", "always", "");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(idle.last().unwrap(), "0 2 -1 2 1 1");
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
    // `http-reuse safe`: a session's first request takes no idle connection; each thread
    // keeps its first one, and a later one above what the server needs closes.
    let runs = both_h2("", "safe", "");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 4, "{idle:?}");
    assert_eq!(idle.last().unwrap(), "0 2 -1 2 1 1");
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

#[test]
fn max_reuse_bounds_the_streams_an_h2_connection_carries_after_its_first() {
    // `max-reuse 1`: two streams each, the second taken on the other thread; a used-up
    // connection is not kept idle.
    let runs = both_h2("", "always", "max-reuse 1");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(
        idle,
        &[
            "0 1 -1 1 1 0",
            "0 0 -1 0 0 0",
            "0 1 -1 1 1 0",
            "0 0 -1 0 0 0"
        ]
    );
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

/// The pool columns of `show servers conn` from `used_cur` on.
fn pool_columns(cli: u16) -> String {
    let out = ask(cli, "show servers conn app");
    let line = out
        .lines()
        .find(|l| l.starts_with("app/s "))
        .unwrap_or_else(|| panic!("no server line in {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    words[6..].join(" ")
}

/// Six requests at once on one thread, then nothing: the pool columns half way through each
/// of the following purge periods (`pool-purge-delay 1s`), and the connections the origin
/// accepted.
fn burst_then_idle(start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>) -> (usize, Vec<String>) {
    let origin = Origin::start("o");
    let ports = [free_port(), free_port(), free_port()];
    let cfg = config(ports, origin.addr, "", "pool-purge-delay 1s")
        .replace("nbthread 2", "nbthread 1")
        .replace(" thread 2", " thread 1");
    let _proxy = start(&cfg, ports[0]);
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", ports[0])).is_ok()
    }));
    let port = ports[0];
    let clients: Vec<_> = (0..6)
        .map(|_| std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/slow/600")])))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap().0, 200);
    }
    let released = Instant::now();
    let mut seen = Vec::new();
    for period in 0..6 {
        let at = released + Duration::from_millis(500 + 1000 * period);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        seen.push(pool_columns(ports[2]));
    }
    (origin.conns.load(Ordering::SeqCst), seen)
}

#[test]
fn after_a_burst_idle_connections_are_purged_down_to_the_estimated_need() {
    let (conns, seen) = burst_then_idle(&|cfg, port| Box::new(Proxy::start(cfg, port)));
    assert_eq!(conns, 6, "{seen:?}");
    // used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr: the
    // estimate holds one period at the peak, then halves; from the third purge half the
    // excess goes (plus one).
    assert_eq!(
        seen,
        [
            "0 6 6 6 0 -1 6 6",
            "0 0 6 6 0 -1 6 6",
            "0 0 3 6 0 -1 6 6",
            "0 0 1 3 0 -1 3 3",
            "0 0 0 1 0 -1 1 1",
            "0 0 0 0 0 -1 0 0",
        ]
    );
    if Haproxy::installed() {
        let theirs = burst_then_idle(&|cfg, port| Box::new(Haproxy::start(cfg, port)));
        assert_eq!((conns, seen), theirs, "haproxy differs");
    }
}
