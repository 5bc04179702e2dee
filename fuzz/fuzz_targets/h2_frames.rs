//! Fuzzes the HTTP/2 client connection path: arbitrary frames after the connection preface
//! (rapid resets, bad HPACK, window overflows, oversized frames) go through hyper's HTTP/2
//! server and hapee's request path (rules, local answers) over an in-memory connection. Any
//! panic is a bug; a connection must end once the client's bytes end.
#![no_main]

use hapee_runtime::http::ConnCtx;
use hapee_runtime::state::Shared;
use libfuzzer_sys::fuzz_target;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONFIG: &str = r#"
global
    tune.h2.max-concurrent-streams 10
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind :8080 proto h2
    http-request set-header x-sni %[ssl_fc_sni]
    http-request deny if { path_beg /deny }
    http-request return status 200 content-type text/plain lf-string "%[req.hdr(host)] %[path]"
"#;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn shared() -> &'static Arc<Shared> {
    static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
    SHARED.get_or_init(|| {
        let c = hapee_compiler::testkit::compile_text("fuzz.cfg", CONFIG, false);
        assert!(!c.has_errors(), "fuzz config must be valid");
        let plan = hapee_compiler::plan::build(&c.config, 1);
        Arc::new(Shared::build(&plan).expect("the runtime supports the fuzz config"))
    })
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
}

fuzz_target!(|data: &[u8]| {
    let shared = shared().clone();
    RUNTIME.with(|rt| {
        let local = tokio::task::LocalSet::new();
        local.block_on(rt, async move {
            let (mut client, server) = tokio::io::duplex(64 * 1024);
            let ctx = Rc::new(ConnCtx::new(
                shared,
                0,
                "10.0.0.1:4000".parse().unwrap(),
                "127.0.0.1:8080".parse().unwrap(),
                Default::default(),
            ));
            let serving = tokio::task::spawn_local(hapee_runtime::proto::h2::serve(
                server,
                ctx,
                Default::default(),
            ));
            let _ = client.write_all(PREFACE).await;
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut sink = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), client.read_to_end(&mut sink)).await;
            drop(client);
            let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
        });
    });
});
