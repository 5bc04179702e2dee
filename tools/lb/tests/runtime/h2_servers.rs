//! HTTP/2 towards servers: `server … proto h2` (h2c) and `alpn h2` over TLS. A real gRPC
//! client and server (grpcio) through the proxy, side by side with Debian's haproxy; HTTP/1.1
//! clients to an HTTP/2 server over one multiplexed connection; Debian's haproxy as a TLS
//! server that the proxy reaches by ALPN, seen by the `ssl_bc_*` and `ssl_s_*` fetches.

use crate::harness::*;
use crate::tls::{curl_tls, have, Ca, Pki};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn grpc_script(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/grpc")
        .join(name)
}

/// Whether python3 has grpcio; outside CI a missing one skips the test, in CI it fails.
fn have_grpcio() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import grpc"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "grpcio is required in CI (.ci/run installs it)"
        );
        eprintln!("SKIP: grpcio is not installed (pip install grpcio)");
    }
    ok
}

/// The gRPC server of `testdata/grpc/server.py`; it stops when dropped (its stdin closes).
struct GrpcServer(Child);

impl GrpcServer {
    fn start(port: u16) -> GrpcServer {
        let mut child = Command::new("python3")
            .arg(grpc_script("server.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        GrpcServer(child)
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn grpc_client(port: u16) -> String {
    let out = Command::new("python3")
        .arg(grpc_script("client.py"))
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn grpc_config(port: u16, server: u16) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} proto h2
    default_backend grpc
backend grpc
    server s1 127.0.0.1:{server} proto h2
"
    )
}

#[test]
fn grpc_calls_keep_their_status_trailers_end_to_end() {
    if !have_grpcio() {
        return;
    }
    let server_port = free_port();
    let _server = GrpcServer::start(server_port);
    let port = free_port();
    let _p = Proxy::start(&grpc_config(port, server_port), port);
    let out = grpc_client(port);
    // A unary call with its trailing metadata, a failure carried by `grpc-status` and
    // `grpc-message` in the trailers, and a server stream.
    assert!(out.contains("say: echo:hello OK grpcio"), "{out}");
    assert!(
        out.contains("missing: NOT_FOUND no such thing: widget"),
        "{out}"
    );
    assert!(out.contains("count: item 0,item 1,item 2"), "{out}");
    // Debian's haproxy answers the same calls the same way.
    if let Some((theirs, _)) = with_haproxy(|p| grpc_config(p, server_port), grpc_client) {
        assert_eq!(out, theirs);
    }
}

/// An HTTP/2-only origin (prior knowledge) that describes each request, counting the TCP
/// connections it accepts; `/slow/<ms>` answers after that long. Over TLS (see
/// [`OriginTls`]) when started with [`H2Origin::start_tls`].
pub(super) struct H2Origin {
    pub(super) addr: SocketAddr,
    pub(super) conns: Arc<OriginCounts>,
    _runtime: tokio::runtime::Runtime,
}

/// What an origin counts: the connections it accepted (what it dereferences to, the count
/// most tests compare) and the requests it received.
#[derive(Default)]
pub(super) struct OriginCounts {
    pub(super) conns: AtomicUsize,
    pub(super) requests: AtomicUsize,
}

impl std::ops::Deref for OriginCounts {
    type Target = AtomicUsize;

    fn deref(&self) -> &AtomicUsize {
        &self.conns
    }
}

/// How a TLS origin answers: with ALPN `h2` offered, each handshake begun only after `delay`
/// (a server slow to answer), and the first `fail` connections closed after that delay
/// instead.
pub(super) struct OriginTls {
    pub(super) delay: std::time::Duration,
    pub(super) fail: usize,
}

impl H2Origin {
    pub(super) fn start() -> H2Origin {
        H2Origin::start_with(None)
    }

    pub(super) fn start_tls(tls: OriginTls) -> H2Origin {
        H2Origin::start_with(Some(tls))
    }

    fn start_with(tls: Option<OriginTls>) -> H2Origin {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let conns = Arc::new(OriginCounts::default());
        let counted = conns.clone();
        let acceptor = tls.as_ref().map(|_| tls_acceptor());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                let nth = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let counts = counted.clone();
                let (acceptor, delay, fail) = match (&acceptor, &tls) {
                    (Some(a), Some(t)) => (Some(a.clone()), t.delay, nth <= t.fail),
                    _ => (None, std::time::Duration::ZERO, false),
                };
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    match acceptor {
                        None => serve_h2(stream, counts).await,
                        Some(_) if fail => drop(stream),
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                serve_h2(tls, counts).await;
                            }
                        }
                    }
                });
            }
        });
        H2Origin {
            addr,
            conns,
            _runtime: runtime,
        }
    }
}

/// A TLS acceptor with a self-signed certificate, offering ALPN `h2`.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["origin.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Serves HTTP/2 on one connection, counting the requests in `counts` (see [`answer`]).
async fn serve_h2<T>(io: T, counts: Arc<OriginCounts>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        counts.requests.fetch_add(1, Ordering::SeqCst);
        answer(req)
    });
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

/// The origin's answer: the request described, `/slow/<ms>` after that long.
async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    {
        if let Some(ms) = req.uri().path().strip_prefix("/slow/") {
            let ms = ms.parse().unwrap_or(100);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let text = format!(
            "version={:?} scheme={} authority={} path={} te={} host={}\n",
            req.version(),
            req.uri().scheme_str().unwrap_or("-"),
            req.uri().authority().map_or("-", |a| a.as_str()),
            req.uri().path(),
            header(&req, "te"),
            header(&req, "host"),
        );
        Ok(Response::new(Full::new(Bytes::from(text))))
    }
}

fn header(req: &Request<Incoming>, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

#[test]
fn http1_clients_share_one_multiplexed_connection_to_an_h2_server() {
    let origin = H2Origin::start();
    let h1 = Origin::start("h1");
    let port = free_port();
    let h2c_port = free_port();
    let cfg = format!(
        "global
    nbthread 1
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{h2c_port} proto h2
    use_backend old if {{ path_beg /old }}
    default_backend h2
backend h2
    # A session's first request may take the idle connection the first request left (under
    # `http-reuse safe` it would open its own, as in HAProxy).
    http-reuse always
    server s1 {} proto h2
backend old
    server s1 {}
",
        origin.addr, h1.addr
    );
    let _p = Proxy::start(&cfg, port);
    // A first request opens the server connection (requests arriving while it is being
    // opened would each open their own, as in HAProxy).
    let (status, body) = curl(&[&format!("http://127.0.0.1:{port}/first")]);
    assert_eq!(status, 200, "{body}");
    // HTTP/1.1 clients, each on its own connection, at the same time.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                curl(&[
                    "-H",
                    "TE: trailers",
                    &format!("http://127.0.0.1:{port}/item/{i}"),
                ])
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (status, body) = h.join().unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains(&format!(
                "version=HTTP/2.0 scheme=http authority=127.0.0.1:{port} path=/item/{i} te=trailers host=-"
            )),
            "{body}"
        );
    }
    // One thread: every request went over the one connection it opened.
    assert_eq!(origin.conns.load(Ordering::SeqCst), 1);
    // An HTTP/2 client to an HTTP/1.1 server.
    if have("curl", &["--version"]) {
        let (out, err) = curl_tls(&[
            "--http2-prior-knowledge",
            &format!("http://127.0.0.1:{h2c_port}/old/x"),
        ]);
        assert!(out.ends_with("200 2"), "{out}{err}");
        assert!(out.contains("name=h1\nmethod=GET\npath=/old/x"), "{out}");
    }
}

#[test]
fn alpn_h2_to_a_tls_server_and_the_backend_tls_fetches() {
    if !Haproxy::installed() || !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("h2up");
    let ca = Ca::new("Hapee Upstream CA");
    let (c, k) = ca.issue(&["app.example"], false, false);
    let crt = pki.write("app.pem", &(c + &k));
    let ca_file = pki.write("ca.pem", &ca.cert.pem());
    // Debian's haproxy as the TLS server: it says which protocol the request came in.
    let tls_port = free_port();
    let _server = Haproxy::start(
        &format!(
            "{DEFAULTS}frontend tls
    bind 127.0.0.1:{tls_port} ssl crt {crt} alpn h2,http/1.1
    http-request return status 200 content-type text/plain lf-string \"ver=%[req.ver] alpn=%[ssl_fc_alpn] sni=%[ssl_fc_sni]\\n\"
"
        ),
        tls_port,
    );
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-response set-header x-bc \"ssl=%[ssl_bc] alpn=%[ssl_bc_alpn] proto=%[ssl_bc_protocol] bits=%[ssl_bc_use_keysize] s=%[ssl_s_s_dn(CN)] i=%[ssl_s_i_dn(CN)] sha1=%[ssl_s_sha1,hex]\"
    default_backend tls
backend tls
    server s1 127.0.0.1:{tls_port} ssl verify required ca-file {ca_file} sni str(app.example) alpn h2,http/1.1
"
    );
    let _p = Proxy::start(&cfg, port);
    let out = Command::new("curl")
        .args(["-s", "-i", &format!("http://127.0.0.1:{port}/")])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.contains("ver=2.0 alpn=h2 sni=app.example"), "{out}");
    // The certificate's SHA-1 as openssl computes it.
    let fingerprint = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in", &crt])
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout).into_owned();
    let sha1: String = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "");
    assert_eq!(sha1.len(), 40, "{fingerprint}");
    let expected = format!(
        "x-bc: ssl=1 alpn=h2 proto=TLSv1.3 bits=256 s=app.example i=Hapee Upstream CA sha1={sha1}"
    );
    assert!(
        out.lines().any(|l| l.trim_end() == expected),
        "{expected}\n{out}"
    );
}

#[test]
fn http_checks_speak_h2_with_the_server_proto_or_check_proto() {
    let origin = H2Origin::start();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend app
backend app
    option httpchk GET /health
    # Without it a check has `inter` (100 ms) for its whole exchange, which a loaded machine
    # overruns: the HTTP/2 checks then fail by timeout.
    timeout check 10s
    server inherits {0} proto h2 check inter 100ms rise 1 fall 2
    server forced {0} check-proto h2 check inter 100ms rise 1 fall 2
    server plain {0} proto h2 check-proto h1 check inter 100ms rise 1 fall 2
",
        origin.addr
    );
    let p = Proxy::start(&cfg, port);
    // An HTTP/1.1 check against a server that speaks only HTTP/2 fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !p.stderr().contains("Server app/plain is DOWN") {
        assert!(std::time::Instant::now() < deadline, "{}", p.stderr());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // By then the HTTP/2 checks (inherited from `proto h2`, or `check-proto h2`) have passed
    // as many times.
    let log = p.stderr();
    assert!(!log.contains("Server app/inherits is DOWN"), "{log}");
    assert!(!log.contains("Server app/forced is DOWN"), "{log}");
}
