//! HTTP/2 to TLS servers shared under `http-reuse`, side by side with Debian's haproxy, with
//! origins that count the connections they accept:
//!
//! - When HTTP/2 is chosen by ALPN in the TLS handshake (`ssl alpn h2`) rather than set by
//!   `proto h2`, a new connection is settled after the point where HAProxy hands it to its
//!   session: under `safe` an HTTP/2 client's second stream does not join it (it does over
//!   `proto h2`: `h2_pools`), under `never` and `always` it does.
//! - A `proto h2` connection is offered while it is still being established (the origin here
//!   is slow to answer handshakes): under `always` the thread's requests wait on it rather
//!   than dial their own; a session's own connection (`safe`) is handed to its other streams
//!   only once established; one that ALPN settles is offered only then. If it fails, each
//!   waiting request retries on its own.

use super::h2_pools::{both_driven, idle_after, one_session_streams, round, Second};
use super::h2_servers::{H2Origin, OriginCounts, OriginTls};
use super::harness::curl;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A TLS origin whose handshakes begin `delay` after the connection, the first `fail`
/// connections closed instead.
fn tls_origin(delay: u64, fail: usize) -> impl Fn() -> H2Origin {
    move || {
        H2Origin::start_tls(OriginTls {
            delay: Duration::from_millis(delay),
            fail,
        })
    }
}

/// `drive` through hapee and haproxy (when installed), which must agree; hapee's result.
fn agreed<T: PartialEq + std::fmt::Debug + Clone>(
    origin: &dyn Fn() -> H2Origin,
    reuse: &str,
    server: &str,
    drive: &dyn Fn([u16; 3], &OriginCounts) -> T,
) -> T {
    let runs = both_driven(origin, "", reuse, server, drive);
    if let Some(theirs) = runs.get(1) {
        assert_eq!(
            &runs[0], theirs,
            "haproxy differs under {reuse} with {server}"
        );
    }
    runs[0].clone()
}

/// One HTTP/2 client's two streams, the second sent when `second` says.
fn streams(second: Second) -> impl Fn([u16; 3], &OriginCounts) -> (usize, String) {
    move |ports, conns| one_session_streams(ports, conns, second)
}

#[test]
fn an_h2_connection_chosen_by_alpn_joins_no_session_under_http_reuse_safe() {
    let origin = tls_origin(0, 0);
    let server = "ssl verify none alpn h2";
    let mut seen = Vec::new();
    for reuse in ["safe", "never", "always", "aggressive"] {
        seen.push(agreed(
            &origin,
            reuse,
            server,
            &streams(Second::OnceRequested),
        ));
    }
    assert_eq!(
        seen,
        [
            // `safe`: the second stream opens a second connection (over `proto h2` it joins
            // the first: `h2_pools`).
            round(2, "0 2 -1 2 2 0"),
            // `never`: the session's own; `always`: the thread's.
            round(1, "0 0 -1 0 0 0"),
            round(1, "0 1 -1 1 1 0"),
            // `aggressive`: its opener's only, whatever settled the protocol.
            round(2, "0 2 -1 2 2 0"),
        ]
    );
}

/// Three client sessions on thread 1 sending their first request at once: each one's status,
/// the connections the origin accepted, and the idle columns once they settle.
fn three_sessions_at_once(ports: [u16; 3], conns: &OriginCounts) -> (Vec<u16>, usize, String) {
    let port = ports[0];
    let clients: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/")])))
        .collect();
    let statuses = clients.into_iter().map(|c| c.join().unwrap().0).collect();
    let idle = idle_after(ports[2]);
    (statuses, conns.load(Ordering::SeqCst), idle)
}

#[test]
fn under_http_reuse_always_requests_wait_on_the_h2_connection_being_established() {
    // The origin takes 400 ms to begin each handshake: the three requests arrive while the
    // first connection is being established.
    let slow = tls_origin(400, 0);
    let ok = vec![200, 200, 200];
    let always = agreed(
        &slow,
        "always",
        "ssl verify none proto h2",
        &three_sessions_at_once,
    );
    assert_eq!(always, (ok.clone(), 1, "0 1 -1 1 1 0".to_string()));
    // Over ALPN the protocol is not known before the handshake: each dials. (Which of the
    // three stay idle after depends on when each stream ended: only counts are compared.)
    let counted = |ports: [u16; 3], conns: &OriginCounts| {
        let (statuses, conns, _) = three_sessions_at_once(ports, conns);
        (statuses, conns)
    };
    let alpn = agreed(&slow, "always", "ssl verify none alpn h2", &counted);
    assert_eq!(alpn, (ok.clone(), 3));
    // `safe`: three sessions, three connections.
    let safe = agreed(&slow, "safe", "ssl verify none proto h2", &counted);
    assert_eq!(safe, (ok, 3));
    // One HTTP/2 client's two streams, the second sent while the first's connection is being
    // established: under `always` it waits on that connection; under `safe` the session's
    // connection takes it only once established, so it dials its own.
    let server = "ssl verify none proto h2";
    let early = streams(Second::OnceConnected);
    assert_eq!(agreed(&slow, "always", server, &early).0, 1);
    assert_eq!(agreed(&slow, "safe", server, &early).0, 2);
}

#[test]
fn if_the_h2_connection_being_established_fails_each_waiting_request_retries() {
    // The first connection is closed after 300 ms: the three requests waiting on it each
    // count a failed attempt and retry; the first retry dials, the others wait on it.
    let failing = tls_origin(300, 1);
    let seen = agreed(
        &failing,
        "always",
        "ssl verify none proto h2",
        &three_sessions_at_once,
    );
    assert_eq!(seen, (vec![200, 200, 200], 2, "0 1 -1 1 1 0".to_string()));
}
