//! `send-proxy-v2-ssl-cn` and `proxy-v2-options` behind a TLS frontend: the PROXY v2 header
//! hapee sends carries the same TLVs and SSL sub-TLVs as the one Debian's haproxy sends for
//! the same client, and haproxy's `accept-proxy` reads it.

use crate::harness::*;
use crate::tls::{curl_tls, Pki};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// An origin that keeps the PROXY v2 header of each connection and answers 200.
fn capturing_origin() -> (std::net::SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut fixed = [0u8; 16];
            if s.read_exact(&mut fixed).is_err() {
                continue;
            }
            let len = u16::from_be_bytes([fixed[14], fixed[15]]) as usize;
            let mut rest = vec![0u8; len];
            if s.read_exact(&mut rest).is_err() {
                continue;
            }
            kept.lock().unwrap().push([fixed.to_vec(), rest].concat());
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (addr, seen)
}

/// The TLVs of a v2 header over IPv4, the SSL one opened into its flags, verify result and
/// sub-TLVs; the checksum's value left out (it covers the client's port).
fn tlvs(header: &[u8]) -> Vec<(u8, String)> {
    assert_eq!(header[13], 0x11, "TCP over IPv4");
    let mut out = Vec::new();
    let mut at = 16 + 12;
    while at + 3 <= header.len() {
        let kind = header[at];
        let len = u16::from_be_bytes([header[at + 1], header[at + 2]]) as usize;
        let value = &header[at + 3..at + 3 + len];
        at += 3 + len;
        match kind {
            0x03 => out.push((kind, format!("{len} bytes"))),
            0x20 => {
                out.push((
                    kind,
                    format!("client={} verify={:?}", value[0], &value[1..5]),
                ));
                let mut sub = 5;
                while sub + 3 <= value.len() {
                    let k = value[sub];
                    let l = u16::from_be_bytes([value[sub + 1], value[sub + 2]]) as usize;
                    let v = String::from_utf8_lossy(&value[sub + 3..sub + 3 + l]).into_owned();
                    out.push((k, v));
                    sub += 3 + l;
                }
            }
            _ => out.push((kind, String::from_utf8_lossy(value).into_owned())),
        }
    }
    out
}

#[test]
fn ssl_tlvs_match_haproxys_and_haproxy_accept_proxy_reads_them() {
    if !have_tool("curl", "--version") || !Haproxy::installed() {
        return;
    }
    let pki = Pki::with_server_certs("ppssl");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    let (cert, key) = pki.client_cert(&client_ca, "alice", false);
    let (origin, seen) = capturing_origin();
    let cfg = |port: u16, server: &str| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {} ca-file {} verify optional alpn http/1.1
    default_backend b
backend b
    server s {server} send-proxy-v2-ssl-cn proxy-v2-options ssl-cipher,cert-sig,cert-key,authority,crc32c
",
            pki.path("default.pem"),
            pki.path("client-ca.pem"),
        )
    };
    let cacert = pki.path("ca.pem");
    let request = |port: u16| {
        let resolve = format!("default.example:{port}:127.0.0.1");
        let url = format!("https://default.example:{port}/");
        let (out, err) = curl_tls(&[
            "--cacert",
            &cacert,
            "--resolve",
            &resolve,
            "--http1.1",
            "--tlsv1.3",
            "--tls13-ciphers",
            "TLS_AES_128_GCM_SHA256",
            "--cert",
            &cert,
            "--key",
            &key,
            &url,
        ]);
        assert!(out.ends_with("200 1.1"), "{out} {err}");
    };
    let port = free_port();
    let hapee = Proxy::start(&cfg(port, &origin.to_string()), port);
    request(port);
    drop(hapee);
    let ha_port = free_port();
    let ha = Haproxy::start(&cfg(ha_port, &origin.to_string()), ha_port);
    request(ha_port);
    drop(ha);
    let headers = seen.lock().unwrap().clone();
    // The probes that found the ports open sent no header; the two requests did.
    let requests: Vec<&Vec<u8>> = headers.iter().filter(|h| h.len() > 28).collect();
    assert_eq!(requests.len(), 2, "{headers:?}");
    let (ours, theirs) = (tlvs(requests[0]), tlvs(requests[1]));
    assert_eq!(ours, theirs, "hapee's TLVs, then haproxy's");
    for expected in [
        (0x01, "http/1.1".to_string()),
        (0x02, "default.example".to_string()),
        (0x20, "client=7 verify=[0, 0, 0, 0]".to_string()),
        (0x21, "TLSv1.3".to_string()),
        (0x22, "alice".to_string()),
        (0x23, "TLS_AES_128_GCM_SHA256".to_string()),
    ] {
        assert!(ours.contains(&expected), "{expected:?} in {ours:?}");
    }
    // haproxy's accept-proxy takes hapee's header: the client and the authority.
    let back_port = free_port();
    let _back = Haproxy::start_with(
        &format!(
            "{DEFAULTS}frontend back
    bind 127.0.0.1:{back_port} accept-proxy
    http-request return status 200 content-type text/plain lf-string \"src=%[src] authority=%[fc_pp_authority]\"
"
        ),
        back_port,
        &["-db"],
    );
    let port = free_port();
    let _hapee = Proxy::start(&cfg(port, &format!("127.0.0.1:{back_port}")), port);
    let resolve = format!("default.example:{port}:127.0.0.1");
    let (out, err) = curl_tls(&[
        "--cacert",
        &cacert,
        "--resolve",
        &resolve,
        &format!("https://default.example:{port}/"),
    ]);
    assert!(
        out.starts_with("src=127.0.0.1 authority=default.example"),
        "{out} {err}"
    );
}
