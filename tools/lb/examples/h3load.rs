//! A small HTTP/3 load generator for `bench/h3.sh` (Debian's h2load is built without QUIC):
//! quinn + h3 clients against one URL.
//!
//!   h3load ADDR CA_PEM requests  CONNS STREAMS SECS   keep-alive requests: req/s, p50, p99
//!   h3load ADDR CA_PEM handshakes CONNS SECS          one new connection per request
//!   h3load ADDR CA_PEM idle       CONNS SECS          opens CONNS connections and holds them
//!
//! Prints one line of `key=value` figures.

use bytes::{Buf, Bytes};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn endpoint(ca: &str) -> quinn::Endpoint {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots
            .add(cert.expect("a certificate"))
            .expect("a usable CA");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).expect("QUIC TLS");
    let mut e = quinn::Endpoint::client("0.0.0.0:0".parse().unwrap()).expect("client socket");
    e.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    e
}

type Sender = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

/// Says why the first connection failed (later failures are only counted).
fn first_failure(what: &str, e: impl std::fmt::Display) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        eprintln!("h3load: {what}: {e}");
    }
}

async fn connect(e: &quinn::Endpoint, addr: SocketAddr) -> Option<(quinn::Connection, Sender)> {
    let connecting = e
        .connect(addr, "localhost")
        .map_err(|err| first_failure("connect", err))
        .ok()?;
    let conn = connecting
        .await
        .map_err(|err| first_failure("QUIC handshake", err))
        .ok()?;
    let (mut driver, sender) = h3::client::new(h3_quinn::Connection::new(conn.clone()))
        .await
        .map_err(|err| first_failure("HTTP/3 setup", err))
        .ok()?;
    tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
    Some((conn, sender))
}

async fn get(sender: &mut Sender, uri: &str) -> bool {
    let req = http::Request::get(uri).body(()).unwrap();
    let Ok(mut stream) = sender.send_request(req).await else {
        return false;
    };
    if stream.finish().await.is_err() {
        return false;
    }
    let Ok(resp) = stream.recv_response().await else {
        return false;
    };
    while let Ok(Some(mut chunk)) = stream.recv_data().await {
        chunk.advance(chunk.remaining());
    }
    resp.status().is_success()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: h3load ADDR CA_PEM requests|handshakes|idle CONNS [STREAMS] SECS");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[1].parse().expect("ADDR");
    let uri = format!("https://localhost:{}/", addr.port());
    let e = endpoint(&args[2]);
    let conns: usize = args[4].parse().expect("CONNS");
    let (streams, secs) = match args[3].as_str() {
        "requests" => (
            args[5].parse().expect("STREAMS"),
            args[6].parse().expect("SECS"),
        ),
        _ => (1usize, args[5].parse().expect("SECS")),
    };
    let secs: u64 = secs;
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    match args[3].as_str() {
        "idle" => {
            let mut held = Vec::new();
            for _ in 0..conns {
                match connect(&e, addr).await {
                    Some(c) => held.push(c),
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            println!(
                "connections={} errors={}",
                held.len(),
                errors.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_secs(secs)).await;
            return;
        }
        "requests" => {
            for _ in 0..conns {
                let Some((_conn, sender)) = connect(&e, addr).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                for _ in 0..streams {
                    let (mut sender, stop, lat, errors, uri) = (
                        sender.clone(),
                        stop.clone(),
                        latencies.clone(),
                        errors.clone(),
                        uri.clone(),
                    );
                    tasks.push(tokio::spawn(async move {
                        let mut mine = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            if get(&mut sender, &uri).await {
                                mine.push(t.elapsed());
                            } else {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        lat.lock().unwrap().extend(mine);
                    }));
                }
            }
        }
        _ => {
            for _ in 0..conns {
                let (e, stop, lat, errors, uri) = (
                    e.clone(),
                    stop.clone(),
                    latencies.clone(),
                    errors.clone(),
                    uri.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        match connect(&e, addr).await {
                            Some((conn, mut sender)) => {
                                if get(&mut sender, &uri).await {
                                    mine.push(t.elapsed());
                                } else {
                                    errors.fetch_add(1, Ordering::Relaxed);
                                }
                                conn.close(0u32.into(), b"");
                            }
                            None => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    lat.lock().unwrap().extend(mine);
                }));
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    println!(
        "done={} per_s={:.0} p50_ms={:.3} p99_ms={:.3} errors={}",
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        errors.load(Ordering::Relaxed)
    );
}
