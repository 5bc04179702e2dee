//! Fuzzes the HTTP/3 request path: a real QUIC listener, bound and served by the runtime as
//! `hapee-lb run` does (its QUIC configuration, h3's frame and QPACK decoding, the request
//! vetting, the rules, `wait-for-body`, local answers), gets arbitrary bytes on streams a real
//! quinn client opens over loopback UDP. Each input is a run of chunks, `op len bytes`:
//!
//! - op % 4 == 0: a new bidirectional (request) stream gets the bytes and is finished;
//! - op % 4 == 1: a new bidirectional stream gets the bytes and stays open;
//! - op % 4 == 2: a new unidirectional stream (control, QPACK, push…) gets the bytes;
//! - op % 4 == 3: the last stream opened gets the bytes and is finished.
//!
//! Any panic is a bug; the client reads what comes back, then closes the connection. Seeds
//! (a control stream and well-formed requests) are in `fuzz/seeds/h3_request`.
#![no_main]

use hapee_runtime::quic;
use hapee_runtime::state::Shared;
use libfuzzer_sys::fuzz_target;
use quinn::rustls;
use std::mem::ManuallyDrop;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

struct Setup {
    client: quinn::Endpoint,
    server: SocketAddr,
}

// Never dropped: at exit, dropping the runtime would schedule the listener's tasks on a set
// whose thread-local state is already gone (a panic after the last input).
thread_local! {
    static RUNTIME: ManuallyDrop<tokio::runtime::Runtime> = ManuallyDrop::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    );
    // The listener's tasks live in this set; they run whenever an input is being run.
    static LOCAL: ManuallyDrop<tokio::task::LocalSet> =
        ManuallyDrop::new(tokio::task::LocalSet::new());
    static SETUP: ManuallyDrop<std::cell::OnceCell<Setup>> =
        const { ManuallyDrop::new(std::cell::OnceCell::new()) };
}

/// Writes a certificate, compiles a configuration with a QUIC listener, binds it and starts
/// serving it on this thread's set; makes a client endpoint that trusts the certificate.
fn setup() -> Setup {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("hapee-fuzz-h3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("site.pem");
    std::fs::write(&pem, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    // A port of its own per fuzzing process (libFuzzer's -jobs run several).
    let port = 20000 + (std::process::id() % 20000) as u16;
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let config = format!(
        r#"
global
    tune.bufsize 16384
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind quic4@{server} ssl crt {pem} alpn h3
    http-request wait-for-body time 50ms at-least 1000 if {{ path_beg /body }}
    http-request deny if {{ path_beg /deny }}
    http-request set-header x-seen %[req.hdr_cnt(host)]
    http-request return status 200 content-type text/plain lf-string "%[req.hdr(host)] %[path] %[req.body_len]"
"#,
        pem = pem.display()
    );
    let c = hapee_compiler::testkit::compile_text("fuzz.cfg", &config, false);
    assert!(!c.has_errors(), "fuzz config must be valid");
    let plan = hapee_compiler::plan::build(&c.config, 1);
    let shared = Arc::new(Shared::build(&plan).expect("the runtime supports the fuzz config"));
    let keys = quic::config::Keys::new(Some("fuzz"));
    let (_, bound) = quic::bind_listener(&plan, &plan.listeners[0], &keys, 1)
        .expect("the QUIC listener binds")
        .into_iter()
        .next()
        .expect("one thread serves it");
    tokio::task::spawn_local(quic::serve(
        bound,
        shared,
        Default::default(),
        Default::default(),
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    client.set_default_client_config(quinn::ClientConfig::new(Arc::new(
        quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap(),
    )));
    Setup { client, server }
}

async fn run(setup: &Setup, data: &[u8]) {
    let Ok(connecting) = setup.client.connect(setup.server, "localhost") else {
        return;
    };
    let Ok(Ok(conn)) = tokio::time::timeout(Duration::from_secs(5), connecting).await else {
        return;
    };
    let mut readers = Vec::new();
    // Every stream opened stays open until the end (a dropped send stream is finished, and a
    // finished control stream closes the connection).
    let mut streams: Vec<quinn::SendStream> = Vec::new();
    let mut rest = data;
    while let [op, len, tail @ ..] = rest {
        let (bytes, after) = tail.split_at((*len as usize).min(tail.len()));
        rest = after;
        match op % 4 {
            0 | 1 => {
                let Ok((mut send, recv)) = conn.open_bi().await else {
                    break;
                };
                readers.push(recv);
                let _ = send.write_all(bytes).await;
                if op % 4 == 0 {
                    let _ = send.finish();
                }
                streams.push(send);
            }
            2 => {
                let Ok(mut send) = conn.open_uni().await else {
                    break;
                };
                let _ = send.write_all(bytes).await;
                streams.push(send);
            }
            _ => {
                if let Some(send) = streams.last_mut() {
                    let _ = send.write_all(bytes).await;
                    let _ = send.finish();
                }
            }
        }
    }
    // What comes back on the request streams, for as long as the answers take.
    let _ = tokio::time::timeout(Duration::from_millis(300), async {
        for mut recv in readers {
            let answer = recv.read_to_end(64 * 1024).await;
            // HAPEE_FUZZ_VERBOSE=1 shows what each request stream got back (HTTP/3 frames).
            if std::env::var_os("HAPEE_FUZZ_VERBOSE").is_some() {
                eprintln!("h3_request: stream answer {answer:?}");
            }
        }
    })
    .await;
    drop(streams);
    conn.close(0u32.into(), b"");
}

fuzz_target!(|data: &[u8]| {
    RUNTIME.with(|rt| {
        LOCAL.with(|local| {
            SETUP.with(|cell| {
                if cell.get().is_none() {
                    let setup = local.block_on(rt, async { setup() });
                    let _ = cell.set(setup);
                }
                let setup = cell.get().expect("set above");
                local.block_on(rt, run(setup, data));
            })
        })
    });
});
