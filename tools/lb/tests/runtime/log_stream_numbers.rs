//! `%rt`, the number HAProxy gives each stream of the process: every stream takes the next one
//! as it starts (each HTTP request, kept-alive ones included, each TCP stream, each Runtime
//! API connection), whether or not its frontend logs it or makes a unique id of it; a line
//! logged without a stream (a request the parser refused) takes one as it is written; an
//! HTTP/1 connection switched from TCP goes on with its TCP stream's number for its first
//! request. One count for all threads, which `show info` gives as `CumReq`.

use crate::harness::*;
use std::io::{Read, Write};

fn socket_name(port: u16) -> String {
    format!("hapee-rt-numbers-{}-{port}.sock", std::process::id())
}

fn socket(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(socket_name(port))
}

/// `fe` logs `%rt` with a unique id made of it, `tcp` is a TCP frontend, `quiet` logs
/// neither, `sw` switches from TCP to HTTP. Each format has a field known only at the end
/// (`%rc`, `%ID`): HAProxy logs a line that needs none of them as soon as it can, twice for an
/// HTTP request (at the request, again at the response).
fn config(port: u16, origin: std::net::SocketAddr) -> String {
    let defaults = logged_defaults_with(&format!(
        "    stats socket {} level admin\n",
        socket(port).display()
    ));
    format!(
        "{defaults}frontend fe
    bind 127.0.0.1:{port}
    unique-id-format id-%rt
    log-format \"N|%rt|%ID|%ST|%HP\"
    default_backend app
frontend tcp
    mode tcp
    bind 127.0.0.1:{tcp}
    log-format \"N|%rt|tcp|%rc\"
    default_backend raw
frontend quiet
    bind 127.0.0.1:{quiet}
    log-format \"Q|%HP|%rc\"
    default_backend app
frontend sw
    mode tcp
    bind 127.0.0.1:{sw}
    tcp-request inspect-delay 1s
    tcp-request content switch-mode http if HTTP
    log-format \"N|%rt|sw|%rc\"
    default_backend app
backend app
    server s1 {origin}
backend raw
    mode tcp
    server s1 {origin}
",
        tcp = port + 1,
        quiet = port + 2,
        sw = port + 3,
    )
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").into_bytes()
}

/// One Runtime API command on a connection of its own.
fn cli(port: u16, command: &str) -> String {
    crate::api::ask(&socket(port), command)
}

/// The lines that log a number, in its order (a TCP stream's line is written as it closes,
/// which may come after the next stream's).
fn numbered(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter(|l| l.starts_with("N|"))
        .map(str::to_string)
        .collect();
    lines.sort_by_key(|l| l.split('|').nth(1).and_then(|n| n.parse::<u64>().ok()));
    lines
}

#[test]
fn every_stream_takes_the_next_number_as_haproxy_numbers_them() {
    let o = Origin::start("o");
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let (mine, theirs) = both_reading(
        4,
        |port| {
            sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
            config(port, o.addr)
        },
        |port, side| {
            // Two requests kept alive on one connection: 0 and 1.
            let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
            assert_eq!(curl(&[&url("/a"), &url("/b")]).0, 200);
            // A TCP stream: 2.
            assert!(send_and_read(port + 1, &get("/t")).starts_with("HTTP/1.1 200"));
            // A request of a frontend that logs no number: 3.
            assert!(send_and_read(port + 2, &get("/q")).starts_with("HTTP/1.1 200"));
            // A Runtime API connection: 4.
            assert!(cli(port, "show info\n").contains("Name: "));
            // A request the parser refuses, logged without a stream: 5.
            assert!(send_and_read(port, b"NOT A REQUEST\r\n\r\n").contains(" 400 "));
            // (hapee writes that line just after the connection closed, HAProxy just before:
            // the next connection waits for it)
            side.stdout_when(|l| l.contains("<BADREQ>"));
            // A TCP connection switched to HTTP: its first request is the TCP stream (6),
            // the next one a new stream (7).
            let two: &[u8] = b"GET /s1 HTTP/1.1\r\nHost: h\r\n\r\n\
                GET /s2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
            let answer = send_and_read(port + 3, two);
            assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
            // And one more request: 8.
            assert_eq!(curl(&[&url("/c")]).0, 200);
            let mut lines = side.selected(numbered, 7);
            // `CumReq` reads the same count, this Runtime API connection (9) included.
            let info = cli(port, "show info\n");
            lines.extend(
                info.lines()
                    .filter(|l| l.starts_with("CumReq:"))
                    .map(str::to_string),
            );
            lines
        },
    );
    assert_eq!(
        mine,
        [
            "N|0|id-0|200|/a",
            "N|1|id-1|200|/b",
            "N|2|tcp|0",
            "N|5|-|400|<BADREQ>",
            "N|6|sw|0",
            "N|7|sw|0",
            "N|8|id-8|200|/c",
            "CumReq: 10",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Streams on several threads share the one count: the numbers of concurrent requests are all
/// different and leave none out.
#[test]
fn streams_of_all_threads_share_one_count() {
    let o = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{}frontend fe
    bind 127.0.0.1:{port}
    log-format \"N|%rt|%HP|%rc\"
    default_backend app
backend app
    server s1 {}
",
            logged_defaults_with("    nbthread 4\n"),
            o.addr
        )
    };
    const N: usize = 16;
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let clients: Vec<_> = (0..N)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut s = connect(("127.0.0.1", port));
                    let req = format!("GET /p{i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                    s.write_all(req.as_bytes()).unwrap();
                    let mut answer = String::new();
                    let _ = s.read_to_string(&mut answer);
                    answer
                })
            })
            .collect();
        for c in clients {
            assert!(c.join().unwrap().starts_with("HTTP/1.1 200"));
        }
        let mut numbers: Vec<u64> = side
            .selected(numbered, N)
            .iter()
            .filter_map(|l| l.split('|').nth(1)?.parse().ok())
            .collect();
        numbers.sort_unstable();
        numbers
    });
    assert_eq!(mine, (0..N as u64).collect::<Vec<_>>());
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
