//! A request that ends while it waits for a server's slot, logged as HAProxy 2.7.0 logs it:
//! when its server was picked by a balancing algorithm that passes full servers over, HAProxy
//! holds it in the backend's queue with no server yet (`<NOSRV>`); when a rule (`use-server`)
//! or a hash chose the server, in that server's queue (the server is named). Either way the
//! time it waited is its `Tw`, whether the client went (`CQ`) or `timeout queue` struck (`sQ`).

use crate::api::ask;
use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn socket_of(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("hapee-cq-{}-{port}.sock", std::process::id()))
}

fn config(port: u16, backend: &str, queue: &str, server: SocketAddr) -> String {
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
        format!("{} {}", f[5], f[9]),
    )
}

#[test]
fn a_request_that_ends_in_the_queue_names_its_server_as_haproxy_27_does() {
    let cases = [
        ("", "5s", true, ("app/<NOSRV>", "-1 CQ--")),
        (
            "    use-server s1 if TRUE\n",
            "5s",
            true,
            ("app/s1", "-1 CQ--"),
        ),
        ("    balance uri\n", "5s", true, ("app/s1", "-1 CQ--")),
        ("", "200ms", false, ("app/<NOSRV>", "503 sQ--")),
    ];
    for (backend, queue, leave, (server, ending)) in cases {
        // Each request answered 1.5 s after it came.
        let (addr, got) = crate::abort_on_close::counting_server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            Duration::from_millis(1500),
        );
        let cfg = |port: u16| config(port, backend, queue, addr);
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
