//! A request body as the client sends it, whatever the protocol: hyper's own body for
//! HTTP/1 and HTTP/2 (unboxed, the common case), or a boxed one for protocols whose
//! connection driver hyper does not provide (HTTP/3).

use crate::upstream::BoxError;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

pub enum IncomingBody {
    Hyper(Incoming),
    /// An HTTP/1 body, with what tells its connection that it is still being read (until it
    /// ends or is dropped): the connection's state is kept meanwhile.
    H1(Incoming, Option<super::idle::BodyOpen>),
    Other(UnsyncBoxBody<Bytes, BoxError>),
}

impl From<Incoming> for IncomingBody {
    fn from(body: Incoming) -> IncomingBody {
        IncomingBody::Hyper(body)
    }
}

impl Body for IncomingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            IncomingBody::Hyper(b) => Pin::new(b).poll_frame(cx).map_err(|e| e.into()),
            IncomingBody::H1(b, open) => {
                let polled = Pin::new(&mut *b).poll_frame(cx).map_err(|e| e.into());
                if matches!(polled, Poll::Ready(None | Some(Err(_)))) || b.is_end_stream() {
                    *open = None;
                }
                polled
            }
            IncomingBody::Other(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            IncomingBody::Hyper(b) | IncomingBody::H1(b, _) => b.is_end_stream(),
            IncomingBody::Other(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            IncomingBody::Hyper(b) | IncomingBody::H1(b, _) => b.size_hint(),
            IncomingBody::Other(b) => b.size_hint(),
        }
    }
}
