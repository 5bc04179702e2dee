//! Backends without servers (`dispatch <address>`, `option transparent`), the idle pool's
//! `pool-max-conn`, and `http-response wait-for-body`: the scenarios of HAProxy's reg-tests
//! (`connection/dispatch`, `http_reuse_dispatch`, `http_reuse_be_transparent`,
//! `http_reuse_safe`, `http_reuse_never`, `http-messaging/http_wait_for_body`), with real
//! sockets, side by side with Debian's haproxy.

use super::harness::{both, both_reading, connect, free_port, Origin};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One response read off a kept-alive connection: its status and headers (lower-cased names).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response (Content-Length framed, or up to the close) from `s`.
fn read_answer(s: &mut TcpStream) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = vec![0u8; len.unwrap_or(0)];
    match len {
        Some(_) => s.read_exact(&mut body).ok()?,
        None => {
            body.clear();
            let _ = s.read_to_end(&mut body);
        }
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// Sends each request (extra header lines given) on one connection, in turn.
fn session(addr: (&str, u16), requests: &[&str]) -> Vec<Option<Answer>> {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    requests
        .iter()
        .map(|extra| {
            let req = format!("GET / HTTP/1.1\r\nHost: t\r\n{extra}\r\n");
            s.write_all(req.as_bytes()).ok()?;
            read_answer(&mut s)
        })
        .collect()
}

/// What HAProxy's reuse reg-tests check of each answer: the status, and the headers the
/// receiver sets (`http_first_request`, and `client-id`, the id the connection's first
/// request gave it).
fn reuse_view(answers: Vec<Option<Answer>>) -> Vec<String> {
    answers
        .into_iter()
        .map(|a| match a {
            Some(a) => format!(
                "{} first={} id={}",
                a.status,
                a.header("http_first_request").unwrap_or("-"),
                a.header("client-id").unwrap_or("-")
            ),
            None => "no answer".to_string(),
        })
        .collect()
}

/// Three clients, each sending three requests on its connection, the first one naming the
/// client; in turn, as the reg-tests run them.
fn three_clients(port: u16) -> Vec<String> {
    ["c1", "c2", "c3"]
        .iter()
        .flat_map(|c| {
            let first = format!("client-id: {c}\r\n");
            reuse_view(session(("127.0.0.1", port), &[&first, "", ""]))
        })
        .collect()
}

/// The receiver of the reuse reg-tests: it answers with what it saw of the connection.
fn receiver(port: u16) -> String {
    format!(
        "listen receiver
    bind 127.0.0.1:{port}
    http-request set-var(sess.client_id) req.hdr(client-id)
    http-request return status 200
    http-after-response set-header http_first_request %[http_first_req]
    http-after-response set-header client-id %[var(sess.client_id)]
"
    )
}

const DEFAULTS: &str = "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
";

fn dispatch_reuse_config(port: u16) -> String {
    let back = free_port();
    format!(
        "{DEFAULTS}listen sender
    bind 127.0.0.1:{port}
    http-request set-header client-id %[req.hdr(client-id)] if {{ req.hdr(client-id) -m found }}
    dispatch 127.0.0.1:{back}
{}",
        receiver(back)
    )
}

#[test]
fn dispatch_connections_stay_with_their_session() {
    let (mine, theirs) = both(dispatch_reuse_config, three_clients);
    // Each client's connection to the dispatch address is its own: the id it gave stays.
    for (i, c) in ["c1", "c2", "c3"].iter().enumerate() {
        assert_eq!(mine[3 * i], format!("200 first=1 id={c}"), "{mine:?}");
        assert_eq!(mine[3 * i + 1], format!("200 first=0 id={c}"), "{mine:?}");
        assert_eq!(mine[3 * i + 2], format!("200 first=0 id={c}"), "{mine:?}");
    }
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `option transparent`: the sender listens on two local addresses and connects to the one
/// each client reached, on the receiver's port (`set-dst-port`).
fn transparent_config(port: u16) -> String {
    let back = free_port();
    format!(
        "{DEFAULTS}listen sender
    bind 127.0.0.1:{port}
    bind 127.0.0.2:{port}
    http-request set-header client-id %[req.hdr(client-id)] if {{ req.hdr(client-id) -m found }}
    option transparent
    http-request set-dst-port int({back})
listen receiver1
    bind 127.0.0.1:{back}
    http-request return status 200 hdr x-dst one
listen receiver2
    bind 127.0.0.2:{back}
    http-request set-var(sess.client_id) req.hdr(client-id)
    http-request return status 200 hdr x-dst two
    http-after-response set-header http_first_request %[http_first_req]
    http-after-response set-header client-id %[var(sess.client_id)]
"
    )
}

fn transparent_answers(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for host in ["127.0.0.1", "127.0.0.2"] {
        for a in session((host, port), &["client-id: c1\r\n", ""])
            .into_iter()
            .flatten()
        {
            out.push(format!(
                "{host} {} dst={} id={}",
                a.status,
                a.header("x-dst").unwrap_or("-"),
                a.header("client-id").unwrap_or("-")
            ));
        }
    }
    out
}

#[test]
fn transparent_backends_connect_to_the_address_the_client_reached() {
    let (mine, theirs) = both(transparent_config, transparent_answers);
    assert_eq!(
        mine,
        [
            "127.0.0.1 200 dst=one id=-",
            "127.0.0.1 200 dst=one id=-",
            "127.0.0.2 200 dst=two id=c1",
            "127.0.0.2 200 dst=two id=c1",
        ],
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `dispatch` in TCP and HTTP mode, each logged without a server name.
fn dispatch_config(port: u16, origin: u16) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    log global
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen fe_tcp
    bind 127.0.0.1:{port}
    mode tcp
    log-format \"tcp %b/%s\"
    dispatch 127.0.0.1:{origin}
listen fe_http
    bind 127.0.0.2:{port}
    mode http
    log-format \"http %b/%s %ST\"
    dispatch 127.0.0.1:{origin}
"
    )
}

fn dispatch_answers(port: u16) -> Vec<String> {
    ["127.0.0.1", "127.0.0.2"]
        .iter()
        .map(|host| {
            let req = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
            let mut s = connect((*host, port));
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            let out = String::from_utf8_lossy(&out);
            let status = out.lines().next().unwrap_or("").to_string();
            let origin = out.contains("path=/x");
            format!("{status} origin={origin}")
        })
        .collect()
}

#[test]
fn dispatch_sends_tcp_and_http_to_its_address() {
    let origin = Origin::start("o");
    let o = origin.addr.port();
    let ((mine, logs), theirs) = both_reading(
        1,
        |p| dispatch_config(p, o),
        |port, side| {
            let answers = dispatch_answers(port);
            let log = side.stdout_when(|l| {
                l.contains("http fe_http/<NOSRV> 200") && l.contains("tcp fe_tcp/<NOSRV>")
            });
            // A connection that carried nothing may be logged or not, as the probe that saw
            // the proxy listening went: each line is compared once.
            let mut lines: Vec<String> = log.lines().map(String::from).collect();
            lines.sort();
            lines.dedup();
            (answers, lines)
        },
    );
    assert_eq!(mine, ["HTTP/1.1 200 OK origin=true"; 2], "{mine:?}");
    assert_eq!(logs, ["http fe_http/<NOSRV> 200", "tcp fe_tcp/<NOSRV>"]);
    let Some((theirs, their_logs)) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
    assert_eq!(their_logs, logs);
}

/// `pool-max-conn 1`: one idle connection to the receiver is kept; with `http-reuse safe`
/// the later clients' second requests take it (the one c1 opened), with `never` no client
/// sees another's connection. On one thread: hapee's threads keep their idle connections
/// to themselves, where HAProxy's may take another thread's.
fn pool_config(reuse: &'static str) -> impl Fn(u16) -> String {
    move |port| {
        let back = free_port();
        format!(
            "global
    nbthread 1
{DEFAULTS}listen sender
    bind 127.0.0.1:{port}
    http-reuse {reuse}
    http-request set-header client-id %[req.hdr(client-id)] if {{ req.hdr(client-id) -m found }}
    server srv 127.0.0.1:{back} pool-max-conn 1
{}",
            receiver(back)
        )
    }
}

#[test]
fn pool_max_conn_keeps_one_idle_connection_for_the_next_clients() {
    for reuse in ["safe", "never"] {
        let (mine, theirs) = both(pool_config(reuse), three_clients);
        let expected_later = if reuse == "safe" { "c1" } else { "" };
        for (i, c) in ["c1", "c2", "c3"].iter().enumerate() {
            assert_eq!(
                mine[3 * i],
                format!("200 first=1 id={c}"),
                "{reuse}: {mine:?}"
            );
            let later = if i == 0 || expected_later.is_empty() {
                c
            } else {
                expected_later
            };
            for k in 1..3 {
                assert_eq!(
                    mine[3 * i + k],
                    format!("200 first=0 id={later}"),
                    "{reuse}: {mine:?}"
                );
            }
        }
        if let Some(theirs) = theirs {
            assert_eq!(theirs, mine, "{reuse}");
        }
    }
}

/// A server whose responses come as HAProxy's `http_wait_for_body` reg-test sends them: the
/// head and 1000 of the 1001 bytes of body, then the last byte after `last` (never, for
/// `None`), one response per connection.
fn slow_body_server(status: u16, last: Option<Duration>) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = format!("HTTP/1.1 {status} OK\r\nContent-Length: 1001\r\n\r\n");
                let _ = s.write_all(head.as_bytes());
                std::thread::sleep(Duration::from_millis(10));
                let _ = s.write_all(&[b'a'; 1000]);
                match last {
                    Some(d) => {
                        std::thread::sleep(d);
                        let _ = s.write_all(b"1");
                    }
                    None => std::thread::sleep(Duration::from_secs(2)),
                }
                std::thread::sleep(Duration::from_millis(500));
            });
        }
    });
    port
}

/// The waits are of a second: the servers' own pauses (10 ms between the parts of a body)
/// are far shorter, even on a loaded machine, and the one that never ends its body holds
/// its connection 2.5 s.
fn wait_config(servers: [u16; 3]) -> impl Fn(u16) -> String {
    move |port| {
        let [never, soon, late] = servers;
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend never if {{ path /never }}
    use_backend soon if {{ path /soon }}
    default_backend late
backend never
    http-response wait-for-body time 1s if {{ status eq 200 }}
    server s 127.0.0.1:{never}
backend soon
    http-response wait-for-body time 1s if {{ status eq 200 }}
    server s 127.0.0.1:{soon}
backend late
    http-response wait-for-body time 1s at-least 1000 if {{ status eq 201 }}
    server s 127.0.0.1:{late}
"
        )
    }
}

fn wait_answers(port: u16) -> Vec<String> {
    ["/never", "/soon", "/late"]
        .iter()
        .map(|path| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let req = format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
            s.write_all(req.as_bytes()).unwrap();
            match read_answer(&mut s) {
                Some(a) => format!("{path} {} {}", a.status, a.body.len()),
                None => format!("{path} no answer"),
            }
        })
        .collect()
}

#[test]
fn response_wait_for_body_holds_the_response_or_times_out_with_504() {
    let servers = [
        slow_body_server(200, None),
        slow_body_server(200, Some(Duration::from_millis(10))),
        slow_body_server(201, Some(Duration::from_millis(300))),
    ];
    let (mine, theirs) = both(wait_config(servers), wait_answers);
    assert_eq!(mine[1], "/soon 200 1001", "{mine:?}");
    assert_eq!(mine[2], "/late 201 1001", "{mine:?}");
    assert!(mine[0].starts_with("/never 504 "), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
