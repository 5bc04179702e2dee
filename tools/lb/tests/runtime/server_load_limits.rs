//! Limits on how much one server takes, side by side with Debian's haproxy:
//! `hash-balance-factor` (consistent hashing with bounded loads: a server already serving its
//! share of the load is passed over for the next one on the ring) and `max-keep-alive-queue`
//! (a kept-alive client leaves the server of its connection when that server's queue is too
//! long).

use super::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// The origin names answering `count` requests for the same slow URI, each sent on a
/// connection of its own a little after the one before, so that each is balanced while the
/// earlier ones are still being served.
fn names_of_overlapping(port: u16, backend: &str, count: usize) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}/slow/1500?be={backend}");
    let clients: Vec<_> = (0..count)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 200 }));
            let url = url.clone();
            std::thread::spawn(move || curl(&["--max-time", "10", &url]).1)
        })
        .collect();
    clients
        .into_iter()
        .map(|c| {
            let body = c.join().unwrap();
            body.lines()
                .find_map(|l| l.strip_prefix("name="))
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

/// `hash-balance-factor 150` with two servers: the hash sends every request for one URI to
/// the same server until it serves more than its share (150% of the average, counted as
/// HAProxy counts it), then the next server on the ring takes them. Without it, all of them
/// go to the one server.
#[test]
fn hash_balance_factor_bounds_a_servers_share_of_one_key() {
    let fixture = || (Origin::start("a"), Origin::start("b"));
    let cfg = |port: u16, (a, b): &(Origin, Origin)| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    use_backend bounded if {{ url_param(be) -m str bounded }}
    default_backend unbounded
backend bounded
    balance uri
    hash-type consistent
    hash-balance-factor 150
    server a {a}
    server b {b}
backend unbounded
    balance uri
    hash-type consistent
    server a {a}
    server b {b}
",
            a = a.addr,
            b = b.addr
        )
    };
    let (mine, theirs) = both_with(fixture, cfg, |port, _| {
        (
            names_of_overlapping(port, "bounded", 4),
            names_of_overlapping(port, "unbounded", 4),
        )
    });
    let (bounded, unbounded) = &mine;
    assert!(
        bounded.contains(&"a".to_string()) && bounded.contains(&"b".to_string()),
        "{bounded:?}"
    );
    assert!(
        unbounded.iter().all(|n| n == &unbounded[0]),
        "{unbounded:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Sends a GET for `path` on `conn` and answers the origin name in its response.
fn origin_on(conn: &mut TcpStream, path: &str) -> String {
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // The origin's bodies end with the body line it echoes.
    while !String::from_utf8_lossy(&got).contains("body=") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("name="))
        .unwrap_or("?")
        .to_string()
}

/// `max-keep-alive-queue 0` with `option prefer-last-server`: a kept-alive client's next
/// request goes to another server rather than wait in its own server's queue; by default
/// (`-1`) it waits for that server.
#[test]
fn max_keep_alive_queue_sends_a_kept_alive_client_elsewhere() {
    let fixture = || (Origin::start("a"), Origin::start("b"));
    let cfg = |port: u16, (a, b): &(Origin, Origin)| {
        let backend = |name: &str, limit: &str| {
            format!(
                "backend {name}
    option prefer-last-server
    http-reuse never
    timeout queue 5s
    {limit}
    use-server a if {{ path_beg /slow/ }}
    server a {} maxconn 1
    server b {} maxconn 1
",
                a.addr, b.addr
            )
        };
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    use_backend never_queue if {{ url_param(be) -m str never_queue }}
    default_backend waits
{}{}",
            backend("never_queue", "max-keep-alive-queue 0"),
            backend("waits", "")
        )
    };
    let run = |port: u16, a: &Origin, backend: &str| {
        let mut kept = connect(("127.0.0.1", port));
        kept.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let first = origin_on(&mut kept, &format!("/x?be={backend}"));
        // Another client takes server a's only slot for a while.
        let url = format!("http://127.0.0.1:{port}/slow/1500?be={backend}");
        let before = a.slow.load(SeqCst);
        let busy = std::thread::spawn(move || curl(&["--max-time", "10", &url]).1);
        let taken = wait_until(Duration::from_secs(10), || a.slow.load(SeqCst) > before);
        assert!(taken, "the slow request never reached server a");
        let second = origin_on(&mut kept, &format!("/y?be={backend}"));
        let _ = busy.join();
        (first, second)
    };
    let (mine, theirs) = both_with(fixture, cfg, |port, (a, _)| {
        (run(port, a, "never_queue"), run(port, a, "waits"))
    });
    assert_eq!(
        mine,
        (
            ("a".to_string(), "b".to_string()),
            ("a".to_string(), "a".to_string())
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
