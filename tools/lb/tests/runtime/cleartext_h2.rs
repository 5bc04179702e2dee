//! HTTP/2 in clear (prior knowledge): on a `proto h2` listener, with the `tune.h2` settings
//! announced, GOAWAY on `timeout client` and on a graceful stop; on a listener without
//! `proto h2` (HTTP/1's upgrade), refused by `option disable-h2-upgrade`; and a redirect to
//! https.

use crate::harness::*;
use crate::tls::{curl_tls, have};
use std::io::{Read, Write};
use std::process::Command;

#[test]
fn prior_knowledge_h2c_and_redirect_to_https() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let (h2c, clear, quiet) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global
    tune.h2.max-concurrent-streams 7
    tune.h2.initial-window-size 32768
{DEFAULTS}frontend fe
    bind 127.0.0.1:{h2c} proto h2
    default_backend app
frontend quiet
    bind 127.0.0.1:{quiet} proto h2
    timeout client 300ms
    default_backend app
frontend clear
    bind 127.0.0.1:{clear}
    http-request redirect scheme https unless {{ ssl_fc }}
    default_backend app
backend app
    server s1 {}
",
        o.addr
    );
    let p = Proxy::start(&cfg, h2c);
    let (out, err) = curl_tls(&[
        "--http2-prior-knowledge",
        &format!("http://127.0.0.1:{h2c}/x"),
    ]);
    assert!(
        out.ends_with("200 2") && out.contains("path=/x"),
        "{out}{err}"
    );
    // Several streams on one connection, in parallel (curl 7.88 cannot reuse a
    // prior-knowledge connection, with HAProxy either).
    if have("nghttp", &["--version"]) {
        let out = Command::new("nghttp")
            .args(["-n", "-s"])
            .args((0..5).map(|i| format!("http://127.0.0.1:{h2c}/s{i}")))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches(" 200 ").count(), 5, "{text}");
        // The tune.h2 settings are what the proxy announces.
        let out = Command::new("nghttp")
            .args(["-nv", &format!("http://127.0.0.1:{h2c}/")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7"),
            "{text}"
        );
        assert!(
            text.contains("SETTINGS_INITIAL_WINDOW_SIZE(0x04):32768"),
            "{text}"
        );
    }
    let (out, _) = curl_tls(&["-i", &format!("http://127.0.0.1:{clear}/secure/page")]);
    assert!(
        out.contains(&format!("location: https://127.0.0.1:{clear}/secure/page")),
        "{out}"
    );
    assert!(out.ends_with("302 1.1"), "{out}");
    // A connection silent for `timeout client` is sent GOAWAY and closed.
    let frames = h2_frames_until_closed(quiet, || {});
    assert!(frames.contains(&0x7), "frame types {frames:?}");
    // A graceful stop sends GOAWAY to an open HTTP/2 connection, then closes it.
    let frames = h2_frames_until_closed(h2c, || p.signal("USR1"));
    assert!(frames.contains(&0x7), "frame types {frames:?}");
}

/// A listener without `proto h2` serves HTTP/2 to a client that starts with its preface (prior
/// knowledge), as HAProxy's HTTP/1 side upgrades; `option disable-h2-upgrade` refuses it; an
/// HTTP/1 request on the same listener stays HTTP/1. Side by side with haproxy.
#[test]
fn http2_prior_knowledge_on_a_listener_without_proto_h2() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend plain
    bind 127.0.0.1:{port}
    default_backend app
frontend strict
    bind 127.0.0.1:{}
    option disable-h2-upgrade
    default_backend app
backend app
    server s1 {}
",
            port + 1,
            o.addr
        )
    };
    let drive = |port: u16| {
        let url = |p: u16| format!("http://127.0.0.1:{p}/pk");
        let h2 = curl_tls(&["--http2-prior-knowledge", &url(port)]).0;
        let h1 = curl_tls(&[&url(port)]).0;
        let refused = curl_tls(&["--http2-prior-knowledge", &url(port + 1)]).0;
        let tail = |s: &str| s.rsplit('\n').next().unwrap_or("").to_string();
        (
            tail(&h2),
            tail(&h1),
            tail(&refused),
            h2.contains("path=/pk"),
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| drive(port));
    assert_eq!(ours.0, "200 2", "{ours:?}");
    assert_eq!(ours.1, "200 1.1", "{ours:?}");
    assert!(
        ours.2.starts_with("000") || ours.2.starts_with("400"),
        "{ours:?}"
    );
    assert!(ours.3, "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee vs haproxy");
    }
}

/// Opens an HTTP/2 connection (preface and empty SETTINGS), runs `then`, and answers the
/// types of the frames the proxy sent until it closed the connection.
fn h2_frames_until_closed(port: u16, then: impl FnOnce()) -> Vec<u8> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    then();
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 9 <= got.len() {
        let len = (usize::from(got[at]) << 16)
            | (usize::from(got[at + 1]) << 8)
            | usize::from(got[at + 2]);
        frames.push(got[at + 3]);
        at += 9 + len;
    }
    frames
}
