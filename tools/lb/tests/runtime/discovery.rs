//! DNS service discovery against a real DNS server: dnsmasq on a loopback port serves SRV
//! records for a `server-template`; the records change (dnsmasq restarted with others)
//! while requests flow, and servers appear, disappear and change weight without a failed
//! request.

use crate::harness::*;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// dnsmasq answering `_http._tcp.svc.hapee.test` with one SRV record per `(port, weight)`,
/// all on `web.hapee.test` (127.0.0.1).
fn dnsmasq(port: u16, services: &[(u16, u16)]) -> Dnsmasq {
    Dnsmasq::start(port, services, &[])
}

/// A dnsmasq started by [`dnsmasq_with`], stopped when dropped.
pub struct Dnsmasq(Child);

impl Dnsmasq {
    pub fn start(port: u16, services: &[(u16, u16)], extra: &[String]) -> Dnsmasq {
        Dnsmasq(dnsmasq_with(port, services, extra))
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// dnsmasq as [`dnsmasq`] starts it, with more options (`--host-record=…`).
fn dnsmasq_with(port: u16, services: &[(u16, u16)], extra: &[String]) -> Child {
    let mut cmd = Command::new("dnsmasq");
    cmd.args([
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        "--pid-file=",
        "--user=root",
        "--host-record=web.hapee.test,127.0.0.1",
    ])
    .arg(format!("--port={port}"))
    .args(extra);
    for (p, w) in services {
        cmd.arg(format!(
            "--srv-host=_http._tcp.svc.hapee.test,web.hapee.test,{p},0,{w}"
        ));
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dnsmasq");
    // A dnsmasq that cannot start (a busy port) exits at once; one that runs answers within
    // the resolvers' retries.
    std::thread::sleep(Duration::from_millis(200));
    if let Ok(Some(status)) = child.try_wait() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        panic!("dnsmasq exited ({status}): {err}");
    }
    child
}

/// Requests one after the other until stopped; records which origin answered each.
struct Traffic {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    /// Starts once the proxy has served a first request: until the first DNS answer, its
    /// servers have no address and it answers 503, as HAProxy does.
    fn start(port: u16) -> Traffic {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !raw(
            port,
            b"GET /d HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
            Duration::from_secs(10),
        )
        .starts_with("HTTP/1.1 200")
        {
            assert!(Instant::now() < deadline, "no server got an address");
            std::thread::sleep(Duration::from_millis(50));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let (s, n, f) = (stop.clone(), seen.clone(), failures.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let out = raw(
                    port,
                    b"GET /d HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
                    Duration::from_secs(10),
                );
                match out.split("name=").nth(1).and_then(|r| r.lines().next()) {
                    Some(name) if out.starts_with("HTTP/1.1 200") => {
                        n.lock().unwrap().push(name.to_string())
                    }
                    _ => f
                        .lock()
                        .unwrap()
                        .push(out.lines().next().unwrap_or("").to_string()),
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Traffic {
            stop,
            seen,
            failures,
            thread: Some(thread),
        }
    }

    /// The names that answered the requests made from now on, once `count` have.
    fn next(&self, count: usize) -> Vec<String> {
        let start = self.seen.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = self.seen.lock().unwrap();
            if seen.len() >= start + count {
                return seen[start..start + count].to_vec();
            }
            drop(seen);
            assert!(Instant::now() < deadline, "traffic stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the answering names, over a window of `count` requests, satisfy `ok`.
    fn until(&self, count: usize, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let names = self.next(count);
            if ok(&names) {
                return names;
            }
            assert!(Instant::now() < deadline, "{what}: last window {names:?}");
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        failures
    }
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[test]
fn server_template_follows_srv_records_as_they_change() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let (a, b, c) = (Origin::start("a"), Origin::start("b"), Origin::start("c"));
    let dns_port = free_port();
    let mut dns = dnsmasq(dns_port, &[(a.addr.port(), 256), (b.addr.port(), 256)]);
    let port = free_port();
    let proxy = Proxy::start(
        &format!(
            "resolvers dns
    nameserver ns1 127.0.0.1:{dns_port}
    accepted_payload_size 1232
    resolve_retries 3
    timeout resolve 300ms
    timeout retry 300ms
    hold valid 300ms
    hold obsolete 0s
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    balance roundrobin
    server-template srv 1-4 _http._tcp.svc.hapee.test resolvers dns resolve-prefer ipv4 init-addr none
"
        ),
        port,
    );
    let traffic = Traffic::start(port);
    // The two services appear.
    traffic.until(20, "a and b serve", |n| {
        count(n, "a") > 0 && count(n, "b") > 0
    });
    // A third record: c joins.
    // Stopped before its successor binds the same port.
    drop(dns);
    dns = dnsmasq(
        dns_port,
        &[
            (a.addr.port(), 256),
            (b.addr.port(), 256),
            (c.addr.port(), 256),
        ],
    );
    traffic.until(30, "c joins", |n| {
        count(n, "a") > 0 && count(n, "b") > 0 && count(n, "c") > 0
    });
    // a's record goes, and c's weight becomes three times b's (SRV 768 -> 3, 256 -> 1).
    // Stopped before its successor binds the same port.
    drop(dns);
    dns = dnsmasq(dns_port, &[(b.addr.port(), 256), (c.addr.port(), 768)]);
    let names = traffic.until(40, "a leaves, c weighs three times b", |n| {
        count(n, "a") == 0 && count(n, "c") >= 27 && count(n, "b") >= 7
    });
    assert_eq!(count(&names, "b") + count(&names, "c"), 40);
    // b's SRV weight drops to 0: it keeps its slot but takes no more requests.
    // Stopped before its successor binds the same port.
    drop(dns);
    dns = dnsmasq(dns_port, &[(b.addr.port(), 0), (c.addr.port(), 256)]);
    traffic.until(30, "weight 0 takes no requests", |n| count(n, "c") == 30);
    let failures = traffic.finish();
    drop(dns);
    assert!(
        failures.is_empty(),
        "failed requests: {failures:?}\n{}",
        proxy.stderr()
    );
    assert!(proxy.stderr().contains("b/srv"), "{}", proxy.stderr());
}

/// An HTTP/1.1 server on `ip:port` that answers every request with `name=<name>`.
fn named_server(ip: &str, port: u16, name: &'static str) {
    let l = std::net::TcpListener::bind((ip, port)).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{BufRead, BufReader, Write};
                let mut r = BufReader::new(s);
                loop {
                    let mut line = String::new();
                    match r.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            let body = format!("name={name}\n");
                            let resp = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if r.get_mut().write_all(resp.as_bytes()).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
}

#[test]
fn a_server_follows_its_a_record_when_it_changes() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    // Two servers on one port of two loopback addresses; the name points at one, then the other.
    let server_port = free_port();
    named_server("127.0.0.2", server_port, "two");
    named_server("127.0.0.3", server_port, "three");
    let dns_port = free_port();
    let record = |ip: &str| vec![format!("--host-record=app.hapee.test,{ip}")];
    let mut dns = Dnsmasq::start(dns_port, &[], &record("127.0.0.2"));
    let port = free_port();
    let proxy = Proxy::start(
        &format!(
            "resolvers dns
    nameserver ns1 udp@127.0.0.1:{dns_port}
    timeout resolve 300ms
    timeout retry 300ms
    hold valid 300ms
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server app app.hapee.test:{server_port} resolvers dns resolve-prefer ipv4 init-addr last,none
"
        ),
        port,
    );
    let traffic = Traffic::start(port);
    traffic.until(10, "the first address serves", |n| count(n, "two") == 10);
    // Stopped before its successor binds the same port.
    drop(dns);
    dns = Dnsmasq::start(dns_port, &[], &record("127.0.0.3"));
    traffic.until(10, "the new address serves", |n| count(n, "three") == 10);
    let failures = traffic.finish();
    drop(dns);
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    assert!(
        proxy
            .stderr()
            .contains("b/app changed its IP from 127.0.0.2"),
        "{}",
        proxy.stderr()
    );
}

/// A nameserver no socket can be connected to (the broadcast address, which a datagram socket
/// may not reach without asking for it): each query of the resolution reports it to the
/// global log, once per `timeout retry`, `resolve_retries` times, as HAProxy writes it.
#[test]
fn a_nameserver_that_cannot_be_reached_is_reported_at_each_query() {
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
resolvers dns
    nameserver ns1 255.255.255.255:53
    resolve_retries 3
    timeout retry 200ms
    hold valid 30s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 app.hapee.invalid:80 resolvers dns init-addr none
"
        )
    };
    let reports = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.starts_with("DNS : "))
            .map(str::to_string)
            .collect()
    };
    let (mine, theirs) = both_reading(1, cfg, |_, side| side.selected(reports, 3));
    assert_eq!(
        mine,
        vec!["DNS : section 'ns1': can't connect socket for nameserver 'ns1'.".to_string(); 3]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs[..3], mine[..]);
    }
}

/// A server its checks marked down, whose name then fails to resolve for longer than `hold
/// timeout`, enters maintenance, reported with the resolution's status on stderr and in the
/// backend's log, as HAProxy words it.
#[test]
fn a_down_server_whose_name_times_out_enters_maintenance_with_the_dns_status() {
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0 info
resolvers dns
    nameserver ns1 127.0.0.1:1
    resolve_retries 3
    timeout resolve 200ms
    timeout retry 200ms
    hold valid 1s
    hold timeout 500ms
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 localhost:3306 init-addr last,libc,none resolvers dns check port 1 inter 200ms fall 1 rise 1
"
        )
    };
    let entered = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains("enters maintenance"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, rest)| rest).to_string())
            .collect()
    };
    // The log line on stdout, the warning on stderr.
    let (mine, theirs) = both_reading(1, cfg, |_, side| {
        let logged = side.selected(entered, 1);
        (logged, entered(&side.stderr()))
    });
    let line = "Server be/s1 was DOWN and now enters maintenance (DNS timeout status).";
    assert_eq!(mine, (vec![line.to_string()], vec![line.to_string()]));
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0[..1], mine.0[..]);
        assert_eq!(theirs.1[..1], mine.1[..]);
    }
}
