//! `http-request normalize-uri` with each normalizer, side by side with Debian's haproxy: the
//! target the server receives (the origin echoes it) and the 400 of `strict` on a malformed
//! percent-encoding.

use super::harness::{both_reading, raw, Origin};
use std::time::Duration;

/// The normalizers, each on a frontend of its own (ports in this order).
const NORMALIZERS: &[&str] = &[
    "path-merge-slashes",
    "path-strip-dot",
    "path-strip-dotdot",
    "path-strip-dotdot full",
    "query-sort-by-name",
    "percent-to-uppercase",
    "percent-to-uppercase strict",
    "percent-decode-unreserved",
    "percent-decode-unreserved strict",
];

const TARGETS: &[&str] = &[
    "/foo//bar///baz?x=//",
    "/./a/./b/.",
    "/foo/../../bar/",
    "/foo//../../bar/..",
    "/a/b/../c?q=/../",
    "/?z=1&a=2&m&a=1",
    "/%aa%2f%7e?x=%4a",
    "/%zz/%41%2D%5f",
];

fn config(ports: &[u16], origin: std::net::SocketAddr) -> String {
    let mut cfg = String::from(
        "global
    expose-experimental-directives
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
backend be
",
    );
    cfg.push_str(&format!("    server o {origin}\n"));
    for (port, n) in ports.iter().zip(NORMALIZERS) {
        cfg.push_str(&format!(
            "frontend fe{port}\n    bind 127.0.0.1:{port}\n    http-request normalize-uri {n}\n    default_backend be\n"
        ));
    }
    cfg
}

/// For each normalizer and target: the status and the target the server saw.
fn answers(ports: &[u16]) -> Vec<String> {
    let mut out = Vec::new();
    for (port, n) in ports.iter().zip(NORMALIZERS) {
        for t in TARGETS {
            let req = format!("GET {t} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            let resp = raw(*port, req.as_bytes(), Duration::from_secs(5));
            let status = resp.lines().next().unwrap_or("").to_string();
            let path = resp
                .lines()
                .filter(|l| l.starts_with("path=") || l.starts_with("query="))
                .collect::<Vec<_>>()
                .join(" ");
            out.push(format!("{n} {t}: {status} {path}"));
        }
    }
    out
}

#[test]
fn normalize_uri_rewrites_targets_as_haproxy_does() {
    let origin = Origin::start("o");
    // A listener per normalizer, on consecutive ports.
    let ports = |first: u16| -> Vec<u16> { (first..).take(NORMALIZERS.len()).collect() };
    let (mine, theirs) = both_reading(
        NORMALIZERS.len() as u16,
        |port| config(&ports(port), origin.addr),
        |port, _| answers(&ports(port)),
    );
    let has = |what: &str| assert!(mine.iter().any(|l| l == what), "{what} not in {mine:#?}");
    has("path-merge-slashes /foo//bar///baz?x=//: HTTP/1.1 200 OK path=/foo/bar/baz query=x=//");
    has("path-strip-dotdot /foo/../../bar/: HTTP/1.1 200 OK path=/../bar/ query=");
    has("path-strip-dotdot full /foo/../../bar/: HTTP/1.1 200 OK path=/bar/ query=");
    has("query-sort-by-name /?z=1&a=2&m&a=1: HTTP/1.1 200 OK path=/ query=a=2&a=1&m&z=1");
    has("percent-decode-unreserved /%aa%2f%7e?x=%4a: HTTP/1.1 200 OK path=/%aa%2f~ query=x=J");
    assert!(
        mine.iter()
            .any(|l| l.starts_with("percent-to-uppercase strict /%zz/%41%2D%5f: HTTP/1.1 400")),
        "{mine:#?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
