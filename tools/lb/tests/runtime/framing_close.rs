//! Side by side with Debian's haproxy, requests whose framing forces the connection to close
//! (HAProxy 2.7.0's h1.c, once a head is parsed): a `Transfer-Encoding` beside a
//! `Content-Length` (the length is dropped and the body read as chunked) and a
//! `Transfer-Encoding` in HTTP/1.0 (read as chunked too). Each is forwarded chunked; every
//! answer to it says `connection: close` and ends the client's connection, the pipelined
//! request behind it unserved. A chunked HTTP/1.0 request also goes on a server connection
//! that asks no keep-alive and is not used again (mux_h1.c forces the close on its output).

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a recording origin saw: for each connection, in the order they came, the requests it
/// carried as they came (head and body) and whether the proxy ended it.
#[derive(Default)]
struct Seen {
    conns: Vec<(Vec<String>, bool)>,
}

/// Reads one request (head, then a body framed by its chunking or its length) from `s`;
/// `None` once the connection ends.
fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    let mut fill = |buf: &mut Vec<u8>| match s.read(&mut chunk) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    };
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if !fill(buf) {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let end = if head.contains("transfer-encoding: chunked") {
        loop {
            if let Some(at) = buf[head_end..].windows(5).position(|w| w == b"0\r\n\r\n") {
                break head_end + at + 5;
            }
            if !fill(buf) {
                return None;
            }
        }
    } else {
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            if !fill(buf) {
                return None;
            }
        }
        head_end + length
    };
    let request = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end);
    Some(request)
}

/// An origin that records every request ([`Seen`]) and answers each with a short 200,
/// keeping its connection for more.
fn recording_origin() -> (SocketAddr, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            let index = {
                let mut log = log.lock().unwrap();
                log.conns.push(Default::default());
                log.conns.len() - 1
            };
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = Vec::new();
                while let Some(request) = read_request(&mut s, &mut buf) {
                    log.lock().unwrap().conns[index].0.push(request);
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_err()
                    {
                        break;
                    }
                }
                log.lock().unwrap().conns[index].1 = true;
            });
        }
    });
    (addr, seen)
}

fn exchange(port: u16, request: &str) -> String {
    crate::error_pages_wire::until_closed(port, request.as_bytes())
}

/// A proxy in front of `server`, whose idle connections `reuse` may share.
fn config(port: u16, server: SocketAddr, reuse: &str) -> String {
    crate::error_pages_wire::to_server(port, &format!("{server}\n    http-reuse {reuse}"))
}

const OK_CLOSE: &str =
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok<closed>";

const TOO_LARGE_413: &str = "HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\n\
     Cache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too \
     Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n<closed>";

/// Each framing that forces the close, a request pipelined behind it: the answer says close,
/// the connection ends, and the server gets the body chunked, without the length, in the
/// client's version and without its keep-alive. HTTP/1.0 GET with chunking is a 413.
#[test]
fn framing_that_forces_the_close_is_forwarded_chunked_and_ends_the_connection() {
    let cases = [
        "POST /cl-te HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n0\r\n\r\nGET /behind HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /te-cl HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n\
         5\r\nhello\r\n0\r\n\r\nGET /behind HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /te10 HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n0\r\n\r\nGET /behind HTTP/1.0\r\n\r\n",
        "POST /te10-cl HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n\
         3\r\nabc\r\n0\r\n\r\n",
        "GET /get10 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    let (mine, theirs) = both_with(
        recording_origin,
        |port, (origin, _)| config(port, *origin, "safe"),
        |port, (_, seen)| {
            let answers: Vec<String> = cases.iter().map(|r| exchange(port, r)).collect();
            // Each request's own server connection (a first request of its client's).
            let mut requests: Vec<String> = seen
                .lock()
                .unwrap()
                .conns
                .iter()
                .flat_map(|c| c.0.clone())
                .collect();
            requests.sort();
            (answers, requests)
        },
    );
    assert_eq!(
        mine.0,
        [OK_CLOSE, OK_CLOSE, OK_CLOSE, OK_CLOSE, TOO_LARGE_413]
    );
    assert_eq!(
        mine.1,
        [
            "POST /cl-te HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n\
             5\r\nhello\r\n0\r\n\r\n",
            "POST /te-cl HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n\
             5\r\nhello\r\n0\r\n\r\n",
            "POST /te10 HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "POST /te10-cl HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Even where any idle connection may carry any request (`http-reuse always`), the server
/// connection of a chunked HTTP/1.0 request carries no other: the proxy ends it once the
/// response is in, so that a server reading no body there never takes the chunks for a
/// request of its own. Under `option http-pretend-keepalive` it still says keep-alive.
#[test]
fn a_chunked_http10_request_has_a_server_connection_of_its_own() {
    a_server_connection_of_its_own("always", "");
    a_server_connection_of_its_own(
        "always\n    option http-pretend-keepalive",
        "connection: keep-alive\r\n",
    );
}

fn a_server_connection_of_its_own(reuse: &str, said: &str) {
    let request = "POST /te10 HTTP/1.0\r\nConnection: keep-alive\r\n\
                   Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (mine, theirs) = both_with(
        recording_origin,
        |port, (origin, _)| config(port, *origin, reuse),
        |port, (_, seen)| {
            let answers = [exchange(port, request), exchange(port, request)];
            // The proxy ends each server connection after its one request.
            let ended = wait_until(Duration::from_secs(10), || {
                let seen = seen.lock().unwrap();
                seen.conns.len() == 2 && seen.conns.iter().all(|c| c.1)
            });
            let conns: Vec<Vec<String>> = (seen.lock().unwrap().conns.iter())
                .map(|c| c.0.clone())
                .collect();
            (answers, ended, conns)
        },
    );
    assert_eq!(mine.0, [OK_CLOSE, OK_CLOSE]);
    assert!(
        mine.1,
        "the server connections were not ended: {:?}",
        mine.2
    );
    let one = vec![format!(
        "POST /te10 HTTP/1.0\r\ntransfer-encoding: chunked\r\n{said}\r\n5\r\nhello\r\n0\r\n\r\n"
    )];
    assert_eq!(mine.2, [one.clone(), one]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// An origin that answers by path with a response framed as the path says, keeping its
/// connection unless the proxy ends it; counts the connections it was given.
fn framing_origin() -> (SocketAddr, Arc<Mutex<usize>>) {
    let conns = Arc::new(Mutex::new(0));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let count = conns.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            *count.lock().unwrap() += 1;
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = Vec::new();
                while let Some(request) = read_request(&mut s, &mut buf) {
                    let reply: &[u8] = match request.split(' ').nth(1) {
                        Some("/te10") => {
                            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\
                              Connection: keep-alive\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                        }
                        Some("/te-cl") => {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\
                              Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                        }
                        _ => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                    };
                    if s.write_all(reply).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, conns)
}

/// The same framings in a response (h1.c reads both kinds of message alike): a length beside
/// the chunking is dropped and the server connection not used again, the client's kept; a
/// chunked HTTP/1.0 response goes on chunked, as it came, and is the client connection's
/// last, which HTTP/1.0 needs no word for.
#[test]
fn responses_with_that_framing_are_passed_on_chunked() {
    let pair = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").repeat(2);
    let (mine, theirs) = both_with(
        framing_origin,
        |port, (origin, _)| config(port, *origin, "safe"),
        |port, (_, conns)| {
            let mut s = connect(("127.0.0.1", port));
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(pair("/te-cl").as_bytes()).unwrap();
            // Both answers, the connection still open: the second request took a server
            // connection of its own.
            let mut kept = Vec::new();
            let mut chunk = [0u8; 4096];
            while kept.windows(5).filter(|w| w == b"0\r\n\r\n").count() < 2 {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => kept.extend_from_slice(&chunk[..n]),
                }
            }
            let after_kept = *conns.lock().unwrap();
            let last = exchange(port, &pair("/te10"));
            (
                String::from_utf8_lossy(&kept).into_owned(),
                after_kept,
                last,
            )
        },
    );
    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    assert_eq!(mine.0, chunked.repeat(2));
    assert_eq!(mine.1, 2);
    assert_eq!(
        mine.2,
        "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n<closed>"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
