//! Global settings that change bytes on the wire, side by side with Debian's haproxy:
//! `pp2-never-send-local` (the PROXY v2 header of health checks) and
//! `h2-workaround-bogus-websocket-clients` (the HTTP/2 SETTINGS frame).

use super::checks::FirstBytes;
use super::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// The PROXY v2 signature every version 2 header starts with.
const PP2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// A health check of a `send-proxy-v2` server opens with a LOCAL header (no addresses);
/// with `pp2-never-send-local`, with a PROXY command naming the check's own connection.
#[test]
fn pp2_never_send_local_names_the_checks_connection() {
    let run = |never_local: bool| {
        let cfg = move |port: u16, server: &FirstBytes| {
            format!(
                "global
{}    log stdout format raw local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{port}
    default_backend b
backend b
    timeout check 1s
    server s {} check send-proxy-v2 inter 300
",
                if never_local {
                    "    pp2-never-send-local\n"
                } else {
                    ""
                },
                server.addr
            )
        };
        both_with(FirstBytes::start, cfg, |_, server| {
            wait_until(Duration::from_secs(5), || {
                server.got.lock().unwrap().len() >= 16
            });
            let got = server.got.lock().unwrap().clone();
            let dst_port = got.get(26..28).map(|p| u16::from_be_bytes([p[0], p[1]]));
            (
                got.starts_with(&PP2_SIGNATURE),
                // Version and command, family and transport, and the length of what follows.
                got.get(12..16).map(<[u8]>::to_vec),
                got.len(),
                dst_port == Some(server.addr.port()),
            )
        })
    };
    let (local, theirs_local) = run(false);
    let (named, theirs_named) = run(true);
    assert_eq!(local, (true, Some(vec![0x20, 0x00, 0, 0]), 16, false));
    assert_eq!(named, (true, Some(vec![0x21, 0x11, 0, 12]), 28, true));
    if let (Some(a), Some(b)) = (theirs_local, theirs_named) {
        assert_eq!((a, b), (local, named));
    }
}

/// The settings of the first frame an HTTP/2 server sends after the client preface, which
/// must be its SETTINGS frame: (identifier, value) pairs.
fn server_settings(port: u16) -> Vec<(u16, u32)> {
    let mut conn = connect(("127.0.0.1", port));
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    // An empty SETTINGS frame of the client's own.
    conn.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    let mut head = [0u8; 9];
    conn.read_exact(&mut head).unwrap();
    assert_eq!(head[3], 4, "the server's first frame is SETTINGS");
    let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    conn.read_exact(&mut payload).unwrap();
    payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect()
}

/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441) is announced as 1 to HTTP/2 clients, and not
/// at all under `h2-workaround-bogus-websocket-clients`.
#[test]
fn h2_workaround_bogus_websocket_clients_announces_no_extended_connect() {
    const ENABLE_CONNECT_PROTOCOL: u16 = 8;
    let cfg = |workaround: bool| {
        move |port: u16| {
            format!(
                "global
{}    log stdout format raw local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
",
                if workaround {
                    "    h2-workaround-bogus-websocket-clients\n"
                } else {
                    ""
                }
            )
        }
    };
    let announced = |port: u16| {
        server_settings(port)
            .into_iter()
            .find(|&(id, _)| id == ENABLE_CONNECT_PROTOCOL)
            .map(|(_, value)| value)
    };
    let (plain, theirs_plain) = both(cfg(false), announced);
    let (worked_around, theirs_worked_around) = both(cfg(true), announced);
    assert_eq!((plain, worked_around), (Some(1), None));
    if let (Some(a), Some(b)) = (theirs_plain, theirs_worked_around) {
        assert_eq!((a, b), (plain, worked_around));
    }
}

/// The SETTINGS frame is HAProxy 2.7's: extended CONNECT first, then the header table size,
/// the initial window size and the concurrent streams, each setting at the protocol's default
/// left out, and no header list size (h2 announced 64 kB), then the frame size, a buffer's
/// unless set. By default 2.7.0 announces a window of 65536 (Debian's 2.6 keeps 65535, so the
/// default is compared with a 2.7.0 build when there is one); tuned values are compared with
/// Debian's haproxy.
#[test]
fn the_settings_frame_is_haproxys() {
    let cfg = |tunes: &'static str| {
        move |port: u16| {
            format!(
                "global
{tunes}    log stdout format raw local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{port} proto h2
    http-request return status 200
"
            )
        }
    };
    let default = cfg("");
    let port = free_port();
    let p = Proxy::start(&default(port), port);
    let mine = server_settings(port);
    drop(p);
    assert_eq!(mine, [(8, 1), (4, 65536), (3, 100)]);
    if let Some((theirs, _)) = with_haproxy_27(default, server_settings) {
        assert_eq!(theirs, mine);
    }
    let tuned = cfg(
        "    tune.h2.header-table-size 8192\n    tune.h2.initial-window-size 65535\n    tune.h2.max-concurrent-streams 50\n",
    );
    let (mine, theirs) = both(tuned, server_settings);
    assert_eq!(mine, [(8, 1), (1, 8192), (3, 50)]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    // The frame size follows a larger buffer unless set, and a setting stays within one.
    let frames = |tunes: &'static str| {
        let (mine, theirs) = both(cfg(tunes), server_settings);
        let size = |s: Vec<(u16, u32)>| s.into_iter().find(|&(id, _)| id == 5).map(|(_, v)| v);
        (size(mine), theirs.map(size))
    };
    for (tunes, size) in [
        ("    tune.bufsize 32768\n", Some(32768)),
        (
            "    tune.bufsize 32768\n    tune.h2.max-frame-size 20000\n",
            Some(20000),
        ),
        (
            "    tune.bufsize 32768\n    tune.h2.max-frame-size 65536\n",
            Some(32768),
        ),
    ] {
        let (mine, theirs) = frames(tunes);
        assert_eq!(mine, size, "{tunes}");
        if let Some(theirs) = theirs {
            assert_eq!(theirs, mine, "{tunes}");
        }
    }
}
