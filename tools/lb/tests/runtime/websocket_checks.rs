//! HTTP/1 protocol switches as HAProxy 2.7's HTTP/1 parser takes them: a WebSocket handshake
//! (`Connection: upgrade`, `Upgrade: websocket`) without a 24-character `Sec-WebSocket-Key`
//! is refused with a 400 before any server is contacted; a request with a body switches
//! nothing (its `Upgrade` is dropped); a 101 to a request that asked for no switch is an
//! invalid response (502). Over HTTP/2, an extended CONNECT without `:authority` is reset
//! with `PROTOCOL_ERROR`. A WebSocket stream may take an idle server connection that speaks
//! its protocol. Compared with Debian's haproxy side by side.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server that records each request head (header lines in lower case, `connection`
/// left out) and answers a 101 to any request naming `websocket` in an `Upgrade` header or
/// asking for `/101`, a 200 otherwise; it closes the connection shortly after.
fn recording_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut s = s;
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let fields: Vec<&str> = text
                    .split("\r\n\r\n")
                    .next()
                    .unwrap_or("")
                    .lines()
                    .skip(1)
                    .filter(|l| !l.starts_with("connection:") && !l.starts_with("x-"))
                    .collect();
                let upgrade = text.starts_with("get /101 ")
                    || fields
                        .iter()
                        .any(|l| l.starts_with("upgrade:") && l.contains("websocket"));
                log.lock().unwrap().push(fields.join("|"));
                let reply: &[u8] = if upgrade {
                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                };
                let _ = s.write_all(reply);
                std::thread::sleep(Duration::from_millis(200));
            });
        }
    });
    (addr, seen)
}

fn config(port: u16, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 {server}
"
    )
}

const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

fn requests() -> Vec<String> {
    let ws = "Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n";
    vec![
        format!("GET / HTTP/1.1\r\nHost: a\r\n{ws}\r\n"),
        format!("GET / HTTP/1.1\r\nHost: a\r\n{ws}Sec-WebSocket-Key: abc\r\n\r\n"),
        format!("GET / HTTP/1.0\r\nHost: a\r\n{ws}\r\n"),
        format!("GET / HTTP/1.1\r\nHost: a\r\n{ws}Sec-WebSocket-Key: abc\r\n{KEY}\r\n"),
        format!("POST / HTTP/1.1\r\nHost: a\r\n{ws}Content-Length: 2\r\n\r\nab"),
        "GET /101 HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
    ]
}

/// Each request on its own connection: the status the client got.
fn drive(port: u16) -> Vec<String> {
    requests()
        .iter()
        .map(|r| {
            // A switched or kept connection stays open: its answer's head is what counts.
            let answer = raw_until(port, r.as_bytes(), has_head, Duration::from_secs(20));
            answer.split(' ').nth(1).unwrap_or("closed").to_string()
        })
        .collect()
}

#[test]
fn websocket_handshakes_need_a_key_and_bodies_switch_nothing() {
    let ((mine, mine_seen), theirs) = both_with(
        recording_server,
        |port, (server, _)| config(port, *server),
        |port, (_, seen)| (drive(port), seen.lock().unwrap().clone()),
    );
    assert_eq!(mine, ["400", "400", "400", "101", "200", "502"]);
    assert_eq!(
        mine_seen,
        [
            "host: a|upgrade: websocket|sec-websocket-key: abc|\
             sec-websocket-key: dghlihnhbxbszsbub25jzq==",
            "host: a|content-length: 2",
            "host: a",
        ]
    );
    let Some((theirs, their_seen)) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
    assert_eq!(their_seen, mine_seen);
}

/// One thread: idle connections are kept per thread.
fn reuse_config(port: u16, server: SocketAddr) -> String {
    format!(
        "global
    nbthread 1
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    http-reuse always
    server s1 {server}
"
    )
}

/// A request, a WebSocket handshake (whose tunnel echoes in upper case) from another client,
/// then another request: the server connections each needed, counted by the origin.
fn reuse_drive(port: u16, origin: &Origin) -> (String, usize, usize) {
    let get = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    raw(port, get, Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(100));
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let head = format!(
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n{KEY}\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    s.write_all(b"ping").unwrap();
    let n = s.read(&mut buf).unwrap_or(0);
    let echoed = String::from_utf8_lossy(&buf[..n]).into_owned();
    let during = origin.conns.load(std::sync::atomic::Ordering::SeqCst);
    drop(s);
    std::thread::sleep(Duration::from_millis(200));
    raw(port, get, Duration::from_secs(2));
    let after = origin.conns.load(std::sync::atomic::Ordering::SeqCst);
    (echoed, during, after)
}

#[test]
fn a_websocket_handshake_may_take_an_idle_connection_but_never_gives_it_back() {
    let (mine, theirs) = both_with(
        || Origin::start("o"),
        |port, origin| reuse_config(port, origin.addr),
        reuse_drive,
    );
    // The handshake went on the first request's idle connection; the switch kept it.
    assert_eq!(mine, ("PING".to_string(), 1, 2));
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}

/// One HPACK field, literal and not indexed, without Huffman coding (RFC 7541 §6.2.2); lengths
/// past the 7-bit prefix go on in continuation bytes (§5.1).
pub(crate) fn literal(name: &str, value: &str) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        let mut n = s.len();
        if n < 127 {
            out.push(n as u8);
        } else {
            out.push(127);
            n -= 127;
            while n >= 128 {
                out.push((n % 128) as u8 | 0x80);
                n /= 128;
            }
            out.push(n as u8);
        }
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = vec![0u8];
    string(&mut out, name);
    string(&mut out, value);
    out
}

pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An extended CONNECT for WebSocket on stream 1 of a prior-knowledge HTTP/2 connection:
/// how the stream's first answer came (`headers`, or `reset <code>`).
fn extended_connect(port: u16, authority: bool) -> String {
    let mut block = [
        literal(":method", "CONNECT"),
        literal(":protocol", "websocket"),
        literal(":scheme", "http"),
        literal(":path", "/"),
    ]
    .concat();
    if authority {
        block.extend(literal(":authority", "a"));
    }
    block.extend(literal("sec-websocket-version", "13"));
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(4, 0, 0, &[]));
    out.extend(frame(1, 4, 1, &block));
    s.write_all(&out).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let (kind, stream) = (buf[3], u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]));
            let payload: Vec<u8> = buf[9..9 + len].to_vec();
            buf.drain(..9 + len);
            match (stream, kind) {
                (1, 1) => return "headers".into(),
                (1, 3) => {
                    let code = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                    return format!("reset {code}");
                }
                _ => {}
            }
        }
        match s.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return "closed".into(),
        }
    }
}

fn h2_config(port: u16, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port} proto h2
    default_backend be
backend be
    server s1 {server}
"
    )
}

fn h2_drive(port: u16) -> Vec<String> {
    vec![extended_connect(port, true), extended_connect(port, false)]
}

#[test]
fn an_extended_connect_without_authority_is_reset() {
    let (server, _) = recording_server();
    let (mine, theirs) = both(|port| h2_config(port, server), h2_drive);
    assert_eq!(mine, ["headers", "reset 1"]);
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}
