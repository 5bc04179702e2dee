//! Socket settings of proxies, `bind` lines and servers, read from the proxy's own sockets
//! side by side with Debian's haproxy: the accept queue's length (`backlog`, a line's
//! `maxconn`, the frontend's), IPv6 listeners that take IPv4 too unless `v6only`, `transparent`,
//! the keep-alive probes' timing (`clitcpka-*`, `srvtcpka-*`), delayed acknowledgements
//! (`option tcp-smart-accept`), the server's `tcp-ut` (and `tfo`), a line's connection limit and
//! `rate-limit sessions`.
//!
//! A socket's options are read from a copy of the proxy's descriptor (pidfd_getfd, which
//! the tests' root may do), since most of them show nowhere else.

use super::harness::*;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::Duration;

/// A copy of the socket of process `pid` whose (local, peer) addresses satisfy `wanted`.
fn socket_of(pid: u32, wanted: impl Fn(SocketAddr, Option<SocketAddr>) -> bool) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if pidfd < 0 {
        return None;
    }
    // SAFETY: the descriptor was just returned to this process, which owns it alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    for entry in entries.flatten() {
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        if !target.to_string_lossy().starts_with("socket:") {
            continue;
        }
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: pidfd_getfd takes a pidfd, a descriptor number of that process and flags,
        // and returns a new descriptor of this process or -1.
        let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
        if copy < 0 {
            continue;
        }
        // SAFETY: as above, a fresh descriptor owned by this process alone.
        let copy = unsafe { OwnedFd::from_raw_fd(copy as i32) };
        let sock = socket2::SockRef::from(&copy);
        let local = sock.local_addr().ok().and_then(|a| a.as_socket());
        let peer = sock.peer_addr().ok().and_then(|a| a.as_socket());
        if local.is_some_and(|l| wanted(l, peer)) {
            return Some(copy);
        }
    }
    None
}

/// An integer socket option of `fd`.
fn int_option(fd: &OwnedFd, level: libc::c_int, name: libc::c_int) -> Option<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` live for the call and `len` is `value`'s size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_mut(&mut value).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

/// The TCP-level option `name` of the socket of `pid` listening on `port`.
pub(crate) fn listener_option(
    pid: u32,
    port: u16,
    level: libc::c_int,
    name: libc::c_int,
) -> Option<i32> {
    let fd = socket_of(pid, |l, peer| l.port() == port && peer.is_none())?;
    int_option(&fd, level, name)
}

/// The accept queue's length of the socket listening on `port`: `ss`'s Send-Q column.
fn listen_backlog(port: u16) -> String {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2).unwrap_or("").to_string()
}

/// `backlog` in a frontend, a line's `maxconn` and a frontend's `maxconn` each give the
/// accept queue its length, in that order, when the line sets no `backlog`.
#[test]
fn the_accept_queue_follows_backlog_then_maxconn() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend queued
    backlog 55
    bind 127.0.0.1:{port} maxconn 66
    http-request return status 200
frontend line
    bind 127.0.0.1:{} maxconn 33
    http-request return status 200
frontend whole
    maxconn 44
    bind 127.0.0.1:{}
    http-request return status 200
",
            port + 1,
            port + 2
        )
    };
    let (mine, theirs) = both_reading(3, cfg, |port, _| {
        (0..3).map(|i| listen_backlog(port + i)).collect::<Vec<_>>()
    });
    assert_eq!(mine, ["55", "33", "44"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The status of a GET to `host:port` (0: no answer).
fn status_at(host: &str, port: u16) -> u16 {
    curl(&["--max-time", "3", &format!("http://{host}:{port}/")]).0
}

/// An IPv6 listener takes IPv4 connections as the system says (`net.ipv6.bindv6only`, off
/// by default), unless `v6only`; `v4v6` asks for them whatever the system says.
#[test]
fn ipv6_listeners_take_ipv4_unless_v6only() {
    let system_v6only =
        std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|v| v.trim() == "1");
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend probe
    bind 127.0.0.1:{port}
    http-request return status 200
frontend dual
    bind :::{}
    http-request return status 200
frontend six
    bind :::{} v6only
    http-request return status 200
frontend both
    bind :::{} v4v6
    http-request return status 200
",
            port + 1,
            port + 2,
            port + 3
        )
    };
    let (mine, theirs) = both_reading(4, cfg, |port, _| {
        (
            [1, 2, 3].map(|i| status_at("127.0.0.1", port + i)),
            [1, 2, 3].map(|i| status_at("[::1]", port + i)),
        )
    });
    let dual = if system_v6only { 0 } else { 200 };
    assert_eq!(mine, ([dual, 0, 200], [200, 200, 200]));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `transparent` makes the listening socket accept for foreign addresses (IP_TRANSPARENT).
#[test]
fn transparent_listeners_are_made_so() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend foreign
    bind 127.0.0.1:{port} transparent
    http-request return status 200
frontend plain
    bind 127.0.0.1:{}
    http-request return status 200
",
            port + 1
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, side| {
        let at = |p| listener_option(side.pid(), p, libc::SOL_IP, libc::IP_TRANSPARENT);
        (status_at("127.0.0.1", port), at(port), at(port + 1))
    });
    assert_eq!(mine, (200, Some(1), Some(0)));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `option tcp-smart-accept`: on by default in HTTP mode, off in TCP mode, and as said
/// otherwise; it turns quick acknowledgements off on the listening socket.
#[test]
fn tcp_smart_accept_delays_acknowledgements_on_http_listeners() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend http
    bind 127.0.0.1:{port}
    http-request return status 200
frontend quick
    no option tcp-smart-accept
    bind 127.0.0.1:{}
    http-request return status 200
frontend tcp
    mode tcp
    bind 127.0.0.1:{}
    default_backend nowhere
frontend tcp_smart
    mode tcp
    option tcp-smart-accept
    bind 127.0.0.1:{}
    default_backend nowhere
backend nowhere
    mode tcp
    server s 127.0.0.1:9
",
            port + 1,
            port + 2,
            port + 3
        )
    };
    let (mine, theirs) = both_reading(4, cfg, |port, side| {
        (0..4)
            .map(|i| listener_option(side.pid(), port + i, libc::IPPROTO_TCP, libc::TCP_QUICKACK))
            .collect::<Vec<_>>()
    });
    // TCP_QUICKACK reads 0 once turned off.
    assert_eq!(mine, [Some(0), Some(1), Some(1), Some(0)]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The keep-alive probes' count, idle time and interval of `fd`.
fn keep_alive_of(fd: &OwnedFd) -> [Option<i32>; 4] {
    [
        int_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        int_option(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT),
        int_option(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        int_option(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
    ]
}

/// `clitcpka-*` and `srvtcpka-*` time the probes of `option clitcpka`/`srvtcpka` on client
/// and server connections; a server connection also gets its server's `tcp-ut`, and not Fast
/// Open for all its `tfo` (HAProxy's condition for it never holds).
#[test]
fn keep_alive_timings_and_server_socket_options_reach_the_sockets() {
    let fixture = || Origin::start("o");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "{LOGGED_DEFAULTS}frontend probing
    option clitcpka
    clitcpka-cnt 4
    clitcpka-idle 30s
    clitcpka-intvl 7
    bind 127.0.0.1:{port}
    default_backend b
backend b
    option srvtcpka
    srvtcpka-cnt 5
    srvtcpka-idle 1m
    srvtcpka-intvl 9
    server s {} tcp-ut 3s tfo
",
            origin.addr
        )
    };
    let (mine, theirs) = both_sides(
        1,
        fixture,
        |port, origin| cfg(port, origin),
        |port, origin, side| {
            let mut client = connect(("127.0.0.1", port));
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut got = [0u8; 12];
            let _ = client.read_exact(&mut got);
            let me = client.local_addr().unwrap();
            let pid = side.pid();
            let client_side =
                socket_of(pid, |_, peer| peer == Some(me)).map(|fd| keep_alive_of(&fd));
            let server_fd = socket_of(pid, |_, peer| peer == Some(origin.addr));
            let server_side = server_fd.as_ref().map(|fd| {
                (
                    keep_alive_of(fd),
                    int_option(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT),
                    // TCP_FASTOPEN_CONNECT.
                    int_option(fd, libc::IPPROTO_TCP, 30),
                )
            });
            (
                String::from_utf8_lossy(&got).to_string(),
                client_side,
                server_side,
            )
        },
    );
    assert_eq!(
        mine,
        (
            "HTTP/1.1 200".to_string(),
            Some([Some(1), Some(4), Some(30), Some(7)]),
            Some(([Some(1), Some(5), Some(60), Some(9)], Some(3000), Some(0)))
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A line's `maxconn`: beyond it, a new connection waits in the accept queue until one of
/// the line's connections ends.
#[test]
fn a_lines_maxconn_holds_new_connections_in_the_queue() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend one
    timeout http-request 10s
    bind 127.0.0.1:{port} maxconn 1
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both(cfg, |port| {
        let first = connect(("127.0.0.1", port));
        // The first is the line's one connection before the second arrives.
        let taken = wait_until(Duration::from_secs(10), || accept_queue(port) == 0);
        assert!(taken, "the first connection was never accepted");
        let mut second = connect(("127.0.0.1", port));
        second
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        second
            .set_read_timeout(Some(Duration::from_millis(800)))
            .unwrap();
        let mut got = Vec::new();
        let early = second.read_to_end(&mut got).is_ok() || !got.is_empty();
        drop(first);
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = second.read_to_end(&mut got);
        (
            early,
            String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        )
    });
    assert_eq!(mine, (false, true));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `rate-limit sessions 1`: of three clients at once, the second second's ticks let at most
/// two in early (one per sampling second), and all are served in the end.
#[test]
fn rate_limit_sessions_spreads_new_sessions_over_seconds() {
    // Two threads: each takes its session of the second in one step after accepting, so that
    // both cannot take the same second's.
    let cfg = |port: u16| {
        format!(
            "global
    nbthread 2
{LOGGED_DEFAULTS}frontend slow
    rate-limit sessions 1
    bind 127.0.0.1:{port}
    http-request return status 200
"
        )
    };
    let (mine, theirs) = both(cfg, |port| {
        let clients: Vec<_> = (0..3)
            .map(|_| {
                let mut c = connect(("127.0.0.1", port));
                c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                c
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        let answered = |mut c: &std::net::TcpStream, wait: Duration| {
            c.set_read_timeout(Some(wait)).unwrap();
            let mut got = Vec::new();
            let _ = c.read_to_end(&mut got);
            String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200")
        };
        let early = clients
            .iter()
            .filter(|c| answered(c, Duration::from_millis(50)))
            .count();
        let late = clients
            .iter()
            .filter(|c| answered(c, Duration::from_secs(10)))
            .count();
        (early <= 2, early + late)
    });
    assert_eq!(mine, (true, 3));
    // haproxy serves them all too; how many it lets in early is not compared: it reads the
    // rate before accepting and counts the session afterwards (when the session is made), so
    // at two threads both may take the second's last session (all three were in early in
    // about one run in three of 2.6 and of 2.7).
    if let Some(theirs) = theirs {
        assert_eq!(theirs.1, mine.1);
    }
}

/// The global `noreuseport`: listening sockets are bound without SO_REUSEPORT (and with it
/// otherwise).
#[test]
fn noreuseport_binds_listeners_without_so_reuseport() {
    let cfg = |reuse: bool| {
        move |port: u16| {
            format!(
                "global
{}    log stdout format raw local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
",
                if reuse { "" } else { "    noreuseport\n" }
            )
        }
    };
    let read = |port: u16, side: &Side| {
        (
            status_at("127.0.0.1", port),
            listener_option(side.pid(), port, libc::SOL_SOCKET, libc::SO_REUSEPORT),
        )
    };
    let (without, theirs_without) = both_reading(1, cfg(false), read);
    let (with, theirs_with) = both_reading(1, cfg(true), read);
    assert_eq!((without, with), ((200, Some(0)), (200, Some(1))));
    if let (Some(a), Some(b)) = (theirs_without, theirs_with) {
        assert_eq!((a, b), (without, with));
    }
}
