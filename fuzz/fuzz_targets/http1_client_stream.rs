//! Fuzzes what a client sends on an HTTP/1 connection, through the decoders the proxy runs on
//! it: hyper's server parser (request heads, pipelining, chunked and sized bodies), the
//! request vetting that runs before the rules (`http::vet`) and the body read-ahead
//! (`http::prefetch`). Besides any panic, a vetted head that still carries two Hosts or a
//! framing other than one final `chunked` is a bug.
#![no_main]

use bytes::Bytes;
use hapee_runtime::http::prefetch::{Arrived, ClientBody};
use hapee_runtime::http::vet::vet;
use hapee_runtime::http::IncomingBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{HOST, TRANSFER_ENCODING};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use std::convert::Infallible;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve(req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    let (mut parts, body) = req.into_parts();
    if vet(&parts.method, &parts.uri, parts.version, &mut parts.headers).is_ok() {
        assert!(parts.headers.get_all(HOST).iter().count() <= 1);
        let codings: Vec<_> = parts.headers.get_all(TRANSFER_ENCODING).iter().collect();
        assert!(codings.len() <= 1);
        if let Some(te) = codings.first() {
            assert!(te.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked"));
        }
        let body = IncomingBody::Hyper(body);
        if let Ok(Arrived::Partial(rest)) = ClientBody::streaming(body).read_arrived(16384).await {
            let _ = rest.collect().await;
        }
    }
    Ok(Response::new(Empty::new()))
}

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let conn = hyper::server::conn::http1::Builder::new()
            .header_read_timeout(None)
            .serve_connection(TokioIo::new(server), hyper::service::service_fn(serve));
        let talk = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answers = Vec::new();
            let _ = client.read_to_end(&mut answers).await;
        };
        let _ = tokio::join!(conn, talk);
    });
});
