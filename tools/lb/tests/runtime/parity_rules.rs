//! Side by side with Debian's haproxy: hash balancing reaches the same server name for the
//! same request (`hash-type consistent` naming no function avalanches its keys; map-based
//! interleaves servers by weight), and header rules leave the headers a server sees in
//! HAProxy's order (`del-header` and `replace-header` in place, `set-header` last), with
//! `replace-value` rewriting each comma-separated value alone; persistence cookies are edited
//! where they are; `balance uri` hashes the target as written, with its options. HAProxy 2.6
//! and 2.7 agree on
//! all of this (2.7's cfgparse-listen.c, lb_map.c and http_htx.c were checked).

use crate::harness::*;
use std::io::{Read, Write};

/// An origin that answers each request with its name in `x-origin` and the request's head,
/// byte for byte, as its body (the harness's origin sorts headers, which hides their order).
pub(crate) fn echo_origin(name: &'static str) -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nx-origin: {name}\r\nx-remove: 1\r\nx-replace: foo-bar\r\nset-cookie: SRV=abc; path=/\r\nset-cookie: other=1\r\nx-list: a, b, c\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    head.len()
                );
                let _ = s.write_all(reply.as_bytes());
                let _ = s.write_all(&head);
            });
        }
    });
    addr
}

/// Sends `request` (which asks to close) and answers the whole response.
fn exchange(port: u16, request: &str) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: example.test\r\n{extra}connection: close\r\n\r\n")
}

fn balanced_config(port: u16, origins: &[std::net::SocketAddr]) -> String {
    let servers = |weights: &[u32]| {
        origins
            .iter()
            .zip(weights)
            .enumerate()
            .map(|(i, (a, w))| format!("    server s{} {a} weight {w}\n", i + 1))
            .collect::<String>()
    };
    let even = servers(&[1, 1, 1, 1]);
    let uneven = servers(&[10, 20, 1, 1]);
    format!(
        "{LOGGED_DEFAULTS}    log-format \"S|%b|%s|%{{+Q}}r\"
frontend fe
    bind 127.0.0.1:{port}
    use_backend uri_c if {{ path_beg /uc }}
    use_backend uri_m if {{ path_beg /um }}
    use_backend param_c if {{ path_beg /pc }}
    use_backend host_m if {{ path_beg /hm }}
    use_backend src_c if {{ path_beg /sc }}
    use_backend src_m if {{ path_beg /sm }}
    default_backend uri_w
backend uri_c
    balance uri
    hash-type consistent
{even}backend uri_m
    balance uri
{even}backend uri_w
    balance uri
    hash-type map-based
{uneven}backend param_c
    balance url_param uid
    hash-type consistent
{uneven}backend host_m
    balance hdr(host)
{even}backend src_c
    balance source
    hash-type consistent
{even}backend src_m
    balance source
{uneven}"
    )
}

fn balanced_requests() -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..12 {
        out.push(get(&format!("/uc/{i}/x?q={i}"), ""));
        out.push(get(&format!("/um/{i}"), ""));
        out.push(get(&format!("/w/{i}/{}", i * 7), ""));
        out.push(get(&format!("/pc?a=1&uid=user{i}"), ""));
        out.push(format!(
            "GET /hm HTTP/1.1\r\nhost: h{i}.example\r\nconnection: close\r\n\r\n"
        ));
    }
    out.push(get("/sc", ""));
    out.push(get("/sm", ""));
    out
}

/// The `x-origin` of each answer.
fn servers_reached(port: u16, requests: &[String]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let answer = exchange(port, r);
            answer
                .lines()
                .find_map(|l| l.strip_prefix("x-origin: "))
                .unwrap_or_else(|| panic!("no origin in {answer}"))
                .to_string()
        })
        .collect()
}

/// The requests' lines (the harnesses' readiness probes log a `<BADREQ>` line of their own).
fn server_log_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("S|") && !l.contains("<BADREQ>"))
        .map(String::from)
        .collect()
}

#[test]
fn hash_balancing_reaches_the_server_haproxy_reaches() {
    let names = ["s1", "s2", "s3", "s4"];
    let origins: Vec<_> = names.iter().map(|n| echo_origin(n)).collect();
    let requests = balanced_requests();
    let ((mine, my_log), theirs) = both_reading(
        1,
        |port| balanced_config(port, &origins),
        |port, side| {
            let reached = servers_reached(port, &requests);
            (reached, side.selected(server_log_lines, requests.len()))
        },
    );
    // The names follow the origins: s1's origin answers s1, and the log agrees.
    assert_eq!(my_log.len(), requests.len(), "{my_log:?}");
    for (line, name) in my_log.iter().zip(&mine) {
        assert_eq!(line.split('|').nth(2), Some(name.as_str()), "{line}");
    }
    // Different keys spread over several servers.
    assert!(
        names
            .iter()
            .filter(|n| mine.iter().any(|m| m == *n))
            .count()
            >= 3,
        "{mine:?}"
    );
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(mine, theirs);
    assert_eq!(my_log, their_log);
}

/// `balance uri`'s options, each in a backend of four even servers chosen by the path's
/// first directory.
fn uri_options_config(port: u16, origins: &[std::net::SocketAddr]) -> String {
    let servers: String = origins
        .iter()
        .enumerate()
        .map(|(i, a)| format!("    server s{} {a}\n", i + 1))
        .collect();
    let mut out = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend whole if {{ path_beg /whole }}
    use_backend len if {{ path_beg /len }}
    use_backend depth if {{ path_beg /depth }}
    use_backend pathonly if {{ path_beg /po }}
    default_backend plain
"
    );
    for (name, options) in [
        ("plain", ""),
        ("whole", " whole"),
        ("len", " len 6"),
        ("depth", " depth 2"),
        ("pathonly", " path-only"),
    ] {
        out += &format!("backend {name}\n    balance uri{options}\n{servers}");
    }
    out
}

/// `balance uri` hashes the request line's target as written, as HAProxy's get_server_uh
/// does: an absolute target with its scheme and authority (unless `path-only`), up to the
/// `?` (unless `whole`), cut to `len` bytes and to `depth` directories, the slashes of
/// `http://` counted (hapee hashed the path alone and ignored the options).
#[test]
fn uri_hash_options_reach_the_server_haproxy_reaches() {
    let names = ["s1", "s2", "s3", "s4"];
    let origins: Vec<_> = names.iter().map(|n| echo_origin(n)).collect();
    let absolute = |host: &str, path: &str| {
        format!("GET http://{host}{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n")
    };
    // Groups of requests: each group's answers are compared on their own.
    let groups: Vec<Vec<String>> = vec![
        (0..8).map(|i| get(&format!("/same?q={i}"), "")).collect(),
        (0..8).map(|i| get(&format!("/whole?q={i}"), "")).collect(),
        (0..8).map(|i| get(&format!("/len/{i}"), "")).collect(),
        (0..8).map(|i| get(&format!("/depth/a/{i}"), "")).collect(),
        (0..8).map(|i| get(&format!("/depth/{i}/b"), "")).collect(),
        (0..8)
            .map(|i| absolute(&format!("h{i}.example"), "/abs"))
            .collect(),
        (0..8)
            .map(|i| absolute(&format!("h{i}.example"), "/po/x"))
            .collect(),
        (0..8)
            .map(|i| absolute("a.example", &format!("/po/{i}?x")))
            .collect(),
    ];
    let drive = |port: u16| -> Vec<Vec<String>> {
        groups.iter().map(|g| servers_reached(port, g)).collect()
    };
    let (mine, theirs) = both(|port| uri_options_config(port, &origins), drive);
    let spread = |g: &Vec<String>| names.iter().filter(|n| g.iter().any(|m| m == *n)).count();
    // The query is left out, unless `whole`.
    assert_eq!(spread(&mine[0]), 1, "{mine:?}");
    assert!(spread(&mine[1]) >= 2, "{mine:?}");
    // `len 6` keeps "/len/N" whole (6 bytes); `depth 2` stops at "/depth/a".
    assert!(spread(&mine[2]) >= 2, "{mine:?}");
    assert_eq!(spread(&mine[3]), 1, "{mine:?}");
    assert!(spread(&mine[4]) >= 2, "{mine:?}");
    // An absolute target's authority is hashed, unless `path-only`.
    assert!(spread(&mine[5]) >= 2, "{mine:?}");
    assert_eq!(spread(&mine[6]), 1, "{mine:?}");
    assert!(spread(&mine[7]) >= 2, "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

fn header_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request del-header x-del
    http-request set-header x-set new
    http-request replace-header x-rep (.*)-(.*) \\2-\\1
    http-request replace-header x-part ^ab X
    http-request replace-value x-val ^a(.*) b\\1
    http-response del-header x-remove
    http-response set-header x-status %[status]
    http-response replace-header x-replace (.*)-(.*) \\2-\\1
    http-response replace-value x-list ^b$ B
    default_backend app
backend app
    cookie SRV prefix
    server s1 {origin} cookie c1
"
    )
}

/// The response's head and the request head the server saw, each header on its line.
fn heads(port: u16) -> String {
    let answer = exchange(
        port,
        &get(
            "/h",
            "x-a: 1\r\nx-set: old\r\ncookie: SRV=c1~abc; x=1\r\nx-del: 1\r\nx-rep: one-two\r\nx-b: 2\r\nx-part: abcd\r\nx-val: a1, a2 , c3\r\nx-c: 3\r\n",
        ),
    );
    // The date differs between the processes.
    answer
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn header_rules_keep_haproxys_header_order_and_value_rewrites() {
    let origin = echo_origin("s1");
    let (mine, theirs) = both(|port| header_config(port, origin), heads);
    // What the server saw, in order: x-del gone without moving x-c, x-set re-added last.
    let seen: Vec<&str> = mine
        .lines()
        .skip_while(|l| !l.starts_with("GET /h"))
        .filter_map(|l| {
            l.split(':')
                .next()
                .filter(|n| n.starts_with("x-") || *n == "cookie")
        })
        .collect();
    assert_eq!(
        seen,
        ["x-a", "cookie", "x-rep", "x-b", "x-part", "x-val", "x-c", "x-set"],
        "{mine}"
    );
    // The persistence cookie's prefix is taken off in place, and put on in place.
    assert!(mine.contains("\ncookie: SRV=abc; x=1\n"), "{mine}");
    assert!(
        mine.contains("\nset-cookie: SRV=c1~abc; path=/\nset-cookie: other=1\nx-list: a,B, c\n"),
        "{mine}"
    );
    assert!(mine.contains("\nx-rep: two-one\n"), "{mine}");
    // The whole value becomes the replacement, not only the part the regex matched.
    assert!(mine.contains("\nx-part: X\n"), "{mine}");
    // Each replaced value loses its blanks; the untouched one keeps them.
    assert!(mine.contains("\nx-val: b1,b2, c3\n"), "{mine}");
    assert!(mine.contains("\nx-list: a,B, c\n"), "{mine}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(mine, theirs);
}

fn refused_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"B|%ST|%tsc|%hr|%hs|%ID|%{{+Q}}r\"
frontend fe
    bind 127.0.0.1:{port}
    unique-id-format %{{+X}}o\\ %ci
    capture request header host len 6
    capture response header x-origin len 2
    default_backend app
backend app
    server s1 {origin}
"
    )
}

/// A connection that sends nothing, one whose request HAProxy's parser refuses (two `Host`
/// headers), and a good one.
fn refused_and_served(port: u16) -> Vec<String> {
    drop(connect(("127.0.0.1", port)));
    let twice = "GET /a HTTP/1.1\r\nhost: a.test\r\nhost: b.test\r\nconnection: close\r\n\r\n";
    let mut answers = vec![exchange(port, twice), exchange(port, &get("/b", ""))];
    for a in &mut answers {
        a.truncate(a.find('\r').unwrap_or(a.len()));
    }
    answers
}

fn logged(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.starts_with("B|"))
        // The unique id holds the client's address: the same for both, 7F000001.
        .map(String::from)
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// HAProxy logs a request its parser refused, and a connection closed before sending
/// anything (without `option dontlognull`), from the session: no stream, so `%hr`/`%hs`
/// print nothing and `%ID` is `-` (mux_h1.c's h1_handle_parsing_error, the same in 2.6
/// and 2.7); a served request has both.
#[test]
fn refused_requests_log_without_captures_or_unique_id() {
    let origin = echo_origin("s1");
    let ((mine, my_log), theirs) = both_reading(
        1,
        |port| refused_config(port, origin),
        |port, side| {
            let answers = refused_and_served(port);
            (answers, side.selected(logged, 3))
        },
    );
    assert_eq!(mine, ["HTTP/1.1 400 Bad request", "HTTP/1.1 200 OK"]);
    let want = [
        "B|200|----|{exampl}|{s1}|7F000001|\"GET /b HTTP/1.1\"",
        "B|400|CR--|||-|\"<BADREQ>\"",
        "B|400|PR--|||-|\"<BADREQ>\"",
    ];
    assert_eq!(my_log, want);
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
    assert_eq!(their_log, want);
}

fn refused_server_config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"W|%ST|%tsc|%Tw|%Tc|%rc|%b/%s\"
frontend fe
    bind 127.0.0.1:{port}
    default_backend down
backend down
    retries 1
    server s1 {server}
"
    )
}

/// The request's log line (not a readiness probe's), `%Tw` checked (under half a second)
/// and masked.
fn retried(log: &str) -> Option<String> {
    let line = log
        .lines()
        .find(|l| l.starts_with("W|") && l.ends_with("|down/s1"))?;
    let mut f: Vec<&str> = line.split('|').collect();
    let wait: i64 = f[3].parse().ok()?;
    assert!(
        (0..500).contains(&wait),
        "%Tw counts the retries' time: {line}"
    );
    f[3] = "TW";
    Some(f.join("|"))
}

/// `%Tw` is the time until the server was assigned: retrying the same refused server after
/// the turn-around second adds nothing to it (backend.c sets `t_queue` on assignment, the
/// same in 2.6 and 2.7).
#[test]
fn retries_on_a_refused_server_leave_the_queue_time_alone() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = closed.local_addr().unwrap();
    drop(closed);
    let status = |port: u16| {
        exchange(port, &get("/", ""))
            .lines()
            .next()
            .map(String::from)
    };
    let ((mine, my_line), theirs) = both_reading(
        1,
        |port| refused_server_config(port, server),
        |port, side| {
            let answer = status(port);
            (
                answer,
                retried(&side.stdout_when(|l| l.contains("|down/s1"))),
            )
        },
    );
    assert_eq!(mine.as_deref(), Some("HTTP/1.1 503 Service Unavailable"));
    let my_line = my_line.expect("a log line");
    assert_eq!(my_line, "W|503|SC--|TW|-1|1|down/s1");
    let Some((theirs, their_line)) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
    assert_eq!(their_line.as_deref(), Some(my_line.as_str()));
}

/// A listener that answers each check 200 and keeps the first request it read.
fn check_target() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Option<String>>>,
) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let mut first = keep.lock().unwrap();
            first.get_or_insert_with(|| String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (addr, seen)
}

fn check_config(port: u16, target: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host chk.test hdr X-Check yes
    server s1 {target} check inter 200ms
"
    )
}

/// The check request as the server reads it: header names in lower case, `connection: close`
/// added, then `content-length: 0`. Debian's 2.6 leaves the content length out for an empty
/// body; 2.7's tcpcheck.c always adds it, and 2.7 is the target.
#[test]
fn check_requests_reach_the_server_as_haproxy_sends_them() {
    let wait = |seen: &std::sync::Arc<std::sync::Mutex<Option<String>>>| {
        wait_until(std::time::Duration::from_secs(5), || {
            seen.lock().unwrap().is_some()
        });
        seen.lock().unwrap().clone().expect("a check request")
    };
    let (mine, theirs) = both_with(
        check_target,
        |port, (target, _)| check_config(port, *target),
        |_, (_, seen)| wait(seen),
    );
    assert_eq!(
        mine,
        "GET /health HTTP/1.1\r\nhost: chk.test\r\nx-check: yes\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(
        theirs.replace("content-length: 0\r\n", ""),
        mine.replace("content-length: 0\r\n", "")
    );
}
