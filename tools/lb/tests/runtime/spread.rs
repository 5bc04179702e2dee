//! Accepted connections spread over the threads of a listener: with `nbthread 2`, each
//! connection goes to the thread serving fewer (`tune.listener.multi-queue`, on by default),
//! seen from outside through `show sess` (the thread serving each session) and `show
//! activity` (`accepted` and `accq_pushed` per thread). No timing is asserted.

use crate::api::ask;
use crate::harness::{free_port, Proxy, Scratch, DEFAULTS};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn config(port: u16, sock: &Path, global: &str) -> String {
    format!(
        "global
    nbthread 2
    stats socket {} level admin
{global}{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
",
        sock.display()
    )
}

/// The proxy, its port and its stats socket, after the folder of that socket: bound in this
/// order, the folder is dropped after the proxy.
fn start(global: &str) -> (Scratch, Proxy, u16, PathBuf) {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-spread-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let proxy = Proxy::start(&config(port, &sock, global), port);
    (dir, proxy, port, sock)
}

/// A keep-alive connection that has had one answer, so the proxy serves it as a session.
fn served_connection(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

/// How many of `held`'s sessions each thread serves, by `show sess`.
fn sessions_per_thread(sock: &Path, held: &[TcpStream]) -> [usize; 2] {
    let list = ask(sock, "show sess\n");
    let mut per_thread = [0; 2];
    for c in held {
        let me = c.local_addr().unwrap();
        let line = list
            .lines()
            .find(|l| l.contains(&format!(" src={me} ")))
            .unwrap_or_else(|| panic!("no session from {me} in:\n{list}"));
        match line.rsplit_once(" thread=").map(|(_, t)| t.trim()) {
            Some("1") => per_thread[0] += 1,
            Some("2") => per_thread[1] += 1,
            other => panic!("thread {other:?} in {line}"),
        }
    }
    per_thread
}

/// A `show activity` line's total and per-thread values (`name: 7 [ 3 4 ]`).
fn activity(sock: &Path, name: &str) -> (u64, Vec<u64>) {
    let out = ask(sock, "show activity\n");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"));
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter(|w| !matches!(*w, "[" | "]"))
        .map(|w| w.parse().unwrap())
        .collect();
    (numbers[0], numbers[1..].to_vec())
}

fn delta(before: &(u64, Vec<u64>), after: &(u64, Vec<u64>)) -> Vec<u64> {
    after.1.iter().zip(&before.1).map(|(a, b)| a - b).collect()
}

#[test]
fn connections_go_to_the_least_loaded_thread() {
    let (_dir, _proxy, port, sock) = start("");
    let pushed_before = activity(&sock, "accq_pushed");
    let accepted_before = activity(&sock, "accepted");
    // One at a time, each served before the next opens: every choice sees the previous one,
    // so the threads take turns whichever of them accepts.
    let held: Vec<TcpStream> = (0..40).map(|_| served_connection(port)).collect();
    assert_eq!(sessions_per_thread(&sock, &held), [20, 20]);
    let pushed = activity(&sock, "accq_pushed");
    assert_eq!(delta(&pushed_before, &pushed), [20, 20], "{pushed:?}");
    let accepted = activity(&sock, "accepted");
    assert_eq!(
        delta(&accepted_before, &accepted).iter().sum::<u64>(),
        40,
        "{accepted:?}"
    );
    // Half of them close: the next ones go to the thread that lost its connections.
    let (odd, even): (Vec<_>, Vec<_>) = held.into_iter().enumerate().partition(|(i, _)| i % 2 == 1);
    let mut held: Vec<TcpStream> = even.into_iter().map(|(_, c)| c).collect();
    let dropped: Vec<TcpStream> = odd.into_iter().map(|(_, c)| c).collect();
    let before = sessions_per_thread(&sock, &held);
    drop(dropped);
    // Wait until the proxy has seen them close.
    assert!(crate::harness::wait_until(Duration::from_secs(20), || {
        ask(&sock, "show sess\n")
            .lines()
            .filter(|l| l.contains(" fe=web "))
            .count()
            == held.len()
    }));
    let fewer = if before[0] < before[1] { 0 } else { 1 };
    let gap = before[1 - fewer] - before[fewer];
    let more: Vec<TcpStream> = (0..gap).map(|_| served_connection(port)).collect();
    held.extend(more);
    let after = sessions_per_thread(&sock, &held);
    assert_eq!(after[0], after[1], "{before:?} then {after:?}");
}

#[test]
fn many_connections_at_once_are_shared_by_both_threads() {
    let (_dir, _proxy, port, sock) = start("");
    // Sixty clients connecting together: the accepts race, the choices stay close to even.
    let held: Vec<TcpStream> = std::thread::scope(|s| {
        let opening: Vec<_> = (0..60)
            .map(|_| s.spawn(|| served_connection(port)))
            .collect();
        opening.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let [one, two] = sessions_per_thread(&sock, &held);
    assert_eq!(one + two, 60);
    assert!(one >= 20 && two >= 20, "thread 1: {one}, thread 2: {two}");
}

#[test]
fn without_multi_queue_the_accepting_thread_serves() {
    let (_dir, _proxy, port, sock) = start("    tune.listener.multi-queue off\n");
    let accepted_before = activity(&sock, "accepted");
    let held: Vec<TcpStream> = (0..10).map(|_| served_connection(port)).collect();
    let per_thread = sessions_per_thread(&sock, &held);
    assert_eq!(per_thread.iter().sum::<usize>(), 10);
    // Nothing was handed over, and what each thread accepted, it serves.
    assert_eq!(activity(&sock, "accq_pushed").0, 0);
    let accepted = delta(&accepted_before, &activity(&sock, "accepted"));
    assert_eq!(accepted, [per_thread[0] as u64, per_thread[1] as u64]);
}
