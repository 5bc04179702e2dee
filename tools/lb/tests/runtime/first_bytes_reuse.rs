//! What goes on the wire before and between requests, side by side with Debian's haproxy: a
//! `proto h2` listener given an HTTP/1 request closes without sending anything (no SETTINGS
//! before the client's preface), a TCP connection its content rules reject closes with a FIN
//! even when more came than was inspected, and a `send-proxy` server's idle connection is taken again
//! only by a request that would send the same PROXY header (the same client connection's).

use super::harness::{both_reading, both_with, connect, DEFAULTS, LOGGED_DEFAULTS};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the listener sent back to an HTTP/1 request (with a field of `fill` bytes) before
/// closing, and how it closed: `"fin"`, `"reset"` (bytes left unread) or `"open"`.
fn answer_to_http1(port: u16, fill: usize) -> (Vec<u8>, &'static str) {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let filler = "x".repeat(fill);
    // One write: the listener may close as soon as it has judged the first bytes.
    let request = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Fill: {filler}\r\n\r\n");
    if let Err(e) = s.write_all(request.as_bytes()) {
        panic!("port {port}: the request could not be written whole: {e}");
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, "fin"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, "reset"),
            Err(_) => return (got, "open"),
        }
    }
}

/// Nothing is sent back, even to a request longer than a buffer (what is past it is drained,
/// the close is a FIN); the connection is logged as a bad request without a status.
#[test]
fn a_proto_h2_listener_closes_silently_on_http1_as_haproxy() {
    let (ours, theirs) = both_reading(
        1,
        |port| {
            format!(
                "{LOGGED_DEFAULTS}    log-format \"%ST %B %tsc %{{+Q}}r %TR\"
frontend fe
    bind 127.0.0.1:{port} proto h2
    http-request return status 200
"
            )
        },
        |port, side| {
            let answer = answer_to_http1(port, 24 * 1024);
            let log = side.stdout_when(|out| out.contains("BADREQ"));
            let line = log
                .lines()
                .find(|l| l.contains("BADREQ"))
                .map(str::to_string);
            (answer, line)
        },
    );
    assert_eq!(
        ours,
        (
            (Vec::new(), "fin"),
            Some("0 0 PR-- \"<BADREQ>\" -1".to_string())
        ),
        "hapee sent bytes, kept the connection or logged otherwise"
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// Fewer bytes than the preface's length are not judged: the connection waits for more
/// until `timeout client`, then closes unlogged (an HTTP/0.9 request, say); a whole HTTP/1
/// request after it is the only one logged.
#[test]
fn a_proto_h2_listener_waits_for_the_preface_length_as_haproxy() {
    let (ours, theirs) = both_reading(
        1,
        |port| {
            format!(
                "{LOGGED_DEFAULTS}    log-format \"%ST %B %tsc %{{+Q}}r %TR\"
    timeout client 300ms
frontend fe
    bind 127.0.0.1:{port} proto h2
    http-request return status 200
"
            )
        },
        |port, side| {
            let mut s = connect(("127.0.0.1", port));
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"GET /\r\n").unwrap();
            let mut buf = [0u8; 64];
            let short = s.read(&mut buf).map(|n| n == 0).unwrap_or(false);
            let whole = answer_to_http1(port, 16);
            let log = side.stdout_when(|out| out.contains("BADREQ"));
            let lines = log.lines().filter(|l| l.contains("BADREQ")).count();
            (short, whole, lines)
        },
    );
    assert_eq!(ours, (true, (Vec::new(), "fin"), 1));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// 24 kB where the rules inspect a buffer's worth: the rest is drained before the close.
#[test]
fn a_rejected_tcp_connection_closes_with_a_fin_as_haproxy() {
    let (ours, theirs) = both_reading(
        1,
        |port| {
            format!(
                "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen li
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 100ms
    tcp-request content accept if {{ req.len eq 14 }}
    tcp-request content reject
    server s 127.0.0.1:1
"
            )
        },
        |port, _| answer_to_http1(port, 24 * 1024),
    );
    assert_eq!(ours, (Vec::new(), "fin"));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// An origin that answers every request head at once, keeping its connections open, and
/// counts the connections it accepted.
struct CountingOrigin {
    port: u16,
    conns: Arc<AtomicUsize>,
}

impl CountingOrigin {
    fn start() -> CountingOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let conns = Arc::new(AtomicUsize::new(0));
        let counted = conns.clone();
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    let mut answered = 0;
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        // Each request's head ends with an empty line (no request has a
                        // body); a PROXY v2 signature holds one too, not counted.
                        let v2 = seen.starts_with(b"\r\n\r\n\0\r\nQUIT\n");
                        let heads =
                            seen.windows(4).filter(|w| w == b"\r\n\r\n").count() - usize::from(v2);
                        while answered < heads {
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                            answered += 1;
                        }
                    }
                });
            }
        });
        CountingOrigin { port, conns }
    }
}

/// Two requests, one after the other, on one client connection to `port` (or each on its
/// own, `apart`); how many connections the origin accepted meanwhile.
fn two_requests(port: u16, origin: &CountingOrigin, apart: bool) -> usize {
    let before = origin.conns.load(Ordering::SeqCst);
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for path in ["/one", "/two"] {
        if apart && path == "/two" {
            s = connect(("127.0.0.1", port));
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        }
        write!(s, "GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"ok") && Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    origin.conns.load(Ordering::SeqCst) - before
}

/// The same client's next request finds the connection whatever the header's version; under
/// `http-reuse always` another client's takes a plain server's idle connection, never a
/// `send-proxy` one's (its header names the first client).
#[test]
fn send_proxy_connections_are_reused_as_haproxy() {
    let cases = [
        ("send-proxy", "safe", false, 1),
        ("send-proxy-v2", "safe", false, 1),
        ("send-proxy", "always", true, 2),
        ("", "always", true, 1),
    ];
    for (option, reuse, apart, want) in cases {
        let (ours, theirs) = both_with(
            CountingOrigin::start,
            |port, origin| {
                format!(
                    "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    http-reuse {reuse}
    server s 127.0.0.1:{} {option}
",
                    origin.port
                )
            },
            |port, origin| two_requests(port, origin, apart),
        );
        let case = format!("[{option}] http-reuse {reuse}, apart: {apart}");
        assert_eq!(ours, want, "{case}: server connections for two requests");
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{case}");
        }
    }
}
