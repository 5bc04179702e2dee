//! HTTP/3 connections from clients (over QUIC, from `crate::quic`): h3 decodes the request
//! streams, and each request goes down the one request path in `crate::http`, as HTTP/1
//! requests do; the response is framed back on its stream. A graceful stop sends GOAWAY,
//! lets the requests already accepted finish, then closes with H3_NO_ERROR.

mod body;

use crate::http::{handle, ClientBody, ConnCtx};
use crate::quic::HalfOpen;
use crate::state::Shared;
use crate::stop::Stopping;
use crate::upstream::pool::Pool;
use bytes::Bytes;
use h3::error::Code;
use http_body_util::BodyExt;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

pub use body::RecvBody;

/// HTTP/3's "no error" code, for CONNECTION_CLOSE after a graceful end.
const H3_NO_ERROR: u32 = 0x100;

/// A connection attempt the listener admitted.
pub struct Accepted {
    pub incoming: quinn::Incoming,
    pub local: SocketAddr,
    /// `allow-0rtt`: requests are served before the handshake ends.
    pub allow_0rtt: bool,
    /// Counted as half-open until its handshake ends.
    pub handshake: HalfOpen,
}

/// Completes the handshake and serves the connection's requests until it closes or the proxy
/// stops.
pub async fn serve(
    accepted: Accepted,
    shared: Arc<Shared>,
    frontend: usize,
    pool: Pool,
    stopping: Stopping,
) {
    let Accepted {
        incoming,
        local,
        allow_0rtt,
        handshake,
    } = accepted;
    let client = incoming.remote_address();
    let ctx = Rc::new(ConnCtx::new(shared.clone(), frontend, client, local, pool));
    if !crate::http::connection_allowed(&ctx) {
        incoming.refuse();
        return;
    }
    let Ok(connecting) = incoming.accept() else {
        return;
    };
    // With `allow-0rtt`, requests are served from the client's first flight on: until the
    // handshake is confirmed, a request stream is early data (quinn's own definition of a 0-RTT
    // stream: one accepted while the handshake is going on).
    let (conn, mut confirmed) = if allow_0rtt {
        match connecting.into_0rtt() {
            Ok((conn, confirmed)) => (conn, Some(confirmed)),
            Err(_) => return,
        }
    } else {
        match connecting.await {
            Ok(conn) => (conn, None),
            Err(_) => return,
        }
    };
    let mut half_open = confirmed.is_some().then_some(handshake);
    let max_head = shared.bufsize.max(8192) as u64;
    let h3conn = h3::server::builder()
        .max_field_section_size(max_head)
        .build::<_, Bytes>(h3_quinn::Connection::new(conn.clone()))
        .await;
    let Ok(mut h3conn) = h3conn else {
        return;
    };
    let mut requests = tokio::task::JoinSet::new();
    let mut stopped = std::pin::pin!(stopping.wait());
    let mut graceful = false;
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => {
                // GOAWAY: the requests accepted so far are served, no later one.
                let _ = h3conn.shutdown(1).await;
                graceful = true;
                break;
            }
            // Before new streams: a request that comes with the client's Finished is no
            // early data.
            _ = async { confirmed.as_mut().expect("guarded").await }, if confirmed.is_some() => {
                confirmed = None;
                drop(half_open.take());
            }
            accepted = h3conn.accept() => match accepted {
                Ok(Some(resolver)) => {
                    let early = confirmed.is_some();
                    requests.spawn_local(request(resolver, ctx.clone(), early));
                }
                // The client's GOAWAY, its close, an idle timeout or a protocol error.
                Ok(None) | Err(_) => break,
            },
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
        }
    }
    while requests.join_next().await.is_some() {}
    if graceful {
        // The last responses may still be in flight, and closing would drop them: h3's stream
        // wrapper hides quinn's signal that the client acknowledged them. A client closes by
        // itself after GOAWAY once its streams are done; else the close waits a few round
        // trips, time for the data to be acknowledged or sent again.
        let grace = (conn.rtt() * 4).max(std::time::Duration::from_millis(250));
        let _ = tokio::time::timeout(grace, conn.closed()).await;
    }
    conn.close(quinn::VarInt::from_u32(H3_NO_ERROR), b"");
    // Keeps the connection (and its QUIC state) until its close is sent.
    drop(h3conn);
}

type Resolver = h3::server::RequestResolver<h3_quinn::Connection, Bytes>;

/// Serves one request stream.
async fn request(resolver: Resolver, ctx: Rc<ConnCtx>, early: bool) {
    let Ok((req, stream)) = resolver.resolve_request().await else {
        return;
    };
    let (mut send, recv) = stream.split();
    let (mut parts, ()) = req.into_parts();
    prepare_head(&mut parts.headers, &parts.uri, early);
    let body = ClientBody::Other(http_body_util::combinators::UnsyncBoxBody::new(
        RecvBody::peek(recv),
    ));
    let response = match handle(ctx, Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (mut head, mut body) = response.into_parts();
    strip_connection_headers(&mut head.headers);
    if send
        .send_response(Response::from_parts(head, ()))
        .await
        .is_err()
    {
        return;
    }
    while let Some(frame) = body.frame().await {
        let sent = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => send.send_data(data).await,
                Err(frame) => match frame.into_trailers() {
                    Ok(trailers) => send.send_trailers(trailers).await,
                    Err(_) => Ok(()),
                },
            },
            Err(_) => {
                // The server's response broke off: the client must not take it as whole.
                send.stop_stream(Code::H3_INTERNAL_ERROR);
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = send.finish().await;
}

/// Makes an HTTP/3 request head ready for the request path: HTTP/1 servers need a `Host`,
/// which HTTP/3 carries as `:authority` (RFC 9114 §4.3.1); a request that came in early data
/// says so to the server with `Early-Data: 1` (RFC 8470 §5.1), as HAProxy does.
fn prepare_head(headers: &mut HeaderMap, uri: &hyper::Uri, early: bool) {
    if !headers.contains_key(HOST) {
        if let Some(value) = uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(HOST, value);
        }
    }
    if early {
        headers.insert(
            HeaderName::from_static("early-data"),
            HeaderValue::from_static("1"),
        );
    }
}

/// Removes the headers HTTP/3 forbids in a response (RFC 9114 §4.2): those that describe an
/// HTTP/1 connection.
fn strip_connection_headers(headers: &mut HeaderMap) {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_becomes_the_host_and_early_data_is_flagged() {
        let uri: hyper::Uri = "https://a.example:8443/x?y".parse().unwrap();
        let mut h = HeaderMap::new();
        prepare_head(&mut h, &uri, true);
        assert_eq!(h["host"], "a.example:8443");
        assert_eq!(h["early-data"], "1");
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("b.example"));
        prepare_head(&mut h, &uri, false);
        assert_eq!(h["host"], "b.example");
        assert!(!h.contains_key("early-data"));
    }

    #[test]
    fn connection_headers_are_not_sent_over_http3() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("content-type", "text/plain"),
        ] {
            h.insert(n, HeaderValue::from_static(v));
        }
        strip_connection_headers(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("content-type"));
    }
}
