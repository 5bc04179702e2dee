//! Script filters that hold data (`testdata/lua/filters_hold.lua`), side by side with Debian's
//! haproxy: a filter forwarding nothing for a while holds at most a buffer (`tune.bufsize`),
//! the sender's bytes waiting meanwhile, and everything arrives intact once it lets go; on
//! HTTP streams (request and response bodies) and TCP streams alike.

use super::harness::{raw, Origin, Scratch, Side, DEFAULTS};
use std::process::Command;
use std::time::Duration;

/// `size` bytes of a pattern that shows a byte lost, doubled or out of place.
fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The peak resident memory of process `pid` so far (`VmHWM`), in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What the filter printed as each side it held ended, the most it was offered at once read
/// as `bounded` when it held a good part of a buffer and no more than one (`tune.bufsize` less
/// `tune.maxrewrite`: 15360 bytes of a TCP stream, 15304 of a body with HAProxy's headers of
/// its buffer and block).
fn held(side: &Side) -> Vec<String> {
    let mut lines: Vec<String> = side
        .selected(
            |out| {
                out.lines()
                    .filter(|l| l.starts_with("hold "))
                    .map(str::to_string)
                    .collect()
            },
            2,
        )
        .iter()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let max = w
                .get(2)
                .and_then(|m| m.strip_prefix("max="))
                .and_then(|m| m.parse::<usize>().ok());
            let max = match max {
                Some(n) if (4096..=15360).contains(&n) => "bounded".to_string(),
                _ => w.get(2).unwrap_or(&"").to_string(),
            };
            format!("{} {max}", w.get(1).unwrap_or(&""))
        })
        .collect();
    lines.sort();
    lines
}

/// Whether `answer` carries the origin's echo of exactly `sent`.
fn echoed(answer: &[u8], sent: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    text.lines()
        .find_map(|l| l.strip_prefix("body="))
        .is_some_and(|b| b.as_bytes() == sent)
}

/// How much the peak memory of hapee's process grew while `f` ran (0 for haproxy's).
fn growth<T>(side: &Side, f: impl FnOnce() -> T) -> (T, u64) {
    let pid = matches!(side, Side::Hapee(_)).then(|| side.pid());
    let before = pid.and_then(peak_kb);
    let out = f();
    let after = pid.and_then(peak_kb);
    (
        out,
        after.zip(before).map_or(0, |(a, b)| a.saturating_sub(b)),
    )
}

/// The most hapee's memory may grow by while the body passes: much less than the body, which
/// a hold without bound would keep whole (twice, the response echoing the request).
const GROWTH_LIMIT_KB: u64 = 8 << 10;

const SIZE: usize = 16 << 20;

/// Runs `exchange(port)` (the answer it got) through `proxy(port, origin)`, a proxy whose
/// `filter lua.hold 300 req res` holds both directions for 300 ms, side by side: the origin's
/// echo of `body` arrives intact, each direction's hold stays within a buffer, and hapee's
/// memory grows by much less than the body.
fn holds_a_buffer(
    body: &[u8],
    proxy: impl Fn(u16, &Origin) -> String,
    exchange: impl Fn(u16) -> Vec<u8>,
) {
    let script = super::lua_public::script("filters_hold.lua");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}{}",
            proxy(port, origin)
        )
    };
    let (ours, theirs) = super::harness::both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let (answer, grew) = growth(side, || exchange(port));
            ((echoed(&answer, body), held(side)), grew)
        },
    );
    let (mine, grew) = ours;
    assert_eq!(
        mine,
        (true, vec!["req bounded".into(), "res bounded".into()])
    );
    assert!(grew < GROWTH_LIMIT_KB, "hapee's memory grew by {grew} kB");
    if let Some((theirs, _)) = theirs {
        assert_eq!(mine, theirs, "hapee and haproxy differ");
    }
}

#[test]
fn a_holding_filter_keeps_at_most_a_buffer_of_an_http_body_as_in_haproxy() {
    let body = pattern(SIZE);
    let file = Scratch::file(&format!("hapee-luaf-hold-{}", std::process::id()));
    std::fs::write(&file, &body).unwrap();
    let proxy = |port: u16, origin: &Origin| {
        format!(
            "frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.hold 300 req res\n    default_backend app\nbackend app\n    server o {}\n",
            origin.addr
        )
    };
    holds_a_buffer(&body, proxy, |port| {
        Command::new("curl")
            .args(["-s", "--max-time", "60", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .expect("curl is installed (see .ci/run)")
            .stdout
    });
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_holding_filter_keeps_at_most_a_buffer_of_a_tcp_stream_as_in_haproxy() {
    let body = pattern(SIZE);
    let mut request = format!(
        "POST / HTTP/1.0\r\nhost: here\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let proxy = |port: u16, origin: &Origin| {
        format!(
            "listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.hold 300 req res\n    server o {}\n",
            origin.addr
        )
    };
    holds_a_buffer(&body, proxy, |port| {
        raw(port, &request, Duration::from_secs(20)).into_bytes()
    });
}
