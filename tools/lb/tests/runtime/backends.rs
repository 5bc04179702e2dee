//! Backends: balancing, health checks, maxconn queues, backup servers, retries with
//! redispatch when a server dies under load, and idle-connection reuse.

use crate::harness::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn get(port: u16, path: &str) -> (u16, String) {
    let out = raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
        Duration::from_secs(10),
    );
    let code = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, out)
}

fn name_of(body: &str) -> String {
    body.lines()
        .find_map(|l| l.strip_prefix("name="))
        .unwrap_or("")
        .to_string()
}

#[test]
fn balance_algorithms_spread_and_stick() {
    let a = Origin::start("a");
    let b = Origin::start("b");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    use_backend by_src if {{ path_beg /src }}
    use_backend by_param if {{ path_beg /param }}
    use_backend by_uri if {{ path_beg /uri }}
    default_backend rr
backend rr
    balance roundrobin
    server a {a} weight 1
    server b {b} weight 1
backend by_src
    balance source
    server a {a}
    server b {b}
backend by_param
    balance url_param user
    server a {a}
    server b {b}
backend by_uri
    balance uri
    hash-type consistent djb2 avalanche
    server a {a}
    server b {b}
",
        a = a.addr,
        b = b.addr
    );
    let _p = Proxy::start(&cfg, port);
    let replies: Vec<String> = (0..6).map(|_| get(port, "/").1).collect();
    let names: Vec<String> = replies.iter().map(|r| name_of(r)).collect();
    assert_eq!(
        names.iter().filter(|n| *n == "a").count(),
        3,
        "{replies:#?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "b").count(),
        3,
        "{replies:#?}"
    );
    let src: Vec<String> = (0..4).map(|_| name_of(&get(port, "/src").1)).collect();
    assert!(src.iter().all(|n| *n == src[0]), "{src:?}");
    let p1: Vec<String> = (0..3)
        .map(|_| name_of(&get(port, "/param?user=alice").1))
        .collect();
    assert!(p1.iter().all(|n| *n == p1[0]), "{p1:?}");
    // Consistent hashing: a path always lands on the same server; paths spread over both.
    let first: Vec<String> = (0..16)
        .map(|i| name_of(&get(port, &format!("/uri/{i}")).1))
        .collect();
    let again: Vec<String> = (0..16)
        .map(|i| name_of(&get(port, &format!("/uri/{i}")).1))
        .collect();
    assert_eq!(first, again);
    assert!(
        first.iter().any(|n| n == "a") && first.iter().any(|n| n == "b"),
        "{first:?}"
    );
}

#[test]
fn server_killed_mid_load_gives_no_client_error() {
    let a = Origin::start("a");
    let mut b = Origin::start("b");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}    retries 3
    retry-on conn-failure empty-response response-timeout
    option redispatch
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    server a {} check inter 200ms fall 1
    server b {} check inter 200ms fall 1
",
        a.addr, b.addr
    );
    let _p = Proxy::start(&cfg, port);
    let failures = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (f, d) = (failures.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..60 {
                    let (code, out) = get(port, "/slow/5");
                    if code != 200 {
                        eprintln!("failed: {out}");
                        f.fetch_add(1, Ordering::SeqCst);
                    }
                    d.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < 60 {
        std::thread::sleep(Duration::from_millis(5));
    }
    b.kill();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert!(
        a.hits.load(Ordering::SeqCst) > 120,
        "the surviving server took over"
    );
}

#[test]
fn health_checks_take_servers_out_and_back() {
    let a = Origin::start("a");
    let b = Origin::start("b");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    option httpchk GET /health
    http-check expect status 200
    server a {} check inter 100ms rise 2 fall 2
    server b {} check inter 100ms rise 2 fall 2
",
        a.addr, b.addr
    );
    let p = Proxy::start(&cfg, port);
    b.sick.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(900));
    let names: Vec<String> = (0..6).map(|_| name_of(&get(port, "/").1)).collect();
    assert!(names.iter().all(|n| n == "a"), "{names:?}");
    assert!(
        p.stderr().contains("Server app/b is DOWN"),
        "{}",
        p.stderr()
    );
    b.sick.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(900));
    let names: Vec<String> = (0..6).map(|_| name_of(&get(port, "/").1)).collect();
    assert!(names.iter().any(|n| n == "b"), "{names:?}");
    assert!(p.stderr().contains("Server app/b is UP"), "{}", p.stderr());
}

#[test]
fn maxconn_queues_and_backup_servers() {
    let a = Origin::start("a");
    let spare = Origin::start("spare");
    let port = free_port();
    let dead = free_port();
    let cfg = format!(
        "{DEFAULTS}    timeout queue 5s
    retries 2
    option redispatch
frontend fe
    bind 127.0.0.1:{port}
    use_backend withbackup if {{ path_beg /b }}
    default_backend limited
backend limited
    server a {} maxconn 1
backend withbackup
    server main 127.0.0.1:{dead} check inter 100ms fall 1
    server spare {} backup
",
        a.addr, spare.addr
    );
    let _p = Proxy::start(&cfg, port);
    let start = Instant::now();
    let t: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || get(port, "/slow/400").0))
        .collect();
    let codes: Vec<u16> = t.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(codes, vec![200, 200]);
    assert!(
        start.elapsed() >= Duration::from_millis(800),
        "the second request waited in the queue"
    );
    let (code, body) = get(port, "/b");
    assert_eq!((code, name_of(&body).as_str()), (200, "spare"), "{body}");
}

/// An origin and a proxy in front of it whose defaults end with `reuse` (reuse settings).
fn reuse_setup(reuse: &str) -> (Origin, Proxy, u16) {
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "global
    nbthread 1
{DEFAULTS}{reuse}
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s {}
",
        o.addr
    );
    let p = Proxy::start(&cfg, port);
    (o, p, port)
}

fn reuse_connections(retry_on: &str) -> usize {
    let (o, _p, port) = reuse_setup(&format!("    http-reuse safe\n    retry-on {retry_on}"));
    for _ in 0..3 {
        assert_eq!(get(port, "/").0, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    o.conns.load(Ordering::SeqCst)
}

#[test]
fn first_requests_reuse_idle_connections_only_with_retry_on() {
    // nbthread may spread client connections over threads, each with its own idle pool, so
    // compare against the number of threads rather than exactly one connection.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(64);
    let with = reuse_connections("conn-failure empty-response response-timeout");
    let without = reuse_connections("conn-failure");
    assert_eq!(
        without, 3,
        "safe mode without retry-on opens one connection per first request"
    );
    assert!(
        with <= threads.min(3),
        "with retry-on, idle connections serve first requests ({with})"
    );
}

/// Sends one keep-alive request on `s` and reads its whole response (by its length).
fn exchange_kept_alive(s: &mut std::net::TcpStream) -> String {
    use std::io::{Read, Write};
    s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

#[test]
fn an_idle_server_connection_serves_other_sessions_while_its_own_stays_open() {
    // As in HAProxy, a connection whose response is over goes back to the server's idle pool
    // at once: another client's request may take it while the first client idles.
    let (o, _p, port) = reuse_setup("    http-reuse always");
    let mut first = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(exchange_kept_alive(&mut first).starts_with("HTTP/1.1 200"));
    let mut second = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(exchange_kept_alive(&mut second).starts_with("HTTP/1.1 200"));
    // And the first client's next request takes it back (or another idle one).
    assert!(exchange_kept_alive(&mut first).starts_with("HTTP/1.1 200"));
    assert_eq!(o.conns.load(Ordering::SeqCst), 1);
}

#[test]
fn http_reuse_never_keeps_server_connections_private_to_their_session() {
    let (o, _p, port) = reuse_setup("    http-reuse never");
    // Three pipelined requests on one client connection share one kept-alive server connection.
    let one = "GET / HTTP/1.1\r\nhost: a\r\n\r\n";
    let close = "GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n";
    let answers = raw(
        port,
        format!("{one}{one}{close}").as_bytes(),
        Duration::from_secs(5),
    );
    assert_eq!(answers.matches("HTTP/1.1 200").count(), 3, "{answers}");
    assert_eq!(o.conns.load(Ordering::SeqCst), 1);
    // Later sessions never get that connection, even after its session ended.
    for _ in 0..2 {
        assert_eq!(get(port, "/").0, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(o.conns.load(Ordering::SeqCst), 3);
}

#[test]
fn a_server_answering_before_the_upload_ends_is_heard_at_once() {
    // The server sends a large answer as soon as it has the request head, and reads the
    // upload only after: the proxy has to carry both directions at once.
    const ANSWER: usize = 16 << 20;
    const UPLOAD: usize = 16 << 20;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = l.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = l.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ =
            s.write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {ANSWER}\r\n\r\n").as_bytes());
        let _ = s.write_all(&vec![b'a'; ANSWER]);
        let mut sink = vec![0u8; 1 << 16];
        while s.read(&mut sink).unwrap_or(0) > 0 {}
    });
    let port = free_port();
    let cfg = format!(
        "global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 20s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s {server}
"
    );
    let _p = Proxy::start(&cfg, port);
    use std::io::Read;
    let mut s = start_upload(port, UPLOAD);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut got = 0usize;
    let mut head = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while got < ANSWER {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {got} body bytes");
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            got += n;
        } else {
            head.extend_from_slice(&buf[..n]);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                assert!(head.starts_with(b"HTTP/1.1 200"));
                got += head.len() - (end + 4);
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the answer waited for timeout server: {:?}",
        started.elapsed()
    );
}

/// Sends the head of a POST of `len` bytes to the proxy on `port`, and the body from another
/// thread (until the proxy stops taking it); answers the connection to read the response on.
fn start_upload(port: u16, len: usize) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        format!("POST /up HTTP/1.1\r\nhost: a\r\ncontent-length: {len}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut uploader = s.try_clone().unwrap();
    std::thread::spawn(move || {
        let chunk = vec![b'u'; 1 << 16];
        for _ in 0..len / chunk.len() {
            if uploader.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    s
}

/// One frontend on `port` and one server, with `timeout server 500ms`.
fn server_timeout_config(port: u16, client_timeout: &str, server: std::net::SocketAddr) -> String {
    format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client {client_timeout}
    timeout server 500ms
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s {server}
"
    )
}

#[test]
fn a_server_stalling_mid_body_is_cut_at_timeout_server() {
    // The head and part of the body come at once; the rest never does.
    let stalling = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst part",
        Duration::ZERO,
        Duration::from_secs(10),
    );
    let port = free_port();
    let _p = Proxy::start(&server_timeout_config(port, "5s", stalling), port);
    let started = Instant::now();
    let answer = raw(
        port,
        b"GET / HTTP/1.1\r\nhost: a\r\n\r\n",
        Duration::from_secs(8),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("first part"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the client connection closed when the server stalled, not when it gave up"
    );
}

#[test]
fn a_server_that_stops_reading_an_upload_is_given_up_at_timeout_server() {
    // The server reads the first bytes of the request and then nothing more.
    let deaf = raw_server(b"", Duration::from_secs(20), Duration::ZERO);
    let port = free_port();
    let _p = Proxy::start(&server_timeout_config(port, "20s", deaf), port);
    use std::io::Read;
    // More than the socket buffers between the proxy and the server can hold.
    let mut s = start_upload(port, 256 << 20);
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(n) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "gave up after {:?}",
        started.elapsed()
    );
}

#[test]
fn server_failures_map_to_502_504_and_status_retries() {
    let junk = raw_server(b"this is not HTTP\r\n\r\n", Duration::ZERO, Duration::ZERO);
    let silent = raw_server(b"", Duration::ZERO, Duration::ZERO);
    let slow = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        Duration::from_secs(3),
        Duration::ZERO,
    );
    let failing = raw_server(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
        Duration::ZERO,
        Duration::ZERO,
    );
    let good = Origin::start("good");
    let port = free_port();
    let cfg = format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 500ms
    retries 2
frontend fe
    bind 127.0.0.1:{port}
    use_backend junk if {{ path /junk }}
    use_backend silent if {{ path /silent }}
    use_backend slow if {{ path /slow }}
    default_backend retried
backend junk
    server j {junk}
backend silent
    server s {silent}
backend slow
    server s {slow}
backend retried
    balance first
    retry-on 503
    option redispatch
    server failing {failing}
    server good {}
",
        good.addr
    );
    let _p = Proxy::start(&cfg, port);
    assert_eq!(get(port, "/junk").0, 502);
    assert_eq!(get(port, "/silent").0, 502);
    let start = Instant::now();
    let (code, body) = get(port, "/slow");
    assert_eq!(code, 504, "{body}");
    assert!(body.contains("<h1>504 Gateway Time-out</h1>"));
    assert!(start.elapsed() < Duration::from_secs(2));
    // The first server answers 503: retried on the other one, the client sees 200.
    let (code, body) = get(port, "/");
    assert_eq!((code, name_of(&body).as_str()), (200, "good"), "{body}");
}

/// A server going down and coming back leaves the others' turns in `balance roundrobin` as
/// HAProxy's trees do (the rotation goes on without it, and takes it back at the place its
/// weight gives), rather than starting the rotation over. Servers are taken out and put back
/// with the Runtime API; side by side with Debian's haproxy.
#[test]
fn roundrobin_keeps_its_turns_when_a_server_goes_down_and_up() {
    let (mine, theirs) = turns_as_servers_change(
        "roundrobin",
        &[
            ("", 5),
            ("disable server be/c", 7),
            ("enable server be/c", 9),
            ("disable server be/a", 6),
        ],
    );
    assert_eq!(
        mine,
        [
            "c b c d a",
            "b d b d b d a",
            "b c d b c a d c b",
            "c d b c d c"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
