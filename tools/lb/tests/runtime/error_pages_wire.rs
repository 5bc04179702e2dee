//! HAProxy's error pages byte for byte as they reach an HTTP/1 client, side by side with
//! haproxy: the built-in pages that answer a request (names in lower case, `connection: close`
//! after every other field), the raw ones its connection layer sends for a request head it
//! could not parse (as written, names capitalised), and `errorfile` pages (their fields in
//! lower case, their `Connection` field moved last).

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// How long a test waits for an answer's end. Some answers take seconds by design (a dead
/// server's three retries wait a second each), and a loaded machine adds its own delays:
/// the limit is only reached when an answer never ends.
const ANSWER_LIMIT: Duration = Duration::from_secs(20);

/// Sends `request` and reads one response: its head and the body its length gives, or up
/// to the connection's end when it gives none.
fn one_response(port: u16, request: &[u8]) -> String {
    raw_until(port, request, response_complete, ANSWER_LIMIT)
}

/// Whether `text` holds a response head and as much body as its `content-length` gives.
fn response_complete(text: &str) -> bool {
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length: ")?
            .parse()
            .ok()
    });
    length.is_some_and(|n: usize| body.len() >= n)
}

/// Every status HAProxy has a page for that a rule can send, and the pages the proxy sends
/// on its own: no backend server, a dead one, a junk response, a late one.
#[test]
fn built_in_and_errorfile_pages_match_haproxy_byte_for_byte() {
    let junk = raw_server(b"junk\r\n\r\n", Duration::ZERO, Duration::from_millis(200));
    // Silent well past the proxy's `timeout server` (1s), which a loaded machine may see
    // late: a server that closed first would make the answer a 502, not the 504 compared.
    let silent = raw_server(b"", Duration::from_secs(10), Duration::ZERO);
    let dir = Scratch::dir(&format!("hapee-error-pages-{}", std::process::id()));
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
        // Everything until the connection's end.
        let mut answers = vec![raw_until(
            port,
            b"GE T / HTTP/1.1\r\n\r\n",
            |_| false,
            ANSWER_LIMIT,
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

/// Two requests at once on one connection (the second asks to close), and everything the
/// client gets until the connection ends.
fn pipelined_pair(port: u16) -> String {
    until_closed(
        port,
        b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
}

/// Sends `request` on a connection of its own: everything the client gets, then how the
/// connection ended (`<closed>`, or the error that ended the wait).
pub(crate) fn until_closed(port: u16, request: &[u8]) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut got = Vec::new();
    let ended = match s.read_to_end(&mut got) {
        Ok(_) => "<closed>".to_string(),
        Err(e) => format!("<{:?}>", e.kind()),
    };
    format!("{}{ended}", String::from_utf8_lossy(&got))
}

const BAD_GATEWAY_502: &str = "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: \
     no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server \
     returned an invalid or incomplete response.\n</body></html>\n";

pub(crate) fn to_server(port: u16, server: &str) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 {server}
"
    )
}

/// A server that ends the connection without answering (`SH`) gets the client HAProxy's 502,
/// which does not say the connection closes, and then the connection's end: the pipelined
/// request behind it is not served. A junk answer (`PH`) leaves the connection open.
#[test]
fn a_server_gone_before_answering_ends_the_clients_connection_after_the_502() {
    let (mine, theirs) = both_sides(
        2,
        || {
            (
                raw_server(b"", Duration::ZERO, Duration::ZERO),
                raw_server(b"junk\r\n\r\n", Duration::ZERO, Duration::from_millis(200)),
            )
        },
        |port, (gone, junk)| {
            format!(
                "{}frontend fe_junk
    bind 127.0.0.1:{}
    default_backend junk
backend junk
    server s1 {junk}
",
                to_server(port, &gone.to_string()),
                port + 1
            )
        },
        |port, _, _| {
            let junk = pipelined_pair(port + 1);
            // Alone, the 502 says what its request asked of the connection.
            let heads: Vec<String> = [
                "GET / HTTP/1.0\r\n\r\n",
                "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                // A length beside the chunking, or chunking in HTTP/1.0: a forced close.
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\
                 Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "POST / HTTP/1.0\r\nConnection: keep-alive\r\n\
                 Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            ]
            .iter()
            .map(|r| one_response(port, r.as_bytes()))
            .map(|a| a.split("\r\n\r\n").next().unwrap_or("").to_string())
            .collect();
            (
                pipelined_pair(port),
                junk.matches("HTTP/1.1 502").count(),
                heads,
            )
        },
    );
    assert_eq!(mine.0, format!("{BAD_GATEWAY_502}<closed>"));
    assert_eq!(mine.1, 2);
    let head = BAD_GATEWAY_502.split("\r\n\r\n").next().unwrap();
    assert_eq!(
        mine.2,
        [
            format!("{head}\r\nconnection: close"),
            format!("{head}\r\nconnection: keep-alive"),
            format!("{head}\r\nconnection: close"),
            format!("{head}\r\nconnection: close"),
            format!("{head}\r\nconnection: close"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A `proto h2` server that speaks HTTP/1 breaks the protocol before any answer: the same
/// 502 and end as a server gone (compared with HAProxy 2.7.0 when there is a build of it;
/// Debian's 2.6 retries the connection instead).
#[test]
fn a_proto_h2_server_speaking_http1_ends_the_clients_connection_after_the_502() {
    let http1 = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
        Duration::ZERO,
        Duration::from_millis(500),
    );
    let cfg = |port: u16| to_server(port, &format!("{http1} proto h2"));
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = pipelined_pair(port);
    drop(proxy);
    assert_eq!(mine, format!("{BAD_GATEWAY_502}<closed>"));
    if let Some((theirs, _)) = with_haproxy_27(cfg, pipelined_pair) {
        assert_eq!(theirs, mine);
    }
}
