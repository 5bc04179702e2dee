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

/// A folder `name` holding a `503.http` page as Debian's are (HTTP/1.0, `Connection: close`,
/// the body ending with the connection), and the configuration of a backend without servers
/// that answers every request with it.
fn http10_page_config(name: &str) -> (Scratch, impl Fn(u16) -> String) {
    let dir = Scratch::dir(&format!("{name}-{}", std::process::id()));
    let page = dir.join("503.http");
    std::fs::write(
        &page,
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\n\
         Content-Type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\n\
         No server is available to handle this request.\n</body></html>\n",
    )
    .unwrap();
    let cfg = move |port: u16| {
        format!(
            "{DEFAULTS}    errorfile 503 {}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
",
            page.display()
        )
    };
    (dir, cfg)
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
    let (_dir, cfg) = http10_page_config("hapee-errorpage10");
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
    let (_dir, cfg) = http10_page_config("hapee-pipelined-close");
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
            raw(
                port,
                b"HEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Duration::from_secs(3),
            ),
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
    // The exporter is an applet: no queue or connect time (0, never -1). `Tq` is measured: a
    // loaded machine may wake the proxy between the client's connect and its request.
    let exporter = regex::Regex::new(r" stats/<PROMEX> \d+/0/0/").unwrap();
    assert!(
        log.lines()
            .any(|l| exporter.is_match(l) && l.contains("GET /metrics")),
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
    // The exporter's answer to HEAD still names its chunking, and has no body.
    assert_eq!(
        mine[8],
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    if let Some((theirs, log)) = with_haproxy_27_logging(cfg, drive, exporter_logged) {
        assert_eq!(theirs, mine, "{log}");
        assert!(exporter.is_match(&log), "{log}");
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
            "{DEFAULTS}    option forwardfor except 127.0.0.0/8
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

/// A server the system resolved at start (`init-addr libc`) keeps that address while its
/// `resolvers` get no answer, for the failures' hold (30 s unless set), as HAProxy counts it
/// from the resolution's start: real-world configurations written for Docker's DNS
/// (`nameserver 127.0.0.11:53`) serve where that DNS is absent.
#[test]
fn a_server_keeps_its_system_address_while_its_resolvers_fail() {
    let origin = Origin::start("o");
    let silent_ns = free_port();
    let cfg = |port: u16| {
        format!(
            "resolvers dns
    nameserver ns 127.0.0.1:{silent_ns}
    resolve_retries 1
    timeout resolve 100ms
    timeout retry 100ms
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s localhost:{} resolvers dns resolve-prefer ipv4 init-addr libc,none
",
            origin.addr.port()
        )
    };
    // Several resolutions fail in the second the requests go on for.
    let drive = |port: u16| {
        let start = std::time::Instant::now();
        let mut statuses = std::collections::BTreeSet::new();
        while start.elapsed() < Duration::from_millis(1500) {
            let answer = raw(
                port,
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Duration::from_secs(3),
            );
            statuses.insert(answer.lines().next().unwrap_or_default().to_string());
        }
        statuses.into_iter().collect::<Vec<_>>()
    };
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(mine, ["HTTP/1.1 200 OK"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A `redirect` answering an HTTP/1 request that carries a body closes the connection
/// (`connection: close` last), as HAProxy does since it has not passed the body on; one
/// without a body keeps it. Real-world configurations redirect HTTP to HTTPS this way.
#[test]
fn a_redirect_closes_after_a_request_with_a_body() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request redirect scheme https code 301 if {{ path_beg /s }}
    http-request redirect location /elsewhere code 302
"
        )
    };
    let drive = |port: u16| {
        [
            head_names(
                port,
                b"POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\na=1",
            ),
            head_names(port, b"GET /s HTTP/1.1\r\nHost: a\r\n\r\n"),
            head_names(
                port,
                b"PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            ),
            head_names(port, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
        ]
    };
    let (mine, theirs) = both(cfg, drive);
    let moved = "HTTP/1.1 301 Moved Permanently | content-length, location";
    let found = "HTTP/1.1 302 Found | content-length, location, cache-control";
    assert_eq!(
        mine,
        [
            format!("{moved}, connection"),
            moved.to_string(),
            format!("{found}, connection"),
            found.to_string()
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// In TCP mode too, `use-server` rules choose the server (here every connection goes to `b`),
/// and `stick on` keeps a client on the server it first reached: real-world TCP
/// configurations route by SNI to servers and pin database clients this way.
#[test]
fn tcp_mode_applies_use_server_and_stickiness() {
    let cfg = |port: u16, origins: &Vec<Origin>| {
        format!(
            "{DEFAULTS}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{}
    use_backend pinned if {{ dst_port {} }}
    default_backend chosen
backend chosen
    mode tcp
    use-server a if {{ dst_port 1 }}
    use-server b if {{ src 127.0.0.1 }}
    server a {}
    server b {}
backend pinned
    mode tcp
    stick-table type ip size 1k expire 1m
    stick on src
    server a {}
    server b {}
",
            port + 1,
            port + 1,
            origins[0].addr,
            origins[1].addr,
            origins[0].addr,
            origins[1].addr
        )
    };
    let origins = || {
        ["a", "b"]
            .map(Origin::start)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let drive = |port: u16, _: &Vec<Origin>, _: &Side| {
        (
            origins_in_turn(port, "/", 4),
            origins_in_turn(port + 1, "/", 4),
        )
    };
    let (mine, theirs) = both_sides(2, origins, cfg, drive);
    assert_eq!(mine.0, "b b b b");
    assert!(mine.1 == "a a a a" || mine.1 == "b b b b", "{}", mine.1);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Without `option redispatch`, a request's retries go back to the server it was given (its
/// connection refused, the answer is a 503 naming it), as in HAProxy; the next request goes
/// on in the rotation. Real-world configurations often name servers without `check`.
#[test]
fn retries_keep_their_server_without_redispatch() {
    let origin = Origin::start("b");
    let refused = free_port();
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
    retries 2
    timeout connect 200ms
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server a 127.0.0.1:{refused}
    server b {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        let first = raw(
            port,
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n",
            Duration::from_secs(5),
        );
        let second = origins_in_turn(port, "/2", 1);
        (first.lines().next().unwrap_or_default().to_string(), second)
    };
    let logged = |log: &str| lines_with(log, "GET /2 ") == 1;
    let port = free_port();
    let proxy = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    let log = proxy.stdout_when(logged);
    assert_eq!(
        mine,
        ("HTTP/1.1 503 Service Unavailable".into(), "b".into())
    );
    // Logged on its server, with no queue time for the retries' waits (`%Tw` 0; they take
    // 200 ms each). `Tq` is measured: a loaded machine may wake the proxy between the
    // client's connect and its request.
    let on_a = regex::Regex::new(r" be/a \d+/0/-1/-1/").unwrap();
    assert!(
        log.lines().any(|l| on_a.is_match(l) && l.contains(" 503 ")),
        "{log}"
    );
    if let Some((theirs, log)) = with_haproxy(cfg, drive) {
        assert_eq!(theirs, mine);
        assert!(on_a.is_match(&log), "{log}");
    }
}

/// An `errorfile` page without a length (Debian's pages: an HTTP/1.0 status line, the body
/// ending with the connection) answers HEAD with its head alone, as HAProxy does.
#[test]
fn an_errorfile_page_answers_head_without_its_body() {
    let page = Scratch::file(&format!("hapee-head-503-{}.http", std::process::id()));
    std::fs::write(
        &page,
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html>down</html>\n",
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}    errorfile 503 {}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s 127.0.0.1:1 disabled
",
            page.display()
        )
    };
    let drive = |port: u16| {
        [
            raw(
                port,
                b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
                Duration::from_secs(3),
            ),
            raw(
                port,
                b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                Duration::from_secs(3),
            ),
        ]
    };
    let (mine, theirs) = both(cfg, drive);
    let head = "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n";
    assert_eq!(mine[0], head);
    assert_eq!(mine[1], format!("{head}<html>down</html>\n"));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Only GET, HEAD and POST ask for the stats page: a PUT or DELETE under its URI goes on to
/// the proxy's servers (none here: 503), its `stats auth` not asked, as in HAProxy.
/// Real-world stats listeners often have `stats uri /`.
#[test]
fn only_get_head_and_post_ask_for_the_stats_page() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /
    stats auth admin:secret
"
        )
    };
    let drive = |port: u16| {
        ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"].map(|method| {
            let request = format!(
                "{method} /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let answer = raw(port, request.as_bytes(), Duration::from_secs(3));
            answer.lines().next().unwrap_or_default().to_string()
        })
    };
    let (mine, theirs) = both(cfg, drive);
    let refused = "HTTP/1.1 401 Unauthorized";
    let none = "HTTP/1.1 503 Service Unavailable";
    assert_eq!(mine, [refused, refused, refused, none, none, none]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
