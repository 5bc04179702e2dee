//! A QUIC connection counts as HAProxy 2.7 counts one (its listener accepts it once the
//! handshake is done): open in the process, its frontend and its listener (`%ac`, `%fc`,
//! `dst_conn`, `show info`'s `CurrConns`) and in the accepted totals (`CumConns`) for as long
//! as it lasts. Neither Debian's haproxy nor the 2.7.0 build speak QUIC: hapee alone.

use crate::h3::{certificate, client_endpoint, fetch, open};
use crate::harness::*;
use std::io::{Read, Write};

fn info(sock: &std::path::Path) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    s.write_all(b"show info\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn field<'a>(info: &'a str, name: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or("")
}

#[test]
fn quic_connections_count_open_and_accepted_as_haproxy_counts_them() {
    let origin = Origin::start("o");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-quic-counts-{}-{port}", std::process::id()));
    let (pem, cert) = certificate(&dir);
    let sock = dir.join("api.sock");
    let defaults = logged_defaults_with(&format!(
        "    stats socket {} level admin\n",
        sock.display()
    ));
    let config = format!(
        "{defaults}frontend fe
    bind 127.0.0.1:{port} ssl crt {pem} alpn h2,http/1.1
    bind quic4@127.0.0.1:{port} ssl crt {pem} alpn h3
    log-format \"Q|%ac|%fc|%[dst_conn]|%HPO\"
    default_backend be
backend be
    server s1 {origin}
",
        pem = pem.display(),
        origin = origin.addr,
    );
    let p = Proxy::start(&config, port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/a");
    let endpoint = rt.block_on(async { client_endpoint(&cert) });
    let (conn, mut sender) = rt.block_on(open(&endpoint, ([127, 0, 0, 1], port).into()));
    let status = rt
        .block_on(fetch(&mut sender, "GET", &url, bytes::Bytes::new()))
        .0;
    assert_eq!(status, 200);
    let line = p.stdout_when(|l| l.contains("Q|"));
    assert!(line.contains("Q|1|1|1|/a"), "{line}");
    // Still open: counted as such, and once in the accepted ones.
    let now = info(&sock);
    assert_eq!(field(&now, "CurrConns"), "1", "{now}");
    assert_eq!(field(&now, "CumConns"), "1", "{now}");
    conn.close(0u32.into(), b"done");
    drop(sender);
    let closed = wait_until(std::time::Duration::from_secs(10), || {
        field(&info(&sock), "CurrConns") == "0"
    });
    assert!(closed, "{}", info(&sock));
}
