//! Behaviours the differential traffic check of real-world configurations
//! (`bench/differential.sh`) found apart from HAProxy 2.7, each side by side with it.

use crate::harness::*;
use std::time::Duration;

/// Runs `drive` against HAProxy 2.7.0 on `cfg(port)` and answers what it did and HAProxy's
/// standard output once `logged` holds on it (at most 10 s); `None` without that build.
fn with_haproxy_27_logging<T>(
    cfg: impl Fn(u16) -> String,
    drive: impl FnOnce(u16) -> T,
    logged: impl Fn(&str) -> bool,
) -> Option<(T, String)> {
    let program = haproxy_27()?;
    let port = free_port();
    let mut h = Haproxy::start_program(&program, &cfg(port), port, &["-db"]);
    let out = drive(port);
    let log = h.stop_when(Duration::from_secs(10), logged);
    Some((out, log))
}

/// The log lines of `log` that contain `needle`.
fn lines_with(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

/// `option dontlognull` leaves out connections that sent nothing; a request the parser refused
/// did send something, and HAProxy logs it (`<BADREQ>`, `PR--`). Real-world configurations
/// nearly all carry `dontlognull` in their defaults.
#[test]
fn a_refused_request_is_logged_under_dontlognull() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
    option dontlognull
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        let answer = raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            Duration::from_secs(3),
        );
        // A connection that sends nothing stays unlogged.
        drop(connect(("127.0.0.1", port)));
        answer
    };
    let refused = |log: &str| lines_with(log, "<BADREQ>") == 1;
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let answer = drive(port);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let log = proxy.stdout_when(refused);
    assert!(refused(&log), "{log}");
    assert!(log.contains(" PR-- "), "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
    if let Some((theirs, log)) = with_haproxy_27_logging(cfg, drive, refused) {
        assert!(theirs.starts_with("HTTP/1.1 400 "), "{theirs}");
        assert!(refused(&log) && log.contains(" PR-- "), "{log}");
        assert_eq!(log.lines().count(), 1, "{log}");
    }
}

/// `log global` in both a `defaults` section and its proxy (or twice in one section, as
/// many configurations have it) sends each line once to each global target.
#[test]
fn log_global_twice_logs_each_line_once() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
defaults
    mode http
    log global
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log global
    default_backend be
backend be
    server s {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        for path in ["/first", "/second"] {
            let (status, _) = curl(&["-s", &format!("http://127.0.0.1:{port}{path}")]);
            assert_eq!(status, 200);
        }
    };
    // The second request's line comes after every copy of the first's.
    let second_logged = |log: &str| lines_with(log, "GET /second") >= 1;
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    drive(port);
    let log = proxy.stdout_when(second_logged);
    assert!(second_logged(&log), "{log}");
    assert_eq!(lines_with(&log, "GET /first"), 1, "{log}");
    if let Some(((), log)) = with_haproxy_27_logging(cfg, drive, second_logged) {
        assert_eq!(lines_with(&log, "GET /first"), 1, "{log}");
    }
}

/// Without a log format a frontend writes HAProxy's legacy line (`Connect from …`) when a
/// stream starts; a request the parser refused never made one, so it writes nothing, with or
/// without `option dontlognull`.
#[test]
fn a_refused_request_writes_no_legacy_line() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        let refused = raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            Duration::from_secs(3),
        );
        assert!(refused.starts_with("HTTP/1.1 400 "), "{refused}");
        let (status, _) = curl(&["-s", &format!("http://127.0.0.1:{port}/")]);
        assert_eq!(status, 200);
    };
    let served = |log: &str| lines_with(log, "Connect from") >= 1;
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    drive(port);
    let log = proxy.stdout_when(served);
    assert_eq!(lines_with(&log, "Connect from"), 1, "{log}");
    if let Some(((), log)) = with_haproxy_27_logging(cfg, drive, served) {
        assert_eq!(lines_with(&log, "Connect from"), 1, "{log}");
    }
}

/// An `errorfile` page written for HTTP/1.0 (as Debian's `/etc/haproxy/errors/*.http` are,
/// which many configurations name) goes out with its own status line and, closing anyway, no
/// `connection` field; HAProxy writes it so.
#[test]
fn an_http10_error_page_keeps_its_version() {
    let dir = std::env::temp_dir().join(format!("hapee-errorpage10-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("503.http");
    std::fs::write(
        &page,
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n\
         Content-Type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\n\
         No server is available to handle this request.\n</body></html>\n",
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorfile 503 {}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
",
            page.display()
        )
    };
    let drive = |port: u16| {
        raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            Duration::from_secs(3),
        )
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    drop(proxy);
    assert!(
        mine.starts_with("HTTP/1.0 503 Service Unavailable\r\n"),
        "{mine}"
    );
    assert!(!mine.to_ascii_lowercase().contains("connection:"), "{mine}");
    if let Some((theirs, log)) = with_haproxy_27(cfg, drive) {
        assert_eq!(mine, theirs, "{log}");
    }
}

/// A request pipelined behind one answered with a page that closes the connection (an
/// HTTP/1.0 `errorfile`) is read and dropped before the close: the client gets the page and
/// the connection's end, not a reset.
#[test]
fn a_closing_page_ahead_of_a_pipelined_request_ends_cleanly() {
    let dir = std::env::temp_dir().join(format!("hapee-pipelined-close-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("503.http");
    std::fs::write(
        &page,
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n\
         Content-Type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\n\
         No server is available to handle this request.\n</body></html>\n",
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorfile 503 {}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
",
            page.display()
        )
    };
    // Both requests in one write; what came back, then how the connection ended.
    let drive = |port: u16| {
        use std::io::{Read, Write};
        let mut s = connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(
            b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            match s.read(&mut buf) {
                Ok(0) => break "closed".to_string(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break format!("{:?}", e.kind()),
            }
        };
        (String::from_utf8_lossy(&got).into_owned(), end)
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let (answer, end) = drive(port);
    drop(proxy);
    assert!(answer.starts_with("HTTP/1.0 503 "), "{answer}");
    assert_eq!(end, "closed", "{answer}");
    if let Some(((theirs, their_end), log)) = with_haproxy_27(cfg, drive) {
        assert_eq!(theirs, answer, "{log}");
        assert_eq!(their_end, end, "{log}");
    }
}

/// The status line and the header names, in order, of the answer to `request`.
fn head_names(port: u16, request: &[u8]) -> String {
    let answer = raw(port, request, Duration::from_secs(3));
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_string();
    let names: Vec<String> = lines
        .map(|l| l.split(':').next().unwrap_or_default().to_ascii_lowercase())
        .collect();
    format!("{status} | {}", names.join(", "))
}

/// The stats page and the Prometheus exporter stream their answers as HAProxy's applets do:
/// `cache-control` first, chunked to an HTTP/1 client (no length); the page's 303 to a POST
/// gives its length before its location; the log names the exporter `<PROMEX>`. Most
/// real-world configurations have a stats page.
#[test]
fn stats_page_and_exporter_answer_as_haproxy_applets() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
listen stats
    bind 127.0.0.1:{port}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    stats enable
    stats uri /stats
"
        )
    };
    let drive = |port: u16| {
        [
            head_names(port, b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
            head_names(port, b"GET /stats;csv HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
            head_names(
                port,
                b"POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nx=1",
            ),
            head_names(port, b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
            head_names(port, b"GET /stats HTTP/1.0\r\n\r\n"),
            head_names(port, b"GET /stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
            head_names(port, b"GET /metrics HTTP/1.0\r\n\r\n"),
            head_names(port, b"HEAD /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
        ]
    };
    let exporter_logged = |log: &str| lines_with(log, "GET /metrics") == 1;
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    let log = proxy.stdout_when(exporter_logged);
    drop(proxy);
    assert_eq!(
        mine[0],
        "HTTP/1.1 200 OK | cache-control, content-type, transfer-encoding, connection"
    );
    assert_eq!(
        mine[2],
        "HTTP/1.1 303 See Other | cache-control, content-type, content-length, location, connection"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(" stats/<PROMEX> 0/0/0/") && l.contains("GET /metrics")),
        "{log}"
    );
    // To an HTTP/1.0 client the page's chunking comes after the connection field (HAProxy's
    // HTTP/1 layer adds both), while the exporter lists it among its own fields; a HEAD
    // answer of the page has none.
    let page = "HTTP/1.1 200 OK | cache-control, content-type";
    assert_eq!(mine[4], format!("{page}, connection, transfer-encoding"));
    assert_eq!(mine[5], mine[4]);
    assert_eq!(
        mine[6],
        "HTTP/1.1 200 OK | cache-control, content-type, transfer-encoding, connection"
    );
    assert_eq!(mine[7], format!("{page}, connection"));
    if let Some((theirs, log)) = with_haproxy_27_logging(cfg, drive, exporter_logged) {
        assert_eq!(theirs, mine, "{log}");
        assert!(log.contains(" stats/<PROMEX> 0/0/0/"), "{log}");
    }
}

/// `option forwardfor` of the frontend and of the backend apply together, as HAProxy applies
/// them: no header for a client in either one's `except` network (here the frontend's, from
/// `defaults`, while the backend's own line has none), the backend's header name else the
/// frontend's; and likewise `option originalto`.
#[test]
fn forwardfor_excepts_of_frontend_and_backend_both_hold() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    option forwardfor except 127.0.0.0/8
    option originalto except 127.0.0.0/8
frontend fe
    bind 127.0.0.1:{port}
    use_backend own if {{ path /own }}
    default_backend named
backend own
    option forwardfor
    option originalto
    server s {addr}
backend named
    option forwardfor header x-client
    server s {addr}
",
            addr = origin.addr
        )
    };
    let drive = |port: u16| {
        ["/own", "/named"].map(|path| {
            let (status, body) = curl(&["-s", &format!("http://127.0.0.1:{port}{path}")]);
            assert_eq!(status, 200, "{body}");
            body.lines()
                .filter(|l| l.starts_with("hdr:x-"))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    drop(proxy);
    assert_eq!(mine, [String::new(), String::new()]);
    if let Some((theirs, log)) = with_haproxy_27(cfg, drive) {
        assert_eq!(theirs, mine, "{log}");
    }
}

/// A TCP proxy with no server to take the stream (a `listen stats` section in a `mode tcp`
/// configuration, as many real ones have) closes the client's connection cleanly, what the
/// client sent read and dropped, not with a reset.
#[test]
fn a_tcp_stream_without_server_ends_cleanly() {
    let cfg = |port: u16| {
        format!(
            "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /stats
"
        )
    };
    let drive = |port: u16| {
        use std::io::{Read, Write};
        let mut s = connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /stats HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(n) => format!("closed after {n} bytes"),
            Err(e) => format!("{:?}", e.kind()),
        }
    };
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    drop(proxy);
    assert_eq!(mine, "closed after 0 bytes");
    if let Some((theirs, log)) = with_haproxy_27(cfg, drive) {
        assert_eq!(theirs, mine, "{log}");
    }
}

/// The origin that answered each of `n` requests for `path`, one connection each.
fn origins_in_turn(port: u16, path: &str, n: usize) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let turns: Vec<String> = (0..n)
        .map(|_| {
            let answer = raw(port, request.as_bytes(), Duration::from_secs(3));
            let origin = answer.lines().find_map(|l| l.strip_prefix("x-origin: "));
            origin.unwrap_or("-").to_string()
        })
        .collect();
    turns.join(" ")
}

/// `balance roundrobin` interleaves servers of unequal weights in HAProxy's order (weights
/// 1, 2, 3 give `c b c a c b`; 7 and 3 give `a a a b a a b`), rather than serving each
/// server's share in a row; real-world configurations weigh their servers often.
#[test]
fn roundrobin_interleaves_weighted_servers_as_haproxy() {
    let cfg = |port: u16, origins: &Vec<Origin>| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend two if {{ path_beg /two }}
    default_backend three
backend three
    balance roundrobin
    server a {} weight 1
    server b {} weight 2
    server c {} weight 3
backend two
    server a {} weight 70
    server b {} weight 30
",
            origins[0].addr, origins[1].addr, origins[2].addr, origins[0].addr, origins[1].addr
        )
    };
    let origins = || {
        ["a", "b", "c"]
            .map(Origin::start)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let drive = |port: u16, _: &Vec<Origin>| {
        (
            origins_in_turn(port, "/", 8),
            origins_in_turn(port, "/two", 10),
        )
    };
    let (mine, theirs) = both_with(origins, cfg, drive);
    assert_eq!(mine.0, "c b c a c b c b");
    assert_eq!(mine.1, "a a a b a a b a a b");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    let fixture = origins();
    if let Some((theirs, _)) =
        with_haproxy_27(|port| cfg(port, &fixture), |port| drive(port, &fixture))
    {
        assert_eq!(theirs, mine);
    }
}
