//! Fuzzes the QUIC datagram path of a listener as the runtime configures it (its connection-ID
//! generator, Retry and reset keys, transport limits, TLS configuration): each input is a run
//! of datagrams (2-byte big-endian length, then the bytes) handed to a quinn endpoint as they
//! would come off the socket; a connection one of them opens is fed the datagrams that follow
//! and its timers are run. Half of the inputs start with a real client's first flight, so that
//! the mutations also reach an open connection. Any panic is a bug.
#![no_main]

use bytes::BytesMut;
use hapee_runtime::quic::config::{self, BindQuic, Keys};
use libfuzzer_sys::fuzz_target;
use quinn::rustls;
use quinn_proto::{DatagramEvent, Endpoint};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

struct Setup {
    server: Arc<quinn_proto::ServerConfig>,
    endpoint: Arc<quinn_proto::EndpointConfig>,
    first_flight: Vec<u8>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let words: Vec<String> = "ssl alpn h3 allow-0rtt"
            .split(' ')
            .map(String::from)
            .collect();
        let bind = BindQuic::from_options(&words).unwrap();
        let tunes = hapee_compiler::plan::quic::QuicTunes::default();
        let keys = Keys::new(Some("fuzz"));
        let server =
            config::server(&tls, &bind, config::transport(&tunes, &bind, 16384), &keys).unwrap();
        // A real client's first datagram (its Initial), made once.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let mut client_tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        client_tls.alpn_protocols = vec![b"h3".to_vec()];
        let client_config = quinn_proto::ClientConfig::new(Arc::new(
            quinn::crypto::rustls::QuicClientConfig::try_from(client_tls).unwrap(),
        ));
        let mut client = Endpoint::new(Arc::new(Default::default()), None, true, Some([7; 32]));
        let now = Instant::now();
        let (_, mut conn) = client
            .connect(now, client_config, server_addr(), "localhost")
            .unwrap();
        let mut first_flight = Vec::new();
        let _ = conn.poll_transmit(now, 1, &mut first_flight);
        Setup {
            server: Arc::new(server),
            endpoint: Arc::new(keys.endpoint(3)),
            first_flight,
        }
    })
}

fn server_addr() -> SocketAddr {
    "127.0.0.1:8443".parse().unwrap()
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let mut endpoint = Endpoint::new(
        s.endpoint.clone(),
        Some(s.server.clone()),
        true,
        Some([1; 32]),
    );
    let client: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let mut now = Instant::now();
    let mut buf = Vec::new();
    let mut datagrams: Vec<&[u8]> = Vec::new();
    if data.first().is_some_and(|b| b & 1 == 1) {
        datagrams.push(&s.first_flight);
    }
    let mut rest = data.get(1..).unwrap_or(&[]);
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let end = (2 + len).min(rest.len());
        datagrams.push(&rest[2..end]);
        rest = &rest[end..];
    }
    let mut conns: Vec<(quinn_proto::ConnectionHandle, quinn_proto::Connection)> = Vec::new();
    for d in datagrams.into_iter().take(64) {
        now += Duration::from_millis(5);
        buf.clear();
        match endpoint.handle(now, client, None, None, BytesMut::from(d), &mut buf) {
            Some(DatagramEvent::NewConnection(incoming)) => {
                if let Ok(c) = endpoint.accept(incoming, now, &mut buf, None) {
                    conns.push(c);
                }
            }
            Some(DatagramEvent::ConnectionEvent(handle, event)) => {
                if let Some((_, c)) = conns.iter_mut().find(|(h, _)| *h == handle) {
                    c.handle_event(event);
                }
            }
            Some(DatagramEvent::Response(_)) | None => {}
        }
        for (handle, c) in conns.iter_mut() {
            c.handle_timeout(now);
            while let Some(e) = c.poll_endpoint_events() {
                if let Some(back) = endpoint.handle_event(*handle, e) {
                    c.handle_event(back);
                }
            }
            buf.clear();
            while c.poll_transmit(now, 4, &mut buf).is_some() {
                buf.clear();
            }
            while c.poll().is_some() {}
        }
    }
});
