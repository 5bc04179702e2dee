//! The stopping state (`NOLB`): a server up but out of the balancing, as `http-check
//! disable-on-404`, `set server … health stopping` and the stats page's form put it. The
//! requests persistence assigns still reach it, and a draining server's too. Each test runs
//! beside Debian's haproxy on the same configuration and compares what both wrote.

use crate::admin_reports::{api_defaults, changes};
use crate::api::{ask, stat_row};
use crate::harness::{both_sides, free_port, send_and_read, wait_until, Origin, Scratch};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// [`changes`] with each check's duration as `Nms`: it varies from run to run.
fn reported(stderr: &str) -> Vec<String> {
    let duration = regex::Regex::new(r"check duration: \d+ms").unwrap();
    changes(stderr)
        .iter()
        .map(|l| duration.replace_all(l, "check duration: Nms").into_owned())
        .collect()
}

/// Server `server`'s status in backend `b` (`UP`, `NOLB`, `DRAIN`, `DOWN 1/2`…).
fn status(sock: &Path, server: &str) -> String {
    stat_row(&ask(sock, "show stat\n"), "b", server)["status"].clone()
}

/// Which origin answered a request with `headers` (`s1`, `s2`), or the status line when
/// none did.
fn served_by(port: u16, headers: &str) -> String {
    let answer = send_and_read(
        port,
        format!("GET / HTTP/1.1\r\nHost: a\r\n{headers}Connection: close\r\n\r\n").as_bytes(),
    );
    answer
        .lines()
        .find_map(|l| l.strip_prefix("name="))
        .map(str::to_string)
        .unwrap_or_else(|| answer.lines().next().unwrap_or("").to_string())
}

/// `srv_op_state` of `server` in `show servers state b` (2 running, 3 stopping).
fn op_state(sock: &Path, server: &str) -> String {
    ask(sock, "show servers state b\n")
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f.get(3) == Some(&server))
        .map(|f| f[5].to_string())
        .unwrap_or_default()
}

struct Fixture {
    s1: Origin,
    s2: Origin,
    dir: Scratch,
}

fn fixture() -> Fixture {
    Fixture {
        s1: Origin::start("s1"),
        s2: Origin::start("s2"),
        dir: Scratch::dir(&format!(
            "hapee-nolb-{}-{}",
            std::process::id(),
            free_port()
        )),
    }
}

#[test]
fn disable_on_404_stops_a_server_whose_cookie_still_reaches_it_as_haproxy_does() {
    let config = |port: u16, f: &Fixture| {
        format!(
            "{}frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    option httpchk GET /health
    http-check disable-on-404
    cookie SRV insert indirect nocache
    server s1 {} check inter 100ms cookie c1
    server s2 {} check inter 100ms cookie c2
",
            api_defaults(&f.dir, "http"),
            f.s1.addr,
            f.s2.addr
        )
    };
    let drive = |port: u16, f: &Fixture, side: &crate::harness::Side| {
        let sock = f.dir.join("api.sock");
        let waits = |server: &str, wanted: &str| {
            assert!(
                wait_until(Duration::from_secs(10), || status(&sock, server) == wanted),
                "{}: {server} never {wanted}: {}",
                side.name(),
                status(&sock, server)
            );
        };
        wait_until(Duration::from_secs(10), || sock.exists());
        let plain = || (0..4).map(|_| served_by(port, "")).collect::<Vec<_>>();
        let with_cookie = |c: &str| served_by(port, &format!("Cookie: SRV={c}\r\n"));
        let mut seen = Vec::new();
        // A 404 to the check: s1 stops taking new sessions and keeps its own.
        f.s1.health_status.store(404, Ordering::SeqCst);
        waits("s1", "NOLB");
        seen.push(format!("{:?}", plain()));
        seen.push(with_cookie("c1"));
        seen.push(op_state(&sock, "s1"));
        // A 200 again: back in the balancing.
        f.s1.health_status.store(0, Ordering::SeqCst);
        waits("s1", "UP");
        let mut both = plain();
        both.sort();
        both.dedup();
        seen.push(format!("{both:?}"));
        seen.push(op_state(&sock, "s1"));
        // A draining server keeps its sessions too.
        ask(&sock, "set server b/s2 state drain\n");
        seen.push(format!("{:?}", plain()));
        seen.push(with_cookie("c2"));
        // Both out of the balancing: only the cookies find a server.
        f.s1.health_status.store(404, Ordering::SeqCst);
        waits("s1", "NOLB");
        seen.push(served_by(port, ""));
        seen.push(with_cookie("c1"));
        seen.push(with_cookie("c2"));
        ask(&sock, "set server b/s2 state ready\n");
        // Failing checks take a stopping server down (a notice: it was out already).
        f.s1.health_status.store(503, Ordering::SeqCst);
        waits("s1", "DOWN");
        std::thread::sleep(Duration::from_millis(300));
        (seen, reported(&side.stderr()))
    };
    let (ours, theirs) = both_sides(1, fixture, config, drive);
    let s2s = format!("{:?}", ["s2"; 4]);
    let s1s = format!("{:?}", ["s1"; 4]);
    assert_eq!(
        ours.0,
        [
            s2s.as_str(),
            "s1",
            "3",
            r#"["s1", "s2"]"#,
            "2",
            s1s.as_str(),
            "s2",
            "HTTP/1.1 503 Service Unavailable",
            "s1",
            "s2",
        ]
    );
    let online = "0 sessions requeued, 0 total in queue.";
    let check = "check duration: Nms";
    assert_eq!(
        ours.1,
        [
            format!("Server b/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, {check}. 1 active and 0 backup servers online. {online}"),
            format!("Server b/s1 is UP, reason: Layer7 check passed, code: 200, {check}. 2 active and 0 backup servers online. {online}"),
            format!("Server b/s2 enters drain state. 1 active and 0 backup servers online. {online}"),
            format!("Server b/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, {check}. 0 active and 0 backup servers online. {online}"),
            "backend 'b' has no server available!".to_string(),
            "Server b/s2 is UP (leaving forced drain).".to_string(),
            format!("Server b/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\", {check}. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
}

#[test]
fn the_runtime_api_and_the_stats_page_force_the_stopping_state_as_haproxy_does() {
    let config = |port: u16, f: &Fixture| {
        format!(
            "{}frontend fe
    bind 127.0.0.1:{port}
    stats enable
    stats uri /stats
    stats admin if TRUE
    default_backend b
backend b
    option httpchk GET /health
    server s1 {} check inter 60s
    server s2 {} check inter 60s
    server s3 {}
backend b2
    server t {} track b/s1
",
            api_defaults(&f.dir, "http"),
            f.s1.addr,
            f.s2.addr,
            f.s2.addr,
            f.s1.addr
        )
    };
    let drive = |port: u16, f: &Fixture, side: &crate::harness::Side| {
        let sock = f.dir.join("api.sock");
        wait_until(Duration::from_secs(10), || sock.exists());
        // s1's first check runs at once (s2's half an interval later): its result would end
        // a stopping state forced before it.
        assert!(wait_until(Duration::from_secs(10), || {
            stat_row(&ask(&sock, "show stat\n"), "b", "s1")["check_status"] == "L7OK"
        }));
        let mut seen = Vec::new();
        for command in [
            "set server b/s1 health stopping",
            "set server b/s1 health stopping",
            "set server b2/t health up",
            "set server b/s3 health down",
            "set server b/s1 health bogus",
        ] {
            seen.push(ask(&sock, &format!("{command}\n")).trim().to_string());
            // One command's lines before the next command's.
            std::thread::sleep(Duration::from_millis(50));
        }
        seen.push(status(&sock, "s1"));
        seen.push(status(&sock, "s3"));
        seen.push(served_by(port, ""));
        let form = |body: &str| {
            let answer = send_and_read(
                port,
                format!(
                    "POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
            std::thread::sleep(Duration::from_millis(50));
            answer
                .lines()
                .find_map(|l| {
                    l.strip_prefix("location: ")
                        .or(l.strip_prefix("Location: "))
                })
                .unwrap_or("")
                .to_string()
        };
        for body in [
            "b=b&s=s1&action=hrunn",
            "b=b&s=s2&action=hnolb",
            "b=b2&s=t&action=hdown",
            "b=b&s=s2&action=hrunn",
            "b=b&s=s2&action=stop",
            "b=b&s=s2&action=stop",
            "b=b&s=s2&action=start",
            "b=b&s=s2&action=disable",
            "b=b&s=s2&action=enable",
            "b=b&s=s3&action=hrunn",
        ] {
            seen.push(form(body));
        }
        seen.push(status(&sock, "s2"));
        std::thread::sleep(Duration::from_millis(300));
        (seen, changes(&side.stderr()))
    };
    let (ours, theirs) = both_sides(1, fixture, config, drive);
    assert_eq!(
        ours.0,
        [
            "",
            "",
            "cannot change health on a tracking server.",
            "",
            "'set server <srv> health' expects 'up', 'stopping', or 'down'.",
            "NOLB",
            "DOWN",
            "s2",
            "/stats;st=DONE",
            "/stats;st=DONE",
            "/stats;st=NONE",
            "/stats;st=DONE",
            "/stats;st=DONE",
            "/stats;st=NONE",
            "/stats;st=DONE",
            "/stats;st=DONE",
            "/stats;st=DONE",
            "/stats;st=DONE",
            "UP 1/3",
        ]
    );
    let online = "0 sessions requeued, 0 total in queue.";
    let left = "sessions active, 0 requeued, 0 remaining in queue.";
    let web = "changed from Web interface";
    assert_eq!(
        ours.1,
        [
            format!("Server b/s1 is stopping, changed from CLI. 2 active and 0 backup servers online. {online}"),
            format!("Server b/s3 is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 {left}"),
            format!("Server b/s1 is UP, {web}. 2 active and 0 backup servers online. {online}"),
            format!("Server b/s2 is stopping, {web}. 1 active and 0 backup servers online. {online}"),
            format!("Server b/s2 is UP, {web}. 2 active and 0 backup servers online. {online}"),
            format!("Server b/s2 enters drain state ('stop' on stats page). 1 active and 0 backup servers online. {online}"),
            "Server b/s2 is UP (leaving forced drain).".to_string(),
            format!("Server b/s2 is going DOWN for maintenance ('disable' on stats page). 1 active and 0 backup servers left. 0 {left}"),
            "Server b/s2 is UP/READY (leaving forced maintenance).".to_string(),
            format!("Server b/s3 is UP, {web}. 3 active and 0 backup servers online. {online}"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee / haproxy");
    }
}
