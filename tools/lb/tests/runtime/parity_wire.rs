//! Side by side with Debian's haproxy, what the proxy writes and counts: the connection
//! layer's own 408 page byte for byte, the byte counts of heads whose `Connection` header
//! HAProxy's parser trims, header values cut at commas outside quoted strings (`hdr()`,
//! `hdr_cnt()`, `replace-value`), and `%Tw` of a TCP stream whose server refused it. Each
//! rule was checked in HAProxy 2.7.0's source (mux_h1.c, h1.c, http.c, http_htx.c,
//! stream.c); where Debian's 2.6 behaves otherwise, the test says so.

use crate::harness::*;
use std::io::{Read, Write};
use std::time::Duration;

/// Everything the proxy sends on a connection until it closes it.
fn all_of(mut s: std::net::TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn late_head_config(port: u16) -> String {
    format!(
        "{DEFAULTS}    timeout http-request 300ms
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 127.0.0.1:1
"
    )
}

/// A request head that stops halfway gets HAProxy's raw 408 page, whose header names are
/// written as HAProxy's table of pages has them (`Content-length`, `Cache-Control`…), not in
/// lower case (mux_h1.c's h1_send_error copies http.c's http_err_msgs as they are).
#[test]
fn a_late_head_gets_haproxys_408_page_byte_for_byte() {
    let drive = |port: u16| {
        let mut s = connect(("127.0.0.1", port));
        s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\n").unwrap();
        all_of(s)
    };
    let want = "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
    let port = free_port();
    let p = Proxy::start(&late_head_config(port), port);
    assert_eq!(drive(port), want);
    drop(p);
    let Some((theirs, _)) = with_haproxy(late_head_config, drive) else {
        return;
    };
    assert_eq!(theirs, want);
}

fn counted_config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"C|%ST|%B|%U|%{{+Q}}r\"
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 {server}
"
    )
}

/// Each request on its own connection, asking to keep it or to close it (the server closes
/// either way, saying so).
fn counted_requests(port: u16) -> Vec<String> {
    [
        "GET /kal HTTP/1.1\r\nhost: a\r\nconnection: keep-alive\r\n\r\n",
        "GET /close HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        "GET /up HTTP/1.1\r\nhost: a\r\nconnection: x-other, close\r\nx-other: 1\r\n\r\n",
        "GET /none HTTP/1.1\r\nhost: a\r\n\r\n",
    ]
    .iter()
    .map(|r| {
        let mut s = connect(("127.0.0.1", port));
        s.write_all(r.as_bytes()).unwrap();
        let answer = all_of(s);
        answer.lines().next().unwrap_or("").to_string()
    })
    .collect()
}

/// `%B` and `%U` count a head as HAProxy holds it: its parser takes `close` and
/// `keep-alive` out of a `Connection` header (and drops one left empty) before anything
/// counts it (h1.c's h1_parse_connection_header with H1_MF_CLEAN_CONN_HDR, which mux_h1.c
/// sets on both sides, the same in 2.6 and 2.7).
#[test]
fn byte_counts_leave_out_the_connection_tokens_haproxy_drops() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        Duration::ZERO,
        Duration::ZERO,
    );
    // The harness's readiness probe logs a `<BADREQ>` line of its own.
    let keep = |l: &str| l.starts_with("C|") && !l.contains("<BADREQ>");
    let ((mine, mut my_log), theirs) =
        logged_side_by_side(|p| counted_config(p, server), counted_requests, keep, 4);
    assert_eq!(mine, vec!["HTTP/1.1 200 OK"; 4]);
    my_log.sort();
    // The response head is 49 bytes in internal form (the status line's descriptor and
    // parts, `content-length` and `2`, the end of the head) and its body 2: its `connection:
    // close` counts for nothing. A request head is 41 bytes plus its path's length beyond
    // `/kal`, its `Connection` header counting only for the `x-other` token it keeps.
    assert_eq!(
        my_log,
        [
            "C|200|51|41|\"GET /kal HTTP/1.1\"",
            "C|200|51|42|\"GET /none HTTP/1.1\"",
            "C|200|51|43|\"GET /close HTTP/1.1\"",
            "C|200|51|65|\"GET /up HTTP/1.1\"",
        ]
    );
    if let Some((theirs, mut their_log)) = theirs {
        their_log.sort();
        assert_eq!(theirs, mine);
        assert_eq!(their_log, my_log);
    }
}

fn quoted_config(port: u16) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request replace-value x-q ^b(.*)$ B\\1
    http-request return status 200 content-type text/plain lf-string \"%[req.hdr_cnt(x-q)]|%[req.hdr(x-q,1)]|%[req.hdr(x-q,2)]|%[req.hdr(x-q,-1)]|%[req.fhdr(x-q)]\"
"
    )
}

fn quoted_answer(port: u16) -> String {
    let request = "GET / HTTP/1.1\r\nhost: a\r\nx-q: \"a,b\", b1 ,\"c\\\",d\", bq\"x,y\"\r\nconnection: close\r\n\r\n";
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request.as_bytes()).unwrap();
    let answer = all_of(s);
    answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A header value is cut at commas outside double-quoted strings (a backslash escaping the
/// next byte inside one), both by the `hdr()` fetches and by `replace-value`, which
/// rewrites each value alone (http.c's http_find_hdr_value_end, the same in 2.6 and 2.7).
#[test]
fn header_values_are_not_cut_inside_quoted_strings() {
    let port = free_port();
    let p = Proxy::start(&quoted_config(port), port);
    let mine = quoted_answer(port);
    assert_eq!(
        mine,
        "4|\"a,b\"|B1|Bq\"x,y\"|\"a,b\",B1,\"c\\\",d\",Bq\"x,y\""
    );
    drop(p);
    let Some((theirs, _)) = with_haproxy(quoted_config, quoted_answer) else {
        return;
    };
    assert_eq!(theirs, mine);
}

fn refused_tcp_config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    log-format \"T|%Tw|%Tc|%ts|%b/%s\"
frontend fe
    bind 127.0.0.1:{port}
    default_backend down
backend down
    retries 0
    server s1 {server}
"
    )
}

/// A TCP stream whose server refuses the connection logs `%Tw` as a connected one does:
/// the time to the server's assignment plus one, TCP having no request time to take off
/// (stream.c's log timings: `t_queue` less a `t_request` of -1), with `%Tc` -1.
#[test]
fn a_refused_tcp_connection_logs_haproxys_queue_time() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = closed.local_addr().unwrap();
    drop(closed);
    let drive = |port: u16| {
        let mut s = connect(("127.0.0.1", port));
        let _ = s.write_all(b"hello");
        all_of(s)
    };
    let keep = |l: &str| l.starts_with("T|");
    let ((mine, my_log), theirs) =
        logged_side_by_side(|p| refused_tcp_config(p, server), drive, keep, 1);
    assert_eq!(mine, "");
    assert_eq!(my_log, ["T|1|-1|SC|down/s1"]);
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(theirs, mine);
        assert_eq!(their_log, my_log);
    }
}

fn added_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    option forwardfor
    http-request add-header x-dup added
    http-request set-header x-set new
    http-request add-header x-set again
    http-request del-header x-gone
    default_backend app
backend app
    server s1 {origin}
"
    )
}

/// The request head the server saw (the echo origin's body), one line each.
fn seen_by_server(port: u16) -> Vec<String> {
    let request = "GET /h HTTP/1.1\r\nhost: a\r\nx-dup: orig\r\nx-forwarded-for: 10.0.0.1\r\nx-gone: 1\r\nx-set: old\r\nx-b: 2\r\nconnection: close\r\n\r\n";
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request.as_bytes()).unwrap();
    let answer = all_of(s);
    answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A header added under a name the request already has (`add-header`, `option forwardfor`
/// after the client's `X-Forwarded-For`) goes after every other line, as HAProxy appends
/// it, not beside the name's first value (http_htx.c's http_add_header, the same in 2.6 and
/// 2.7).
#[test]
fn added_headers_reach_the_server_last() {
    let origin = crate::parity_rules::echo_origin("s1");
    let port = free_port();
    let p = Proxy::start(&added_config(port, origin), port);
    let mine = seen_by_server(port);
    assert_eq!(
        mine,
        [
            "GET /h HTTP/1.1",
            "host: a",
            "x-dup: orig",
            "x-forwarded-for: 10.0.0.1",
            "x-b: 2",
            "x-dup: added",
            "x-set: new",
            "x-set: again",
            "x-forwarded-for: 127.0.0.1",
        ]
    );
    drop(p);
    let Some((theirs, _)) = with_haproxy(|port| added_config(port, origin), seen_by_server) else {
        return;
    };
    assert_eq!(theirs, mine);
}

fn empty_config(port: u16, server: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request redirect location /moved code 302 if {{ path /redir }}
    http-response add-header x-after 1
    default_backend app
backend app
    server s1 {server}
"
    )
}

/// The responses to a request the server answers with an empty body and to a redirect.
fn empty_answers(port: u16) -> Vec<String> {
    ["/empty", "/redir"]
        .iter()
        .map(|path| {
            let mut s = connect(("127.0.0.1", port));
            let request = format!("GET {path} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
            s.write_all(request.as_bytes()).unwrap();
            all_of(s)
        })
        .collect()
}

/// An empty response keeps its `content-length: 0` where it was, as HAProxy forwards a
/// head: a server's first line stays first, and a redirect's length comes before its
/// `location` (http_ana.c builds it so), rather than after every other header.
#[test]
fn empty_responses_keep_their_content_length_in_place() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-a: 1\r\n\r\n",
        Duration::ZERO,
        Duration::ZERO,
    );
    let port = free_port();
    let p = Proxy::start(&empty_config(port, server), port);
    let mine = empty_answers(port);
    assert_eq!(
        mine,
        [
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-a: 1\r\nx-after: 1\r\nconnection: close\r\n\r\n",
            "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /moved\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
        ]
    );
    drop(p);
    let Some((theirs, _)) = with_haproxy(|port| empty_config(port, server), empty_answers) else {
        return;
    };
    assert_eq!(theirs, mine);
}

fn refused_config(port: u16) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"R|%ST|%U|%B|%tsc\"
frontend fe
    bind 127.0.0.1:{port}
    http-request deny
"
    )
}

/// A request HAProxy's parser refuses (two Host headers that disagree) is answered with its
/// raw 400 page, byte for byte, and logged from the session, which counts neither the
/// request's bytes nor the page's (`%U` and `%B` 0).
#[test]
fn a_refused_request_gets_the_raw_page_and_counts_no_bytes() {
    let drive = |port: u16| {
        let mut s = connect(("127.0.0.1", port));
        s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n")
            .unwrap();
        all_of(s)
    };
    // The readiness probe's line has `CR`.
    let keep = |l: &str| l.starts_with("R|") && l.ends_with("|PR--");
    let ((mine, my_log), theirs) = logged_side_by_side(refused_config, drive, keep, 1);
    assert_eq!(mine, "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n");
    assert_eq!(my_log, ["R|400|0|0|PR--"]);
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(theirs, mine);
        assert_eq!(their_log, my_log);
    }
}

fn unframed_page_config(port: u16, page: &std::path::Path) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    errorfile 403 {}
    http-request deny if {{ path /deny }}
    http-request return status 200 content-type text/plain string ok
",
        page.display()
    )
}

/// An `errorfile` page that gives no length goes out as it is, its body ended by the
/// connection's end: no length is added, `connection: close` is (header names in lower case,
/// as HAProxy's internal form has them), and the connection closes although the client may
/// keep it (the page has no framing that would allow a next response).
#[test]
fn an_errorfile_without_a_length_is_sent_as_it_is_and_closes() {
    let dir = Scratch::dir(&format!("hapee-unframed-{}", std::process::id()));
    let page = dir.join("403.http");
    std::fs::write(
        &page,
        "HTTP/1.1 403 Nope\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nnot for you\n",
    )
    .unwrap();
    // A keep-alive request: the answer ends when the proxy closes (well before the 5 s the
    // read waits).
    let drive = |port: u16| {
        let mut s = connect(("127.0.0.1", port));
        s.write_all(b"GET /deny HTTP/1.1\r\nhost: a\r\n\r\n")
            .unwrap();
        let started = std::time::Instant::now();
        let answer = all_of(s);
        (answer, started.elapsed() < Duration::from_secs(4))
    };
    let want = "HTTP/1.1 403 Nope\r\ncontent-type: text/plain\r\nx-a: 1\r\nconnection: close\r\n\r\nnot for you\n";
    let port = free_port();
    let p = Proxy::start(&unframed_page_config(port, &page), port);
    assert_eq!(drive(port), (want.to_string(), true));
    drop(p);
    if let Some((theirs, _)) = with_haproxy(|port| unframed_page_config(port, &page), drive) {
        assert_eq!(theirs, (want.to_string(), true));
    }
}

fn absolute_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 {origin}
"
    )
}

/// The request line the server got for each absolute target.
fn absolute_targets_seen(port: u16) -> Vec<String> {
    [
        "GET http://a",
        "GET http://a/",
        "GET https://a",
        "OPTIONS http://a",
        "GET http://a/x?y",
    ]
    .iter()
    .map(|line| {
        let mut s = connect(("127.0.0.1", port));
        let req = format!("{line} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let answer = all_of(s);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        body.lines().next().unwrap_or_default().to_string()
    })
    .collect()
}

/// An absolute target with no path goes to the server as the client wrote it, without a `/`
/// added (h1_htx.c and http_htx.c of 2.7.0 keep the target, normalizing only a default port).
#[test]
fn absolute_targets_without_a_path_are_forwarded_as_written() {
    let origin = crate::parity_rules::echo_origin("s1");
    let (mine, theirs) = both(|port| absolute_config(port, origin), absolute_targets_seen);
    assert_eq!(
        mine,
        [
            "GET http://a HTTP/1.1",
            "GET http://a/ HTTP/1.1",
            "GET https://a HTTP/1.1",
            "OPTIONS http://a HTTP/1.1",
            "GET http://a/x?y HTTP/1.1",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

fn invalid_response_config(port: u16, server: std::net::SocketAddr, lenient: bool) -> String {
    let option = if lenient {
        "    option accept-invalid-http-response\n"
    } else {
        ""
    };
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
{option}    server s1 {server}
"
    )
}

/// The status, whether the valid field came through, and the body of one answer.
fn invalid_response_answer(port: u16) -> (String, bool, String) {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
        .unwrap();
    let out = all_of(s);
    let status = out.lines().next().unwrap_or("").to_string();
    let kept = out.lines().any(|l| l.eq_ignore_ascii_case("x-ok: 1"));
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, kept, body)
}

/// A server's response with a header name that is not a token is a bad gateway (502) for
/// both proxies; with `option accept-invalid-http-response` in the backend it is forwarded.
/// HAProxy then forwards the bad line as it came; hapee leaves it out (its header map holds
/// only valid names), which the comparison leaves aside.
#[test]
fn invalid_response_headers_are_a_502_unless_the_backend_accepts_them() {
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\nBad(Name): x\r\nx-ok: 1\r\ncontent-length: 2\r\n\r\nok",
        Duration::ZERO,
        Duration::ZERO,
    );
    for lenient in [false, true] {
        let port = free_port();
        let p = Proxy::start(&invalid_response_config(port, server, lenient), port);
        let mine = invalid_response_answer(port);
        drop(p);
        if lenient {
            assert_eq!(mine, ("HTTP/1.1 200 OK".into(), true, "ok".into()));
        } else {
            assert!(mine.0.starts_with("HTTP/1.1 502"), "{mine:?}");
        }
        let Some((theirs, _)) = with_haproxy(
            |port| invalid_response_config(port, server, lenient),
            invalid_response_answer,
        ) else {
            continue;
        };
        assert_eq!(theirs, mine, "lenient: {lenient}");
    }
}
