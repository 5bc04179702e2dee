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
