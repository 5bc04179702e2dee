//! The answers the proxy makes itself, side by side with Debian's haproxy: `http-errors`
//! sections, `errorfile`/`errorfiles`/`errorloc*` in defaults and proxies, `http-error`, the
//! replies of `deny`/`return`/`auth`, and an empty page closing the connection unanswered.

use super::harness::{both_reading, raw, Scratch};
use super::tcp_logs_lifecycle::assert_same_stable_fields;
use std::path::Path;
use std::time::Duration;

fn page(dir: &Path, name: &str, status: &str, tag: &str) -> String {
    let path = dir.join(name);
    let body = format!("<html><body><h1>{status}</h1>\n{tag}\n</body></html>\n");
    std::fs::write(
        &path,
        format!(
            "HTTP/1.1 {status}\r\nCache-Control: no-cache\r\nConnection: close\r\n\
             Content-Type: text/html\r\nx-err-type: {tag}\r\n\r\n{body}"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Error pages of every kind in a fresh directory.
fn pages() -> Scratch {
    let dir = Scratch::dir(&format!("hapee-replies-{}", std::process::id()));
    page(&dir, "400-e1.http", "400 Bad request", "e1");
    page(&dir, "403-e1.http", "403 Forbidden", "e1");
    page(&dir, "400-def.http", "400 Bad request", "defaults");
    page(&dir, "404-def.http", "404 Not Found", "defaults");
    page(&dir, "403-fe.http", "403 Forbidden", "frontend");
    page(&dir, "500-fe.http", "500 Internal Server Error", "frontend");
    std::fs::write(dir.join("lf.txt"), "path is %[path]\n").unwrap();
    dir
}

fn config(port: u16, dir: &Path) -> String {
    let d = dir.display();
    format!(
        "global
    log stdout format raw local0
http-errors e1
    errorfile 400 {d}/400-e1.http
    errorfile 403 {d}/403-e1.http
    errorfile 500 /dev/null
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorfiles e1
    errorfile 400 {d}/400-def.http
    errorfile 404 {d}/404-def.http
frontend fe
    bind 127.0.0.1:{port}
    errorfile 403 {d}/403-fe.http
    errorfiles e1 400
    http-error status 429 content-type text/plain hdr x-why \"%[path]\" lf-string \"slow down %[method]\"
    http-error status 404 default-errorfiles
    http-request deny deny_status 400 if {{ path /400 }}
    http-request deny if {{ path /403 }}
    http-request deny deny_status 404 if {{ path /404 }}
    http-request deny deny_status 429 if {{ path /429 }}
    http-request deny deny_status 500 if {{ path /500 }}
    http-request deny deny_status 403 errorfile {d}/500-fe.http if {{ path /403-file }}
    http-request deny deny_status 404 errorfiles e1 if {{ path /404-e1 }}
    http-request deny status 500 hdr x-p \"%[path]\" content-type text/plain string Internal if {{ path /int }}
    http-request return status 200 content-type text/plain lf-file {d}/lf.txt hdr x-a b if {{ path /lf }}
    http-request return status 204 if {{ path /empty }}
    http-request auth realm Private if {{ path /auth }}
    http-request auth if {{ path /auth-default }}
    use_backend moved if {{ path /moved }}
    default_backend down
backend down
    errorfile 503 {d}/500-fe.http
    server s 127.0.0.1:1 disabled
backend moved
    errorloc303 503 https://elsewhere.example/sorry
    server s 127.0.0.1:1 disabled
"
    )
}

const PATHS: &[&str] = &[
    "/400",
    "/403",
    "/404",
    "/429",
    "/403-file",
    "/404-e1",
    "/int",
    "/lf",
    "/empty",
    "/auth",
    "/auth-default",
    "/moved",
    "/down",
    // Last: an empty page closes the connection without an answer.
    "/500",
];

/// The status line, the headers that carry meaning (sorted, names in lower case: the order
/// and the framing headers differ between HTTP libraries), and the body.
fn answer(port: u16, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let out = raw(port, request.as_bytes(), Duration::from_secs(5));
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_string();
    let mut headers: Vec<String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| format!("{}: {}", n.to_ascii_lowercase(), v.trim()))
        .filter(|h| !h.starts_with("content-length") && !h.starts_with("connection"))
        .collect();
    headers.sort();
    format!("{status}\n{}\n\n{body}", headers.join("\n"))
}

fn answers(port: u16) -> Vec<String> {
    PATHS.iter().map(|p| answer(port, p)).collect()
}

/// Every request has its line (counting lines is not enough: the harness's start-up probe
/// logs one too, and the line of a connection closed unanswered may come last).
fn every_path_logged(log: &str) -> bool {
    PATHS
        .iter()
        .all(|p| log.contains(&format!(" {p} HTTP/1.1\"")))
}

fn log_lines(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains(" fe "))
        .map(String::from)
        .collect();
    // Sorted by request: the line of a closed connection may come a little later.
    lines.sort_by_key(|l| l.rsplit(' ').nth(1).unwrap_or("").to_string());
    lines
}

#[test]
fn pages_and_replies_are_haproxys() {
    let dir = pages();
    let ((mine, my_log), theirs) = both_reading(
        1,
        |port| config(port, &dir),
        |port, side| {
            let got = answers(port);
            (got, log_lines(&side.stdout_when(every_path_logged)))
        },
    );
    let expect = |path: &str, what: &str| {
        let i = PATHS.iter().position(|p| *p == path).unwrap();
        assert!(mine[i].contains(what), "{path}: {what} not in\n{}", mine[i]);
    };
    expect("/400", "x-err-type: e1");
    expect("/403", "x-err-type: frontend");
    expect("/404", "404 Not Found");
    expect("/429", "slow down GET");
    expect("/403-file", "HTTP/1.1 500 Internal Server Error");
    expect("/404-e1", "HTTP/1.1 404 Not Found\n\n\n");
    expect("/int", "x-p: /int");
    expect("/lf", "path is /lf\n");
    expect("/auth", "www-authenticate: Basic realm=\"Private\"");
    expect("/auth-default", "www-authenticate: Basic realm=\"fe\"");
    expect("/moved", "location: https://elsewhere.example/sorry");
    expect("/down", "x-err-type: frontend");
    assert_eq!(mine[PATHS.len() - 1], "\n\n\n", "an empty page: no answer");
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    for (i, path) in PATHS.iter().enumerate() {
        assert_eq!(theirs[i], mine[i], "{path}");
    }
    assert_same_stable_fields(&their_log, &my_log);
}

/// `\xHH` escapes in the configuration are bytes: those that spell UTF-8 reach the wire as
/// those bytes (a header value, a `return` body, a variable set by `str()`), as HAProxy sends
/// them. (A lone byte above 0x7F, which is not UTF-8, still goes out as the two-byte UTF-8 of
/// its code point: see the lexer.)
#[test]
fn escaped_bytes_in_strings_reach_the_wire_as_written() {
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request set-var(txn.v) str(\"v\\xC3\\xA9\")
    http-request return status 200 content-type text/plain hdr x-e \"a\\xE2\\x82\\xACb\" hdr x-v \"%[var(txn.v)]\" string \"\\xC3\\xA0\\x41\"
"
        )
    };
    let drive = |port: u16| {
        use std::io::{Read, Write};
        let mut s = super::harness::connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let lines: Vec<Vec<u8>> = out
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"x-") || l.starts_with(b"\xC3"))
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
            .collect();
        lines
    };
    let (mine, theirs) = both_reading(1, cfg, |port, _| drive(port));
    let want: Vec<&[u8]> = vec![b"x-e: a\xE2\x82\xACb", b"x-v: v\xC3\xA9", b"\xC3\xA0A"];
    assert_eq!(mine, want);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
