//! HTTP/1.1 handling: keep-alive and pipelining, chunked bodies, 100-continue, HTTP/1.0,
//! upgrades, and hostile input (smuggling attempts, oversize heads, slowloris).

use crate::harness::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn simple(port: u16, origin: &Origin, extra_fe: &str) -> String {
    format!(
        "global
    tune.bufsize 16384
{DEFAULTS}    timeout http-request 1s
    timeout tunnel 5s
{}",
        fe_to_app(port, extra_fe, origin.addr)
    )
}

#[test]
fn keep_alive_pipelining_chunked_continue_and_http10() {
    let o = Origin::start("o");
    let port = free_port();
    let _p = Proxy::start(&simple(port, &o, ""), port);
    // Two pipelined requests in one write: two responses, in order, on one connection.
    let out = raw(
        port,
        b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    let first = out.find("path=/one").expect(&out);
    let second = out.find("path=/two").expect(&out);
    assert!(first < second);
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
    // A chunked request body arrives whole at the origin.
    let out = raw(
        port,
        b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(out.contains("body=hello world"), "{out}");
    // Expect: 100-continue with curl and a body.
    let big = "x".repeat(200_000);
    let file = Scratch::file(&format!("hapee-body-{port}"));
    std::fs::write(&file, &big).unwrap();
    let data = format!("@{}", file.display());
    let (code, body) = curl(&[
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &data,
        &format!("http://127.0.0.1:{port}/post"),
    ]);
    assert_eq!(code, 200);
    assert!(
        body.contains(&format!("hdr:content-length={}", big.len())),
        "{}",
        &body[..200.min(body.len())]
    );
    assert!(body.ends_with(&format!("{big}\n")));
    // HTTP/1.0 client without Host.
    let out = raw(port, b"GET /old HTTP/1.0\r\n\r\n", Duration::from_secs(5));
    assert!(
        out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200"),
        "{out}"
    );
    assert!(out.contains("path=/old"), "{out}");
}

#[test]
fn upgrade_tunnel_carries_bytes_both_ways() {
    let o = Origin::start("ws");
    let port = free_port();
    let _p = Proxy::start(&simple(port, &o, ""), port);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"hello tunnel").unwrap();
    let mut got = Vec::new();
    while got.len() < 12 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(&got, b"HELLO TUNNEL");
}

#[test]
fn hostile_requests_never_reach_the_server() {
    let o = Origin::start("o");
    let port = free_port();
    let _p = Proxy::start(&simple(port, &o, ""), port);
    let before = o.hits.load(std::sync::atomic::Ordering::SeqCst);
    let bad: &[&[u8]] = &[
        // Two different Content-Length values.
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        // A transfer coding that does not end in chunked.
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        // Whitespace before the colon (a classic desync vector).
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        // Invalid characters in a header name and in the request line.
        b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    for req in bad {
        let out = raw(port, req, Duration::from_secs(5));
        assert!(
            out.starts_with("HTTP/1.1 400"),
            "{:?} -> {out}",
            String::from_utf8_lossy(req)
        );
    }
    // A head larger than tune.bufsize.
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let out = raw(port, huge.as_bytes(), Duration::from_secs(5));
    assert!(
        out.starts_with("HTTP/1.1 431") || out.starts_with("HTTP/1.1 400"),
        "{out}"
    );
    assert_eq!(
        o.hits.load(std::sync::atomic::Ordering::SeqCst),
        before,
        "no hostile request reached the origin"
    );
    // Content-Length together with chunked: the chunked framing wins and the length is dropped,
    // so the server sees exactly one request with a chunked body and no Content-Length.
    let out = raw(
        port,
        b"POST /cl-te HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(out.contains("body=abc"), "{out}");
    assert!(!out.contains("hdr:content-length"), "{out}");
    assert_eq!(o.hits.load(std::sync::atomic::Ordering::SeqCst), before + 1);
}

/// A request the parser refuses gets HAProxy's own 400 page byte for byte (its header names
/// capitalised as its raw page has them), even when the proxy has an `errorfile 400`: the
/// connection layer only looks at that file to see whether it is empty, and an empty one
/// closes without an answer (mux_h1.c's h1_send_error, the same in 2.6 and 2.7); so does one
/// refused for its Host lines.
#[test]
fn malformed_requests_get_the_400_page_whatever_the_errorfile() {
    let o = Origin::start("o");
    let bad = b"GET /bad\x01path HTTP/1.1\r\nHost: a\r\n\r\n";
    let oversize = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "x".repeat(20000)
    );
    let page_400 = "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
    // HAProxy's own page, whatever the fault (hyper would answer 400 or 431 with no body).
    let port = free_port();
    let _p = Proxy::start(&simple(port, &o, ""), port);
    for request in [&bad[..], oversize.as_bytes()] {
        let out = raw(port, request, Duration::from_secs(5));
        assert_eq!(out, page_400);
    }
    let dir = Scratch::dir(&format!("hapee-400-{}", std::process::id()));
    let page = dir.join("400.http");
    std::fs::write(
        &page,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nnot for us\n",
    )
    .unwrap();
    let with_file = |port| simple(port, &o, &format!("    errorfile 400 {}\n", page.display()));
    let empty = |port| simple(port, &o, "    errorfile 400 /dev/null\n");
    let drive = |port| raw(port, bad, Duration::from_secs(5));
    // Refused after parsing but still by the parser's rules (two different Hosts, an
    // absolute target naming another host): the same page (hapee sent the errorfile's).
    let refused_after_parsing = |port| {
        [
            &b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"[..],
            b"GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        .map(|r| raw(port, r, Duration::from_secs(5)))
    };
    let fine = |port| {
        let good = b"GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        raw(port, good, Duration::from_secs(5))
    };
    let ((mine, out), theirs) = both(with_file, |port| (drive(port), fine(port)));
    assert_eq!(mine, page_400);
    // A page without a length, which the proxy's own answers send close-delimited.
    let no_length = dir.join("400-no-length.http");
    std::fs::write(
        &no_length,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nx-page: ours\r\n\r\nnot for us\n",
    )
    .unwrap();
    let with_no_length = |port| {
        simple(
            port,
            &o,
            &format!("    errorfile 400 {}\n", no_length.display()),
        )
    };
    let (mine_after, theirs_after) = both(with_no_length, refused_after_parsing);
    assert_eq!(mine_after, [page_400, page_400]);
    if let Some(theirs) = theirs_after {
        assert_eq!(theirs, mine_after);
    }
    // Good requests are untouched.
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let (mine_empty, theirs_empty) = both(empty, drive);
    assert_eq!(mine_empty, "");
    if let Some((theirs, _)) = theirs {
        assert_eq!(theirs, page_400);
    }
    if let Some(theirs) = theirs_empty {
        assert_eq!(theirs, "");
    }
}

#[test]
fn slowloris_is_cut_at_timeout_http_request() {
    let o = Origin::start("o");
    let port = free_port();
    let _p = Proxy::start(&simple(port, &o, ""), port);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
    // Trickle one header byte every 200 ms; the proxy must give up after about 1 s.
    let mut closed_after = None;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(200));
        if s.write_all(b"X").is_err() {
            closed_after = Some(start.elapsed());
            break;
        }
        let mut probe = [0u8; 512];
        s.set_nonblocking(true).unwrap();
        let r = s.read(&mut probe);
        s.set_nonblocking(false).unwrap();
        if r.is_ok() {
            closed_after = Some(start.elapsed());
            break;
        }
    }
    let t = closed_after.expect("the proxy closed the slow connection");
    assert!(t < Duration::from_secs(4), "closed after {t:?}");
    assert_eq!(o.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn keep_alive_and_client_inactivity_limits() {
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 600ms
    timeout server 5s
    timeout http-request 5s
    timeout http-keep-alive 300ms
{}",
        fe_to_app(port, "", o.addr)
    );
    let _p = Proxy::start(&cfg, port);
    // An idle keep-alive connection is closed after http-keep-alive, not http-request.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 65536];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let closed = s.read(&mut buf).map_or(true, |n| n == 0);
    assert!(closed);
    let idle = idle_from.elapsed();
    assert!(
        idle >= Duration::from_millis(200) && idle < Duration::from_secs(3),
        "{idle:?}"
    );
    // A body that stops arriving is cut after timeout client.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly ten b")
        .unwrap();
    let start = Instant::now();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

/// Reads from `s` until `marker` has arrived (or fails after the read timeout).
fn read_until(s: &mut std::net::TcpStream, marker: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while !String::from_utf8_lossy(&out).contains(marker) {
        let n = s.read(&mut buf).expect(marker);
        assert!(
            n > 0,
            "closed before {marker}: {}",
            String::from_utf8_lossy(&out)
        );
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A connection that waits (fresh, or between requests for longer than the 250 ms grace) holds
/// no HTTP state, and gets it back
/// when the client sends again: requests after pauses, a head or a body split by a pause,
/// pipelined requests followed by half of another, all on one connection, which the
/// keep-alive limit still closes when it idles.
#[test]
fn idle_connections_serve_their_next_request() {
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}    timeout http-request 3s
    timeout http-keep-alive 1500ms
{}",
        fe_to_app(port, "", o.addr)
    );
    let _p = Proxy::start(&cfg, port);
    let pause = || std::thread::sleep(Duration::from_millis(300));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    pause();
    s.write_all(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    assert!(read_until(&mut s, "path=/one").starts_with("HTTP/1.1 200"));
    pause();
    s.write_all(b"GET /two HTTP/1.1\r\nHo").unwrap();
    pause();
    s.write_all(b"st: a\r\n\r\n").unwrap();
    assert!(read_until(&mut s, "path=/two").starts_with("HTTP/1.1 200"));
    pause();
    s.write_all(
        b"GET /three HTTP/1.1\r\nHost: a\r\n\r\nGET /four HTTP/1.1\r\nHost: a\r\n\r\nGET /fi",
    )
    .unwrap();
    let out = read_until(&mut s, "path=/four");
    assert!(out.contains("path=/three"), "{out}");
    pause();
    s.write_all(b"ve HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert!(read_until(&mut s, "path=/five").starts_with("HTTP/1.1 200"));
    pause();
    s.write_all(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello")
        .unwrap();
    pause();
    s.write_all(b"world").unwrap();
    let out = read_until(&mut s, "body=helloworld");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    pause();
    s.write_all(b"GET /six HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    assert!(read_until(&mut s, "path=/six").starts_with("HTTP/1.1 200"));
    // Idle again: closed by `timeout http-keep-alive`, without a 408.
    let idle_from = Instant::now();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "{}", String::from_utf8_lossy(&buf[..n]));
    let idle = idle_from.elapsed();
    assert!(
        idle >= Duration::from_millis(1200) && idle < Duration::from_secs(4),
        "{idle:?}"
    );
}
