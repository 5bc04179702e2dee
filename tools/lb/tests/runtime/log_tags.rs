//! `log-tag` in proxies: the syslog tag of a proxy's own log lines (a frontend's traffic, a
//! backend's server state changes) over the global one, read from the datagrams a UDP syslog
//! listener receives, side by side with Debian's haproxy.

use super::harness::*;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// The tag of an RFC 3164 line (`<134>Dec  5 05:30:00 tag[pid]: message`).
fn tag_of(line: &str) -> Option<&str> {
    let head = &line[..line.find("]: ")?];
    let open = head.rfind('[')?;
    head[..open].rsplit(' ').next()
}

/// Frontends with and without a `log-tag`, and a backend with one whose server goes down:
/// each line carries its proxy's tag, or the global one.
#[test]
fn a_proxys_log_tag_overrides_the_global_one() {
    let fixture = || {
        let syslog = UdpSocket::bind("127.0.0.1:0").unwrap();
        syslog
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        syslog
    };
    let cfg = |port: u16, syslog: &UdpSocket| {
        format!(
            "global
    log-tag globaltag
defaults
    mode http
    option httplog
    log {} local0
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tagged
    bind 127.0.0.1:{port}
    log-tag fronttag
    http-request return status 200
frontend untagged
    bind 127.0.0.1:{}
    http-request return status 200
backend checked
    log-tag backtag
    server s 127.0.0.1:9 check inter 100 fall 1
",
            syslog.local_addr().unwrap(),
            port + 1
        )
    };
    let (mine, theirs) = both_sides(2, fixture, cfg, |port, syslog, _| {
        curl(&[&format!("http://127.0.0.1:{port}/tagged")]);
        curl(&[&format!("http://127.0.0.1:{}/untagged", port + 1)]);
        let (mut tagged, mut untagged, mut down) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        while (tagged.is_none() || untagged.is_none() || down.is_none())
            && Instant::now() < deadline
        {
            let Ok(n) = syslog.recv(&mut buf) else {
                continue;
            };
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            let tag = tag_of(&line).map(str::to_string);
            if line.contains("GET /tagged") {
                tagged = tag;
            } else if line.contains("GET /untagged") {
                untagged = tag;
            } else if line.contains("Server checked/s is DOWN") {
                down = tag;
            }
        }
        (tagged, untagged, down)
    });
    let some = |t: &str| Some(t.to_string());
    assert_eq!(mine, (some("fronttag"), some("globaltag"), some("backtag")));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
