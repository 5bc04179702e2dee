//! `option logasap`: the line is written as soon as the response head is there (TCP: as soon as
//! the server is connected), with the total time and the byte count marked `+`.

use crate::harness::*;
use crate::tcp_logs_lifecycle::{assert_same_stable_fields, http_config};
use std::time::Duration;

fn early_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" fe app/s1 "))
        .map(str::to_string)
        .collect()
}

/// A slow body: the line must be there before the body ends.
fn fetch_slow_body(port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/slow/300");
    let (code, body) = curl(&[&url, "-H", "Host: example.test"]);
    assert_eq!(code, 200, "{body}");
    body
}

#[test]
fn logasap_logs_at_the_response_head_with_plus_totals_as_haproxy_does() {
    let o = Origin::start("o");
    let cfg = |port| {
        http_config(port, &o, "log stdout format raw local0")
            .replace("option httplog", "option httplog\n    option logasap")
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        fetch_slow_body(port);
        side.selected(early_lines, 1)
    });
    assert_eq!(mine.len(), 1, "one line per request: {mine:?}");
    let re = regex::Regex::new(r" \d+/\d+/\d+/\d+/\+\d+ 200 \+\d+ ").unwrap();
    assert!(
        re.is_match(&mine[0]),
        "Ta and B are marked '+': {}",
        mine[0]
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_same_stable_fields(&theirs, &mine);
}

#[test]
fn logasap_in_tcp_mode_logs_once_the_server_is_connected() {
    let o = Origin::start("o");
    let port = free_port();
    let config = format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    option logasap
    timeout connect 1s
    timeout client 5s
    timeout server 5s
{}",
        fe_to_app(port, "", o.addr)
    );
    let p = Proxy::start(&config, port);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mine = format!(":{} ", s.local_addr().unwrap().port());
    let ours = |log: &str| -> Vec<String> {
        early_lines(log)
            .into_iter()
            .filter(|l| l.contains(&mine))
            .collect()
    };
    // The connection stays open: the line must already be written.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut lines = ours(&p.stdout());
    while lines.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        lines = ours(&p.stdout());
    }
    assert_eq!(lines.len(), 1, "{lines:?}");
    let re = regex::Regex::new(r" \d+/\d+/\+\d+ \+0 -- ").unwrap();
    assert!(re.is_match(&lines[0]), "{}", lines[0]);
    use std::io::Write;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    let after = ours(&p.stdout());
    assert_eq!(after.len(), 1, "not logged again at the end: {after:?}");
}
