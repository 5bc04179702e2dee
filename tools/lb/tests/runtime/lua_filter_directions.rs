//! The two directions of a TCP stream wait each on its own, as HAProxy's channels do: while a
//! script filter holds the response (`lua.until`, `testdata/lua/filters_run.lua`, answering
//! `filter.WAIT` from the response's `start_analyze` or from its `tcp_payload` until the
//! server sent enough), the client's bytes still go to the server. Side by side with Debian's
//! haproxy, each step taken once the one before it is seen.

use super::harness::{both_sides, Side, DEFAULTS};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// `n` bytes read from `s` (within 10 s), or "nothing".
fn read_n(s: &mut TcpStream, n: usize) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = vec![0u8; n];
    match s.read_exact(&mut got) {
        Ok(()) => String::from_utf8_lossy(&got).to_string(),
        Err(_) => "nothing".to_string(),
    }
}

/// The server's side of the proxy's connection to `listener`, once made (within 10 s).
fn accepted(listener: &TcpListener) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let mut got = None;
    super::harness::wait_until(Duration::from_secs(10), || {
        got = listener.accept().ok().map(|(s, _)| s);
        got.is_some()
    });
    let s = got?;
    s.set_nonblocking(false).unwrap();
    Some(s)
}

/// Runs the exchange through `filter lua.until <where> 6`: the client sends `one`; the
/// server, once it got it, sends three bytes (not enough to let the response go); the client
/// sends `two`; the server, once it got it, sends four more, and the client reads the seven.
/// What the server got each time, what the client got, and what the filter printed.
fn both_directions(filter_where: &str) -> (String, String, String, Vec<String>) {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, server: &TcpListener| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.until {filter_where} 6\n    server o {}\n",
            server.local_addr().unwrap()
        )
    };
    let server = || TcpListener::bind("127.0.0.1:0").unwrap();
    let drive = |port: u16, server: &TcpListener, side: &Side| {
        let mut client = super::harness::connect(("127.0.0.1", port));
        client.write_all(b"one").unwrap();
        let Some(mut s) = accepted(server) else {
            return Default::default();
        };
        let first = read_n(&mut s, 3);
        s.write_all(b"abc").unwrap();
        client.write_all(b"two").unwrap();
        let second = read_n(&mut s, 3);
        let _ = s.write_all(b"defg");
        let answer = read_n(&mut client, 7);
        let went = side.selected(
            |out| {
                out.lines()
                    .filter(|l| l.starts_with("until "))
                    .map(str::to_string)
                    .collect()
            },
            1,
        );
        (first, second, answer, went)
    };
    let (ours, theirs) = both_sides(1, server, cfg, drive);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
    ours
}

#[test]
fn the_client_bytes_go_on_while_the_responses_start_waits_as_in_haproxy() {
    assert_eq!(
        both_directions("start"),
        (
            "ONE".to_string(),
            "TWO".to_string(),
            "ABCDEFG".to_string(),
            vec!["until start 7".to_string()]
        )
    );
}

#[test]
fn the_client_bytes_go_on_while_the_responses_payload_waits_as_in_haproxy() {
    assert_eq!(
        both_directions("payload"),
        (
            "ONE".to_string(),
            "TWO".to_string(),
            "ABCDEFG".to_string(),
            vec!["until payload 7".to_string()]
        )
    );
}
