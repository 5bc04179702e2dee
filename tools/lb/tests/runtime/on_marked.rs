//! What a server's state change does to the requests under way: `on-marked-down
//! shutdown-sessions` and `on-marked-up shutdown-backup-sessions`, by health checks, by the
//! Runtime API's maintenance and down a tracking chain, logged side by side with Debian's
//! haproxy.

use super::harness::{curl, logged_side_by_side, wait_until, Origin};
use std::time::{Duration, Instant};

/// A configuration whose frontend on `port` logs each request with `format` and sends it to
/// `backend`; `global` adds lines to the global section, `sections` holds the backends.
fn config(port: u16, global: &str, format: &str, backend: &str, sections: &str) -> String {
    format!(
        "global
    log stdout format raw local0
{global}defaults
    mode http
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"{format}\"
    default_backend {backend}
{sections}"
    )
}

/// `on-marked-down shutdown-sessions`: when checks mark the server down, the requests waiting
/// on it are ended at once (HAProxy's 502, logged `DH`) instead of waiting for `timeout server`.
#[test]
fn on_marked_down_shutdown_sessions_ends_the_servers_requests() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        config(
            port,
            "",
            "M|%ST %tsc %HP",
            "app",
            &format!(
                "backend app
    option httpchk GET /health
    server s1 {} check inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions
",
                origin.addr
            ),
        )
    };
    let drive = |port: u16| slow_request_across_flip(&origin.sick, false, "o", &origin, port);
    slow_request_logged_side_by_side(cfg, drive, "M|", "M|502 DH-- /slow/6000");
}

/// A tracking server's own `on-marked-down shutdown-sessions` holds when the server it tracks
/// goes down: its requests end as the tracked server's would.
#[test]
fn a_trackers_on_marked_down_ends_its_requests_when_the_tracked_server_goes_down() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        config(
            port,
            "",
            "T|%ST %tsc %b/%s %HP",
            "follower",
            &format!(
                "backend app
    option httpchk GET /health
    server s1 {0} check inter 200ms fall 1 rise 1
backend follower
    server t1 {0} track app/s1 on-marked-down shutdown-sessions
",
                origin.addr
            ),
        )
    };
    let drive = |port: u16| slow_request_across_flip(&origin.sick, false, "o", &origin, port);
    slow_request_logged_side_by_side(cfg, drive, "T|", "T|502 DH-- follower/t1 /slow/6000");
}

/// `on-marked-down shutdown-sessions` holds too when the Runtime API puts the running server
/// in maintenance.
#[test]
fn on_marked_down_ends_the_requests_of_a_server_put_in_maintenance() {
    let origin = Origin::start("o");
    let sock = |port: u16| std::env::temp_dir().join(format!("hapee-maint-kill-{port}.sock"));
    let cfg = |port: u16| {
        config(
            port,
            &format!("    stats socket {} level admin\n", sock(port).display()),
            "M|%ST %tsc %HP",
            "app",
            &format!(
                "backend app
    server s1 {} on-marked-down shutdown-sessions
",
                origin.addr
            ),
        )
    };
    let drive = |port: u16| {
        let path = sock(port);
        let answer = slow_request_across("o", &origin, port, || {
            super::api::ask(&path, "set server app/s1 state maint\n");
        });
        let _ = std::fs::remove_file(&path);
        answer
    };
    slow_request_logged_side_by_side(cfg, drive, "M|", "M|502 DH-- /slow/6000");
}

/// `on-marked-up shutdown-backup-sessions`: when the primary comes back, the requests still on
/// the backup server end at once (logged `UH`), so that clients return to the primary.
#[test]
fn on_marked_up_shutdown_backup_sessions_ends_the_backups_requests() {
    let primary = Origin::start("p");
    let backup = Origin::start("b");
    let cfg = |port: u16| {
        config(
            port,
            "",
            "U|%ST %tsc %s %HP",
            "app",
            &format!(
                "backend app
    option httpchk GET /health
    server s1 {} check inter 200ms fall 1 rise 1 on-marked-up shutdown-backup-sessions
    server b1 {} check inter 200ms backup
",
                primary.addr, backup.addr
            ),
        )
    };
    let drive = |port: u16| slow_request_across_flip(&primary.sick, true, "b", &backup, port);
    slow_request_logged_side_by_side(cfg, drive, "U|", "U|502 UH-- b1 /slow/6000");
}

/// Sets `flag` to `from` and waits until the origin named `serving` answers requests; then
/// starts a six-second request, flips the flag once `serving` (`at`) has the request, and
/// returns the request's status and whether it ended well before the server would have
/// answered (so the flip, not the server, ended it).
fn slow_request_across_flip(
    flag: &std::sync::atomic::AtomicBool,
    from: bool,
    serving: &str,
    at: &Origin,
    port: u16,
) -> (u16, bool) {
    use std::sync::atomic::Ordering::SeqCst;
    flag.store(from, SeqCst);
    slow_request_across(serving, at, port, || flag.store(!from, SeqCst))
}

/// [`slow_request_across_flip`] with the change made by `flip`.
fn slow_request_across(serving: &str, at: &Origin, port: u16, flip: impl FnOnce()) -> (u16, bool) {
    use std::sync::atomic::Ordering::SeqCst;
    // The checks have settled: requests (not logged: only `/slow/` lines are kept) go there.
    let name = format!("name={serving}\n");
    let settled = wait_until(Duration::from_secs(10), || {
        curl(&[&format!("http://127.0.0.1:{port}/")])
            .1
            .starts_with(&name)
    });
    assert!(settled, "{serving} never served");
    let before = at.slow.load(SeqCst);
    let slow = std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/slow/6000")]).0);
    let arrived = wait_until(Duration::from_secs(10), || at.slow.load(SeqCst) > before);
    assert!(arrived, "the slow request never reached {serving}");
    let started = Instant::now();
    flip();
    let code = slow.join().unwrap();
    (code, started.elapsed() < Duration::from_secs(4))
}

/// Drives the slow request through hapee and then haproxy: hapee must answer 502 early and log
/// exactly `expected` (the one line starting with `prefix` for `/slow/`); haproxy, when present,
/// must do and log the same.
fn slow_request_logged_side_by_side(
    config: impl Fn(u16) -> String,
    drive: impl Fn(u16) -> (u16, bool),
    prefix: &str,
    expected: &str,
) {
    let ((mine, log), theirs) = logged_side_by_side(
        config,
        drive,
        |l| l.starts_with(prefix) && l.contains("/slow/"),
        1,
    );
    assert_eq!(
        mine,
        (502, true),
        "ended as soon as the health state flipped"
    );
    assert_eq!(log, [expected]);
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(theirs, mine);
        assert_eq!(their_log, log);
    }
}
