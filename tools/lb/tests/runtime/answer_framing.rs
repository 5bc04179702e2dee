//! How answers are framed on an HTTP/1 client connection, side by side with Debian's
//! haproxy: an interim answer (a 101 a rule made of a `return`) and a 204 carry no
//! `Content-Length`, whatever the message held (HAProxy's HTTP/1 side leaves the field out
//! of a response under 200 or of a 204, mux_h1.c's h1_process_mux).

use super::harness::*;
use std::io::Write;

fn interim_config(port: u16) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request return status 204 if {{ path /none }}
    http-request return status 200 hdr connection upgrade hdr upgrade websocket
    http-after-response set-status 101 if {{ status eq 200 }}
"
    )
}

/// The head of the answer to `request`, its header names in lower case.
fn head_of(port: u16, request: &str) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request.as_bytes()).unwrap();
    read_head(&mut s).to_ascii_lowercase()
}

/// A `return` turned into a 101 by `http-after-response set-status` goes without the
/// `content-length: 0` its empty body had, and so does a 204 `return`.
#[test]
fn a_101_or_204_answer_carries_no_content_length() {
    let drive = |port: u16| {
        let upgrade = head_of(
            port,
            "GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
        );
        let none = head_of(port, "GET /none HTTP/1.1\r\nhost: a\r\n\r\n");
        (upgrade, none)
    };
    let (mine, theirs) = both(interim_config, drive);
    for (upgrade, none) in std::iter::once(&mine).chain(theirs.as_ref()) {
        assert!(upgrade.starts_with("http/1.1 101 "), "{upgrade}");
        assert!(upgrade.contains("\r\nupgrade: websocket\r\n"), "{upgrade}");
        assert!(!upgrade.contains("content-length"), "{upgrade}");
        assert!(none.starts_with("http/1.1 204 "), "{none}");
        assert!(!none.contains("content-length"), "{none}");
        assert!(!none.contains("transfer-encoding"), "{none}");
    }
}
