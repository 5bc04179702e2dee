//! Socket settings of `bind` lines seen from real sockets, side by side with Debian's
//! haproxy: the accept queue's length (`backlog`, as `ss` shows it), the segment size
//! advertised to clients (`mss`, as the client's socket takes it), the interface listened on
//! (`interface lo`), the first data awaited before accepting (`defer-accept`), and the
//! unacknowledged-data limit (`tcp-ut`), TCP Fast Open (`tfo`) and `nice`, accepted and served.

use super::harness::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

/// The accept queue's length of the socket listening on `port`: `ss`'s Send-Q column.
fn listen_backlog(port: u16) -> String {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2).unwrap_or("").to_string()
}

/// The segment size a client connection to `port` settled on.
fn client_mss(port: u16) -> u32 {
    let s = connect(("127.0.0.1", port));
    socket2::SockRef::from(&s).mss().expect("TCP_MAXSEG")
}

#[test]
fn bind_socket_settings_reach_the_listening_socket() {
    let cfg = |port: u16| {
        let other = port + 1;
        format!(
            "{LOGGED_DEFAULTS}frontend tuned
    bind 127.0.0.1:{port} backlog 77 mss 1000 interface lo tcp-ut 20s tfo nice 10
    http-request return status 200 content-type text/plain string tuned
frontend plain
    bind 127.0.0.1:{other}
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        (
            status,
            body,
            listen_backlog(port),
            client_mss(port) <= 1000,
            client_mss(port + 1) > 1000,
        )
    });
    assert_eq!(
        mine,
        (200, "tuned".to_string(), "77".to_string(), true, true)
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The status line a request sent `late` after connecting is answered with.
fn answer_to_late_request(port: u16, late: Duration) -> String {
    let mut s = connect(("127.0.0.1", port));
    std::thread::sleep(late);
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.lines().next().unwrap_or("").to_string()
}

/// `defer-accept`: the connection is accepted when its request comes, so the time for the
/// request counts from then; without it, a request later than `timeout http-request` is
/// answered 408.
#[test]
fn defer_accept_starts_the_request_timer_with_the_first_data() {
    let cfg = |port: u16| {
        let other = port + 1;
        format!(
            "{LOGGED_DEFAULTS}    timeout http-request 300ms
frontend deferred
    bind 127.0.0.1:{port} defer-accept
    http-request return status 200
frontend immediate
    bind 127.0.0.1:{other}
    http-request return status 200
"
        )
    };
    let late = Duration::from_millis(700);
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        (
            answer_to_late_request(port, late),
            answer_to_late_request(port + 1, late),
        )
    });
    assert_eq!(
        mine,
        (
            "HTTP/1.1 200 OK".to_string(),
            "HTTP/1.1 408 Request Time-out".to_string()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A device `interface` cannot bind to is a warning, as in HAProxy: the listener still
/// starts, accepting from every interface.
#[test]
fn an_interface_that_cannot_be_bound_is_warned_about_and_the_listener_serves() {
    let cfg = |port: u16| {
        format!(
            "defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend f
    bind 127.0.0.1:{port} interface nosuchdev0
    http-request return status 200 content-type text/plain string ok
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        let warned = side
            .stderr()
            .lines()
            .any(|l| l.contains("cannot bind receiver to device 'nosuchdev0' (No such device)"));
        (code, body, warned)
    });
    assert_eq!(mine, (200, "ok".to_string(), true));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
