//! The peers protocol with real processes: hapee and Debian's haproxy share a table both ways,
//! a rate limit holds on a second node, and a restarted node of a three-node hapee cluster
//! learns the table back.

use crate::harness::*;
use std::time::{Duration, Instant};

/// A node's configuration: a shared table on frontend `fe`, hits tracked on `/hit`, anything
/// else answered with what the table holds for the client.
fn node(peers: &[(&str, u16)], port: u16, limit: Option<u32>) -> String {
    let mut cfg = String::from("peers mesh\n");
    for (name, p) in peers {
        cfg.push_str(&format!("    peer {name} 127.0.0.1:{p}\n"));
    }
    // A table of the peers section too: HAProxy names it `mesh/visits`.
    cfg.push_str("    table visits type ip size 1k expire 60s store gpc0\n");
    let deny = limit.map_or(String::new(), |l| {
        format!("    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt {l} }}\n")
    });
    cfg.push_str(&format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s peers mesh store http_req_cnt,gpc0,http_req_rate(10s),conn_cur
    http-request track-sc0 src if {{ path /hit }}
    http-request sc-inc-gpc0(0) if {{ path /hit }}
    http-request track-sc1 src table mesh/visits if {{ path /hit }}
    http-request sc-inc-gpc0(1) if {{ path /hit }}
{deny}    http-request return status 200 content-type text/plain lf-string \"cnt=%[src_http_req_cnt] gpc=%[src_get_gpc0] visits=%[src_get_gpc0(mesh/visits)]\"
"
    ));
    cfg
}

/// Polls `url` until it answers `want` (within `limit`); answers the last body.
pub(crate) fn eventually(url: &str, want: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let (_, body) = curl(&[url]);
        if body == want || Instant::now() > deadline {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn hapee_and_haproxy_share_a_table_both_ways() {
    if !Haproxy::installed() {
        return;
    }
    let (peer_h, peer_e, fe_h, fe_e) = (free_port(), free_port(), free_port(), free_port());
    let peers = [("hap", peer_h), ("hapee", peer_e)];
    let _h = Haproxy::start_with(&node(&peers, fe_h, None), fe_h, &["-db", "-L", "hap"]);
    let _e = Proxy::start_with(&node(&peers, fe_e, None), fe_e, &["-L", "hapee"]);
    let (h, e) = (
        format!("http://127.0.0.1:{fe_h}"),
        format!("http://127.0.0.1:{fe_e}"),
    );
    // Tracked on haproxy: hapee has the same counters within a second (the first session
    // may still be settling: allow its 5 s reconnect once).
    for _ in 0..3 {
        curl(&[&format!("{h}/hit")]);
    }
    assert_eq!(
        eventually(
            &format!("{e}/peek"),
            "cnt=3 gpc=3 visits=3",
            Duration::from_secs(8)
        ),
        "cnt=3 gpc=3 visits=3"
    );
    // Now the link is up: updates arrive within a second, both ways.
    for _ in 0..2 {
        curl(&[&format!("{e}/hit")]);
    }
    assert_eq!(
        eventually(
            &format!("{h}/peek"),
            "cnt=5 gpc=5 visits=5",
            Duration::from_secs(1)
        ),
        "cnt=5 gpc=5 visits=5"
    );
    curl(&[&format!("{h}/hit")]);
    assert_eq!(
        eventually(
            &format!("{e}/peek"),
            "cnt=6 gpc=6 visits=6",
            Duration::from_secs(1)
        ),
        "cnt=6 gpc=6 visits=6"
    );
}

#[test]
fn a_rate_limit_holds_on_a_second_node_and_a_restarted_node_learns_the_table() {
    let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
    let peers = [("a", ports[0]), ("b", ports[1]), ("c", ports[2])];
    let start = |i: usize| {
        let name = peers[i].0;
        Proxy::start_with(
            &node(&peers, ports[3 + i], Some(10)),
            ports[3 + i],
            &["-L", name],
        )
    };
    let _a = start(0);
    let _b = start(1);
    let c = start(2);
    let url = |i: usize, p: &str| format!("http://127.0.0.1:{}{p}", ports[3 + i]);
    for n in 1..=10 {
        assert_eq!(curl(&[&url(0, "/hit")]).0, 200, "hit {n} on a");
    }
    assert_eq!(
        eventually(
            &url(1, "/peek"),
            "cnt=10 gpc=10 visits=10",
            Duration::from_secs(8)
        ),
        "cnt=10 gpc=10 visits=10"
    );
    // b counts a's ten requests: its own first one is over the limit.
    assert_eq!(curl(&[&url(1, "/hit")]).0, 429);
    assert_eq!(
        eventually(
            &url(2, "/peek"),
            "cnt=11 gpc=11 visits=11",
            Duration::from_secs(8)
        ),
        "cnt=11 gpc=11 visits=11"
    );
    // c restarts empty and learns the table back from a peer.
    drop(c);
    let _c = start(2);
    assert_eq!(
        eventually(
            &url(2, "/peek"),
            "cnt=11 gpc=11 visits=11",
            Duration::from_secs(15)
        ),
        "cnt=11 gpc=11 visits=11"
    );
}

/// A `log` line in a peers section is read as HAProxy reads it, and, as in HAProxy 2.7, its
/// target receives nothing while the peers replicate (peer sessions are not logged, the section
/// has no log format for connection errors), where the frontend's own target gets its lines.
#[test]
fn a_peers_sections_log_target_receives_nothing_as_in_haproxy() {
    if !Haproxy::installed() {
        return;
    }
    let udp = || {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        s
    };
    let (peers_log, fe_log) = (udp(), udp());
    let (peer_h, peer_e, fe_h, fe_e) = (free_port(), free_port(), free_port(), free_port());
    let peers = [("hap", peer_h), ("hapee", peer_e)];
    let cfg = |port: u16| {
        node(&peers, port, None)
            .replacen(
                "peers mesh\n",
                &format!(
                    "peers mesh\n    log {} local0\n",
                    peers_log.local_addr().unwrap()
                ),
                1,
            )
            .replacen(
                "frontend fe\n",
                &format!(
                    "frontend fe\n    log {} local0\n    option httplog\n",
                    fe_log.local_addr().unwrap()
                ),
                1,
            )
    };
    let _h = Haproxy::start_with(&cfg(fe_h), fe_h, &["-db", "-L", "hap"]);
    let _e = Proxy::start_with(&cfg(fe_e), fe_e, &["-L", "hapee"]);
    // Tracked on haproxy, seen on hapee through the peers link (its first session may still be
    // settling: allow its reconnect), then tracked on hapee, seen on haproxy.
    for _ in 0..3 {
        curl(&[&format!("http://127.0.0.1:{fe_h}/hit")]);
    }
    let want = "cnt=3 gpc=3 visits=3";
    let peek_e = format!("http://127.0.0.1:{fe_e}/peek");
    assert_eq!(eventually(&peek_e, want, Duration::from_secs(8)), want);
    for _ in 0..3 {
        curl(&[&format!("http://127.0.0.1:{fe_e}/hit")]);
    }
    let want = "cnt=6 gpc=6 visits=6";
    let peek_h = format!("http://127.0.0.1:{fe_h}/peek");
    assert_eq!(eventually(&peek_h, want, Duration::from_secs(4)), want);
    let received = |s: &std::net::UdpSocket| {
        let mut lines = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.recv(&mut buf) {
            lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        lines
    };
    // Six /hit requests and the polls, three or more through each proxy.
    let fe_lines = received(&fe_log);
    let served = fe_lines
        .iter()
        .filter(|l| l.contains("fe fe/<NOSRV>"))
        .count();
    assert!(served >= 6, "frontend lines: {fe_lines:?}");
    assert_eq!(received(&peers_log), Vec::<String>::new());
}
