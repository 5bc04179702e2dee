//! A script filter answering `filter.WAIT` without a wake time is called again when its
//! stream wakes, as in HAProxy: when data arrives on the channel (or its source ends), not on a
//! timer. Side by side with Debian's haproxy: the calls of `lua.waitin`
//! (`testdata/lua/filters_run.lua`) as the client's or the server's bytes come one piece at a
//! time, the test sending each piece once the call before it is seen. Also the order in which
//! a TCP stream's filters end its channels, which follows the events that close them.

use super::harness::{both_sides, Origin, Side, DEFAULTS};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// The `waitin` lines printed so far.
fn calls(side: &Side, at_least: usize) -> Vec<String> {
    side.selected(
        |out| {
            out.lines()
                .filter(|l| l.starts_with("waitin "))
                .map(str::to_string)
                .collect()
        },
        at_least,
    )
}

/// Whether the filter stays uncalled while nothing arrives: no line beyond the `seen` first
/// within 300 ms (it was called every 100 ms).
fn quiet(side: &Side, seen: usize) -> bool {
    !super::harness::wait_until(Duration::from_millis(300), || calls(side, 0).len() > seen)
}

fn read_to_end(mut s: TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).to_string()
}

#[test]
fn a_filter_waiting_on_a_tcp_streams_start_runs_again_as_bytes_arrive_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.waitin start:req 2 held\n    server o {}\n",
            origin.addr
        )
    };
    let pieces: [&[u8]; 2] = [b"GET /x HTTP/1.0\r\n", b"host: a\r\n\r\n"];
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let mut s = super::harness::connect(("127.0.0.1", port));
            calls(side, 1);
            let quiet = quiet(side, 1);
            for (i, piece) in pieces.iter().enumerate() {
                s.write_all(piece).unwrap();
                calls(side, i + 2);
            }
            let answer = read_to_end(s);
            let path = answer
                .lines()
                .find(|l| l.starts_with("PATH="))
                .map(str::to_string);
            (quiet, calls(side, 3), path)
        },
    );
    // Each call sees the bytes come so far; the third goes on, the request upper-cased.
    assert_eq!(
        ours,
        (
            true,
            vec![
                "waitin start:req 1 0".to_string(),
                "waitin start:req 2 17".to_string(),
                "waitin start:req 3 28".to_string(),
            ],
            Some("PATH=/X".to_string())
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

#[test]
fn a_filter_waiting_on_a_tcp_streams_response_start_runs_again_as_the_server_answers() {
    let script = super::lua_public::script("filters_run.lua");
    // The request is held by the content rules, so that it goes to the server at once.
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.waitin start:res 1\n    tcp-request inspect-delay 2s\n    tcp-request content accept if {{ req.len gt 0 }}\n    server o {}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let answer = super::harness::raw(
                port,
                b"GET /x HTTP/1.0\r\nhost: a\r\n\r\n",
                Duration::from_secs(5),
            );
            let status = answer.lines().next().map(str::to_string);
            (status, calls(side, 2))
        },
    );
    assert_eq!(
        ours,
        (
            Some("HTTP/1.1 200 OK".to_string()),
            vec![
                "waitin start:res 1".to_string(),
                "waitin start:res 2".to_string()
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// A server sending its response's head with the body's first bytes, then each further piece
/// of its body when told to (`more`).
struct Stepped {
    addr: std::net::SocketAddr,
    more: mpsc::Sender<()>,
}

impl Stepped {
    fn start(head: &'static [u8], pieces: &'static [&'static [u8]]) -> Stepped {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (more, told) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(head);
            for piece in pieces {
                if told.recv_timeout(Duration::from_secs(10)).is_err() {
                    return;
                }
                let _ = s.write_all(piece);
            }
            let _ = s.read(&mut buf);
        });
        Stepped { addr, more }
    }
}

#[test]
fn a_filter_waiting_on_a_response_head_runs_again_as_its_body_arrives_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Stepped| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.waitin headers:res 2\n    default_backend app\nbackend app\n    server o {}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || {
            Stepped::start(
                b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc",
                &[b"def", b"ghi"],
            )
        },
        cfg,
        |port, origin, side| {
            let mut s = super::harness::connect(("127.0.0.1", port));
            s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
                .unwrap();
            calls(side, 1);
            let quiet = quiet(side, 1);
            for n in [2, 3] {
                origin.more.send(()).unwrap();
                calls(side, n);
            }
            let answer = read_to_end(s);
            (quiet, calls(side, 3), answer.ends_with("\r\n\r\nabcdefghi"))
        },
    );
    assert_eq!(
        ours,
        (
            true,
            vec![
                "waitin headers:res 1".to_string(),
                "waitin headers:res 2".to_string(),
                "waitin headers:res 3".to_string(),
            ],
            true
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// A server echoing what it reads until its client closes, then closing.
fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A TCP stream's filters end the channel of the side that closed first first: the client's
/// here (the server, echoing, closes after it), the server's in
/// `a_script_filter_rewrites_both_directions_of_a_tcp_stream_as_in_haproxy`.
#[test]
fn a_tcp_streams_filters_end_first_the_side_that_closed_first_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, server: &std::net::SocketAddr| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.tcp\n    server o {server}\n"
        )
    };
    let (ours, theirs) = both_sides(1, echo_server, cfg, |port, _, side| {
        let mut s = super::harness::connect(("127.0.0.1", port));
        s.write_all(b"abc").unwrap();
        let mut got = [0u8; 3];
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let echoed = s.read_exact(&mut got).is_ok();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let rest = read_to_end(s);
        let ends = super::lua_filters::tcp_starts_and_ends(side);
        (echoed.then_some(got), rest, ends)
    });
    assert_eq!(
        ours,
        (
            Some(*b"ABC"),
            String::new(),
            vec![
                "start:req start:res end:req".to_string(),
                "start:req start:res end:req end:res".to_string()
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
