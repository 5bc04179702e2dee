//! How server connections are kept and shared, side by side with Debian's haproxy: an
//! HTTP/2 server connection left idle by one thread serves the other thread of its group
//! (and, with `http-reuse safe`, a session's first request opens its own), and after a burst
//! the idle connections are purged down to what the server was seen to need, every
//! `pool-purge-delay`. A busy HTTP/2 connection is joined by other client sessions of its
//! thread as `http-reuse` allows (`always`: at once; `safe`: never, it is its session's;
//! `aggressive`: once it went idle and was taken again). The origins count the connections
//! they accept; `show servers conn` shows the pool's counts.

use super::h2_servers::{H2Origin, OriginCounts};
use super::harness::{connect, curl, free_port, wait_until, Haproxy, Origin, Proxy};
use super::idle_pools::{ask, config, idle_columns};
use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Requests through threads 1, 2, 1, 2, one client connection each: the connections the
/// origin accepted, then the idle columns after each request.
fn drive(ports: [u16; 3], conns: &OriginCounts) -> (usize, Vec<String>) {
    let mut seen = Vec::new();
    for port in [ports[0], ports[1], ports[0], ports[1]] {
        let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("version=HTTP/2.0"), "{body}");
        // The connection is idle once its stream is over (unless it is used up).
        seen.push(idle_after(ports[2]));
    }
    (conns.load(Ordering::SeqCst), seen)
}

/// hapee and, when installed, haproxy in front of an HTTP/2 origin of their own, with
/// `http-reuse` set to `reuse` and `server` ending the server line.
fn both_h2(global: &str, reuse: &str, server: &str) -> Vec<(usize, Vec<String>)> {
    both_h2_driven(global, reuse, server, &drive)
}

/// As [`both_h2`], with the clients' part played by `drive` (given the two frontends' and
/// the CLI's ports and the origin's connection count).
pub(super) fn both_h2_driven<T>(
    global: &str,
    reuse: &str,
    server: &str,
    drive: &dyn Fn([u16; 3], &OriginCounts) -> T,
) -> Vec<T> {
    let server = format!("proto h2 {server}");
    both_driven(&H2Origin::start, global, reuse, &server, drive)
}

/// hapee and, when installed, haproxy in front of an origin of their own made by `origin`,
/// with `http-reuse` set to `reuse` and `server` ending the server line; the clients' part
/// played by `drive`.
pub(super) fn both_driven<T>(
    origin: &dyn Fn() -> H2Origin,
    global: &str,
    reuse: &str,
    server: &str,
    drive: &dyn Fn([u16; 3], &OriginCounts) -> T,
) -> Vec<T> {
    let mut results = Vec::new();
    let run = |start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>| {
        let origin = origin();
        let ports = [free_port(), free_port(), free_port()];
        let cfg = config(ports, origin.addr, global, server)
            .replace("http-reuse always", &format!("http-reuse {reuse}"));
        let _proxy = start(&cfg, ports[0]);
        assert!(wait_until(Duration::from_secs(5), || {
            std::net::TcpStream::connect(("127.0.0.1", ports[1])).is_ok()
        }));
        drive(ports, &origin.conns)
    };
    results.push(run(&|cfg, port| Box::new(Proxy::start(cfg, port))));
    if Haproxy::installed() {
        results.push(run(&|cfg, port| Box::new(Haproxy::start(cfg, port))));
    }
    results
}

#[test]
fn an_idle_h2_connection_serves_the_other_thread_of_its_group() {
    let runs = both_h2("", "always", "");
    let (conns, idle) = &runs[0];
    // One connection for the four requests: idle (and safe) between them, it goes to
    // whichever thread needs it.
    assert_eq!(*conns, 1, "{idle:?}");
    assert_eq!(
        idle,
        &[
            "0 1 -1 1 1 0",
            "0 1 -1 1 0 1",
            "0 1 -1 1 1 0",
            "0 1 -1 1 0 1"
        ]
    );
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

#[test]
fn without_shared_pools_or_under_http_reuse_safe_h2_connections_stay_apart() {
    // Each thread keeps to its own connection.
    let runs = both_h2("    tune.idle-pool.shared off", "always", "");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(idle.last().unwrap(), "0 2 -1 2 1 1");
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
    // `http-reuse safe`: a session's first request takes no idle connection; each thread
    // keeps its first one, and a later one above what the server needs closes.
    let runs = both_h2("", "safe", "");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 4, "{idle:?}");
    assert_eq!(idle.last().unwrap(), "0 2 -1 2 1 1");
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

#[test]
fn max_reuse_bounds_the_streams_an_h2_connection_carries_after_its_first() {
    // `max-reuse 1`: two streams each, the second taken on the other thread; a used-up
    // connection is not kept idle.
    let runs = both_h2("", "always", "max-reuse 1");
    let (conns, idle) = &runs[0];
    assert_eq!(*conns, 2, "{idle:?}");
    assert_eq!(
        idle,
        &[
            "0 1 -1 1 1 0",
            "0 0 -1 0 0 0",
            "0 1 -1 1 1 0",
            "0 0 -1 0 0 0"
        ]
    );
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs");
    }
}

/// The idle columns once the server's connections have settled, the clients having read their
/// answers: the proxy puts a connection back in its pool (or closes it) just after its stream
/// ends, which a loaded machine may delay past the client's read, and one connection of two
/// may settle before the other. So the columns are read until they stay the same for 300 ms
/// (for 1 s when no connection is idle, which is also how a busy one reads), up to 20 s.
pub(super) fn idle_after(cli: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = idle_columns(cli);
    let mut since = Instant::now();
    loop {
        let still = since.elapsed();
        let settled = if last.ends_with(" 0 0 0") {
            still >= Duration::from_secs(1)
        } else {
            still >= Duration::from_millis(300)
        };
        if settled || Instant::now() > deadline {
            return last;
        }
        std::thread::sleep(Duration::from_millis(20));
        let now = idle_columns(cli);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
}

/// The pool columns of `show servers conn` from `used_cur` on.
pub(super) fn pool_columns(cli: u16) -> String {
    let out = ask(cli, "show servers conn app");
    let line = out
        .lines()
        .find(|l| l.starts_with("app/s "))
        .unwrap_or_else(|| panic!("no server line in {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    words[6..].join(" ")
}

/// Six requests at once on one thread, then nothing: the pool columns half way through each
/// of the following purge periods (`pool-purge-delay 1s`), and the connections the origin
/// accepted.
fn burst_then_idle(start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>) -> (usize, Vec<String>) {
    let origin = Origin::start("o");
    let ports = [free_port(), free_port(), free_port()];
    let cfg = config(ports, origin.addr, "", "pool-purge-delay 1s")
        .replace("nbthread 2", "nbthread 1")
        .replace(" thread 2", " thread 1");
    let _proxy = start(&cfg, ports[0]);
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.1", ports[0])).is_ok()
    }));
    let port = ports[0];
    let clients: Vec<_> = (0..6)
        .map(|_| std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/slow/600")])))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap().0, 200);
    }
    let released = Instant::now();
    let mut seen = Vec::new();
    for period in 0..6 {
        let at = released + Duration::from_millis(500 + 1000 * period);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        seen.push(pool_columns(ports[2]));
    }
    (origin.conns.load(Ordering::SeqCst), seen)
}

#[test]
fn after_a_burst_idle_connections_are_purged_down_to_the_estimated_need() {
    let (conns, seen) = burst_then_idle(&|cfg, port| Box::new(Proxy::start(cfg, port)));
    assert_eq!(conns, 6, "{seen:?}");
    // used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr: the
    // estimate holds one period at the peak, then halves; from the third purge half the
    // excess goes (plus one).
    assert_eq!(
        seen,
        [
            "0 6 6 6 0 -1 6 6",
            "0 0 6 6 0 -1 6 6",
            "0 0 3 6 0 -1 6 6",
            "0 0 1 3 0 -1 3 3",
            "0 0 0 1 0 -1 1 1",
            "0 0 0 0 0 -1 0 0",
        ]
    );
    if Haproxy::installed() {
        let theirs = burst_then_idle(&|cfg, port| Box::new(Haproxy::start(cfg, port)));
        assert_eq!((conns, seen), theirs, "haproxy differs");
    }
}

/// A client session: one HTTP/1.1 connection kept alive, its requests sent and read apart so
/// that two sessions' requests overlap.
pub(super) struct Session(std::net::TcpStream);

impl Session {
    pub(super) fn open(port: u16) -> Session {
        let s = connect(("127.0.0.1", port));
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Session(s)
    }

    pub(super) fn send(&mut self, path: &str) {
        let head = format!("GET {path} HTTP/1.1\r\nHost: app\r\n\r\n");
        self.0.write_all(head.as_bytes()).unwrap();
    }

    /// The response to the request sent: its status line and body.
    pub(super) fn read(&mut self) -> (String, String) {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") {
            assert_eq!(self.0.read(&mut byte).unwrap(), 1, "closed mid-head");
            got.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&got).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or_else(|| panic!("no content-length in {head}"));
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).unwrap();
        let status = head.lines().next().unwrap_or_default().to_string();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub(super) fn expect_ok(&mut self) {
        let (status, body) = self.read();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
        assert!(body.contains("version=HTTP/2.0"), "{body}");
    }
}

/// Two client sessions on thread 1 whose requests overlap, twice: session A asks for
/// `/slow/600` and session B, 200 ms later, for `/slow/200`; then A's second request, and
/// 200 ms into it a third session's first. After each round: the connections the origin
/// accepted so far and the idle columns of `show servers conn`.
fn overlapping_sessions(ports: [u16; 3], conns: &OriginCounts) -> Vec<(usize, String)> {
    let mut seen = Vec::new();
    let mut a = Session::open(ports[0]);
    let mut late = Session::open(ports[0]);
    for _ in 0..2 {
        // B's request goes once the origin has A's: A's connection is then established and
        // busy for 600 ms (a fixed pause let a loaded machine send B's first).
        let requested = conns.requests.load(Ordering::SeqCst);
        a.send("/slow/600");
        let busy = wait_until(Duration::from_secs(20), || {
            conns.requests.load(Ordering::SeqCst) > requested
        });
        assert!(busy, "the origin never got A's request");
        late.send("/slow/200");
        late.expect_ok();
        a.expect_ok();
        // Both connections' streams are over once each response is: they settle idle.
        seen.push((conns.load(Ordering::SeqCst), idle_after(ports[2])));
        late = Session::open(ports[0]);
    }
    seen
}

/// [`overlapping_sessions`] under `http-reuse <reuse>`, side by side with haproxy.
fn overlap_under(reuse: &str) -> Vec<(usize, String)> {
    let runs = both_h2_driven("", reuse, "", &overlapping_sessions);
    if let Some(theirs) = runs.get(1) {
        assert_eq!(&runs[0], theirs, "haproxy differs under {reuse}");
    }
    runs.into_iter().next().unwrap()
}

pub(super) fn round(conns: usize, idle: &str) -> (usize, String) {
    (conns, idle.to_string())
}

#[test]
fn under_http_reuse_always_a_busy_h2_connection_serves_every_session_of_its_thread() {
    // B's first request joins A's busy connection; so does the third session's, on the
    // connection A's second request took from the idle ones.
    assert_eq!(
        overlap_under("always"),
        [round(1, "0 1 -1 1 1 0"), round(1, "0 1 -1 1 1 0")]
    );
}

#[test]
fn under_http_reuse_safe_a_busy_h2_connection_stays_with_its_session() {
    // A's connection is A's while busy: B opens its own. A's second request takes an idle
    // one, which is A's again while busy, so the third session opens a third.
    assert_eq!(
        overlap_under("safe"),
        [round(2, "0 2 -1 2 2 0"), round(3, "0 2 -1 2 2 0")]
    );
}

#[test]
fn under_http_reuse_aggressive_a_new_h2_connection_carries_its_opener_only() {
    // A's new connection carries only A's stream: B opens its own. Taken from the idle ones
    // by A's second request, a connection serves the thread: the third session joins it.
    assert_eq!(
        overlap_under("aggressive"),
        [round(2, "0 2 -1 2 2 0"), round(2, "0 2 -1 2 2 0")]
    );
}

/// One HTTP/2 client session on thread 1 with two overlapping streams: `/slow/600`, and
/// once the origin has that request, `/slow/200`. The connections the origin accepted and
/// the idle columns after.
pub(super) fn one_session_two_streams(ports: [u16; 3], conns: &OriginCounts) -> (usize, String) {
    one_session_streams(ports, conns, Second::OnceRequested)
}

/// When the second stream of [`one_session_streams`] is sent.
#[derive(Clone, Copy)]
pub(super) enum Second {
    /// Once the origin has the first request (its connection is established and busy).
    OnceRequested,
    /// Once the origin has accepted the first connection (it may still be being
    /// established).
    OnceConnected,
}

/// As [`one_session_two_streams`], the second stream sent when `second` says.
pub(super) fn one_session_streams(
    ports: [u16; 3],
    conns: &OriginCounts,
    second: Second,
) -> (usize, String) {
    use http_body_util::{BodyExt, Empty};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", ports[0]))
            .await
            .unwrap();
        let (send, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let get = |path: &'static str| {
            let mut send = send.clone();
            let uri = format!("http://127.0.0.1:{}{path}", ports[0]);
            async move {
                let req = hyper::Request::get(uri)
                    .body(Empty::<bytes::Bytes>::new())
                    .unwrap();
                let resp = send.send_request(req).await.unwrap();
                assert_eq!(resp.status(), 200);
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert!(String::from_utf8_lossy(&body).contains("version=HTTP/2.0"));
            }
        };
        // What the origin had counted before this session's first stream.
        let (requests, accepted) = (
            conns.requests.load(Ordering::SeqCst),
            conns.conns.load(Ordering::SeqCst),
        );
        let first = tokio::spawn(get("/slow/600"));
        let ready = || match second {
            Second::OnceRequested => conns.requests.load(Ordering::SeqCst) > requests,
            Second::OnceConnected => conns.conns.load(Ordering::SeqCst) > accepted,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !ready() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        get("/slow/200").await;
        first.await.unwrap();
    });
    (conns.load(Ordering::SeqCst), idle_after(ports[2]))
}

#[test]
fn the_streams_of_one_h2_client_share_a_connection_under_safe_but_not_aggressive() {
    let mut seen = Vec::new();
    for reuse in ["always", "safe", "aggressive"] {
        let runs = both_h2_driven("", reuse, "", &one_session_two_streams);
        if let Some(theirs) = runs.get(1) {
            assert_eq!(&runs[0], theirs, "haproxy differs under {reuse}");
        }
        seen.push(runs[0].clone());
    }
    // `safe`: the busy connection is the session's, and its second stream joins it;
    // `aggressive`: it is its first stream's only.
    assert_eq!(
        seen,
        [
            round(1, "0 1 -1 1 1 0"),
            round(1, "0 1 -1 1 1 0"),
            round(2, "0 2 -1 2 2 0")
        ]
    );
}
