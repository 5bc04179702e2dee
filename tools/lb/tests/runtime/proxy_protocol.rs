//! The PROXY protocol over real sockets: curl's `--haproxy-protocol`, Debian's haproxy in
//! front of hapee (`send-proxy-v2` to `accept-proxy`) and behind it (`send-proxy` to
//! `accept-proxy`), and `expect-proxy layer4` in TCP mode.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends one `Connection: close` request over a fresh connection (after `preface`) and
/// answers (the client's own address, the whole response).
fn request_over(port: u16, preface: &[u8]) -> (std::net::SocketAddr, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let me = s.local_addr().unwrap();
    s.write_all(preface).unwrap();
    s.write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    (me, out)
}

#[test]
fn accept_proxy_takes_the_client_from_curl_and_from_v1_and_v2_headers() {
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port} accept-proxy
    log-format \"%ci:%cp %fi:%fp %ST\"
    log stdout format raw local0
    http-request return status 200 content-type text/plain lf-string \"src=%[src]:%[src_port] dst=%[dst]:%[dst_port] pp=%[fc_rcvd_proxy] auth=%[fc_pp_authority] uid=%[fc_pp_unique_id]\"
"
    );
    let proxy = Proxy::start(&cfg, port);
    // v1, as a load balancer in front writes it.
    let (_, out) = request_over(port, b"PROXY TCP4 203.0.113.7 198.51.100.1 40001 443\r\n");
    assert!(
        out.contains("src=203.0.113.7:40001 dst=198.51.100.1:443 pp=1"),
        "{out}"
    );
    // v2 with an authority and a unique id, and an IPv6 client.
    let v2 = v2_header(
        "[2001:db8::9]:5555",
        "[2001:db8::1]:8443",
        &[(0x02, b"shop.example"), (0x05, b"req-42")],
    );
    let (_, out) = request_over(port, &v2);
    assert!(
        out.contains("src=2001:db8::9:5555 dst=2001:db8::1:8443 pp=1 auth=shop.example uid=req-42"),
        "{out}"
    );
    // A connection without the header is closed unanswered.
    let (_, out) = request_over(port, b"");
    assert!(out.is_empty(), "{out}");
    // curl's own v1 header carries the real ends of its connection.
    if have_tool("curl", "--version") {
        let (code, body) = curl(&["--haproxy-protocol", &format!("http://127.0.0.1:{port}/")]);
        assert_eq!(code, 200, "{body}");
        assert!(
            body.contains("src=127.0.0.1:") && body.contains("pp=1"),
            "{body}"
        );
    }
    let log = proxy.stdout_when(|l| l.contains("203.0.113.7:40001 198.51.100.1:443 200"));
    assert!(
        log.contains("203.0.113.7:40001 198.51.100.1:443 200"),
        "the log shows the original client: {log}"
    );
}

/// A v2 header built by hand, independently of the runtime's encoder.
fn v2_header(src: &str, dst: &str, tlvs: &[(u8, &[u8])]) -> Vec<u8> {
    let src: std::net::SocketAddr = src.parse().unwrap();
    let dst: std::net::SocketAddr = dst.parse().unwrap();
    let mut body = Vec::new();
    let fam = match (src.ip(), dst.ip()) {
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            body.extend_from_slice(&s.octets());
            body.extend_from_slice(&d.octets());
            0x21
        }
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            body.extend_from_slice(&s.octets());
            body.extend_from_slice(&d.octets());
            0x11
        }
        _ => panic!("one family"),
    };
    body.extend_from_slice(&src.port().to_be_bytes());
    body.extend_from_slice(&dst.port().to_be_bytes());
    for (t, v) in tlvs {
        body.push(*t);
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
    }
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x21, fam]);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn haproxy_send_proxy_v2_in_front_of_hapee_accept_proxy() {
    if !have_tool("haproxy", "-v") {
        return;
    }
    let hapee_port = free_port();
    let ha_port = free_port();
    let proxy = Proxy::start(
        &format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{hapee_port} accept-proxy
    http-request return status 200 content-type text/plain lf-string \"src=%[src]:%[src_port] uid=%[fc_pp_unique_id]\"
"
        ),
        hapee_port,
    );
    let _ha = Haproxy::start_with(
        &format!(
            "defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend front
    bind 127.0.0.1:{ha_port}
    unique-id-format uid-%[src_port]
    default_backend hapee
backend hapee
    server h 127.0.0.1:{hapee_port} send-proxy-v2 proxy-v2-options unique-id,crc32c
"
        ),
        ha_port,
        &["-db"],
    );
    let (me, out) = request_over(ha_port, b"");
    assert!(
        out.contains(&format!(
            "src={}:{} uid=uid-{}",
            me.ip(),
            me.port(),
            me.port()
        )),
        "hapee sees the client of haproxy, not haproxy: {out}\n{}",
        proxy.stderr()
    );
}

#[test]
fn hapee_send_proxy_v1_and_v2_to_haproxy_accept_proxy() {
    if !have_tool("haproxy", "-v") {
        return;
    }
    for option in ["send-proxy", "send-proxy-v2 proxy-v2-options crc32c"] {
        let hapee_port = free_port();
        let ha_port = free_port();
        let _ha = Haproxy::start_with(
            &format!(
                "defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend back
    bind 127.0.0.1:{ha_port} accept-proxy
    http-request return status 200 content-type text/plain lf-string \"seen=%[src]:%[src_port]\"
"
            ),
            ha_port,
            &["-db"],
        );
        let _proxy = Proxy::start(
            &format!(
                "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{hapee_port}
    default_backend haproxy
backend haproxy
    server h 127.0.0.1:{ha_port} {option}
"
            ),
            hapee_port,
        );
        for _ in 0..3 {
            let (me, out) = request_over(hapee_port, b"");
            assert!(
                out.contains(&format!("seen={}:{}", me.ip(), me.port())),
                "{option}: haproxy sees hapee's client: {out}"
            );
        }
    }
}

#[test]
fn tcp_mode_expect_proxy_layer4_logs_the_original_client() {
    let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let echo_addr = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in echo.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let port = free_port();
    let proxy = Proxy::start(
        &format!(
            "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen l
    bind 127.0.0.1:{port}
    log stdout format raw local0
    log-format \"%ci:%cp %B\"
    tcp-request connection expect-proxy layer4 if {{ src 127.0.0.1 }}
    server e {echo_addr}
"
        ),
        port,
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The header and the first payload bytes in one segment: the payload must not be eaten.
    s.write_all(b"PROXY TCP4 192.0.2.50 192.0.2.1 6000 22\r\nping")
        .unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    drop(s);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !proxy.stdout().contains("192.0.2.50:6000 4") {
        assert!(
            std::time::Instant::now() < deadline,
            "log: {}",
            proxy.stdout()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
