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
            IncomingBody::Other(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            IncomingBody::Hyper(b) => b.is_end_stream(),
            IncomingBody::Other(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            IncomingBody::Hyper(b) => b.size_hint(),
            IncomingBody::Other(b) => b.size_hint(),
        }
    }
}
