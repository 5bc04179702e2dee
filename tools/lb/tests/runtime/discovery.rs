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
fn dnsmasq(port: u16, services: &[(u16, u16)]) -> Child {
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
    .arg(format!("--port={port}"));
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
    fn start(port: u16) -> Traffic {
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
    let _ = dns.kill();
    let _ = dns.wait();
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
    // a's record goes, and c's weight becomes twice b's (SRV 768 -> 4, 256 -> 2).
    let _ = dns.kill();
    let _ = dns.wait();
    dns = dnsmasq(dns_port, &[(b.addr.port(), 256), (c.addr.port(), 768)]);
    let names = traffic.until(30, "a leaves, c weighs twice b", |n| {
        count(n, "a") == 0 && count(n, "c") >= 18 && count(n, "b") >= 8
    });
    assert_eq!(count(&names, "b") + count(&names, "c"), 30);
    let failures = traffic.finish();
    let _ = dns.kill();
    let _ = dns.wait();
    assert!(
        failures.is_empty(),
        "failed requests: {failures:?}\n{}",
        proxy.stderr()
    );
    assert!(proxy.stderr().contains("b/srv"), "{}", proxy.stderr());
}
