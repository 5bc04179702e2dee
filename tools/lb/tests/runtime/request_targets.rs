//! What real clients send on the HTTP/1 request path, side by side with Debian's haproxy: the
//! same raw bytes through hapee and through haproxy, comparing the status, the bytes that
//! reach the origin and the logged request line. Each rule was read in HAProxy 2.7.0's source
//! (h1.c h1_validate_mismatch_authority / h1_validate_connect_authority, http_htx.c
//! http_scheme_based_normalize, http_ana.c TX_USE_PX_CONN, log.c url_encode_map); where
//! Debian's 2.6 differs, the test follows 2.7 and says so.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A server that keeps the bytes of each connection and answers `200 ok` once its client
/// pauses after a complete head.
struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || serve(stream, record));
            }
        });
        Recorder { addr, seen }
    }

    /// What the connections since the last call received, in order.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }
}

fn serve(mut s: TcpStream, record: Arc<Mutex<Vec<Vec<u8>>>>) {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(_) if seen.windows(4).any(|w| w == b"\r\n\r\n") => break,
            Err(_) if start.elapsed() > Duration::from_secs(3) => break,
            Err(_) => {}
        }
    }
    record.lock().unwrap().push(seen);
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

fn config(port: u16, origin: &Recorder, frontend_options: &str) -> String {
    format!(
        "{}    log-format \"%ST %{{+Q}}r\"
    timeout tunnel 300ms
userlist users
    user alice insecure-password secret
frontend fe
    bind 127.0.0.1:{port}
    option dontlognull
{frontend_options}    default_backend be
backend be
    server s {}
",
        // `normalize-uri` is one of the experimental actions.
        logged_defaults_with("    expose-experimental-directives\n"),
        origin.addr
    )
}

/// How one request ended on one side: the status line's code (0: none), the response's
/// `*-Authenticate` line if any, and what the origin received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    status: u16,
    challenge: Option<String>,
    origin: Vec<String>,
    /// Whether the response's head says `Connection: close`.
    closes: bool,
}

fn exchange(port: u16, request: &[u8], origin: &Recorder) -> Seen {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || (out.ends_with(b"ok") && out.windows(4).any(|w| w == b"\r\n\r\n")) {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    drop(s);
    let text = String::from_utf8_lossy(&out);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let challenge = text
        .lines()
        .find(|l| l.to_ascii_lowercase().contains("-authenticate:"))
        .map(|l| l.to_ascii_lowercase());
    // The origin may still be writing down a tunnel's bytes.
    std::thread::sleep(Duration::from_millis(300));
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    Seen {
        status,
        challenge,
        origin: origin.take(),
        closes: head.to_ascii_lowercase().contains("\r\nconnection: close"),
    }
}

/// Every case through hapee and, when installed, haproxy: each side's outcomes and log lines.
type Sides = ((Vec<Seen>, Vec<String>), Option<(Vec<Seen>, Vec<String>)>);

/// Every case through both sides, waiting for `logged` lines of log (a request refused by
/// the parser is not logged under `option dontlognull`, on either side).
fn through_both(frontend_options: &str, cases: &[&[u8]], logged: usize) -> Sides {
    both_sides(
        1,
        Recorder::start,
        |port, origin| config(port, origin, frontend_options),
        |port, origin, side| {
            let seen: Vec<Seen> = cases.iter().map(|c| exchange(port, c, origin)).collect();
            let lines = |out: &str| -> Vec<String> {
                out.lines()
                    .filter(|l| l.contains('"') && !l.contains("<BADREQ>"))
                    .map(str::to_string)
                    .collect()
            };
            let log = lines(&side.stdout_when(|out| lines(out).len() >= logged));
            (seen, log)
        },
    )
}

/// The request line and Host each origin connection began with.
fn heads(seen: &Seen) -> Vec<String> {
    seen.origin
        .iter()
        .map(|r| {
            let line = r.lines().next().unwrap_or_default();
            let host = r
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("host:"))
                .map_or("-", |l| l[5..].trim());
            format!("{line} | {host}")
        })
        .collect()
}

/// hapee's outcomes must be `want` (a status, the heads the origin got, the logged line or
/// "" for none); haproxy's, when it runs, the same.
fn assert_sides(sides: Sides, want: &[(u16, &[&str], &str)]) {
    let ((ours, our_log), theirs) = sides;
    for (i, (seen, (status, origin, _))) in ours.iter().zip(want).enumerate() {
        assert_eq!(seen.status, *status, "case {i}: {seen:?}");
        assert_eq!(heads(seen), *origin, "case {i}");
    }
    let logged: Vec<&str> = want.iter().map(|w| w.2).filter(|l| !l.is_empty()).collect();
    assert_eq!(our_log, logged);
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.status, b.status, "case {i}: hapee {a:?}, haproxy {b:?}");
        assert_eq!(a.challenge, b.challenge, "case {i}");
        assert_eq!(a.origin, b.origin, "case {i}: what the origin received");
    }
    assert_eq!(our_log, their_log);
}

/// An absolute target and its Host: a Host naming another authority is refused (400); a
/// scheme's default port (or an empty one) is dropped from the target and from the Host, in
/// what is forwarded and in the log; a Host with the default port beside a target without
/// one stays as it came; an origin-form target's Host is never touched; a CONNECT's Host
/// loses a default port and may omit it.
#[test]
fn absolute_targets_and_default_ports_as_haproxy() {
    let cases: [&[u8]; 10] = [
        b"GET http://a/?x=1 HTTP/1.1\r\nHost: b\r\n\r\n",
        b"GET http://a/?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a:80/x HTTP/1.1\r\nHost: a:80\r\n\r\n",
        b"GET http://A:/x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET https://a:443/x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: a:80\r\n\r\n",
        b"GET http://a:443/x HTTP/1.1\r\nHost: a:443\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: example.com:80\r\n\r\n",
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    assert_sides(
        through_both("", &cases, 9),
        &[
            (400, &[], ""),
            (
                200,
                &["GET http://a/?x=1 HTTP/1.1 | a"],
                "200 \"GET http://a/?x=1 HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/x HTTP/1.1 | a"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://A/x HTTP/1.1 | A"],
                "200 \"GET http://A/x HTTP/1.1\"",
            ),
            (
                200,
                &["GET https://a/x HTTP/1.1 | a"],
                "200 \"GET https://a/x HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/x HTTP/1.1 | a:80"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a:443/x HTTP/1.1 | a:443"],
                "200 \"GET http://a:443/x HTTP/1.1\"",
            ),
            (
                200,
                &["GET /x HTTP/1.1 | example.com:80"],
                "200 \"GET /x HTTP/1.1\"",
            ),
            (
                200,
                &["CONNECT a:443 HTTP/1.1 | a"],
                "200 \"CONNECT a:443 HTTP/1.1\"",
            ),
            (
                200,
                &["CONNECT a:443 HTTP/1.1 | a"],
                "200 \"CONNECT a:443 HTTP/1.1\"",
            ),
        ],
    );
}

/// A `replace-value` on Host gives the target its authority only where its expression
/// matched a value: a CONNECT's Host that lost its default port at parsing (`a:443` read
/// `a`) is left alone by `(.*):.*`, and the target keeps its port, while `a:8443` is
/// rewritten, and the target with it (the reg-test `http-rules/map_regm_with_backref`).
#[test]
fn a_host_rewrite_that_matched_nothing_leaves_the_target() {
    let cases: [&[u8]; 2] = [
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        b"CONNECT a:8443 HTTP/1.1\r\nHost: a:8443\r\n\r\n",
    ];
    assert_sides(
        through_both(
            "    http-request replace-value Host '(.*):.*' '\\1'\n",
            &cases,
            2,
        ),
        &[
            (
                200,
                &["CONNECT a:443 HTTP/1.1 | a"],
                "200 \"CONNECT a:443 HTTP/1.1\"",
            ),
            (
                200,
                &["CONNECT a HTTP/1.1 | a"],
                "200 \"CONNECT a:8443 HTTP/1.1\"",
            ),
        ],
    );
}

/// `set-path` on an absolute target written without a path replaces the whole target, as
/// HAProxy finds no path there to replace (scheme and authority go); with a path, only the
/// path changes (the reg-test `http-rules/path_and_pathq`).
#[test]
fn set_path_on_an_absolute_target_without_path_replaces_it() {
    let cases: [&[u8]; 2] = [
        b"GET http://a HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    assert_sides(
        through_both(
            "    http-request set-path /fe%[path]\n    http-request replace-path (.*) \\1/bar\n",
            &cases,
            2,
        ),
        &[
            (
                200,
                &["GET /fe/bar HTTP/1.1 | a"],
                "200 \"GET http://a HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/fe/x/bar HTTP/1.1 | a"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
        ],
    );
}

/// Under `option http-server-close` and `option httpclose` a CONNECT tells the server
/// `Connection: close` like any HTTP/1.1 request (HAProxy leaves the field alone only for an
/// upgrade token); the 200 opening the tunnel goes to the client without `Connection: close`
/// (the origin's own included), which `httpclose` puts on the other answers.
#[test]
fn a_connect_under_http_server_close_asks_the_server_to_close() {
    for (option, get_closes) in [("http-server-close", false), ("httpclose", true)] {
        connect_closes_server(&format!("    option {option}\n"), get_closes);
    }
}

fn connect_closes_server(options: &str, get_closes: bool) {
    let cases: [&[u8]; 2] = [
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    let sides = through_both(options, &cases, 2);
    let answers = |seen: &[Seen]| -> Vec<bool> { seen.iter().map(|s| s.closes).collect() };
    assert_eq!(answers(&sides.0 .0), [false, get_closes], "{options}");
    if let Some((theirs, _)) = &sides.1 {
        assert_eq!(answers(theirs), answers(&sides.0 .0), "{options}");
    }
    let closes = |seen: &[Seen]| -> Vec<bool> {
        seen.iter()
            .map(|s| {
                s.origin
                    .iter()
                    .any(|r| r.to_ascii_lowercase().contains("\r\nconnection: close\r\n"))
            })
            .collect()
    };
    assert_eq!(closes(&sides.0 .0), [true, true], "{:?}", sides.0 .0);
    assert_sides(
        sides,
        &[
            (
                200,
                &["CONNECT a:443 HTTP/1.1 | a"],
                "200 \"CONNECT a:443 HTTP/1.1\"",
            ),
            (200, &["GET /x HTTP/1.1 | a"], "200 \"GET /x HTTP/1.1\""),
        ],
    );
}

/// Bytes HAProxy's parser takes in a target (33 to 126, `<`, `>` and `` ` `` included, which
/// hapee's `Uri` holds percent-encoded) go through as they came, and are
/// logged with `"` and `#` as `#22`/`#23`; control and non-ASCII bytes are refused, unless
/// `option accept-invalid-http-request`, which also lets a Host naming another authority
/// through (forwarded as it came).
#[test]
fn target_bytes_and_accept_invalid_http_request_as_haproxy() {
    let strict: [&[u8]; 7] = [
        b"GET /a\"b{c}|d\\e HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /a<b>^`c HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /a?x=\"<>\"^` HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a:80/<x> HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    assert_sides(
        through_both("", &strict, 4),
        &[
            (
                200,
                &["GET /a\"b{c}|d\\e HTTP/1.1 | a"],
                "200 \"GET /a#22b{c}|d\\e HTTP/1.1\"",
            ),
            (
                200,
                &["GET /a<b>^`c HTTP/1.1 | a"],
                "200 \"GET /a<b>^`c HTTP/1.1\"",
            ),
            (
                200,
                &["GET /a?x=\"<>\"^` HTTP/1.1 | a"],
                "200 \"GET /a?x=#22<>#22^` HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/<x> HTTP/1.1 | a"],
                "200 \"GET http://a/<x> HTTP/1.1\"",
            ),
            (400, &[], ""),
            (400, &[], ""),
            (400, &[], ""),
        ],
    );
    let lenient: [&[u8]; 3] = [
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
        b"GET http://a:80/x HTTP/1.1\r\nHost: b\r\n\r\n",
    ];
    assert_sides(
        through_both("    option accept-invalid-http-request\n", &lenient, 3),
        &[
            (
                200,
                &["GET /caf\u{e9} HTTP/1.1 | a"],
                "200 \"GET /caf#C3#A9 HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/x HTTP/1.1 | b"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
            // The default port goes and every Host becomes the target's host.
            (
                200,
                &["GET http://a/x HTTP/1.1 | a"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
        ],
    );
}

/// A chunked body that arrives at once reaches the server as one chunk with the same bytes,
/// its extensions dropped and its trailers kept, as HAProxy re-frames it.
#[test]
fn a_chunked_body_is_reframed_as_haproxy() {
    let cases: [&[u8]; 1] = [b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"];
    let ((ours, _), theirs) = through_both("", &cases, 1);
    assert_eq!(
        ours[0].origin,
        ["POST /x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n8\r\nabchello\r\n0\r\nx-t: 1\r\n\r\n"]
    );
    if let Some((theirs, _)) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// Under `option http-buffer-request` the body is held whole before the rules, and its
/// trailers still follow it to the server, as HAProxy forwards them.
#[test]
fn trailers_follow_a_buffered_body_as_haproxy() {
    let cases: [&[u8]; 1] = [b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"];
    let ((ours, _), theirs) = through_both("    option http-buffer-request\n", &cases, 1);
    assert_eq!(
        ours[0].origin,
        ["POST /x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n"]
    );
    if let Some((theirs, _)) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// `normalize-uri` leaves an absolute target without a path as it came (HAProxy's
/// normalizers find no path there and add no `/`), and normalizes the path of one that has.
#[test]
fn normalize_uri_keeps_an_absolute_target_without_a_path_as_haproxy() {
    let mut rules = String::new();
    for n in [
        "path-merge-slashes",
        "path-strip-dot",
        "path-strip-dotdot full",
        "query-sort-by-name",
        "percent-to-uppercase",
        "percent-decode-unreserved",
        "fragment-strip",
    ] {
        rules.push_str(&format!("    http-request normalize-uri {n}\n"));
    }
    let cases: [&[u8]; 3] = [
        b"GET http://a HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a//b/./c?z=1&a=%4a HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET //x//y HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    assert_sides(
        through_both(&rules, &cases, 3),
        &[
            (
                200,
                &["GET http://a HTTP/1.1 | a"],
                "200 \"GET http://a HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/b/c?a=J&z=1 HTTP/1.1 | a"],
                "200 \"GET http://a//b/./c?z=1&a=%4a HTTP/1.1\"",
            ),
            (
                200,
                &["GET /x/y HTTP/1.1 | a"],
                "200 \"GET //x//y HTTP/1.1\"",
            ),
        ],
    );
}

/// `method` after `set-method`: a method HAProxy knows stays the one the client sent, any
/// other (`get`, `PATCH`) is read from the request line as it is now.
#[test]
fn method_after_set_method_as_haproxy() {
    let rules = "    http-request set-method PUT
    http-request set-header host %[method]
";
    let cases: [&[u8]; 3] = [
        b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        b"get /b HTTP/1.1\r\nHost: a\r\n\r\n",
        b"PATCH /c HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    ];
    assert_sides(
        through_both(rules, &cases, 3),
        &[
            (200, &["PUT /a HTTP/1.1 | POST"], "200 \"POST /a HTTP/1.1\""),
            (200, &["PUT /b HTTP/1.1 | PUT"], "200 \"get /b HTTP/1.1\""),
            (200, &["PUT /c HTTP/1.1 | PUT"], "200 \"PATCH /c HTTP/1.1\""),
        ],
    );
}

/// `option http-use-proxy-header`: a request with an absolute (or authority-form) target is
/// a proxied one; `http-request auth` answers it 407 with `Proxy-Authenticate`, and
/// `http_auth` reads its `Proxy-Authorization`. An origin-form request keeps 401 and
/// `Authorization`.
#[test]
fn http_use_proxy_header_authenticates_proxied_requests_as_haproxy() {
    let options = "    option http-use-proxy-header
    http-request auth realm r unless { http_auth(users) }
";
    let cases: [&[u8]; 5] = [
        b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
    ];
    let sides = through_both(options, &cases, 5);
    let ours = &sides.0 .0;
    let challenges: Vec<Option<&str>> = ours.iter().map(|s| s.challenge.as_deref()).collect();
    assert_eq!(
        challenges,
        [
            Some("proxy-authenticate: basic realm=\"r\""),
            None,
            Some("proxy-authenticate: basic realm=\"r\""),
            Some("www-authenticate: basic realm=\"r\""),
            None,
        ]
    );
    assert_sides(
        sides,
        &[
            (407, &[], "407 \"GET http://a/x HTTP/1.1\""),
            (
                200,
                &["GET http://a/x HTTP/1.1 | a"],
                "200 \"GET http://a/x HTTP/1.1\"",
            ),
            (407, &[], "407 \"GET http://a/x HTTP/1.1\""),
            (401, &[], "401 \"GET /x HTTP/1.1\""),
            (200, &["GET /x HTTP/1.1 | a"], "200 \"GET /x HTTP/1.1\""),
        ],
    );
}

/// A rule that writes Host also rewrites an absolute target's authority (`set-header`,
/// `replace-header`), a new absolute target from `set-uri` gives Host its authority, and
/// `set-path` on an absolute target keeps its scheme and authority, as HAProxy's
/// http_update_authority, http_update_host and http_replace_req_path do; an origin-form
/// target stays as it is, and the log keeps the line as the client sent it.
#[test]
fn host_rewrites_and_absolute_targets_follow_each_other_as_haproxy() {
    let rules = "    http-request set-uri http://c.example/v if { path /u }
    http-request set-header host b.example if { path_beg /x }
    http-request replace-header host ^r(.*) s\\1 if { path_beg /r }
    http-request set-path /new if { path_beg /p }
";
    let cases: [&[u8]; 5] = [
        b"GET http://a/x?q=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://ra:8080/r HTTP/1.1\r\nHost: ra:8080\r\n\r\n",
        b"GET /u HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/p/1?k=v HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    assert_sides(
        through_both(rules, &cases, 5),
        &[
            (
                200,
                &["GET http://b.example/x?q=1 HTTP/1.1 | b.example"],
                "200 \"GET http://a/x?q=1 HTTP/1.1\"",
            ),
            (
                200,
                &["GET /x HTTP/1.1 | b.example"],
                "200 \"GET /x HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://sa:8080/r HTTP/1.1 | sa:8080"],
                "200 \"GET http://ra:8080/r HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://c.example/v HTTP/1.1 | c.example"],
                "200 \"GET /u HTTP/1.1\"",
            ),
            (
                200,
                &["GET http://a/new?k=v HTTP/1.1 | a"],
                "200 \"GET http://a/p/1?k=v HTTP/1.1\"",
            ),
        ],
    );
}

/// `set-uri` with a value that is neither an origin form nor an absolute one: HAProxy reads
/// it as an authority up to its first `/` and gives that to Host (http_update_host), sends
/// the value as it is, and a later `set-path`, finding no path in it, replaces all of it but
/// its query (http_replace_req_path). The log keeps the client's line.
#[test]
fn set_uri_with_an_authority_like_value_rewrites_host_as_haproxy() {
    let rules = "    http-request set-uri concat(/bu/,req.uri,/eu)?k=v
    http-request set-path /p if { req.hdr(x-then) -m found }
";
    let cases: [&[u8]; 2] = [
        b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/abs HTTP/1.1\r\nHost: a\r\nx-then: 1\r\n\r\n",
    ];
    assert_sides(
        through_both(rules, &cases, 2),
        &[
            (
                200,
                &["GET concat(/bu/,req.uri,/eu)?k=v HTTP/1.1 | concat("],
                "200 \"GET /a HTTP/1.1\"",
            ),
            (
                200,
                &["GET /p?k=v HTTP/1.1 | concat("],
                "200 \"GET http://a/abs HTTP/1.1\"",
            ),
        ],
    );
}

/// A CONNECT to a `proto h2` server goes as an HTTP/2 stream, as HAProxy's h2 mux carries
/// it: a server that does not speak HTTP/2 gets the connection preface (not an HTTP/1
/// CONNECT), and the client the answer a GET gets there (HAProxy 2.7.0 answers both 502;
/// Debian's 2.6 retries the connection and answers 503).
#[test]
fn a_connect_to_an_h2_server_goes_over_http2_as_haproxy() {
    let cfg = |port: u16, origin: &Recorder| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    retries 0
    server s {} proto h2
",
            origin.addr
        )
    };
    let status_of = |port: u16, request: &[u8]| {
        let mut s = connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out)
            .get(9..12)
            .unwrap_or("")
            .to_string()
    };
    let drive = |port: u16, origin: &Recorder| {
        let get = status_of(port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        origin.take();
        let connect = status_of(
            port,
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
        );
        std::thread::sleep(Duration::from_millis(300));
        let first = origin
            .take()
            .iter()
            .map(|r| r.lines().next().unwrap_or_default().to_string())
            .collect::<Vec<_>>();
        (get, connect, first)
    };
    let (mine, theirs) = both_with(Recorder::start, cfg, drive);
    assert_eq!(mine.0, "502", "{mine:?}");
    for (get, connect, first) in std::iter::once(&mine).chain(theirs.as_ref()) {
        assert_eq!(connect, get, "{first:?}");
        assert!(
            !first.is_empty() && first.iter().all(|l| l == "PRI * HTTP/2.0"),
            "{first:?}"
        );
    }
}

/// A CONNECT a rule turns into a GET goes to its server as that GET, without the
/// `Connection: upgrade` of a tunnel, and its answer comes back as a plain response with
/// its length and body, as HAProxy's server side writes the rewritten line.
#[test]
fn a_connect_rewritten_to_get_is_forwarded_as_a_get_as_haproxy() {
    let cases: [&[u8]; 1] = [b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"];
    assert_sides(
        through_both("    http-request set-method GET\n", &cases, 1),
        &[(
            200,
            &["GET a.example:443 HTTP/1.1 | a.example"],
            "200 \"CONNECT a.example:443 HTTP/1.1\"",
        )],
    );
}
