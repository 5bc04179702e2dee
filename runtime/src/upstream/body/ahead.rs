//! Reading a response body ahead of the client (`http-response wait-for-body`), so that the
//! rules after it see the body (`res.body`…) before it is handed on.

use super::{Chunk, FrameSource, ServerBody, State};
use bytes::{Bytes, BytesMut};
use hyper::body::{Frame, SizeHint};
use std::collections::VecDeque;
use std::task::{Context, Poll};

impl ServerBody {
    /// Reads ahead until `wanted` body bytes are held (the whole body when it is shorter, or
    /// its end under chunked framing), the server closes, or `until` passes. When enough
    /// arrived in time, the body bytes held so far (decoded from their framing); nothing
    /// otherwise. What was read stays held, handed on as the body is polled.
    pub async fn read_ahead(
        &mut self,
        wanted: usize,
        until: tokio::time::Instant,
    ) -> Option<Bytes> {
        if let Some(stream) = self.stream.take() {
            let mut held = Held::new(stream);
            let arrived = tokio::time::timeout_at(
                until,
                std::future::poll_fn(|cx| held.poll_fill(cx, wanted)),
            )
            .await
            .unwrap_or(false);
            let data = held.data();
            self.stream = Some(Box::new(held));
            return arrived.then_some(data);
        }
        let enough = |b: &ServerBody| match b.state {
            State::Length(left) => b.buf.len() as u64 >= left.min(wanted as u64),
            State::Chunk(_) => b.buf.len() >= wanted || b.buf.ends_with(b"0\r\n\r\n"),
            State::UntilClose => b.buf.len() >= wanted,
            _ => true,
        };
        let fill = std::future::poll_fn(|cx| loop {
            if enough(self) {
                return Poll::Ready(true);
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(0)) => {
                    // The server closed: the whole body (to the close) is here.
                    return Poll::Ready(self.state == State::UntilClose);
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(false),
                Poll::Pending => return Poll::Pending,
            }
        });
        let arrived = tokio::time::timeout_at(until, fill).await.unwrap_or(false);
        arrived.then(|| self.held_body())
    }

    /// Waits until more of the body arrives than had when it was first called (what came
    /// with the head is no news), or its end; what came stays held, handed on as the body is
    /// polled. A filter waiting on the response's head is called again then, as HAProxy's
    /// stream wakes when data comes. False once nothing more can come, or once `limit` bytes
    /// are held: HAProxy's full buffer reads no more.
    pub async fn arrival(&mut self, limit: usize, settled: &mut bool) -> bool {
        if let Some(stream) = self.stream.take() {
            let mut stream = stream;
            if stream
                .frames_ahead()
                .and_then(|a| a.downcast_mut::<Held>())
                .is_none()
            {
                stream = Box::new(Held::new(stream));
            }
            let held = stream
                .frames_ahead()
                .and_then(|a| a.downcast_mut::<Held>())
                .expect("wrapped above");
            let news = held.arrival(limit, settled).await;
            self.stream = Some(stream);
            return news;
        }
        if !*settled {
            *settled = true;
            // What is there already, read without waiting.
            std::future::poll_fn(|cx| loop {
                if self.ended_ahead || self.complete_ahead() || self.buf.len() >= limit {
                    return Poll::Ready(());
                }
                match self.poll_fill(cx) {
                    Poll::Ready(Ok(n)) => self.ended_ahead = n == 0,
                    Poll::Ready(Err(_)) => self.ended_ahead = true,
                    Poll::Pending => return Poll::Ready(()),
                }
            })
            .await;
        }
        if self.ended_ahead || self.complete_ahead() || self.buf.len() >= limit {
            return false;
        }
        match std::future::poll_fn(|cx| self.poll_fill(cx)).await {
            Ok(0) | Err(_) => self.ended_ahead = true,
            Ok(_) => {}
        }
        true
    }

    /// Whether the whole body is in the buffer.
    fn complete_ahead(&self) -> bool {
        match self.state {
            State::Length(left) => self.buf.len() as u64 >= left,
            State::Chunk(_) => self.buf.ends_with(b"0\r\n\r\n"),
            State::UntilClose => false,
            _ => true,
        }
    }

    /// The body bytes in the buffer, without their chunked framing.
    fn held_body(&self) -> Bytes {
        match self.state {
            State::Length(left) => {
                let n = (self.buf.len() as u64).min(left) as usize;
                Bytes::copy_from_slice(&self.buf[..n])
            }
            State::UntilClose => Bytes::copy_from_slice(&self.buf),
            State::Chunk(chunk) => dechunk(&self.buf, chunk),
            _ => Bytes::new(),
        }
    }
}

/// The data of the chunks in `buf` (read from `chunk` on), as far as they are whole or begun.
fn dechunk(mut buf: &[u8], mut chunk: Chunk) -> Bytes {
    let mut out = BytesMut::new();
    loop {
        match chunk {
            Chunk::Size => match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((n, size))) if size > 0 => {
                    buf = &buf[n..];
                    chunk = Chunk::Data(size);
                }
                _ => break,
            },
            Chunk::Data(left) => {
                let n = (buf.len() as u64).min(left) as usize;
                out.extend_from_slice(&buf[..n]);
                buf = &buf[n..];
                if (n as u64) < left {
                    break;
                }
                chunk = Chunk::DataEnd;
            }
            Chunk::DataEnd => match buf.strip_prefix(b"\r\n") {
                Some(rest) => {
                    buf = rest;
                    chunk = Chunk::Size;
                }
                None => break,
            },
            Chunk::Trailers => break,
        }
    }
    out.freeze()
}

/// A body another decoder reads (an HTTP/2 stream, FastCGI records), with the frames read
/// ahead of the client held until it polls them.
struct Held {
    inner: Box<dyn FrameSource>,
    frames: VecDeque<Result<Frame<Bytes>, bool>>,
    /// Whether the inner body said it was over (held frames may remain).
    ended: bool,
}

impl Held {
    fn new(inner: Box<dyn FrameSource>) -> Held {
        Held {
            inner,
            frames: VecDeque::new(),
            ended: false,
        }
    }

    fn held_len(&self) -> usize {
        self.frames
            .iter()
            .filter_map(|f| f.as_ref().ok().and_then(Frame::data_ref))
            .map(Bytes::len)
            .sum()
    }

    /// Reads frames until `wanted` data bytes are held or the body ends: whether it did
    /// without failing.
    fn poll_fill(&mut self, cx: &mut Context<'_>, wanted: usize) -> Poll<bool> {
        loop {
            if self.ended || self.held_len() >= wanted {
                return Poll::Ready(true);
            }
            if self.frames.back().is_some_and(Result::is_err) {
                return Poll::Ready(false);
            }
            match self.inner.poll_frame(cx) {
                Poll::Ready(Some(frame)) => self.frames.push_back(frame),
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// [`ServerBody::arrival`] for frames: one more (or the end) beyond those already there.
    async fn arrival(&mut self, limit: usize, settled: &mut bool) -> bool {
        if !*settled {
            *settled = true;
            std::future::poll_fn(|cx| loop {
                if self.ended || self.held_len() >= limit || self.failed() {
                    return Poll::Ready(());
                }
                match self.inner.poll_frame(cx) {
                    Poll::Ready(Some(frame)) => self.frames.push_back(frame),
                    Poll::Ready(None) => self.ended = true,
                    Poll::Pending => return Poll::Ready(()),
                }
            })
            .await;
        }
        if self.ended || self.held_len() >= limit || self.failed() {
            return false;
        }
        match std::future::poll_fn(|cx| self.inner.poll_frame(cx)).await {
            Some(frame) => self.frames.push_back(frame),
            None => self.ended = true,
        }
        true
    }

    fn failed(&self) -> bool {
        self.frames.back().is_some_and(Result::is_err)
    }

    fn data(&self) -> Bytes {
        let mut out = BytesMut::new();
        for data in self
            .frames
            .iter()
            .filter_map(|f| f.as_ref().ok().and_then(Frame::data_ref))
        {
            out.extend_from_slice(data);
        }
        out.freeze()
    }
}

impl FrameSource for Held {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, bool>>> {
        if let Some(frame) = self.frames.pop_front() {
            return Poll::Ready(Some(frame));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty() && (self.ended || self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.frames.is_empty() {
            self.inner.size_hint()
        } else {
            SizeHint::default()
        }
    }

    fn take_idle(&mut self) -> Option<super::ServerConn> {
        self.inner.take_idle()
    }

    fn frames_ahead(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_lose_their_framing() {
        let buf = b"3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n";
        assert_eq!(&dechunk(buf, Chunk::Size)[..], b"abcdefg");
        assert_eq!(&dechunk(b"5\r\nab", Chunk::Size)[..], b"ab");
        assert_eq!(&dechunk(b"", Chunk::Size)[..], b"");
    }
}
