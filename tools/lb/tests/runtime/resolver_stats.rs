//! `show stat domain resolvers`: one row per nameserver of each `resolvers` section (and of
//! the `default` section HAProxy makes from /etc/resolv.conf), with its counters, in CSV,
//! `typed` and `json`, side by side with HAProxy 2.7.0 against dnsmasq. The resolutions are
//! held for 30 s, so each proxy asks once during the test and the counts are exact.

use crate::api::ask;
use crate::discovery::Dnsmasq;
use crate::harness::*;
use std::path::Path;
use std::time::Duration;

/// Two sections: `dns1` asks dnsmasq and a port where nothing answers, `second` asks dnsmasq.
fn config(sock: &Path, port: u16, dns: u16, silent: u16) -> String {
    format!(
        "global
    stats socket {} level admin
resolvers dns1
    nameserver ns1 127.0.0.1:{dns}
    nameserver ns2 127.0.0.1:{silent}
    hold valid 30s
    timeout resolve 30s
resolvers second
    nameserver only 127.0.0.1:{dns}
    hold valid 30s
    timeout resolve 30s
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s1 web.hapee.test:{port} resolvers dns1 resolve-prefer ipv4 init-addr none
    server s2 web.hapee.test:{port} resolvers second resolve-prefer ipv4 init-addr none
",
        sock.display()
    )
}

/// The three forms of the command, once both servers have their address.
fn resolver_stats(sock: &Path) -> [String; 3] {
    let resolved = || {
        ask(sock, "show servers state b\n")
            .lines()
            .filter(|l| l.contains(" 127.0.0.1 "))
            .count()
            == 2
    };
    assert!(
        wait_until(Duration::from_secs(10), resolved),
        "{}",
        ask(sock, "show servers state b\n")
    );
    ["", " typed desc", " json"]
        .map(|form| ask(sock, &format!("show stat domain resolvers{form}\n")))
}

/// What `read` finds through the Runtime API of hapee, or with `program` of that HAProxy,
/// run on `config` with its socket in a folder of its own (`tag` names the folder).
fn through_api<T>(
    tag: &str,
    program: Option<&Path>,
    config: impl Fn(&Path, u16) -> String,
    read: impl Fn(&Path) -> T,
) -> T {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-{tag}-{}-{port}", std::process::id()));
    let sock = dir.join("api.sock");
    let cfg = config(&sock, port);
    match program {
        None => {
            let _proxy = Proxy::start(&cfg, port);
            read(&sock)
        }
        Some(program) => {
            let _h = Haproxy::start_program(program, &cfg, port, &["-db"]);
            read(&sock)
        }
    }
}

#[test]
fn nameserver_counters_as_haproxy_shows_them() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &[]);
    let silent = free_port();
    let config = |sock: &Path, port: u16| config(sock, port, dns_port, silent);
    let mine = through_api("rstat", None, config, resolver_stats);
    let header = "# id,pid,sent,send_error,valid,update,cname,cname_error,any_err,nx,timeout,refused,other,invalid,too_big,truncated,outdated,";
    let csv: Vec<&str> = mine[0].lines().collect();
    assert_eq!(csv[0], header, "{}", mine[0]);
    // Each nameserver was asked once for web.hapee.test's A record; dnsmasq's answer gave the
    // server its address; nothing answered from the silent port.
    assert_eq!(
        csv[1..4],
        [
            "ns1,dns1,1,0,1,1,0,0,0,0,0,0,0,0,0,0,0,",
            "ns2,dns1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
            "only,second,1,0,1,1,0,0,0,0,0,0,0,0,0,0,0,",
        ],
        "{}",
        mine[0]
    );
    assert!(mine[1].starts_with("N.0.id:CGP:str:ns1:\"ID\"\nN.1.pid:CGP:str:dns1:\"Parent ID\"\nN.2.sent:MGP:u64:1:\"Sent\"\n"), "{}", mine[1]);
    assert!(mine[2].starts_with(r#"[[{"field":{"pos":0,"name":"id"},"tags":{"origin":"Config","nature":"Gauge","scope":"Process"},"value":{"type":"str","value":"ns1"}},"#), "{}", mine[2]);
    if let Some(program) = haproxy_27() {
        let theirs = through_api("rstat-ha", Some(&program), config, resolver_stats);
        assert_eq!(theirs, mine);
    }
}

/// Two nameservers that both answer, the second 100 ms after the first (a relay that waits
/// in front of the same dnsmasq): the resolution takes the first answer, and the second,
/// which comes when no query waits for it any more, counts `outdated`, as in HAProxy.
#[test]
fn a_late_answer_from_a_second_nameserver_counts_outdated() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let dns_port = free_port();
    let _dns = Dnsmasq::start(dns_port, &[], &[]);
    let (late, _) = crate::discovery_cycle::udp_relay(dns_port, Duration::from_millis(100));
    let config = |sock: &Path, port: u16| {
        format!(
            "global
    stats socket {} level admin
resolvers dns
    nameserver ns1 127.0.0.1:{dns_port}
    nameserver ns2 127.0.0.1:{late}
    hold valid 30s
    timeout resolve 30s
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s1 web.hapee.test:{port} resolvers dns resolve-prefer ipv4 init-addr none
",
            sock.display()
        )
    };
    let rows = |sock: &Path| {
        let rows = || {
            ask(sock, "show stat domain resolvers\n")
                .lines()
                .filter(|l| l.starts_with("ns"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        wait_until(Duration::from_secs(10), || {
            rows().get(1).is_some_and(|r| r.ends_with(",1,"))
        });
        rows()
    };
    let mine = through_api("rstat-late", None, config, rows);
    assert_eq!(
        mine,
        [
            "ns1,dns,1,0,1,1,0,0,0,0,0,0,0,0,0,0,0,",
            "ns2,dns,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1,",
        ]
    );
    if let Some(program) = haproxy_27() {
        let theirs = through_api("rstat-late-ha", Some(&program), config, rows);
        assert_eq!(theirs, mine);
    }
}
