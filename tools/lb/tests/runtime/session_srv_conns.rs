//! `max-session-srv-conns`, side by side with Debian's haproxy: a client session keeps at
//! most that many idle server connections of its own (here under `http-reuse never`), of
//! HTTP/1 and HTTP/2 servers alike; one that goes idle past it closes, and the session's
//! next request to that server opens a new one.

use super::h2_pools::Session;
use super::h2_servers::H2Origin;
use super::harness::{free_port, wait_until, Haproxy, Origin, Proxy};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// An origin kept running, its address and the count of the connections it accepted.
type Started = (Box<dyn std::any::Any>, SocketAddr, Box<dyn Fn() -> usize>);

fn h1_origin() -> Started {
    let o = Origin::start("o");
    let (addr, conns) = (o.addr, o.conns.clone());
    (
        Box::new(o),
        addr,
        Box::new(move || conns.load(Ordering::SeqCst)),
    )
}

fn h2_origin() -> Started {
    let o = H2Origin::start();
    let (addr, conns) = (o.addr, o.conns.clone());
    (
        Box::new(o),
        addr,
        Box::new(move || conns.load(Ordering::SeqCst)),
    )
}

fn config(port: u16, frontend: &str, servers: [SocketAddr; 2], server: &str) -> String {
    let [a, b] = servers;
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    http-reuse never
frontend fe
    bind 127.0.0.1:{port}
    {frontend}
    use_backend b if {{ path_beg /b }}
    default_backend a
backend a
    server a {a} {server}
backend b
    server b {b} {server}
"
    )
}

/// One client session's six requests alternating between backends `a` and `b` (one server
/// each), through `start`'s proxy: the connections each server accepted.
fn alternating(
    start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>,
    origin: &dyn Fn() -> Started,
    frontend: &str,
    server: &str,
) -> [usize; 2] {
    let (_a, a, a_conns) = origin();
    let (_b, b, b_conns) = origin();
    let port = free_port();
    let _proxy = start(&config(port, frontend, [a, b], server), port);
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let mut session = Session::open(port);
    for path in ["/a", "/b", "/a", "/b", "/a", "/b"] {
        session.send(path);
        let (status, body) = session.read();
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{path}: {status}\n{body}"
        );
    }
    std::thread::sleep(Duration::from_millis(150));
    [a_conns(), b_conns()]
}

/// hapee's counts, checked against haproxy's when it is installed.
fn both(origin: &dyn Fn() -> Started, frontend: &str, server: &str) -> [usize; 2] {
    let mine = alternating(
        &|cfg, port| Box::new(Proxy::start(cfg, port)),
        origin,
        frontend,
        server,
    );
    if Haproxy::installed() {
        let theirs = alternating(
            &|cfg, port| Box::new(Haproxy::start(cfg, port)),
            origin,
            frontend,
            server,
        );
        assert_eq!(mine, theirs, "haproxy differs ({frontend:?}, {server:?})");
    }
    mine
}

#[test]
fn a_session_keeps_at_most_max_session_srv_conns_idle_http1_connections() {
    // The default (5): one connection to each server, both kept between requests.
    assert_eq!(both(&h1_origin, "", ""), [1, 1]);
    // One: `a`'s stays idle with the session, so each of `b`'s closes as its response ends.
    assert_eq!(both(&h1_origin, "max-session-srv-conns 1", ""), [1, 3]);
    // None: every connection closes after its response.
    assert_eq!(both(&h1_origin, "max-session-srv-conns 0", ""), [3, 3]);
}

#[test]
fn a_session_keeps_at_most_max_session_srv_conns_idle_h2_connections() {
    assert_eq!(both(&h2_origin, "", "proto h2"), [1, 1]);
    assert_eq!(
        both(&h2_origin, "max-session-srv-conns 1", "proto h2"),
        [1, 3]
    );
}
