//! Request hardening through real sockets: the rules see exactly what the server gets, framing
//! refusals are answered and logged as HAProxy logs them, `Expect: 100-continue` is answered
//! once, CONNECT tunnels. The wide differential suite is in `hostile.rs`.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn config(port: u16, server: std::net::SocketAddr, frontend_extra: &str) -> String {
    format!(
        "{LOGGED_DEFAULTS}    option httplog
    timeout tunnel 5s
{}",
        fe_to_app(port, frontend_extra, server)
    )
}

#[test]
fn the_rules_see_the_host_and_fields_the_server_gets() {
    let o = Origin::start("o");
    let port = free_port();
    let rules = "    http-request set-header X-Seen-Host %[req.hdr(host)]
    http-request set-header X-Trace from-rules
";
    let _p = Proxy::start(&config(port, o.addr, rules), port);
    // Absolute form without Host: the authority becomes the Host, for the rules and the server.
    let out = raw(
        port,
        b"GET http://b.example:81/x?q=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("path=/x\nquery=q=1\n"), "{out}");
    assert!(out.contains("hdr:host=b.example:81\n"), "{out}");
    assert!(out.contains("hdr:x-seen-host=b.example:81\n"), "{out}");
    // The client names Host, X-Forwarded-For and X-Trace as connection options: its own X-Trace
    // goes (before the rules), the end-to-end fields and the rules' X-Trace stay.
    let out = raw(
        port,
        b"GET /y HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.1.1.1\r\nX-Trace: client\r\nConnection: Host, X-Forwarded-For, X-Trace, close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(out.contains("hdr:host=a\n"), "{out}");
    assert!(out.contains("hdr:x-forwarded-for=10.1.1.1\n"), "{out}");
    assert!(out.contains("hdr:x-trace=from-rules\n"), "{out}");
    assert!(!out.contains("hdr:connection=Host"), "{out}");
    // Two agreeing Host fields reach the server as one.
    let out = raw(
        port,
        b"GET /z HTTP/1.1\r\nHost: a\r\nHost: A\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(out.matches("hdr:host=").count(), 1, "{out}");
    // HTTP/1.0 without Host stays HTTP/1.0: the origin (hyper) answers in kind.
    let out = raw(port, b"GET /old HTTP/1.0\r\n\r\n", Duration::from_secs(5));
    assert!(
        out.contains("path=/old") && !out.contains("hdr:host"),
        "{out}"
    );
}

/// The log lines of `fe` that carry `status`.
fn lines_with(log: &str, status: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(&format!(" {status} ")))
        .map(str::to_string)
        .collect()
}

#[test]
fn refused_framing_is_answered_and_logged_as_haproxy_does() {
    let o = Origin::start("o");
    let cfg = |port| config(port, o.addr, "");
    let send = |port: u16| -> Vec<String> {
        [
            &b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ]
        .iter()
        .map(|r| {
            let out = raw(port, r, Duration::from_secs(5));
            out.lines().next().unwrap_or("").to_string()
        })
        .collect()
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let answers = send(port);
    assert_eq!(
        answers,
        [
            "HTTP/1.1 422 Unprocessable Content",
            "HTTP/1.1 400 Bad request",
            "HTTP/1.1 400 Bad request"
        ]
    );
    assert_eq!(o.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    let re = regex::Regex::new(
        r#" fe fe/<NOSRV> -1/-1/-1/-1/\d+ (422|400) \d+ - - PR-- \d+/\d+/0/0/0 0/0 "<BADREQ>"$"#,
    )
    .unwrap();
    // The lines are written as each connection ends: wait for them, generously under load.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut log = p.stdout();
    while log.lines().filter(|l| re.is_match(l)).count() < 3 && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        log = p.stdout();
    }
    let refused: Vec<&str> = log.lines().filter(|l| re.is_match(l)).collect();
    assert_eq!(refused.len(), 3, "{log}");
    // Debian's haproxy answers and logs the 422 the same way (its 2.6 forwards doubled
    // chunked and two Hosts, so only the 422 is compared).
    let Some((theirs, their_log)) =
        with_haproxy_until(1, cfg, send, |l| !lines_with(l, "422").is_empty())
    else {
        return;
    };
    assert_eq!(theirs[0], answers[0]);
    let strip = |l: &str| {
        l.split_once(" fe fe/")
            .map(|(_, rest)| {
                let rest = regex::Regex::new(r"/\d+ 422")
                    .unwrap()
                    .replace(rest, "/t 422")
                    .into_owned();
                // Concurrency counts depend on when earlier closes are seen (see
                // `without_concurrency`); the retries count stays compared.
                regex::Regex::new(r" PR-- \d+/\d+/\d+/\d+/")
                    .unwrap()
                    .replace(&rest, " PR-- n/n/n/n/")
                    .into_owned()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        lines_with(&their_log, "422")
            .iter()
            .map(|l| strip(l))
            .collect::<Vec<_>>(),
        lines_with(&log, "422")
            .iter()
            .map(|l| strip(l))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_broken_body_that_has_arrived_is_refused_before_any_server_is_contacted() {
    let o = Origin::start("o");
    let port = free_port();
    let _p = Proxy::start(&config(port, o.addr, ""), port);
    for body in [&b"zz\r\nhello\r\n0\r\n\r\n"[..], b"3\r\nhello\r\n0\r\n\r\n"] {
        let mut req = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        req.extend_from_slice(body);
        let out = raw(port, &req, Duration::from_secs(5));
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    }
    assert_eq!(o.conns.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn expect_100_continue_is_answered_once_and_not_forwarded() {
    let o = Origin::start("o");
    let port = free_port();
    let _p = Proxy::start(&config(port, o.addr, ""), port);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("100 Continue\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    s.write_all(b"hello").unwrap();
    let _ = s.read_to_end(&mut got);
    let out = String::from_utf8_lossy(&got);
    assert_eq!(out.matches("HTTP/1.1 100").count(), 1, "{out}");
    assert!(
        out.contains("HTTP/1.1 200") && out.contains("body=hello"),
        "{out}"
    );
    assert!(!out.contains("hdr:expect"), "{out}");
}

#[test]
fn connect_relays_the_server_answer_and_tunnels_both_ways() {
    // A server that accepts the CONNECT, then echoes bytes back upper-cased.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        *record.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
        s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || s.write_all(&buf[..n].to_ascii_uppercase()).is_err() {
                break;
            }
        }
    });
    let port = free_port();
    let _p = Proxy::start(&config(port, server, ""), port);
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        head.starts_with("HTTP/1.1 200 Connection established\r\n"),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"), "{head}");
    c.write_all(b"ping through").unwrap();
    let mut got = Vec::new();
    while got.len() < 12 {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(&got, b"PING THROUGH");
    let request = seen.lock().unwrap().clone();
    assert!(
        request.starts_with("CONNECT db.example:5432 HTTP/1.1\r\n"),
        "{request}"
    );
}

fn payload_config(port: u16, global: &str) -> String {
    format!(
        "global\n{global}{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"
    )
}

/// The status line answered to each of the requests of [`payload_requests`].
fn payload_statuses(port: u16) -> Vec<String> {
    [
        "GET / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
        "HEAD / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
        "DELETE / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
        "GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        "POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
    ]
    .iter()
    .map(|request| {
        let out = raw(port, request.as_bytes(), Duration::from_secs(5));
        out.lines().next().unwrap_or("").to_string()
    })
    .collect()
}

/// HTTP/1.0 gives GET, HEAD and DELETE no body: one that carries a body is answered 413 as
/// HAProxy answers it (mux_h1.c), unless `h1-accept-payload-with-any-method` is set.
#[test]
fn http10_get_head_delete_with_a_body_get_413_unless_allowed() {
    let refused = "HTTP/1.1 413 Payload Too Large";
    let ok = "HTTP/1.1 200 OK";
    for (global, expected) in [
        ("", [refused, refused, refused, ok, ok, ok]),
        ("    h1-accept-payload-with-any-method\n", [ok; 6]),
    ] {
        let port = free_port();
        let p = Proxy::start(&payload_config(port, global), port);
        let mine = payload_statuses(port);
        drop(p);
        assert_eq!(mine, expected, "{global}");
        let Some((theirs, _)) = with_haproxy(|port| payload_config(port, global), payload_statuses)
        else {
            continue;
        };
        assert_eq!(theirs, mine, "{global}");
    }
}
