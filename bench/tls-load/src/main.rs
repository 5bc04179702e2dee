//! A full-handshake load generator: CONNS connections at a time, each a new TCP connection
//! and a full TLS handshake (no session resumption: the client keeps no session), then one
//! small HTTP/1.1 request read to its end (`--close`: a close_notify right after the
//! handshake instead), for SECONDS. It prints how many handshakes completed, how many
//! failed, and the wall time from the first connection to the last one's end.
//!
//! It is cheap on purpose, so that the server, not the client, is what a benchmark measures:
//! rustls with aws-lc-rs, X25519, one tokio current-thread runtime per thread (one
//! thread by default), and the server's certificate and handshake signature are not
//! verified. Checking them (an ECDSA or RSA signature verification per handshake, plus the
//! certificate's) is the largest part of a client's handshake cost, and none of it is the
//! server's work.
//!
//! Usage: tls-load HOST:PORT [--seconds S] [--conns N] [--threads T] [--tls 1.2|1.3]
//! [--close] [--sni NAME]

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Options {
    addr: SocketAddr,
    seconds: f64,
    conns: usize,
    threads: usize,
    tls12: bool,
    close: bool,
    sni: String,
}

fn usage(why: &str) -> ! {
    eprintln!(
        "tls-load: {why}\nusage: tls-load HOST:PORT [--seconds S] [--conns N] [--threads T] \
         [--tls 1.2|1.3] [--close] [--sni NAME]"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        addr: "127.0.0.1:443".parse().unwrap(),
        seconds: 10.0,
        conns: 64,
        threads: 1,
        tls12: false,
        close: false,
        sni: "bench.example".into(),
    };
    let mut addr = None;
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--seconds" => o.seconds = value(&a).parse().unwrap_or_else(|_| usage("bad --seconds")),
            "--conns" => o.conns = value(&a).parse().unwrap_or_else(|_| usage("bad --conns")),
            "--threads" => o.threads = value(&a).parse().unwrap_or_else(|_| usage("bad --threads")),
            "--tls" => match value(&a).as_str() {
                "1.2" => o.tls12 = true,
                "1.3" => o.tls12 = false,
                v => usage(&format!("--tls {v}: 1.2 or 1.3")),
            },
            "--close" => o.close = true,
            "--sni" => o.sni = value(&a),
            _ if addr.is_none() && !a.starts_with('-') => {
                addr = Some(
                    a.parse()
                        .unwrap_or_else(|_| usage(&format!("{a}: not an IP:port"))),
                )
            }
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    o.addr = addr.unwrap_or_else(|| usage("no address"));
    if o.conns == 0 || o.threads == 0 || o.threads > o.conns {
        usage("need 1 <= threads <= conns");
    }
    o
}

/// Accepts any certificate and any handshake signature: see the top of the file.
#[derive(Debug)]
struct Unverified(Vec<SignatureScheme>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

fn client_config(tls12: bool) -> Arc<ClientConfig> {
    use aws_lc_rs::cipher_suite as suite;
    // X25519 and one AES-128-GCM suite per version (and certificate type), so that every
    // server negotiates the same, whatever its own order of preference. P-256 is offered
    // second, never used for the key exchange by a server that prefers X25519 (TLS 1.3's
    // key share is X25519's alone), because OpenSSL serves a TLS 1.2 client an ECDSA
    // certificate only on a curve the client lists.
    let provider = CryptoProvider {
        kx_groups: vec![aws_lc_rs::kx_group::X25519, aws_lc_rs::kx_group::SECP256R1],
        cipher_suites: vec![
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..aws_lc_rs::default_provider()
    };
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    let version: &'static rustls::SupportedProtocolVersion = if tls12 {
        &rustls::version::TLS12
    } else {
        &rustls::version::TLS13
    };
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .expect("the provider has suites for the version")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Unverified(schemes)))
        .with_no_client_auth();
    // No session is kept, so every handshake is a full one.
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

struct Shared {
    stop: AtomicBool,
    done: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// The version and suite of the first handshake, as rustls names them.
    negotiated: Mutex<Option<String>>,
}

/// One connection: TCP connect, full handshake, then the request (or close_notify), read
/// until the server closes.
async fn one(
    connector: &TlsConnector,
    addr: SocketAddr,
    name: &ServerName<'static>,
    close: bool,
    buf: &mut Vec<u8>,
    negotiated: &Mutex<Option<String>>,
) -> Result<(), String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let mut tls = connector
        .connect(name.clone(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    {
        let mut first = negotiated.lock().unwrap();
        if first.is_none() {
            let conn = tls.get_ref().1;
            let text = |v: Option<String>| v.unwrap_or_else(|| "none".into());
            *first = Some(format!(
                "{},{},{}",
                text(conn.protocol_version().map(|v| format!("{v:?}"))),
                text(
                    conn.negotiated_cipher_suite()
                        .map(|s| format!("{:?}", s.suite()))
                ),
                text(
                    conn.negotiated_key_exchange_group()
                        .map(|g| format!("{:?}", g.name()))
                )
            ));
        }
    }
    if close {
        // The server answers the close_notify with its own and closes first, so the
        // client's ports do not pile up in TIME_WAIT.
        tls.shutdown()
            .await
            .map_err(|e| format!("close_notify: {e}"))?;
    } else {
        tls.write_all(b"GET / HTTP/1.1\r\nHost: bench.example\r\nConnection: close\r\n\r\n")
            .await
            .map_err(|e| format!("request: {e}"))?;
    }
    buf.clear();
    // A server that closes without a close_notify ends the read with an error; the
    // response, read before it, is what counts.
    let read = tls.read_to_end(buf).await;
    if close || buf.starts_with(b"HTTP/1.1 200") {
        return Ok(());
    }
    Err(format!(
        "response: {:?} ({})",
        String::from_utf8_lossy(&buf[..buf.len().min(40)]),
        read.err().map_or("closed".into(), |e| e.to_string())
    ))
}

async fn worker(shared: Arc<Shared>, connector: TlsConnector, o: Arc<Options>) {
    let name = ServerName::try_from(o.sni.clone()).unwrap_or_else(|_| usage("bad --sni"));
    let mut buf = Vec::with_capacity(512);
    while !shared.stop.load(Ordering::Relaxed) {
        match one(
            &connector,
            o.addr,
            &name,
            o.close,
            &mut buf,
            &shared.negotiated,
        )
        .await
        {
            Ok(()) => {
                shared.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                shared.first_error.lock().unwrap().get_or_insert(e);
                // A refused or exhausted connect would otherwise spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// This process's CPU time so far (user + system, in clock ticks, its ended threads
/// included), from /proc: the share of the client's core the load itself took.
fn own_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which ends with the last ')': utime and stime are
    // the 14th and 15th of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

fn main() {
    let o = Arc::new(options());
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        first_error: Mutex::new(None),
        negotiated: Mutex::new(None),
    });
    let connector = TlsConnector::from(client_config(o.tls12));
    let start = Instant::now();
    let threads: Vec<_> = (0..o.threads)
        .map(|t| {
            // Connections are spread evenly over the threads.
            let conns = o.conns / o.threads + usize::from(t < o.conns % o.threads);
            let (shared, connector, o) = (shared.clone(), connector.clone(), o.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                rt.block_on(async {
                    let tasks: Vec<_> = (0..conns)
                        .map(|_| tokio::spawn(worker(shared.clone(), connector.clone(), o.clone())))
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                });
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(o.seconds));
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let done = shared.done.load(Ordering::Relaxed);
    let failed = shared.failed.load(Ordering::Relaxed);
    let negotiated = shared.negotiated.lock().unwrap().take().unwrap_or_default();
    println!(
        "handshakes={done} failed={failed} seconds={elapsed:.3} rate={:.0} cpu_ticks={} \
         negotiated={negotiated}",
        done as f64 / elapsed,
        own_cpu_ticks()
    );
    let first_error = shared.first_error.lock().unwrap().take();
    if let Some(e) = first_error {
        eprintln!("tls-load: {failed} failed, the first: {e}");
    }
}
