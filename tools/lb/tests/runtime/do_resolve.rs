//! `http-request do-resolve`: the request waits while a name from the request is resolved
//! with a `resolvers` section (dnsmasq), and the address lands in a variable; a name that
//! does not resolve leaves the variable unset. Side by side with Debian's haproxy.

use crate::discovery::Dnsmasq;
use crate::harness::*;
use std::time::Duration;

fn config(port: u16, dns_port: u16) -> String {
    format!(
        "resolvers dns
    nameserver ns1 127.0.0.1:{dns_port}
    timeout resolve 1s
    timeout retry 300ms
    resolve_retries 2
    hold valid 10s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request do-resolve(txn.ip,dns,ipv4) req.hdr(x-name)
    http-request do-resolve(txn.ip6,dns) req.hdr(x-name)
    http-request return status 200 content-type text/plain lf-string \"ip=%[var(txn.ip)] ip6=%[var(txn.ip6)] found=%[var(txn.ip),length]\"
"
    )
}

fn answers(port: u16) -> Vec<String> {
    ["web.hapee.test", "both.hapee.test", "missing.hapee.test"]
        .iter()
        .map(|name| {
            let req =
                format!("GET / HTTP/1.1\r\nHost: a\r\nx-name: {name}\r\nConnection: close\r\n\r\n");
            let out = raw(port, req.as_bytes(), Duration::from_secs(5));
            out.split_once("\r\n\r\n")
                .map_or("", |(_, b)| b)
                .to_string()
        })
        .collect()
}

#[test]
fn do_resolve_stores_the_address_of_a_name() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let dns_port = free_port();
    let dns = Dnsmasq::start(
        dns_port,
        &[],
        &["--host-record=both.hapee.test,127.0.0.9,::9".to_string()],
    );
    let (mine, theirs) = both(|port| config(port, dns_port), answers);
    drop(dns);
    assert_eq!(
        mine,
        [
            "ip=127.0.0.1 ip6=127.0.0.1 found=9",
            "ip=127.0.0.9 ip6=::9 found=9",
            "ip= ip6= found=",
        ],
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
