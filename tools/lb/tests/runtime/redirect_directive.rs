//! The `redirect` directive (not `http-request redirect`), side by side with Debian's haproxy:
//! its destination is used as written (no log-format), and a proxy's `redirect` lines run after
//! all of its `http-request` rules wherever they are written, even after an `http-request
//! allow` (which ends those rules only); a backend's run after the frontend has chosen it
//! (http_ana.c's http_process_req_common, once per proxy).

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

fn config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    redirect location /literal%[path]?a=1 code 301 if {{ path /lit }}
    redirect location /never if {{ path /before }}
    http-request return status 200 content-type text/plain string early if {{ path /before }}
    redirect scheme https if {{ path_beg /s }}
    redirect prefix http://other.example drop-query if {{ path_beg /p }}
    redirect prefix / append-slash set-cookie seen=1 if {{ path /home }}
    http-request allow if {{ path /allowed }}
    http-request return status 200 content-type text/plain string not-allowed if {{ path /allowed }}
    redirect location /after-allow if {{ path /allowed }}
    use_backend app
backend app
    redirect location /from-backend code 308 if {{ path_beg /be }}
    http-request return status 200 content-type text/plain string backend-rule if {{ path /be1 }}
    server s1 {server}
"
    )
}

const PATHS: &[&str] = &[
    "/lit", "/before", "/s/x?q=1", "/p/y?x=1", "/home", "/be1", "/be2", "/other", "/allowed",
];

fn answers(port: u16) -> Vec<String> {
    PATHS
        .iter()
        .map(|path| {
            let mut s = connect(("127.0.0.1", port));
            let request = format!(
                "GET {path} HTTP/1.1\r\nhost: site.example:8080\r\nconnection: close\r\n\r\n"
            );
            s.write_all(request.as_bytes()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect()
}

fn location(answer: &str) -> Option<&str> {
    answer
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .map(str::trim_end)
}

#[test]
fn the_redirect_directive_runs_after_http_request_rules_with_its_destination_as_written() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\norigin",
        Duration::ZERO,
        Duration::ZERO,
    );
    let port = free_port();
    let p = Proxy::start(&config(port, server), port);
    let mine = answers(port);
    drop(p);
    let locations: Vec<_> = mine.iter().map(|a| location(a)).collect();
    assert_eq!(
        locations,
        [
            Some("/literal%[path]?a=1"),
            None,
            Some("https://site.example:8080/s/x?q=1"),
            Some("http://other.example/p/y"),
            Some("/home/"),
            None,
            Some("/from-backend"),
            None,
            Some("/after-allow"),
        ],
        "{mine:#?}"
    );
    assert!(mine[0].starts_with("HTTP/1.1 301 "), "{}", mine[0]);
    assert!(mine[1].ends_with("early"), "{}", mine[1]);
    assert!(
        mine[4].contains("set-cookie: seen=1; path=/;"),
        "{}",
        mine[4]
    );
    assert!(mine[5].ends_with("backend-rule"), "{}", mine[5]);
    assert!(mine[6].starts_with("HTTP/1.1 308 "), "{}", mine[6]);
    assert!(mine[7].ends_with("origin"), "{}", mine[7]);
    let Some((theirs, _)) = with_haproxy(|port| config(port, server), answers) else {
        return;
    };
    assert_eq!(theirs, mine);
}

/// A target without a path (`OPTIONS *`, an absolute target ending at its authority) is
/// redirected to the root: HAProxy's URI parser finds no path in it and puts `/` there.
#[test]
fn a_target_without_a_path_is_redirected_to_the_root() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\norigin",
        Duration::ZERO,
        Duration::ZERO,
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request redirect scheme https if {{ method OPTIONS }}
    http-request redirect prefix http://p.example code 301
    default_backend app
backend app
    server s1 {server}
"
        )
    };
    let drive = |port: u16| -> Vec<Option<String>> {
        [
            "OPTIONS * HTTP/1.1\r\nhost: site.example\r\nconnection: close\r\n\r\n",
            "GET http://site.example HTTP/1.1\r\nhost: site.example\r\nconnection: close\r\n\r\n",
        ]
        .iter()
        .map(|request| {
            let mut s = connect(("127.0.0.1", port));
            s.write_all(request.as_bytes()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            location(&String::from_utf8_lossy(&out)).map(str::to_string)
        })
        .collect()
    };
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(
        mine,
        [
            Some("https://site.example/".to_string()),
            Some("http://p.example/".to_string())
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
