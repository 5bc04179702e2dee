//! Idle server connections across threads: with `nbthread 2` and one frontend per thread
//! (`bind … thread N`), a connection the first thread left idle serves the second thread's
//! request (HAProxy's takeover), unless `tune.idle-pool.shared off` or the server's
//! `pool-low-conn` says otherwise. The origin counts the connections it accepts; `show servers
//! conn` shows where the idle connections sit. Each case runs beside Debian's haproxy.

use super::harness::{both_sides, curl, wait_until, Origin};
use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Two frontends, one per thread, in front of one server; `global` and `server` end the
/// global section and the server line.
pub(super) fn config(
    ports: [u16; 3],
    origin: std::net::SocketAddr,
    global: &str,
    server: &str,
) -> String {
    let [one, two, cli] = ports;
    format!(
        "global
    nbthread 2
    stats socket ipv4@127.0.0.1:{cli} level admin
{global}
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    http-reuse always
frontend one
    bind 127.0.0.1:{one} thread 1
    default_backend app
frontend two
    bind 127.0.0.1:{two} thread 2
    default_backend app
backend app
    server s {origin} {server}
"
    )
}

/// One command on the CLI's TCP socket.
pub(super) fn ask(cli: u16, command: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", cli)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The idle columns of the server's `show servers conn` line: unsafe_nb safe_nb idle_lim
/// idle_cur idle_per_thr…
pub(super) fn idle_columns(cli: u16) -> String {
    let out = ask(cli, "show servers conn app");
    let line = out
        .lines()
        .find(|l| l.starts_with("app/s "))
        .unwrap_or_else(|| panic!("no server line in {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    words[9..].join(" ")
}

/// What one proxy does with requests going through threads 1, 2, 1, 2, one client
/// connection each: connections the origin accepted, then the idle columns after each
/// request.
fn drive(ports: [u16; 3], origin: &Origin) -> (usize, Vec<String>) {
    let mut seen = Vec::new();
    for port in [ports[0], ports[1], ports[0], ports[1]] {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!(status, 200, "{body}");
        // The connection is back in its pool once the response is over.
        let settled = wait_until(Duration::from_secs(2), || {
            !idle_columns(ports[2]).ends_with(" 0 0 0")
        });
        assert!(settled, "{}", idle_columns(ports[2]));
        seen.push(idle_columns(ports[2]));
    }
    (origin.conns.load(Ordering::SeqCst), seen)
}

/// What hapee does, then haproxy when it is installed, on the same configuration, each with
/// an origin of its own.
fn both(global: &str, server: &str) -> Runs {
    let ports = |first: u16| [first, first + 1, first + 2];
    both_sides(
        3,
        || Origin::start("o"),
        |port, origin| config(ports(port), origin.addr, global, server),
        |port, origin, _| {
            let ports = ports(port);
            assert!(wait_until(Duration::from_secs(5), || {
                std::net::TcpStream::connect(("127.0.0.1", ports[1])).is_ok()
            }));
            drive(ports, origin)
        },
    )
}

/// hapee's run, and haproxy's when it is installed.
type Runs = ((usize, Vec<String>), Option<(usize, Vec<String>)>);

#[test]
fn a_thread_takes_the_idle_connection_another_thread_left() {
    let runs = both("", "");
    let (conns, idle) = &runs.0;
    // One connection for all four requests, moving from thread to thread; it carried a
    // second request, so it is safe from then on.
    assert_eq!(*conns, 1, "{idle:?}");
    assert_eq!(
        idle,
        &[
            "1 0 -1 1 1 0",
            "0 1 -1 1 0 1",
            "0 1 -1 1 1 0",
            "0 1 -1 1 0 1"
        ]
    );
    if let Some(theirs) = &runs.1 {
        assert_eq!(&runs.0, theirs, "haproxy differs");
    }
}

#[test]
fn idle_pool_shared_off_keeps_each_thread_to_its_own_connections() {
    let runs = both("    tune.idle-pool.shared off", "");
    let (conns, idle) = &runs.0;
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(idle.last().unwrap(), "0 2 -1 2 1 1");
    if let Some(theirs) = &runs.1 {
        assert_eq!(&runs.0, theirs, "haproxy differs");
    }
}

#[test]
fn pool_low_conn_lets_a_thread_open_its_own_while_the_server_has_few_idle() {
    // With one idle connection (fewer than 2), thread 2 opens its own. Thread 1's, reused,
    // is then safe: thread 2's next first request (`http-reuse always`) prefers it to its
    // own unproven one, and takes it over.
    let runs = both("", "pool-low-conn 2");
    let (conns, idle) = &runs.0;
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(idle[1], "2 0 -1 2 1 1");
    assert_eq!(idle[3], "1 1 -1 2 0 2");
    if let Some(theirs) = &runs.1 {
        assert_eq!(&runs.0, theirs, "haproxy differs");
    }
    // With `pool-max-conn 1` the server keeps one idle connection at most: thread 2's
    // response finds the pool full and its new connection closes.
    let runs = both("", "pool-low-conn 2 pool-max-conn 1");
    let (conns, idle) = &runs.0;
    assert_eq!(idle[0], "1 0 1 1 1 0");
    assert_eq!(*conns, 3, "{idle:?}");
    if let Some(theirs) = &runs.1 {
        assert_eq!(&runs.0, theirs, "haproxy differs");
    }
}
