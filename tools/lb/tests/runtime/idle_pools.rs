//! Idle server connections across threads: with `nbthread 2` and one frontend per thread
//! (`bind … thread N`), a connection the first thread left idle serves the second thread's
//! request (HAProxy's takeover), unless `tune.idle-pool.shared off` or the server's
//! `pool-low-conn` says otherwise. The origin counts the connections it accepts; `show servers
//! conn` shows where the idle connections sit. Each case runs beside Debian's haproxy.

use super::harness::{both_sides, curl, free_port, wait_until, Origin, Proxy};
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
        let settled = wait_until(Duration::from_secs(20), || {
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

/// The socket inodes of `/proc/net/tcp` lines (IPv4 on 127.0.0.1) whose local or remote
/// port is `port`, in TCP state `state` (hex: 01 established, 0A listening).
fn tcp_inodes(port: u16, remote: bool, state: &str) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let wanted = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let end = if remote { w[2] } else { w[1] };
            (end.ends_with(&wanted) && w[3] == state).then(|| w[9].to_string())
        })
        .collect()
}

/// The descriptors of `pid` holding socket `inode` (a listener is open under several).
fn fds_of(pid: u32, inode: &str) -> Vec<String> {
    let link = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy() == link))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The descriptors each epoll instance of `pid` watches, sorted (an instance open under
/// two descriptors, as mio's registry clone keeps it, shows once).
fn epoll_sets(pid: u32) -> Vec<Vec<String>> {
    let mut sets: Vec<Vec<String>> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("eventpoll"))
        })
        .map(|e| {
            let info = std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                e.file_name().to_string_lossy()
            ))
            .unwrap_or_default();
            let mut set: Vec<String> = info
                .lines()
                .filter_map(|l| l.strip_prefix("tfd:"))
                .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                .collect();
            set.sort();
            set
        })
        .collect();
    sets.sort();
    sets.dedup();
    sets
}

/// A connection thread 2 takes over from thread 1's pool moves to thread 2's poller (the one
/// watching thread 2's listener) and leaves thread 1's, so that its events wake thread 2 only:
/// a plain one, and a TLS one, whose rustls state stays around a duplicate of its socket.
fn taken_over_connection_moves_to_the_new_threads_poller(ssl: bool) {
    let pki = crate::tls::Pki::with_server_certs(if ssl { "takeover-tls" } else { "takeover" });
    let [one, two, cli, origin] = [free_port(), free_port(), free_port(), free_port()];
    let (bind_ssl, server_ssl) = if ssl {
        (
            format!("ssl crt {}", pki.path("default.pem")),
            "ssl verify none",
        )
    } else {
        (String::new(), "")
    };
    let cfg = format!(
        "{}frontend origin
    bind 127.0.0.1:{origin} {bind_ssl}
    http-request return status 200 content-type text/plain string here
",
        config(
            [one, two, cli],
            format!("127.0.0.1:{origin}").parse().unwrap(),
            "",
            server_ssl
        )
    );
    let proxy = Proxy::start(&cfg, one);
    let pid = proxy.child.id();
    for (port, idle) in [(one, " 1 0"), (two, " 0 1")] {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!((status, body.as_str()), (200, "here"));
        let settled = wait_until(Duration::from_secs(20), || {
            idle_columns(cli).ends_with(idle)
        });
        assert!(settled, "{}", idle_columns(cli));
    }
    let conns = tcp_inodes(origin, true, "01");
    assert_eq!(conns.len(), 1, "one connection to the origin: {conns:?}");
    let conn = fds_of(pid, &conns[0]);
    assert_eq!(
        conn.len(),
        1,
        "the server connection's descriptors: {conn:?}"
    );
    let conn = &conn[0];
    let listener = fds_of(pid, &tcp_inodes(two, false, "0A")[0]);
    let watching: Vec<Vec<String>> = epoll_sets(pid)
        .into_iter()
        .filter(|set| set.contains(conn))
        .collect();
    assert_eq!(
        watching.len(),
        1,
        "one poller watches fd {conn}: {watching:?}"
    );
    assert!(
        listener.iter().any(|l| watching[0].contains(l)),
        "fd {conn} is not watched with thread 2's listener ({listener:?}): {watching:?}"
    );
}

#[test]
fn a_plain_connection_taken_over_moves_to_the_new_threads_poller() {
    taken_over_connection_moves_to_the_new_threads_poller(false);
}

#[test]
fn a_tls_connection_taken_over_moves_to_the_new_threads_poller() {
    taken_over_connection_moves_to_the_new_threads_poller(true);
}

/// The context switches each worker thread of `pid` made so far (they each sleep in the
/// poller once per wake-up).
fn worker_wakeups(pid: u32) -> Vec<u64> {
    let mut counts = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("hapee-worker") {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let voluntary = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        counts.push(voluntary);
    }
    counts
}

#[test]
fn idle_workers_with_no_server_connection_sleep() {
    // The pool's purge looked at the servers ten times a second even with nothing to purge:
    // each worker woke about 40 times in those 2 s. Now it sleeps until a connection is pooled.
    let [one, two, cli] = [free_port(), free_port(), free_port()];
    let cfg = config([one, two, cli], "127.0.0.1:9".parse().unwrap(), "", "");
    let proxy = Proxy::start(&cfg, one);
    let pid = proxy.child.id();
    std::thread::sleep(Duration::from_millis(500));
    let before = worker_wakeups(pid);
    std::thread::sleep(Duration::from_secs(2));
    let after = worker_wakeups(pid);
    assert_eq!(before.len(), 2, "two workers: {before:?}");
    for (b, a) in before.iter().zip(&after) {
        assert!(a - b < 8, "an idle worker woke {} times in 2 s", a - b);
    }
}
