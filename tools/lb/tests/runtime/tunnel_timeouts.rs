//! A tunnel that ends on an idle limit is logged with the side whose limit passed first and
//! the data phase (`cD` the client's, `sD` the server's), as HAProxy logs it: a TCP stream
//! under `timeout client`/`timeout server` or `timeout tunnel`, and an HTTP tunnel after its
//! 101, which keeps each side's own limit when there is no `timeout tunnel`. Side by side with
//! Debian's haproxy.

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

fn config(port: u16, silent: std::net::SocketAddr, origin: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}listen client_first
    mode tcp
    bind 127.0.0.1:{port}
    timeout client 200ms
    timeout server 900ms
    log-format \"A|%ts\"
    server s {silent}
listen server_first
    mode tcp
    bind 127.0.0.1:{server_first}
    timeout client 3s
    timeout server 200ms
    log-format \"B|%ts\"
    server s {silent}
listen tunnel
    mode tcp
    bind 127.0.0.1:{tunnel}
    timeout tunnel 300ms
    log-format \"C|%ts\"
    server s {silent}
listen upgraded
    bind 127.0.0.1:{upgraded}
    timeout tunnel 300ms
    log-format \"D|%ts|%ST\"
    server s {origin}
listen upgraded_untimed
    bind 127.0.0.1:{untimed}
    timeout client 250ms
    timeout server 3s
    log-format \"E|%ts|%ST\"
    server s {origin}
",
        server_first = port + 1,
        tunnel = port + 2,
        upgraded = port + 3,
        untimed = port + 4,
    )
}

/// Connects, sends `hello` (if any), and reads until the proxy closes.
fn idle_until_closed(port: u16, hello: &[u8]) {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(hello).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
}

fn ours(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.len() > 1 && l.as_bytes()[1] == b'|')
        .map(str::to_string)
        .collect()
}

#[test]
fn a_tunnel_ended_by_an_idle_limit_logs_the_side_whose_limit_passed() {
    let silent = raw_server(b"", Duration::ZERO, Duration::from_secs(30));
    let o = Origin::start("o");
    let upgrade = b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n";
    let (mine, theirs) = both_reading(
        5,
        |port| config(port, silent, o.addr),
        |port, side| {
            idle_until_closed(port, b"");
            side.selected(ours, 1);
            idle_until_closed(port + 1, b"");
            side.selected(ours, 2);
            idle_until_closed(port + 2, b"");
            side.selected(ours, 3);
            idle_until_closed(port + 3, upgrade);
            side.selected(ours, 4);
            idle_until_closed(port + 4, upgrade);
            side.selected(ours, 5)
        },
    );
    assert_eq!(mine, ["A|cD", "B|sD", "C|cD", "D|cD|101", "E|cD|101"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
