//! What goes on the wire before and between requests, side by side with Debian's haproxy: a
//! `proto h2` listener given an HTTP/1 request closes without sending anything (no SETTINGS
//! before the client's preface).

use super::harness::{both_reading, connect, LOGGED_DEFAULTS};
use std::io::{Read, Write};
use std::time::Duration;

/// What the listener sent back to an HTTP/1 request before closing, and whether it closed.
fn answer_to_http1(port: u16) -> (Vec<u8>, bool) {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset is a close too; a timeout is not.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// Nothing is sent back; the connection is logged as a bad request without a status.
#[test]
fn a_proto_h2_listener_closes_silently_on_http1_as_haproxy() {
    let (ours, theirs) = both_reading(
        1,
        |port| {
            format!(
                "{LOGGED_DEFAULTS}    log-format \"%ST %B %tsc %{{+Q}}r %TR\"
frontend fe
    bind 127.0.0.1:{port} proto h2
    http-request return status 200
"
            )
        },
        |port, side| {
            let answer = answer_to_http1(port);
            let log = side.stdout_when(|out| out.contains("BADREQ"));
            let line = log
                .lines()
                .find(|l| l.contains("BADREQ"))
                .map(str::to_string);
            (answer, line)
        },
    );
    assert_eq!(
        ours,
        (
            (Vec::new(), true),
            Some("0 0 PR-- \"<BADREQ>\" -1".to_string())
        ),
        "hapee sent bytes, kept the connection or logged otherwise"
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}
