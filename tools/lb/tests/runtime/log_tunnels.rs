//! The log line of a stream that became a tunnel (an HTTP/1 `Upgrade` answered 101): written
//! when the tunnel ends, with the tunnel's bytes, once the stream has let its server go (its
//! server's and backend's counts, `%sc` and `%bc`, no longer hold it) while its client
//! connection still counts (`%ac`, `%fc`), as HAProxy writes it.

use crate::harness::*;
use std::io::{Read, Write};

fn config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    log-format \"W|%ST|%sc|%bc|%ac|%fc|%ts|%U|%B|%HP\"
    default_backend app
backend app
    server s1 {origin}
"
    )
}

/// Switches to the origin's upper-casing echo, sends `hello`, reads it back and closes.
fn tunnel(port: u16) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut echoed = got[at..].to_vec();
    s.write_all(b"hello").unwrap();
    while echoed.len() < 5 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        echoed.extend_from_slice(&buf[..n]);
    }
    assert_eq!(echoed, b"HELLO");
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = s.read_to_end(&mut echoed);
    head
}

#[test]
fn a_tunnel_is_logged_once_it_has_let_its_server_go() {
    let o = Origin::start("o");
    let ((_, mine), theirs) = logged_side_by_side(
        |port| config(port, o.addr),
        tunnel,
        |l| l.starts_with("W|"),
        1,
    );
    // The server's slot is free (`%sc` 0), the client's connection still counts (`%ac`,
    // `%fc`), and the tunnel's five bytes each way are in `%U` and `%B`.
    assert_eq!(mine, ["W|101|0|0|1|1|--|73|117|/ws"]);
    if let Some((_, theirs)) = theirs {
        assert_eq!(theirs, mine);
    }
}
