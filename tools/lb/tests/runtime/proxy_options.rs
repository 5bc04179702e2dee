//! Proxy `option`s seen from real sockets, side by side with Debian's haproxy:
//! `option http-ignore-probes` (a browser's speculative pre-connection, closed or timed out
//! before sending a byte, is neither answered nor logged), `option http-no-delay`, `option
//! nolinger` and `option clitcpka`.

use super::harness::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::Duration;

/// Two frontends alike but for `option http-ignore-probes`: the one with it on `port`, the
/// one without on `port + 1`.
fn probes_config(port: u16) -> String {
    let other = port + 1;
    format!(
        "{LOGGED_DEFAULTS}    log-format \"P|%ft|%ST|%{{+Q}}r\"
    timeout http-request 300ms
frontend ignoring
    option http-ignore-probes
    bind 127.0.0.1:{port}
    http-request return status 200
frontend answering
    bind 127.0.0.1:{other}
    http-request return status 200
"
    )
}

/// What a connection that sends nothing reads before the proxy closes it (the first line of
/// any answer, or nothing); closed at once when `close_first` (a 2.6 haproxy answers 400 to
/// a half-closed empty connection, hapee does not: that close is not compared).
fn silent_connection(port: u16, close_first: bool) -> String {
    let mut s = connect(("127.0.0.1", port));
    if close_first {
        let _ = s.shutdown(Shutdown::Both);
        return String::new();
    }
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.lines().next().unwrap_or("").to_string()
}

/// On each frontend: a connection closed at once, one left silent until `timeout
/// http-request`, then a served request (so that the log has a last line to wait for).
fn probe_both(port: u16) -> Vec<String> {
    let mut answers = Vec::new();
    for p in [port, port + 1] {
        answers.push(silent_connection(p, true));
        answers.push(silent_connection(p, false));
        let (status, _) = curl(&[&format!("http://127.0.0.1:{p}/")]);
        answers.push(status.to_string());
    }
    answers
}

fn probe_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("P|"))
        .map(str::to_string)
        .collect()
}

#[test]
fn ignored_probes_are_neither_answered_nor_logged() {
    let ((mine, my_log), theirs) = both_reading(2, probes_config, |port, side| {
        let answers = probe_both(port);
        // Two served requests, and the two refused connections of the answering frontend.
        (answers, side.selected(probe_lines, 4))
    });
    assert_eq!(
        mine,
        ["", "", "200", "", "HTTP/1.1 408 Request Time-out", "200"]
    );
    let want = [
        "P|ignoring|200|\"GET / HTTP/1.1\"",
        "P|answering|400|\"<BADREQ>\"",
        "P|answering|408|\"<BADREQ>\"",
        "P|answering|200|\"GET / HTTP/1.1\"",
    ];
    assert_eq!(my_log, want);
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
    assert_eq!(their_log, want);
}

/// `option http-no-delay` asks that nothing be held back to fill packets: hapee never holds
/// data (TCP_NODELAY on both sides, each write sent as it comes), so the option is accepted
/// and the traffic is what it is without it.
#[test]
fn http_no_delay_is_accepted_and_serves() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    option http-no-delay
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"
        )
    };
    let (mine, theirs) = both(cfg, |port| curl(&[&format!("http://127.0.0.1:{port}/")]));
    assert_eq!(mine, (200, "ok".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// How a connection that asked for `Connection: close` ends, seen by the client once the
/// whole answer had time to come: its end (`eof`), then whether the client may still write
/// (`open`: the proxy's side lingers after its FIN) or not (`reset`: the proxy closed with
/// SO_LINGER 0, so its kernel reset the connection at once).
fn closing_end(port: u16) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut got = Vec::new();
    let end = match s.read_to_end(&mut got) {
        Ok(_) => "eof".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => "reset".to_string(),
        Err(e) => format!("error {e}"),
    };
    let after = match s.write(b"x") {
        Ok(_) => "open",
        Err(_) => "reset",
    };
    let head = String::from_utf8_lossy(&got);
    format!("{} {end} {after}", head.lines().next().unwrap_or(""))
}

/// `option nolinger` in a frontend: the client's connection is reset when the proxy closes
/// it; without the option it ends with a FIN.
#[test]
fn nolinger_resets_the_client_connection() {
    let cfg = |port: u16| {
        let other = port + 1;
        format!(
            "{LOGGED_DEFAULTS}frontend resetting
    option nolinger
    bind 127.0.0.1:{port}
    http-request return status 200
frontend closing
    bind 127.0.0.1:{other}
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, _| (closing_end(port), closing_end(port + 1)));
    assert_eq!(
        mine,
        (
            "HTTP/1.1 200 OK eof reset".to_string(),
            "HTTP/1.1 200 OK eof open".to_string()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Whether the proxy's side of an open client connection to `port` has the kernel's
/// keep-alive timer running (`ss`'s `timer:(keepalive,…)`).
fn client_side_keepalive(port: u16) -> bool {
    let _client = connect(("127.0.0.1", port));
    std::thread::sleep(Duration::from_millis(200));
    let out = std::process::Command::new("ss")
        .args(["-Htno", "state", "established", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    String::from_utf8_lossy(&out.stdout).contains("timer:(keepalive")
}

/// `option clitcpka` turns on TCP keep-alive probes on client connections.
#[test]
fn clitcpka_probes_idle_clients() {
    let cfg = |port: u16| {
        let other = port + 1;
        format!(
            "{LOGGED_DEFAULTS}frontend probing
    option clitcpka
    bind 127.0.0.1:{port}
    http-request return status 200
frontend quiet
    bind 127.0.0.1:{other}
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        (client_side_keepalive(port), client_side_keepalive(port + 1))
    });
    assert_eq!(mine, (true, false));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `log-format-sd`: the structured data of RFC 5424 lines, in place of their `-`.
#[test]
fn log_format_sd_fills_the_structured_data_of_rfc5424_lines() {
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format rfc5424 local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend structured
    bind 127.0.0.1:{port}
    log-format \"done %ST\"
    log-format-sd [meta@1\\ status=\\\"%ST\\\"\\ frontend=\\\"%f\\\"]
    http-request return status 203
"
        )
    };
    let structured_data = |line: &str| {
        // The header's MSGID is `-`; the data follows it, then the message.
        let (_, rest) = line.split_once(" - [")?;
        Some(format!("[{rest}"))
    };
    let ((status, mine), theirs) = logged_side_by_side(
        cfg,
        |port| curl(&[&format!("http://127.0.0.1:{port}/p")]).0,
        |l| l.contains("done 203"),
        1,
    );
    assert_eq!(status, 203);
    let mine: Vec<_> = mine.iter().filter_map(|l| structured_data(l)).collect();
    assert_eq!(
        mine,
        ["[meta@1 status=\"203\" frontend=\"structured\"] done 203"]
    );
    if let Some((_, theirs)) = theirs {
        let theirs: Vec<_> = theirs.iter().filter_map(|l| structured_data(l)).collect();
        assert_eq!(theirs, mine);
    }
}
