//! How many sockets a `bind` line listens with (`shards`), counted with `ss`, and the
//! NetScaler Client IP header (`accept-netscaler-cip`) in both its forms, whose addresses the
//! client and destination fetches take; each side by side with Debian's haproxy.

use super::harness::*;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// The listening sockets on `port` of the process `pid`.
fn sockets_of(pid: u32, port: u16) -> usize {
    let out = Command::new("ss")
        .args(["-Hltnp", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("pid={pid},")))
        .count()
}

#[test]
fn shards_set_how_many_sockets_a_line_listens_with() {
    let cfg = |port: u16| {
        format!(
            "global
    nbthread 4
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{} shards 2
    bind 127.0.0.1:{} shards by-thread
    bind 127.0.0.1:{} shards 9
    bind 127.0.0.1:{} shards 3 thread 1-2
    http-request return status 200
",
            port + 1,
            port + 2,
            port + 3,
            port + 4
        )
    };
    let (ours, theirs) = both_reading(5, cfg, |port, side| {
        let counts: Vec<usize> = (port..port + 5)
            .map(|p| sockets_of(side.pid(), p))
            .collect();
        let served: Vec<u16> = (port..port + 5)
            .map(|p| curl(&[&format!("http://127.0.0.1:{p}/")]).0)
            .collect();
        (counts, served)
    });
    assert_eq!(ours, (vec![1, 2, 4, 4, 2], vec![200; 5]));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

/// What `port` answered to `bytes` sent at once ("" when it closed without an answer).
fn exchange(port: u16, bytes: &[u8]) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

#[test]
fn netscaler_client_ip_header_gives_the_connections_addresses() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port} accept-netscaler-cip 1234
    log-format \"%ci:%cp %fi:%fp %HM\"
    http-request return status 200 content-type text/plain lf-string \"%[src]:%[src_port] %[dst]:%[dst_port]\"
"
        )
    };
    let src: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let dst: SocketAddr = "198.51.100.1:443".parse().unwrap();
    let (ours, theirs) = both_reading(1, cfg, |port, side| {
        let mut out = Vec::new();
        for standard in [false, true] {
            let mut bytes = hapee_runtime::proto::netscaler::header(1234, src, dst, standard);
            bytes.extend(b"GET / HTTP/1.0\r\n\r\n");
            out.push(exchange(port, &bytes));
        }
        // Another magic number: the connection is closed unanswered.
        let mut bytes = hapee_runtime::proto::netscaler::header(99, src, dst, true);
        bytes.extend(b"GET / HTTP/1.0\r\n\r\n");
        out.push(exchange(port, &bytes));
        let log = side.stdout_when(|l| l.matches("GET").count() >= 2);
        out.extend(log.lines().filter(|l| l.ends_with("GET")).map(String::from));
        out
    });
    let answer = "192.0.2.7:40000 198.51.100.1:443";
    let logged = "192.0.2.7:40000 198.51.100.1:443 GET";
    assert_eq!(ours, [answer, answer, "", logged, logged]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn a_rule_expecting_a_netscaler_header_reads_it_with_the_bind_s_magic_number() {
    // The second line has no `accept-netscaler-cip`: its magic number is 0. A rule's header
    // is read where the bind's would be, so the rule on the first line changes nothing.
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port} accept-netscaler-cip 1234
    bind 127.0.0.1:{}
    tcp-request connection expect-netscaler-cip layer4
    log-format \"%ci:%cp %fi:%fp %HM\"
    http-request return status 200 content-type text/plain lf-string \"%[src]:%[src_port] %[dst]:%[dst_port]\"
",
            port + 1
        )
    };
    let src: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let dst: SocketAddr = "198.51.100.1:443".parse().unwrap();
    let (ours, theirs) = both_reading(2, cfg, |port, side| {
        let mut out = Vec::new();
        for (to, magic) in [(port, 1234), (port + 1, 0), (port + 1, 1234)] {
            let mut bytes = hapee_runtime::proto::netscaler::header(magic, src, dst, true);
            bytes.extend(b"GET / HTTP/1.0\r\n\r\n");
            out.push(exchange(to, &bytes));
        }
        // No header at all: the request is taken for one and refused.
        out.push(exchange(port + 1, b"GET / HTTP/1.0\r\n\r\n"));
        let log = side.stdout_when(|l| l.matches("GET").count() >= 2);
        out.extend(log.lines().filter(|l| l.ends_with("GET")).map(String::from));
        out
    });
    let answer = "192.0.2.7:40000 198.51.100.1:443";
    let logged = "192.0.2.7:40000 198.51.100.1:443 GET";
    assert_eq!(ours, [answer, answer, "", "", logged, logged]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
