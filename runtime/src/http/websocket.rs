//! WebSocket streams across HTTP versions, as HAProxy relays them. Inside the request path a
//! WebSocket handshake is always HTTP/1.1's form: `GET` with `Connection: upgrade` and
//! `Upgrade: websocket`, answered by a 101. HTTP/2 carries it as an extended CONNECT
//! (RFC 8441: `:method CONNECT`, `:protocol websocket`, answered by a 200), translated at each
//! edge: by the client driver (`crate::proto::h2`) and towards servers here. HTTP/2 has no
//! `Sec-WebSocket-Key`/`Sec-WebSocket-Accept`, so the HTTP/1.1 side makes up the missing one
//! (RFC 6455 §4).
//!
//! Which protocol a WebSocket stream takes towards a server is its `ws` setting: `auto` keeps
//! the server's own (`proto`), or over TLS with ALPN offers `http/1.1` alone when the list has
//! it; `h1` and `h2` force theirs, through ALPN too. The tunnel an upgrade opens is relayed
//! here as well.

use crate::tls::client::ServerTlsConfig;
use crate::upstream::{connection_has, ServerTunnel};
use hapee_compiler::plan::mux::{ServerMux, WsMode};
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, UPGRADE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;

/// RFC 6455's GUID, appended to the key before hashing it into the accept value.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
pub(crate) const KEY: &str = "sec-websocket-key";
pub(crate) const ACCEPT: &str = "sec-websocket-accept";

/// Whether a request (or a 101) is a WebSocket handshake: `websocket` among the `Upgrade`
/// protocols, `upgrade` among the `Connection` tokens.
pub(crate) fn is_websocket(h: &HeaderMap) -> bool {
    connection_has(h, "upgrade")
        && h.get_all(UPGRADE).iter().any(|v| {
            v.as_bytes()
                .split(|&b| b == b',')
                .any(|p| p.trim_ascii().eq_ignore_ascii_case(b"websocket"))
        })
}

/// `Sec-WebSocket-Accept` for a key: base64 of the SHA-1 of the key and the GUID.
pub(crate) fn accept_for(key: &[u8]) -> HeaderValue {
    use base64::Engine;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key);
    ctx.update(GUID);
    let text = base64::engine::general_purpose::STANDARD.encode(ctx.finish().as_ref());
    HeaderValue::from_str(&text).expect("base64 is a valid header value")
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
pub(crate) fn new_key() -> HeaderValue {
    use base64::Engine;
    let mut raw = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut raw).is_err() {
        raw = rand_fallback();
    }
    let text = base64::engine::general_purpose::STANDARD.encode(raw);
    HeaderValue::from_str(&text).expect("base64 is a valid header value")
}

/// Bytes from the clock when the system's generator fails (a key is a nonce, not a secret).
fn rand_fallback() -> [u8; 16] {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    t.to_le_bytes()
}

/// How a WebSocket stream reaches a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    /// HTTP/1.1, or whatever ALPN settles when `alpn_decides`.
    H1 { alpn_decides: bool },
    /// HTTP/2 with prior knowledge (`proto h2`, `ws h2` without ALPN).
    H2,
    /// ALPN settles it, offering `h2` alone (`ws h2`).
    AlpnH2,
}

impl Way {
    /// The way for a server: its `ws` setting, its `proto` and its ALPN list. An explicit
    /// `proto` or no ALPN leaves the choice to `ws` (`auto` following `proto`); otherwise ALPN
    /// negotiates it.
    pub(crate) fn of(mux: &ServerMux, tls: Option<&ServerTlsConfig>) -> Way {
        let alpn = tls.is_some_and(|t| t.has_alpn) && !mux.h2;
        match (mux.ws, alpn) {
            (WsMode::Auto, true) => Way::H1 { alpn_decides: true },
            (WsMode::H1, true) => Way::H1 {
                alpn_decides: false,
            },
            (WsMode::H2, true) => Way::AlpnH2,
            (WsMode::Auto, false) if mux.h2 => Way::H2,
            (WsMode::Auto | WsMode::H1, false) => Way::H1 {
                alpn_decides: false,
            },
            (WsMode::H2, false) => Way::H2,
        }
    }

    /// Whether a WebSocket stream to a server may take one of its idle connections: only when
    /// it would speak the server's usual protocol, as HAProxy decides it (an explicit `proto`
    /// or no ALPN: `ws auto`, or the `ws` protocol that `proto` names; with ALPN: a list of
    /// one protocol under `auto`, else exactly the `ws` protocol).
    pub(crate) fn may_reuse(mux: &ServerMux, tls: Option<&ServerTlsConfig>) -> bool {
        match tls.filter(|t| t.has_alpn && !mux.h2) {
            None => match mux.ws {
                WsMode::Auto => true,
                WsMode::H2 => mux.h2,
                WsMode::H1 => !mux.h2,
            },
            Some(t) => {
                let alpn = &t.config.alpn_protocols;
                match mux.ws {
                    WsMode::Auto => alpn.len() == 1,
                    WsMode::H2 => alpn.len() == 1 && alpn[0] == b"h2",
                    WsMode::H1 => alpn.len() == 1 && alpn[0] == b"http/1.1",
                }
            }
        }
    }

    /// Whether the connection may (or must) speak HTTP/2.
    pub(crate) fn may_multiplex(self) -> bool {
        !matches!(
            self,
            Way::H1 {
                alpn_decides: false
            }
        )
    }

    /// Whether HTTP/2 is spoken whatever ALPN says.
    pub(crate) fn forced_h2(self) -> bool {
        self == Way::H2
    }

    /// The TLS settings its connection is opened with: ALPN `http/1.1` alone where the list
    /// has it (`auto`), `http/1.1` or `h2` alone where forced.
    pub(crate) fn tls_config(self, t: &ServerTlsConfig) -> &Arc<rustls::ClientConfig> {
        match self {
            Way::H1 { alpn_decides: true } => &t.config_h1,
            Way::H1 {
                alpn_decides: false,
            } => &t.alpn_h1,
            Way::H2 | Way::AlpnH2 => &t.alpn_h2,
        }
    }
}

/// The protocol a handshake asks for: the first of its `Upgrade` list (RFC 8441's
/// `:protocol` holds one).
fn first_protocol(h: &HeaderMap) -> Option<hyper::ext::Protocol> {
    let v = h.get(UPGRADE)?.to_str().ok()?;
    let first = v.split(',').next()?.trim();
    (!first.is_empty()).then(|| hyper::ext::Protocol::from(first))
}

/// Turns an upgrade request (already in HTTP/2's form otherwise) into an extended CONNECT.
pub(crate) fn to_extended_connect<B>(req: &mut Request<B>) {
    if let Some(protocol) = first_protocol(req.headers()) {
        req.extensions_mut().insert(protocol);
    }
    *req.method_mut() = Method::CONNECT;
    req.headers_mut().remove(CONNECTION);
    req.headers_mut().remove(UPGRADE);
}

/// The answer to an extended CONNECT as HTTP/1.1 has it: a 200 becomes a 101 with
/// `Connection: upgrade` and `Upgrade: <protocol>`, its stream the tunnel. Any other status
/// stays as it is (the server refused).
pub(crate) fn from_extended_connect<B>(
    resp: &mut Response<B>,
    protocol: Option<HeaderValue>,
) -> Option<hyper::upgrade::OnUpgrade> {
    if resp.status() != StatusCode::OK {
        return None;
    }
    let on = hyper::upgrade::on(&mut *resp);
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    if let Some(p) = protocol {
        resp.headers_mut().insert(UPGRADE, p);
    }
    Some(on)
}

/// An extended CONNECT from a client as the request path sees it: `GET` with `Upgrade:
/// <protocol>` and `Connection: upgrade`. Answers whether it was one.
pub(crate) fn from_client_extended_connect<B>(req: &mut Request<B>) -> bool {
    if req.method() != Method::CONNECT {
        return false;
    }
    let Some(protocol) = req
        .extensions()
        .get::<hyper::ext::Protocol>()
        .and_then(|p| HeaderValue::from_bytes(p.as_str().as_bytes()).ok())
    else {
        return false;
    };
    *req.method_mut() = Method::GET;
    req.headers_mut().append(UPGRADE, protocol);
    req.headers_mut()
        .append(CONNECTION, HeaderValue::from_static("upgrade"));
    true
}

/// The answer to a client's extended CONNECT: a 101 becomes the 200 that opens its tunnel
/// (HTTP/2 has no 101), without the HTTP/1.1 connection headers.
pub(crate) fn to_client_extended_connect<B>(resp: &mut Response<B>) {
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        *resp.status_mut() = StatusCode::OK;
        resp.headers_mut().remove(CONNECTION);
        resp.headers_mut().remove(UPGRADE);
    }
}

/// What the HTTP/1.1 side of a WebSocket handshake needs that HTTP/2 does not carry.
#[derive(Default)]
pub(crate) struct Keys {
    /// The client's `Sec-WebSocket-Key`, to answer with its accept value when the server's
    /// 101 has none (it came over HTTP/2).
    client: Option<HeaderValue>,
    /// The key made up for an HTTP/1.1 server (the client came over HTTP/2), whose accept
    /// value the 101 must carry.
    made: Option<HeaderValue>,
}

impl Keys {
    /// Notes the client's key.
    #[inline(never)]
    pub(crate) fn of_request(h: &HeaderMap) -> Keys {
        Keys {
            client: h.get(KEY).cloned(),
            made: None,
        }
    }

    /// Before an HTTP/1.1 server: a key when the request has none.
    #[inline(never)]
    pub(crate) fn complete_request(&mut self, h: &mut HeaderMap) {
        if !h.contains_key(KEY) {
            let key = new_key();
            h.insert(KEY, key.clone());
            self.made = Some(key);
        }
    }

    /// Whether an HTTP/1.1 server's 101 answers the key made up for it (a missing or wrong
    /// accept value is an invalid response, as HAProxy has it). Other responses pass.
    #[inline(never)]
    pub(crate) fn server_answer_valid(&self, status: StatusCode, h: &HeaderMap) -> bool {
        let Some(made) = &self.made else {
            return true;
        };
        if status != StatusCode::SWITCHING_PROTOCOLS || !is_websocket(h) {
            return true;
        }
        h.get(ACCEPT)
            .is_some_and(|a| a.as_bytes() == accept_for(made.as_bytes()).as_bytes())
    }

    /// Before an HTTP/1.1 client: the accept value of its key when the 101 has none.
    #[inline(never)]
    pub(crate) fn complete_response(&self, h: &mut HeaderMap) {
        if let (Some(key), false) = (&self.client, h.contains_key(ACCEPT)) {
            h.insert(ACCEPT, accept_for(key.as_bytes()));
        }
    }
}

/// Where the stream of a tunnel goes once its 101 (or 2xx to CONNECT) is out: to the tunnel's
/// task, which writes its log line when the tunnel ends (kept in [`crate::txn::Txn::tunnel`]
/// until the response's end, [`super::body::Tracked`]).
pub struct TunnelLog(pub tokio::sync::oneshot::Sender<Box<crate::txn::Txn>>);

/// A WebSocket (or any `Upgrade`) tunnel: bytes both ways until one side closes or its idle
/// limit passes without traffic. Its script filters then end; its stream's line is written
/// at the end, with the bytes of the tunnel, once the server's slot and connection are let go, as HAProxy writes it
/// (`%sc`, `%bc` no longer count it).
pub(super) async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    server: ServerTunnel,
    limits: crate::tcp::Limits,
    connection_limit: Option<super::idle::Limit>,
    (server_slot, client_conn): (
        super::forward::ServerGuard,
        Option<std::rc::Rc<crate::listener::OpenConn>>,
    ),
    stream: tokio::sync::oneshot::Receiver<Box<crate::txn::Txn>>,
    scripts: Option<super::script_tcp::TunnelEnd>,
) {
    let moved = pipe(client, server, limits, connection_limit).await;
    drop(server_slot);
    // The response's end hands the stream over (none when it was logged already).
    if let Ok(mut txn) = stream.await {
        if let Some(moved) = moved {
            txn.bytes_in += moved.up;
            txn.bytes_out += moved.down;
            // An idle limit that ended the tunnel is its termination state.
            if let Some(term) = moved.timed_out.filter(|_| txn.term == *b"--") {
                txn.term = term;
            }
        }
        if let Some(scripts) = scripts {
            scripts.end(&mut txn);
        }
        super::log_txn(&txn);
    }
    // The client connection counts until its stream is logged.
    drop(client_conn);
}

/// How the tunnel ended (its bytes both ways, an idle limit that passed); `None` when it
/// never opened.
async fn pipe(
    client: hyper::upgrade::OnUpgrade,
    server: ServerTunnel,
    limits: crate::tcp::Limits,
    connection_limit: Option<super::idle::Limit>,
) -> Option<crate::tcp::Piped> {
    use tokio::io::AsyncWriteExt;
    let c = client.await.ok()?;
    // The upgraded connection still reads through the limits it had for requests (`timeout
    // client`, or `http-keep-alive` once its 101 went out): the tunnel's replace them.
    if let Some(limit) = connection_limit {
        limit.set(None);
    }
    let mut c = TokioIo::new(c);
    match server {
        ServerTunnel::Conn(s, early) => {
            // What the server sent right after its 101 belongs to the new protocol.
            if !early.is_empty() && c.write_all(&early).await.is_err() {
                return Some(crate::tcp::Piped {
                    up: 0,
                    down: 0,
                    timed_out: None,
                    client_first: false,
                });
            }
            let mut piped = crate::tcp::pipe_both(c, s, limits).await;
            piped.down += early.len() as u64;
            Some(piped)
        }
        // The stream stays counted open on its connection until the tunnel ends.
        ServerTunnel::Stream(on, _open) => {
            let s = on.await.ok()?;
            Some(crate::tcp::pipe_both(c, TokioIo::new(s), limits).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_value_is_rfc_6455s() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            accept_for(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(new_key().len(), 24);
        assert_ne!(new_key(), new_key());
    }

    #[test]
    fn websocket_handshakes_are_told_from_other_upgrades() {
        let mut h = HeaderMap::new();
        h.insert(UPGRADE, HeaderValue::from_static("foo, WebSocket"));
        assert!(!is_websocket(&h));
        h.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(is_websocket(&h));
        h.insert(UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!is_websocket(&h));
    }

    #[test]
    fn requests_and_answers_cross_between_versions() {
        let mut req = Request::new(());
        *req.method_mut() = Method::CONNECT;
        req.extensions_mut()
            .insert(hyper::ext::Protocol::from_static("websocket"));
        assert!(from_client_extended_connect(&mut req));
        assert_eq!(req.method(), Method::GET);
        assert!(is_websocket(req.headers()));
        to_extended_connect(&mut req);
        assert_eq!(req.method(), Method::CONNECT);
        assert!(req.headers().is_empty());
        assert_eq!(
            req.extensions()
                .get::<hyper::ext::Protocol>()
                .map(|p| p.as_str()),
            Some("websocket")
        );
        let mut resp = Response::new(());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        resp.headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        to_client_extended_connect(&mut resp);
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().is_empty());
    }

    #[test]
    fn keys_are_made_up_and_checked_on_the_http1_side() {
        let mut keys = Keys::of_request(&HeaderMap::new());
        let mut h = HeaderMap::new();
        keys.complete_request(&mut h);
        let made = h[KEY].clone();
        let mut answer = HeaderMap::new();
        answer.insert(UPGRADE, HeaderValue::from_static("websocket"));
        answer.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        let switching = StatusCode::SWITCHING_PROTOCOLS;
        assert!(!keys.server_answer_valid(switching, &answer));
        answer.insert(
            ACCEPT,
            HeaderValue::from_static("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        );
        assert!(!keys.server_answer_valid(switching, &answer));
        answer.insert(ACCEPT, accept_for(made.as_bytes()));
        assert!(keys.server_answer_valid(switching, &answer));
        // The client's own key is answered when the server's 101 has no accept value.
        let mut h = HeaderMap::new();
        h.insert(KEY, HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
        let keys = Keys::of_request(&h);
        let mut out = HeaderMap::new();
        keys.complete_response(&mut out);
        assert_eq!(out[ACCEPT], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn the_way_follows_ws_proto_and_alpn() {
        let mux = |words: &[&str]| ServerMux::of(words);
        assert_eq!(
            Way::of(&mux(&["proto", "h2", "ws", "h1"]), None),
            Way::H1 {
                alpn_decides: false
            }
        );
        assert_eq!(Way::of(&mux(&["proto", "h2"]), None), Way::H2);
        assert_eq!(Way::of(&mux(&["ws", "h2"]), None), Way::H2);
        assert_eq!(
            Way::of(&mux(&[]), None),
            Way::H1 {
                alpn_decides: false
            }
        );
    }
}
