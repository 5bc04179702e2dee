//! Side by side with Debian's haproxy, the actions and fetches real configurations use that
//! hapee once refused (issue 19): `silent-drop` (what the client sees, what is logged), the
//! live pattern edits `set-map`/`del-map`/`add-acl`/`del-acl` (what the converters and ACLs
//! read next), `set-priority-*` (`prio_class`, `prio_offset`), and the fetches of live figures,
//! of the socket's TCP_INFO and the hashed request keys. `set-mark`, `set-tos` and `set-nice`
//! have no effect a test can see from a client: they are only started with (and change
//! nothing visible). Checked against HAProxy 2.7.0's tcp_act.c, http_act.c, queue.c,
//! backend.c, tcp_sample.c and http_fetch.c.

use crate::harness::*;
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

/// What a client saw of its request: an answer's status line, a close, a reset, or nothing
/// within a second.
fn outcome(port: u16, request: &[u8]) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = [0u8; 4096];
    match s.read(&mut buf) {
        Ok(0) => "closed".into(),
        Ok(n) => String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => "reset".into(),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            "nothing".into()
        }
        Err(e) => format!("error {e}"),
    }
}

/// Whether this process (and so the proxies it starts) holds CAP_NET_ADMIN, which TCP repair
/// mode needs.
fn may_repair() -> bool {
    const CAP_NET_ADMIN: u32 = 12;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let caps = s.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(caps.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

/// The log lines of a side that start with `mark`.
fn marked(out: &str, mark: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with(mark))
        .map(str::to_string)
        .collect()
}

#[test]
fn silent_drop_closes_without_a_word_and_logs_as_haproxy() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"drop %ST %ts %{{Q}}r\"
    option dontlognull
    http-request silent-drop if {{ path /quiet }}
    http-request set-mark 0x10
    http-request set-tos 0x20
    http-request set-nice 10
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        // Root may put the socket in repair mode: the client hears nothing at all. Else the
        // connection is reset.
        let quiet = outcome(port, b"GET /quiet HTTP/1.1\r\nhost: a\r\n\r\n");
        let answered = outcome(port, b"GET /ok HTTP/1.1\r\nhost: a\r\n\r\n");
        let log = side.selected(|out| marked(out, "drop "), 2);
        (quiet, answered, log)
    });
    assert_eq!(mine.1, "HTTP/1.1 200 OK", "{mine:?}");
    let repair = may_repair();
    assert_eq!(mine.0, if repair { "nothing" } else { "reset" }, "{mine:?}");
    assert!(
        mine.2
            .iter()
            .any(|l| l.starts_with("drop -1 PR ") && l.contains("GET /quiet")),
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn tcp_silent_drop_ends_the_connection_as_haproxy_does() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    log-format \"drop %ts\"
    option dontlognull
    tcp-request inspect-delay 1s
    tcp-request content silent-drop if {{ req.len gt 0 }}
    default_backend app
backend app
    mode tcp
    server s1 127.0.0.1:1
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let seen = outcome(port, b"hello");
        (seen, side.selected(|out| marked(out, "drop "), 1))
    });
    let repair = may_repair();
    let seen = if repair { "nothing" } else { "reset" };
    assert_eq!(mine, (seen.to_string(), vec!["drop PR".to_string()]));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// `rst-ttl` (HAProxy 2.7, not Debian's 2.6): the connection is reset, never put in repair
/// mode, whatever the privileges; the other requests are answered.
#[test]
fn silent_drop_with_a_reset_ttl_resets() {
    let port = free_ports(2);
    let proxy = Proxy::start(
        &format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request silent-drop rst-ttl 64 if {{ path /reset }}
    http-request return status 200
listen tcp
    mode tcp
    bind 127.0.0.1:{}
    tcp-request inspect-delay 1s
    tcp-request content silent-drop rst-ttl 3 if {{ req.len gt 0 }}
    server s1 127.0.0.1:1
",
            port + 1
        ),
        port,
    );
    assert_eq!(
        outcome(port, b"GET /reset HTTP/1.1\r\nhost: a\r\n\r\n"),
        "reset"
    );
    assert_eq!(
        outcome(port, b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(outcome(port + 1, b"hello"), "reset");
    drop(proxy);
}

/// Fresh map and ACL files for one side, and their folder's guard (the side's fixture, so
/// dropped after its proxy).
fn pattern_files() -> (String, String, Scratch) {
    let dir = Scratch::dir(&format!(
        "hapee-patedit-{}-{}",
        std::process::id(),
        free_port()
    ));
    let map = dir.join("m.map");
    let acl = dir.join("a.acl");
    std::fs::write(&map, "k1 v1\n").unwrap();
    std::fs::write(&acl, "listed\n").unwrap();
    (
        map.to_string_lossy().into_owned(),
        acl.to_string_lossy().into_owned(),
        dir,
    )
}

#[test]
fn pattern_edits_change_what_maps_and_acls_read() {
    let cfg = |port: u16, (map, acl, _): &(String, String, Scratch)| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    acl listed req.hdr(k) -f {acl}
    http-request set-map({map}) %[req.hdr(k)] %[req.hdr(v)] if {{ path /set }}
    http-request del-map({map}) %[req.hdr(k)] if {{ path /del }}
    http-request add-acl({acl}) %[req.hdr(k)] if {{ path /add }}
    http-request del-acl({acl}) %[req.hdr(k)] if {{ path /delacl }}
    http-request set-var(txn.listed) str(yes) if listed
    http-request return status 200 content-type text/plain lf-string \"%[req.hdr(k),map({map},none)] %[var(txn.listed)]\"
"
        )
    };
    let ask = |port: u16, path: &str, k: &str, v: &str| {
        let host = format!("127.0.0.1:{port}");
        curl(&[
            "-H",
            &format!("k: {k}"),
            "-H",
            &format!("v: {v}"),
            &format!("http://{host}{path}"),
        ])
        .1
    };
    let (mine, theirs) = both_with(pattern_files, cfg, |port, _| {
        [
            ask(port, "/", "k1", ""),
            ask(port, "/set", "k2", "v2"),
            ask(port, "/", "k2", ""),
            ask(port, "/set", "k1", "changed"),
            ask(port, "/", "k1", ""),
            ask(port, "/del", "k1", ""),
            ask(port, "/", "k1", ""),
            ask(port, "/add", "new", ""),
            ask(port, "/", "new", ""),
            ask(port, "/add", "new", ""),
            ask(port, "/delacl", "new", ""),
            ask(port, "/", "new", ""),
            ask(port, "/delacl", "listed", ""),
            ask(port, "/", "listed", ""),
        ]
    });
    assert_eq!(mine[1], "v2 ", "{mine:?}");
    assert_eq!(mine[4], "changed ", "{mine:?}");
    assert_eq!(mine[6], "none ", "{mine:?}");
    assert_eq!(mine[8], "none yes", "{mine:?}");
    assert_eq!(mine[11], "none ", "{mine:?}");
    assert_eq!(mine[13], "none ", "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn live_figures_socket_and_hashes_as_haproxy_fetches_them() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request set-priority-class int(5000)
    http-request set-priority-offset int(-7)
    http-request return status 200 content-type text/plain lf-string \"%[fe_req_rate] %[fe_sess_rate] %[prio_class] %[prio_offset] %[queue(app)] %[avg_queue(app)] %[srv_queue(app/s1)] %[connslots(app)] %[be_conn_free(app)] %[srv_conn_free(app/s1)] %[src_is_local] %[dst_is_local] %[base32] %[url32] %[base32+src,hex] %[url32+src,hex] %[fc_lost] %[fc_retrans] %[fc_unacked] %[fc_sacked] %[fc_reordering]|%[fc_rtt] %[fc_rtt(us)] %[fc_rttvar(ms)]\"
backend app
    server s1 127.0.0.1:1 maxconn 10 maxqueue 5
    server s2 127.0.0.1:2 maxconn 3 maxqueue 4
"
        )
    };
    let (mine, theirs) = both(cfg, |port| {
        curl(&[
            &format!("http://127.0.0.1:{port}/a/b?x=1"),
            "-H",
            "host: ex.com",
        ])
    });
    assert_eq!(mine.0, 200, "{mine:?}");
    let (figures, times) = mine.1.split_once('|').unwrap();
    // The reordering the kernel expects of the path: 3 (`tcp_reordering`) unless its metrics
    // cache learnt more on the loopback (6 after heavy load): not a fixed figure.
    let (same, reordering) = figures.rsplit_once(' ').unwrap();
    assert!(reordering.parse::<u32>().is_ok_and(|r| r >= 1), "{figures}");
    // The rates count this request and this connection; then the queues and slots of servers
    // that are not used, the hashes.
    assert_eq!(
        same,
        "1 1 2047 -7 0 0 0 22 13 10 1 1 3058019441 411468635 B645AC717F000001 1886835B7F000001 0 0 0 0"
    );
    // The round trip on the loopback: a few microseconds, not yet a millisecond.
    let t: Vec<i64> = times.split(' ').map(|v| v.parse().unwrap()).collect();
    assert!(
        t.len() == 3 && t[1] > 0 && t[0] <= 1 + t[1] / 1000,
        "{times}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, 200, "{theirs:?}");
        // HAProxy counts the connection that saw it listen as a request too (its HTTP/1
        // stream starts with the connection): the request rates differ by that one.
        let theirs = theirs.1.split_once('|').unwrap().0;
        let theirs = theirs.rsplit_once(' ').unwrap().0;
        assert_eq!(
            same.split_once(' ').unwrap().1,
            theirs.split_once(' ').unwrap().1
        );
    }
}

#[test]
fn header_lines_in_binary_as_haproxy_encodes_them() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"%[req.hdrs_bin,hex]\"
"
        )
    };
    let (mine, theirs) = both(cfg, |port| {
        curl(&[
            &format!("http://127.0.0.1:{port}/"),
            "-H",
            "host: ex",
            "-H",
            "X-One: 1",
            "-H",
            "user-agent: t",
            "-H",
            "x-one: 2",
        ])
    });
    // host, user-agent, accept, x-one twice; then the two zero lengths.
    assert!(mine.1.starts_with("04686F7374"), "{mine:?}");
    assert!(mine.1.ends_with("0000"), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn rdp_cookie_and_payload_of_a_remote_desktop_request() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    mode tcp
    bind 127.0.0.1:{port}
    log-format \"rdp %[var(sess.c)] %[var(sess.n)] %[var(sess.p),hex]\"
    option dontlognull
    tcp-request inspect-delay 2s
    tcp-request content reject unless RDP_COOKIE
    tcp-request content set-var(sess.c) req.rdp_cookie(mstshash)
    tcp-request content set-var(sess.n) rdp_cookie_cnt
    tcp-request content set-var(sess.p) payload(0,2)
    default_backend app
backend app
    mode tcp
    server s1 127.0.0.1:1
"
        )
    };
    const REQUEST: &[u8] = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00";
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let _ = outcome(port, REQUEST);
        side.selected(|out| marked(out, "rdp "), 1)
    });
    assert_eq!(mine, vec!["rdp alice 1 0300".to_string()]);
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// An origin that answers every request with a 503 and counts the requests.
fn failing_origin() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let _ =
                s.write_all(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (addr, count)
}

#[test]
fn disable_l7_retry_sends_a_request_once() {
    let cfg = |port: u16, (origin, _): &(std::net::SocketAddr, _)| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request disable-l7-retry if {{ path /once }}
    default_backend app
backend app
    retries 2
    retry-on 503
    server s1 {origin}
"
        )
    };
    let (mine, theirs) = both_with(failing_origin, cfg, |port, (_, count)| {
        use std::sync::atomic::Ordering;
        let once = curl(&[&format!("http://127.0.0.1:{port}/once")]).0;
        let after_once = count.load(Ordering::SeqCst);
        let retried = curl(&[&format!("http://127.0.0.1:{port}/again")]).0;
        (once, after_once, retried, count.load(Ordering::SeqCst))
    });
    assert_eq!(mine, (503, 1, 503, 4));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn grpc_and_protobuf_fields_of_a_body() {
    // One gRPC message: { 1: "hi", 2: { 1: sint32 -3, 3: 100 }, 4: fixed32 7 }, in bytes that
    // are text too (`req.body` is a string sample in hapee).
    const BODY: &[u8] =
        b"\x00\x00\x00\x00\x0f\x0a\x02hi\x12\x04\x08\x05\x18\x64\x25\x07\x00\x00\x00";
    let file = Scratch::file(&format!("hapee-grpc-{}", std::process::id()));
    std::fs::write(&file, BODY).unwrap();
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request wait-for-body time 1s
    http-request return status 200 content-type text/plain lf-string \"%[req.body,ungrpc(2.3,int32)] %[req.body,ungrpc(2.1,sint32)] %[req.body,ungrpc(4,fixed32)] %[req.body,ungrpc(1),hex] %[req.body,bytes(5),protobuf(2.3,uint64)] %[req.body,ungrpc(2.9)]\"
"
        )
    };
    let body = format!("@{}", file.display());
    let (mine, theirs) = both(cfg, |port| {
        curl(&[
            &format!("http://127.0.0.1:{port}/"),
            "-H",
            "content-type: application/grpc",
            "--data-binary",
            &body,
        ])
    });
    assert_eq!(mine, (200, "100 -3 7 6869 100 ".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn response_silent_drop_sends_nothing_of_the_answer() {
    let origin = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        Duration::ZERO,
        Duration::from_secs(2),
    );
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"drop %ST %ts\"
    option dontlognull
    http-response silent-drop if {{ status 200 }}
    default_backend app
backend app
    server s1 {origin}
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let seen = outcome(port, b"GET / HTTP/1.1\r\nhost: a\r\n\r\n");
        (seen, side.selected(|out| marked(out, "drop "), 1))
    });
    let seen = if may_repair() { "nothing" } else { "reset" };
    assert_eq!(mine.0, seen, "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
