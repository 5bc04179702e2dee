//! A TCP stream that ends without a server (`SC`), side by side with Debian's haproxy: what
//! the client had sent by then is counted (so `option dontlognull` logs the stream), and the
//! client sees the connection end (a FIN), not a reset, however it sent its bytes.

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// A TCP listener whose backend has no usable server. `defer-accept` hands a connection over
/// only once its first bytes came, so both proxies find them waiting when the stream ends.
fn config(port: u16) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port} defer-accept
    default_backend be
backend be
    server s 127.0.0.1:9 disabled
"
    )
}

/// What each of `n` clients saw after sending a request at once: `closed` for a clean end,
/// else the error.
fn clients(port: u16, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut s = connect(("127.0.0.1", port));
            s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 0123456789\r\n\r\n")
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut out = Vec::new();
            match s.read_to_end(&mut out) {
                Ok(_) => format!("closed {}", out.len()),
                Err(e) => format!("{:?}", e.kind()),
            }
        })
        .collect()
}

fn sc_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains(" fe be/<NOSRV> ") && l.contains(" SC "))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_stream_without_a_server_counts_what_the_client_sent_and_ends_cleanly() {
    const N: usize = 5;
    let (mine, theirs) = both_reading(1, config, |port, side| {
        let seen = clients(port, N);
        let lines = side.selected(sc_lines, N);
        (seen, lines.len())
    });
    assert_eq!(mine, (vec!["closed 0".to_string(); N], N));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Without `defer-accept` a stream may end before the client's bytes arrive; they still do
/// not reset the connection: after its FIN hapee drops what comes until the client closes (at
/// most a second), where a close over them would be a reset. HAProxy starts a stream more
/// slowly and mostly finds the bytes there already; hapee may end one within microseconds of
/// the accept, so it waits for them instead (the differential traffic check saw resets).
#[test]
fn bytes_arriving_as_a_stream_without_a_server_ends_do_not_reset_it() {
    let port = free_port();
    let proxy = Proxy::start(&config(port).replace(" defer-accept", ""), port);
    let seen = clients(port, 20);
    drop(proxy);
    assert_eq!(seen, vec!["closed 0".to_string(); 20]);
}

/// A connection a `tcp-request connection` or `tcp-request session` rule rejects is ended
/// before any stream is made, so nothing is logged (HAProxy's session_accept_fd; the
/// connection rule's end is a reset, SO_LINGER 0). A later stream's line shows the log is
/// read after both.
#[test]
fn rejected_connections_are_not_logged() {
    let cfg = |port: u16| {
        let base = config(port + 2);
        format!(
            "{base}frontend by_connection
    bind 127.0.0.1:{port}
    tcp-request connection reject
    default_backend be
frontend by_session
    bind 127.0.0.1:{}
    tcp-request session reject
    default_backend be
",
            port + 1
        )
    };
    let drive = |port: u16, side: &Side| {
        let refused: Vec<usize> = [port, port + 1]
            .iter()
            .map(|&p| {
                let mut s = connect(("127.0.0.1", p));
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                out.len()
            })
            .collect();
        let later = clients(port + 2, 1);
        let logged = side.selected(|out| out.lines().map(str::to_string).collect(), 1);
        (refused, later, logged.len())
    };
    let (mine, theirs) = both_reading(3, cfg, drive);
    assert_eq!(mine, (vec![0, 0], vec!["closed 0".to_string()], 1));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Without a log format the line is HAProxy's note of each accepted connection (`Connect
/// from …`), written whatever the connection then carried: `option dontlognull` and `option
/// dontlog-normal` leave it alone, for a connection that sent nothing as for one that found no
/// server.
#[test]
fn the_legacy_line_is_written_for_every_connection() {
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option dontlognull
    option dontlog-normal
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s 127.0.0.1:9 disabled
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        drop(connect(("127.0.0.1", port)));
        let mut s = connect(("127.0.0.1", port));
        s.write_all(b"hello").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_end(&mut Vec::new());
        let count = || {
            let out = side.stdout();
            out.lines()
                .filter(|l| l.starts_with("Connect from 127.0.0.1:") && l.ends_with(" (fe/TCP)"))
                .count()
        };
        wait_until(Duration::from_secs(5), || count() >= 2);
        count()
    });
    assert_eq!(mine, 2, "hapee");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, 2, "haproxy");
    }
}
