//! Inactivity limits, checked without a timer operation per read or write.
//!
//! The client connection has HAProxy's limits: `timeout client` while a request is in
//! progress, `timeout http-keep-alive` between requests, and `timeout http-request` for a whole
//! request head to arrive. A read or write that waits past its limit fails with `TimedOut`, and
//! hyper closes the connection. Server connections use the same watchdog for `timeout server`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// The client connection's current limits, shared with the request handler: the inactivity
/// limit and the deadline for a request head, in milliseconds (0: none), and a generation that
/// changes with them. Only the connection's own thread touches it; atomics make it `Send` as
/// hyper's upgrade path requires.
#[derive(Clone, Default)]
pub struct Limit(Arc<LimitState>);

#[derive(Default)]
struct LimitState {
    generation: AtomicU64,
    idle_ms: AtomicU64,
    head_ms: AtomicU64,
    /// How the wait for a request head ended, if it timed out (`HeadTimeout as u8`).
    head_timeout: AtomicU8,
    /// Responses the handler has produced whose head hyper has not written yet.
    heads_owed: AtomicU64,
    /// The response being written must not be: the connection closes without an answer,
    /// or after `raw_answer`.
    unanswered: AtomicBool,
    /// What goes out instead of hyper's writing of the response, as it is.
    raw_answer: std::sync::Mutex<Option<bytes::Bytes>>,
    /// The connection waits for a request head (set by `await_head`, cleared by `set`).
    awaiting_head: AtomicBool,
    /// While the connection is driven: its last read waited for a request head with nothing
    /// of it arrived yet.
    parked: AtomicBool,
    /// Its last write or flush could not complete: bytes are still held to be sent.
    write_blocked: AtomicBool,
    /// Request bodies that hyper may still be reading from the connection.
    bodies_open: AtomicU32,
    /// The client has shut its side down (a read gave the end).
    client_ended: AtomicBool,
    /// The request under way goes to a backend with `option abortonclose`: the client's end
    /// aborts it (a read that gives the end fails instead).
    abort_on_end: AtomicBool,
}

/// A wait for a request head that timed out, and what had arrived by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadTimeout {
    /// Nothing of the request had arrived.
    Empty = 1,
    /// Part of it had.
    Partial = 2,
}

/// A request body still being read from the client connection (see `Limit::body_open`).
pub struct BodyOpen(Limit);

impl Drop for BodyOpen {
    fn drop(&mut self) {
        self.0 .0.bodies_open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn millis(limit: Option<Duration>) -> u64 {
    limit.map_or(0, |d| d.as_millis().max(1) as u64)
}

fn duration(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

impl Limit {
    /// While a request is served: an inactivity limit only.
    pub fn set(&self, idle: Option<Duration>) {
        self.0.awaiting_head.store(false, Ordering::Relaxed);
        self.store(millis(idle), 0);
    }

    /// While the next request head is awaited: an inactivity limit, and a deadline for the
    /// whole head counted from now.
    pub fn await_head(&self, idle: Option<Duration>, head: Option<Duration>) {
        self.0.awaiting_head.store(true, Ordering::Relaxed);
        self.store(millis(idle), millis(head));
    }

    /// A request body that hyper reads from the connection until it ends or is dropped.
    pub fn body_open(&self) -> BodyOpen {
        self.0.bodies_open.fetch_add(1, Ordering::Relaxed);
        BodyOpen(self.clone())
    }

    /// Before the connection's state is polled: forget the last wait.
    pub(crate) fn unpark(&self) {
        self.0.parked.store(false, Ordering::Relaxed);
    }

    /// After the connection's state was polled and is waiting: whether it waits for nothing
    /// but a request head not begun yet, every response sent and every request body read,
    /// so that the state can be dropped until the client sends again.
    pub(crate) fn parked(&self) -> bool {
        let s = &self.0;
        s.parked.load(Ordering::Relaxed)
            && s.awaiting_head.load(Ordering::Relaxed)
            && !s.write_blocked.load(Ordering::Relaxed)
            && s.bodies_open.load(Ordering::Relaxed) == 0
    }

    fn store(&self, idle_ms: u64, head_ms: u64) {
        let s = &self.0;
        let idle_changed = s.idle_ms.swap(idle_ms, Ordering::Relaxed) != idle_ms;
        let head_changed = s.head_ms.swap(head_ms, Ordering::Relaxed) != head_ms;
        if idle_changed || head_changed {
            s.generation.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The handler has produced a response: hyper is about to write its head.
    pub fn owe_head(&self) {
        self.0.heads_owed.fetch_add(1, Ordering::Relaxed);
    }

    /// The response the handler produced is not to be sent: its first write fails, and
    /// hyper closes the connection (an empty error page, as HAProxy closes then).
    pub fn close_unanswered(&self) {
        self.0.unanswered.store(true, Ordering::Relaxed);
    }

    /// The response the handler produced goes out as `raw` instead of as hyper writes it,
    /// and the connection closes after it (a page whose end is the connection's end).
    pub fn close_after(&self, raw: bytes::Bytes) {
        if let Ok(mut slot) = self.0.raw_answer.lock() {
            *slot = Some(raw);
        }
        self.close_unanswered();
    }

    fn unanswered(&self) -> bool {
        self.0.unanswered.load(Ordering::Relaxed)
    }

    /// For a request to a backend with `option abortonclose` (HTTP/1): from now on, the
    /// client's end of its side aborts the exchange, and hyper, which reads the connection
    /// mid-message, drops the request. Answers whether the client has already ended, in
    /// which case the caller abandons the request itself.
    pub fn abort_on_client_end(&self) -> bool {
        self.0.abort_on_end.store(true, Ordering::Relaxed);
        self.0.client_ended.load(Ordering::Relaxed)
    }

    /// The backend's response has come: the client's end no longer aborts anything (the
    /// response goes out, and the connection closes after it).
    pub fn answer_on_client_end(&self) {
        self.0.abort_on_end.store(false, Ordering::Relaxed);
    }

    /// Whether, and how, the connection gave up waiting for a request head.
    pub fn head_timeout(&self) -> Option<HeadTimeout> {
        match self.0.head_timeout.load(Ordering::Relaxed) {
            1 => Some(HeadTimeout::Empty),
            2 => Some(HeadTimeout::Partial),
            _ => None,
        }
    }

    fn generation(&self) -> u64 {
        self.0.generation.load(Ordering::Relaxed)
    }

    fn idle(&self) -> Option<Duration> {
        duration(self.0.idle_ms.load(Ordering::Relaxed))
    }

    fn head(&self) -> Option<Duration> {
        duration(self.0.head_ms.load(Ordering::Relaxed))
    }

    /// Whether the connection needs something from the client: a request head, or a request
    /// body still arriving. Once a request is read whole, the client owes nothing until its
    /// answer is out, so no client limit runs while the server connects or answers (HAProxy
    /// stops reading the client's side then; `timeout server` and the retries decide alone).
    fn reading_wanted(&self) -> bool {
        let s = &self.0;
        s.awaiting_head.load(Ordering::Relaxed) || s.bodies_open.load(Ordering::Relaxed) > 0
    }
}

/// Watches one direction of a connection. Arming a timer on every read would cost more than
/// the read: the timer is made the first time I/O waits, is moved only to an earlier deadline,
/// and when it fires checks the time of the last activity before giving up (re-arming for
/// the rest of the period if there was some). Activity is stamped with the round's clock.
pub struct Watchdog {
    sleep: Option<Pin<Box<Sleep>>>,
    /// The waker the timer holds since its last poll, which left it pending and armed for
    /// its current deadline: until that deadline passes the timer has nothing new to say, and
    /// polling it again (several times per request) only registers the same waker again.
    armed_for: Option<std::task::Waker>,
    last_activity: Instant,
    /// When the current phase (a request head's wait, or an exchange) began.
    phase_start: Instant,
}

impl Default for Watchdog {
    fn default() -> Watchdog {
        let now = crate::clock::now();
        Watchdog {
            sleep: None,
            armed_for: None,
            last_activity: now,
            phase_start: now,
        }
    }
}

impl Watchdog {
    /// The I/O made progress.
    pub fn active(&mut self) {
        self.last_activity = crate::clock::now();
    }

    /// A new phase begins: both limits count from now.
    pub fn restart(&mut self) {
        let now = crate::clock::now();
        self.last_activity = now;
        self.phase_start = now;
    }

    fn deadline(&self, idle: Option<Duration>, whole: Option<Duration>) -> Option<Instant> {
        let by_idle = idle.map(|t| self.last_activity + t);
        let by_phase = whole.map(|t| self.phase_start + t);
        match (by_idle, by_phase) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Called while the I/O waits: true once `idle` has passed since the last activity, or
    /// `whole` since the phase began. Otherwise the timer will wake the task by then.
    pub fn expired(
        &mut self,
        idle: Option<Duration>,
        whole: Option<Duration>,
        cx: &mut Context<'_>,
    ) -> bool {
        let Some(deadline) = self.deadline(idle, whole) else {
            return false;
        };
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if deadline < sleep.deadline().into_std() {
                    sleep.as_mut().reset(deadline.into());
                    self.armed_for = None;
                } else if !sleep.is_elapsed()
                    && self
                        .armed_for
                        .as_ref()
                        .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    // Still armed, for this task, and not fired: it will wake the task.
                    return false;
                }
                sleep
            }
            None => self
                .sleep
                .insert(Box::pin(tokio::time::sleep_until(deadline.into()))),
        };
        while sleep.as_mut().poll(cx).is_ready() {
            // The timer was armed for the deadline of its time; activity may have moved it.
            // The clock is read here, not the round's: this runs once per period, and the
            // round's reading stays the same for as long as this loop could spin.
            if Instant::now() >= deadline {
                self.armed_for = None;
                return true;
            }
            sleep.as_mut().reset(deadline.into());
        }
        if !self
            .armed_for
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            self.armed_for = Some(cx.waker().clone());
        }
        false
    }
}

/// A client transport the limits can wrap: TCP, or TLS over it.
pub trait ClientStream: AsyncRead + AsyncWrite + Unpin {
    /// Writes what the socket takes at once, without waiting (the 408 and 400 pages).
    fn write_now(&mut self, data: &[u8]) -> io::Result<usize>;

    /// Ready once a read may give something: bytes, the end, or an error.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Reads and drops what the client sent that is waiting unread, without waiting, before
    /// the connection closes: a close over unread bytes (a request pipelined behind the
    /// last answer) is a reset, which can destroy that answer on its way. HAProxy drains so.
    /// Answers how many bytes it dropped.
    fn drain_unread(&mut self) -> u64 {
        0
    }
}

impl ClientStream for TcpStream {
    fn write_now(&mut self, data: &[u8]) -> io::Result<usize> {
        self.try_write(data)
    }

    fn drain_unread(&mut self) -> u64 {
        use std::io::Read;
        // Straight from the socket (non-blocking under tokio), whatever tokio last saw of
        // its readiness; a bounded amount, a client still sending is not waited for.
        let socket = socket2::SockRef::from(&*self);
        let mut buf = [0u8; 16 * 1024];
        let mut dropped = 0;
        for _ in 0..16 {
            match (&*socket).read(&mut buf) {
                Ok(n) if n > 0 => dropped += n as u64,
                _ => break,
            }
        }
        dropped
    }

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }
}

pub struct IdleLimited<S = TcpStream> {
    stream: S,
    /// Bytes read from the stream before and given again first: what the connection's
    /// HTTP state held unparsed when it was dropped (a pipelined request's beginning).
    held: bytes::Bytes,
    limit: Limit,
    /// What the client is sent instead of hyper's bare answer to a malformed request:
    /// HAProxy's 400 page, or nothing when `errorfile 400` is empty.
    bad_request: bytes::Bytes,
    /// The page that answers a request the client's end aborted.
    aborted: bytes::Bytes,
    /// The generation of the limits the watchdogs follow.
    generation: u64,
    read: Watchdog,
    write: Watchdog,
    /// What the client is sent when its request head does not arrive in time (a 408).
    late_head: bytes::Bytes,
    /// The current phase is the connection's first.
    first_phase: bool,
    /// Bytes arrived during the current phase.
    phase_bytes: bool,
    /// Held bytes were given again during the current phase.
    replayed: bool,
    /// What remains to be written of a raw answer (see `Limit::close_after`).
    raw_left: Option<bytes::Bytes>,
    /// `option http-ignore-probes`: no 408 when nothing of the first request came.
    ignore_probes: bool,
}

impl<S: ClientStream> IdleLimited<S> {
    /// See [`ClientStream::drain_unread`].
    pub fn drain_unread(&mut self) -> u64 {
        self.stream.drain_unread()
    }

    pub fn new(
        stream: S,
        limit: Limit,
        late_head: bytes::Bytes,
        bad_request: bytes::Bytes,
    ) -> IdleLimited<S> {
        IdleLimited {
            stream,
            held: bytes::Bytes::new(),
            bad_request,
            aborted: bytes::Bytes::new(),
            generation: limit.generation(),
            limit,
            read: Watchdog::default(),
            write: Watchdog::default(),
            late_head,
            first_phase: true,
            phase_bytes: false,
            replayed: false,
            raw_left: None,
            ignore_probes: false,
        }
    }

    /// Under `option http-ignore-probes`, a connection that sends nothing before its first
    /// request's time runs out is closed without the 408 page (a browser's speculative
    /// pre-connection, not a failed request).
    pub fn ignoring_probes(mut self, ignore: bool) -> Self {
        self.ignore_probes = ignore;
        self
    }

    /// The page that answers a request the client's end aborts (see
    /// `Limit::abort_on_client_end`).
    pub fn answering_aborts_with(mut self, page: bytes::Bytes) -> Self {
        self.aborted = page;
        self
    }

    /// Bytes to be read again before the stream's. They are copied: they are often a view into
    /// the 8 kB read buffer of the HTTP/1 state just dropped, which holding them (even none of
    /// them) would keep allocated for as long as the connection waits.
    pub fn hold(&mut self, held: bytes::Bytes) {
        if held.is_empty() {
            return;
        }
        if self.held.is_empty() {
            self.held = bytes::Bytes::copy_from_slice(&held);
        } else {
            let mut all = bytes::BytesMut::from(&held[..]);
            all.extend_from_slice(&self.held);
            self.held = all.freeze();
        }
    }

    /// The stream and the bytes read from it but not yet given again, for a connection that
    /// leaves HTTP/1 (its limits stay behind).
    pub fn into_parts(self) -> (S, bytes::Bytes) {
        (self.stream, self.held)
    }

    /// Waits, within the limits, until a read may give something; a limit that passes first
    /// is a `TimedOut` error (after the 408 page when a request head was late).
    pub fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.held.is_empty() {
            return Poll::Ready(Ok(()));
        }
        match self.stream.poll_read_ready(cx) {
            Poll::Pending if self.read_expired(cx) => Poll::Ready(Err(timed_out())),
            polled => polled,
        }
    }

    /// Follows a change of limits: a new phase counts from now.
    fn follow_limits(&mut self) {
        let generation = self.limit.generation();
        if generation != self.generation {
            self.generation = generation;
            self.read.restart();
            self.write.restart();
            self.first_phase = false;
            self.phase_bytes = false;
            self.replayed = false;
        }
    }

    fn read_expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.follow_limits();
        if !self.limit.reading_wanted() {
            return false;
        }
        if !self.read.expired(self.limit.idle(), self.limit.head(), cx) {
            return false;
        }
        // As HAProxy does, a head that never completed is answered with 408: on the first
        // request even when nothing came, later only once the next request has begun (an
        // idle keep-alive connection just closes, and so does a first one that sent nothing
        // under `option http-ignore-probes`).
        let owed = self.phase_bytes || (self.first_phase && !self.ignore_probes);
        if self.limit.head().is_some() && owed {
            let _ = self.stream.write_now(&self.late_head);
            let how = if self.phase_bytes {
                HeadTimeout::Partial
            } else {
                HeadTimeout::Empty
            };
            self.limit
                .0
                .head_timeout
                .store(how as u8, Ordering::Relaxed);
        }
        true
    }

    /// Sees what hyper writes. A response head the handler produced is one owed; a head
    /// written when none is owed is hyper's own answer to a request it could not parse, and
    /// the 400 page goes out in its place. Answers the length to report to hyper when the
    /// page was sent instead. (A write is taken for a head when it starts like one: a body
    /// that itself starts with a status line is the one case this could miscount, and it
    /// would take such a body followed by a response exactly like hyper's error answer.)
    fn substitute(&mut self, data: &[u8]) -> Option<usize> {
        const HEAD: &[u8] = b"HTTP/1.1 ";
        if !data.starts_with(HEAD) || data.get(HEAD.len()).is_some_and(|&d| d == b'1') {
            return None;
        }
        let owed = &self.limit.0.heads_owed;
        if owed.load(Ordering::Relaxed) > 0 {
            owed.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        if !is_hyper_error_head(data) {
            return None;
        }
        // The connection closes after it, and its send buffer is empty this early: the page
        // goes out at once (were it cut short, hyper's bytes must not follow it). An empty
        // page means no answer at all.
        if self.bad_request.is_empty() {
            return Some(data.len());
        }
        match self.stream.write_now(&self.bad_request) {
            Ok(n) if n > 0 => Some(data.len()),
            _ => None,
        }
    }

    /// In place of the writes of a response that is not to be sent: its raw answer, if it
    /// has one, flushed; then an error, so that hyper closes the connection.
    fn poll_unanswered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.raw_left.is_none() {
            let raw = self
                .limit
                .0
                .raw_answer
                .lock()
                .ok()
                .and_then(|mut r| r.take());
            self.raw_left = Some(raw.unwrap_or_default());
        }
        while let Some(left) = self.raw_left.as_mut().filter(|l| !l.is_empty()) {
            match Pin::new(&mut self.stream).poll_write(cx, left) {
                Poll::Ready(Ok(n)) if n > 0 => bytes::Buf::advance(left, n),
                Poll::Ready(Ok(_)) => break,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Pending => Poll::Pending,
            _ => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn write_expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.follow_limits();
        self.write.expired(self.limit.idle(), None, cx)
    }

    /// The outcome of a write: activity, or a wait within the limit.
    fn written(
        &mut self,
        polled: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let blocked = polled.is_pending();
        self.limit.0.write_blocked.store(blocked, Ordering::Relaxed);
        match polled {
            Poll::Ready(r) => {
                self.write.active();
                Poll::Ready(r)
            }
            Poll::Pending if self.write_expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "client timeout")
}

impl<S: ClientStream> AsyncRead for IdleLimited<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.held.is_empty() {
            this.follow_limits();
            this.replayed = true;
            this.limit.0.parked.store(false, Ordering::Relaxed);
            let n = this.held.len().min(buf.remaining());
            buf.put_slice(&this.held.split_to(n));
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.limit.0.parked.store(false, Ordering::Relaxed);
                this.read.active();
                let got = buf.filled().len() > before;
                this.phase_bytes |= got;
                if r.is_ok() && room && !got {
                    let s = &this.limit.0;
                    s.client_ended.store(true, Ordering::Relaxed);
                    if s.abort_on_end.load(Ordering::Relaxed) {
                        // As HAProxy answers the abort: the 400 page, which a client that only
                        // half-closed still reads.
                        let _ = this.stream.write_now(&this.aborted);
                        return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
                    }
                }
                Poll::Ready(r)
            }
            Poll::Pending if this.read_expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => {
                if !this.phase_bytes && !this.replayed {
                    this.limit.0.parked.store(true, Ordering::Relaxed);
                }
                Poll::Pending
            }
        }
    }
}

impl<S: ClientStream> AsyncWrite for IdleLimited<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.limit.unanswered() {
            return this.poll_unanswered(cx);
        }
        if let Some(n) = this.substitute(data) {
            return Poll::Ready(Ok(n));
        }
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        this.written(polled, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.limit.unanswered() {
            return this.poll_unanswered(cx);
        }
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        match (filled.next(), filled.next()) {
            (Some(only), None) => {
                if let Some(n) = this.substitute(only) {
                    return Poll::Ready(Ok(n));
                }
            }
            // A head with a body: only counted, never hyper's bare error answer.
            (Some(first), Some(_)) => {
                let _ = this.substitute(first);
            }
            _ => {}
        }
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.written(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.limit
            .0
            .write_blocked
            .store(polled.is_pending(), Ordering::Relaxed);
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Whether `data` is exactly the answer hyper writes to a request it cannot parse: a 4xx or
/// 5xx status line, then `connection: close` and `content-length: 0`, and nothing else.
fn is_hyper_error_head(data: &[u8]) -> bool {
    let Some(head) = data.strip_suffix(b"\r\n\r\n") else {
        return false;
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(status) = lines.next() else {
        return false;
    };
    let status_ok = status.len() > 13
        && matches!(status[9], b'4' | b'5')
        && status[10..12].iter().all(u8::is_ascii_digit)
        && status[12] == b' ';
    let mut fields: Vec<&[u8]> = lines.collect();
    fields.sort_unstable();
    status_ok && fields == [&b"connection: close"[..], &b"content-length: 0"[..]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_error_heads_are_told_from_other_writes() {
        assert!(is_hyper_error_head(
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(is_hyper_error_head(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ));
        assert!(!is_hyper_error_head(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ));
        assert!(!is_hyper_error_head(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx: y\r\nconnection: close\r\n\r\n"
        ));
        assert!(!is_hyper_error_head(b"HTTP/1.1 400 Bad Request\r\n\r\n"));
    }
}
