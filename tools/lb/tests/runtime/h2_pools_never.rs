//! `http-reuse never` with an HTTP/2 server, side by side with Debian's haproxy: a new
//! connection is its client session's for its whole life, as HAProxy keeps it in the
//! session's list. The session's later requests, and the other streams of an HTTP/2 client,
//! go on it; other sessions never do; it closes with its session. It never enters the idle
//! pool, and counts among the server's connections in use only while it is being
//! established. So does an HTTP/1 one.

use super::h2_pools::{both_h2_driven, one_session_two_streams, pool_columns, Session};
use super::h2_servers::OriginCounts;
use super::harness::{free_port, wait_until, Haproxy, Origin, Proxy};
use super::idle_pools::config;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Session A's three requests one after the other; then B's two while A stays open; then A's
/// and B's at once; then both close; then an HTTP/2 client's two overlapping streams. After
/// each step: the connections the origin accepted and the pool columns of `show servers
/// conn` (used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr).
fn sessions_under_never(ports: [u16; 3], conns: &OriginCounts) -> Vec<(usize, String)> {
    let mut seen = Vec::new();
    let note = |seen: &mut Vec<(usize, String)>| {
        std::thread::sleep(Duration::from_millis(150));
        seen.push((conns.load(Ordering::SeqCst), pool_columns(ports[2])));
    };
    let mut a = Session::open(ports[0]);
    for _ in 0..3 {
        a.send("/");
        a.expect_ok();
    }
    note(&mut seen);
    let mut b = Session::open(ports[0]);
    for _ in 0..2 {
        b.send("/");
        b.expect_ok();
    }
    note(&mut seen);
    a.send("/slow/400");
    std::thread::sleep(Duration::from_millis(100));
    b.send("/slow/100");
    b.expect_ok();
    a.expect_ok();
    note(&mut seen);
    drop((a, b));
    note(&mut seen);
    one_session_two_streams(ports, conns);
    note(&mut seen);
    seen
}

fn step(conns: usize, pool: &str) -> (usize, String) {
    (conns, pool.to_string())
}

#[test]
fn under_http_reuse_never_an_h2_connection_stays_with_its_session() {
    let runs = both_h2_driven("", "never", "", &sessions_under_never);
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
    assert_eq!(
        runs[0],
        [
            // A's three requests on one connection, never idle in the pool, nor counted in
            // use once it is the session's (it was, while it was being established).
            step(1, "0 1 1 0 0 -1 0 0 0"),
            // B opens its own.
            step(2, "0 1 1 0 0 -1 0 0 0"),
            // A's and B's at once: each on its own, no new one.
            step(2, "0 1 1 0 0 -1 0 0 0"),
            // Both sessions over, their connections closed.
            step(2, "0 1 1 0 0 -1 0 0 0"),
            // An HTTP/2 client's second stream joins its session's connection.
            step(3, "0 1 1 0 0 -1 0 0 0"),
        ]
    );
}

/// Through `start`'s proxy to an HTTP/1.1 origin under `http-reuse never`: A's two requests,
/// then B's two while A stays open, then both close; after each step the connections the
/// origin accepted and the pool columns.
fn h1_sessions_under_never(
    start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>,
) -> Vec<(usize, String)> {
    let origin = Origin::start("o");
    let ports = [free_port(), free_port(), free_port()];
    let cfg = config(ports, origin.addr, "", "").replace("http-reuse always", "http-reuse never");
    let _proxy = start(&cfg, ports[0]);
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", ports[1])).is_ok()
    }));
    let mut seen = Vec::new();
    let note = |seen: &mut Vec<(usize, String)>| {
        std::thread::sleep(Duration::from_millis(150));
        seen.push((origin.conns.load(Ordering::SeqCst), pool_columns(ports[2])));
    };
    let requests = |session: &mut Session| {
        for _ in 0..2 {
            session.send("/");
            let (status, body) = session.read();
            assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
        }
    };
    let mut a = Session::open(ports[0]);
    requests(&mut a);
    note(&mut seen);
    let mut b = Session::open(ports[0]);
    requests(&mut b);
    note(&mut seen);
    drop((a, b));
    note(&mut seen);
    seen
}

#[test]
fn under_http_reuse_never_a_private_http1_connection_is_not_counted_in_use() {
    let mine = h1_sessions_under_never(&|cfg, port| Box::new(Proxy::start(cfg, port)));
    if Haproxy::installed() {
        let theirs = h1_sessions_under_never(&|cfg, port| Box::new(Haproxy::start(cfg, port)));
        assert_eq!(mine, theirs, "haproxy differs");
    }
    let private = "0 1 1 0 0 -1 0 0 0";
    assert_eq!(mine, [step(1, private), step(2, private), step(2, private)]);
}
