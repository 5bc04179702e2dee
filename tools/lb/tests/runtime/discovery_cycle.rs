//! The resolution cycle of a server's name and what it reports, side by side with HAProxy
//! against dnsmasq: the lines a server's first address, a new address, an NX domain and a
//! silent nameserver write (stderr and the backend's log), and how often the name is asked
//! and in which order (a UDP relay in front of dnsmasq records the queries).
//!
//! HAProxy 2.7.0 resolves a name once and then, on most dates, never again: its resolvers'
//! timer is set to "never" whenever no resolution runs and the millisecond clock reads
//! positive as a signed number (HAProxy issue #1962, fixed in 2.7.1 and in Debian's 2.6).
//! The cycle is therefore compared with Debian's haproxy, whose resolver code is 2.7's with
//! the fix, and the lines of the first resolution with 2.7.0 as well.

use crate::discovery::Dnsmasq;
use crate::harness::*;
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A query the relay passed on: when it came, the name asked and its type (1: A, 28: AAAA).
#[derive(Debug, Clone)]
pub struct Asked {
    pub at: Instant,
    pub name: String,
    pub kind: u16,
}

/// A UDP relay on a port of its own in front of the nameserver on `to`: each query is passed
/// on after `delay` and its answer sent back; the queries are recorded.
pub fn udp_relay(to: u16, delay: Duration) -> (u16, Arc<Mutex<Vec<Asked>>>) {
    let port = free_port();
    let socket = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if let Some((name, kind)) = question(&buf[..n]) {
                seen.lock().unwrap().push(Asked {
                    at: Instant::now(),
                    name,
                    kind,
                });
            }
            std::thread::sleep(delay);
            let upstream = UdpSocket::bind("127.0.0.1:0").unwrap();
            let _ = upstream.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = upstream.send_to(&buf[..n], ("127.0.0.1", to));
            let mut answer = [0u8; 4096];
            if let Ok(m) = upstream.recv(&mut answer) {
                let _ = socket.send_to(&answer[..m], from);
            }
        }
    });
    (port, asked)
}

/// The name and type a query asks (its first question).
fn question(message: &[u8]) -> Option<(String, u16)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*message.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(message.get(at..at + len)?).into_owned());
        at += len;
    }
    let kind = u16::from_be_bytes([*message.get(at)?, *message.get(at + 1)?]);
    Some((labels.join("."), kind))
}

/// dnsmasq on `port` answering NXDOMAIN for the names of `hapee.test` it does not know, and
/// `app.hapee.test` with `ip` if any.
fn nameserver(port: u16, ip: Option<&str>) -> Dnsmasq {
    let mut extra = vec!["--local=/hapee.test/".to_string()];
    extra.extend(ip.map(|ip| format!("--host-record=app.hapee.test,{ip}")));
    Dnsmasq::start(port, &[], &extra)
}

fn reports_config(port: u16, dns: u16) -> String {
    logged_resolvers_config(
        port,
        dns,
        &["hold valid 10s", "hold nx 300ms", "hold timeout 2s"],
        &format!(
            "backend b\n    server app app.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none\n"
        ),
    )
}

/// A configuration for the tests that compare DNS reports: logs on standard output (raw,
/// `info` and up), resolvers `dns` asking `127.0.0.1:dns` quickly (2 tries, 300 ms between
/// resolutions, 200 ms between tries) with `holds` added, and frontend `fe` on `port`
/// sending to backend `b`, which `backends` declares with the others.
pub(crate) fn logged_resolvers_config(
    port: u16,
    dns: u16,
    holds: &[&str],
    backends: &str,
) -> String {
    let holds = holds.join("\n    ");
    format!(
        "global
    log stdout format raw local0 info
resolvers dns
    nameserver ns1 127.0.0.1:{dns}
    resolve_retries 2
    timeout resolve 300ms
    timeout retry 200ms
    {holds}
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
{backends}"
    )
}

/// The lines about `b/app` (and backend `b`) on stderr, each `[LEVEL]    (pid) : ` prefix
/// cut to its level, and in the log.
fn reports(side: &Side) -> (Vec<String>, Vec<String>) {
    reports_about(side, "b/app")
}

/// The lines about server `who` (`b/app`, or `b/s` for every slot of template `s`) and
/// backend `b`, on stderr (each `[LEVEL]    (pid) : ` prefix cut to its level) and in the log.
pub fn reports_about(side: &Side, who: &str) -> (Vec<String>, Vec<String>) {
    let ours = |l: &&str| l.contains(who) || l.contains(" b has no") || l.contains("'b'");
    let stderr = side
        .stderr()
        .lines()
        .filter(ours)
        .map(|l| match l.find(") : ") {
            Some(at) if l.starts_with('[') => format!("{} {}", l[..9].trim_end(), &l[at + 4..]),
            _ => l.to_string(),
        })
        .collect();
    let log = side
        .stdout()
        .lines()
        .filter(ours)
        .map(str::to_string)
        .collect();
    (stderr, log)
}

/// Waits until `side` reported `count` lines on stderr.
fn reported(side: &Side, count: usize) -> bool {
    wait_until(Duration::from_secs(15), || reports(side).0.len() >= count)
}

#[test]
fn a_server_reports_its_dns_changes_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let drive = |dns_port: u16, side: &Side| {
        // The first address, then another, then none (NX), then one again, then no answer;
        // each step done once the lines of the one before are written.
        let steps: [(Option<&str>, usize); 5] = [
            (Some("127.0.0.2"), 3),
            (Some("127.0.0.3"), 4),
            (None, 6),
            (Some("127.0.0.4"), 9),
            (Some("silent"), 11),
        ];
        let mut dns = None;
        for (ip, count) in steps {
            drop(dns.take());
            if ip != Some("silent") {
                dns = Some(nameserver(dns_port, ip));
            }
            assert!(
                reported(side, count),
                "{}: {:#?}",
                side.name(),
                reports(side)
            );
        }
        reports(side)
    };
    let (mine, theirs) = both_sides(
        1,
        free_port,
        |port, dns| reports_config(port, *dns),
        |_, dns, side| drive(*dns, side),
    );
    let left =
        "0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue";
    let expected = [
        "[WARNING] b/app changed its IP from (none) to 127.0.0.2 by dns/ns1.".to_string(),
        "[WARNING] Server b/app ('app.hapee.test') is UP/READY (resolves again).".into(),
        "[WARNING] Server b/app administratively READY thanks to valid DNS answer.".into(),
        "[WARNING] b/app changed its IP from 127.0.0.2 to 127.0.0.3 by dns/ns1.".into(),
        format!("[WARNING] Server b/app is going DOWN for maintenance (DNS NX status). {left}."),
        "[ALERT] backend 'b' has no server available!".into(),
        "[WARNING] b/app changed its IP from (none) to 127.0.0.4 by dns/ns1.".into(),
        "[WARNING] Server b/app ('app.hapee.test') is UP/READY (resolves again).".into(),
        "[WARNING] Server b/app administratively READY thanks to valid DNS answer.".into(),
        format!(
            "[WARNING] Server b/app is going DOWN for maintenance (DNS timeout status). {left}."
        ),
        "[ALERT] backend 'b' has no server available!".into(),
    ];
    assert_eq!(mine.0, expected);
    // The log says the same without the levels, and the backend's alert without quotes.
    let logged: Vec<String> = expected
        .iter()
        .map(|l| l.split_once("] ").map_or(l.as_str(), |(_, t)| t))
        .map(|l| l.replace("backend 'b'", "backend b"))
        .collect();
    assert_eq!(mine.1, logged);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    // HAProxy 2.7.0's first resolution, the one it makes.
    if let Some(program) = haproxy_27() {
        let port = free_port();
        let dns_port = free_port();
        let dns = nameserver(dns_port, Some("127.0.0.2"));
        let h = Haproxy::start_program(&program, &reports_config(port, dns_port), port, &["-db"]);
        let side = Side::Haproxy(&h);
        assert!(reported(&side, 3), "{:#?}", reports(&side));
        let first = reports(&side);
        drop(dns);
        assert_eq!(first.0[..3], mine.0[..3]);
        assert_eq!(first.1[..3], mine.1[..3]);
    }
}

fn cycle_config(port: u16, dns: u16) -> String {
    format!(
        "resolvers dns
    nameserver ns1 127.0.0.1:{dns}
    resolve_retries 3
    timeout resolve 300ms
    timeout retry 200ms
    hold valid 10s
    hold nx 30s
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server app app.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none
    server gone gone.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none
"
    )
}

/// What the relay saw over 2.5 s: the A queries for the name that resolves, and the queries
/// for the NX name (type, and the time since the first of them).
fn cycle(relay: &Arc<Mutex<Vec<Asked>>>) -> (usize, Vec<(u16, Duration)>) {
    std::thread::sleep(Duration::from_millis(2500));
    let asked = relay.lock().unwrap().clone();
    let resolved = asked
        .iter()
        .filter(|a| a.name == "app.hapee.test" && a.kind == 1)
        .count();
    let gone: Vec<&Asked> = asked
        .iter()
        .filter(|a| a.name == "gone.hapee.test")
        .collect();
    let start = gone.first().map(|a| a.at);
    let gone = gone
        .iter()
        .map(|a| (a.kind, a.at - start.unwrap_or(a.at)))
        .collect();
    (resolved, gone)
}

/// The names are asked again `timeout resolve` after each resolution, whatever `hold valid`
/// says; an NX answer has the other family asked at once, and the pair again every `timeout
/// retry` until `resolve_retries` tries are made.
#[test]
fn names_are_asked_at_haproxys_pace() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let fixture = || {
        let dns_port = free_port();
        let dns = nameserver(dns_port, Some("127.0.0.2"));
        let (relay_port, asked) = udp_relay(dns_port, Duration::ZERO);
        (dns, relay_port, asked)
    };
    let (mine, theirs) = both_sides(
        1,
        fixture,
        |port, (_, relay, _)| cycle_config(port, *relay),
        |_, (_, _, asked), _| cycle(asked),
    );
    let check = |(resolved, gone): &(usize, Vec<(u16, Duration)>), who: &str| {
        // 300 ms apart for 2.5 s, where spacing them by `hold valid` would ask once.
        assert!(*resolved >= 4, "{who}: {resolved} A queries");
        let kinds: Vec<u16> = gone.iter().map(|(k, _)| *k).take(6).collect();
        assert_eq!(kinds, [1, 28, 1, 28, 1, 28], "{who}: {gone:?}");
        let at = |i: usize| gone[i].1.as_millis();
        // The pair at once, the tries a `timeout retry` apart, the next resolution a
        // `timeout resolve` after the last try.
        assert!(
            at(1) < 150 && at(2) >= 150 && at(4) >= 300,
            "{who}: {gone:?}"
        );
        assert!(gone.len() > 6 && at(6) - at(5) >= 250, "{who}: {gone:?}");
    };
    check(&mine, "hapee");
    if let Some(theirs) = &theirs {
        check(theirs, "haproxy");
    }
}

/// Three servers of two backends on one name: one query for all of them, the first server
/// naming the nameserver that answered, the others `DNS cache` (as HAProxy shares one
/// resolution per name among its requesters).
#[test]
fn servers_sharing_a_name_share_its_resolution_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let config = |port: u16, dns: u16| {
        format!(
            "resolvers dns
    nameserver ns1 127.0.0.1:{dns}
    timeout resolve 30s
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server a1 app.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none
    server a2 app.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none resolve-opts allow-dup-ip
backend c
    server c1 app.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none
"
        )
    };
    let fixture = || {
        let dns_port = free_port();
        let dns = nameserver(dns_port, Some("127.0.0.2"));
        let (relay_port, asked) = udp_relay(dns_port, Duration::ZERO);
        (dns, relay_port, asked)
    };
    let drive = |asked: &Arc<Mutex<Vec<Asked>>>, side: &Side| {
        let lines = || -> Vec<String> {
            side.stderr()
                .lines()
                .filter_map(|l| l.split_once(") : ").map(|(_, t)| t.to_string()))
                .filter(|l| l.contains("changed its IP"))
                .collect()
        };
        wait_until(Duration::from_secs(10), || lines().len() >= 3);
        std::thread::sleep(Duration::from_millis(300));
        (lines(), asked.lock().unwrap().len())
    };
    let (mine, theirs) = both_sides(
        1,
        fixture,
        |port, (_, relay, _)| config(port, *relay),
        |_, (_, _, asked), side| drive(asked, side),
    );
    assert_eq!(
        mine,
        (
            vec![
                "b/a1 changed its IP from (none) to 127.0.0.2 by dns/ns1.".to_string(),
                "b/a2 changed its IP from (none) to 127.0.0.2 by DNS cache.".into(),
                "c/c1 changed its IP from (none) to 127.0.0.2 by DNS cache.".into(),
            ],
            1
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    if let Some(program) = haproxy_27() {
        let (_dns, relay, asked) = fixture();
        let port = free_port();
        let h = Haproxy::start_program(&program, &config(port, relay), port, &["-db"]);
        assert_eq!(drive(&asked, &Side::Haproxy(&h)), mine);
    }
}
