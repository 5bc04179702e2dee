//! Body fetches: `res.body`, `res.body_len` and `res.body_size` after `http-response
//! wait-for-body` (a server that sends its body a while after its head, by length and in
//! chunks), and `req.body` as bytes (a body that is not UTF-8 keeps its bytes). Side by side
//! with Debian's haproxy.

use super::harness::{both_with, raw};
use std::io::{Read, Write};
use std::time::Duration;

/// A server that sends a response head, then its body 150 ms later: by length on `/len`,
/// in two chunks otherwise.
fn late_body_server() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let by_length = buf[..n].starts_with(b"GET /len ");
                let (head, body): (&[u8], &[u8]) = if by_length {
                    (
                        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n",
                        b"hello world",
                    )
                } else {
                    (
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                    )
                };
                let _ = s.write_all(head);
                let _ = s.flush();
                std::thread::sleep(Duration::from_millis(150));
                let _ = s.write_all(body);
                std::thread::sleep(Duration::from_millis(100));
            });
        }
    });
    addr
}

fn config(port: u16, server: &std::net::SocketAddr) -> String {
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request wait-for-body time 1s if {{ path /req }}
    http-request return status 200 content-type text/plain lf-string \"hex=%[req.body,hex] len=%[req.body_len] size=%[req.body_size]\" if {{ path /req }}
    http-request set-var(txn.wait) bool(true) if {{ req.hdr(x-wait) -m found }}
    http-response wait-for-body time 1s if {{ var(txn.wait) -m bool }}
    http-response set-header x-body %[res.body] if {{ res.body_len gt 0 }}
    http-response set-header x-len %[res.body_len]
    http-response set-header x-size %[res.body_size]
    http-response set-header x-hex %[res.body,hex] if {{ res.body_len gt 0 }}
    default_backend app
backend app
    server s1 {server}
"
    )
}

/// The `x-` headers of each answer (lower-cased, sorted) and its body by length, then the
/// body of `/req`.
fn answers(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for (path, wait) in [("/len", true), ("/chunked", true), ("/len", false)] {
        let extra = if wait { "X-Wait: 1\r\n" } else { "" };
        let req = format!("GET {path} HTTP/1.1\r\nHost: a\r\n{extra}Connection: close\r\n\r\n");
        let answer = raw(port, req.as_bytes(), Duration::from_secs(3));
        let mut lines: Vec<String> = answer
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("x-"))
            .map(|l| l.to_ascii_lowercase())
            .collect();
        lines.sort();
        // Chunk boundaries are the proxy's own (HAProxy joins the chunks it holds).
        let body = match answer.split_once("\r\n\r\n") {
            Some((_, b)) if path == "/len" => b,
            _ => "",
        };
        out.push(format!("{path} wait={wait}: {} | {body}", lines.join(", ")));
    }
    // A body that is not UTF-8: its bytes, not replacement characters.
    let mut req =
        b"POST /req HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nConnection: close\r\n\r\n".to_vec();
    req.extend_from_slice(b"a\xff\x00b");
    let answer = raw(port, &req, Duration::from_secs(3));
    out.push(
        answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string(),
    );
    out
}

#[test]
fn body_fetches_see_the_bytes_that_came() {
    let (mine, theirs) = both_with(late_body_server, config, |port, _| answers(port));
    assert!(
        mine[0].contains("x-body: hello world")
            && mine[0].contains("x-len: 11")
            && mine[0].contains("x-size: 11"),
        "{mine:?}"
    );
    assert!(mine[0].ends_with("| hello world"), "{mine:?}");
    assert!(
        mine[1].contains("x-body: hello world") && mine[1].contains("x-size: 11"),
        "{mine:?}"
    );
    assert!(
        mine[1].contains("x-hex: 68656c6c6f20776f726c64"),
        "{mine:?}"
    );
    // Without wait-for-body the head goes on before the body comes.
    assert!(mine[2].contains("x-len: 0"), "{mine:?}");
    assert_eq!(mine[3], "hex=61FF0062 len=4 size=4", "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
