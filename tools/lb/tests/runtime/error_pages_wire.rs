//! HAProxy's error pages byte for byte as they reach an HTTP/1 client, side by side with
//! haproxy: the built-in pages that answer a request (names in lower case, `connection: close`
//! after every other field), the raw ones its connection layer sends for a request head it
//! could not parse (as written, names capitalised), and `errorfile` pages (their fields in
//! lower case, their `Connection` field moved last).

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// Sends `request` and reads one response: its head and the body its length gives, or up
/// to the connection's end when it gives none.
fn one_response(port: u16, request: &[u8]) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")?
                    .parse()
                    .ok()
            });
            if length.is_some_and(|n: usize| body.len() >= n) {
                return text.into_owned();
            }
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return String::from_utf8_lossy(&got).into_owned(),
        }
    }
}

/// Every status HAProxy has a page for that a rule can send, and the pages the proxy sends
/// on its own: no backend server, a dead one, a junk response, a late one.
#[test]
fn built_in_and_errorfile_pages_match_haproxy_byte_for_byte() {
    let junk = raw_server(b"junk\r\n\r\n", Duration::ZERO, Duration::from_millis(200));
    let silent = raw_server(b"", Duration::from_secs(3), Duration::ZERO);
    let dir = std::env::temp_dir().join(format!("hapee-error-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let unframed = file(
        "503.http",
        "HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n\
         Content-Type: text/html\r\nX-A: b\r\n\r\n<html>x</html>\n",
    );
    let framed = file(
        "404.http",
        "HTTP/1.1 404 Not Here\r\nContent-Length: 15\r\nConnection: close\r\n\
         Content-Type: text/html\r\nX-A: b\r\n\r\n<html>x</html>\n",
    );
    let statuses = [
        200, 400, 403, 404, 405, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
    ];
    let denials: String = statuses
        .iter()
        .map(|s| format!("    http-request deny deny_status {s} if {{ path /d{s} }}\n"))
        .collect();
    let cfg = |port: u16| {
        format!(
            "userlist users
    user a insecure-password b
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 1s
    timeout tarpit 100ms
frontend fe
    bind 127.0.0.1:{port}
{denials}    http-request deny deny_status 404 errorfile {framed} if {{ path /file404 }}
    http-request tarpit if {{ path /tarpit }}
    http-request auth if {{ path /auth }}
    use_backend none if {{ path /none }}
    use_backend dead if {{ path /dead }}
    use_backend junk if {{ path /junk }}
    use_backend silent if {{ path /late }}
backend none
backend dead
    errorfile 503 {unframed}
    server s1 127.0.0.1:1
backend junk
    server s1 {junk}
backend silent
    server s1 {silent}
"
        )
    };
    let mut paths: Vec<String> = statuses.iter().map(|s| format!("/d{s}")).collect();
    paths.extend(
        [
            "/file404", "/tarpit", "/auth", "/none", "/dead", "/junk", "/late",
        ]
        .map(String::from),
    );
    let drive = |port: u16| -> Vec<String> {
        let mut answers = vec![raw(
            port,
            b"GE T / HTTP/1.1\r\n\r\n",
            Duration::from_secs(5),
        )];
        for path in &paths {
            // With and without `Connection: close` asked for.
            for close in ["", "Connection: close\r\n"] {
                let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\n{close}\r\n");
                let answer = one_response(port, request.as_bytes());
                answers.push(format!("{path} {answer}"));
            }
        }
        answers
    };
    let (mine, theirs) = both(cfg, drive);
    assert!(
        mine[0].starts_with("HTTP/1.1 400 Bad request\r\nContent-length: 90\r\n"),
        "{}",
        mine[0]
    );
    assert!(
        mine.iter().any(|a| a.starts_with(
            "/d400 HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: \
             no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n"
        )),
        "{mine:#?}"
    );
    if let Some(theirs) = theirs {
        for (mine, theirs) in mine.iter().zip(&theirs) {
            assert_eq!(mine, theirs);
        }
    }
}
