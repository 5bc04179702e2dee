//! The peers protocol over TLS: `bind … ssl crt …` on the listener and `default-server ssl
//! verify required ca-file …` on the links, between two hapee nodes and between hapee and
//! Debian's haproxy, with certificates made here. The peer ports answer TLS only.

use crate::harness::*;
use crate::peers::eventually;
use crate::tls::{s_client, Ca, Pki};
use std::io::{Read, Write};
use std::time::Duration;

/// The PKI of a test: `peer.pem` (certificate and key for `peer.example`) and `ca.pem`.
fn pki(tag: &str) -> Pki {
    let pki = Pki::new(tag);
    let ca = Ca::new("Peers CA");
    let (c, k) = ca.issue(&["peer.example"], false, false);
    pki.write("peer.pem", &(c + &k));
    pki.write("ca.pem", &ca.cert.pem());
    pki
}

/// Node `me` of a TLS peers section (`server` lines: the local one has no address), with a
/// shared table on frontend `fe`: `/hit` is tracked, anything else shows the counters.
fn node(pki: &Pki, peers: &[(&str, u16)], me: &str, port: u16, server_opts: &str) -> String {
    let mut cfg = String::from("peers mesh\n");
    let my_port = peers.iter().find(|(n, _)| *n == me).unwrap().1;
    cfg.push_str(&format!(
        "    bind 127.0.0.1:{my_port} ssl crt {}\n    default-server ssl verify required ca-file {}{server_opts}\n",
        pki.path("peer.pem"),
        pki.path("ca.pem")
    ));
    for (name, p) in peers {
        if *name == me {
            cfg.push_str(&format!("    server {name}\n"));
        } else {
            cfg.push_str(&format!("    server {name} 127.0.0.1:{p}\n"));
        }
    }
    cfg.push_str(&format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s peers mesh store http_req_cnt,gpc0
    http-request track-sc0 src if {{ path /hit }}
    http-request sc-inc-gpc0(0) if {{ path /hit }}
    http-request return status 200 content-type text/plain lf-string \"cnt=%[src_http_req_cnt] gpc=%[src_get_gpc0]\"
"
    ));
    cfg
}

/// A plain-text hello on a peer port: what comes back before the connection ends (a TLS
/// alert, or nothing, from a port that speaks TLS only).
fn plain_hello(port: u16, to: &str, from: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = s.write_all(format!("HAProxyS 2.1\n{to}\n{from} 1 1\n").as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn hits(url: &str, n: usize) {
    for _ in 0..n {
        assert_eq!(curl(&[url]).0, 200);
    }
}

#[test]
fn two_hapee_nodes_share_a_table_over_tls() {
    if !crate::tls::have("openssl", &["version"]) {
        return;
    }
    let pki = pki("peers-two");
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let peers = [("a", ports[0]), ("b", ports[1])];
    // `verifyhost` names the certificate's host: the links check chain and name.
    let opts = " verifyhost peer.example";
    let a = Proxy::start_with(
        &node(&pki, &peers, "a", ports[2], opts),
        ports[2],
        &["-L", "a"],
    );
    let _b = Proxy::start_with(
        &node(&pki, &peers, "b", ports[3], opts),
        ports[3],
        &["-L", "b"],
    );
    let url = |p: u16, path: &str| format!("http://127.0.0.1:{p}{path}");
    hits(&url(ports[2], "/hit"), 3);
    assert_eq!(
        eventually(
            &url(ports[3], "/peek"),
            "cnt=3 gpc=3",
            Duration::from_secs(10)
        ),
        "cnt=3 gpc=3",
        "{}",
        a.stderr()
    );
    hits(&url(ports[3], "/hit"), 2);
    assert_eq!(
        eventually(
            &url(ports[2], "/peek"),
            "cnt=5 gpc=5",
            Duration::from_secs(2)
        ),
        "cnt=5 gpc=5"
    );
    // The peer port speaks TLS with the configured certificate, and nothing in clear.
    let shown = s_client(ports[0], &["-servername", "peer.example"]);
    assert!(shown.contains("CN = peer.example"), "{shown}");
    let answer = plain_hello(ports[0], "a", "b");
    assert!(!answer.contains("200"), "{answer:?}");
}

#[test]
fn a_link_whose_certificate_fails_verification_shares_nothing() {
    let pki = pki("peers-bad");
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let peers = [("a", ports[0]), ("b", ports[1])];
    // Both check the other's certificate for a name it does not carry: no link comes up,
    // and what a counts never reaches b.
    let a = Proxy::start_with(
        &node(&pki, &peers, "a", ports[2], " verifyhost other.example"),
        ports[2],
        &["-L", "a"],
    );
    let _b = Proxy::start_with(
        &node(&pki, &peers, "b", ports[3], " verifyhost other.example"),
        ports[3],
        &["-L", "b"],
    );
    let url = |p: u16, path: &str| format!("http://127.0.0.1:{p}{path}");
    hits(&url(ports[2], "/hit"), 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        curl(&[&url(ports[3], "/peek")]).1,
        "cnt=0 gpc=0",
        "{}",
        a.stderr()
    );
}

#[test]
fn hapee_and_haproxy_share_a_table_over_tls_both_ways() {
    if !Haproxy::installed() {
        return;
    }
    let pki = pki("peers-haproxy");
    let (peer_h, peer_e, fe_h, fe_e) = (free_port(), free_port(), free_port(), free_port());
    let peers = [("hap", peer_h), ("hapee", peer_e)];
    let _h = Haproxy::start_with(
        &node(&pki, &peers, "hap", fe_h, ""),
        fe_h,
        &["-db", "-L", "hap"],
    );
    let _e = Proxy::start_with(
        &node(&pki, &peers, "hapee", fe_e, ""),
        fe_e,
        &["-L", "hapee"],
    );
    let (h, e) = (
        format!("http://127.0.0.1:{fe_h}"),
        format!("http://127.0.0.1:{fe_e}"),
    );
    hits(&format!("{h}/hit"), 3);
    assert_eq!(
        eventually(&format!("{e}/peek"), "cnt=3 gpc=3", Duration::from_secs(10)),
        "cnt=3 gpc=3"
    );
    hits(&format!("{e}/hit"), 2);
    assert_eq!(
        eventually(&format!("{h}/peek"), "cnt=5 gpc=5", Duration::from_secs(10)),
        "cnt=5 gpc=5"
    );
    // Both ends answer TLS only.
    for (port, to, from) in [(peer_e, "hapee", "hap"), (peer_h, "hap", "hapee")] {
        let answer = plain_hello(port, to, from);
        assert!(!answer.contains("200"), "{answer:?}");
    }
}
