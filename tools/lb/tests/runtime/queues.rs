//! `maxconn` queues and idle server connections over real sockets: requests waiting for a
//! server's slot are counted in `show stat` (`qcur`, `qmax`) and the logs (`%sq`/`%bq`), a
//! client that goes away while queued leaves the queue (logged `CQ`, no status, as HAProxy
//! logs it under `option abortonclose`), `timeout queue` answers 503 `sQ`, and idle server
//! connections the server closed are let go by the pool's purge.

use crate::api::ask;
use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// `qcur`, `qmax`, `scur` of the row `pxname,svname` of `show stat`.
pub(crate) fn queue_of(sock: &Path, row: &str) -> (u64, u64, u64) {
    let stat = ask(sock, "show stat\n");
    let line = stat
        .lines()
        .find(|l| l.starts_with(&format!("{row},")))
        .unwrap_or_else(|| panic!("no row {row} in {stat}"));
    let f: Vec<u64> = line
        .split(',')
        .skip(2)
        .take(3)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    (f[0], f[1], f[2])
}

fn send(port: u16, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    s
}

fn status(mut s: TcpStream) -> String {
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.get(9..12).unwrap_or("").to_string()
}

/// A proxy with a stats socket (returned) in front of `origin` through one server `s1` with
/// `maxconn 1` and `server_options`; `defaults` lines complete the defaults section. The
/// socket's folder comes first: bound in this order, it is dropped after the proxy.
fn queueing_proxy(
    name: &str,
    origin: &Origin,
    defaults: &str,
    server_options: &str,
) -> (Scratch, Proxy, u16, std::path::PathBuf) {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-{name}-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let cfg = format!(
        "global
    nbthread 1
    log stdout format raw local0
    stats socket {} level admin
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
{defaults}{}",
        sock.display(),
        fe_to_app(
            port,
            "",
            format!("{} maxconn 1{server_options}", origin.addr)
        )
    );
    let proxy = Proxy::start(&cfg, port);
    (dir, proxy, port, sock)
}

#[test]
fn queued_requests_are_counted_and_leave_the_queue_however_they_end() {
    let o = Origin::start("o");
    let (_dir, p, port, sock) = queueing_proxy(
        "queue",
        &o,
        "    option abortonclose\n    timeout queue 1500ms\n",
        "",
    );
    // One request holds the only slot for 1.2 s; two more wait behind it.
    let holder = send(port, "/slow/1200");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .2 == 1));
    let gone = send(port, "/gone");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .0 == 1));
    let waiting = send(port, "/waiting");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .0 == 2));
    assert_eq!(queue_of(&sock, "app,BACKEND").0, 2);
    // The first queued client goes away: its request leaves the queue at once.
    drop(gone);
    assert!(
        wait_until(Duration::from_secs(5), || queue_of(&sock, "app,s1").0 == 1),
        "{:?}",
        queue_of(&sock, "app,s1")
    );
    assert_eq!(status(holder), "200");
    assert_eq!(status(waiting), "200");
    assert_eq!(queue_of(&sock, "app,s1"), (0, 2, 0));
    assert_eq!(queue_of(&sock, "app,BACKEND").0, 0);
    let logs = p.stdout_when(|l| l.contains("GET /waiting") && l.contains("GET /gone"));
    let gone_line = logs.lines().find(|l| l.contains("GET /gone")).unwrap();
    assert!(gone_line.contains(" -1 0 - - CQ--"), "{gone_line}");
    // `%sq/%bq`: HAProxy holds it in the backend's queue (no server assigned), which served
    // only it while it waited (the one that went was not served).
    let waiting_line = logs.lines().find(|l| l.contains("GET /waiting")).unwrap();
    assert!(
        waiting_line.contains(" 200 ") && waiting_line.contains(" 0/1 \"GET"),
        "{waiting_line}"
    );
    // Past `timeout queue`: 503, `sQ`, and the queue empty again.
    let holder = send(port, "/slow/2500");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .2 == 1));
    assert_eq!(status(send(port, "/late")), "503");
    assert_eq!(queue_of(&sock, "app,s1").0, 0);
    assert_eq!(status(holder), "200");
    let logs = p.stdout_when(|l| l.contains("GET /late"));
    let late = logs.lines().find(|l| l.contains("GET /late")).unwrap();
    assert!(late.contains(" 503 ") && late.contains(" sQ--"), "{late}");
    // Still serving.
    assert_eq!(status(send(port, "/after")), "200");
}

/// `maxqueue`: once that many requests wait for the server's slots, the next one waits in the
/// backend's queue (counted there, not on the server), and is served when a slot frees, as
/// HAProxy serves it (checked side by side with Debian's haproxy: 200, `%sq` 0).
#[test]
fn maxqueue_sends_further_requests_to_the_backend_queue() {
    let o = Origin::start("o");
    let (_dir, p, port, sock) =
        queueing_proxy("maxqueue", &o, "    timeout queue 5s\n", " maxqueue 1");
    let holder = send(port, "/slow/1500");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .2 == 1));
    let waiting = send(port, "/waiting");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock, "app,s1"
    )
    .0 == 1));
    let over = send(port, "/over");
    assert!(wait_until(Duration::from_secs(5), || queue_of(
        &sock,
        "app,BACKEND"
    )
    .0 == 2));
    // The server's queue stays at its limit.
    assert_eq!(queue_of(&sock, "app,s1").0, 1);
    assert_eq!(status(holder), "200");
    assert_eq!(status(waiting), "200");
    assert_eq!(status(over), "200");
    let logs = p.stdout_when(|l| l.contains("GET /over"));
    let over = logs.lines().find(|l| l.contains("GET /over")).unwrap();
    assert!(over.contains(" 200 ") && over.contains(" 0/"), "{over}");
}

/// Descriptors the process holds open.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn idle_server_connections_closed_by_their_server_are_purged() {
    let mut o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "global
    nbthread 1
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s {}
",
        o.addr
    );
    let p = Proxy::start(&cfg, port);
    let pid = p.child.id();
    std::thread::sleep(Duration::from_millis(300));
    let before = fds(pid);
    // Three requests at once: three server connections, each kept idle afterwards.
    let clients: Vec<TcpStream> = (0..3)
        .map(|i| send(port, &format!("/slow/300?{i}")))
        .collect();
    for c in clients {
        assert_eq!(status(c), "200");
    }
    assert!(
        wait_until(Duration::from_secs(20), || fds(pid) == before + 3),
        "{before} -> {}",
        fds(pid)
    );
    // The server goes away: its side of each idle connection closes. The proxy lets go of
    // them within a purge period (5 s) instead of holding them in CLOSE-WAIT until reused.
    o.kill();
    assert!(
        wait_until(Duration::from_secs(8), || fds(pid) == before),
        "{before} -> {}",
        fds(pid)
    );
}

/// A backend counts its current streams from the moment one is assigned to it, queued ones
/// included, as HAProxy's `beconn` does: `be_conn` reads 3 while one request is served and two
/// wait for the server's single slot, and 0 once they are done; `show stat`'s backend `scur`
/// and `smax` follow it. Side by side with haproxy.
#[test]
fn be_conn_counts_the_backends_streams_queued_ones_included() {
    let (server, got) = super::abort_on_close::counting_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        Duration::from_millis(1500),
    );
    let cfg = move |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"%[be_conn(app)]\" if {{ path /conn }}
    default_backend app
backend app
    timeout queue 30s
    timeout server 30s
    server s1 {server} maxconn 1
"
        )
    };
    let drive = |port: u16| {
        let before = got.load(std::sync::atomic::Ordering::SeqCst);
        let url = format!("http://127.0.0.1:{port}/");
        let clients: Vec<_> = (0..3)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || curl(&[&url]).0)
            })
            .collect();
        let conn = || curl(&[&format!("http://127.0.0.1:{port}/conn")]).1;
        let mut seen = String::new();
        let busy = wait_until(Duration::from_secs(20), || {
            seen = conn();
            got.load(std::sync::atomic::Ordering::SeqCst) > before && seen == "3"
        });
        let codes: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        let idle = conn();
        (busy, seen, codes, idle)
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let mine = drive(port);
    assert_eq!(
        mine,
        (true, "3".to_string(), vec![200, 200, 200], "0".to_string()),
        "{}",
        p.stderr()
    );
    if let Some((theirs, _)) = with_haproxy(cfg, drive) {
        assert_eq!(theirs, mine);
    }
}
