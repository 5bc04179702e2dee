//! `http-request wait-for-body`: the rules after it see the body; a body that does not come
//! in time gets a 408; `at-least` goes on once that much has come. Side by side with Debian's
//! haproxy (status line and answer).

use super::harness::{both, raw};
use std::time::Duration;

fn config(port: u16) -> String {
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request wait-for-body time 300ms if {{ path /a }}
    http-request wait-for-body time 300ms at-least 4 if {{ path /b }}
    http-request return status 200 content-type text/plain lf-string \"len=%[req.body_len]\"
"
    )
}

/// Requests whose head announces 20 bytes of body, with the bytes actually sent.
const CASES: &[(&str, &str)] = &[
    ("/a", "01234567890123456789"),
    ("/a", "01234"),
    ("/b", "01234"),
];

fn answers(port: u16) -> Vec<String> {
    CASES
        .iter()
        .map(|(path, body)| {
            let req = format!(
                "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{body}"
            );
            let out = raw(port, req.as_bytes(), Duration::from_secs(2));
            let status = out.lines().next().unwrap_or("").to_string();
            let text = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            format!("{path} {body}: {status} {}", text.trim())
        })
        .collect()
}

#[test]
fn wait_for_body_lets_rules_see_the_body() {
    let (mine, theirs) = both(config, answers);
    assert!(mine[0].ends_with("200 OK len=20"), "{mine:?}");
    assert!(mine[1].contains(" 408 "), "{mine:?}");
    assert!(mine[2].ends_with("200 OK len=5"), "{mine:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}
