//! What a backend does with a request once it has chosen a server, side by side with
//! Debian's haproxy: `redir` (a 302 to the server's prefix for GET and HEAD, other methods
//! sent on), `http-send-name-header` (the server's name in a request header) and `option
//! prefer-last-server` (a session's requests stay with the server of its own connection).

use super::harness::*;

/// `redir <prefix>`: GET and HEAD are answered with a 302 to the prefix and the request's
/// path and query, closing the connection; a POST reaches the server.
#[test]
fn redir_sends_get_and_head_to_the_servers_prefix() {
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s1 {} redir http://mirror.example
",
            origin.addr
        )
    };
    let (mine, theirs) = both_with(
        || Origin::start("o"),
        cfg,
        |port, origin| {
            let url = format!("http://127.0.0.1:{port}/a/b?c=1");
            let (_, head) = curl(&["-s", "-o", "/dev/null", "-D", "-", &url]);
            let mut lines: Vec<String> = head
                .lines()
                .map(|l| l.trim().to_ascii_lowercase())
                .filter(|l| !l.is_empty() && !l.chars().all(|c| c.is_ascii_digit()))
                .collect();
            lines.sort();
            let (post_status, post_body) = curl(&["-d", "x=1", &url]);
            (
                lines,
                post_status,
                post_body.starts_with("name=o"),
                origin.hits.load(std::sync::atomic::Ordering::SeqCst),
            )
        },
    );
    assert_eq!(
        mine,
        (
            vec![
                "cache-control: no-cache".to_string(),
                "connection: close".to_string(),
                "content-length: 0".to_string(),
                "http/1.1 302 found".to_string(),
                "location: http://mirror.example/a/b?c=1".to_string(),
            ],
            200,
            true,
            1
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `http-send-name-header`: the request reaches the server with the header set to the
/// server's name, whatever the client sent in it.
#[test]
fn http_send_name_header_names_the_server() {
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    default_backend b
backend b
    http-send-name-header X-Served-By
    server app1 {}
",
            origin.addr
        )
    };
    let (mine, theirs) = both_with(
        || Origin::start("o"),
        cfg,
        |port, _| {
            let (_, body) = curl(&[
                "-H",
                "X-Served-By: forged",
                &format!("http://127.0.0.1:{port}/"),
            ]);
            body.lines()
                .filter(|l| l.starts_with("hdr:x-served-by"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        },
    );
    assert_eq!(mine, ["hdr:x-served-by=app1"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The origins answering four requests sent on one client connection.
fn origins_of_four(port: u16, backend: &str) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}/{backend}");
    let (_, body) = curl(&[&url, &url, &url, &url]);
    // curl's status of one transfer and the next body share a line ("200name=a").
    body.lines()
        .filter_map(|l| l.split_once("name=").map(|(_, name)| name.to_string()))
        .collect()
}

/// `option prefer-last-server`: with the session's own server connections (`http-reuse
/// never`), a session's requests stay with the server of its connection; without the option,
/// round robin takes turns. (With shared connections HAProxy takes turns either way.)
#[test]
fn prefer_last_server_keeps_a_session_on_its_server() {
    let fixture = || (Origin::start("a"), Origin::start("b"));
    let cfg = |port: u16, (a, b): &(Origin, Origin)| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    use_backend sticky if {{ path /sticky }}
    use_backend shared if {{ path /shared }}
    default_backend turns
backend sticky
    option prefer-last-server
    http-reuse never
    server a {a}
    server b {b}
backend shared
    option prefer-last-server
    server a {a}
    server b {b}
backend turns
    http-reuse never
    server a {a}
    server b {b}
",
            a = a.addr,
            b = b.addr
        )
    };
    let (mine, theirs) = both_with(fixture, cfg, |port, _| {
        (
            origins_of_four(port, "sticky"),
            origins_of_four(port, "shared"),
            origins_of_four(port, "turns"),
        )
    });
    let turns = vec!["a", "b", "a", "b"];
    assert_eq!(mine.0, ["a", "a", "a", "a"]);
    assert_eq!(mine.1, turns);
    assert_eq!(mine.2, turns);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
