//! The server side of an HTTP/1.1 exchange, spoken over the socket directly: the request is
//! written and the response read in the request's own task.
//!
//! hyper's client puts a connection task and a channel between the request and its socket,
//! with a wake-up on each side per request. On a proxy that hand-off is most of the client
//! side's work, and it measured as the largest part of hapee's extra CPU per request. Heads
//! are parsed with httparse; bodies are framed as RFC 9112 §6 says (length, chunked, or up
//! to the close), with the answers hyper's client gives for the edge cases.

use super::forward::ServerGuard;
use super::pool::{ServerKey, SessionConns};
use super::ReqBody;
use crate::reuse::Failure;
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION};
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode, Version};
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;

/// The most header lines a response head may have (HAProxy's `tune.http.maxhdr` default).
const MAX_HEADERS: usize = 101;
/// The most bytes a chunk-size line or a trailer section may take.
const MAX_CHUNK_LINE: usize = 4096;
/// How much room a read is given.
const READ_SIZE: usize = 16 * 1024;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection to a server, between exchanges or carrying one.
pub struct ServerConn {
    stream: TcpStream,
    /// The last read returned less than it was offered: the socket had nothing more then.
    drained: bool,
}

impl ServerConn {
    pub async fn connect(addr: SocketAddr, timeout: Option<Duration>) -> Option<ServerConn> {
        let connecting = TcpStream::connect(addr);
        let stream = match timeout {
            Some(t) => tokio::time::timeout(t, connecting).await.ok()?,
            None => connecting.await,
        }
        .ok()?;
        let _ = stream.set_nodelay(true);
        Some(ServerConn {
            stream,
            drained: false,
        })
    }

    /// Whether an idle connection can carry a request: the server has neither closed it nor
    /// sent anything unasked. Costs no system call unless the socket has signalled an event.
    pub fn is_usable(&self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.stream.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            Poll::Ready(Ok(())) => {
                let mut probe = [0u8; 1];
                matches!(self.stream.try_read(&mut probe),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }

    /// Prepares a connection for the idle pool. When the last read found the socket empty,
    /// its read readiness is cleared without the extra `recv` that would only say so again.
    /// Sound with the edge-triggered poller: bytes arriving later raise a new event, and tokio
    /// clears only the readiness it had seen before this call.
    fn settle(&self) {
        if self.drained {
            let _ = self.stream.try_io(Interest::READABLE, || {
                Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
            });
        }
    }

    /// Reads what the socket has into `buf`; `Ok(0)` is the server's close.
    fn poll_fill(&mut self, buf: &mut BytesMut, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            if buf.capacity() - buf.len() < READ_SIZE / 4 {
                buf.reserve(READ_SIZE);
            }
            let offered = buf.capacity() - buf.len();
            match self.stream.try_read_buf(buf) {
                Ok(n) => {
                    self.drained = n < offered;
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// How the request body goes on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sending {
    Nothing,
    AsIs,
    Chunked,
}

/// Sets the framing headers of the request for its body, as hyper's client does: an empty body
/// sends nothing; a `Transfer-Encoding` is chunked; a valid `Content-Length` is kept; a body
/// of unknown length gets chunked, except on methods that never carry one.
fn request_framing(req: &mut Request<ReqBody>) -> Sending {
    let empty = req.body().is_end_stream();
    let known = req.body().size_hint().exact();
    let method_without_body = matches!(*req.method(), Method::GET | Method::HEAD | Method::CONNECT);
    let headers = req.headers_mut();
    if empty {
        headers.remove(TRANSFER_ENCODING);
        return Sending::Nothing;
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        if !is_chunked(headers) {
            headers.append(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        headers.remove(CONTENT_LENGTH);
        return Sending::Chunked;
    }
    if content_length(headers).is_ok_and(|l| l.is_some()) {
        return Sending::AsIs;
    }
    headers.remove(CONTENT_LENGTH);
    match known {
        Some(len) => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            Sending::AsIs
        }
        None if method_without_body => Sending::Nothing,
        None => {
            headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
            Sending::Chunked
        }
    }
}

/// Whether the last transfer coding is `chunked`.
fn is_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// The `Content-Length` of a message: none, one value (repeats must agree), or invalid.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ()> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.to_str().map_err(|_| ())?.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            let n: u64 = part.parse().map_err(|_| ())?;
            if length.is_some_and(|l| l != n) {
                return Err(());
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// Whether a `Connection` header lists `token`.
fn connection_has(headers: &HeaderMap, token: &str) -> bool {
    headers.get_all(CONNECTION).iter().any(|v| {
        v.to_str()
            .unwrap_or("")
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

fn encode_head(req: &Request<ReqBody>, out: &mut Vec<u8>) {
    use std::io::Write;
    out.extend_from_slice(req.method().as_str().as_bytes());
    out.push(b' ');
    let _ = write!(out, "{}", req.uri());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in req.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn encode_last_chunk(trailers: Option<&HeaderMap>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers.into_iter().flatten() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Why an exchange produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeError {
    /// The server failed (mapped to a `retry-on` failure).
    Server(Failure),
    /// The client's request body broke off while it was being forwarded.
    ClientAborted,
}

/// Writes the request (head and body). A body that breaks off on the client's side fails the
/// exchange; a write the server refuses is not an error yet, as it may have answered first.
async fn send_request(
    conn: &mut ServerConn,
    mut req: Request<ReqBody>,
) -> Result<bool, ExchangeError> {
    let sending = request_framing(&mut req);
    let mut out = Vec::with_capacity(512);
    encode_head(&req, &mut out);
    let body = req.into_body();
    let written = match body {
        http_body_util::Either::Right(full) => {
            if sending != Sending::Nothing {
                let data = full
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                if sending == Sending::Chunked {
                    if !data.is_empty() {
                        encode_chunk(&data, &mut out);
                    }
                    encode_last_chunk(None, &mut out);
                } else {
                    out.extend_from_slice(&data);
                }
            }
            conn.stream.write_all(&out).await
        }
        http_body_util::Either::Left(mut incoming) => {
            if let Err(e) = conn.stream.write_all(&out).await {
                return server_write_failed(e);
            }
            let mut trailers = None;
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|_| ExchangeError::ClientAborted)?;
                out.clear();
                match frame.into_data() {
                    Ok(data) if sending == Sending::Chunked => encode_chunk(&data, &mut out),
                    Ok(data) => out.extend_from_slice(&data),
                    Err(frame) => trailers = frame.into_trailers().ok(),
                }
                if let Err(e) = conn.stream.write_all(&out).await {
                    return server_write_failed(e);
                }
            }
            if sending == Sending::Chunked {
                out.clear();
                encode_last_chunk(trailers.as_ref(), &mut out);
                conn.stream.write_all(&out).await
            } else {
                Ok(())
            }
        }
    };
    match written {
        Ok(()) => Ok(true),
        Err(e) => server_write_failed(e),
    }
}

/// After a refused write the response is still read (the server may have answered and
/// closed), but the connection will not carry another request.
fn server_write_failed(_: io::Error) -> Result<bool, ExchangeError> {
    Ok(false)
}

/// Sends `req` on `conn` and reads the response head; the body is read as the response is
/// forwarded. `head_limit` bounds the head's size (`tune.bufsize`). The connection goes back
/// to the idle pool from the body, once it is complete, if the body is given a pool.
pub async fn exchange(
    mut conn: ServerConn,
    req: Request<ReqBody>,
    close: bool,
    head_limit: usize,
) -> Result<Response<ServerBody>, ExchangeError> {
    let method = req.method().clone();
    let sent_whole = send_request(&mut conn, req).await?;
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut received = false;
    loop {
        if !buf.is_empty() {
            if let Some(head) = parse_head(&mut buf, &method)? {
                let keep_alive = sent_whole && !close && head.keep_alive;
                return Ok(head.response.map(|framing| ServerBody {
                    conn: Some(conn),
                    buf,
                    state: framing,
                    keep_alive,
                    idle_home: None,
                    _guard: None,
                    read_timeout: None,
                    waiting: None,
                }));
            }
            if buf.len() >= head_limit {
                return Err(ExchangeError::Server(Failure::JunkResponse));
            }
        }
        let read = std::future::poll_fn(|cx| conn.poll_fill(&mut buf, cx)).await;
        match read {
            Ok(n) if n > 0 => received = true,
            _ if received => return Err(ExchangeError::Server(Failure::JunkResponse)),
            _ => return Err(ExchangeError::Server(Failure::EmptyResponse)),
        }
    }
}

struct ParsedHead {
    response: Response<State>,
    keep_alive: bool,
}

/// Parses a response head from the front of `buf`, skipping interim (1xx) responses other
/// than 101. `None` when more bytes are needed.
fn parse_head(buf: &mut BytesMut, method: &Method) -> Result<Option<ParsedHead>, ExchangeError> {
    let junk = ExchangeError::Server(Failure::JunkResponse);
    loop {
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut []);
        let base = buf.as_ptr() as usize;
        let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut parsed,
            buf,
            &mut slots,
        ) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(junk),
        };
        let status = parsed
            .code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or(junk)?;
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            buf.advance(len);
            if buf.is_empty() {
                return Ok(None);
            }
            continue;
        }
        let version = if parsed.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        let reason = parsed
            .reason
            .filter(|r| Some(*r) != status.canonical_reason())
            .map(|r| offsets(base, r.as_bytes()));
        let mut fields = Vec::with_capacity(parsed.headers.len());
        for h in parsed.headers.iter() {
            fields.push((offsets(base, h.name.as_bytes()), offsets(base, h.value)));
        }
        let head = buf.split_to(len).freeze();
        let mut headers = HeaderMap::with_capacity(fields.len());
        for ((ns, ne), (vs, ve)) in fields {
            let name = HeaderName::from_bytes(&head[ns..ne]).map_err(|_| junk)?;
            let value = HeaderValue::from_maybe_shared(head.slice(vs..ve)).map_err(|_| junk)?;
            headers.append(name, value);
        }
        let state = body_state(status, version, method, &headers).ok_or(junk)?;
        let keep_alive = matches!(state, State::Length(_) | State::Chunk(_))
            && if version == Version::HTTP_10 {
                connection_has(&headers, "keep-alive")
            } else {
                !connection_has(&headers, "close")
            };
        let mut response = Response::new(state);
        *response.status_mut() = status;
        *response.version_mut() = version;
        *response.headers_mut() = headers;
        if let Some((rs, re)) = reason {
            if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(head.slice(rs..re)) {
                response.extensions_mut().insert(phrase);
            }
        }
        return Ok(Some(ParsedHead {
            response,
            keep_alive,
        }));
    }
}

/// Where `part`, a slice of the buffer starting at address `base`, lies in it.
fn offsets(base: usize, part: &[u8]) -> (usize, usize) {
    let start = part.as_ptr() as usize - base;
    (start, start + part.len())
}

/// The response body's framing (RFC 9112 §6.3); `None` for a response that cannot be read.
fn body_state(
    status: StatusCode,
    version: Version,
    method: &Method,
    h: &HeaderMap,
) -> Option<State> {
    if status == StatusCode::SWITCHING_PROTOCOLS
        || (*method == Method::CONNECT && status.is_success())
    {
        return Some(State::Upgraded);
    }
    if status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || *method == Method::HEAD
    {
        return Some(State::Length(0));
    }
    if h.contains_key(TRANSFER_ENCODING) {
        if version == Version::HTTP_10 {
            return None;
        }
        return Some(if is_chunked(h) {
            State::Chunk(Chunk::Size)
        } else {
            State::UntilClose
        });
    }
    match content_length(h) {
        Ok(Some(n)) => Some(State::Length(n)),
        Ok(None) => Some(State::UntilClose),
        Err(()) => None,
    }
}

/// Where the reading of a response body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes are left.
    Length(u64),
    Chunk(Chunk),
    /// The body ends when the server closes.
    UntilClose,
    /// 101 or a CONNECT's success: the connection now carries another protocol.
    Upgraded,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// Where a connection goes once its response is complete.
pub struct IdleHome {
    pub session: SessionConns,
    pub server: ServerKey,
    /// Whether other sessions may use it once this one lets it go (not `http-reuse never`).
    pub shared: bool,
}

/// A server's response body, read from its connection as the client side polls it. A body
/// read to its end hands the connection back to its idle pool, when it has one.
pub struct ServerBody {
    conn: Option<ServerConn>,
    buf: BytesMut,
    state: State,
    keep_alive: bool,
    idle_home: Option<IdleHome>,
    /// Counts the server as busy until the body is dropped.
    _guard: Option<ServerGuard>,
    /// `timeout server`: the longest the server may leave a body read waiting.
    read_timeout: Option<Duration>,
    /// The timer of the read now waiting, made only when a read has to wait.
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

#[derive(Debug)]
struct BodyError {
    why: &'static str,
    timeout: bool,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.why)
    }
}

/// Whether a response body failed because the server stayed silent past `timeout server`.
pub fn is_server_timeout(e: &BoxError) -> bool {
    e.downcast_ref::<BodyError>().is_some_and(|b| b.timeout)
}

impl std::error::Error for BodyError {}

impl ServerBody {
    /// Gives the body the place its connection goes back to, the guard of its server's
    /// counters, and its read timeout.
    pub fn attach(
        &mut self,
        idle_home: Option<IdleHome>,
        guard: ServerGuard,
        read_timeout: Option<Duration>,
    ) {
        self.idle_home = idle_home;
        self._guard = Some(guard);
        self.read_timeout = read_timeout;
    }

    /// The connection of an upgraded (101) response and the bytes the server already sent
    /// on the new protocol.
    pub fn take_upgraded(&mut self) -> Option<(TcpStream, Bytes)> {
        if self.state != State::Upgraded {
            return None;
        }
        let conn = self.conn.take()?;
        Some((conn.stream, std::mem::take(&mut self.buf).freeze()))
    }

    fn complete(&mut self) {
        self.state = State::Done;
        self.release();
    }

    /// Returns a cleanly ended connection to its pool; anything unread left over means the
    /// server sent more than its response, and the connection is dropped.
    fn release(&mut self) {
        if !self.keep_alive || !self.buf.is_empty() {
            return;
        }
        if let (Some(conn), Some(home)) = (self.conn.take(), self.idle_home.take()) {
            conn.settle();
            home.session.keep(home.server, home.shared, conn);
        }
    }

    fn fail(&mut self, why: &'static str) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.state = State::Failed;
        self.conn = None;
        let timeout = false;
        Poll::Ready(Some(Err(Box::new(BodyError { why, timeout }))))
    }

    /// Ends the body after a read that brought nothing: the server closed, failed or timed out.
    fn fail_read(&mut self, e: Option<io::Error>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match e {
            Some(e) if e.kind() == io::ErrorKind::TimedOut => {
                self.state = State::Failed;
                self.conn = None;
                let why = "the server stayed silent past timeout server";
                Poll::Ready(Some(Err(Box::new(BodyError { why, timeout: true }))))
            }
            Some(_) => self.fail("server connection failed mid-body"),
            None => self.fail("server closed mid-body"),
        }
    }

    /// Reads more of the body; `Ok(0)` when the server closed. A read that waits longer than
    /// the read timeout fails with `TimedOut`; the timer only exists while a read waits.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        match conn.poll_fill(&mut self.buf, cx) {
            Poll::Ready(r) => {
                self.waiting = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let Some(limit) = self.read_timeout else {
                    return Poll::Pending;
                };
                let timer = self
                    .waiting
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
        }
    }

    /// Up to `max` bytes of data from the buffer.
    fn take_data(&mut self, max: u64) -> Bytes {
        let n = (self.buf.len() as u64).min(max) as usize;
        self.buf.split_to(n).freeze()
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match this.state {
                State::Done | State::Failed | State::Upgraded => return Poll::Ready(None),
                State::Length(0) => {
                    this.complete();
                    return Poll::Ready(None);
                }
                State::Length(left) => {
                    if !this.buf.is_empty() {
                        let data = this.take_data(left);
                        this.state = State::Length(left - data.len() as u64);
                        if this.state == State::Length(0) {
                            this.complete();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                State::UntilClose => {
                    if !this.buf.is_empty() {
                        let data = this.take_data(u64::MAX);
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    match ready!(this.poll_fill(cx)) {
                        Ok(0) => {
                            this.complete();
                            return Poll::Ready(None);
                        }
                        Ok(_) => continue,
                        Err(e) => return this.fail_read(Some(e)),
                    }
                }
                State::Chunk(chunk) => match this.step_chunked(chunk) {
                    Step::Next(state) => {
                        this.state = state;
                        continue;
                    }
                    Step::Frame(state, frame) => {
                        this.state = state;
                        if state == State::Done {
                            this.complete();
                        }
                        return Poll::Ready(frame.map(Ok));
                    }
                    Step::NeedMore => {}
                    Step::Invalid => return this.fail("invalid chunked body from the server"),
                },
            }
            match ready!(this.poll_fill(cx)) {
                Ok(0) => return this.fail_read(None),
                Ok(_) => {}
                Err(e) => return this.fail_read(Some(e)),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(
            self.state,
            State::Length(0) | State::Done | State::Failed | State::Upgraded
        )
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Length(n) => SizeHint::with_exact(n),
            State::Done | State::Failed | State::Upgraded => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

/// One step of chunked decoding over the buffered bytes.
enum Step {
    Next(State),
    Frame(State, Option<Frame<Bytes>>),
    NeedMore,
    Invalid,
}

impl ServerBody {
    fn step_chunked(&mut self, chunk: Chunk) -> Step {
        match chunk {
            Chunk::Size => match httparse::parse_chunk_size(&self.buf) {
                Ok(httparse::Status::Complete((n, size))) => {
                    self.buf.advance(n);
                    Step::Next(State::Chunk(if size == 0 {
                        Chunk::Trailers
                    } else {
                        Chunk::Data(size)
                    }))
                }
                Ok(httparse::Status::Partial) if self.buf.len() < MAX_CHUNK_LINE => Step::NeedMore,
                _ => Step::Invalid,
            },
            Chunk::Data(left) => {
                if self.buf.is_empty() {
                    return Step::NeedMore;
                }
                let data = self.take_data(left);
                let left = left - data.len() as u64;
                let next = if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                };
                Step::Frame(State::Chunk(next), Some(Frame::data(data)))
            }
            Chunk::DataEnd => match self.buf.get(..2) {
                None => Step::NeedMore,
                Some(b"\r\n") => {
                    self.buf.advance(2);
                    Step::Next(State::Chunk(Chunk::Size))
                }
                Some(_) => Step::Invalid,
            },
            Chunk::Trailers => {
                let mut slots = [httparse::EMPTY_HEADER; 32];
                match httparse::parse_headers(&self.buf, &mut slots) {
                    Ok(httparse::Status::Complete((n, fields))) => {
                        let mut trailers = HeaderMap::new();
                        for f in fields.iter() {
                            if let (Ok(name), Ok(value)) = (
                                HeaderName::from_bytes(f.name.as_bytes()),
                                HeaderValue::from_bytes(f.value),
                            ) {
                                trailers.append(name, value);
                            }
                        }
                        self.buf.advance(n);
                        let frame = (!trailers.is_empty()).then(|| Frame::trailers(trailers));
                        Step::Frame(State::Done, frame)
                    }
                    Ok(httparse::Status::Partial) if self.buf.len() < MAX_CHUNK_LINE => {
                        Step::NeedMore
                    }
                    _ => Step::Invalid,
                }
            }
        }
    }
}

impl Drop for ServerBody {
    fn drop(&mut self) {
        // A body hyper never polls (it knew it was empty) still ends cleanly.
        if self.state == State::Length(0) {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Either, Full};

    fn head(raw: &str, method: Method) -> Result<Option<ParsedHead>, ExchangeError> {
        parse_head(&mut BytesMut::from(raw), &method)
    }

    fn parsed(raw: &str, method: Method) -> ParsedHead {
        head(raw, method)
            .expect("valid head")
            .expect("complete head")
    }

    /// The frames of a body whose bytes (after the head) are all in `rest`.
    fn frames(raw: &str) -> Vec<Result<Frame<Bytes>, String>> {
        let mut buf = BytesMut::from(raw);
        let response = parse_head(&mut buf, &Method::GET)
            .unwrap()
            .unwrap()
            .response;
        let mut body = ServerBody {
            conn: None,
            buf,
            state: *response.body(),
            keep_alive: false,
            idle_home: None,
            _guard: None,
            read_timeout: None,
            waiting: None,
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            out.push(frame.map_err(|e| e.to_string()));
        }
        out
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
    fn unreadable_heads_are_junk() {
        let junk = Err(ExchangeError::Server(Failure::JunkResponse));
        for raw in [
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
            "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
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
        let (s, h) = framing(Method::POST, &[("transfer-encoding", "chunked")], empty());
        assert!(s == Sending::Nothing && !h.contains_key(TRANSFER_ENCODING));
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
}
