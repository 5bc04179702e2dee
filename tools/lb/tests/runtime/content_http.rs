//! `tcp-request content` rules meeting HTTP: in an HTTP frontend they run before HAProxy's
//! HTTP analysis, so a request they reject is logged without its request line or captures;
//! in a TCP frontend the HTTP fetches (the `HTTP` ACL, `hdr()`, `path` …) read the client's
//! held bytes as an HTTP/1 request and wait, within `tcp-request inspect-delay`, for its
//! whole head. Compared with Debian's haproxy side by side.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn reject_config(port: u16) -> String {
    format!(
        "{LOGGED_DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    option dontlognull
    log-format \"R %ST %tsc %hr %{{+Q}}r [%HM|%HU|%HP|%HQ|%HV] TR=%TR Tw=%Tw Tc=%Tc Tr=%Tr %B\"
    capture request header host len 10
    tcp-request inspect-delay 1s
    tcp-request content reject if {{ path /x }}
    default_backend be
backend be
    server s1 127.0.0.1:9
"
    )
}

fn send_rejected(port: u16) -> String {
    raw(
        port,
        b"GET /x?a=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_secs(3),
    )
}

fn r_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("R "))
        .map(str::to_string)
        .collect()
}

#[test]
fn tcp_content_reject_in_http_mode_logs_no_request_line() {
    let port = free_port();
    let p = Proxy::start(&reject_config(port), port);
    assert_eq!(send_rejected(port), "", "closed unanswered");
    let mine = r_lines(&p.stdout_when(|l| !r_lines(l).is_empty()));
    let expected = "R -1 PR-- {} \"<BADREQ>\" \
        [<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>] TR=-1 Tw=-1 Tc=-1 Tr=-1 0";
    assert_eq!(mine, [expected]);
    let Some((answer, log)) =
        with_haproxy_until(1, reject_config, send_rejected, |l| !r_lines(l).is_empty())
    else {
        return;
    };
    assert_eq!(answer, "");
    assert_eq!(r_lines(&log), mine);
}

/// A TCP frontend routing on the HTTP request its clients send.
fn tcp_config(port: u16, http: std::net::SocketAddr, other: std::net::SocketAddr) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"T %b/%s %ts Tw=%Tw\"
    tcp-request inspect-delay 1500ms
    tcp-request content accept if HTTP
    tcp-request content reject
    use_backend host_a if {{ hdr(host) -i a }}
    default_backend other
backend host_a
    server a {http}
backend other
    server o {other}
"
    )
}

/// Sends `parts` with `pause` between them; answers what came back and how long it took.
fn exchange(port: u16, parts: &[&str], pause: Duration) -> (String, Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(pause);
        }
        let _ = s.write_all(p.as_bytes());
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let body = String::from_utf8_lossy(&out);
    let name = body
        .lines()
        .find_map(|l| l.strip_prefix("name="))
        .unwrap_or("")
        .to_string();
    (name, start.elapsed())
}

/// The pause between the two parts of a request sent in two.
const PAUSE: Duration = Duration::from_millis(400);

/// The exchanges of the TCP frontend's test; `logged(n)` is called once the `n`th is over,
/// to wait for its log line before the next one begins.
fn tcp_drive(port: u16, logged: impl Fn(usize)) -> Vec<(String, Duration)> {
    let close = "Connection: close\r\n\r\n";
    let requests: [&[&str]; 5] = [
        // The head arrives in two parts: the rules wait for its end, then route on Host.
        &["GET /p HTTP/1.1\r\nHost: a\r\n", close],
        &["GET /q HTTP/1.1\r\nHost: b\r\n", close],
        // Not HTTP: rejected at once.
        &["hello\r\n\r\n"],
        // A head that never ends: rejected when the delay is over.
        &["GET / HTTP/1.1\r\nHost: a\r\n"],
        &["GET /r HTTP/1.0\r\n\r\n"],
    ];
    let mut got = Vec::new();
    for (i, parts) in requests.into_iter().enumerate() {
        got.push(exchange(port, parts, PAUSE));
        logged(i + 1);
    }
    got
}

fn t_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("T "))
        .map(str::to_string)
        .collect()
}

/// The log lines with `%Tw` (the time the rules waited) told by what it shows: `Tw~0`, no
/// wait (under half the pause between a request's parts), or `Tw~400`, a wait for the part
/// sent after the pause (from half the pause up to the inspect delay). Half the pause is the
/// margin of a loaded machine's late accept or late wake-up either way.
fn rounded(lines: &[String]) -> Vec<String> {
    let half_pause = PAUSE.as_millis() as i64 / 2;
    lines
        .iter()
        .map(|l| match l.rsplit_once("Tw=") {
            Some((head, tw)) => match tw.parse::<i64>() {
                Ok(ms) if (0..half_pause).contains(&ms) => format!("{head}Tw~0"),
                Ok(ms) if (half_pause..1500).contains(&ms) => format!("{head}Tw~400"),
                _ => l.clone(),
            },
            None => l.clone(),
        })
        .collect()
}

#[test]
fn http_fetches_in_tcp_mode_wait_for_a_whole_request_head() {
    let a = Origin::start("a");
    let o = Origin::start("o");
    let port = free_port();
    let p = Proxy::start(&tcp_config(port, a.addr, o.addr), port);
    // A connection is logged once the proxy has seen both its ends close, which may be after
    // the client has opened the next one (on another thread): each line is waited for, so
    // that the lines come in the order of the exchanges.
    let got = tcp_drive(port, |n| {
        p.stdout_when(|l| t_lines(l).len() >= n);
    });
    let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(names, ["a", "o", "", "", "o"]);
    assert!(got[2].1 < Duration::from_millis(500), "{got:?}");
    assert!(got[3].1 >= Duration::from_millis(1400), "{got:?}");
    let mine = t_lines(&p.stdout_when(|l| t_lines(l).len() >= 5));
    assert_eq!(
        rounded(&mine),
        [
            "T host_a/a -- Tw~400",
            "T other/o -- Tw~400",
            "T fe/<NOSRV> PR Tw=-1",
            "T fe/<NOSRV> PR Tw=-1",
            "T other/o -- Tw~0",
        ]
    );
    let Some((theirs, log)) = with_haproxy_until(
        1,
        |port| tcp_config(port, a.addr, o.addr),
        |port| tcp_drive(port, |_| {}),
        |l| t_lines(l).len() >= 5,
    ) else {
        return;
    };
    let their_names: Vec<&str> = theirs.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(their_names, names);
    // haproxy may log a connection after the client saw its end and opened the next one.
    let sorted = |lines: &[String]| {
        let mut r = rounded(lines);
        r.sort();
        r
    };
    assert_eq!(sorted(&t_lines(&log)), sorted(&mine));
}
