//! Stopping an HTTP/2 connection without a request lost on the client's side.
//!
//! A client such as nghttp2 (h2load, nghttp, curl) reacts to each response it reads by
//! queueing the next request, and sends what it queued only once it has read all that was
//! waiting on the socket. A GOAWAY read in that same batch, even the first one of a graceful
//! stop (last stream 2^31-1), makes it drop the queued requests itself (they never reach the
//! proxy, and count as failed). The h2 crate's graceful stop (GOAWAY, PING, then the final
//! GOAWAY on the PING's answer) writes its first GOAWAY right behind the responses of the
//! moment, so a busy client loses the requests those responses prompted.
//!
//! So the stop is preceded by one round trip in which the server writes nothing else: a PING
//! goes out at a frame boundary, what the h2 crate writes after it is held, and the client's
//! answer proves it has read every response before the PING and sent the requests they
//! prompted (nghttp2 writes all it queued after a read, the PING's answer included). A GOAWAY
//! (2^31-1) then goes out before the held bytes, so the client reads it ahead of any further
//! response; only then does the h2 crate's own graceful stop start. This works on the bytes
//! (frame headers only: lengths and types) because hyper owns the h2 connection and offers no
//! way to order frames.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The opaque data of the quiescing PING, to know its answer from the h2 crate's own.
const PING_DATA: [u8; 8] = *b"hapee-q1";
/// How long the client has to answer the PING; past it the stop goes on without the proof.
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// The most the h2 crate may write while the answer is awaited before it is let through.
const HOLD_LIMIT: usize = 1 << 20;
/// The client's connection preface, ahead of its frames.
const CLIENT_PREFACE_LEN: usize = 24;

/// Where a byte stream of HTTP/2 frames is: inside the client preface, a frame header or a
/// payload.
#[derive(Clone, Default)]
struct FrameCursor {
    preface_left: usize,
    head: [u8; 9],
    head_len: usize,
    payload_left: usize,
    /// The payload of a PING acknowledgement under way.
    ping_ack: Option<[u8; 8]>,
}

impl FrameCursor {
    fn at_boundary(&self) -> bool {
        self.preface_left == 0 && self.head_len == 0
    }

    /// Consumes `data` up to the end of the preface, the frame header or the payload under
    /// way; answers how much, and the payload of a PING acknowledgement it completed.
    fn step(&mut self, data: &[u8]) -> (usize, Option<[u8; 8]>) {
        if self.preface_left > 0 {
            let n = self.preface_left.min(data.len());
            self.preface_left -= n;
            return (n, None);
        }
        if self.head_len < 9 {
            let n = if self.head_len == 0 && data.len() >= 9 {
                // The whole header is at hand (the usual case): a fixed-size copy, made inline
                // rather than through a `memcpy` call of a length known only at run time.
                self.head.copy_from_slice(&data[..9]);
                9
            } else {
                let n = (9 - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + n].copy_from_slice(&data[..n]);
                n
            };
            self.head_len += n;
            if self.head_len == 9 {
                let len = u32::from_be_bytes([0, self.head[0], self.head[1], self.head[2]]);
                self.payload_left = len as usize;
                // PING (type 6) with ACK (flag 1), 8 bytes of opaque data.
                self.ping_ack =
                    (self.head[3] == 6 && self.head[4] & 1 == 1 && len == 8).then_some([0; 8]);
                if len == 0 {
                    self.head_len = 0;
                }
            }
            return (n, None);
        }
        let n = self.payload_left.min(data.len());
        if let Some(ping) = self.ping_ack.as_mut() {
            let at = 8 - self.payload_left;
            ping[at..at + n].copy_from_slice(&data[..n]);
        }
        self.payload_left -= n;
        if self.payload_left > 0 {
            return (n, None);
        }
        self.head_len = 0;
        (n, self.ping_ack.take())
    }

    /// Consumes all of `data`; answers whether the quiescing PING's answer was in it.
    fn advance(&mut self, mut data: &[u8]) -> bool {
        let mut answered = false;
        while !data.is_empty() {
            // A whole frame at a boundary (the usual case) is skipped by its length, header
            // and payload at once; a PING acknowledgement goes through `step` for its data.
            if self.at_boundary() && data.len() >= 9 && !(data[3] == 6 && data[4] & 1 == 1) {
                let end = 9 + u32::from_be_bytes([0, data[0], data[1], data[2]]) as usize;
                if let Some(rest) = data.get(end..) {
                    data = rest;
                    continue;
                }
            }
            let (n, ack) = self.step(data);
            answered |= ack == Some(PING_DATA);
            data = &data[n..];
        }
        answered
    }

    /// How many bytes of `data` finish the frame under way (0 at a boundary).
    fn to_boundary(&self, mut data: &[u8]) -> usize {
        let mut probe = self.clone();
        let mut n = 0;
        while !probe.at_boundary() && !data.is_empty() {
            let (k, _) = probe.step(data);
            n += k;
            data = &data[k..];
        }
        n
    }
}

#[derive(PartialEq)]
enum Phase {
    /// Bytes go straight through.
    Open,
    /// The PING goes out at the next frame boundary.
    Asked,
    /// The PING is out (or queued): the h2 crate's bytes are held until the answer.
    Holding,
    /// The GOAWAY, then the held bytes, are on their way; then straight through again.
    Releasing,
}

struct Gate<S> {
    stream: S,
    phase: Phase,
    /// Whether the server has written anything yet (its SETTINGS must come first).
    started: bool,
    out: FrameCursor,
    incoming: FrameCursor,
    /// Frames of this module's own, written before anything else.
    inject: Vec<u8>,
    /// The h2 crate's bytes held during the round trip, and how many are written.
    held: Vec<u8>,
    held_sent: usize,
    /// The task waiting for the stop sequence.
    waiter: Option<Waker>,
}

fn frame(kind: u8, payload: [u8; 8]) -> [u8; 17] {
    let mut f = [0u8; 17];
    f[..9].copy_from_slice(&[0, 0, 8, kind, 0, 0, 0, 0, 0]);
    f[9..].copy_from_slice(&payload);
    f
}

impl<S: AsyncWrite + Unpin> Gate<S> {
    /// Lets the held bytes go, behind a GOAWAY that forbids new streams.
    fn release(&mut self) {
        if matches!(self.phase, Phase::Holding) {
            // GOAWAY (type 7): last stream 2^31-1, NO_ERROR.
            let mut payload = [0u8; 8];
            payload[..4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
            self.inject.extend_from_slice(&frame(7, payload));
        }
        self.phase = Phase::Releasing;
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
    }

    /// Writes the module's own frames, then (once releasing) the held bytes.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.inject.is_empty() {
            let n = std::task::ready!(Pin::new(&mut self.stream).poll_write(cx, &self.inject))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.inject.drain(..n);
        }
        if self.phase == Phase::Releasing {
            while self.held_sent < self.held.len() {
                let n = std::task::ready!(
                    Pin::new(&mut self.stream).poll_write(cx, &self.held[self.held_sent..])
                )?;
                if n == 0 {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                self.held_sent += n;
            }
            self.held = Vec::new();
            self.held_sent = 0;
            self.phase = Phase::Open;
        }
        Poll::Ready(Ok(()))
    }

    /// Sends the PING if the outgoing bytes are at a frame boundary.
    fn ping_at_boundary(&mut self) {
        if self.phase == Phase::Asked && self.out.at_boundary() {
            self.inject.extend_from_slice(&frame(6, PING_DATA));
            self.phase = Phase::Holding;
        }
    }

    /// Drives the stop sequence: ready once the GOAWAY and the held bytes are out, or at once
    /// when there is nothing to protect.
    fn poll_quiesce(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.phase == Phase::Open {
            if !self.started {
                return Poll::Ready(Ok(()));
            }
            self.phase = Phase::Asked;
        }
        self.ping_at_boundary();
        std::task::ready!(self.poll_drain(cx))?;
        std::task::ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        if self.phase == Phase::Open {
            return Poll::Ready(Ok(()));
        }
        self.waiter = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The client transport with the stop gate in its write path; serve() keeps a [`Quiesce`]
/// handle on the same gate.
pub(super) struct Gated<S>(Rc<RefCell<Gate<S>>>);

/// The handle that runs the stop sequence.
pub(super) struct Quiesce<S>(Rc<RefCell<Gate<S>>>);

pub(super) fn gate<S>(stream: S) -> (Gated<S>, Quiesce<S>) {
    let gate = Rc::new(RefCell::new(Gate {
        stream,
        phase: Phase::Open,
        started: false,
        out: FrameCursor::default(),
        incoming: FrameCursor {
            preface_left: CLIENT_PREFACE_LEN,
            ..FrameCursor::default()
        },
        inject: Vec::new(),
        held: Vec::new(),
        held_sent: 0,
        waiter: None,
    }));
    (Gated(gate.clone()), Quiesce(gate))
}

impl<S: AsyncWrite + Unpin> Quiesce<S> {
    /// Runs the round trip and the first GOAWAY; the connection must be polled meanwhile (it
    /// reads the answer). A client that does not answer within [`ANSWER_WAIT`] gets the
    /// GOAWAY anyway.
    pub(super) async fn run(&self) {
        let round_trip = std::future::poll_fn(|cx| self.0.borrow_mut().poll_quiesce(cx));
        if tokio::time::timeout(ANSWER_WAIT, round_trip).await.is_err() {
            self.0.borrow_mut().release();
            let _ = std::future::poll_fn(|cx| self.0.borrow_mut().poll_quiesce(cx)).await;
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Gated<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut g = self.0.borrow_mut();
        let before = buf.filled().len();
        std::task::ready!(Pin::new(&mut g.stream).poll_read(cx, buf))?;
        let answered = {
            let g = &mut *g;
            g.incoming.advance(&buf.filled()[before..])
        };
        if answered && g.phase == Phase::Holding {
            g.release();
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gated<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut g = self.0.borrow_mut();
        let g = &mut *g;
        g.ping_at_boundary();
        std::task::ready!(g.poll_drain(cx))?;
        let take = match g.phase {
            Phase::Open => data.len(),
            // Up to the end of the frame under way; the PING goes right after it.
            Phase::Asked => g.out.to_boundary(data),
            Phase::Holding if g.held.len() + data.len() <= HOLD_LIMIT => {
                g.held.extend_from_slice(data);
                return Poll::Ready(Ok(data.len()));
            }
            Phase::Holding | Phase::Releasing => {
                g.release();
                std::task::ready!(g.poll_drain(cx))?;
                data.len()
            }
        };
        let n = std::task::ready!(Pin::new(&mut g.stream).poll_write(cx, &data[..take]))?;
        g.started |= n > 0;
        g.out.advance(&data[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut g = self.0.borrow_mut();
        std::task::ready!(g.poll_drain(cx))?;
        Pin::new(&mut g.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut g = self.0.borrow_mut();
        if g.phase == Phase::Holding {
            g.release();
        }
        std::task::ready!(g.poll_drain(cx))?;
        Pin::new(&mut g.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 1];
        f.extend_from_slice(payload);
        f
    }

    /// The same bytes fed whole, byte by byte and in uneven pieces end at the same frame
    /// boundary, and find the quiescing PING's answer (not another PING's) wherever it is.
    #[test]
    fn cursor_follows_frames_however_the_bytes_come() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame_of(4, 0, &[0; 12]));
        bytes.extend(frame_of(1, 4, &[0x82; 40]));
        bytes.extend(frame_of(6, 1, b"other-pg"));
        bytes.extend(frame_of(0, 1, &[]));
        bytes.extend(frame_of(6, 1, &PING_DATA));
        bytes.extend(frame_of(8, 0, &[0, 0, 1, 0]));
        for piece in [bytes.len(), 1, 5, 9, 13] {
            let mut cursor = FrameCursor {
                preface_left: CLIENT_PREFACE_LEN,
                ..FrameCursor::default()
            };
            let answered = bytes
                .chunks(piece)
                .fold(false, |found, chunk| cursor.advance(chunk) | found);
            assert!(answered, "pieces of {piece}");
            assert!(cursor.at_boundary(), "pieces of {piece}");
        }
        let mut cursor = FrameCursor::default();
        assert!(!cursor.advance(&frame_of(6, 1, b"other-pg")));
        // Half a frame leaves the cursor inside it, the rest brings it back to a boundary.
        let data = frame_of(0, 0, &[7; 30]);
        assert!(!cursor.advance(&data[..20]));
        assert!(!cursor.at_boundary());
        assert_eq!(cursor.to_boundary(&data[20..]), 19);
        cursor.advance(&data[20..]);
        assert!(cursor.at_boundary());
    }
}
