//! QUIC listeners beyond the basics: `quic6@` on the IPv6 loopback (quinn and ngtcp2's
//! client), 0-RTT offered only where `allow-0rtt` says, and a request whose 0-RTT the proxy
//! rejects (it cannot resume the session) sent again by the client after the handshake and
//! served once.

use crate::h3::{certificate, client_endpoint, fetch, h3_over, wait_lines};
use crate::harness::{free_port, Origin, Proxy, Scratch, DEFAULTS};
use bytes::Bytes;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A proxy with a QUIC bind on `quic` (and a TCP bind on 127.0.0.1 for the start check).
fn proxy(dir: &Path, port: u16, quic: &str, extra: &str, origin: &Origin) -> Proxy {
    let pem = dir.join("site.pem");
    Proxy::start(
        &format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    bind {quic} ssl crt {} alpn h3 {extra}
    log stdout format raw local0
    option httplog
    default_backend be
backend be
    server s1 {}
",
            pem.display(),
            origin.addr
        ),
        port,
    )
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn quic6_binds_serve_on_the_ipv6_loopback() {
    let origin = Origin::start("o6");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-h3v6-{}-{port}", std::process::id()));
    let (_, cert) = certificate(&dir);
    let p = proxy(&dir, port, &format!("quic6@[::1]:{port}"), "", &origin);
    current_thread().block_on(async {
        // The tests' client configuration (trust, ALPN) on an IPv6 socket.
        let mut endpoint = quinn::Endpoint::client("[::]:0".parse().unwrap()).unwrap();
        endpoint.set_default_client_config(crate::h3::client_config(&cert));
        let to: SocketAddr = format!("[::1]:{port}").parse().unwrap();
        let conn = endpoint.connect(to, "localhost").unwrap().await.unwrap();
        let mut sender = h3_over(conn).await;
        let uri = format!("https://localhost:{port}/v6");
        let (status, _, body) = fetch(&mut sender, "GET", &uri, Bytes::new()).await;
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("path=/v6"));
    });
    // IPv6 clients are logged without brackets, as HAProxy does.
    let lines = wait_lines(|| p.stdout(), "/v6 HTTP/3.0", 1);
    assert!(
        lines.len() == 1 && lines[0].starts_with("::1:"),
        "{}",
        p.stdout()
    );
    // ngtcp2's client over IPv6 too.
    if Command::new("gtlsclient").arg("--help").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ngtcp2-client is missing; .ci/run installs it"
        );
        return;
    }
    let download = dir.join("ngtcp2");
    std::fs::create_dir_all(&download).unwrap();
    let out = Command::new("gtlsclient")
        .args(["--exit-on-all-streams-close", "--quiet", "--timeout=10s"])
        .arg(format!("--download={}", download.display()))
        .args(["::1", &port.to_string()])
        .arg(format!("https://localhost:{port}/ngtcp2v6"))
        .output()
        .unwrap();
    let got = std::fs::read_to_string(download.join("ngtcp2v6")).unwrap_or_default();
    assert!(
        got.contains("path=/ngtcp2v6"),
        "{got}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One request on a first connection, then the session ticket is kept and the endpoint idle.
async fn first_visit(endpoint: &quinn::Endpoint, to: SocketAddr, port: u16) {
    let conn = endpoint.connect(to, "localhost").unwrap().await.unwrap();
    let mut sender = h3_over(conn.clone()).await;
    let uri = format!("https://localhost:{port}/first");
    assert_eq!(fetch(&mut sender, "GET", &uri, Bytes::new()).await.0, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.close(0u32.into(), b"");
    endpoint.wait_idle().await;
}

#[test]
fn zero_rtt_needs_allow_0rtt_and_rejected_early_requests_are_sent_again() {
    let origin = Origin::start("o1");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-h3rtt-{}-{port}", std::process::id()));
    let (_, cert) = certificate(&dir);
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let quic = format!("quic4@127.0.0.1:{port}");
    let rt = current_thread();
    let endpoint = rt.block_on(async { client_endpoint(&cert) });
    // Without `allow-0rtt`, the session the client keeps does not allow early data.
    {
        let _p = proxy(&dir, port, &quic, "", &origin);
        rt.block_on(async {
            first_visit(&endpoint, to, port).await;
            let connecting = endpoint.connect(to, "localhost").unwrap();
            assert!(
                connecting.into_0rtt().is_err(),
                "0-RTT offered without allow-0rtt"
            );
        });
    }
    // With it, the client gets a session for 0-RTT…
    let port2 = free_port();
    let to = SocketAddr::from(([127, 0, 0, 1], port2));
    let quic = format!("quic4@127.0.0.1:{port2}");
    {
        let _p = proxy(&dir, port2, &quic, "allow-0rtt", &origin);
        rt.block_on(first_visit(&endpoint, to, port2));
    }
    // …that a restarted proxy cannot resume: its 0-RTT request is rejected (never served), and
    // the client sends it again after a handshake. The proxy serves it once, not as early data.
    let p = proxy(&dir, port2, &quic, "allow-0rtt", &origin);
    rt.block_on(async {
        let connecting = endpoint.connect(to, "localhost").unwrap();
        let (conn, accepted) = connecting
            .into_0rtt()
            .unwrap_or_else(|_| panic!("the client has a 0-RTT ticket"));
        let uri = format!("https://localhost:{port2}/replay");
        let early = {
            let (conn, uri) = (conn.clone(), uri.clone());
            tokio::spawn(async move {
                // Fails once the early data is rejected.
                let Ok((mut driver, mut sender)) =
                    h3::client::new(h3_quinn::Connection::new(conn)).await
                else {
                    return;
                };
                tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
                let req = http::Request::get(uri).body(()).unwrap();
                if let Ok(mut stream) = sender.send_request(req).await {
                    let _ = stream.finish().await;
                    let _ = stream.recv_response().await;
                }
            })
        };
        assert!(
            !accepted.await,
            "the restarted proxy rejects the early data"
        );
        // The h3 crate's client closes a connection whose 0-RTT was rejected: the request
        // goes again on a new connection (a browser would reuse the same one).
        let _ = early.await;
        drop(conn);
        let conn = endpoint.connect(to, "localhost").unwrap().await.unwrap();
        let mut sender = h3_over(conn).await;
        let (status, _, body) = fetch(&mut sender, "GET", &uri, Bytes::new()).await;
        assert_eq!(status, 200);
        assert!(!String::from_utf8_lossy(&body).contains("hdr:early-data"));
    });
    std::thread::sleep(Duration::from_millis(500));
    let served = wait_lines(|| p.stdout(), "/replay HTTP/3.0", 1);
    assert_eq!(served.len(), 1, "{}", p.stdout());
}
