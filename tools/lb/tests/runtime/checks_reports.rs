//! What the health checks report beyond each server's own transition, side by side with
//! Debian's haproxy.

use crate::harness::*;

/// The last usable server of a backend going down is reported as HAProxy reports it: an alert
/// on stderr and an emergency log line, naming a listen section a `proxy`.
#[test]
fn a_backend_left_without_servers_is_reported() {
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:1 check inter 200ms
listen ls
    bind 127.0.0.1:{}
    server s1 127.0.0.1:1 check inter 200ms
",
            port + 1
        )
    };
    let left = |out: &str| -> Vec<String> {
        let mut lines: Vec<String> = out
            .lines()
            .filter(|l| l.contains("has no server available"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, rest)| rest).to_string())
            .collect();
        lines.sort();
        lines
    };
    let (mine, theirs) = both_reading(2, cfg, |_, side| {
        let logged = side.selected(left, 2);
        (logged, left(&side.stderr()))
    });
    assert_eq!(
        mine,
        (
            vec![
                "backend be has no server available!".to_string(),
                "proxy ls has no server available!".to_string()
            ],
            vec![
                "backend 'be' has no server available!".to_string(),
                "proxy 'ls' has no server available!".to_string()
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
