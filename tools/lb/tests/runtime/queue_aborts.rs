//! A request that ends while it waits for a server's slot, logged as HAProxy 2.7.0 logs it:
//! when its server was picked by a balancing algorithm that passes full servers over, HAProxy
//! holds it in the backend's queue with no server yet (`<NOSRV>`); when a rule (`use-server`)
//! or a hash chose the server, in that server's queue (the server is named). Either way the
//! time it waited is its `Tw`, whether the client went (`CQ`) or `timeout queue` struck (`sQ`).

use crate::api::ask;
use crate::harness::*;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn socket_name(port: u16) -> String {
    format!("hapee-cq-{}-{port}.sock", std::process::id())
}

fn socket_of(port: u16) -> PathBuf {
    std::env::temp_dir().join(socket_name(port))
}

/// The configuration of the proxy on `port`; the guard of its admin socket joins `sockets`,
/// which the test keeps until both sides are done.
fn config(
    port: u16,
    backend: &str,
    queue: &str,
    server: SocketAddr,
    sockets: &RefCell<Vec<Scratch>>,
) -> String {
    sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
    format!(
        "global
    nbthread 1
    log stdout format raw local0
    stats socket {} level admin
defaults
    mode http
    log global
    option httplog
    option abortonclose
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue {queue}
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
{backend}    server s1 {server} maxconn 1
",
        socket_of(port).display()
    )
}

fn send(port: u16, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    s
}

/// Requests waiting in `app`'s queues (the server's and the backend's rows of `show stat`).
fn queued(port: u16) -> u64 {
    ask(&socket_of(port), "show stat\n")
        .lines()
        .filter(|l| l.starts_with("app,s1,") || l.starts_with("app,BACKEND,"))
        .filter_map(|l| l.split(',').nth(2)?.parse::<u64>().ok())
        .sum()
}

/// One request holds the only slot; a second one waits, and its client leaves after 300 ms
/// (`leave`) or stays until `timeout queue` answers it.
fn drive(port: u16, got: &AtomicUsize, leave: bool) {
    let before = got.load(Ordering::SeqCst);
    let mut holder = send(port, "/holder");
    assert!(wait_until(Duration::from_secs(10), || got
        .load(Ordering::SeqCst)
        > before));
    let mut waiting = send(port, "/waiting");
    assert!(wait_until(Duration::from_secs(10), || queued(port) > 0));
    if leave {
        std::thread::sleep(Duration::from_millis(300));
        drop(waiting);
    } else {
        let _ = waiting.read_to_end(&mut Vec::new());
    }
    let _ = holder.read_to_end(&mut Vec::new());
}

/// The waiting request's log line: server, `Tw`, status and termination state, and whether
/// `Tw` is a time (not -1).
fn waiting_line(log: &str) -> (String, bool, String) {
    let line = log
        .lines()
        .find(|l| l.contains("GET /waiting"))
        .unwrap_or_else(|| panic!("no log line for /waiting in {log}"));
    let f: Vec<&str> = line.split(' ').collect();
    let tw = f[4].split('/').nth(1).unwrap_or("-1");
    (
        f[3].to_string(),
        tw.parse::<i64>().is_ok_and(|t| t >= 0),
        format!("{} {} {}", f[5], f[9], f[11]),
    )
}

#[test]
fn a_request_that_ends_in_the_queue_names_its_server_as_haproxy_27_does() {
    let cases = [
        ("", "5s", true, ("app/<NOSRV>", "-1 CQ-- 0/1")),
        (
            "    use-server s1 if TRUE\n",
            "5s",
            true,
            ("app/s1", "-1 CQ-- 1/0"),
        ),
        ("    balance uri\n", "5s", true, ("app/s1", "-1 CQ-- 1/0")),
        ("", "200ms", false, ("app/<NOSRV>", "503 sQ-- 0/1")),
    ];
    let sockets = RefCell::new(Vec::new());
    for (backend, queue, leave, (server, ending)) in cases {
        // Each request answered 1.5 s after it came.
        let (addr, got) = crate::abort_on_close::counting_server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            Duration::from_millis(1500),
        );
        let cfg = |port: u16| config(port, backend, queue, addr, &sockets);
        let port = free_port();
        let proxy = Proxy::start(&cfg(port), port);
        drive(port, &got, leave);
        let ours = waiting_line(&proxy.stdout_when(|l| l.contains("GET /waiting")));
        drop(proxy);
        assert_eq!(
            ours,
            (server.to_string(), true, ending.to_string()),
            "{backend}"
        );
        if let Some((_, log)) = with_haproxy_27(cfg, |port| {
            drive(port, &got, leave);
            // Its line is written as the request ends, before the holder's answer.
        }) {
            assert_eq!(waiting_line(&log), ours, "{backend}\n{log}");
        }
    }
}

/// A server that answers every request at once but `/holder`, which it answers once
/// `release` is set: the test decides when the queue starts moving.
fn held_server() -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let (counted, released) = (got.clone(), release.clone());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let (counted, released) = (counted.clone(), released.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                counted.fetch_add(1, Ordering::SeqCst);
                if buf[..n].windows(7).any(|w| w == b"/holder") {
                    wait_until(Duration::from_secs(30), || released.load(Ordering::SeqCst));
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    (addr, got, release)
}

/// Requests waiting for `app`'s server: the larger of its server's and backend's rows of
/// `show stat` (hapee counts each waiting request in both, HAProxy in the queue it is in).
fn backend_queued(port: u16) -> u64 {
    ask(&socket_of(port), "show stat\n")
        .lines()
        .filter(|l| l.starts_with("app,s1,") || l.starts_with("app,BACKEND,"))
        .filter_map(|l| l.split(',').nth(2)?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// `%sq`/`%bq` as HAProxy logs them: a queued request's position in the queue it waited in
/// (its server's when a rule chose the server, else the backend's) is the number of requests
/// that queue served while it waited, itself included; a client that leaves is not served
/// and moves nobody. One request holds the slot while three queue behind it and the second
/// leaves; then the slot frees.
#[test]
fn queue_positions_count_the_requests_served_while_waiting_as_haproxy_does() {
    for (backend, expected) in [
        ("", ["0/0", "0/1", "0/1", "0/2"]),
        ("    use-server s1 if TRUE\n", ["0/0", "1/0", "1/0", "2/0"]),
    ] {
        let sockets = RefCell::new(Vec::new());
        let fixture = held_server;
        let drive = |port: u16,
                     (_, got, release): &(SocketAddr, Arc<AtomicUsize>, Arc<AtomicBool>),
                     side: &Side| {
            let holder = send(port, "/holder");
            assert!(wait_until(Duration::from_secs(10), || got
                .load(Ordering::SeqCst)
                == 1));
            let stay1 = send(port, "/stay1");
            assert!(wait_until(Duration::from_secs(10), || backend_queued(port) == 1));
            let leave2 = send(port, "/leave2");
            assert!(wait_until(Duration::from_secs(10), || backend_queued(port) == 2));
            drop(leave2);
            assert!(wait_until(Duration::from_secs(10), || backend_queued(port) == 1));
            let stay3 = send(port, "/stay3");
            assert!(wait_until(Duration::from_secs(10), || backend_queued(port) == 2));
            release.store(true, Ordering::SeqCst);
            for mut s in [holder, stay1, stay3] {
                let _ = s.read_to_end(&mut Vec::new());
            }
            let paths = ["/holder", "/stay1", "/leave2", "/stay3"];
            let log = side.stdout_when(|l| paths.iter().all(|p| l.contains(&format!("GET {p} "))));
            paths.map(|p| {
                let line = log
                    .lines()
                    .find(|l| l.contains(&format!("GET {p} ")))
                    .unwrap_or("");
                line.split(' ').nth(11).unwrap_or("").to_string()
            })
        };
        let (mine, theirs) = both_sides(
            1,
            fixture,
            |port, (addr, _, _)| config(port, backend, "10s", *addr, &sockets),
            drive,
        );
        assert_eq!(mine, expected.map(String::from), "{backend}");
        if let Some(theirs) = theirs {
            assert_eq!(theirs, mine, "{backend}");
        }
    }
}
