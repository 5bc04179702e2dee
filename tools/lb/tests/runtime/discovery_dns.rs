//! DNS transports and SRV records against dnsmasq, side by side with Debian's haproxy where
//! the two behave alike: answers too large for a datagram (truncated, then asked again over
//! TCP), `tcp@` nameservers, and SRV priorities and weights as they fill `server-template`
//! slots. Each proxy's view is read from `show servers state` on its Runtime API.

use crate::api::ask;
use crate::discovery::Dnsmasq;
use crate::harness::*;
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `--host-record`s giving `many.hapee.test` the addresses 127.0.1.1 to 127.0.1.`n`.
fn many_addresses(n: u8) -> Vec<String> {
    (1..=n)
        .map(|i| format!("--host-record=many.hapee.test,127.0.1.{i}"))
        .collect()
}

/// The configuration both proxies run: a template of `slots` servers resolved by `ns`.
fn template_config(sock: &Path, port: u16, ns: &str, extra: &str, server: &str) -> String {
    format!(
        "global
    stats socket {} level admin
resolvers dns
    nameserver ns1 {ns}
{extra}    timeout resolve 300ms
    timeout retry 300ms
    hold valid 300ms
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    {server} resolvers dns resolve-prefer ipv4 init-addr none
",
        sock.display()
    )
}

/// The filled slots of backend `b`: `address:port weight`, sorted.
fn filled(sock: &Path) -> BTreeSet<String> {
    let Ok(_) = std::os::unix::net::UnixStream::connect(sock) else {
        return BTreeSet::new();
    };
    ask(sock, "show servers state b\n")
        .lines()
        .filter(|l| !l.starts_with('#') && l.split(' ').count() > 18)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[4] != "-").then(|| format!("{}:{} {}", f[4], f[18], f[7]))
        })
        .collect()
}

/// Waits until `sock`'s filled slots satisfy `ok`; answers the last ones seen.
fn until(sock: &Path, what: &str, ok: impl Fn(&BTreeSet<String>) -> bool) -> BTreeSet<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = filled(sock);
        if ok(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "{what}: {now:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A TCP relay to `to`, counting the connections it carries; nothing listens for UDP on its
/// port, so what it relays was asked over TCP.
fn tcp_relay(to: u16) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for client in l.incoming().flatten() {
            c.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                continue;
            };
            for (mut from, mut into) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut into);
                    let _ = into.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    (port, count)
}

/// A proxy's Runtime API socket in a folder of its own, removed after the test (kept when it
/// fails); reads as the socket's path.
struct ApiSock {
    sock: std::path::PathBuf,
    _dir: Scratch,
}

impl std::ops::Deref for ApiSock {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.sock
    }
}

fn sock_in(name: &str) -> ApiSock {
    let dir = Scratch::dir(&format!("hapee-dns-{}-{name}", std::process::id()));
    ApiSock {
        sock: dir.join("api.sock"),
        _dir: dir,
    }
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    // 40 addresses do not fit the 512 bytes announced by default: dnsmasq sends 29 of them
    // with the TC bit set, and all 40 over TCP.
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &many_addresses(40));
    let ns = format!("127.0.0.1:{dns_port}");
    let server = "server-template srv 1-40 many.hapee.test:8080";
    let port = free_port();
    let sock = sock_in("trunc");
    let _proxy = Proxy::start(&template_config(&sock, port, &ns, "", server), port);
    let got = until(&sock, "every address fills a slot", |s| s.len() == 40);
    let want: BTreeSet<String> = (1..=40).map(|i| format!("127.0.1.{i}:8080 1")).collect();
    assert_eq!(got, want);
    // HAProxy fails a truncated A/AAAA answer (it has no TCP retry): its slots stay empty.
    if Haproxy::installed() {
        let hport = free_port();
        let hsock = sock_in("trunc-haproxy");
        let _h = Haproxy::start(&template_config(&hsock, hport, &ns, "", server), hport);
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(filled(&hsock), BTreeSet::new());
    }
}

#[test]
fn tcp_nameservers_fill_the_same_slots_as_haproxy() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &many_addresses(40));
    let (relay, relayed) = tcp_relay(dns_port);
    let ns = format!("tcp@127.0.0.1:{relay}");
    // HAProxy also applies `accepted_payload_size` to TCP answers (its documentation says
    // to raise it for TCP nameservers), so the configuration does.
    let extra = "    accepted_payload_size 8192\n";
    let server = "server-template srv 1-40 many.hapee.test:8080";
    let port = free_port();
    let sock = sock_in("tcp");
    let _proxy = Proxy::start(&template_config(&sock, port, &ns, extra, server), port);
    let got = until(&sock, "every address over TCP", |s| s.len() == 40);
    assert!(relayed.load(Ordering::SeqCst) > 0);
    if Haproxy::installed() {
        let hport = free_port();
        let hsock = sock_in("tcp-haproxy");
        let _h = Haproxy::start(&template_config(&hsock, hport, &ns, extra, server), hport);
        let theirs = until(&hsock, "haproxy over TCP", |s| s.len() == 40);
        assert_eq!(got, theirs);
    }
}

#[test]
fn srv_priorities_and_weights_fill_slots_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    // Four services on their own addresses (HAProxy gives no two slots of a backend the same
    // address), with priorities 0, 0, 10, 20 and weights 100, 0, 600, 65535.
    let mut records = Vec::new();
    for (i, (priority, weight)) in [(0, 100), (0, 0), (10, 600), (20, 65535)]
        .iter()
        .enumerate()
    {
        let host = format!("t{i}.hapee.test");
        records.push(format!("--host-record={host},127.0.0.1{i}"));
        records.push(format!(
            "--srv-host=_http._tcp.svc.hapee.test,{host},{},{priority},{weight}",
            9000 + i
        ));
    }
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &records);
    let ns = format!("127.0.0.1:{dns_port}");
    let extra = "    accepted_payload_size 1232\n";
    // Slots enough for every record: each gets one, whatever its priority, with its SRV weight
    // mapped onto 0-256 as (w + 255) / 256.
    let want: BTreeSet<String> = [
        "127.0.0.10:9000 1",
        "127.0.0.11:9001 0",
        "127.0.0.12:9002 3",
        "127.0.0.13:9003 256",
    ]
    .map(String::from)
    .into();
    let server = "server-template srv 1-6 _http._tcp.svc.hapee.test";
    let port = free_port();
    let sock = sock_in("srv");
    let proxy = Proxy::start(&template_config(&sock, port, &ns, extra, server), port);
    let got = until(&sock, "every record in a slot", |s| s.len() == 4);
    assert_eq!(got, want, "{}", proxy.stderr());
    if Haproxy::installed() {
        let hport = free_port();
        let hsock = sock_in("srv-haproxy");
        let _h = Haproxy::start(&template_config(&hsock, hport, &ns, extra, server), hport);
        let theirs = until(&hsock, "haproxy fills every record", |s| s.len() == 4);
        assert_eq!(theirs, want);
    }
    // Three slots for four records: the lowest priorities keep theirs, the priority-20 record
    // waits. (HAProxy picks by a hash of the target name here, whatever the priorities.)
    let server = "server-template srv 1-3 _http._tcp.svc.hapee.test";
    let port = free_port();
    let sock = sock_in("srv-full");
    let _proxy = Proxy::start(&template_config(&sock, port, &ns, extra, server), port);
    let got = until(&sock, "three slots", |s| s.len() == 3);
    assert!(!got.iter().any(|s| s.contains(":9003")), "{got:?}");
}

/// Backend `backend`'s servers from `show servers state`: name, address (`-` for none), port,
/// weight in force, operational state.
fn servers_of(sock: &Path, backend: &str) -> Vec<[String; 5]> {
    let Ok(_) = std::os::unix::net::UnixStream::connect(sock) else {
        return Vec::new();
    };
    ask(sock, &format!("show servers state {backend}\n"))
        .lines()
        .filter(|l| !l.starts_with('#') && l.split(' ').count() > 18)
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            [f[3], f[4], f[18], f[7], f[5]].map(String::from)
        })
        .collect()
}

/// The servers of `list` whose name starts with `prefix`, and the addresses they have.
fn group<'a>(list: &'a [[String; 5]], prefix: &str) -> (Vec<&'a [String; 5]>, Vec<&'a str>) {
    let members: Vec<&[String; 5]> = list.iter().filter(|s| s[0].starts_with(prefix)).collect();
    let addrs = members
        .iter()
        .filter(|s| s[1] != "-")
        .map(|s| s[1].as_str())
        .collect();
    (members, addrs)
}

/// What `resolve-opts` does, read from one proxy's Runtime API once its servers are resolved;
/// `Err` says what is not so (yet).
fn resolve_opts_hold(sock: &Path) -> Result<(), String> {
    let (b, w) = (servers_of(sock, "b"), servers_of(sock, "w"));
    let two = ["127.0.2.1", "127.0.2.2"];
    // prevent-dup-ip (the default): one server per address, the others without one.
    let (a, addrs) = group(&b, "a");
    let mut distinct = addrs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if addrs.len() != 2 || distinct != two || a.len() != 4 {
        return Err(format!("template a: {a:?}"));
    }
    if a.iter().any(|s| s[2] != "8080") {
        return Err(format!("template a keeps its port: {a:?}"));
    }
    if a.iter().any(|s| (s[1] == "-") != (s[4] == "0")) {
        return Err(format!("servers without an address are stopped: {a:?}"));
    }
    // allow-dup-ip: every slot filled from the same two addresses, on its own port.
    let (d, addrs) = group(&b, "d");
    if addrs.len() != 4
        || addrs.iter().any(|a| !two.contains(a))
        || d.iter().any(|s| s[2] != "8081")
    {
        return Err(format!("template d: {d:?}"));
    }
    // Another server of the backend on the same name, another port: both addresses are
    // taken, and it may not share.
    let (x, addrs) = group(&b, "x");
    if x.len() != 1 || !addrs.is_empty() {
        return Err(format!("server x: {x:?}"));
    }
    // SRV weights: mapped onto 0-256 for template s, ignored (configured 7) for template w.
    let weights = |list: &[&[String; 5]]| {
        let mut v: Vec<String> = list
            .iter()
            .filter(|s| s[1] != "-")
            .map(|s| format!("{}:{} {}", s[1], s[2], s[3]))
            .collect();
        v.sort();
        v
    };
    let (s, _) = group(&b, "s");
    if weights(&s) != ["127.0.0.1:9001 3", "127.0.0.1:9002 1"] {
        return Err(format!("template s: {s:?}"));
    }
    let (wt, _) = group(&w, "w");
    if weights(&wt) != ["127.0.0.1:9001 7", "127.0.0.1:9002 7"] {
        return Err(format!("template w: {wt:?}"));
    }
    Ok(())
}

#[test]
fn resolve_opts_share_addresses_and_keep_weights_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let records = [
        "--host-record=two.hapee.test,127.0.2.1",
        "--host-record=two.hapee.test,127.0.2.2",
        "--srv-host=_http._tcp.svc.hapee.test,web.hapee.test,9001,0,600",
        "--srv-host=_http._tcp.svc.hapee.test,web.hapee.test,9002,0,100",
    ]
    .map(String::from);
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &records);
    let config = |sock: &Path, port: u16| {
        let opts = "resolvers dns resolve-prefer ipv4 init-addr none";
        format!(
            "global
    stats socket {} level admin
resolvers dns
    nameserver ns1 127.0.0.1:{dns_port}
    accepted_payload_size 1232
    timeout resolve 300ms
    timeout retry 300ms
    hold valid 300ms
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server-template a 1-4 two.hapee.test:8080 {opts}
    server-template d 1-4 two.hapee.test:8081 {opts} resolve-opts allow-dup-ip
    server x1 two.hapee.test:8082 {opts}
    server-template s 1-3 _http._tcp.svc.hapee.test {opts} weight 7
backend w
    server-template w 1-3 _http._tcp.svc.hapee.test {opts} weight 7 resolve-opts prevent-dup-ip,ignore-weight
",
            sock.display()
        )
    };
    let wait = |sock: &Path, who: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match resolve_opts_hold(sock) {
                Ok(()) => return,
                Err(e) => assert!(Instant::now() < deadline, "{who}: {e}"),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let port = free_port();
    let sock = sock_in("opts");
    let proxy = Proxy::start(&config(&sock, port), port);
    wait(&sock, "hapee");
    // Settled: a second look a few resolutions later says the same.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(resolve_opts_hold(&sock), Ok(()), "{}", proxy.stderr());
    if Haproxy::installed() {
        let hport = free_port();
        let hsock = sock_in("opts-haproxy");
        let _h = Haproxy::start(&config(&hsock, hport), hport);
        wait(&hsock, "haproxy");
    }
}

#[test]
fn resolve_net_prefers_an_address_in_its_networks_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &many_addresses(4));
    let ns = format!("127.0.0.1:{dns_port}");
    // Without the preference the server takes the first address the answer names.
    let server = "server s1 many.hapee.test:8080 resolve-net 10.0.0.0/8,127.0.1.3/32";
    let port = free_port();
    let sock = sock_in("resolve-net");
    let _proxy = Proxy::start(&template_config(&sock, port, &ns, "", server), port);
    let got = until(&sock, "the preferred address", |s| !s.is_empty());
    // A few more answers do not move it.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(filled(&sock), got);
    let want: BTreeSet<String> = ["127.0.1.3:8080 1".to_string()].into();
    assert_eq!(got, want);
    if Haproxy::installed() {
        let hport = free_port();
        let hsock = sock_in("resolve-net-haproxy");
        let _h = Haproxy::start(&template_config(&hsock, hport, &ns, "", server), hport);
        let theirs = until(&hsock, "haproxy's preferred address", |s| !s.is_empty());
        assert_eq!(theirs, got);
    }
}
