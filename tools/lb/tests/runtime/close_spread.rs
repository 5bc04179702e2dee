//! `close-spread-time`: a soft stop (SIGUSR1) spreads the closing of idle HTTP/1 connections
//! and the GOAWAY of HTTP/2 ones over the window, or, with `infinite`, closes nothing and adds
//! no `Connection: close`; side by side with haproxy (2.6 has the setting).

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A frontend answering every request itself, with long client timeouts so that only the
/// stop ends its connections.
fn config(port: u16, spread: &str) -> String {
    format!(
        "global\n    close-spread-time {spread}\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:{port}\n    bind 127.0.0.1:{} proto h2\n    http-request return status 200 content-type text/plain string ok\n",
        port + 1
    )
}

/// One request on a new HTTP/1.1 connection, the connection kept: its response head.
fn kept_alive(port: u16) -> (TcpStream, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = request(&mut s);
    (s, head)
}

fn request(s: &mut TcpStream) -> String {
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"\r\n\r\nok") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).to_ascii_lowercase()
}

/// An HTTP/2 connection, its preface and SETTINGS sent.
fn h2_open(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .unwrap();
    s
}

/// The frame types read until the connection closes or `limit` passes.
fn h2_frames(mut s: TcpStream, limit: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 9 <= got.len() {
        let len = (usize::from(got[at]) << 16)
            | (usize::from(got[at + 1]) << 8)
            | usize::from(got[at + 2]);
        frames.push(got[at + 3]);
        at += 9 + len;
    }
    frames
}

/// SIGUSR1 to the proxy.
fn soft_stop(side: &Side) {
    let _ = std::process::Command::new("kill")
        .args(["-USR1", &side.pid().to_string()])
        .status();
}

/// Reads an HTTP/2 connection as a client would, acknowledging SETTINGS and PINGs, until a
/// GOAWAY arrives or the connection closes.
fn until_goaway(s: &mut TcpStream) {
    let mut got: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while got.len() >= 9 {
            let len =
                (usize::from(got[0]) << 16) | (usize::from(got[1]) << 8) | usize::from(got[2]);
            if got.len() < 9 + len {
                break;
            }
            let (kind, flags) = (got[3], got[4]);
            let ack = match (kind, flags & 1) {
                (0x4, 0) => Some(b"\0\0\0\x04\x01\0\0\0\0".to_vec()),
                (0x6, 0) => {
                    let mut pong = b"\0\0\x08\x06\x01\0\0\0\0".to_vec();
                    pong.extend_from_slice(&got[9..17]);
                    Some(pong)
                }
                (0x7, _) => return,
                _ => None,
            };
            if let Some(ack) = ack {
                let _ = s.write_all(&ack);
            }
            got.drain(..9 + len);
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
}

/// How long after `start` each connection was ended by the proxy: closed (HTTP/1) or sent
/// its GOAWAY (HTTP/2).
fn close_times(conns: Vec<(TcpStream, bool)>, start: Instant) -> Vec<Duration> {
    let waits: Vec<_> = conns
        .into_iter()
        .map(|(mut s, h2)| {
            std::thread::spawn(move || {
                if h2 {
                    until_goaway(&mut s);
                } else {
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                }
                start.elapsed()
            })
        })
        .collect();
    waits.into_iter().map(|w| w.join().unwrap()).collect()
}

/// With a 3 s window, twelve idle HTTP/1 connections are closed and ten HTTP/2 ones sent
/// their GOAWAY at moments spread over it (not all at once, none long after it), on both proxies.
#[test]
fn a_soft_stop_spreads_closes_over_the_window() {
    let window = Duration::from_secs(3);
    let (ours, theirs) = both_sides(
        2,
        || (),
        |port, _| config(port, "3s"),
        |port, _, side| {
            let mut conns: Vec<(TcpStream, bool)> =
                (0..12).map(|_| (kept_alive(port).0, false)).collect();
            conns.extend((0..10).map(|_| (h2_open(port + 1), true)));
            std::thread::sleep(Duration::from_millis(300));
            let start = Instant::now();
            soft_stop(side);
            close_times(conns, start)
        },
    );
    // All end with the window (not at their 30 s timeouts), spread over it: the HTTP/1
    // connections on both proxies, the HTTP/2 ones on hapee (Debian's 2.6 sent its GOAWAYs
    // together some 20 s later here, with none of its connections' timeouts due).
    let spread = |who: &str, times: &[Duration]| {
        let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
        assert!(*last < window + Duration::from_secs(4), "{who}: {times:?}");
        assert!(*last - *first >= window / 6, "{who}: {times:?}");
    };
    spread("hapee HTTP/1", &ours[..12]);
    spread("hapee HTTP/2", &ours[12..]);
    if let Some(theirs) = theirs {
        spread("haproxy HTTP/1", &theirs[..12]);
    }
}

/// `close-spread-time infinite`: after the stop, a kept-alive HTTP/1 connection goes on being
/// served without `Connection: close`, and an HTTP/2 one is sent no GOAWAY.
#[test]
fn infinite_closes_nothing_on_a_soft_stop() {
    let (ours, theirs) = both_sides(
        2,
        || (),
        |port, _| config(port, "infinite"),
        |port, _, side| {
            let (mut h1, first) = kept_alive(port);
            let h2 = h2_open(port + 1);
            std::thread::sleep(Duration::from_millis(300));
            soft_stop(side);
            std::thread::sleep(Duration::from_millis(500));
            let after = request(&mut h1);
            let again = request(&mut h1);
            let frames = h2_frames(h2, Duration::from_millis(1500));
            (
                first.contains("connection: close"),
                after.contains("connection: close"),
                again.starts_with("http/1.1 200"),
                frames.contains(&0x7),
            )
        },
    );
    assert_eq!(ours, (false, false, true, false));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

/// Without `close-spread-time`: the stop closes an idle kept-alive HTTP/1 connection at once
/// (long before its 30 s timeout); under `option idle-close-on-response` the connection is
/// kept for its next request, which is answered with `Connection: close`.
#[test]
fn a_default_soft_stop_closes_idle_connections_at_once() {
    let cfg = |port: u16, option: &str| {
        format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:{port}\n{option}    http-request return status 200 content-type text/plain string ok\n"
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || (),
        |port, _| cfg(port, ""),
        |port, _, side| {
            let conns = (0..3).map(|_| (kept_alive(port).0, false)).collect();
            std::thread::sleep(Duration::from_millis(300));
            let start = Instant::now();
            soft_stop(side);
            close_times(conns, start)
        },
    );
    let at_once = |who: &str, times: &[Duration]| {
        assert!(
            times.iter().all(|t| *t < Duration::from_secs(10)),
            "{who}: {times:?}"
        );
    };
    at_once("hapee", &ours);
    if let Some(theirs) = theirs {
        at_once("haproxy", &theirs);
    }
    let (ours, theirs) = both_sides(
        1,
        || (),
        |port, _| cfg(port, "    option idle-close-on-response\n"),
        |port, _, side| {
            let (mut kept, _) = kept_alive(port);
            std::thread::sleep(Duration::from_millis(300));
            soft_stop(side);
            std::thread::sleep(Duration::from_millis(500));
            let after = request(&mut kept);
            let mut rest = Vec::new();
            let _ = kept.read_to_end(&mut rest);
            (
                after.starts_with("http/1.1 200"),
                after.contains("connection: close"),
            )
        },
    );
    assert_eq!(ours, (true, true));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
