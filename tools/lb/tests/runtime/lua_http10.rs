//! Lua services answering HTTP/1.0 clients as HAProxy's applets do (`testdata/lua/http10.lua`):
//! the status line in the request's version, no `Connection` header where HTTP/1.0 closes
//! anyway, `keep-alive` where the client asked for it and the response has a length, and a
//! body of no given length sent as it comes, the connection closing after it; side by side
//! with Debian's haproxy, answers and logs.

use super::harness::{logged_side_by_side, raw, DEFAULTS};
use std::time::Duration;

fn script() -> String {
    super::lua_public::script("http10.lua")
}

#[test]
fn services_answer_http10_clients_as_haproxy_does() {
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    log stdout format raw local0\n{DEFAULTS}    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.nolen if {{ path /nolen }}\n    http-request use-service lua.len if {{ path /len }}\n    http-request use-service lua.parts if {{ path /parts }}\n",
            script()
        )
    };
    let requests: Vec<String> = ["/nolen", "/len", "/parts"]
        .iter()
        .flat_map(|p| {
            [
                format!("GET {p} HTTP/1.0\r\n\r\n"),
                format!("GET {p} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
            ]
        })
        .collect();
    // Each answer as read until the proxy closes (or 1 s passes, for a kept connection).
    let drive = |port: u16| -> Vec<String> {
        requests
            .iter()
            .map(|r| raw(port, r.as_bytes(), Duration::from_secs(1)))
            .collect()
    };
    // Server, status, bytes, termination state and request of each log line.
    let keep = |l: &str| l.contains("<lua.");
    let ((ours, our_log), theirs) = logged_side_by_side(cfg, drive, keep, requests.len());
    let closed = "HTTP/1.0 200 OK\r\n\r\nhello world\n";
    assert_eq!(ours[0], closed);
    assert_eq!(ours[1], closed);
    assert_eq!(
        ours[2],
        "HTTP/1.0 200 OK\r\ncontent-length: 12\r\n\r\nhello world\n"
    );
    assert_eq!(
        ours[3],
        "HTTP/1.0 200 OK\r\ncontent-length: 12\r\nconnection: keep-alive\r\n\r\nhello world\n"
    );
    assert_eq!(ours[4], closed);
    assert_eq!(ours[5], closed);
    let fields = |log: &[String]| -> Vec<String> {
        let mut f: Vec<String> = log
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                [f[3], f[5], f[6], f[9], &f[12..].join(" ")].join(" ")
            })
            .collect();
        f.sort();
        f
    };
    // HAProxy counts the bytes as for a chunked answer (the header it would add).
    assert!(
        fields(&our_log).contains(&"fe/<lua.nolen> 200 46 LR-- \"GET /nolen HTTP/1.0\"".into()),
        "{our_log:#?}"
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
        assert_eq!(fields(&our_log), fields(&their_log), "the logs differ");
    }
}
