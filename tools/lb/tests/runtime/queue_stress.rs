//! Many clients queued on a server that takes one request at a time, a share of them leaving
//! at random moments (while queued, while being dequeued, while served): every client that
//! stays is served, and once all is over the server's slot and the queues are free again (a
//! slot handed to a client already gone must be passed on, and a wait must never miss the
//! departure of the one before it). Clients that only end their side are answered unless
//! `option abortonclose` is set on both sides.

use crate::abort_on_close::counting_server;
use crate::api::ask;
use crate::harness::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn socket_of(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("hapee-qs-{}-{port}.sock", std::process::id()))
}

/// A small pseudo-random sequence (xorshift), seeded from the clock and printed, so that a
/// failing run can be replayed with `HAPEE_QUEUE_SEED`.
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        let seed = std::env::var("HAPEE_QUEUE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        eprintln!("queue stress seed: HAPEE_QUEUE_SEED={seed}");
        Dice(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// How a client leaves.
#[derive(Debug, Clone, Copy)]
enum Leave {
    /// It stays for its answer.
    Stays,
    /// Closes its socket with a reset (`SO_LINGER` 0) after the delay.
    Resets(u64),
    /// Closes its socket after the delay.
    Closes(u64),
    /// Shuts its side down after the delay and reads on: an abort under `abortonclose` on
    /// both sides, else a client still waiting for its answer.
    Ends(u64),
}

/// Where `option abortonclose` is set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Abort {
    Nowhere,
    /// The backend's alone: a client's end aborts nothing (HAProxy 2.7 reads no further).
    Backend,
    /// Both sides (`defaults`): a client's end aborts its request.
    Both,
}

/// Sends one request and leaves as told: the answer of a client that stays, or that ended
/// its side without aborting (`answered_after_end`).
fn client(port: u16, leave: Leave, answered_after_end: bool) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /q HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n")
        .unwrap();
    // A client held up longer than the queue's limit would have been answered 503 by it.
    s.set_read_timeout(Some(Duration::from_secs(50))).unwrap();
    match leave {
        Leave::Stays => {
            let mut answer = Vec::new();
            let _ = s.read_to_end(&mut answer);
            Some(String::from_utf8_lossy(&answer).into_owned())
        }
        Leave::Resets(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            None
        }
        Leave::Closes(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            None
        }
        Leave::Ends(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = s.shutdown(Shutdown::Write);
            let mut answer = Vec::new();
            let _ = s.read_to_end(&mut answer);
            answered_after_end.then(|| String::from_utf8_lossy(&answer).into_owned())
        }
    }
}

/// `qcur` and `scur` of the server's and backend's rows of `show stat`.
fn queued_and_busy(port: u16) -> Vec<(u64, u64)> {
    ask(&socket_of(port), "show stat\n")
        .lines()
        .filter(|l| l.starts_with("app,s1,") || l.starts_with("app,BACKEND,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].parse().unwrap_or(99), f[4].parse().unwrap_or(99))
        })
        .collect()
}

fn stress(abort: Abort) {
    let (server, got) = counting_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        Duration::from_millis(10),
    );
    let port = free_port();
    let _socket = Scratch::file(&format!("hapee-qs-{}-{port}.sock", std::process::id()));
    let (defaults, backend) = match abort {
        Abort::Nowhere => ("", ""),
        Abort::Backend => ("", "    option abortonclose\n"),
        Abort::Both => ("    option abortonclose\n", ""),
    };
    let cfg = format!(
        "global
    nbthread 2
    stats socket {} level admin
defaults
    mode http
{defaults}    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout queue 60s
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
{backend}    server s1 {server} maxconn 1
",
        socket_of(port).display()
    );
    let proxy = Proxy::start(&cfg, port);
    let mut dice = Dice::new();
    let leaves: Vec<Leave> = (0..60)
        .map(|_| {
            let at = dice.below(400);
            match dice.below(10) {
                0 | 1 => Leave::Resets(at),
                2 | 3 => Leave::Closes(at),
                4 => Leave::Ends(at),
                _ => Leave::Stays,
            }
        })
        .collect();
    let clients: Vec<_> = leaves
        .iter()
        .map(|&leave| {
            let answered = abort != Abort::Both;
            (
                leave,
                std::thread::spawn(move || client(port, leave, answered)),
            )
        })
        .collect();
    for (leave, c) in clients {
        if let Some(answer) = c.join().unwrap() {
            assert!(
                answer.starts_with("HTTP/1.1 200 OK\r\n"),
                "a client that stayed ({leave:?}) was answered {answer:?}; log: {}",
                proxy.stderr()
            );
        }
    }
    // Once every client has gone, nothing waits and nothing holds the slot.
    let idle = wait_until(Duration::from_secs(20), || {
        queued_and_busy(port).iter().all(|&(q, s)| q == 0 && s == 0)
    });
    assert!(idle, "{:?}", queued_and_busy(port));
    // And the slot is free: one more request goes through at once.
    let before = got.load(Ordering::SeqCst);
    let last = client(port, Leave::Stays, true).unwrap_or_default();
    assert!(last.starts_with("HTTP/1.1 200 OK\r\n"), "{last:?}");
    assert!(got.load(Ordering::SeqCst) > before);
}

#[test]
fn queued_clients_leaving_at_random_never_hold_up_the_others() {
    stress(Abort::Nowhere);
}

/// The backend's `abortonclose` alone: clients that end their side while queued are still
/// answered, as the others.
#[test]
fn queued_clients_ending_at_random_under_the_backends_abortonclose_are_all_answered() {
    stress(Abort::Backend);
}

#[test]
fn queued_clients_aborting_at_random_under_abortonclose_never_hold_up_the_others() {
    stress(Abort::Both);
}
