//! Bandwidth limitation filters (`filter bwlim-in|bwlim-out`, `set-bandwidth-limit`) through
//! real sockets: transfers under a limit take about what the limit implies, others do not.
//! Debian's haproxy 2.6 has no such filter, so the reference is the arithmetic: the bounds
//! are loose (a lower bound on the limited transfer, a ceiling on the unlimited one well
//! under it), never a tight timing.

use crate::harness::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// An origin that reads each request whole (its body by `Content-Length`) and answers
/// `/<n>` with `n` bytes.
fn sized_origin() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            std::thread::spawn(move || serve_sized(conn));
        }
    });
    addr
}

fn serve_sized(conn: TcpStream) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let size: usize = line
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.trim_start_matches('/').parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                if n.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&vec![b'x'; size]).is_err() {
            return;
        }
    }
}

/// Sends `GET|POST /<size>` with `upload` bytes of body and reads the whole answer: the
/// seconds it took and the body length received.
fn transfer(port: u16, size: usize, upload: usize) -> (f64, usize) {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let method = if upload > 0 { "POST" } else { "GET" };
    let head = format!(
        "{method} /{size} HTTP/1.1\r\nhost: t\r\ncontent-length: {upload}\r\nconnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&vec![b'u'; upload]).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |p| p + 4);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer[..split])
    );
    let secs = start.elapsed().as_secs_f64();
    eprintln!("{method} /{size} with {upload} bytes up: {secs:.2}s");
    (secs, answer.len() - split)
}

#[test]
fn per_stream_limits_pace_downloads_and_uploads() {
    let origin = sized_origin();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    filter bwlim-out down default-limit 100k default-period 1s
    filter bwlim-in up default-limit 100k default-period 1s min-size 1448
    http-request set-bandwidth-limit up if {{ path_beg /2 }} {{ method POST }}
    http-request set-bandwidth-limit down limit int(51200) period int(1000) if {{ path /100000 }}
    http-response set-bandwidth-limit down if {{ res.hdr(content-length) 200000 }}
    default_backend be
backend be
    server s1 {origin}
"
    );
    let _p = Proxy::start(&cfg, port);
    // 200 kB at 100 kB/s: about two seconds.
    let (secs, len) = transfer(port, 200_000, 0);
    assert_eq!(len, 200_000);
    assert!(secs >= 1.5, "a limited 200 kB download took {secs:.2}s");
    // The same size unlimited goes at once.
    let (secs, len) = transfer(port, 200_001, 0);
    assert_eq!(len, 200_001);
    assert!(secs < 1.0, "an unlimited 200 kB download took {secs:.2}s");
    // The rule's own limit: 100 kB at 50 kB/s.
    let (secs, len) = transfer(port, 100_000, 0);
    assert_eq!(len, 100_000);
    assert!(secs >= 1.5, "100 kB at 50 kB/s took {secs:.2}s");
    // 200 kB uploaded at 100 kB/s.
    let (secs, _) = transfer(port, 2, 200_000);
    assert!(secs >= 1.5, "a limited 200 kB upload took {secs:.2}s");
    let (secs, _) = transfer(port, 3, 200_000);
    assert!(secs < 1.0, "an unlimited 200 kB upload took {secs:.2}s");
}

#[test]
fn a_shared_limit_is_split_between_the_streams_of_one_key() {
    let origin = sized_origin();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    filter bwlim-out by-src limit 100k key src table st
    http-request set-bandwidth-limit by-src
    default_backend be
backend be
    server s1 {origin}
backend st
    stick-table type ip size 1k expire 10s store bytes_out_rate(1s)
"
    );
    let _p = Proxy::start(&cfg, port);
    // Two 100 kB downloads side by side from one address share 100 kB/s: both together
    // take about two seconds, where each alone at the full limit would take one.
    let start = Instant::now();
    let both: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || transfer(port, 100_000, 0)))
        .collect();
    for t in both {
        assert_eq!(t.join().unwrap().1, 100_000);
    }
    let secs = start.elapsed().as_secs_f64();
    assert!(secs >= 1.5, "two shared 100 kB downloads took {secs:.2}s");
}

/// A TCP server that sends `size` bytes to each client, then closes.
fn sending_origin(size: usize) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = conn.write_all(&vec![b'd'; size]);
            });
        }
    });
    addr
}

/// Connects, reads to the end: the seconds it took and the bytes received.
fn download(port: u16) -> (f64, usize) {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    (start.elapsed().as_secs_f64(), got.len())
}

#[test]
fn tcp_rules_enable_limits_on_the_tunnel() {
    let origin = sending_origin(200_000);
    let port = free_ports(3);
    let cfg = format!(
        "{DEFAULTS}
frontend limited
    mode tcp
    bind 127.0.0.1:{port}
    filter bwlim-out dl default-limit 100k default-period 1s
    tcp-request content set-bandwidth-limit dl
    default_backend be
frontend free
    mode tcp
    bind 127.0.0.1:{}
    default_backend be
frontend by-response
    mode tcp
    bind 127.0.0.1:{}
    default_backend paced
backend be
    mode tcp
    server s1 {origin}
backend paced
    mode tcp
    filter bwlim-out rdl default-limit 50k default-period 1s
    tcp-response inspect-delay 1s
    tcp-response content set-bandwidth-limit rdl limit int(102400)
    server s1 {origin}
",
        port + 1,
        port + 2
    );
    let _p = Proxy::start(&cfg, port);
    let (secs, len) = download(port);
    assert_eq!(len, 200_000);
    assert!(secs >= 1.5, "a limited 200 kB tunnel took {secs:.2}s");
    let (secs, len) = download(port + 1);
    assert_eq!(len, 200_000);
    assert!(secs < 1.0, "an unlimited 200 kB tunnel took {secs:.2}s");
    let (secs, len) = download(port + 2);
    assert_eq!(len, 200_000);
    assert!(
        secs >= 1.5,
        "a tunnel limited by a response rule took {secs:.2}s"
    );
}
