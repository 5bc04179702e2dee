//! WebSocket across HTTP versions: `server … ws auto|h1|h2`, HTTP/1.1 upgrades turned into
//! RFC 8441 extended CONNECTs towards HTTP/2 servers and back, and extended CONNECTs from
//! HTTP/2 clients to HTTP/1.1 servers. HAProxy's own reg-test (`srv_ws.vtc`) is run with
//! hapee and Debian's haproxy in each role; bytes cross real tunnels both ways.

use crate::harness::*;
use crate::tls::{have, Ca, Pki};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// RFC 6455's sample key and the accept value it must get.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Sends the reg-test's WebSocket handshake and answers the status and headers (names in
/// lower case) of the response, with the connection for what follows.
fn handshake(port: u16) -> (u16, BTreeMap<String, String>, TcpStream) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
         sec-websocket-key: {KEY}\r\n\r\n"
    )
    .unwrap();
    let text = read_head(&mut s);
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, s)
}

/// The server of `srv_ws.vtc`: it answers WebSocket handshakes itself, saying which HTTP
/// version they came in.
fn ws_server_config(fe: u16, fessl: u16, crt: &str, h2c: Option<u16>) -> String {
    let h2c = h2c.map_or(String::new(), |p| {
        format!("    bind 127.0.0.1:{p} proto h2\n")
    });
    format!(
        "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{fe}
    bind 127.0.0.1:{fessl} ssl crt {crt} alpn h2,http/1.1
{h2c}    capture request header sec-websocket-key len 128
    http-request set-var(txn.ver) req.ver
    use_backend be
backend be
    acl ws_handshake hdr(upgrade) -m str websocket
    http-request return status 200 if !ws_handshake
    http-request return status 200 hdr connection upgrade hdr upgrade websocket hdr sec-websocket-accept \"%[capture.req.hdr(0),concat(258EAFA5-E914-47DA-95CA-C5AB0DC85B11,,),sha1,base64]\" if ws_handshake
    http-after-response set-status 101 if {{ status eq 200 }} {{ res.hdr(upgrade) -m str websocket }}
    http-after-response set-header x-backend-protocol \"%[var(txn.ver)]\"
"
    )
}

/// The load balancer of `srv_ws.vtc`: one listener per way of reaching that server (whose
/// HTTP/2 prior-knowledge listener is `h2c`).
fn ws_balancer_config(ports: &[u16], fe: u16, fessl: u16, h2c: u16) -> String {
    let srv = format!("127.0.0.1:{fe}");
    let h2 = format!("127.0.0.1:{h2c}");
    let ssl = format!("127.0.0.1:{fessl} ssl verify none");
    let alpn = "http-response set-header x-alpn \"%[ssl_bc_alpn]\"";
    let listeners = [
        format!("server s {srv} proto h2 ws h1"),
        format!("server s {h2} proto h2 ws h2"),
        format!("server s {ssl} alpn h2,http/1.1 ws h2\n    {alpn}"),
        format!("server s {srv}"),
        format!("server s {ssl} alpn h2,http/1.1 ws auto\n    {alpn}"),
        format!("server s {ssl} alpn h2,http/1.1\n    {alpn}"),
        format!("server s {h2} proto h2"),
        format!("server s {ssl} alpn h2 ws auto\n    {alpn}"),
    ];
    let mut cfg = "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
"
    .to_string();
    for (i, (server, port)) in listeners.iter().zip(ports).enumerate() {
        cfg += &format!("listen l{i}\n    bind 127.0.0.1:{port}\n    {server}\n");
    }
    cfg
}

/// The reg-test's expectations, listener by listener: the status, the protocol the server
/// saw, and the ALPN the balancer's TLS connection settled.
const EXPECTED: [(u16, &str, &str); 8] = [
    (101, "1.1", ""),
    (101, "2.0", ""),
    (101, "2.0", "h2"),
    (101, "1.1", ""),
    (101, "1.1", "http/1.1"),
    (101, "1.1", "http/1.1"),
    (101, "2.0", ""),
    (101, "2.0", "h2"),
];

fn run_reg_test(ports: &[u16]) -> Vec<(u16, String, String, String)> {
    ports
        .iter()
        .map(|&port| {
            let (status, h, _) = handshake(port);
            let get = |n: &str| h.get(n).cloned().unwrap_or_default();
            (
                status,
                get("x-backend-protocol"),
                get("x-alpn"),
                get("sec-websocket-accept"),
            )
        })
        .collect()
}

fn check_reg_test(who: &str, got: &[(u16, String, String, String)]) {
    for (i, ((status, ver, alpn, accept), want)) in got.iter().zip(EXPECTED).enumerate() {
        assert_eq!(
            (*status, ver.as_str(), alpn.as_str(), accept.as_str()),
            (want.0, want.1, want.2, ACCEPT),
            "{who}: listener l{i}"
        );
    }
}

/// Ports for the server (2) and the balancer (8).
fn ports() -> (u16, u16, Vec<u16>) {
    (
        free_port(),
        free_port(),
        (0..8).map(|_| free_port()).collect(),
    )
}

fn certificate(tag: &str) -> (Pki, String) {
    let pki = Pki::new(tag);
    let ca = Ca::new("Hapee WS CA");
    let (c, k) = ca.issue(&["ws.example"], false, false);
    let crt = pki.write("ws.pem", &(c + &k));
    (pki, crt)
}

#[test]
fn srv_ws_reg_test_expectations_are_debian_haproxys() {
    if !Haproxy::installed() {
        return;
    }
    let (_pki, crt) = certificate("ws-ha");
    let (fe, fessl, lb) = ports();
    let _server = Haproxy::start(&ws_server_config(fe, fessl, &crt, None), fessl);
    let _lb = Haproxy::start(&ws_balancer_config(&lb, fe, fessl, fe), lb[7]);
    check_reg_test("haproxy alone", &run_reg_test(&lb));
}

#[test]
fn srv_ws_reg_test_with_hapee_as_the_balancer_in_front_of_haproxy() {
    if !Haproxy::installed() {
        return;
    }
    let (_pki, crt) = certificate("ws-lb");
    let (fe, fessl, lb) = ports();
    let _server = Haproxy::start(&ws_server_config(fe, fessl, &crt, None), fessl);
    let _lb = Proxy::start(&ws_balancer_config(&lb, fe, fessl, fe), lb[7]);
    check_reg_test("hapee balancer", &run_reg_test(&lb));
}

#[test]
fn srv_ws_reg_test_with_hapee_as_the_server_behind_haproxy() {
    if !Haproxy::installed() {
        return;
    }
    let (_pki, crt) = certificate("ws-srv");
    let (fe, fessl, lb) = ports();
    // hapee announces extended CONNECT on its HTTP/2 listeners and answers it. HAProxy tells
    // HTTP/2's preface on a clear HTTP/1 listener; hapee needs `proto h2` for that.
    let h2c = free_port();
    let _server = Proxy::start(&ws_server_config(fe, fessl, &crt, Some(h2c)), fessl);
    let _lb = Haproxy::start(&ws_balancer_config(&lb, fe, fessl, h2c), lb[7]);
    check_reg_test("haproxy balancer", &run_reg_test(&lb));
}

/// An HTTP/2 WebSocket server (hyper, extended CONNECT enabled): it answers the handshake
/// with 200, tells in `x-seen` what it was asked, and echoes in upper case.
fn h2_echo_server() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            loop {
                let Ok((s, _)) = l.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        |mut req: hyper::Request<hyper::body::Incoming>| async move {
                            let protocol = req
                                .extensions()
                                .get::<hyper::ext::Protocol>()
                                .map(|p| p.as_str().to_string())
                                .unwrap_or_default();
                            let seen = format!(
                                "{} {} protocol={protocol} key={} connection={}",
                                req.method(),
                                req.uri(),
                                req.headers()
                                    .get("sec-websocket-key")
                                    .map_or("-", |v| v.to_str().unwrap_or("?")),
                                req.headers().contains_key("connection"),
                            );
                            let on = hyper::upgrade::on(&mut req);
                            tokio::spawn(async move {
                                let Ok(up) = on.await else { return };
                                let mut io = TokioIo::new(up);
                                let mut buf = [0u8; 1024];
                                while let Ok(n) = io.read(&mut buf).await {
                                    if n == 0 {
                                        break;
                                    }
                                    let upper = buf[..n].to_ascii_uppercase();
                                    if io.write_all(&upper).await.is_err() {
                                        break;
                                    }
                                }
                            });
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .header("x-seen", seen)
                                    .body(Empty::<Bytes>::new())
                                    .unwrap(),
                            )
                        },
                    );
                    let _ = hyper::server::conn::http2::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
                });
            }
        });
    });
    addr
}

/// Writes `msg` into an open tunnel and reads as many bytes back.
fn echo(s: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < msg.len() {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "tunnel closed after {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn an_http1_websocket_crosses_an_extended_connect_to_an_http2_server() {
    let server = h2_echo_server();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}    timeout tunnel 5s
{}",
        fe_to_app(port, "", format!("{server} ws h2"))
    );
    let _p = Proxy::start(&cfg, port);
    let (status, h, mut s) = handshake(port);
    assert_eq!(status, 101, "{h:?}");
    // The server got an extended CONNECT with the client's key; the client gets the accept
    // value of its key, which the HTTP/2 server did not send.
    assert_eq!(
        h["x-seen"],
        format!("CONNECT http://127.0.0.1/ protocol=websocket key={KEY} connection=false")
    );
    assert_eq!(h["sec-websocket-accept"], ACCEPT);
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"].to_ascii_lowercase(), "upgrade");
    assert_eq!(echo(&mut s, b"hello over h2"), b"HELLO OVER H2");
    assert_eq!(echo(&mut s, b"twice"), b"TWICE");
}

/// An HTTP/1.1 WebSocket server: it checks the key it gets, answers with its accept value
/// (a wrong one when `lie`), says in `x-key` which key it got, and echoes in upper case.
fn h1_echo_server(lie: bool) -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let key = text
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
                    })
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                let accept = if lie {
                    ACCEPT.to_string()
                } else {
                    accept_of(&key)
                };
                let first = text.lines().next().unwrap_or("").to_string();
                let _ = write!(
                    s,
                    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
                     connection: upgrade\r\nsec-websocket-accept: {accept}\r\nx-key: {key}\r\n\
                     x-first: {first}\r\n\r\n"
                );
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n].to_ascii_uppercase()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// RFC 6455's accept value, computed with openssl.
fn accept_of(key: &str) -> String {
    let out = output_with_input(
        std::process::Command::new("sh").args(["-c", "openssl sha1 -binary | openssl base64"]),
        format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes(),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An HTTP/2 client's extended CONNECT (hyper): the status, the headers and the stream.
async fn extended_connect(
    port: u16,
    path: &str,
) -> (
    u16,
    hyper::HeaderMap,
    Option<TokioIo<hyper::upgrade::Upgraded>>,
) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    // hapee announces extended CONNECT in its SETTINGS; let them arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut req = hyper::Request::builder()
        .method("CONNECT")
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    req.extensions_mut()
        .insert(hyper::ext::Protocol::from_static("websocket"));
    let mut resp = send.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let up = if status == 200 {
        hyper::upgrade::on(&mut resp).await.ok().map(TokioIo::new)
    } else {
        None
    };
    (status, resp.headers().clone(), up)
}

#[test]
fn an_http2_extended_connect_reaches_an_http1_websocket_server() {
    if !have("openssl", &["version"]) {
        return;
    }
    let honest = h1_echo_server(false);
    let liar = h1_echo_server(true);
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}    timeout tunnel 5s
frontend fe
    bind 127.0.0.1:{port} proto h2
    use_backend liar if {{ path /liar }}
    default_backend app
backend app
    server s1 {honest}
backend liar
    server s1 {liar}
"
    );
    let _p = Proxy::start(&cfg, port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (status, h, up) = extended_connect(port, "/chat").await;
        assert_eq!(status, 200, "{h:?}");
        // The HTTP/1.1 server got a GET upgrade with a key made up for it (16 bytes in
        // base64) and answered its accept value.
        assert_eq!(h["x-first"], "GET /chat HTTP/1.1");
        let key = h["x-key"].to_str().unwrap().to_string();
        assert_eq!(key.len(), 24, "{key}");
        assert_ne!(key, KEY);
        assert!(!h.contains_key("upgrade") && !h.contains_key("connection"));
        let mut io = up.expect("the stream is a tunnel");
        io.write_all(b"hello from h2").await.unwrap();
        let mut buf = vec![0u8; 13];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, b"HELLO FROM H2");
        // A server whose accept value does not answer the key sent an invalid response.
        let (status, _, up) = extended_connect(port, "/liar").await;
        assert_eq!(status, 502);
        assert!(up.is_none());
    });
}
