//! A log line is written as soon as every field of the frontend's formats is known, as
//! HAProxy writes it: a format without any field of the stream's end (bytes, timers, counts,
//! the unique id…) is written at a server's response head, and in TCP once the server is
//! connected; one of request and start fields only is written at the request too, so a
//! request a server answers gets two identical lines, one the proxy answers itself one. A
//! field of any of the frontend's strings (`unique-id-format` too) holds the line back.

use crate::harness::*;
use std::io::Write;

fn socket_name(port: u16) -> String {
    format!("hapee-log-early-{}-{port}.sock", std::process::id())
}

fn socket(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(socket_name(port))
}

fn config(port: u16, origin: std::net::SocketAddr) -> String {
    let defaults = logged_defaults_with(&format!(
        "    stats socket {} level admin\n",
        socket(port).display()
    ));
    format!(
        "{defaults}frontend req
    bind 127.0.0.1:{port}
    log-format \"R|%rt|%HP|%HM\"
    http-request return status 204 if {{ path /own }}
    default_backend app
frontend resp
    bind 127.0.0.1:{resp}
    log-format \"S|%HP|%ST|%ci\"
    default_backend app
frontend uid
    bind 127.0.0.1:{uid}
    unique-id-format %rc
    log-format \"U|%HP\"
    default_backend app
frontend tcp
    mode tcp
    bind 127.0.0.1:{tcp}
    log-format \"T|%rt|%f|%b\"
    default_backend raw
frontend asap
    bind 127.0.0.1:{asap}
    option logasap
    log-format \"L|%HP|%B\"
    http-request return status 204 if {{ path /own }}
    default_backend app
backend app
    server s1 {origin}
backend raw
    mode tcp
    server s1 {origin}
",
        resp = port + 1,
        uid = port + 2,
        tcp = port + 3,
        asap = port + 4,
    )
}

/// The status line of the answer to `path`'s request on a connection of its own.
fn get(port: u16, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    let answer = send_and_read(port, req.as_bytes());
    answer.lines().next().unwrap_or("").to_string()
}

/// Frontend `fe`'s `bout` (bytes sent to clients), from `show stat`.
fn bytes_out(port: u16, fe: &str) -> u64 {
    let csv = crate::api::ask(&socket(port), "show stat -1 1 -1\n");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "bout").unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{fe},FRONTEND,")))
        .unwrap();
    row.split(',').nth(at).unwrap().parse().unwrap()
}

fn ours(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.len() > 1 && l.as_bytes()[1] == b'|')
        .map(str::to_string)
        .collect()
}

#[test]
fn a_line_is_written_as_soon_as_its_fields_are_known() {
    let o = Origin::start("o");
    let (mine, theirs) = both_reading(
        5,
        |port| config(port, o.addr),
        |port, side| {
            // The proxy's socket, removed once this side is read (kept if the test fails).
            let _socket = Scratch::file(&socket_name(port));
            // Request fields only, a server's answer: at the request and at the response.
            assert_eq!(get(port, "/a"), "HTTP/1.1 200 OK");
            side.selected(ours, 2);
            // The proxy's own answer: at the request only.
            assert_eq!(get(port, "/own"), "HTTP/1.1 204 No Content");
            side.selected(ours, 3);
            // A status and an address: at the response head, once.
            assert_eq!(get(port + 1, "/b"), "HTTP/1.1 200 OK");
            side.selected(ours, 4);
            // The unique id needs the end: once, at the end.
            assert_eq!(get(port + 2, "/c"), "HTTP/1.1 200 OK");
            side.selected(ours, 5);
            // The totals count the whole answer whenever the line is written: the same for
            // the line written at the head as for the one written at the end.
            assert_eq!(
                bytes_out(port, "resp"),
                bytes_out(port, "uid"),
                "{}",
                side.name()
            );
            assert!(bytes_out(port, "resp") > 100, "{}", side.name());
            // (the three Runtime API connections took 4, 5 and 6)
            // TCP: once the server is connected, while the stream is still open.
            let mut s = connect(("127.0.0.1", port + 3));
            s.write_all(b"GET /t HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
            side.selected(ours, 6);
            drop(s);
            // `option logasap` takes the bytes out of what the line waits for: one of request
            // fields and `%B` is written at the request and at the response head, its totals
            // marked as partial on every line, the proxy's own answer's too.
            assert_eq!(get(port + 4, "/x"), "HTTP/1.1 200 OK");
            side.selected(ours, 8);
            assert_eq!(get(port + 4, "/own"), "HTTP/1.1 204 No Content");
            side.selected(ours, 9)
        },
    );
    assert_eq!(
        mine,
        [
            "R|0|/a|GET",
            "R|0|/a|GET",
            "R|1|/own|GET",
            "S|/b|200|127.0.0.1",
            "U|/c",
            "T|7|tcp|raw",
            "L|/x|+0",
            "L|/x|+142",
            "L|/own|+0",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

fn rules_config(port: u16, origin: std::net::SocketAddr) -> String {
    let defaults = logged_defaults_with("");
    format!(
        "{defaults}frontend bytes
    bind 127.0.0.1:{port}
    log-format \"A|%HP\"
    http-response set-header x-b %B
    default_backend app
frontend header
    bind 127.0.0.1:{header}
    log-format \"C|%HP\"
    capture request header host len 10
    default_backend app
frontend status
    bind 127.0.0.1:{status}
    log-format \"E|%HP\"
    http-request set-var-fmt(txn.x) %ST
    default_backend app
frontend declared
    bind 127.0.0.1:{declared}
    log-format \"D|%HP\"
    declare capture request len 10
    default_backend app
frontend tcp
    mode tcp
    bind 127.0.0.1:{tcp}
    log-format \"T|%f\"
    tcp-request content set-var-fmt(sess.x) %B
    default_backend raw
backend app
    server s1 {origin}
backend raw
    mode tcp
    server s1 {origin}
",
        header = port + 1,
        status = port + 2,
        declared = port + 3,
        tcp = port + 4,
    )
}

#[test]
fn the_strings_of_rules_and_captures_hold_a_line_back_as_the_formats_own_fields_do() {
    let o = Origin::start("o");
    let (mine, theirs) = both_reading(
        5,
        |port| rules_config(port, o.addr),
        |port, side| {
            // TCP: `%B` in a content rule keeps the line from being written at the server's
            // connection: while the stream is open, a line of another frontend comes and
            // this one does not.
            let mut s = connect(("127.0.0.1", port + 4));
            s.write_all(b"GET /t HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = std::io::Read::read(&mut s, &mut buf).unwrap();
                assert!(n > 0, "closed before an answer");
                head.extend_from_slice(&buf[..n]);
            }
            // `%B` in a rule: the line waits for the end (one line, not two).
            assert_eq!(get(port, "/a"), "HTTP/1.1 200 OK");
            assert_eq!(side.selected(ours, 1), ["A|/a"], "{}", side.name());
            drop(s);
            side.selected(ours, 2);
            // A header capture, and a status in a rule: written at the response only.
            assert_eq!(get(port + 1, "/c"), "HTTP/1.1 200 OK");
            side.selected(ours, 3);
            assert_eq!(get(port + 2, "/e"), "HTTP/1.1 200 OK");
            side.selected(ours, 4);
            // A declared slot holds nothing back: at the request and at the response.
            assert_eq!(get(port + 3, "/d"), "HTTP/1.1 200 OK");
            side.selected(ours, 6)
        },
    );
    assert_eq!(mine, ["A|/a", "T|tcp", "C|/c", "E|/e", "D|/d", "D|/d"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
