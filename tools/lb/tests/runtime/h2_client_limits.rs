//! HTTP/2 clients that give up on a stream, or send a header block past HAProxy's limits,
//! answered and logged as HAProxy 2.7.0 answers and logs them: a stream reset while the server
//! has its request is a client abort (no status, no bytes, `CD`); a block whose frames exceed a
//! buffer ends the connection (GOAWAY `INTERNAL_ERROR`), one with too many fields too (GOAWAY
//! `COMPRESSION_ERROR`), and a request too large once decoded has its stream reset
//! (`PROTOCOL_ERROR`), none of them logged.

use crate::abort_on_close::counting_server;
use crate::harness::*;
use crate::tcp_logs_lifecycle::assert_same_stable_fields;
use crate::websocket_checks::{frame, literal};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::Duration;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 1;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

fn config(port: u16, server: SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    option httplog
frontend fe
    bind 127.0.0.1:{port} proto h2
    default_backend app
backend app
    server s1 {server}
"
    )
}

/// A request's header block: the pseudo-headers, then `fields`.
fn block(method: &str, path: &str, fields: &[(String, String)]) -> Vec<u8> {
    let mut out = [
        literal(":method", method),
        literal(":scheme", "http"),
        literal(":path", path),
        literal(":authority", "a"),
    ]
    .concat();
    for (n, v) in fields {
        out.extend(literal(n, v));
    }
    out
}

/// `block` on stream 1 in frames of at most 16384 bytes (HEADERS, then CONTINUATION), as
/// clients split a large block.
fn header_frames(block: &[u8], end_stream: bool) -> Vec<u8> {
    let chunks: Vec<&[u8]> = block.chunks(16384).collect();
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let kind = if i == 0 { HEADERS } else { CONTINUATION };
        let mut flags = if i + 1 == chunks.len() {
            END_HEADERS
        } else {
            0
        };
        if i == 0 && end_stream {
            flags |= END_STREAM;
        }
        out.extend(frame(kind, flags, 1, chunk));
    }
    out
}

fn open(port: u16) -> TcpStream {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(4, 0, 0, &[]));
    s.write_all(&hello).unwrap();
    s
}

/// How stream 1 ended, as the proxy's frames tell: `answered` (its response ended),
/// `reset <code>`, `goaway <code>` (with the last stream the proxy took), or `closed`.
fn outcome(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let (kind, flags) = (buf[3], buf[4]);
            let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            let payload = buf[9..9 + len].to_vec();
            buf.drain(..9 + len);
            let word = |at: usize| {
                u32::from_be_bytes([
                    payload[at],
                    payload[at + 1],
                    payload[at + 2],
                    payload[at + 3],
                ])
            };
            match (kind, stream) {
                (0 | 1, 1) if flags & END_STREAM != 0 => return "answered".into(),
                (3, 1) => return format!("reset {}", word(0)),
                (7, 0) => return format!("goaway {} last {}", word(4), word(0)),
                _ => {}
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return "closed".into(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A client resets stream 1 (`CANCEL`) once the server has its request: a POST whose body is
/// still coming, and a GET sent whole. Both are logged as client aborts in the data phase.
#[test]
fn a_stream_reset_while_the_server_has_the_request_is_logged_as_a_client_abort() {
    let fixture = || {
        counting_server(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            Duration::from_secs(2),
        )
    };
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("HTTP/2.0\""))
            .map(str::to_string)
            .collect()
    };
    let (mine, theirs) = both_sides(
        1,
        fixture,
        |port, (server, _)| config(port, *server),
        |port, (_, got), side| {
            for upload in [true, false] {
                let before = got.load(Ordering::SeqCst);
                let mut s = open(port);
                let mut out = if upload {
                    let fields = [("content-length".to_string(), "100000".to_string())];
                    let mut out = header_frames(&block("POST", "/up", &fields), false);
                    out.extend(frame(0, 0, 1, &[b'x'; 1000]));
                    out
                } else {
                    header_frames(&block("GET", "/get", &[]), true)
                };
                s.write_all(&out).unwrap();
                assert!(wait_until(Duration::from_secs(20), || got
                    .load(Ordering::SeqCst)
                    > before));
                out = frame(3, 0, 1, &8u32.to_be_bytes());
                s.write_all(&out).unwrap();
                // Its line is written before the next request is sent.
                let n = if upload { 1 } else { 2 };
                side.selected(lines, n);
            }
            side.selected(lines, 2)
        },
    );
    assert_eq!(mine.len(), 2, "{mine:?}");
    for line in &mine {
        assert!(
            line.contains(" app/s1 ") && line.contains(" -1 0 - - CD-- "),
            "{line}"
        );
        // No response time: the server never answered.
        let timers = line.split(' ').nth(4).unwrap_or("");
        assert!(timers.split('/').nth(3) == Some("-1"), "{line}");
    }
    if let Some(theirs) = theirs {
        assert_same_stable_fields(&theirs, &mine);
    }
}

/// Header blocks around each of HAProxy's limits (default `tune.bufsize` 16384,
/// `tune.maxrewrite` 1024, `tune.http.maxhdr` 101), with the limit's edge on both sides, then
/// a request that passes: how each stream ended on the wire.
fn limits_drive(port: u16) -> Vec<(String, String)> {
    let big = |n: usize| vec![("x-big".to_string(), "a".repeat(n))];
    let many = |n: usize| {
        (0..n)
            .map(|i| (format!("x-h{i}"), "v".to_string()))
            .collect::<Vec<_>>()
    };
    let cases = [
        // Decoded, the head leaves the rewrite room free up to here.
        ("15226-byte field", block("GET", "/big", &big(15226))),
        ("15227-byte field", block("GET", "/big", &big(15227))),
        // The frames fill the buffer up to here.
        ("16321-byte field", block("GET", "/big", &big(16321))),
        ("16322-byte field", block("GET", "/big", &big(16322))),
        ("20000-byte field", block("GET", "/big", &big(20000))),
        // With the four pseudo-headers, 201 fields fit in the decoder's list.
        ("197 fields", block("GET", "/many", &many(197))),
        ("198 fields", block("GET", "/many", &many(198))),
        ("last", block("GET", "/last", &[])),
    ];
    cases
        .iter()
        .map(|(name, b)| {
            let mut s = open(port);
            s.write_all(&header_frames(b, true)).unwrap();
            (name.to_string(), outcome(&mut s))
        })
        .collect()
}

fn answered_paths(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("HTTP/2.0\"") || l.contains("BADREQ"))
        .filter_map(|l| l.split(' ').rev().nth(1).map(str::to_string))
        .collect()
}

#[test]
fn header_blocks_past_haproxys_limits_end_the_stream_or_connection_as_haproxy_does() {
    // The server closes each connection once it has answered, and says so: a connection kept
    // for reuse and then closed by the server could meet the next request (HAProxy then
    // refuses that stream).
    let fixture = || {
        counting_server(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            Duration::ZERO,
        )
    };
    let (mine, theirs) = both_sides(
        1,
        fixture,
        |port, (server, _)| config(port, *server),
        |port, _, side| {
            let outcomes = limits_drive(port);
            // The last request's line comes after any the others would have written.
            let log = side.stdout_when(|l| l.contains("/last HTTP/2.0\""));
            (outcomes, answered_paths(&log))
        },
    );
    let expected = [
        ("15226-byte field", "answered"),
        ("15227-byte field", "reset 1"),
        ("16321-byte field", "reset 1"),
        ("16322-byte field", "goaway 2 last 0"),
        ("20000-byte field", "goaway 2 last 0"),
        ("197 fields", "answered"),
        ("198 fields", "goaway 9 last 0"),
        ("last", "answered"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(mine.0, expected);
    // Only the requests that were answered are logged, as HAProxy 2.7 logs them (2.6 logged
    // the others as `<BADREQ>`).
    let paths = ["http://a/big", "http://a/many", "http://a/last"];
    assert_eq!(mine.1, paths.map(String::from));
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, mine.0);
    }
    // HAProxy 2.7.0 itself, when built, for the log.
    let Some(program) = haproxy_27() else {
        return;
    };
    let (server, _) = fixture();
    let port = free_port();
    let mut h = Haproxy::start_program(&program, &config(port, server), port, &["-db"]);
    let theirs = limits_drive(port);
    let log = h.stop_when(Duration::from_secs(10), |l| l.contains("/last HTTP/2.0\""));
    assert_eq!(theirs, mine.0);
    assert_eq!(answered_paths(&log), mine.1, "{log}");
}
