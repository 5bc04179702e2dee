//! HAProxy's internal message accounting, which some configurations test: `internal.htx.*`
//! and, in HTTP mode, `req.len`/`res.len` count the message as HAProxy's buffer holds it
//! (a block per start line, header and end of head, and the body held). The scenario of
//! HAProxy's `http-messaging/http_msg_full_on_eom` reg-test runs as in HAProxy 2.7 (whose
//! end-of-message flag makes its request rule deny). Compared with Debian's haproxy.

use crate::harness::*;
use std::net::SocketAddr;
use std::time::Duration;

const FIELDS: &str = "%[req.len] %[internal.htx.data] %[internal.htx.used] \
    %[internal.htx.free] %[internal.htx.free_data] %[internal.htx.nbblks] \
    %[internal.htx.has_eom] %[internal.htx.size]";

fn counts_config(port: u16) -> String {
    format!(
        "global
    tune.bufsize 16384
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    option http-buffer-request
    http-request return status 200 hdr x-counts \"{FIELDS}\"
"
    )
}

fn counts(port: u16) -> Vec<String> {
    [
        "GET /converter HTTP/1.1\r\nHost: a\r\nX-Cust: foobar\r\n\r\n",
        "POST /converter HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde",
    ]
    .iter()
    .map(|r| {
        // The connection stays open: the answer's head is all there is to wait for.
        let answer = raw_until(port, r.as_bytes(), has_head, Duration::from_secs(20));
        answer
            .lines()
            .find_map(|l| l.strip_prefix("x-counts: "))
            .unwrap_or("")
            .to_string()
    })
    .collect()
}

#[test]
fn internal_htx_fetches_count_the_message_as_haproxy() {
    let (mine, theirs) = both(counts_config, counts);
    assert_eq!(
        mine,
        [
            "59 59 91 16245 16237 4 1 16336",
            "68 68 108 16228 16220 5 1 16336"
        ]
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}

/// `http_msg_full_on_eom`'s configuration (its log target aside).
fn eom_config(port: u16, server: SocketAddr) -> String {
    format!(
        "global
    tune.bufsize    16384
    tune.maxrewrite 1024
defaults
    mode http
    timeout client  5s
    timeout server  5s
    timeout connect 5s
backend be1
    tcp-response inspect-delay 100ms
    tcp-response content accept if {{ res.len gt 15272 }}
    tcp-response content reject
    http-response deny if {{ internal.htx.has_eom -m bool }} or {{ internal.htx.free_data gt 1024 }}
    server srv1 {server}
frontend fe1
    option httplog
    option http-buffer-request
    bind 127.0.0.1:{port}
    http-request deny if ! {{ req.body_len eq 15200 }} or {{ internal.htx.has_eom -m bool }} or {{ internal.htx.free_data gt 1024 }}
    use_backend be1
"
    )
}

fn eom_status(port: u16) -> String {
    let mut req = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 15200\r\n\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'y', 15200));
    let answer = raw(port, &req, Duration::from_secs(2));
    answer.split(' ').nth(1).unwrap_or("closed").to_string()
}

#[test]
fn the_full_on_eom_reg_test_starts_and_ends_as_in_haproxy() {
    let origin = Origin::start("s1");
    let (mine, theirs) = both(|port| eom_config(port, origin.addr), eom_status);
    // The whole body is held: its end is in the buffer, which the request rule denies.
    assert_eq!(mine, "403");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, "403");
}

fn res_len_config(port: u16, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    tcp-response inspect-delay 1s
    tcp-response content set-var(txn.len) res.len
    tcp-response content accept if {{ res.len gt 30 }}
    tcp-response content reject
    http-response set-header x-res-len %[var(txn.len)]
    server s1 {server}
"
    )
}

/// A server whose response (head and body) comes in one write.
fn small_server() -> SocketAddr {
    raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        Duration::ZERO,
        Duration::from_millis(300),
    )
}

fn res_len(port: u16) -> String {
    let answer = raw(
        port,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_secs(2),
    );
    answer
        .lines()
        .find_map(|l| l.strip_prefix("x-res-len: "))
        .unwrap_or("")
        .to_string()
}

#[test]
fn res_len_in_http_mode_counts_the_response_held() {
    let server = small_server();
    let (mine, theirs) = both(|port| res_len_config(port, server), res_len);
    // 20 + "HTTP/1.1" "200" "OK", "content-length" "5", 1 for the end of the head, 5 of body.
    assert_eq!(mine, "54");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, "54");
}
