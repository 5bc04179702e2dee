//! Tests of the server-side exchange: heads, framing, bodies and the request encoding.

use super::body::{Chunk, State};
use super::*;
use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Frame;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING,
};

fn head(raw: &str, method: Method) -> Result<Option<ParsedHead>, ExchangeError> {
    parse_head(&mut BytesMut::from(raw), &method, false)
}

fn parsed(raw: &str, method: Method) -> ParsedHead {
    head(raw, method)
        .expect("valid head")
        .expect("complete head")
}

/// The frames of a response's body (all of it in `raw`).
fn frames(raw: &str) -> BodyFrames {
    decode_buffered(raw.as_bytes(), &Method::GET)
        .expect("a readable head")
        .1
}

fn data(f: &Result<Frame<Bytes>, String>) -> &[u8] {
    f.as_ref().unwrap().data_ref().unwrap()
}

#[test]
fn interim_responses_are_skipped_but_101_is_kept() {
    let p = parsed(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
        Method::POST,
    );
    assert_eq!(p.response.status(), 200);
    assert_eq!(*p.response.body(), State::Length(2));
    assert!(p.keep_alive);
    let p = parsed(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
        Method::GET,
    );
    assert_eq!(*p.response.body(), State::Upgraded);
    assert!(!p.keep_alive);
    // Only an interim response so far: wait for more.
    assert!(head("HTTP/1.1 100 Continue\r\n\r\n", Method::POST)
        .unwrap()
        .is_none());
    assert!(head("HTTP/1.1 200 OK\r\ncontent-len", Method::GET)
        .unwrap()
        .is_none());
}

#[test]
fn heads_keep_headers_and_an_unusual_reason() {
    let p = parsed(
        "HTTP/1.1 200 Fine Thanks\r\nX-One: a\r\nx-one: b\r\ncontent-length: 0\r\n\r\n",
        Method::GET,
    );
    let values: Vec<_> = p.response.headers().get_all("x-one").iter().collect();
    assert_eq!(values, ["a", "b"]);
    let reason = p.response.extensions().get::<hyper::ext::ReasonPhrase>();
    assert_eq!(reason.map(|r| r.as_bytes()), Some(&b"Fine Thanks"[..]));
    let p = parsed(
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
        Method::GET,
    );
    assert!(p
        .response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .is_none());
}

#[test]
fn a_reason_that_is_not_utf8_is_kept_as_it_came() {
    let (status, frames) = decode_buffered(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 O\xffK\r\ncontent-length: 2\r\n\r\nhi",
        &Method::GET,
    )
    .expect("readable");
    assert_eq!(status, 200);
    assert_eq!(data(&frames[0]), b"hi");
    let head = parsed(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 O\u{ff}K\r\ncontent-length: 0\r\n\r\n",
        Method::GET,
    );
    let reason = head.response.extensions().get::<hyper::ext::ReasonPhrase>();
    assert_eq!(reason.map(|r| r.as_bytes()), Some("O\u{ff}K".as_bytes()));
    let mut raw = BytesMut::from(&b"HTTP/1.1 200 O\xffK\r\ncontent-length: 0\r\n\r\n"[..]);
    let head = parse_head(&mut raw, &Method::GET, false).unwrap().unwrap();
    let reason = head.response.extensions().get::<hyper::ext::ReasonPhrase>();
    assert_eq!(reason.map(|r| r.as_bytes()), Some(&b"O\xffK"[..]));
}

#[test]
fn unreadable_heads_are_junk() {
    let junk = Err(ExchangeError::Server(Failure::JunkResponse));
    for raw in [
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 5,\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551616\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
    ] {
        assert_eq!(head(raw, Method::GET).map(|_| ()), junk, "{raw:?}");
    }
}

#[test]
fn framing_follows_rfc9112() {
    let state = |raw: &str, m: Method| *parsed(raw, m).response.body();
    assert_eq!(
        state("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n", Method::HEAD),
        State::Length(0)
    );
    assert_eq!(
        state("HTTP/1.1 204 No Content\r\n\r\n", Method::GET),
        State::Length(0)
    );
    assert_eq!(
        state("HTTP/1.1 304 Not Modified\r\n\r\n", Method::GET),
        State::Length(0)
    );
    assert_eq!(
        state(
            "HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n",
            Method::GET
        ),
        State::Length(5)
    );
    assert_eq!(
        state(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n",
            Method::GET
        ),
        State::Chunk(Chunk::Size)
    );
    assert_eq!(
        state(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
            Method::GET
        ),
        State::UntilClose
    );
    assert_eq!(
        state("HTTP/1.1 200 OK\r\n\r\n", Method::GET),
        State::UntilClose
    );
    assert_eq!(
        state("HTTP/1.1 200 OK\r\n\r\n", Method::CONNECT),
        State::Upgraded
    );
}

#[test]
fn keep_alive_follows_version_connection_and_framing() {
    let keep = |raw: &str| parsed(raw, Method::GET).keep_alive;
    assert!(keep("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(!keep("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"));
    assert!(keep(
        "HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(!keep("HTTP/1.1 200 OK\r\n\r\n"));
    // Fields that come more than once are read from all their values.
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nconnection: x, Close\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(keep(
        "HTTP/1.0 200 OK\r\nconnection: x\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(keep(
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: closed\r\n\r\n"
    ));
    // A coding beside a length, or in HTTP/1.0, closes after the response (h1.c), and the
    // length is dropped.
    let both = parsed(
        "HTTP/1.1 200 OK\r\ncontent-length: 9\r\ntransfer-encoding: chunked\r\n\r\n",
        Method::GET,
    );
    assert!(!both.keep_alive);
    assert_eq!(*both.response.body(), State::Chunk(Chunk::Size));
    assert!(!both.response.headers().contains_key("content-length"));
    let old = parsed(
        "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n",
        Method::GET,
    );
    assert!(!old.keep_alive);
    assert_eq!(*old.response.body(), State::Chunk(Chunk::Size));
}

#[test]
fn repeated_content_lengths_must_agree() {
    let state = |raw: &str| *parsed(raw, Method::GET).response.body();
    assert_eq!(
        state("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx: y\r\nContent-Length: 5, 5\r\n\r\n"),
        State::Length(5)
    );
    assert_eq!(
        state("HTTP/1.1 200 OK\r\ncontent-length:  12 \r\n\r\n"),
        State::Length(12)
    );
    assert!(head(
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5, 6\r\n\r\n",
        Method::GET
    )
    .is_err());
}

#[test]
fn field_values_keep_tabs_and_bytes_above_ascii() {
    let raw = b"HTTP/1.1 200 OK\r\nx-v: a\tb \xe9t\xe9\r\ncontent-length: 0\r\n\r\n";
    let head = parse_head(&mut BytesMut::from(&raw[..]), &Method::GET, false)
        .unwrap()
        .unwrap();
    assert_eq!(head.response.headers()["x-v"].as_bytes(), b"a\tb \xe9t\xe9");
    // A control character in a value is not a head the proxy reads.
    assert!(head_bytes(b"HTTP/1.1 200 OK\r\nx-v: a\x01b\r\n\r\n").is_err());
    assert!(head_bytes(b"HTTP/1.1 200 OK\r\nx-v: a\x7fb\r\n\r\n").is_err());
}

fn head_bytes(raw: &[u8]) -> Result<Option<ParsedHead>, ExchangeError> {
    parse_head(&mut BytesMut::from(raw), &Method::GET, false)
}

#[test]
fn bodies_decode_by_length_chunks_and_close() {
    let f = frames("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    assert_eq!(f.len(), 1);
    assert_eq!(data(&f[0]), b"hello");
    let f = frames(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
         5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-sum: 42\r\n\r\n",
    );
    assert_eq!(f.len(), 3);
    assert_eq!(data(&f[0]), b"hello");
    assert_eq!(data(&f[1]), b" world");
    let trailers = f[2].as_ref().unwrap().trailers_ref().unwrap();
    assert_eq!(trailers["x-sum"], "42");
    let f = frames("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    assert_eq!(f.len(), 1);
    assert_eq!(data(&f[0]), b"until the end");
}

#[test]
fn broken_bodies_fail_instead_of_ending() {
    for raw in [
        "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
    ] {
        let f = frames(raw);
        assert!(f.last().is_some_and(|r| r.is_err()), "{raw:?}: {f:?}");
    }
}

fn framing(method: Method, headers: &[(&str, &str)], body: ReqBody) -> (Sending, HeaderMap) {
    let mut req = Request::new(body);
    *req.method_mut() = method;
    for (n, v) in headers {
        req.headers_mut().append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let sending = request_framing(&mut req);
    (sending, req.headers().clone())
}

#[test]
fn request_bodies_are_framed_as_their_headers_say() {
    let empty = || Either::Right(Full::new(Bytes::new()));
    let some = || Either::Right(Full::new(Bytes::from_static(b"abc")));
    let (s, h) = framing(Method::GET, &[], empty());
    assert!(s == Sending::Nothing && h.is_empty());
    // An empty body the client sent chunked goes on as the last chunk alone, as HAProxy
    // sends it: a server may refuse a POST that carries no framing at all (411).
    let (s, h) = framing(Method::POST, &[("transfer-encoding", "chunked")], empty());
    assert!(s == Sending::Chunked && h[TRANSFER_ENCODING] == "chunked");
    let (s, _) = framing(Method::POST, &[("content-length", "3")], some());
    assert!(s == Sending::AsIs);
    let (s, h) = framing(
        Method::POST,
        &[("transfer-encoding", "chunked"), ("content-length", "3")],
        some(),
    );
    assert!(s == Sending::Chunked && !h.contains_key(CONTENT_LENGTH));
    // A buffered body that lost its framing headers gets a length.
    let (s, h) = framing(Method::POST, &[], some());
    assert!(s == Sending::AsIs && h[CONTENT_LENGTH] == "3");
}

#[test]
fn heads_and_chunks_encode_on_the_wire() {
    let mut req = Request::new(Either::Right(Full::new(Bytes::new())));
    *req.uri_mut() = "/a?b=c".parse().unwrap();
    req.headers_mut()
        .insert("host", HeaderValue::from_static("example.com"));
    let mut out = Vec::new();
    encode_head(&req, &mut out);
    assert_eq!(out, b"GET /a?b=c HTTP/1.1\r\nhost: example.com\r\n\r\n");
    out.clear();
    encode_chunk(&[b'x'; 26], &mut out);
    encode_last_chunk(None, &mut out);
    assert!(out.starts_with(b"1a\r\nxxxx"));
    assert!(out.ends_with(b"x\r\n0\r\n\r\n"));
}

#[test]
fn a_buffered_request_is_encoded_whole_before_the_exchange() {
    let mut req = Request::new(Either::Right(Full::new(Bytes::from_static(b"hello"))));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/up".parse().unwrap();
    req.headers_mut()
        .insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    let out = Outgoing::new(req);
    assert_eq!(
        out.wire,
        b"POST /up HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    assert!(out.streamed.is_none());
    assert_eq!(out.method, Method::POST);
    // With a length, the body follows the head as it is.
    let mut req = Request::new(Either::Right(Full::new(Bytes::from_static(b"abc"))));
    *req.method_mut() = Method::PUT;
    let out = Outgoing::new(req);
    assert_eq!(out.wire, b"PUT / HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc");
}

#[test]
fn content_lengths_are_decimal_and_fit_in_64_bits() {
    assert_eq!(decimal(b"0"), Some(0));
    assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
    assert_eq!(decimal(b"18446744073709551616"), None);
    assert_eq!(decimal(b""), None);
    assert_eq!(decimal(b"1 2"), None);
    let mut h = HeaderMap::new();
    h.append(CONTENT_LENGTH, HeaderValue::from_static(" 7 , 7"));
    h.append(CONTENT_LENGTH, HeaderValue::from_static("7"));
    assert_eq!(content_length(&h), Ok(Some(7)));
}

#[test]
fn connection_tokens_match_whole_and_in_any_case() {
    let mut h = HeaderMap::new();
    h.append(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
    assert!(connection_has(&h, "upgrade"));
    let mut h = HeaderMap::new();
    h.append(CONNECTION, HeaderValue::from_static("upgrade-insecure"));
    assert!(!connection_has(&h, "upgrade"));
}
