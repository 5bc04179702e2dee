//! A `source` address the host does not have: each connection to the server fails before it
//! starts, and is reported as HAProxy reports it, an alert on standard error and an emergency
//! message to the backend's loggers; side by side with Debian's haproxy.

use crate::harness::*;
use std::time::Duration;

#[test]
fn a_source_that_cannot_be_bound_alerts_and_logs_an_emergency_as_haproxy() {
    // 192.0.2.1 (TEST-NET-1) is on no interface: binding it fails.
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}listen app
    bind 127.0.0.1:{port}
    retries 0
    server s1 127.0.0.1:{} source 192.0.2.1
",
            free_port()
        )
    };
    let drive = |port: u16, side: &Side| {
        let answer = raw(
            port,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        );
        let emergency = "Cannot bind to source address before connect() for backend app.";
        let logged = side.stdout_when(|out| out.contains(emergency));
        let alerts: Vec<String> = side
            .stderr()
            .lines()
            .filter(|l| l.starts_with("[ALERT]"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, t)| t).to_string())
            .collect();
        (
            answer.lines().next().unwrap_or("").to_string(),
            logged.lines().filter(|l| *l == emergency).count(),
            alerts,
        )
    };
    let (ours, theirs) = both_reading(1, cfg, drive);
    assert_eq!(ours.0, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(ours.1, 1);
    assert_eq!(
        ours.2,
        ["Cannot bind to source address before connect() for backend app. Aborting."]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}
