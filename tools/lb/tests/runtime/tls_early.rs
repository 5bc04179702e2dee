//! TLS 1.3 early data towards servers: `server … ssl allow-0rtt` with `retry-on
//! 0rtt-rejected` sends a request in early data on a resumed session, and replays it when
//! the server rejects the early data. The server is a rustls one made here, which says
//! whether the request came in early data. (Debian's haproxy accepts early data too, but its
//! `ssl_fc_has_early` is already false again when its rules run.)

use crate::harness::*;
use crate::tls::{Ca, Pki};
use rustls::pki_types::pem::PemObject;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// A TLS 1.3 origin accepting early data on sessions it resumes (from its own cache, so a new
/// origin rejects them); each request is answered `early=1` when it came in early data.
fn origin(
    pem: &str,
    port: u16,
) -> (
    u16,
    std::thread::JoinHandle<()>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(pem)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pem).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.max_early_data_size = 16384;
    let config = Arc::new(config);
    // Bound again on its port below: a suite of another checkout (with no port claims) may
    // probe that port by binding it for a moment, so a refusal is tried again for a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let listener = loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => break l,
            Err(e) if std::time::Instant::now() > deadline => panic!("bind {port}: {e}"),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::spawn(move || {
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((s, _)) => {
                    let _ = serve(config.clone(), s);
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    });
    (port, thread, stop)
}

fn serve(config: Arc<rustls::ServerConfig>, mut sock: std::net::TcpStream) -> std::io::Result<()> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut early = Vec::new();
    while conn.is_handshaking() {
        if conn.wants_write() {
            conn.write_tls(&mut sock)?;
            continue;
        }
        if conn.read_tls(&mut sock)? == 0 {
            return Ok(());
        }
        conn.process_new_packets().map_err(std::io::Error::other)?;
        if let Some(mut data) = conn.early_data() {
            data.read_to_end(&mut early)?;
        }
    }
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut request = early.clone();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let body = format!(
        "early={}",
        u8::from(early.windows(4).any(|w| w == b"\r\n\r\n"))
    );
    write!(
        tls,
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    tls.conn.send_close_notify();
    tls.flush()
}

#[test]
fn requests_go_in_early_data_and_rejected_early_data_is_replayed() {
    let pki = Pki::new("early");
    let ca = Ca::new("Early CA");
    let (c, k) = ca.issue(&["origin.example"], false, false);
    let pem = pki.write("o.pem", &(c + &k));
    // A reserved port, not an ephemeral one: the origin is bound again on it below, and an
    // ephemeral port may meanwhile be some other connection's local end (EADDRINUSE).
    let (origin_port, thread, stop) = origin(&pem, free_port());
    let (port, plain) = (free_port(), free_port());
    let backend = |name: &str, retry: &str| {
        format!(
            "backend {name}
    http-reuse never
{retry}    server s1 127.0.0.1:{origin_port} ssl verify none allow-0rtt
"
        )
    };
    let proxy = Proxy::start(
        &format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend early
frontend fe2
    bind 127.0.0.1:{plain}
    default_backend plain
{}{}",
            backend("early", "    retry-on 0rtt-rejected\n"),
            backend("plain", "")
        ),
        port,
    );
    let get = |p: u16| curl(&[&format!("http://127.0.0.1:{p}/")]);
    // A full handshake first; the session it leaves lets the next ones send early data.
    assert_eq!(
        get(port),
        (200, "early=0".to_string()),
        "{}",
        proxy.stderr()
    );
    for _ in 0..3 {
        assert_eq!(get(port), (200, "early=1".to_string()));
    }
    // Without `retry-on 0rtt-rejected`, no early data (a rejection could not be replayed).
    for _ in 0..2 {
        assert_eq!(get(plain), (200, "early=0".to_string()));
    }
    // A new origin process on the same port cannot resume the proxy's sessions: it rejects
    // the early data, which the proxy sends again once the handshake is over. The client sees
    // no failure, and the origin got the request once, after the handshake.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thread.join().unwrap();
    let (_, thread, stop) = origin(&pem, origin_port);
    assert_eq!(
        get(port),
        (200, "early=0".to_string()),
        "{}",
        proxy.stderr()
    );
    assert_eq!(get(port), (200, "early=1".to_string()));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thread.join().unwrap();
}

#[test]
fn a_server_answering_425_too_early_is_retried_with_retry_on_425_as_haproxy_does() {
    // HAProxy 2.7 retries a response whose status is in its `retry-on` list, 425 included
    // (a server refusing a request that came in early data); without it, the 425 reaches the
    // client.
    let too_early = raw_server(
        b"HTTP/1.1 425 Too Early\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        Duration::ZERO,
        Duration::ZERO,
    );
    let good = Origin::start("good");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    use_backend plain if {{ path /plain }}
    default_backend retried
backend retried
    balance first
    retry-on 425
    option redispatch
    server early {too_early}
    server good {}
backend plain
    server early {too_early}
",
            good.addr
        )
    };
    let drive = |port: u16| {
        let retried = curl(&[&format!("http://127.0.0.1:{port}/")]);
        let plain = curl(&[&format!("http://127.0.0.1:{port}/plain")]);
        (retried.0, retried.1.contains("name=good"), plain.0)
    };
    let (ours, theirs) = both(cfg, drive);
    assert_eq!(ours, (200, true, 425));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
