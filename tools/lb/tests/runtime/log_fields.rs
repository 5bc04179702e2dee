//! Log-format fields beyond the standard formats: the server connection's addresses (`%bi`,
//! `%bp`, `%si`, `%sp`), the request counter `%rt`, `%HP`/`%HPO`, and the `+X` flag (set on
//! one field or on every following one with `%{+X}o`), as in the documented
//! `unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid`.

use crate::harness::*;
use std::io::{Read, Write};

fn config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    log-format \"L|%ID|%ci|%{{+X}}ci:%{{+X}}cp|%bi|%si:%sp|%{{+X}}si:%{{+X}}sp|%HP|%HPO|%{{+X}}Ts|%rt|%{{+Q}}si|%{{+Q}}ci\"
    default_backend app
backend app
    server s1 {origin}
"
    )
}

/// One request with an absolute-form target; answers the client's port.
fn send(port: u16) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        b"GET http://example.test/a/b?x=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    s.local_addr().unwrap().port()
}

/// The request's line (a harness's readiness probe may have logged a line of its own).
fn line(log: &str) -> Option<String> {
    log.lines()
        .find(|l| l.starts_with("L|") && l.contains("|/a/b|"))
        .map(str::to_string)
}

/// Checks one line against what the fields must hold for this client, frontend and
/// origin; answers the line with the values that differ between processes masked.
fn check(line: &str, client_port: u16, port: u16, origin: std::net::SocketAddr) -> String {
    let f: Vec<&str> = line.split('|').collect();
    assert_eq!(f.len(), 13, "{line}");
    let id: Vec<&str> = f[1].split(['_', ':']).collect();
    assert_eq!(
        &id[..4],
        &[
            "7F000001",
            format!("{client_port:04X}").as_str(),
            "7F000001",
            format!("{port:04X}").as_str()
        ],
        "{line}"
    );
    assert_eq!(id[4], f[9], "%Ts in the id as %{{+X}}Ts: {line}");
    assert_eq!(
        u64::from_str_radix(id[5], 16).unwrap(),
        f[10].parse::<u64>().unwrap(),
        "the id's %rt is the log's: {line}"
    );
    assert!(
        u32::from_str_radix(id[6], 16).is_ok_and(|pid| pid > 0),
        "pid in hex: {line}"
    );
    assert_eq!(f[2], "127.0.0.1", "{line}");
    assert_eq!(f[3], format!("7F000001:{client_port:04X}"), "{line}");
    assert_eq!(f[4], "127.0.0.1", "%bi: {line}");
    assert_eq!(f[5], origin.to_string(), "%si:%sp: {line}");
    assert_eq!(f[6], format!("7F000001:{:04X}", origin.port()), "{line}");
    assert_eq!(f[7], "http://example.test/a/b", "%HP: {line}");
    assert_eq!(f[8], "/a/b", "%HPO: {line}");
    assert!(
        f[9].len() == 8 && f[9].bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
    assert_eq!(f[11], "\"127.0.0.1\"", "{line}");
    assert_eq!(f[12], "\"127.0.0.1\"", "{line}");
    let mut masked = f.clone();
    masked[1] = "ID";
    masked[3] = "CLIENT";
    masked[9] = "TS";
    masked[10] = "RT";
    masked.join("|")
}

#[test]
fn hexadecimal_flags_server_addresses_and_request_counter_as_haproxy_writes_them() {
    let o = Origin::start("o");
    let port = free_port();
    let p = Proxy::start(&config(port, o.addr), port);
    let client_port = send(port);
    let mine = line(&p.stdout_when(|l| line(l).is_some())).expect("a log line");
    let mine = check(&mine, client_port, port, o.addr);
    let Some((client_port, log)) =
        with_haproxy_until(1, |port| config(port, o.addr), send, |l| line(l).is_some())
    else {
        return;
    };
    let theirs = line(&log).expect("haproxy's log line");
    // haproxy listened on a port of its own: its id says which.
    let id = theirs.split('|').nth(1).unwrap_or_default();
    let their_port = id
        .split(['_', ':'])
        .nth(3)
        .and_then(|p| u16::from_str_radix(p, 16).ok())
        .expect("haproxy's frontend port in its id");
    assert_eq!(check(&theirs, client_port, their_port, o.addr), mine);
}

/// `%U` in HTTP mode counts the request as HAProxy's buffer holds it: the head in internal
/// form (start line descriptor, each header's name and value, end of head), then the body's
/// bytes, plus one for the end of a chunked body's trailers.
#[test]
fn bytes_uploaded_count_the_head_and_body_as_haproxy_does() {
    let o = Origin::start("o");
    let config = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"U|%U|%HM|%HP\"
    default_backend app
backend app
    server s1 {}
",
            o.addr
        )
    };
    let drive = |port: u16| {
        let url = format!("http://127.0.0.1:{port}/up");
        for extra in [
            &[][..],
            &["-d", "hello world"][..],
            &["-H", "Transfer-Encoding: chunked", "-d", "hello world"][..],
            &["-H", "X-Long: 0123456789abcdef", "-d", &"x".repeat(5000)][..],
        ] {
            let mut args = vec![url.as_str(), "-H", "User-Agent: t"];
            args.extend_from_slice(extra);
            assert_eq!(curl(&args).0, 200);
        }
    };
    let ((port, mine), theirs) = logged_side_by_side(
        config,
        |port| {
            drive(port);
            port
        },
        |l| l.starts_with("U|") && l.ends_with("|/up"),
        4,
    );
    assert_eq!(mine.len(), 4, "{mine:?}");
    // The GET's head: 20 + "GET" + "/up" + "HTTP/1.1", host (4 + 15), user-agent (10 + 1),
    // accept (6 + 3), end of head (1).
    let host = 4 + format!("127.0.0.1:{port}").len();
    assert_eq!(
        mine[0],
        format!("U|{}|GET|/up", 20 + 3 + 3 + 8 + host + 11 + 9 + 1)
    );
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Logs print the request line as the client sent it, whatever rules rewrote since; every
/// declared response capture prints (`{}` when the proxy answered itself); a cache hit is
/// the proxy's answer (`LR`), with the stored response's headers captured.
#[test]
fn rewritten_targets_local_answers_and_cache_hits_log_as_haproxy_does() {
    let origin = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok",
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
    );
    let config = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}cache small
    total-max-size 4
    max-age 60
frontend fe
    bind 127.0.0.1:{port}
    capture request header Host len 32
    capture response header Content-Type len 32
    log-format \"R|%ft %b/%s %ST %tsc %hr %hs %{{+Q}}r %HM %HU %HP %HQ\"
    http-request return status 200 content-type text/plain string pong if {{ path /ping }}
    http-request set-path %[path,regsub(^/api/,/)] if {{ path_beg /api/ }}
    http-request set-query %[query,regsub(secret=[^&]*,secret=x)] if {{ query -m sub secret= }}
    http-request set-method POST if {{ path /m }}
    default_backend app
backend app
    http-request cache-use small
    http-response cache-store small
    option http-server-close
    server s1 {origin}
"
        )
    };
    let drive = |port: u16| {
        let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
        for path in [
            "/ping",
            "/api/users?x=1",
            "/q?secret=abc&b=2",
            "/m",
            "/c",
            "/c",
        ] {
            assert_eq!(curl(&[&url(path), "-H", "Host: h"]).0, 200, "{path}");
        }
    };
    let ((_, mine), theirs) = logged_side_by_side(config, drive, prefixed("R|"), 6);
    assert_eq!(
        mine[1],
        "R|fe app/s1 200 ---- {h} {text/plain} \"GET /api/users?x=1 HTTP/1.1\" GET /api/users?x=1 /api/users ?x=1"
    );
    assert!(mine[0].contains(" LR-- {h} {} "), "{mine:?}");
    assert!(mine[5].contains(" app/<CACHE> 200 LR-- {h} {"), "{mine:?}");
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `%B` counts a server's response as it arrived: its head before the response rules changed
/// it, its body before compression (HAProxy counts the bytes its buffer received).
#[test]
fn bytes_sent_count_the_server_response_before_rules_and_compression() {
    let reply: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\nServer: origin\r\n\r\n{}",
            "a".repeat(3000)
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let origin = raw_server(reply, std::time::Duration::ZERO, std::time::Duration::ZERO);
    let config = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option http-server-close
frontend fe
    bind 127.0.0.1:{port}
    log-format \"B|%ST %B %HP\"
    http-response set-header X-Added some-value
    http-response del-header Server
    compression algo gzip
    compression type text/html
    default_backend app
backend app
    server s1 {origin}
"
        )
    };
    let drive = |port: u16| {
        let url = format!("http://127.0.0.1:{port}/plain");
        assert_eq!(curl(&[&url]).0, 200);
        let url = format!("http://127.0.0.1:{port}/gzip");
        assert_eq!(curl(&[&url, "-H", "Accept-Encoding: gzip"]).0, 200);
    };
    let ((_, mine), theirs) = logged_side_by_side(config, drive, prefixed("B|"), 2);
    // 20 + "HTTP/1.1" + "200" + "OK", content-type (12 + 9), content-length (14 + 4),
    // server (6 + 6), end of head; then the 3000 bytes as the server sent them.
    let head = 20 + 8 + 3 + 2 + 21 + 18 + 12 + 1;
    assert_eq!(
        mine,
        [
            format!("B|200 {} /plain", head + 3000),
            format!("B|200 {} /gzip", head + 3000)
        ]
    );
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Without `timeout tarpit` a tarpit lasts `timeout connect`; a retry sent to another server
/// (`option redispatch`) marks `%rc` with `+`.
#[test]
fn tarpit_falls_back_on_timeout_connect_and_redispatch_marks_retries() {
    let dead = [free_port(), free_port()];
    let config = |port: u16| {
        format!(
            "global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 300ms
    timeout client 5s
    timeout server 5s
    retries 2
frontend fe
    bind 127.0.0.1:{port}
    log-format \"T|%ST %tsc %rc %HP\"
    http-request tarpit if {{ path /tarpit }}
    default_backend dead
backend dead
    option redispatch
    server d1 127.0.0.1:{}
    server d2 127.0.0.1:{}
",
            dead[0], dead[1]
        )
    };
    let drive = |port: u16| {
        let started = std::time::Instant::now();
        assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/tarpit")]).0, 500);
        let waited = started.elapsed();
        assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/dead")]).0, 503);
        waited
    };
    let ((waited, mine), theirs) = logged_side_by_side(config, drive, prefixed("T|"), 2);
    assert!(
        waited >= std::time::Duration::from_millis(250)
            && waited < std::time::Duration::from_secs(3),
        "the tarpit lasts timeout connect: {waited:?}"
    );
    assert_eq!(mine, ["T|500 PT-- 0 /tarpit", "T|503 SC-- +2 /dead"]);
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A connection refused at once is retried on the same server after HAProxy's turn-around
/// (`timeout connect`, at most a second), so a server coming back within the retries is
/// reached: here it starts listening between the second attempt and the third.
#[test]
fn refused_connections_are_retried_after_the_turnaround() {
    let port_of_server = free_port();
    let stats_name = |port: u16| format!("hapee-turnaround-{}-{port}.sock", std::process::id());
    let stats = |port: u16| std::env::temp_dir().join(stats_name(port));
    let config = |port: u16| {
        format!(
            "global
    log stdout format raw local0
    stats socket {} level admin
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    retries 3
frontend fe
    bind 127.0.0.1:{port}
    log-format \"W|%ST %tsc %rc\"
    default_backend app
backend app
    server s1 127.0.0.1:{port_of_server}
",
            stats(port).display()
        )
    };
    let drive = |port: u16| {
        // The proxy's socket, removed once this side is read (kept if the test fails).
        let _socket = Scratch::file(&stats_name(port));
        // The server's connection attempts, counted as they begin (`connect` in `show stat`).
        let sock = stats(port);
        let attempts = move || {
            let Ok(mut s) = std::os::unix::net::UnixStream::connect(&sock) else {
                return 0;
            };
            let _ = s.write_all(b"show stat\n");
            let mut csv = String::new();
            let _ = s.read_to_string(&mut csv);
            let column = csv.lines().next().and_then(|head| {
                head.trim_start_matches("# ")
                    .split(',')
                    .position(|c| c == "connect")
            });
            let row = csv.lines().find(|l| l.starts_with("app,s1,"));
            match (column, row) {
                (Some(i), Some(row)) => row.split(',').nth(i).and_then(|v| v.parse().ok()),
                _ => None,
            }
            .unwrap_or(0)
        };
        // Timed from the proxy's attempts, not from the request: a loaded machine may take
        // longer than the turn-around to start curl. Half a turn-around after the second
        // attempt began, it has been refused and the third is half a second away.
        let late = std::thread::spawn(move || {
            let second = wait_until(std::time::Duration::from_secs(20), || attempts() >= 2);
            assert!(second, "no second attempt");
            std::thread::sleep(std::time::Duration::from_millis(500));
            let l = std::net::TcpListener::bind(("127.0.0.1", port_of_server)).unwrap();
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .unwrap();
        });
        let answer = curl(&[&format!("http://127.0.0.1:{port}/")]);
        late.join().unwrap();
        answer
    };
    // (a harness's readiness probe logs `CR` without a request)
    let kept = |l: &str| l.starts_with("W|") && !l.contains(" CR-- ");
    let ((answer, mine), theirs) = logged_side_by_side(config, drive, kept, 1);
    assert_eq!(answer, (200, "ok".to_string()));
    assert_eq!(mine, ["W|200 ---- 2"]);
    if let Some((answer, theirs)) = theirs {
        assert_eq!(answer, (200, "ok".to_string()));
        assert_eq!(theirs, mine);
    }
}

/// Keeps the log lines of one format (its `prefix`), leaving out the readiness probe's
/// `<BADREQ>` line.
fn prefixed(prefix: &str) -> impl Fn(&str) -> bool + '_ {
    move |l| l.starts_with(prefix) && !l.contains("<BADREQ>")
}

/// A request the parser refuses is logged from the session, without a stream: the fetches of
/// the stream's backend, server and timeouts give nothing there (`-`), as HAProxy's do, where
/// a served request logs them (`set-timeout server` shown by `cur_server_timeout`).
#[test]
fn a_refused_request_logs_no_stream_fetches() {
    let o = Origin::start("o");
    let config = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"T|%[be_name] %[be_server_timeout] %[cur_server_timeout] %[srv_name]\"
    default_backend app
backend app
    http-request set-timeout server 3s
    server s1 {}
",
            o.addr
        )
    };
    let drive = |port: u16| {
        raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            std::time::Duration::from_secs(3),
        );
        raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            std::time::Duration::from_secs(3),
        );
    };
    let ((_, mine), theirs) = logged_side_by_side(config, drive, prefixed("T|"), 2);
    assert_eq!(mine, ["T|app 5000 3000 s1", "T|- - - -"]);
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `%HPO` is the path HAProxy finds in the target as sent, up to its query: none for `*`, a
/// CONNECT's authority or an absolute target written without a path (`%HP` keeps `*`).
#[test]
fn path_only_is_empty_where_the_target_has_no_path() {
    let config = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"P|%HPO|%HP|\"
    http-request return status 200
"
        )
    };
    let drive = |port: u16| {
        for request in [
            "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://a HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /x/y?q=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(
                request
                    .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
        }
    };
    let ((_, mine), theirs) = logged_side_by_side(config, drive, |l| l.starts_with("P|"), 3);
    assert_eq!(mine, ["P||*|", "P||http://a|", "P|/x/y|/x/y|"]);
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `%B` of the proxy's own answers (no server, a deny, a `return`) under `option httpclose`
/// and kept alive: the `Connection: close` HAProxy's HTTP/1 side writes for the mode is not
/// part of the answer it counts.
#[test]
fn own_answers_count_the_same_bytes_whatever_the_connection_mode() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let section = |name: &str, port: u16, mode: &str| {
        format!(
            "listen {name}
    bind 127.0.0.1:{port}
    {mode}
    retries 0
    log-format \"B {name} %ST %B\"
    http-request deny if {{ path /deny }}
    http-request return status 200 content-type text/plain string hello if {{ path /return }}
    server s {refused}
"
        )
    };
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}{}{}",
            section("close", port, "option httpclose"),
            section("kept", port + 1, "option http-keep-alive")
        )
    };
    let lines = |log: &str| -> Vec<String> {
        let mut l: Vec<String> = log
            .lines()
            .filter(|l| l.starts_with("B "))
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    let drive = |port: u16, side: &Side| {
        for p in [port, port + 1] {
            for path in ["/", "/deny", "/return"] {
                curl(&[&format!("http://127.0.0.1:{p}{path}")]);
            }
        }
        side.selected(lines, 6)
    };
    let (ours, theirs) = both_reading(2, cfg, drive);
    assert_eq!(ours.len(), 6, "{ours:?}");
    // Each answer counts the same in both modes.
    let figures = |of: &str| -> Vec<String> {
        ours.iter()
            .filter_map(|l| l.strip_prefix(&format!("B {of} ")).map(str::to_string))
            .collect()
    };
    assert_eq!(figures("close"), figures("kept"), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
