//! The server options that undo a `default-server` setting for one server (`no-backup`,
//! `stick`, `no-check-send-proxy`, `no-tfo`), each seen from real traffic side by side with
//! Debian's haproxy: the last of the two words counts, the server's own after the defaults.

use super::harness::*;
use std::time::Duration;

/// The origin's name in each of `n` answers through `port`.
fn names(port: u16, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
            let name = body
                .lines()
                .find_map(|l| l.strip_prefix("name="))
                .unwrap_or("");
            format!("{status} {name}")
        })
        .collect()
}

#[test]
fn no_backup_makes_one_server_of_a_backup_default_active() {
    // Were `no-backup` ignored, both would be backups and the first one (b) would serve.
    let cfg = |port: u16, o: &(Origin, Origin)| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    default-server backup tfo
    server b {} 
    server a {} no-backup no-tfo
",
            o.1.addr, o.0.addr
        )
    };
    let (ours, theirs) = both_with(
        || (Origin::start("a"), Origin::start("b")),
        cfg,
        |port, _| names(port, 4),
    );
    assert_eq!(ours, vec!["200 a"; 4]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn stick_lets_the_table_learn_one_server_of_a_non_stick_default() {
    // Round robin alternates unless the table learns the first server, which `stick` allows
    // on `a` only: every request then goes to `a`. Behind `be_default` nothing is learnt.
    let cfg = |port: u16, o: &(Origin, Origin)| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
frontend fe2
    bind 127.0.0.1:{}
    default_backend be_default
backend app
    balance roundrobin
    stick-table type ip size 10
    stick on src
    default-server non-stick
    server a {} stick
    server b {}
backend be_default
    balance roundrobin
    stick-table type ip size 10
    stick on src
    default-server non-stick
    server a {}
    server b {}
",
            port + 1,
            o.0.addr,
            o.1.addr,
            o.0.addr,
            o.1.addr
        )
    };
    let (ours, theirs) = both_sides(
        2,
        || (Origin::start("a"), Origin::start("b")),
        cfg,
        |port, _, _| (names(port, 4), names(port + 1, 4)),
    );
    assert_eq!(ours.0, vec!["200 a"; 4]);
    assert_eq!(ours.1, ["200 a", "200 b", "200 a", "200 b"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn no_check_send_proxy_sends_plain_health_checks() {
    // The origin answers a check that starts with a PROXY header with a 400, which takes the
    // server down: behind `fe2` the default's `check-send-proxy` does, behind `fe` the
    // server's own `no-check-send-proxy` undoes it and the server stays up.
    let cfg = |port: u16, o: &Origin| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend undone
frontend fe2
    bind 127.0.0.1:{}
    default_backend inherited
backend undone
    option httpchk GET /health
    default-server check-send-proxy inter 100 fall 2
    server s1 {} check no-check-send-proxy
backend inherited
    option httpchk GET /health
    default-server check-send-proxy inter 100 fall 2
    server s1 {} check
",
            port + 1,
            o.addr,
            o.addr
        )
    };
    let (ours, theirs) = both_sides(
        2,
        || Origin::start("a"),
        cfg,
        |port, _, _| {
            // Two failed checks 100 ms apart take a server down.
            wait_until(Duration::from_secs(5), || names(port + 1, 1) == ["503 "]);
            (names(port, 2), names(port + 1, 1))
        },
    );
    assert_eq!(
        ours,
        (vec!["200 a".to_string(); 2], vec!["503 ".to_string()])
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
