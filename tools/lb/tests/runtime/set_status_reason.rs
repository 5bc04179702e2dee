//! `http-response set-status` gives the status line the reason it names, or the standard
//! phrase of the new status: the server's own phrase goes with its status. Side by side with
//! Debian's haproxy (hapee kept the server's phrase, and left `reason` out: a public
//! configuration's `set-status 418 reason "I'm a coffeepot"` answered `I'm a teapot`).

use super::harness::*;
use std::time::Duration;

#[test]
fn set_status_writes_its_reason_or_the_standard_phrase() {
    let server = raw_server(
        b"HTTP/1.1 200 Fine Thanks\r\ncontent-length: 0\r\n\r\n",
        Duration::ZERO,
        Duration::from_millis(200),
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    use_backend custom if {{ path /custom }}
    use_backend plain if {{ path /plain }}
    default_backend untouched
backend untouched
    server s {server}
backend plain
    server s {server}
    http-response set-status 418
backend custom
    server s {server}
    http-response set-status 418 reason \"I'm a coffeepot\"
"
        )
    };
    let status_lines = |port: u16| {
        ["/untouched", "/plain", "/custom"].map(|p| {
            let req = format!("GET {p} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            raw(port, req.as_bytes(), Duration::from_secs(5))
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
    };
    let (mine, theirs) = both(cfg, status_lines);
    assert_eq!(
        mine,
        [
            "HTTP/1.1 200 Fine Thanks",
            "HTTP/1.1 418 I'm a teapot",
            "HTTP/1.1 418 I'm a coffeepot"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `http-after-response` rules: `set-status` writes the phrase too (even to the status it
/// had); `capture.req.uri` finds no path in `*` or a CONNECT's authority; and a request
/// HAProxy's parser refuses (two Host values) gets the parser's 400, which no rule sees.
#[test]
fn after_response_rules_set_the_phrase_and_skip_the_parsers_answers() {
    let server = raw_server(
        b"HTTP/1.1 200 Fine Thanks\r\ncontent-length: 0\r\n\r\n",
        Duration::ZERO,
        Duration::from_millis(200),
    );
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    log global
    log-format \"%r\"
    http-request return status 200 content-type text/plain string hi if {{ method CONNECT }} || {{ method OPTIONS }}
    http-after-response set-header x-uri \"<%[capture.req.uri]>\"
    http-after-response set-status 200
    default_backend be
backend be
    server s {server}
"
        )
    };
    let answers = |port: u16| {
        [
            "GET /p?q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "CONNECT b:443 HTTP/1.1\r\nHost: b:443\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ]
        .map(|req| {
            let answer = raw(port, req.as_bytes(), Duration::from_secs(5));
            let head = answer.split("\r\n\r\n").next().unwrap_or("");
            let mut lines = head.lines();
            let status = lines.next().unwrap_or("").to_string();
            let uri = lines
                .find_map(|l| l.strip_prefix("x-uri: "))
                .unwrap_or("-")
                .to_string();
            (status, uri)
        })
    };
    let (mine, theirs) = both(cfg, answers);
    let expected = [
        ("HTTP/1.1 200 OK", "</p?q>"),
        ("HTTP/1.1 200 OK", "<>"),
        ("HTTP/1.1 200 OK", "<>"),
        ("HTTP/1.1 400 Bad request", "-"),
    ]
    .map(|(s, u)| (s.to_string(), u.to_string()));
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The status logged (`%ST`) is the one the response was made with: a server's, or the one a
/// `return` or `deny` answered. `http-response` and `http-after-response` `set-status` only
/// rewrite the status line, which `%[status]` reads. Side by side with HAProxy 2.7.0, whose
/// log reads `txn->status`, which `set-status` leaves alone (hapee logged the rewritten one).
#[test]
fn set_status_leaves_the_logged_status_alone() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        Duration::ZERO,
        Duration::from_millis(200),
    );
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    log-format \"%ST %[status] %r\"
    http-request set-var(txn.path) path
    http-request return status 201 if {{ path /return }}
    http-request deny deny_status 429 if {{ path /deny }}
    http-after-response set-status 299 if {{ var(txn.path) -m reg ^/(after|return|deny|both)$ }}
    use_backend rewritten if {{ path /response }} || {{ path /both }}
    default_backend untouched
backend untouched
    server s {server}
backend rewritten
    http-response set-status 404
    server s {server}
"
        )
    };
    let paths = ["/plain", "/response", "/after", "/both", "/return", "/deny"];
    let drive = |port: u16| -> Vec<String> {
        paths
            .iter()
            .map(|p| {
                let req = format!("GET {p} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                let answer = raw(port, req.as_bytes(), Duration::from_secs(5));
                answer.lines().next().unwrap_or("").to_string()
            })
            .collect()
    };
    let logged = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(" HTTP/1.1"))
            .map(str::to_string)
            .collect()
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let answers = drive(port);
    let log = logged(&proxy.stdout_when(|out| logged(out).len() == paths.len()));
    drop(proxy);
    assert_eq!(
        answers,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 299 Success",
            "HTTP/1.1 299 Success",
            "HTTP/1.1 299 Success",
            "HTTP/1.1 299 Success",
        ]
    );
    let expected = [
        "200 200 GET /plain HTTP/1.1",
        "200 404 GET /response HTTP/1.1",
        "200 299 GET /after HTTP/1.1",
        "200 299 GET /both HTTP/1.1",
        "201 - GET /return HTTP/1.1",
        "429 - GET /deny HTTP/1.1",
    ];
    assert_eq!(log, expected);
    let Some(program) = haproxy_27() else {
        return;
    };
    let port = free_port();
    let mut haproxy = Haproxy::start_program(&program, &cfg(port), port, &["-db"]);
    let theirs = drive(port);
    let their_log = logged(&haproxy.stop_when(Duration::from_secs(10), |out| {
        logged(out).len() == paths.len()
    }));
    assert_eq!(theirs, answers);
    assert_eq!(their_log, log);
}
