//! Behaviours the differential traffic check of HAProxy's own reg-test configurations
//! (`CORPUS=regtests bash bench/differential.sh`) found apart from HAProxy 2.7, each side by
//! side with Debian's haproxy.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// An origin that notes each request head it reads (lines joined with `|`) and answers
/// `/ws` with a 101 naming the upgrade as most servers spell it, anything else with a 200.
fn recording_origin() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let head = read_head(&mut s);
                if head.is_empty() {
                    return;
                }
                let upgrade = head.starts_with("GET /ws ");
                log.lock()
                    .unwrap()
                    .push(head.trim_end().replace("\r\n", "|"));
                let reply: &[u8] = if upgrade {
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                };
                let _ = s.write_all(reply);
                // An upgraded connection stays until the client is done.
                let _ = s.read(&mut [0u8; 64]);
            });
        }
    });
    (addr, seen)
}

/// Runs `drive` against hapee and then haproxy (when installed), each with a fresh recording
/// origin: what the client got and the heads the origin saw.
type Seen<T> = (T, Vec<String>);
fn both_recorded<T>(drive: impl Fn(u16) -> T) -> (Seen<T>, Option<Seen<T>>) {
    let (mine, theirs) = both_with(
        recording_origin,
        |port, (origin, _)| format!("{DEFAULTS}{}", fe_to_app(port, "", origin)),
        |port, (_, seen)| {
            let out = drive(port);
            // The origin notes a head before it answers: the answer read, it is there.
            let heads = std::mem::take(&mut *seen.lock().unwrap());
            (out, heads)
        },
    );
    (mine, theirs)
}

/// A GET of `/` that asks to close, on `port`: the values of the answer's fields whose names
/// start with `prefix`, each as `name: value` when `prefix` is not a whole name.
fn fields_of_get(port: u16, prefix: &str) -> Vec<String> {
    let answer = send_and_read(
        port,
        b"GET /a?b=1 HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    );
    fields(&answer, prefix)
}

/// The fields of `answer` whose names start with `prefix`: their values for a whole name
/// (`x-a: `), else the lines.
fn fields(answer: &str, prefix: &str) -> Vec<String> {
    answer
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.strip_prefix(prefix)
                .filter(|_| prefix.ends_with(": "))
                .unwrap_or(l)
        })
        .map(String::from)
        .collect()
}

/// Asserts that Debian's haproxy, when it ran, saw what hapee saw.
fn assert_like_haproxy<T: std::fmt::Debug + PartialEq>(mine: &T, theirs: Option<T>) {
    if let Some(theirs) = theirs {
        assert_eq!(&theirs, mine);
    }
}

/// A websocket upgrade's `Connection: Upgrade` reaches the server as the client spelled it,
/// and the server's reaches the client the same way, as HAProxy's HTTP/1 layer passes the
/// option on untouched (hapee wrote `upgrade`; the differential's `upgrade_ws` request).
#[test]
fn the_upgrade_option_keeps_its_spelling_both_ways() {
    let drive = |port: u16| {
        let mut s = connect(("127.0.0.1", port));
        s.write_all(
            b"GET /ws HTTP/1.1\r\nhost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
        )
        .unwrap();
        read_head(&mut s)
    };
    let (mine, theirs) = both_recorded(drive);
    assert_eq!(
        mine.0,
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    assert_eq!(
        mine.1,
        [
            "GET /ws HTTP/1.1|host: a|connection: Upgrade|upgrade: websocket|\
          sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==|sec-websocket-version: 13"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `sess.` variables the `tcp-request connection` and `session` rules set hold for every
/// request of the connection, beside those the HTTP rules set, as in HAProxy (hapee lost the
/// first two: the differential's `connection/cli_src_dst` reg-test).
#[test]
fn session_rules_variables_reach_every_request() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection set-var(sess.conn) str(c)
    tcp-request session set-var(sess.sess) str(s)
    tcp-request session set-var(sess.src) src
    http-request set-var(sess.count) var(sess.count),add(1) if {{ var(sess.count) -m found }}
    http-request set-var(sess.count) int(1) unless {{ var(sess.count) -m found }}
    http-after-response set-header x-vars %[var(sess.conn)]/%[var(sess.sess)]/%[var(sess.src)]/%[var(sess.count)]
    http-request return status 200
"
        )
    };
    let drive = |port: u16| {
        let answer = send_and_read(
            port,
            b"GET /1 HTTP/1.1\r\nhost: a\r\n\r\nGET /2 HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        );
        fields(&answer, "x-vars: ")
    };
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(mine, ["c/s/127.0.0.1/1", "c/s/127.0.0.1/2"]);
    assert_like_haproxy(&mine, theirs);
}

/// `fc_src` and `fc_dst` keep the connection's addresses (a `tcp-request connection` rule's
/// included) when `tcp-request session`, `content` or `http-request` rules change the
/// stream's `src` and `dst`, as in HAProxy (hapee reported the last change for both: the
/// differential's `connection/cli_src_dst` reg-test).
#[test]
fn connection_addresses_stay_when_later_rules_change_the_streams() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection set-dst ipv4(10.0.0.2)
    tcp-request session set-src ipv4(10.1.0.1)
    tcp-request session set-var(sess.fc) fc_src
    tcp-request session set-var(sess.src) src
    http-request set-dst ipv4(10.2.0.2)
    http-after-response set-header x-addrs %[var(sess.fc)]/%[var(sess.src)]|%[fc_src]|%[src]|%[fc_dst]|%[dst]|%[fc_src_is_local]
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both(cfg, |port| fields_of_get(port, "x-addrs: "));
    assert_eq!(
        mine,
        ["127.0.0.1/10.1.0.1|127.0.0.1|10.1.0.1|10.0.0.2|10.2.0.2|1"]
    );
    assert_like_haproxy(&mine, theirs);
}

/// `capture.req.uri` and `capture.req.method` answer when a field of the frontend's format
/// strings needs the request line, whether the frontend logs or not: `option httplog` with no
/// log target, or a rule's sample reading HTTP (HAProxy's log.c keeps the request line for
/// any sample of a proxy that needs HTTP); a frontend with neither keeps none, a fetch in a
/// rule's condition or `set-var` not counting (hapee answered only for frontends with a log
/// target: the differential's `http_after_response` reg-test).
#[test]
fn captured_request_line_follows_the_formats_not_the_log_targets() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend httplog
    bind 127.0.0.1:{port}
    option httplog
    http-after-response set-header x-uri \"%[capture.req.method] %[capture.req.uri]\"
    http-request return status 200
frontend sample
    bind 127.0.0.1:{}
    http-request set-header x-path %[path]
    http-after-response set-header x-uri \"%[capture.req.method] %[capture.req.uri]\"
    http-request return status 200
frontend none
    bind 127.0.0.1:{}
    http-after-response set-header x-uri \"%[var(txn.uri)]\"
    http-request set-var(txn.uri) capture.req.uri
    http-request return status 200
",
            port + 1,
            port + 2
        )
    };
    let drive = |port: u16| {
        let mut seen: Vec<_> = (port..port + 3)
            .map(|p| fields_of_get(p, "x-uri: "))
            .collect();
        // An absolute target gives its path, and none when it has none.
        for target in ["http://h/a?b=1", "http://h"] {
            let request = format!("GET {target} HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n");
            seen.push(fields(&send_and_read(port, request.as_bytes()), "x-uri: "));
        }
        seen
    };
    let (mine, theirs) = both_reading(3, cfg, |port, _| drive(port));
    let line = vec!["GET /a?b=1".to_string()];
    assert_eq!(mine[..2], [line.clone(), line]);
    // The variable was never set: the header is there, empty.
    assert_eq!(mine[2], [""]);
    assert_eq!(
        mine[3..],
        [vec!["GET /a?b=1".to_string()], vec!["GET ".to_string()]]
    );
    assert_like_haproxy(&mine, theirs);
}

/// `req.fhdr` and `res.fhdr` give a value without the spaces around it, one a rule wrote with
/// a trailing space included, as HAProxy's header lookup trims every value it finds (hapee
/// kept the rule's trailing space: the differential's `h1_to_h1c` and `http_after_response`
/// reg-tests).
#[test]
fn full_header_values_are_trimmed_as_found() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request set-header x-a \"a: \"
    http-request set-header x-a \"%[req.fhdr(x-a)] b\"
    http-after-response set-header x-b \"b: \"
    http-after-response set-header x-b \"%[res.fhdr(x-b)] c\"
    http-after-response set-header x-a \"%[var(txn.a)]|\"
    http-request set-var(txn.a) req.fhdr(x-a)
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both(cfg, |port| fields_of_get(port, "x-"));
    assert_eq!(mine, ["x-b: b: c", "x-a: a: b|"]);
    assert_like_haproxy(&mine, theirs);
}

/// A request head larger than what HAProxy receives before rewrites (`tune.bufsize` less its
/// own header and `tune.maxrewrite`, in HAProxy's internal form) is refused with the parser's
/// 400 (hyper's limit is at least 8 kB of raw bytes: hapee took such heads under a smaller
/// `tune.bufsize`, then failed the first rewrite with a 500, the differential's
/// `strict_rw_mode` reg-test).
#[test]
fn a_head_past_the_receive_limit_is_refused() {
    let o = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "global
    tune.bufsize 4096
    tune.maxrewrite 128
{DEFAULTS}{}",
            fe_to_app(port, "    http-request set-header x-a 1\n", o.addr)
        )
    };
    let status = |port: u16, filler: usize| {
        let request = format!(
            "GET / HTTP/1.1\r\nhost: a\r\nx-filler: {}\r\nconnection: close\r\n\r\n",
            "f".repeat(filler)
        );
        let answer = send_and_read(port, request.as_bytes());
        answer.get(9..12).unwrap_or_default().to_string()
    };
    let drive = |port: u16| [status(port, 3000), status(port, 3900)];
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(mine, ["200", "400"]);
    assert_like_haproxy(&mine, theirs);
}

/// `http-send-name-header`: HAProxy deletes the client's lines of that name and adds its own
/// after all the other fields, so the server reads it last (hapee replaced the client's line
/// where it stood).
#[test]
fn the_server_name_field_goes_after_the_other_fields() {
    let (mine, theirs) = both_with(
        recording_origin,
        |port, (origin, _)| {
            format!(
                "{DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    default_backend b
backend b
    http-send-name-header x-srv
    server app1 {origin}
"
            )
        },
        |port, (_, seen)| {
            send_and_read(
                port,
                b"GET / HTTP/1.1\r\nhost: a\r\nx-srv: forged\r\nx-after: 1\r\nconnection: close\r\n\r\n",
            );
            let heads = std::mem::take(&mut *seen.lock().unwrap());
            heads
                .iter()
                .map(|h| {
                    h.split('|')
                        .filter(|l| l.starts_with("x-"))
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect::<Vec<_>>()
        },
    );
    assert_eq!(mine, ["x-after: 1|x-srv: app1"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
