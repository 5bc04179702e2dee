//! Side by side with Debian's haproxy, how HTTP/1 messages cross the proxy: the version of
//! the answer (the server's), a response without a length (passed on as it is), an
//! absolute-form target (kept), the `path` of `OPTIONS *` and of `GET http://a` (none),
//! `capture cookie`'s `%CC` and `%CS` (read after the rules, cut to `tune.http.cookielen`),
//! `res.ver` (the server's), and a client that shuts its side down after its request
//! (answered). Each rule was checked in HAProxy 2.7.0's source (h1_htx.c, mux_h1.c, http.c,
//! http_fetch.c, http_ana.c, cfgparse.c, log.c); Debian's 2.6 behaves the same in each.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the recording origin answers for a path.
fn reply_for(path: &str) -> (&'static [u8], bool) {
    match path {
        // A close-delimited HTTP/1.1 response, and the same in HTTP/1.0.
        "/close" => (b"HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nhello", true),
        "/close10" => (b"HTTP/1.0 200 OK\r\nx-a: 1\r\n\r\nhello", true),
        "/chunked" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
        ),
        "/cookie" => (
            b"HTTP/1.1 200 OK\r\nset-cookie: other=1\r\nset-cookie: SRV=abc; path=/\r\ncontent-length: 2\r\n\r\nok",
            false,
        ),
        "/inter" => (
            b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nx-b: 2\r\nset-cookie: c=3\r\ncontent-length: 2\r\n\r\nok",
            false,
        ),
        _ => (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", false),
    }
}

/// An origin that notes each request head it reads (its lines, in one string) and answers
/// by path ([`reply_for`]), keeping its connection for the next request unless the reply
/// ends with the connection.
fn recording_origin() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end - 4]).into_owned();
                    buf.drain(..end);
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    log.lock().unwrap().push(head.replace("\r\n", "|"));
                    if path == "/slow" {
                        // Long enough for the client's end to arrive first.
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    let (reply, closes) = reply_for(path.split('?').next().unwrap_or(""));
                    if s.write_all(reply).is_err() || closes {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn plain_config(port: u16, origin: SocketAddr) -> String {
    format!("{DEFAULTS}{}", fe_to_app(port, "", origin))
}

/// Sends `request` on a new connection and answers what comes back and whether the proxy
/// closed the connection: the answer is complete once its length is there, or at the close.
fn exchange(port: u16, request: &str) -> (String, bool) {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request.as_bytes()).unwrap();
    read_answer(&mut s)
}

fn read_answer(s: &mut TcpStream) -> (String, bool) {
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    let complete = |out: &[u8]| {
        let text = String::from_utf8_lossy(out).to_ascii_lowercase();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        match head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
        {
            Some(n) => body.len() >= n,
            None => head.contains("transfer-encoding: chunked") && body.ends_with("0\r\n\r\n"),
        }
    };
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
        if complete(&out) {
            // Whether the proxy closes after it: a short wait for the end.
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let closed = matches!(s.read(&mut chunk), Ok(0));
            return (String::from_utf8_lossy(&out).into_owned(), closed);
        }
    }
}

/// Runs `drive` against hapee and then haproxy (when installed), each with a fresh origin:
/// what the client got and the heads the origin saw.
type Seen<T> = (T, Vec<String>);
fn both<T>(drive: impl Fn(u16) -> T) -> (Seen<T>, Option<Seen<T>>) {
    let (origin, seen) = recording_origin();
    let port = free_port();
    let p = Proxy::start(&plain_config(port, origin), port);
    let mine = drive(port);
    drop(p);
    let mine = (mine, std::mem::take(&mut *seen.lock().unwrap()));
    let (origin, seen) = recording_origin();
    let theirs = with_haproxy(|port| plain_config(port, origin), &drive)
        .map(|(out, _)| (out, std::mem::take(&mut *seen.lock().unwrap())));
    (mine, theirs)
}

/// An HTTP/1.0 client is answered in the version of its server's response (h1_htx.c's
/// h1_format_htx_stline writes the server's), its request goes on as HTTP/1.0 with
/// `Connection: keep-alive` (mux_h1.c keeps the server's connection by default and says so
/// where 1.0 would close), and the answer's `Connection` says what 1.0 would not assume:
/// `close` on a 1.1 answer to a client that did not ask to keep, `keep-alive` when kept.
#[test]
fn http10_clients_get_the_servers_version_and_the_server_is_kept() {
    let drive = |port: u16| {
        [
            "GET /len HTTP/1.0\r\nhost: a\r\n\r\n",
            "GET /len HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\n\r\n",
            "GET /close10 HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\n\r\n",
            "GET /close10 HTTP/1.1\r\nhost: a\r\n\r\n",
        ]
        .map(|r| exchange(port, r))
    };
    let (mine, theirs) = both(drive);
    let answer = |s: &str, closed| (s.to_string(), closed);
    assert_eq!(
        mine.0,
        [
            answer(
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                true
            ),
            answer(
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
                false
            ),
            answer("HTTP/1.0 200 OK\r\nx-a: 1\r\n\r\nhello", true),
            answer("HTTP/1.0 200 OK\r\nx-a: 1\r\n\r\nhello", true),
        ]
    );
    assert_eq!(
        mine.1,
        [
            "GET /len HTTP/1.0|host: a|connection: keep-alive",
            "GET /len HTTP/1.0|host: a|connection: keep-alive",
            "GET /close10 HTTP/1.0|host: a|connection: keep-alive",
            "GET /close10 HTTP/1.1|host: a",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A response the server ends by closing is passed on as it came, neither chunked nor given
/// a length, with `Connection: close` when it is HTTP/1.1, and the client's connection
/// closes after it, although the client would keep it (mux_h1.c chunks only a message whose
/// length is known, and closes the client side when it is not); a chunked one goes to an
/// HTTP/1.0 client chunked, as the server sent it.
#[test]
fn close_delimited_responses_pass_as_they_came() {
    let drive = |port: u16| {
        [
            "GET /close HTTP/1.1\r\nhost: a\r\n\r\n",
            "GET /close HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\n\r\n",
            "GET /chunked HTTP/1.0\r\nhost: a\r\n\r\n",
        ]
        .map(|r| exchange(port, r))
    };
    let (mine, theirs) = both(drive);
    assert_eq!(
        mine.0,
        [
            (
                "HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\nhello".to_string(),
                true
            ),
            (
                "HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\nhello".to_string(),
                true
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\nconnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                    .to_string(),
                true
            ),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// An absolute-form target reaches an HTTP/1 server as the client wrote it (h1_htx.c's
/// h1_format_htx_reqline turns only an HTTP/2 or HTTP/3 request's target into origin form).
#[test]
fn absolute_targets_reach_the_server_as_they_came() {
    let drive = |port: u16| exchange(port, "GET http://a/abs?x=1 HTTP/1.1\r\nhost: a\r\n\r\n");
    let (mine, theirs) = both(drive);
    assert_eq!(mine.1, ["GET http://a/abs?x=1 HTTP/1.1|host: a"]);
    assert!(mine.0 .0.ends_with("\r\n\r\nok"), "{:?}", mine.0);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A client that shuts its side down once its request is written is answered in full (no
/// `option abortonclose`), whether its end arrives before the server's answer or after:
/// HAProxy takes it for the end of the client's requests, not for an abort, and closes once
/// the response is out without announcing it.
#[test]
fn a_client_that_half_closes_after_its_request_is_answered() {
    let drive = |port: u16| {
        ["/len", "/slow", "/len", "/slow"].map(|path| {
            let mut s = connect(("127.0.0.1", port));
            let request = format!("GET {path} HTTP/1.1\r\nhost: a\r\n\r\n");
            s.write_all(request.as_bytes()).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            read_answer(&mut s)
        })
    };
    let (mine, theirs) = both(drive);
    let want = (
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string(),
        true,
    );
    assert_eq!(mine.0, [want.clone(), want.clone(), want.clone(), want]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, mine.0);
    }
}

fn path_config(port: u16) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"p=%[path]|pq=%[pathq]|b=%[base]|bq=%[baseq]\"
"
    )
}

/// `OPTIONS *` has no path: `path` and `pathq` give nothing (an empty string where a format
/// prints them), `base` the host alone (http.c's http_parse_path finds none in the asterisk
/// form).
#[test]
fn the_asterisk_target_has_no_path() {
    let drive = |port: u16| {
        [
            "OPTIONS * HTTP/1.1\r\nhost: a\r\n\r\n",
            "OPTIONS * HTTP/1.0\r\n\r\n",
            "GET /x?y HTTP/1.1\r\nhost: a\r\n\r\n",
        ]
        .map(|r| {
            let (answer, _) = exchange(port, r);
            answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
        })
    };
    let port = free_port();
    let p = Proxy::start(&path_config(port), port);
    let mine = drive(port);
    drop(p);
    assert_eq!(
        mine,
        [
            "p=|pq=|b=a|bq=a",
            "p=|pq=|b=|bq=",
            "p=/x|pq=/x?y|b=a/x|bq=a/x?y"
        ]
    );
    if let Some((theirs, _)) = with_haproxy(path_config, drive) {
        assert_eq!(theirs, mine);
    }
}

fn cookie_config(port: u16, origin: SocketAddr) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"K|%CC|%CS|%{{+Q}}CC|%{{+Q}}CS\"
{}",
        fe_to_app(port, "    capture cookie SRV len 5\n", origin)
    )
}

/// `capture cookie` logs the first client cookie and the first server cookie whose
/// `name=value` begins with the name, cut to the length (http_ana.c's cookie managers);
/// without one, `-` (or `""` quoted).
#[test]
fn captured_cookies_are_logged() {
    let (origin, _) = recording_origin();
    let drive = |port: u16| {
        [
            "GET /cookie HTTP/1.1\r\nhost: a\r\ncookie: a=1; SRV = s1\r\n\r\n",
            "GET /len HTTP/1.1\r\nhost: a\r\ncookie: $Path=/; SRVLONG=abcdef\r\n\r\n",
        ]
        .map(|r| exchange(port, r).0.starts_with("HTTP/1.1 200"))
    };
    // The harness's readiness probe may log a line with nothing captured.
    let keep = |l: &str| l.starts_with("K|") && !l.starts_with("K|-|-|");
    let ((ok, mut my_log), theirs) =
        logged_side_by_side(|p| cookie_config(p, origin), drive, keep, 2);
    assert_eq!(ok, [true; 2]);
    my_log.sort();
    assert_eq!(
        my_log,
        [
            "K|SRV=s|SRV=a|\"SRV=s\"|\"SRV=a\"",
            "K|SRVLO|-|\"SRVLO\"|\"\"",
        ]
    );
    if let Some((_, mut their_log)) = theirs {
        their_log.sort();
        assert_eq!(their_log, my_log);
    }
}

/// A client's lines of one name among other names reach the server in the order they came,
/// not grouped by name (HAProxy keeps a head's lines as a list).
#[test]
fn interleaved_request_headers_keep_their_order() {
    let drive = |port: u16| {
        exchange(
            port,
            "GET /len HTTP/1.1\r\nhost: a\r\nx-a: 1\r\nx-b: 2\r\nx-a: 3\r\nx-c: 4\r\nx-a: 5\r\n\r\n",
        )
    };
    let (mine, theirs) = both(drive);
    assert_eq!(
        mine.1,
        ["GET /len HTTP/1.1|host: a|x-a: 1|x-b: 2|x-a: 3|x-c: 4|x-a: 5"]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

fn inserting_config(port: u16, origin: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-response add-header x-b 9
    default_backend app
backend app
    cookie SRV insert
    server s1 {origin} cookie s1
"
    )
}

/// A server's lines of one name among other names reach the client in the order they came,
/// and what the proxy adds (`http-response add-header`, then `cookie insert`'s
/// `Set-Cookie`) goes after all of them (http_htx.c's http_add_header appends).
#[test]
fn interleaved_response_headers_keep_their_order_and_additions_come_last() {
    let drive = |port: u16| exchange(port, "GET /inter HTTP/1.1\r\nhost: a\r\n\r\n").0;
    let (origin, _) = recording_origin();
    let port = free_port();
    let p = Proxy::start(&inserting_config(port, origin), port);
    let mine = drive(port);
    drop(p);
    assert_eq!(
        mine,
        "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nx-b: 2\r\nset-cookie: c=3\r\ncontent-length: 2\r\nx-b: 9\r\nset-cookie: SRV=s1; path=/\r\n\r\nok"
    );
    if let Some((theirs, _)) = with_haproxy(|port| inserting_config(port, origin), drive) {
        assert_eq!(theirs, mine);
    }
}

fn versions_config(port: u16, origin: SocketAddr) -> String {
    let rule = "    http-response set-header x-ver %[res.ver]/%[capture.res.ver]\n";
    format!("{DEFAULTS}{}", fe_to_app(port, rule, origin))
}

/// `res.ver` and `capture.res.ver` give the version the server answered in (http_fetch.c
/// reads the response's status line), not always 1.1.
#[test]
fn res_ver_is_the_version_the_server_answered_in() {
    let drive = |port: u16, _: &(SocketAddr, Arc<Mutex<Vec<String>>>)| {
        ["/len", "/close10"].map(|path| {
            let request = format!("GET {path} HTTP/1.1\r\nhost: a\r\n\r\n");
            let (answer, _) = exchange(port, &request);
            answer
                .lines()
                .find_map(|l| l.strip_prefix("x-ver: "))
                .unwrap_or("none")
                .to_string()
        })
    };
    let (mine, theirs) = both_with(
        recording_origin,
        |port, (origin, _)| versions_config(port, *origin),
        drive,
    );
    assert_eq!(mine, ["1.1/HTTP/1.1", "1.0/HTTP/1.0"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

fn bare_target_config(port: u16) -> String {
    format!(
        "{LOGGED_DEFAULTS}    log-format \"T|%r|%HU|%HP\"
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"p=%[path]|pq=%[pathq]|u=%[url]|b=%[base]\"
"
    )
}

/// An absolute-form target with nothing after its authority (`GET http://a`) has no path:
/// `path` and `pathq` give nothing and `base` is the host alone (http.c's http_parse_path
/// finds none), and `url` and the log show the target as it came, without a `/`.
#[test]
fn an_absolute_target_without_a_path_has_none() {
    let drive = |port: u16| {
        ["http://a", "http://a/"].map(|target| {
            let request = format!("GET {target} HTTP/1.1\r\nhost: a\r\n\r\n");
            let (answer, _) = exchange(port, &request);
            answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
        })
    };
    let keep = |l: &str| l.starts_with("T|GET ");
    let ((mine, mut my_log), theirs) = logged_side_by_side(bare_target_config, drive, keep, 2);
    my_log.sort();
    assert_eq!(mine, ["p=|pq=|u=http://a|b=a", "p=/|pq=/|u=http://a/|b=a/"]);
    assert_eq!(
        my_log,
        [
            "T|GET http://a HTTP/1.1|http://a|http://a",
            "T|GET http://a/ HTTP/1.1|http://a/|http://a/",
        ]
    );
    if let Some((theirs, mut their_log)) = theirs {
        their_log.sort();
        assert_eq!((theirs, their_log), (mine, my_log));
    }
}

fn cookie_rules_config(port: u16, origin: SocketAddr) -> String {
    format!(
        "{}    log-format \"K|%HU|%CC|%CS\"
frontend fe
    bind 127.0.0.1:{port}
    capture cookie SRV len 10
    http-request del-header cookie if {{ hdr(x-del) -m found }}
    http-request set-header cookie SRV=fromrule if {{ hdr(x-set) -m found }}
    http-request set-var(txn.strip) str(1) if {{ hdr(x-strip) -m found }}
    http-response del-header set-cookie if {{ var(txn.strip) -m found }}
    default_backend app
backend app
    http-request deny if {{ path /deny }}
    server s1 {origin}
",
        LOGGED_DEFAULTS.replacen("global\n", "global\n    tune.http.cookielen 7\n", 1)
    )
}

/// `capture cookie` reads the client's cookie once the `http-request` rules of the frontend
/// and the backend are through (or when one denies the request), and the server's once the
/// `http-response` rules are, so what the rules delete or set counts (http_ana.c calls its
/// cookie managers there); `tune.http.cookielen` caps the length kept (`len 10` is cut to 7).
#[test]
fn captured_cookies_are_read_after_the_rules_and_cut_to_cookielen() {
    let (origin, _) = recording_origin();
    let drive = |port: u16| {
        [
            "GET /cookie HTTP/1.1\r\nhost: a\r\ncookie: SRV=123456789abc\r\n\r\n",
            "GET /len HTTP/1.1\r\nhost: a\r\ncookie: SRV=1\r\nx-del: 1\r\n\r\n",
            "GET /len?set HTTP/1.1\r\nhost: a\r\ncookie: SRV=1\r\nx-set: 1\r\n\r\n",
            "GET /deny HTTP/1.1\r\nhost: a\r\ncookie: SRV=1\r\nx-set: 1\r\n\r\n",
            "GET /cookie?strip HTTP/1.1\r\nhost: a\r\nx-strip: 1\r\n\r\n",
        ]
        .map(|r| {
            exchange(port, r)
                .0
                .split("\r\n")
                .next()
                .unwrap_or("")
                .to_string()
        })
    };
    let keep = |l: &str| l.starts_with("K|/");
    let ((statuses, mut my_log), theirs) =
        logged_side_by_side(|p| cookie_rules_config(p, origin), drive, keep, 5);
    assert_eq!(
        statuses.map(|s| s.split(' ').nth(1).unwrap_or("").to_string()),
        ["200", "200", "200", "403", "200"]
    );
    my_log.sort();
    assert_eq!(
        my_log,
        [
            "K|/cookie?strip|-|-",
            "K|/cookie|SRV=123|SRV=abc",
            "K|/deny|SRV=fro|-",
            "K|/len?set|SRV=fro|-",
            "K|/len|-|-",
        ]
    );
    if let Some((_, mut their_log)) = theirs {
        their_log.sort();
        assert_eq!(their_log, my_log);
    }
}
