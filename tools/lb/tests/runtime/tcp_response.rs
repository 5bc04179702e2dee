//! `tcp-response content` rules: in TCP mode the server's first bytes are held until the rules
//! can decide (`tcp-response inspect-delay`), while the client's bytes keep flowing; `accept`
//! forwards them, `close` forwards them and ends the server connection, `reject` ends the
//! stream. In HTTP mode the rules run on the
//! response as it arrives. Compared with Debian's haproxy side by side.

use crate::harness::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A line protocol where the client speaks first: `ok` is answered `OK` then, a moment later,
/// `: welcome`; `bye` with `BYE: now`; anything else with `NO`. Each answer ends the
/// connection.
fn line_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut line = String::new();
                let _ = BufReader::new(&s).read_line(&mut line);
                match line.trim() {
                    "ok" => {
                        let _ = s.write_all(b"OK");
                        std::thread::sleep(Duration::from_millis(200));
                        let _ = s.write_all(b": welcome\n");
                    }
                    "bye" => {
                        let _ = s.write_all(b"BYE: now\n");
                    }
                    _ => {
                        let _ = s.write_all(b"NO\n");
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            });
        }
    });
    addr
}

fn tcp_config(port: u16, server: SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"T %ts tag=%[var(txn.tag)] len=%[var(txn.len)]\"
    default_backend be
backend be
    tcp-response inspect-delay 3s
    tcp-response content set-var(txn.tag) res.payload(0,2)
    tcp-response content accept if {{ res.payload(0,3) -m str \"OK:\" }}
    tcp-response content set-var(txn.len) res.len
    tcp-response content close if {{ res.payload(0,3) -m str BYE }}
    tcp-response content reject
    server s {server}
"
    )
}

/// Sends `line` and answers all the bytes the proxy relays back.
fn talk(port: u16, line: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn drive(port: u16) -> Vec<String> {
    ["ok", "bye", "nope"]
        .iter()
        .map(|l| {
            let answer = talk(port, l);
            std::thread::sleep(Duration::from_millis(150));
            answer
        })
        .collect()
}

fn log_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("T "))
        .map(str::to_string)
        .collect()
}

#[test]
fn tcp_response_rules_wait_for_the_servers_bytes_and_accept_close_or_reject() {
    let server = line_server();
    let ((answers, log), theirs) = both_reading(
        1,
        |port| tcp_config(port, server),
        |port, side| {
            let answers = drive(port);
            (answers, side.stdout_when(|l| log_lines(l).len() >= 3))
        },
    );
    // `OK` alone cannot decide `res.payload(0,3)`: the rules wait for the rest.
    assert_eq!(answers[0], "OK: welcome\n");
    assert_eq!(
        answers[1], "BYE: now\n",
        "close: what was held goes, then the end"
    );
    assert_eq!(answers[2], "", "reject: nothing reaches the client");
    let mine = log_lines(&log);
    assert_eq!(mine.len(), 3, "{log}");
    assert_eq!(
        mine,
        [
            "T -- tag=OK len=-",
            "T -- tag=BY len=9",
            "T PD tag=NO len=3"
        ]
    );
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(theirs, answers);
    assert_eq!(log_lines(&their_log), mine);
}

fn http_config(port: u16, server: SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode http
    log global
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"H %ts %ST tag=%[var(txn.tag)]\"
    default_backend be
backend be
    tcp-response inspect-delay 3s
    tcp-response content set-var(txn.tag) str(seen)
    tcp-response content accept if WAIT_END {{ var(txn.path) -m str /ok }}
    tcp-response content reject
    http-request set-var(txn.path) path
    server s {server}
"
    )
}

fn http_drive(port: u16) -> Vec<(u16, String)> {
    ["/ok", "/no"]
        .iter()
        .map(|path| {
            let url = format!("http://127.0.0.1:{port}{path}");
            curl(&[&url])
        })
        .collect()
}

#[test]
fn tcp_response_rules_in_http_mode_run_on_the_response_and_reject_unanswered() {
    let o = Origin::start("o");
    let h_lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.starts_with("H "))
            .map(str::to_string)
            .collect()
    };
    let ((got, mine), theirs) = both_reading(
        1,
        |port| http_config(port, o.addr),
        |port, side| {
            let got = http_drive(port);
            (got, side.selected(h_lines, 2))
        },
    );
    assert_eq!(got[0].0, 200, "{got:?}");
    assert_eq!(
        got[1].0, 0,
        "a rejected response closes unanswered: {got:?}"
    );
    assert_eq!(mine, ["H -- 200 tag=seen", "H PD -1 tag=seen"]);
    let Some((theirs, their_lines)) = theirs else {
        return;
    };
    assert_eq!(theirs.iter().map(|t| t.0).collect::<Vec<_>>(), [200, 0]);
    assert_eq!(their_lines, mine);
}

/// A server answering each CONNECT with a 2xx, then echoing the tunnel's bytes.
fn tunnel_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = s.read(&mut buf) {
                    let _ = s.write_all(&buf[..n]);
                }
            });
        }
    });
    addr
}

/// What the proxy sent back to a CONNECT within `early`, then within `late` more.
fn connect_answer(port: u16, early: Duration, late: Duration) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"CONNECT far:443 HTTP/1.1\r\nHost: far:443\r\n\r\n")
        .unwrap();
    let mut read_for = |wait: Duration| {
        let until = std::time::Instant::now() + wait;
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        while !out.ends_with(b"\r\n\r\n") {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            s.set_read_timeout(Some(left)).unwrap();
            match s.read(&mut buf) {
                Ok(n @ 1..) => out.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let first = read_for(early);
    let second = read_for(late);
    (first, second)
}

#[test]
fn a_tunnels_response_waits_out_the_inspect_delay_for_wait_end_in_http_mode() {
    let server = tunnel_server();
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    tcp-response inspect-delay 2s
    tcp-response content reject unless WAIT_END
    server s {server}
"
        )
    };
    // A 2xx to CONNECT opens a tunnel: its message never ends, so `WAIT_END` is known only
    // once the delay passed, and then it holds (the response goes on).
    let drive =
        |port: u16| connect_answer(port, Duration::from_millis(700), Duration::from_secs(6));
    let (ours, theirs) = both(cfg, drive);
    assert_eq!(ours.0, "", "the 2xx is held for the delay");
    assert!(ours.1.starts_with("HTTP/1.1 200 "), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, ours.0);
        assert_eq!(theirs.1, ours.1);
    }
}
