//! `option abortonclose` as HAProxy 2.7 applies it to a client that ends its side while its
//! request waits for the server's response: the backend's setting with the one the frontend
//! took from `defaults` (a frontend's own line is ignored); the backend's alone only passes the
//! end on to the server, and the frontend's alone does nothing.

use crate::harness::*;
use crate::tcp_logs_lifecycle::assert_same_stable_fields;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A server that reads a request's head, counts it in `got`, and after `delay` sends `reply`
/// (or nothing) and closes.
pub(crate) fn counting_server(
    reply: &'static [u8],
    delay: Duration,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let got = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = got.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let counted = counted.clone();
            std::thread::spawn(move || {
                // The whole head (a reply to part of it, and the close, would reset the
                // connection with the rest unread).
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
                let _ = s.write_all(reply);
            });
        }
    });
    (addr, got)
}

/// A client that shuts its side down once its request is with the server: what it was
/// answered.
fn half_close_once_forwarded(port: u16, got: &AtomicUsize) -> String {
    let before = got.load(Ordering::SeqCst);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let forwarded = wait_until(Duration::from_secs(20), || {
        got.load(Ordering::SeqCst) > before
    });
    assert!(forwarded, "the request never reached the server");
    s.shutdown(Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn config(port: u16, defaults: &str, frontend: &str, backend: &str, server: SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    option httplog
{defaults}frontend fe
    bind 127.0.0.1:{port}
{frontend}    default_backend app
backend app
{backend}    server s1 {server}
"
    )
}

/// The frontend's `option abortonclose` (from `defaults` under a backend that turns it off,
/// or its own, which HAProxy ignores with a warning), or the backend's alone: a client that
/// half-closes is answered.
#[test]
fn abortonclose_on_one_side_only_does_not_abort() {
    let (server, got) = counting_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        Duration::from_millis(500),
    );
    let inherited = |port: u16| {
        config(
            port,
            "    option abortonclose\n",
            "",
            "    no option abortonclose\n",
            server,
        )
    };
    let own = |port: u16| config(port, "", "    option abortonclose\n", "", server);
    let backend = |port: u16| config(port, "", "", "    option abortonclose\n", server);
    for cfg in [&inherited as &dyn Fn(u16) -> String, &own, &backend] {
        let (mine, theirs) = both(cfg, |port| half_close_once_forwarded(port, &got));
        assert!(mine.starts_with("HTTP/1.1 200 OK\r\n"), "{mine:?}");
        assert!(mine.ends_with("\r\n\r\nok"), "{mine:?}");
        if let Some(theirs) = theirs {
            assert!(theirs.starts_with("HTTP/1.1 200 OK\r\n"), "{theirs:?}");
        }
    }
}

/// `option abortonclose` in `defaults`, so on both sides: a client that half-closes while
/// the server has not answered abandons its request at once: it is sent the 400 page, and the
/// request is logged 400 `CH`.
#[test]
fn abortonclose_on_both_sides_aborts() {
    let (server, got) = counting_server(b"", Duration::from_millis(800));
    let cfg = |port: u16| config(port, "    option abortonclose\n", "", "", server);
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("/wait"))
            .map(str::to_string)
            .collect()
    };
    let ((answer, mine), theirs) = both_reading(1, cfg, |port, side| {
        let answer = half_close_once_forwarded(port, &got);
        (answer, side.selected(lines, 1))
    });
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad request\r\n"),
        "{answer:?}"
    );
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        mine[0].contains(" app/s1 ") && mine[0].contains(" 400 ") && mine[0].contains(" CH-- "),
        "{}",
        mine[0]
    );
    let Some((their_answer, real)) = theirs else {
        return;
    };
    // The same page, byte for byte (lower-case names, `connection` last).
    assert_eq!(their_answer, answer);
    assert_same_stable_fields(&real, &mine);
}

/// The backend's `option abortonclose` alone, with a request that waits in the queue (the
/// server takes one at a time): a client that ends its side with its request, and one that
/// ends it while the request is queued, are both answered once the server is free. HAProxy
/// 2.7's HTTP/1 side reads nothing past a complete request unless its frontend has the option
/// too, so that the backend never learns of a later end. (An end read in the same read as the
/// request is seen: HAProxy then aborts at the dequeue, but whether both come in one read is
/// the network's choice, so that case is only checked on hapee, which answers.)
#[test]
fn backend_abortonclose_alone_serves_queued_clients_that_ended() {
    let (server, got) = counting_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        Duration::from_millis(500),
    );
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    option abortonclose
    # The last client waits behind two 500 ms answers: the queue's default limit (timeout
    # connect, 1 s) would be reached as they end.
    timeout queue 5s
    server s1 {server} maxconn 1
"
        )
    };
    let drive = |port: u16| -> Vec<String> {
        let before = got.load(Ordering::SeqCst);
        let ask = move |ending_after: Option<Duration>| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.write_all(b"GET /wait HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    .unwrap();
                if let Some(after) = ending_after {
                    std::thread::sleep(after);
                    s.shutdown(Shutdown::Write).unwrap();
                }
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
        };
        // One request holds the server's only slot; the next two wait behind it.
        let holder = ask(None);
        assert!(wait_until(Duration::from_secs(20), || {
            got.load(Ordering::SeqCst) > before
        }));
        // Its end follows the request by 100 ms, so that the two are not read at once (the
        // case HAProxy aborts, left to the network's timing; on a loaded machine hapee then
        // aborted it too, and once left the last client queued to its limit: see the note of
        // 2026-12-05).
        let ended_with_request = ask(Some(Duration::from_millis(100)));
        let ended_while_queued = ask(Some(Duration::from_millis(200)));
        [holder, ended_with_request, ended_while_queued]
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect()
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    drop(proxy);
    for answer in &mine {
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{mine:?}");
    }
    if let Some((theirs, log)) = with_haproxy_27(cfg, drive) {
        assert_eq!(theirs[0], mine[0], "{log}");
        assert_eq!(theirs[2], mine[2], "{log}");
    }
}

/// TCP mode, with or without `option abortonclose`: the client's end is passed on to the
/// server, and what the server answers afterwards reaches the client.
#[test]
fn tcp_half_close_reaches_the_server_and_the_answer_comes_back() {
    // Answers, once the client's end has come, whether it came.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                let ended = loop {
                    match s.read(&mut buf) {
                        Ok(0) => break true,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(_) => break false,
                    }
                };
                let answer = format!("{} {}", String::from_utf8_lossy(&got), ended);
                let _ = s.write_all(answer.as_bytes());
            });
        }
    });
    for option in ["", "    option abortonclose\n"] {
        let cfg = |port: u16| {
            format!(
                "{LOGGED_DEFAULTS}{option}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    default_backend app
backend app
    mode tcp
    server s1 {server}
"
            )
        };
        let drive = |port: u16| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"hello").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut answer = Vec::new();
            let _ = s.read_to_end(&mut answer);
            String::from_utf8_lossy(&answer).into_owned()
        };
        let (mine, theirs) = both(cfg, drive);
        assert_eq!(mine, "hello true", "{option:?}");
        if let Some(theirs) = theirs {
            assert_eq!(theirs, mine, "{option:?}");
        }
    }
}
