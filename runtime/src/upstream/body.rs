//! A server's response body, decoded from its connection as the client side reads it: by
//! length, in chunks, or up to the close.

use super::pool::{ServerKey, SessionConns};
use super::upload::Upload;
use super::{BoxError, ServerConn};
use crate::http::forward::ServerGuard;
use bytes::{Buf, Bytes, BytesMut};
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

mod ahead;

/// The most bytes a chunk-size line or a trailer section may take.
const MAX_CHUNK_LINE: usize = 4096;

/// Where the reading of a response body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
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
pub(super) enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// A response body decoded elsewhere than from an HTTP/1 connection.
pub trait FrameSource {
    /// The next data or trailers frame; `Err(true)` when the server stayed silent past
    /// `timeout server`, `Err(false)` when its stream broke.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>>;
    fn is_end_stream(&self) -> bool;
    fn size_hint(&self) -> SizeHint;
    /// At the end of the body, the connection it came on when that may carry another
    /// request (a FastCGI application's kept connection).
    fn take_idle(&mut self) -> Option<ServerConn> {
        None
    }
    /// The frames read ahead of the client, when this source keeps them (see `ahead.rs`).
    fn frames_ahead(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// Where a connection goes once its response is complete.
pub struct IdleHome {
    pub session: SessionConns,
    pub server: ServerKey,
    /// Whether other sessions may use it once this one lets it go (not `http-reuse never`).
    pub shared: bool,
    /// The server's idle connections.
    pub idle: std::sync::Arc<super::pool::ServerIdle>,
    /// `max-reuse`: how many times a connection may be reused. HAProxy applies it to its
    /// multiplexed connections (HTTP/2, FastCGI), not to HTTP/1.1 ones.
    pub max_reuse: Option<u64>,
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
    /// The rest of a request body still on its way to the server: it goes on as the response
    /// is read.
    upload: Option<Box<Upload>>,
    /// A body another decoder reads: a stream of a multiplexed (HTTP/2) connection, read by
    /// hyper's client, or a FastCGI application's output.
    stream: Option<Box<dyn FrameSource>>,
    /// The HTTP filters the body goes through (compression, cache), if any.
    filters: Option<crate::http::filters::Chain>,
    /// The timer of the filters' wake time.
    retry: crate::http::script_hold::Retry,
    /// The tunnel an HTTP/2 stream became (an extended CONNECT's success).
    h2_upgrade: Option<hyper::upgrade::OnUpgrade>,
    /// Body bytes received from the server so far, before any filter (`%B`).
    received: u64,
    /// The download limits the transaction enabled (`set-bandwidth-limit`), if any.
    paced: Option<Box<crate::bwlim::Paced>>,
    /// Read ahead for a waiting filter ([`ServerBody::arrival`]), the server's end was seen.
    ended_ahead: bool,
}

/// The server side of a tunnel (a 101, a CONNECT's success): the connection itself with the
/// bytes the server already sent on the new protocol, or an HTTP/2 stream (RFC 8441), kept
/// counted in its connection's open streams while the tunnel lasts.
pub enum ServerTunnel {
    Conn(super::ServerStream, Bytes),
    Stream(hyper::upgrade::OnUpgrade, Option<Box<dyn FrameSource>>),
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
    pub(super) fn new(
        conn: Option<ServerConn>,
        buf: BytesMut,
        state: State,
        keep_alive: bool,
    ) -> ServerBody {
        ServerBody {
            conn,
            buf,
            state,
            keep_alive,
            idle_home: None,
            _guard: None,
            upload: None,
            stream: None,
            filters: None,
            retry: Default::default(),
            h2_upgrade: None,
            received: 0,
            paced: None,
            ended_ahead: false,
        }
    }

    /// Body bytes received from the server so far, as it sent them (before compression):
    /// what HAProxy counts in `%B` and the `bout` counters.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The body of a response another decoder reads (an HTTP/2 stream, FastCGI records).
    pub(super) fn multiplexed(stream: impl FrameSource + 'static) -> ServerBody {
        let mut body = ServerBody::new(None, BytesMut::new(), State::Done, false);
        body.stream = Some(Box::new(stream));
        body
    }

    /// A body that breaks off after `sent`: the client gets those bytes, then its connection
    /// is cut without the body's proper end (a script's service that failed once it had begun
    /// to answer, as HAProxy leaves such a response).
    pub fn cut_short(sent: Bytes) -> ServerBody {
        ServerBody::multiplexed(CutShort {
            sent: Some(sent),
            flushed: false,
        })
    }

    /// A body of `whole` whose length is not told: it goes to an HTTP/1.0 client as it comes,
    /// its end the connection's (a script service's that gave no length, as HAProxy sends it).
    pub fn untold(whole: Bytes) -> ServerBody {
        ServerBody::multiplexed(Untold(Some(whole)))
    }

    /// A script service's body: `sent` (what it sent before its response went out), then
    /// the rest as the script sends it, broken off as by [`ServerBody::cut_short`] when the
    /// script fails.
    pub fn script(sent: Bytes, rest: Box<dyn crate::script::ScriptBody>) -> ServerBody {
        ServerBody::multiplexed(ScriptStream {
            sent: Some(sent),
            rest,
            cut: None,
        })
    }

    /// Sends the body through `chain` (its length then changes, so it is no longer told).
    pub fn filter(&mut self, chain: crate::http::filters::Chain) {
        if !chain.is_empty() {
            self.filters = Some(chain);
        }
    }

    /// Paces what goes to the client with the transaction's download limits.
    pub fn pace(&mut self, pacer: crate::bwlim::Pacer) {
        self.paced = crate::bwlim::Paced::new(pacer);
    }

    /// The next frame once through the filters: a chunk they hold back entirely is not sent
    /// as an empty frame, and what they add at the end comes before the end.
    fn poll_filtered(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        use crate::http::filters::BodyFilter;
        loop {
            // A filter's wake time passed: what the filters hold is offered again. While
            // they hold a full buffer the server is not read, as HAProxy stops reading a
            // full channel.
            let wake = self.filters.as_ref().and_then(|c| c.wake_at());
            let full = self.filters.as_ref().is_some_and(|c| c.full());
            let polled = if self.retry.poll(wake, cx).is_ready() {
                Poll::Ready(Some(Ok(Frame::data(Bytes::new()))))
            } else if full {
                return Poll::Pending;
            } else {
                self.poll_unfiltered(cx)
            };
            if let Poll::Ready(Some(Ok(frame))) = &polled {
                if let Some(data) = frame.data_ref() {
                    self.received += data.len() as u64;
                }
            }
            let Some(chain) = self.filters.as_mut() else {
                return polled;
            };
            match polled {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        // The client side may stop polling once it has the length it was
                        // told: the filters end with the last bytes, not after them, and a
                        // chunk whose end is known is offered as the message's end.
                        let ended = self.stream.is_none()
                            && matches!(self.state, State::Done | State::Length(0));
                        let mut chain_failed = false;
                        let out = if ended {
                            let out = if data.is_empty() {
                                let held = chain.retry();
                                crate::http::filters::join(held, chain.end())
                            } else {
                                chain.last(data)
                            };
                            chain_failed = chain.failed();
                            self.filters = None;
                            out
                        } else if data.is_empty() {
                            chain.retry()
                        } else {
                            chain.data(data)
                        };
                        if self.filters.as_ref().map_or(chain_failed, |c| c.failed()) {
                            return self.abort_filtered();
                        }
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
                Poll::Ready(None) => {
                    let mut chain = self.filters.take().expect("present above");
                    let tail = chain.end();
                    if chain.failed() {
                        return self.abort_filtered();
                    }
                    if tail.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(tail))));
                }
                other => return other,
            }
        }
    }

    /// A filter failed once the head was out: the stream is aborted, its server connection
    /// closed and the client's response cut short.
    fn abort_filtered(&mut self) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.filters = None;
        self.stream = None;
        self.fail("a filter failed on the response body", false)
    }

    /// Whether the server's protocol delimits this body (an HTTP/2 stream's frames, FastCGI
    /// records) rather than an HTTP/1 length, chunks or the connection's end.
    pub fn delimited_by_protocol(&self) -> bool {
        self.stream.is_some()
    }

    /// Body bytes already read with the head and not yet handed on (chunked framing counts
    /// as read): what HAProxy counts as sent when it logs at the head (`option logasap`).
    pub fn buffered(&self) -> u64 {
        match self.state {
            State::Length(left) => (self.buf.len() as u64).min(left),
            State::Chunk(_) | State::UntilClose => self.buf.len() as u64,
            _ => 0,
        }
    }

    /// The body bytes [`ServerBody::buffered`] counts, when they are the body's own: `None`
    /// for a chunked body, whose buffer still holds the chunks' framing.
    pub fn held_data(&self) -> Option<bytes::Bytes> {
        match self.state {
            State::Length(_) | State::UntilClose => Some(bytes::Bytes::copy_from_slice(
                &self.buf[..self.buffered() as usize],
            )),
            _ => None,
        }
    }

    /// Carries on `upload` (an unfinished request body) while the response is read.
    pub(super) fn with_upload(mut self, upload: Option<Box<Upload>>) -> ServerBody {
        self.upload = upload;
        self
    }

    /// Moves the upload on, if one is still going; it ends when written, or when either side
    /// gives up (the response is read all the same).
    fn drive_upload(&mut self, cx: &mut Context<'_>) {
        let Some(up) = self.upload.as_mut() else {
            return;
        };
        let done = match self.conn.as_mut() {
            Some(conn) => up.poll_send(conn, cx).is_ready(),
            None => true,
        };
        if done {
            self.upload = None;
        }
    }

    /// Gives the body the place its connection goes back to, and the guard of its server's
    /// counters.
    pub fn attach(&mut self, idle_home: Option<IdleHome>, guard: ServerGuard) {
        self.idle_home = idle_home;
        self._guard = Some(guard);
    }

    /// Makes the body of an HTTP/2 stream's response the tunnel that stream became.
    pub fn upgraded_stream(&mut self, on: hyper::upgrade::OnUpgrade) {
        self.state = State::Upgraded;
        self.h2_upgrade = Some(on);
    }

    /// The server side of an upgraded (101) response.
    pub fn take_upgraded(&mut self) -> Option<ServerTunnel> {
        if self.state != State::Upgraded {
            return None;
        }
        if let Some(on) = self.h2_upgrade.take() {
            return Some(ServerTunnel::Stream(on, self.stream.take()));
        }
        let conn = self.conn.take()?;
        Some(ServerTunnel::Conn(
            conn.into_transport(),
            std::mem::take(&mut self.buf).freeze(),
        ))
    }

    fn complete(&mut self) {
        self.state = State::Done;
        self.release();
    }

    /// The body another decoder read is over: the connection it leaves, if any, goes back
    /// to its pool.
    fn stream_ended(&mut self) {
        if let Some(conn) = self.stream.take().and_then(|mut s| s.take_idle()) {
            self.conn = Some(conn);
            self.keep_alive = true;
            self.release();
        }
    }

    /// Returns a cleanly ended connection to its pool; anything unread left over means the
    /// server sent more than its response, and the connection is dropped.
    fn release(&mut self) {
        if !self.keep_alive || !self.buf.is_empty() {
            return;
        }
        if let (Some(conn), Some(home)) = (self.conn.take(), self.idle_home.take()) {
            if home.max_reuse.is_some_and(|m| u64::from(conn.requests) > m) {
                return;
            }
            conn.settle();
            home.session
                .keep(home.server, home.shared, conn, &home.idle);
        }
    }

    fn fail(
        &mut self,
        why: &'static str,
        timeout: bool,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.state = State::Failed;
        self.conn = None;
        // Without the connection, what is left of the request body has nowhere to go.
        self.upload = None;
        Poll::Ready(Some(Err(Box::new(BodyError { why, timeout }))))
    }

    /// Ends the body after a read that brought nothing: the server closed, failed or timed out.
    fn fail_read(&mut self, e: Option<io::Error>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match e {
            Some(e) if e.kind() == io::ErrorKind::TimedOut => {
                self.fail("the server stayed silent past timeout server", true)
            }
            Some(_) => self.fail("server connection failed mid-body", false),
            None => self.fail("server closed mid-body", false),
        }
    }

    /// Reads more of the body; `Ok(0)` when the server closed, `TimedOut` past `timeout
    /// server`.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        match self.conn.as_mut() {
            Some(conn) => conn.poll_fill(&mut self.buf, cx),
            None => Poll::Ready(Ok(0)),
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
        crate::bwlim::poll_paced(
            self.get_mut(),
            cx,
            |b| &mut b.paced,
            ServerBody::poll_filtered,
        )
    }

    fn is_end_stream(&self) -> bool {
        if self.paced.as_ref().is_some_and(|p| p.holds_data()) {
            return false;
        }
        if let Some(stream) = &self.stream {
            return self.filters.is_none() && stream.is_end_stream();
        }
        self.upload.is_none()
            && self.filters.is_none()
            && matches!(
                self.state,
                State::Length(0) | State::Done | State::Failed | State::Upgraded
            )
    }

    fn size_hint(&self) -> SizeHint {
        if self.filters.is_some() {
            return SizeHint::default();
        }
        match &self.stream {
            Some(stream) => stream.size_hint(),
            None => self.size_hint_now(),
        }
    }
}

impl ServerBody {
    fn poll_unfiltered(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(stream) = self.stream.as_mut() {
            return match stream.poll_frame(cx) {
                Poll::Ready(Some(Err(timeout))) => {
                    self.stream = None;
                    let why = if timeout {
                        "the server stayed silent past timeout server"
                    } else {
                        "the server's stream failed mid-body"
                    };
                    Poll::Ready(Some(Err(Box::new(BodyError { why, timeout }))))
                }
                Poll::Ready(None) => {
                    self.stream_ended();
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Pending => Poll::Pending,
            };
        }
        self.drive_upload(cx);
        let polled = self.poll_body(cx);
        if matches!(polled, Poll::Ready(None)) && self.upload.is_some() {
            // The response is over while the client is still sending: its body goes on to the
            // server (as long as timeout server allows) before the response ends, so that the
            // client connection is not closed, and reset, under bytes it sent and nobody read.
            // The upload was driven above, and wakes the task when it can go on.
            return Poll::Pending;
        }
        polled
    }

    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self;
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
                    Step::Invalid => {
                        return this.fail("invalid chunked body from the server", false)
                    }
                },
            }
            match ready!(this.poll_fill(cx)) {
                Ok(0) => return this.fail_read(None),
                Ok(_) => {}
                Err(e) => return this.fail_read(Some(e)),
            }
        }
    }

    /// Whether the server ends this body by closing its connection (an HTTP/1 response
    /// without a length), still unread.
    pub fn close_delimited(&self) -> bool {
        self.stream.is_none() && self.state == State::UntilClose
    }

    fn size_hint_now(&self) -> SizeHint {
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
        // Nor does one whose other decoder said it was over.
        if self.stream.as_ref().is_some_and(|s| s.is_end_stream()) {
            self.stream_ended();
        }
        // hyper drops a body once it has sent its announced length. A request body still on its
        // way is carried to its end in a task of its own: left unread, it would make the
        // client's connection close with a reset, and the client could lose the end of the
        // response. (Outside a task, as when a worker stops, there is nobody left to serve.)
        if let (Some(mut upload), Some(mut conn)) = (self.upload.take(), self.conn.take()) {
            if tokio::task::try_id().is_some() {
                tokio::task::spawn_local(async move {
                    let _ = std::future::poll_fn(|cx| upload.poll_send(&mut conn, cx)).await;
                });
            }
        }
    }
}

/// The frames of [`ServerBody::cut_short`]: the bytes, then the break.
struct CutShort {
    sent: Option<Bytes>,
    /// Whether the client connection had its chance to write the bytes out: the break comes
    /// one poll later, as the connection drops what it holds unwritten when the body fails.
    flushed: bool,
}

impl FrameSource for CutShort {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        if let Some(sent) = self.sent.take().filter(|b| !b.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(sent))));
        }
        if !self.flushed {
            self.flushed = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(false)))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Bytes sent whole with no length told ([`ServerBody::untold`]).
struct Untold(Option<Bytes>);

impl FrameSource for Untold {
    fn poll_frame(&mut self, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        Poll::Ready(
            self.0
                .take()
                .filter(|b| !b.is_empty())
                .map(|b| Ok(Frame::data(b))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A script service's body as the script sends it ([`ServerBody::script`]).
struct ScriptStream {
    sent: Option<Bytes>,
    rest: Box<dyn crate::script::ScriptBody>,
    /// Set once the script failed: what breaks the connection off.
    cut: Option<CutShort>,
}

impl FrameSource for ScriptStream {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        if let Some(sent) = self.sent.take().filter(|b| !b.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(sent))));
        }
        if let Some(cut) = self.cut.as_mut() {
            return cut.poll_frame(cx);
        }
        match ready!(self.rest.poll_next(cx)) {
            Some(Ok(data)) => Poll::Ready(Some(Ok(Frame::data(data)))),
            None => Poll::Ready(None),
            Some(Err(())) => self
                .cut
                .insert(CutShort {
                    sent: None,
                    flushed: false,
                })
                .poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
