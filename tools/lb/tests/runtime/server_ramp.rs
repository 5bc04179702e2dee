//! Server options that shape a server's share of the load over time: `slowstart`, compared
//! with Debian's haproxy through the Runtime API's `show stat` (weight and throttle columns).

use super::api::{ask, stat_row};
use super::harness::{both_with, curl, wait_until, Origin, Scratch};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn sock_name(port: u16) -> String {
    format!("hapee-ramp-{port}.sock")
}

fn sock_of(port: u16) -> PathBuf {
    std::env::temp_dir().join(sock_name(port))
}

/// An HTTP proxy on `port` to backend `be`, with an admin stats socket whose guard joins
/// `sockets` (kept by the test until both sides are done).
fn config(port: u16, backend: &str, sockets: &RefCell<Vec<Scratch>>) -> String {
    sockets.borrow_mut().push(Scratch::file(&sock_name(port)));
    let sock = sock_of(port);
    let _ = std::fs::remove_file(&sock);
    format!(
        "global
    nbthread 1
    stats socket {} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
{backend}",
        sock.display()
    )
}

/// `show stat`'s status, weight and throttle of `be/<server>`.
fn ramp_columns(port: u16, server: &str) -> [String; 3] {
    let row = stat_row(&ask(&sock_of(port), "show stat\n"), "be", server);
    ["status", "weight", "throttle"].map(|c| row[c].clone())
}

/// A server leaving maintenance, or passing its checks again, restarts at a sixteenth of its
/// weight (rounded up) with a throttle of 6%; its first start is not a slow start. With a
/// 100 s ramp the first step lasts six seconds, so what the test reads does not depend on
/// when it reads.
#[test]
fn slowstart_ramps_a_server_coming_back() {
    let sockets = RefCell::new(Vec::new());
    let cfg = |port: u16, origin: &Origin| {
        config(
            port,
            &format!(
                "    option httpchk GET /health\n    server srv {} weight 100 slowstart 100s check inter 100ms rise 1 fall 1\n",
                origin.addr
            ),
            &sockets,
        )
    };
    let drive = |port: u16, origin: &Origin| {
        wait_until(Duration::from_secs(5), || sock_of(port).exists());
        let first = ramp_columns(port, "srv");
        ask(&sock_of(port), "disable server be/srv\n");
        ask(&sock_of(port), "enable server be/srv\n");
        let from_maintenance = ramp_columns(port, "srv");
        // Down by its checks, then up again.
        origin.sick.store(true, Ordering::Relaxed);
        wait_until(Duration::from_secs(5), || {
            ramp_columns(port, "srv")[0].starts_with("DOWN")
        });
        origin.sick.store(false, Ordering::Relaxed);
        wait_until(Duration::from_secs(5), || {
            ramp_columns(port, "srv")[0].starts_with("UP")
        });
        let from_checks = ramp_columns(port, "srv");
        [first, from_maintenance, from_checks]
    };
    let (ours, theirs) = both_with(|| Origin::start("a"), cfg, drive);
    let row = |w: &str, t: &str| ["UP".to_string(), w.to_string(), t.to_string()];
    assert_eq!(ours, [row("100", ""), row("7", "6"), row("7", "6")]);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// The balancer follows the ramp: of two servers of equal weight, the one warming up gets
/// about a sixteenth of the other's share. (A 1000 s ramp holds its first step for a minute,
/// however slowly a loaded machine sends the requests.)
#[test]
fn a_warming_server_takes_a_small_share() {
    let fixture = || (Origin::start("a"), Origin::start("b"));
    let sockets = RefCell::new(Vec::new());
    let cfg = |port: u16, (a, b): &(Origin, Origin)| {
        config(
            port,
            &format!(
                "    server a {} weight 100\n    server b {} weight 100 slowstart 1000s\n",
                a.addr, b.addr
            ),
            &sockets,
        )
    };
    let drive = |port: u16, (_, b): &(Origin, Origin)| {
        wait_until(Duration::from_secs(5), || sock_of(port).exists());
        ask(&sock_of(port), "disable server be/b\n");
        ask(&sock_of(port), "enable server be/b\n");
        for _ in 0..107 {
            assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
        }
        b.hits.load(Ordering::Relaxed)
    };
    let (ours, theirs) = both_with(fixture, cfg, drive);
    assert!((3..=12).contains(&ours), "warming server got {ours} of 107");
    if let Some(theirs) = theirs {
        assert!((3..=12).contains(&theirs), "haproxy: {theirs} of 107");
    }
}

/// `minconn` with `fullconn`: a lightly loaded backend holds its server to `minconn`
/// connections (its limit grows with the load, to `maxconn` at `fullconn`), the other
/// requests waiting in the queue; without `minconn` the same load runs at once.
#[test]
fn minconn_holds_a_lightly_loaded_server_below_its_maxconn() {
    let run = |server_opts: &'static str| {
        let sockets = RefCell::new(Vec::new());
        let cfg = move |port: u16, origin: &Origin| {
            config(
                port,
                &format!(
                    "    timeout queue 10s\n    fullconn 100\n    server srv {} {server_opts}\n",
                    origin.addr
                ),
                &sockets,
            )
        };
        let drive = |port: u16, _: &Origin| {
            wait_until(Duration::from_secs(5), || sock_of(port).exists());
            let clients: Vec<_> = (0..6)
                .map(|_| {
                    std::thread::spawn(move || {
                        curl(&[&format!("http://127.0.0.1:{port}/slow/400")]).0
                    })
                })
                .collect();
            let codes: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
            let row = stat_row(&ask(&sock_of(port), "show stat\n"), "be", "srv");
            let be = stat_row(&ask(&sock_of(port), "show stat\n"), "be", "BACKEND");
            (
                codes,
                // The waiting requests are counted on the backend (HAProxy queues them there
                // when no server has room; hapee on the server too).
                [&row["smax"], &row["slim"], &be["qmax"], &be["slim"]].map(|v| v.clone()),
            )
        };
        both_with(|| Origin::start("a"), cfg, drive)
    };
    let ok = vec![200u16; 6];
    // Load under 30 of `fullconn 100`: the limit is max(2, load * 10 / 100) = 2.
    let (ours, theirs) = run("maxconn 10 minconn 2");
    assert_eq!(
        ours,
        (ok.clone(), ["2", "10", "4", "100"].map(String::from))
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
    let (ours, theirs) = run("maxconn 10");
    assert_eq!(ours, (ok, ["6", "10", "0", "100"].map(String::from)));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// `observe layer7` with `on-error mark-down`: `error-limit` consecutive 5xx responses mark
/// the server down at once, reported as HAProxy's health analysis (`HANA`) in `show stat`.
#[test]
fn observed_errors_mark_the_server_down() {
    let sockets = RefCell::new(Vec::new());
    let cfg = |port: u16, origin: &Origin| {
        config(
            port,
            &format!(
                "    option httpchk GET /health\n    server srv {} check inter 30s observe layer7 on-error mark-down error-limit 3\n",
                origin.addr
            ),
            &sockets,
        )
    };
    let drive = |port: u16, _: &Origin| {
        wait_until(Duration::from_secs(5), || sock_of(port).exists());
        let url = format!("http://127.0.0.1:{port}/status/500");
        let codes: Vec<u16> = (0..2).map(|_| curl(&[&url]).0).collect();
        let columns = |row: &std::collections::HashMap<String, String>| {
            ["status", "check_status", "last_chk", "hanafail", "chkfail"].map(|c| row[c].clone())
        };
        // Two errors are under the limit: nothing happened yet (the first check, 30 s away at
        // most, may have run on haproxy's side: only the health analysis counter is compared).
        let before =
            columns(&stat_row(&ask(&sock_of(port), "show stat\n"), "be", "srv"))[3].clone();
        let third = curl(&[&url]).0;
        wait_until(Duration::from_secs(5), || {
            ramp_columns(port, "srv")[0].starts_with("DOWN")
        });
        let after = columns(&stat_row(&ask(&sock_of(port), "show stat\n"), "be", "srv"));
        (codes, third, before, after)
    };
    let (ours, theirs) = both_with(|| Origin::start("a"), cfg, drive);
    let s = |v: [&str; 5]| v.map(String::from);
    assert_eq!(ours.0, [500, 500]);
    assert_eq!(ours.1, 500);
    assert_eq!(ours.2, "0");
    assert_eq!(
        ours.3,
        s([
            "DOWN",
            "HANA",
            // HAProxy's text, "Detected 3 consecutive errors, last one was: Wrong http
            // response", quoted in the CSV, which `stat_row` cuts at its comma.
            "\"Detected 3 consecutive errors",
            "1",
            "1"
        ])
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// An HTTP server that answers each request with the address its connection came from.
fn peer_echo() -> std::net::SocketAddr {
    echo_peer(|peer| peer.ip().to_string())
}

/// An HTTP server that answers each request with `show` of its connection's peer address.
fn echo_peer(show: fn(std::net::SocketAddr) -> String) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = conn.read(&mut buf);
                let peer = show(conn.peer_addr().unwrap());
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{peer}",
                    peer.len()
                );
            });
        }
    });
    addr
}

/// `source <addr>`: the server's connections leave from that address; a backend's `source`
/// applies to its servers without one.
#[test]
fn source_sets_the_local_address_of_server_connections() {
    let sockets = RefCell::new(Vec::new());
    let cfg = |port: u16, echo: &std::net::SocketAddr| {
        config(
            port,
            &format!(
                "    source 127.0.0.3\n    use-server own if {{ path /own }}\n    server own {echo} source 127.0.0.2\n    server inherited {echo} weight 0\n    use-server inherited if {{ path /inherited }}\n"
            ),
            &sockets,
        )
    };
    let drive = |port: u16, _: &std::net::SocketAddr| {
        ["own", "inherited"].map(|p| curl(&[&format!("http://127.0.0.1:{port}/{p}")]).1)
    };
    let (ours, theirs) = both_with(peer_echo, cfg, drive);
    assert_eq!(ours, ["127.0.0.2", "127.0.0.3"]);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// `source <addr>:<low>-<high>`: each server connection leaves from a port of the range.
#[test]
fn source_with_a_port_range_binds_ports_of_that_range() {
    let sockets = RefCell::new(Vec::new());
    let cfg = |port: u16, echo: &std::net::SocketAddr| {
        config(
            port,
            &format!("    server s {echo} source 127.0.0.5:20150-20181\n"),
            &sockets,
        )
    };
    let drive = |port: u16, _: &std::net::SocketAddr| {
        (0..6)
            .map(|_| curl(&[&format!("http://127.0.0.1:{port}/")]).1)
            .collect::<Vec<_>>()
    };
    let in_range = |answers: &[String]| {
        answers.iter().all(|a| {
            a.strip_prefix("127.0.0.5:")
                .and_then(|p| p.parse::<u16>().ok())
                .is_some_and(|p| (20150..=20181).contains(&p))
        })
    };
    let (ours, theirs) = both_with(|| echo_peer(|peer| peer.to_string()), cfg, drive);
    assert_eq!(ours.len(), 6);
    assert!(in_range(&ours), "{ours:?}");
    if let Some(theirs) = theirs {
        assert!(in_range(&theirs), "{theirs:?}");
    }
}
