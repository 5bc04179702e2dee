//! `timeout client` limits what the client owes: a request head or body, or reading the answer.
//! Once a request is read whole, the wait for the server is not the client's, so a server that
//! answers after the client's limit, or connect retries that take longer than it, still reach
//! the client. Side by side with Debian's haproxy.

use crate::harness::*;
use std::time::Duration;

fn config(port: u16, slow: std::net::SocketAddr, refused: u16) -> String {
    format!(
        "{LOGGED_DEFAULTS}listen slow_server
    bind 127.0.0.1:{port}
    timeout client 250ms
    log-format \"A|%ST|%ts\"
    server s {slow}
listen connect_retries
    bind 127.0.0.1:{retries}
    timeout client 250ms
    retries 2
    log-format \"B|%ST|%ts\"
    server s 127.0.0.1:{refused}
",
        retries = port + 1,
    )
}

/// The status line of the answer to one request (empty when the proxy closed without one).
fn status_of(port: u16) -> String {
    let answer = send_and_read(
        port,
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    answer.lines().next().unwrap_or("").to_string()
}

#[test]
fn the_wait_for_the_server_is_not_limited_by_timeout_client() {
    let slow = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        Duration::from_millis(700),
        Duration::from_millis(100),
    );
    let refused = free_port();
    let (hapee, haproxy) = both_reading(
        2,
        |port| config(port, slow, refused),
        |port, side| {
            let answers = (status_of(port), status_of(port + 1));
            let logged = side.stdout_when(|out| out.matches('|').count() >= 4);
            (answers, logged)
        },
    );
    assert_eq!(
        hapee.0 .0, "HTTP/1.1 200 OK",
        "a late server's answer is forwarded"
    );
    assert!(
        hapee.0 .1.starts_with("HTTP/1.1 503"),
        "connect retries end in a 503, not a closed connection: {:?}",
        hapee.0 .1
    );
    assert!(hapee.1.contains("A|200|--"), "{}", hapee.1);
    assert!(hapee.1.contains("B|503|SC"), "{}", hapee.1);
    if let Some(haproxy) = haproxy {
        assert_eq!(hapee.0, haproxy.0);
    }
}
