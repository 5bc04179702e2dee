//! HTTP/3 connections from clients (over QUIC, from `crate::quic`): h3 decodes the request
//! streams, and each request goes down the one request path in `crate::http`, as HTTP/1
//! requests do; the response is framed back on its stream. A graceful stop sends GOAWAY,
//! lets the requests already accepted finish, then closes with H3_NO_ERROR.

mod body;

use crate::http::{handle, ConnCtx, IncomingBody};
use crate::quic::HalfOpen;
use crate::state::Shared;
use crate::stop::Stopping;
use crate::upstream::pool::Pool;
use bytes::Bytes;
use h3::error::Code;
use http_body_util::BodyExt;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
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
    /// Its bind line's rank in its frontend.
    pub listener: usize,
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
        listener,
        allow_0rtt,
        handshake,
    } = accepted;
    let client = incoming.remote_address();
    crate::trace_event!(Quic, 2, "conn_new", "new QUIC connection from {client}");
    let mut ctx = ConnCtx::new(shared.clone(), frontend, client, local, pool);
    ctx.listener = Some(listener);
    if !super::connection_allowed(&ctx) {
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
    // Accepted now, as HAProxy accepts a QUIC connection once its handshake is done (or its
    // early data can be read): counted open in the process, its frontend and its listener
    // (`%ac`, `%fc`, `CurrConns`, `dst_conn`) and in the totals, until the connection ends.
    ctx.open = Some(Rc::new(crate::listener::OpenConn::accepted(
        shared.clone(),
        frontend,
        listener,
    )));
    ctx.tls = Some(Arc::new(tls_info(&conn)));
    crate::trace_event!(
        H3,
        2,
        "conn_new",
        "new H3 connection from {client}, handshake done"
    );
    let ctx = Rc::new(ctx);
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

/// What the QUIC handshake settled, for the `ssl_fc_*`/`ssl_c_*` fetches and the log (`%ft`
/// ends with `~` on a TLS listener, QUIC ones included, as in HAProxy). QUIC is always TLS 1.3;
/// quinn does not say which suite was negotiated.
fn tls_info(conn: &quinn::Connection) -> crate::tls::TlsInfo {
    let handshake = conn
        .handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok());
    let client_chain = conn
        .peer_identity()
        .and_then(|p| {
            p.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .map(|chain| *chain)
        .unwrap_or_default();
    crate::tls::TlsInfo {
        sni: handshake.as_ref().and_then(|h| h.server_name.clone()),
        version: "TLSv1.3",
        alpn: handshake
            .as_ref()
            .and_then(|h| h.protocol.as_ref())
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        client_chain,
        ..Default::default()
    }
}

type Resolver = h3::server::RequestResolver<h3_quinn::Connection, Bytes>;

/// Serves one request stream.
async fn request(resolver: Resolver, ctx: Rc<ConnCtx>, early: bool) {
    let Ok((req, stream)) = resolver.resolve_request().await else {
        return;
    };
    let (mut send, recv) = stream.split();
    let (mut parts, ()) = super::with_host(req).into_parts();
    if early {
        mark_early(&mut parts.headers);
    }
    let body = IncomingBody::other(http_body_util::combinators::UnsyncBoxBody::new(
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

/// A request that came in early data says so to the server with `Early-Data: 1` (RFC 8470
/// §5.1), as HAProxy does, so that a server may answer 425 rather than risk a replay. An
/// `Early-Data` header already there (from a proxy in front) is kept as it is, as HAProxy
/// keeps it.
fn mark_early(headers: &mut HeaderMap) {
    headers
        .entry(HeaderName::from_static("early-data"))
        .or_insert(HeaderValue::from_static("1"));
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
    fn the_authority_becomes_the_host() {
        let req = Request::get("https://a.example:8443/x?y").body(()).unwrap();
        assert_eq!(
            super::super::with_host(req).headers()["host"],
            "a.example:8443"
        );
        let req = Request::get("https://a.example:8443/x")
            .header("host", "b.example")
            .body(())
            .unwrap();
        assert_eq!(super::super::with_host(req).headers()["host"], "b.example");
    }

    #[test]
    fn early_requests_are_marked_once() {
        let mut h = HeaderMap::new();
        mark_early(&mut h);
        assert_eq!(h["early-data"], "1");
        // A value set before (by a proxy in front) stays, and stays alone.
        let mut h = HeaderMap::new();
        h.insert("early-data", HeaderValue::from_static("0"));
        mark_early(&mut h);
        assert_eq!(h.get_all("early-data").iter().count(), 1);
        assert_eq!(h["early-data"], "0");
    }

    #[test]
    fn connection_headers_are_not_sent_over_http3() {
        let mut h = crate::http::test_headers(&[
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("content-type", "text/plain"),
        ]);
        strip_connection_headers(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("content-type"));
    }
}
