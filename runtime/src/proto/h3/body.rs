//! A request body read from an HTTP/3 request stream: DATA frames, then trailers. Flow control
//! is QUIC's: the stream's window only opens as the proxy reads, so a client sends no more than
//! the window ahead of the server it is forwarded to.

use crate::upstream::BoxError;
use bytes::{Buf, Bytes};
use h3::server::RequestStream;
use hyper::body::{Body, Frame};
use std::pin::Pin;
use std::task::{Context, Poll};

pub type RecvHalf = RequestStream<h3_quinn::RecvStream, Bytes>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Data,
    Trailers,
    Done,
}

pub struct RecvBody {
    stream: RecvHalf,
    /// Data read ahead by [`RecvBody::peek`].
    ahead: Option<Bytes>,
    phase: Phase,
}

impl RecvBody {
    /// A body whose first DATA frame, or its end, is read if it is there already: a request
    /// whose stream ended with its head is then known to be empty, as forwarding wants to know.
    pub fn peek(stream: RecvHalf) -> RecvBody {
        let mut body = RecvBody {
            stream,
            ahead: None,
            phase: Phase::Data,
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match body.stream.poll_recv_data(&mut cx) {
            Poll::Ready(Ok(Some(mut data))) => {
                body.ahead = Some(data.copy_to_bytes(data.remaining()))
            }
            Poll::Ready(Ok(None)) => body.phase = Phase::Trailers,
            Poll::Ready(Err(_)) | Poll::Pending => {}
        }
        if body.phase == Phase::Trailers {
            if let Poll::Ready(Ok(None)) = body.stream.poll_recv_trailers(&mut cx) {
                body.phase = Phase::Done;
            }
        }
        body
    }
}

impl Body for RecvBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(data) = this.ahead.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        loop {
            match this.phase {
                Phase::Data => match this.stream.poll_recv_data(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => {
                        this.phase = Phase::Done;
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    Poll::Ready(Ok(Some(mut data))) => {
                        let bytes = data.copy_to_bytes(data.remaining());
                        return Poll::Ready(Some(Ok(Frame::data(bytes))));
                    }
                    Poll::Ready(Ok(None)) => this.phase = Phase::Trailers,
                },
                Phase::Trailers => {
                    let polled = this.stream.poll_recv_trailers(cx);
                    if polled.is_ready() {
                        this.phase = Phase::Done;
                    }
                    return match polled {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(Ok(None)) => Poll::Ready(None),
                        Poll::Ready(Ok(Some(t))) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
                        Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                    };
                }
                Phase::Done => return Poll::Ready(None),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.phase == Phase::Done && self.ahead.is_none()
    }
}
