//! HTTP checks over HTTP/2 (`check-proto h2`, a `proto h2` server, or `h2` chosen by ALPN).
//!
//! The check engine speaks HTTP/1.1 bytes. Rather than teach it a second wire format, the
//! bridge below serves those bytes with hyper's HTTP/1 server side and forwards each request
//! as one stream of an HTTP/2 client connection to the server, so `http-check send/expect`
//! rules work unchanged whichever protocol carries them.

use crate::upstream::h2::LocalExec;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header;
use hyper_util::rt::TokioIo;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};

/// Headers HTTP/2 forbids (RFC 9113 §8.2.2): dropped from the bridged request.
const CONNECTION_SPECIFIC: &[header::HeaderName] = &[
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
];

/// Opens an HTTP/2 connection over `server` and returns the HTTP/1.1 side the engine uses.
pub async fn bridge<S>(server: S, tls: bool) -> io::Result<DuplexStream>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (send, connection) = hyper::client::conn::http2::Builder::new(LocalExec)
        .handshake(TokioIo::new(server))
        .await
        .map_err(io::Error::other)?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    let scheme = if tls { "https" } else { "http" };
    let (engine_side, bridge_side) = tokio::io::duplex(64 * 1024);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut send = send.clone();
        async move {
            let (mut parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes();
            let authority = parts
                .headers
                .remove(header::HOST)
                .and_then(|h| h.to_str().ok().map(str::to_string))
                .unwrap_or_else(|| "localhost".to_string());
            let path = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            for name in CONNECTION_SPECIFIC {
                parts.headers.remove(name);
            }
            parts.headers.remove("keep-alive");
            parts.headers.remove("proxy-connection");
            parts.uri = format!("{scheme}://{authority}{path}")
                .parse()
                .unwrap_or_else(|_| hyper::Uri::from_static("/"));
            parts.version = hyper::Version::HTTP_2;
            let response = send
                .send_request(hyper::Request::from_parts(parts, Full::new(body)))
                .await?;
            let (mut parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            parts.version = hyper::Version::HTTP_11;
            Ok::<_, hyper::Error>(hyper::Response::from_parts(parts, Full::<Bytes>::new(body)))
        }
    });
    tokio::task::spawn_local(async move {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(bridge_side), service)
            .await;
    });
    Ok(engine_side)
}
