//! `tune.fd.edge-triggered` (experimental): how the proxy's epoll watches a client
//! connection, read from `/proc/<pid>/fdinfo` while the connection is open. hapee's event
//! loop (tokio over mio) registers every socket edge-triggered, so `on` is what it does and
//! `off` cannot change that; the bytes served are the same either way. Side by side with
//! haproxy for `on`, which then watches client connections edge-triggered too.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// EPOLLET in the event mask `fdinfo` prints.
const EPOLLET: u32 = 1 << 31;

/// The proxy's socket of the connection from the client's local port `client` to `port`,
/// and the epoll event masks it is watched with (one per epoll instance watching it).
fn epoll_masks(pid: u32, port: u16, client: u16) -> Vec<u32> {
    let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap();
    let local = format!("0100007F:{port:04X}");
    let remote = format!("0100007F:{client:04X}");
    let inode = tcp
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.get(1) == Some(&local.as_str()) && w.get(2) == Some(&remote.as_str()))
        .and_then(|w| w.get(9).map(|i| i.to_string()))
        .unwrap_or_else(|| panic!("no connection {local} <- {remote}"));
    let target = format!("socket:[{inode}]");
    let mut fd_of_socket = None;
    let mut epolls = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        let link = std::fs::read_link(entry.path()).unwrap_or_default();
        let link = link.to_string_lossy();
        let fd = entry.file_name().to_string_lossy().to_string();
        if link == target {
            fd_of_socket = Some(fd);
        } else if link == "anon_inode:[eventpoll]" {
            epolls.push(fd);
        }
    }
    let fd = fd_of_socket.expect("the proxy's socket");
    let mut masks = Vec::new();
    for ep in epolls {
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{ep}")).unwrap_or_default();
        for line in info.lines().filter(|l| l.starts_with("tfd:")) {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.get(1) == Some(&fd.as_str()) {
                let mask = w.get(3).and_then(|m| u32::from_str_radix(m, 16).ok());
                masks.extend(mask);
            }
        }
    }
    masks
}

/// One request answered on a kept connection, then whether the proxy's epoll watches that
/// connection edge-triggered.
fn watched_edge_triggered(port: u16, pid: u32) -> (bool, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"ok") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let client = s.local_addr().unwrap().port();
    let masks = epoll_masks(pid, port, client);
    assert!(!masks.is_empty(), "the connection is watched");
    (
        got.starts_with(b"HTTP/1.1 200"),
        masks.iter().all(|m| m & EPOLLET != 0),
    )
}

fn config(port: u16, setting: &str) -> String {
    format!(
        "global\n    expose-experimental-directives\n    tune.fd.edge-triggered {setting}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request return status 200 content-type text/plain string ok\n"
    )
}

#[test]
fn client_connections_are_watched_edge_triggered() {
    let (on, theirs) = both_reading(
        1,
        |port| config(port, "on"),
        |port, side| watched_edge_triggered(port, side.pid()),
    );
    assert_eq!(on, (true, true));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, on);
    }
    // `off`: the same answer, and hapee's poller still edge-triggered.
    let port = free_port();
    let p = Proxy::start(&config(port, "off"), port);
    assert_eq!(watched_edge_triggered(port, p.child.id()), (true, true));
}
