//! TCP connections that go on in HTTP mode: `tcp-request content switch-mode http` (the
//! frontend's HTTP rules then apply; `internal.strm.is_htx` tells the two apart) and a TCP
//! frontend whose backend is in HTTP mode. The scenario of HAProxy's
//! `connection/tcp_to_http_upgrade` reg-test, side by side with Debian's haproxy.

use super::harness::{both, connect, Origin};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn config(origin: u16) -> impl Fn(u16) -> String {
    move |port| {
        format!(
            "defaults
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe1
    mode tcp
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 1s
    tcp-request content set-var(req.stream_mode) internal.strm.is_htx,iif(http,tcp)
    tcp-request content switch-mode http if HTTP
    tcp-request content reject # never reached
    http-request set-header x-stream-mode %[var(req.stream_mode)]
    http-request set-header x-name %[fe_name]
    default_backend be
frontend fe2
    mode tcp
    bind 127.0.0.2:{port}
    default_backend be
backend be
    mode http
    http-request set-header x-name %[be_name] unless {{ req.fhdr(x-name) -m found }}
    server s1 127.0.0.1:{origin}
listen li1
    mode http
    bind 127.0.0.3:{port}
    server s1 127.0.0.1:{port} proto h2
listen err2
    mode tcp
    bind 127.0.0.4:{port}
    tcp-request inspect-delay 1s
    tcp-request content switch-mode http proto h1 if HTTP
    tcp-request content reject # never reached
    default_backend be
"
        )
    }
}

/// Reads one Content-Length framed response; its status and the origin's description.
fn answer(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return "no answer".into(),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head.split(' ').nth(1).unwrap_or("-").to_string();
    let len = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = s.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body);
    let mut seen: Vec<&str> = body.lines().filter(|l| l.starts_with("hdr:x-")).collect();
    seen.sort();
    format!("{status} {}", seen.join(" "))
}

/// Two requests on one connection to each listener, and the HTTP/2 preface where HTTP/1 is
/// forced.
fn drive(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for host in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        let mut s = connect((host, port));
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        for _ in 0..2 {
            s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
            out.push(format!("{host} {}", answer(&mut s)));
        }
    }
    let mut s = connect(("127.0.0.4", port));
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    out.push(format!(
        "127.0.0.4 {}",
        got.split(' ').nth(1).unwrap_or("closed")
    ));
    out
}

#[test]
fn tcp_connections_switch_to_http() {
    let origin = Origin::start("s1");
    let (mine, theirs) = both(config(origin.addr.port()), drive);
    let fe1 = "hdr:x-name=fe1";
    assert_eq!(
        mine[..6],
        [
            format!("127.0.0.1 200 {fe1} hdr:x-stream-mode=tcp"),
            format!("127.0.0.1 200 {fe1} hdr:x-stream-mode=http"),
            "127.0.0.2 200 hdr:x-name=be".to_string(),
            "127.0.0.2 200 hdr:x-name=be".to_string(),
            format!("127.0.0.3 200 {fe1} hdr:x-stream-mode=http"),
            format!("127.0.0.3 200 {fe1} hdr:x-stream-mode=http"),
        ],
        "{mine:?}"
    );
    assert_eq!(mine[6], "127.0.0.4 400", "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A head HAProxy's parser refuses past its syntax (two Content-Length values that differ,
/// two Host lines that differ, an absolute target naming another host than its Host) is no
/// HTTP to a TCP content rule: `switch-mode http if HTTP` does not match and the next rule
/// rejects the connection, unanswered; the same head without the conflict switches.
#[test]
fn heads_the_parser_refuses_are_no_http_to_tcp_rules() {
    let origin = Origin::start("s1");
    let drive = |port: u16| {
        [
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        ]
        .iter()
        .map(|request| {
            let mut s = connect(("127.0.0.1", port));
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            s.write_all(request.as_bytes()).unwrap();
            answer(&mut s)
        })
        .collect::<Vec<_>>()
    };
    let (mine, theirs) = both(config(origin.addr.port()), drive);
    let fe1 = "hdr:x-name=fe1 hdr:x-stream-mode=tcp";
    assert_eq!(
        mine,
        [
            "no answer".to_string(),
            "no answer".to_string(),
            "no answer".to_string(),
            format!("200 {fe1}"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
