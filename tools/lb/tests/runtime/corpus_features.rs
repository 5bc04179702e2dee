//! Features some of HAProxy's own reg-test configurations need, each checked with real
//! sockets and side by side with Debian's haproxy on the same configuration: redirect options
//! in any order, `last_rule_file`/`last_rule_line`, `so_name`, `track` and `srv_sess_rate`,
//! `bc_err` and `ssl_bc_err`, `kRSA` cipher lists with crt-list filters, and syslog over TLS
//! (a ring's `server … ssl` feeding a `log-forward` `bind … ssl crt`).

use crate::harness::*;
use crate::tls::{Ca, Pki};
use std::time::Duration;

/// HTTP/1.1 `GET path` with `headers`; the status line and the header lines (lower-case
/// names, sorted, without `date`).
fn head(port: u16, path: &str, headers: &str) -> (String, Vec<String>) {
    let req = format!("GET {path} HTTP/1.1\r\nHost: a\r\n{headers}Connection: close\r\n\r\n");
    let out = raw(port, req.as_bytes(), Duration::from_secs(10));
    let head = out.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").to_string();
    let mut fields: Vec<String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| format!("{}: {}", n.to_ascii_lowercase(), v.trim()))
        .filter(|l| !l.starts_with("date:") && !l.starts_with("connection:"))
        .collect();
    fields.sort();
    (status, fields)
}

fn redirect_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request redirect code 301 location /moved ignore-empty if {{ path /a }}
    http-request redirect code 308 location %[req.hdr(x-to)] ignore-empty if {{ path /b }}
    http-request redirect prefix https://example.com code 302 drop-query set-cookie SEEN=1 if {{ path_beg /p }}
    http-request set-var(txn.p) path
    http-request return status 200 content-type text/plain string fallthrough if {{ path /b }}
    http-response redirect location /elsewhere code 303 clear-cookie OLD if {{ var(txn.p) -m str /r }}
    default_backend be
backend be
    server s {origin}
"
    )
}

fn redirects(port: u16) -> Vec<(String, Vec<String>)> {
    vec![
        head(port, "/a", ""),
        head(port, "/b", ""),
        head(port, "/b", "x-to: /there\r\n"),
        head(port, "/p/q?x=1", ""),
        head(port, "/r", ""),
    ]
}

#[test]
fn redirect_options_in_any_order_as_haproxy_reads_them() {
    let origin = Origin::start("o");
    let (mine, theirs) = both(|p| redirect_config(p, origin.addr), redirects);
    assert!(mine[0].0.contains(" 301 "), "{mine:?}");
    assert!(mine[0].1.contains(&"location: /moved".to_string()));
    assert!(!mine[0].1.iter().any(|h| h.starts_with("cache-control")));
    // An empty location skips the rule.
    assert!(mine[1].0.contains(" 200 "), "{mine:?}");
    assert!(mine[2].0.contains(" 308 "), "{mine:?}");
    assert!(mine[3]
        .1
        .contains(&"location: https://example.com/p/q".to_string()));
    assert!(mine[3]
        .1
        .contains(&"set-cookie: SEEN=1; path=/;".to_string()));
    assert!(mine[3].1.contains(&"cache-control: no-cache".to_string()));
    assert!(mine[4].0.contains(" 303 "), "{mine:?}");
    assert!(mine[4]
        .1
        .contains(&"set-cookie: OLD; path=/; Max-Age=0;".to_string()));
    if let Some(theirs) = theirs {
        for (m, t) in mine.iter().zip(&theirs) {
            assert_eq!(m.0, t.0, "status lines");
            // The headers of the answers hapee writes itself (the origin's differ).
            let ours: Vec<&String> =
                m.1.iter()
                    .filter(|h| !h.starts_with("content-type"))
                    .collect();
            let ha: Vec<&String> =
                t.1.iter()
                    .filter(|h| !h.starts_with("content-type"))
                    .collect();
            if !m.0.contains(" 200 ") {
                assert_eq!(ours, ha, "headers of {}", m.0);
            }
        }
    }
}

fn last_rule_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    log stdout format raw local0
    log-format \"lr=%[last_rule_file]:%[last_rule_line] path=%HP\"
    tcp-request content accept if {{ req.hdr(x-tcp) -m found }}
    http-request set-var(txn.x) path
    http-request deny if {{ path /deny }}
    http-request allow if {{ path /allow }}
    http-request redirect location %[req.hdr(x-none)] code 302 ignore-empty if {{ path /empty }}
    http-response deny if {{ var(txn.x) -m str /resdeny }}
    default_backend be
backend be
    server s {origin}
"
    )
}

/// The paths `last_rule_requests` asks for, in order, with their extra headers.
const LAST_RULE_REQUESTS: [(&str, &str); 6] = [
    ("/deny", ""),
    ("/allow", ""),
    ("/none", ""),
    ("/tcp", "x-tcp: 1\r\n"),
    ("/empty", ""),
    ("/resdeny", ""),
];

fn last_rule_requests(port: u16) {
    for (path, h) in LAST_RULE_REQUESTS {
        head(port, path, h);
    }
}

/// `path → line` from log lines `lr=FILE:LINE path=P` (`-` when no rule).
fn last_rules(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| {
            let lr = l.split("lr=").nth(1)?.split(' ').next()?;
            let path = l.split("path=").nth(1)?.trim();
            // A connection closed before its first request.
            if path == "<BADREQ>" {
                return None;
            }
            let line = lr.rsplit(':').next()?.to_string();
            Some((path.to_string(), line))
        })
        .collect()
}

/// [`last_rules`] in the order of the requests (a line is written when its stream ends,
/// which for a denied request may come after the next request's).
fn last_rules_by_request(log: &str) -> Vec<(String, String)> {
    let mut rules = last_rules(log);
    rules.sort_by_key(|(path, _)| LAST_RULE_REQUESTS.iter().position(|(p, _)| p == path));
    rules
}

#[test]
fn last_rule_file_and_line_name_the_last_final_rule() {
    let origin = Origin::start("o");
    let (log, theirs) = both_reading(
        1,
        |p| last_rule_config(p, origin.addr),
        |port, side| {
            empty_connection(port);
            last_rule_requests(port);
            side.stdout_when(|l| l.contains("lr=-:- path=<BADREQ>") && last_rules(l).len() >= 6)
        },
    );
    // The empty connection, logged as HAProxy logs it.
    assert!(log.contains("lr=-:- path=<BADREQ>"), "{log}");
    let mine = last_rules_by_request(&log);
    let expect: Vec<(String, String)> = [
        ("/deny", "13"),
        ("/allow", "14"),
        ("/none", "-"),
        ("/tcp", "11"),
        ("/empty", "-"),
        ("/resdeny", "16"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(mine, expect, "{log}");
    assert!(log.contains("haproxy.cfg:13"), "{log}");
    if let Some(theirs) = theirs {
        assert_eq!(last_rules_by_request(&theirs), expect, "{theirs}");
    }
}

fn so_name_config(port: u16) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port} name foo
    http-request return status 200 hdr so-name %[so_name]
"
    )
}

#[test]
fn so_name_is_the_bind_line_name() {
    let (mine, theirs) = both(so_name_config, |p| head(p, "/", ""));
    assert!(mine.1.contains(&"so-name: foo".to_string()), "{mine:?}");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

fn track_config(
    port: u16,
    dead: u16,
    o1: std::net::SocketAddr,
    o3: std::net::SocketAddr,
) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain hdr s3-up %[srv_is_up(be/s3)] hdr usable %[nbsrv(be)] hdr rate %[srv_sess_rate(be/s1)] string ok if {{ path /state }}
    default_backend be
backend be
    use-server s3 if {{ path /s3 }}
    server s1 {o1}
    server s2 127.0.0.1:{dead} check inter 100 fall 1 rise 1
    server s3 {o3} track s2
"
    )
}

/// What `/state` says once s2's check failed, and the origin `/s3` and four more requests
/// reached, in order.
fn track_run(port: u16) -> (Vec<String>, Vec<String>) {
    std::thread::sleep(Duration::from_millis(800));
    let mut served = Vec::new();
    for _ in 0..4 {
        let req = b"GET /s3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        let out = raw(port, req, Duration::from_secs(10));
        let name = out
            .lines()
            .find(|l| l.starts_with("name="))
            .unwrap_or("")
            .to_string();
        served.push(name);
    }
    (head(port, "/state", "").1, served)
}

#[test]
fn a_tracking_server_follows_the_tracked_one_and_session_rates_count() {
    let (o1, o3) = (Origin::start("o1"), Origin::start("o3"));
    let dead = free_port();
    let (mine, theirs) = both(|p| track_config(p, dead, o1.addr, o3.addr), track_run);
    // s1 only: s2's check failed, and s3 follows s2. `srv_is_up` says 1 for s3 all the same,
    // as HAProxy's does for a server without a check of its own.
    assert!(mine.0.contains(&"usable: 1".to_string()), "{mine:?}");
    assert!(mine.0.contains(&"s3-up: 1".to_string()), "{mine:?}");
    assert!(mine.0.contains(&"rate: 4".to_string()), "{mine:?}");
    assert_eq!(mine.1, vec!["name=o1"; 4]);
    assert_eq!(o3.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

fn bc_err_config(port: u16, tls_port: u16, pki: &Pki) -> String {
    format!(
        "{DEFAULTS}
listen li
    bind 127.0.0.1:{port}
    log stdout format raw local0
    log-format \"%HP bc=%[bc_err]:%{{+Q}}[bc_err_str] ssl=%[ssl_bc_err]\"
    retries 0
    use-server unknown_ca if {{ path /unknown-ca }}
    use-server wrong_name if {{ path /wrong-name }}
    use-server wrong_sni if {{ path /wrong-sni }}
    server fine 127.0.0.1:{tls_port} ssl ca-file {ca} verifyhost srv.example
    server unknown_ca 127.0.0.1:{tls_port} ssl ca-file {other}
    server wrong_name 127.0.0.1:{tls_port} ssl ca-file {ca} verifyhost other.example
    server wrong_sni 127.0.0.1:{tls_port} ssl ca-file {ca} sni str(other.example) verifyhost srv.example
frontend tls
    bind 127.0.0.1:{tls_port} ssl crt {site}
    http-request return status 200 content-type text/plain string served
",
        ca = pki.path("ca.pem"),
        other = pki.path("other.pem"),
        site = pki.path("site.pem"),
    )
}

fn bc_err_requests(port: u16) {
    for path in ["/fine", "/unknown-ca", "/wrong-name", "/wrong-sni"] {
        head(port, path, "");
    }
}

/// The requests' log lines, sorted: each is logged once its answer is sent, by the thread that
/// served it, so two threads may write theirs in either order.
fn bc_lines(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.starts_with('/') && l.contains(" bc="))
        .map(|l| l[l.find('/').unwrap_or(0)..].to_string())
        .collect();
    lines.sort();
    lines
}

#[test]
fn bc_err_and_ssl_bc_err_say_why_a_server_handshake_failed() {
    let pki = Pki::new("bc-err");
    let (ca, other) = (Ca::new("Bc Err CA"), Ca::new("Other CA"));
    let (c, k) = ca.issue(&["srv.example"], false, false);
    pki.write("site.pem", &(c + &k));
    pki.write("ca.pem", &ca.cert.pem());
    pki.write("other.pem", &other.cert.pem());
    let (log, theirs) = both_reading(
        1,
        |p| bc_err_config(p, free_port(), &pki),
        |port, side| {
            bc_err_requests(port);
            side.stdout_when(|l| bc_lines(l).len() >= 4)
        },
    );
    let mine = bc_lines(&log);
    assert_eq!(
        mine,
        vec![
            "/fine bc=0:\"Success\" ssl=0".to_string(),
            "/unknown-ca bc=34:\"SSL handshake failure\" ssl=167772294".to_string(),
            "/wrong-name bc=32:\"Server presented an SSL certificate different from the configured one\" ssl=167772294".to_string(),
            // The SNI sent is the name checked, before `verifyhost`.
            "/wrong-sni bc=33:\"Server presented an SSL certificate different from the expected one\" ssl=167772294".to_string(),
        ],
        "{log}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(bc_lines(&theirs), mine, "{theirs}");
    }
}

fn filters_config(port: u16, tls_port: u16, dir: &str) -> String {
    format!(
        "global
    crt-base {dir}
{DEFAULTS}
listen clear-lst
    bind 127.0.0.1:{port}
    balance roundrobin
    retries 0
    server s1 127.0.0.1:{tls_port} ssl verify none sni str(another-record.bug810.domain.tld) ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers \"kRSA\"
    server s2 127.0.0.1:{tls_port} ssl verify none sni str(another-record.bug810.domain.tld) ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers \"aECDSA\"
    server s3 127.0.0.1:{tls_port} ssl verify none sni str(another-record.bug818.domain.tld) ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers \"kRSA\"
listen ssl-lst
    bind 127.0.0.1:{tls_port} ssl strict-sni ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers \"kRSA:aECDSA\" crt-list {dir}/filters.crt-list
    http-request return status 200 content-type text/plain string served
"
    )
}

fn three_statuses(port: u16) -> Vec<String> {
    (0..3).map(|_| head(port, "/", "").0).collect()
}

#[test]
fn krsa_lists_and_crt_list_filters_pick_certificates_as_haproxy_does() {
    let Some(common) = corpus_path("ssl/common.pem") else {
        return;
    };
    let dir = std::path::Path::new(&common)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let ((mine, warnings), theirs) = both_reading(
        1,
        |p| filters_config(p, free_port(), &dir),
        |port, side| (three_statuses(port), side.stderr()),
    );
    assert!(
        mine[0].contains(" 200 ") && mine[1].contains(" 200 "),
        "{mine:?}"
    );
    assert!(mine[2].contains(" 503 "), "{mine:?}");
    assert!(warnings.contains("'kRSA' stands for"), "{warnings}");
    if let Some((theirs, _)) = theirs {
        assert_eq!(mine, theirs);
    }
}

fn syslog_tls_config(port: u16, udp1: u16, tls_port: u16, udp2: u16, pem: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe1
    bind 127.0.0.1:{port}
    log 127.0.0.1:{udp1} local0
    http-request return status 200
ring myring
    description \"My local buffer\"
    format rfc5424
    maxlen 1200
    size 32764
    timeout connect 5s
    timeout server 10s
    server mysyslogsrv 127.0.0.1:{tls_port} ssl verify none
log-forward syslog2tcp
    dgram-bind 127.0.0.1:{udp1}
    log ring@myring local0
log-forward syslog2local
    bind 127.0.0.1:{tls_port} ssl crt {pem}
    log 127.0.0.1:{udp2} local0
"
    )
}

/// Sends requests until a syslog datagram arrives on `socket` (the log line went UDP → ring
/// → TLS → log-forward → UDP); answers it.
fn relayed(port: u16, socket: &std::net::UdpSocket) -> String {
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..20 {
        head(port, "/relayed-path", "");
        if let Ok(n) = socket.recv(&mut buf) {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
    }
    String::new()
}

#[test]
fn a_ring_sends_syslog_over_tls_to_a_log_forward_tls_listener() {
    let Some(pem) = corpus_path("ssl/common.pem") else {
        return;
    };
    let (mine, theirs) = both_with(
        || std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        |port, sink| {
            let udp2 = sink.local_addr().unwrap().port();
            syslog_tls_config(port, free_port(), free_port(), udp2, &pem)
        },
        relayed,
    );
    assert!(mine.contains("fe1"), "nothing relayed: {mine:?}");
    if let Some(theirs) = theirs {
        assert!(
            theirs.contains("fe1"),
            "haproxy relayed nothing: {theirs:?}"
        );
        // The same syslog header (priority) on both.
        assert_eq!(mine.split('>').next(), theirs.split('>').next());
    }
}

fn crl_config(port: u16, tls_port: u16, dir: &str, bind_crl: &str) -> String {
    format!(
        "{DEFAULTS}
listen clear-lst
    bind 127.0.0.1:{port}
    retries 0
    server s1 127.0.0.1:{tls_port} ssl crt {dir}/set_cafile_client.pem ca-file {dir}/set_cafile_interCA2.crt crl-file {dir}/interCA2_crl_empty.pem verify required
listen ssl-lst
    bind 127.0.0.1:{tls_port} ssl crt {dir}/set_cafile_server.pem ca-file {dir}/set_cafile_interCA1.crt ca-verify-file {dir}/set_cafile_rootCA.crt crl-file {dir}/{bind_crl} verify required crt-ignore-err all
    http-request return status 200 content-type text/plain hdr x-ssl-client-verify %[ssl_c_verify] string ok
"
    )
}

#[test]
fn version_1_crl_files_are_read_on_both_sides() {
    let Some(common) = corpus_path("ssl/common.pem") else {
        return;
    };
    let dir = std::path::Path::new(&common)
        .parent()
        .unwrap()
        .display()
        .to_string();
    // Both files must be read (a version-1 list no longer stops the start); the revoked
    // client is refused. With the empty list this chain also fails its handshake on Debian's
    // haproxy 2.6 (checked by hand: both answer 503), so that case is compared, not assumed.
    for (crl, status) in [
        ("interCA1_crl_empty.pem", None),
        ("interCA1_crl.pem", Some(" 503 ")),
    ] {
        let (mine, theirs) = both(
            |p| crl_config(p, free_port(), &dir, crl),
            |p| head(p, "/", ""),
        );
        if let Some(status) = status {
            assert!(mine.0.contains(status), "{crl}: {mine:?}");
        }
        if let Some(theirs) = theirs {
            assert_eq!(mine, theirs, "{crl}");
        }
    }
}

fn ws_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}
listen li
    bind 127.0.0.1:{port}
    server s {origin} proto h2 ws h1
"
    )
}

/// An upgrade through the proxy, then bytes both ways: the status line and the echo.
fn ws_exchange(port: u16) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    s.write_all(b"hello").unwrap();
    let n = s.read(&mut buf).unwrap_or(0);
    (
        head.lines().next().unwrap_or("").to_string(),
        String::from_utf8_lossy(&buf[..n]).into_owned(),
    )
}

#[test]
fn ws_h1_sends_websocket_requests_over_http1_to_an_h2_server_line() {
    let origin = Origin::start("o");
    let (mine, theirs) = both(|p| ws_config(p, origin.addr), ws_exchange);
    assert!(mine.0.contains(" 101 "), "{mine:?}");
    assert_eq!(mine.1, "HELLO");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
