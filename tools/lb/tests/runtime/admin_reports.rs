//! The lines a server's administrative changes from the Runtime API write (forced
//! maintenance, drain, `set server … health`), beside Debian's haproxy's on the same
//! configuration and commands.

use crate::api::ask;
use crate::harness::{both_sides, free_port, wait_until, Scratch};
use std::net::TcpListener;
use std::time::Duration;

/// The state change lines of backend `b` in `stderr`, in order, without the process id.
pub(crate) fn changes(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once(") : ").map(|(_, r)| r))
        .filter(|l| l.contains("Server b/") || l.contains("'b'"))
        .map(str::to_string)
        .collect()
}

#[test]
fn runtime_api_state_changes_are_reported_as_haproxy_reports_them() {
    // s3's check finds a listener, and checks again only long after the test.
    let checked = TcpListener::bind("127.0.0.1:0").unwrap();
    let checked_port = checked.local_addr().unwrap().port();
    let commands = [
        "set server b/s1 state drain",
        "set server b/s1 state maint",
        "set server b/s1 state ready",
        "disable server b/s2",
        "set server b/s3 health down",
        "set server b/s1 state maint",
        "set server b/bk state maint",
        "enable server b/bk",
        "set server b/s1 state drain",
        "set server b/s1 state ready",
        "set server b/s3 health up",
        "set server b/s2 state drain",
        "set server b/s2 state ready",
    ];
    let (ours, theirs) = both_sides(
        1,
        || {
            Scratch::dir(&format!(
                "hapee-admin-{}-{}",
                std::process::id(),
                free_port()
            ))
        },
        |port, dir| {
            format!(
                "global
    nbthread 1
    stats socket {}/api.sock level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection reject
    default_backend b
backend b
    server s1 127.0.0.1:{}
    server s2 127.0.0.1:{}
    server s3 127.0.0.1:{checked_port} check inter 60s
    server bk 127.0.0.1:{} backup
",
                dir.display(),
                free_port(),
                free_port(),
                free_port()
            )
        },
        |_, dir, side| {
            let sock = dir.join("api.sock");
            wait_until(Duration::from_secs(10), || sock.exists());
            for command in commands {
                let answer = ask(&sock, &format!("{command}\n"));
                assert!(
                    answer.trim().is_empty(),
                    "{}: {command}: {answer:?}",
                    side.name()
                );
                // One command's lines before the next command's.
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(300));
            changes(&side.stderr())
        },
    );
    let left = "sessions active, 0 requeued, 0 remaining in queue.";
    let online = "0 sessions requeued, 0 total in queue.";
    assert_eq!(
        ours,
        [
            format!("Server b/s1 enters drain state. 2 active and 1 backup servers online. {online}"),
            format!("Server b/s1 is going DOWN for maintenance. 2 active and 1 backup servers left. 0 {left}"),
            "Server b/s1 is UP/READY (leaving forced maintenance).".to_string(),
            format!("Server b/s2 is going DOWN for maintenance. 2 active and 1 backup servers left. 0 {left}"),
            format!("Server b/s3 is DOWN, changed from CLI. 1 active and 1 backup servers left. 0 {left}"),
            format!("Server b/s1 is going DOWN for maintenance. 0 active and 1 backup servers left. Running on backup. 0 {left}"),
            format!("Backup Server b/bk is going DOWN for maintenance. 0 active and 0 backup servers left. 0 {left}"),
            "backend 'b' has no server available!".to_string(),
            "Backup Server b/bk is UP/READY (leaving forced maintenance).".to_string(),
            "Server b/s1 is UP/DRAIN (leaving forced maintenance).".to_string(),
            "Server b/s1 remains in forced drain mode.".to_string(),
            "Server b/s1 is UP (leaving forced drain).".to_string(),
            format!("Server b/s3 is UP, changed from CLI. 2 active and 1 backup servers online. {online}"),
            "Server b/s2 is UP/DRAIN (leaving forced maintenance).".to_string(),
            "Server b/s2 remains in forced drain mode.".to_string(),
            "Server b/s2 is UP (leaving forced drain).".to_string(),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
    drop(checked);
}
