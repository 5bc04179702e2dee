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
                "{}frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection reject
    default_backend b
backend b
    server s1 127.0.0.1:{}
    server s2 127.0.0.1:{}
    server s3 127.0.0.1:{checked_port} check inter 60s
    server bk 127.0.0.1:{} backup
",
                api_defaults(dir, "tcp"),
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

/// The lines of the servers tracking others (in `b2`), besides those of `b`.
fn changes_with_trackers(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once(") : ").map(|(_, r)| r))
        .filter(|l| {
            ["Server b/", "Server b2/", "'b'", "'b2'"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_string)
        .collect()
}

/// The start of the configurations of these tests: one thread, the Runtime API in `dir`,
/// and defaults in `mode` with check timeouts.
pub(crate) fn api_defaults(dir: &std::path::Path, mode: &str) -> String {
    format!(
        "global
    nbthread 1
    stats socket {}/api.sock level admin
defaults
    mode {mode}
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 2s
",
        dir.display()
    )
}

/// What a side showed and the lines it wrote.
type Seen = (Vec<String>, Vec<String>);

/// Runs `steps` on the Runtime API of a configuration where backend `b2` holds the
/// `trackers` lines (servers tracking `b/s1`, checked, or each other), on both sides. Gives
/// what the steps showed (each `show stat` the status of `shown` in `b2`, each `show servers
/// state` the name and admin bits of its servers) and the state change lines of `b` and `b2`.
fn tracking(trackers: &str, steps: &[&str], shown: &[&str]) -> (Seen, Option<Seen>) {
    let checked = TcpListener::bind("127.0.0.1:0").unwrap();
    let checked_port = checked.local_addr().unwrap().port();
    let out = both_sides(
        1,
        || {
            Scratch::dir(&format!(
                "hapee-track-{}-{}",
                std::process::id(),
                free_port()
            ))
        },
        |port, dir| {
            // Each `PORT` takes a port of its own.
            let mut parts = trackers.split("PORT");
            let mut trackers = parts.next().unwrap_or_default().to_string();
            for part in parts {
                trackers.push_str(&format!("{}{part}", free_port()));
            }
            format!(
                "{}frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection reject
    default_backend b
backend b
    server s1 127.0.0.1:{checked_port} check inter 60s
    server s2 127.0.0.1:{}
backend b2
{trackers}",
                api_defaults(dir, "tcp"),
                free_port(),
            )
        },
        |_, dir, side| {
            let sock = dir.join("api.sock");
            wait_until(Duration::from_secs(10), || sock.exists());
            // s1's first check runs at once: its result would end a state forced before it.
            wait_until(Duration::from_secs(10), || {
                crate::api::stat_row(&ask(&sock, "show stat\n"), "b", "s1")["check_status"]
                    == "L4OK"
            });
            let mut seen = Vec::new();
            for step in steps {
                let answer = ask(&sock, &format!("{step}\n"));
                if *step == "show stat" {
                    for sv in shown {
                        seen.push(crate::api::stat_row(&answer, "b2", sv)["status"].clone());
                    }
                } else if step.starts_with("show servers state") {
                    // srv_name and srv_admin_state of each line.
                    seen.extend(answer.lines().skip(2).filter(|l| !l.is_empty()).map(|l| {
                        let f: Vec<&str> = l.split(' ').collect();
                        format!("{} {}", f[3], f[6])
                    }));
                } else {
                    assert!(
                        answer.trim().is_empty(),
                        "{}: {step}: {answer:?}",
                        side.name()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(300));
            (seen, changes_with_trackers(&side.stderr()))
        },
    );
    drop(checked);
    out
}

#[test]
fn servers_tracking_one_in_maintenance_or_drain_follow_it_as_haproxy_does() {
    let (ours, theirs) = tracking(
        "    server t1 127.0.0.1:PORT track b/s1
    server t2 127.0.0.1:PORT track b2/t1
",
        &[
            "set server b/s1 state maint",
            "show stat",
            "show servers state b2",
            "set server b2/t1 state maint",
            "set server b/s1 state ready",
            "set server b2/t1 state ready",
            "set server b/s1 state drain",
            "show stat",
            "set server b2/t1 state drain",
            "set server b/s1 state ready",
            "set server b2/t1 state ready",
        ],
        &["t1", "t2"],
    );
    let left = "sessions active, 0 requeued, 0 remaining in queue.";
    let online = "0 sessions requeued, 0 total in queue.";
    assert_eq!(
        ours.0,
        [
            "MAINT (via b/s1)",
            "MAINT (via b2/t1)",
            "t1 2",
            "t2 2",
            // The counts are those of s1's check (back from maintenance at `rise`).
            "DRAIN 1/3",
            "DRAIN 1/3",
        ]
    );
    assert_eq!(
        ours.1,
        [
            format!("Server b/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 {left}"),
            format!("Server b2/t1 is going DOWN for maintenance via b/s1. 1 active and 0 backup servers left. 0 {left}"),
            format!("Server b2/t2 is going DOWN for maintenance via b2/t1. 0 active and 0 backup servers left. 0 {left}"),
            "backend 'b2' has no server available!".to_string(),
            "Server b/s1 is UP/READY (leaving forced maintenance).".to_string(),
            "Server b2/t1 remains in forced maintenance.".to_string(),
            "Server b2/t1 is UP/READY (leaving forced maintenance).".to_string(),
            "Server b2/t2 is UP/READY (leaving maintenance).".to_string(),
            format!("Server b/s1 enters drain state. 1 active and 0 backup servers online. {online}"),
            format!("Server b2/t1 enters drain state via b/s1. 1 active and 0 backup servers online. {online}"),
            format!("Server b2/t2 enters drain state via b2/t1. 0 active and 0 backup servers online. {online}"),
            "backend 'b2' has no server available!".to_string(),
            "Server b2/t1 remains in forced drain mode.".to_string(),
            "Server b/s1 is UP (leaving forced drain).".to_string(),
            "Server b2/t1 remains in forced drain mode.".to_string(),
            "Server b2/t1 is UP (leaving forced drain).".to_string(),
            "Server b2/t2 is UP (leaving forced drain).".to_string(),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
}

/// A `track` chain that loops back is refused at start with HAProxy's message (walking it
/// would never end), as `haproxy -c` refuses it.
#[test]
fn a_tracking_chain_looping_back_is_refused_at_start() {
    let dir = Scratch::dir(&format!("hapee-track-loop-{}", std::process::id()));
    let cfg = dir.join("h.cfg");
    std::fs::write(
        &cfg,
        format!(
            "defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen b
    bind 127.0.0.1:{}
    server s1 127.0.0.1:{} track b/s2
    server s2 127.0.0.1:{} track b/s1
",
            free_port(),
            free_port(),
            free_port()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["run", "-f"])
        .arg(&*cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = "unable to track b/s1 as it belongs to a tracking chain looping back to b/s2";
    let ours = String::from_utf8_lossy(&out.stderr);
    assert!(ours.contains(line), "{ours}");
    if crate::harness::Haproxy::installed() {
        let theirs = std::process::Command::new("haproxy")
            .args(["-c", "-f"])
            .arg(&*cfg)
            .output()
            .unwrap();
        assert!(!theirs.status.success());
        let theirs = String::from_utf8_lossy(&theirs.stderr);
        assert!(theirs.contains(line), "{theirs}");
    }
}

#[test]
fn servers_tracking_one_go_down_stop_and_come_up_with_it_as_haproxy_reports() {
    let (ours, theirs) = tracking(
        "    server t1 127.0.0.1:PORT track b/s1
    server t2 127.0.0.1:PORT track b2/t1
    server t3 127.0.0.1:PORT track b/s1
",
        &[
            "set server b2/t3 state maint",
            "set server b/s1 health down",
            "set server b/s1 health stopping",
            "show stat",
            "set server b/s1 health up",
            "show stat",
        ],
        &["t1", "t2", "t3"],
    );
    let left = "sessions active, 0 requeued, 0 remaining in queue.";
    let online = "0 sessions requeued, 0 total in queue.";
    assert_eq!(ours.0, ["NOLB", "NOLB", "MAINT", "UP", "UP", "MAINT"]);
    assert_eq!(
        ours.1,
        [
            format!("Server b2/t3 is going DOWN for maintenance. 2 active and 0 backup servers left. 0 {left}"),
            format!("Server b/s1 is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 {left}"),
            format!("Server b2/t1 is DOWN via b/s1. 1 active and 0 backup servers left. 0 {left}"),
            format!("Server b2/t2 is DOWN via b2/t1. 0 active and 0 backup servers left. 0 {left}"),
            "backend 'b2' has no server available!".to_string(),
            format!("Server b/s1 is stopping, changed from CLI. 1 active and 0 backup servers online. {online}"),
            format!("Server b2/t1 is stopping via b/s1. 0 active and 0 backup servers online. {online}"),
            format!("Server b2/t2 is stopping via b2/t1. 0 active and 0 backup servers online. {online}"),
            format!("Server b/s1 is UP, changed from CLI. 2 active and 0 backup servers online. {online}"),
            format!("Server b2/t1 is UP via b/s1. 1 active and 0 backup servers online. {online}"),
            format!("Server b2/t2 is UP via b2/t1. 2 active and 0 backup servers online. {online}"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
}

/// HAProxy says a draining server stays draining on each change of its state, and so does
/// its tracker, which inherited the drain.
#[test]
fn a_draining_server_going_down_and_up_stays_draining_as_haproxy_says() {
    let (ours, theirs) = tracking(
        "    server t1 127.0.0.1:PORT track b/s1\n",
        &[
            "set server b/s1 state drain",
            "set server b/s1 health down",
            "set server b/s1 health up",
            "show stat",
        ],
        &["t1"],
    );
    let left = "0 sessions active, 0 requeued, 0 remaining in queue.";
    let online = "0 sessions requeued, 0 total in queue.";
    assert_eq!(ours.0, ["DRAIN"]);
    assert_eq!(
        ours.1,
        [
            format!("Server b/s1 enters drain state. 1 active and 0 backup servers online. {online}"),
            format!("Server b2/t1 enters drain state via b/s1. 0 active and 0 backup servers online. {online}"),
            "backend 'b2' has no server available!".to_string(),
            format!("Server b/s1 is DOWN, changed from CLI. 1 active and 0 backup servers left. {left}"),
            "Server b/s1 remains in forced drain mode.".to_string(),
            format!("Server b2/t1 is DOWN via b/s1. 0 active and 0 backup servers left. {left}"),
            "Server b2/t1 is leaving forced drain but remains in drain mode via b/s1.".to_string(),
            format!("Server b/s1 is UP, changed from CLI. 1 active and 0 backup servers online. {online}"),
            "Server b/s1 remains in forced drain mode.".to_string(),
            format!("Server b2/t1 is UP via b/s1. 0 active and 0 backup servers online. {online}"),
            "Server b2/t1 is leaving forced drain but remains in drain mode via b/s1.".to_string(),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
}
