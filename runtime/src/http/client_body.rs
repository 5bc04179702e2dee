//! A request body as the client sends it, whatever the protocol: hyper's own body for
//! HTTP/1 and HTTP/2 (unboxed, the common case), or a boxed one for protocols whose
//! connection driver hyper does not provide (HTTP/3).

use crate::upstream::BoxError;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

pub struct IncomingBody {
    kind: Kind,
    /// Counts the body's data bytes as they arrive (`%U`, the `bin` counters), when set.
    received: Option<Arc<AtomicU64>>,
}

enum Kind {
    Hyper(Incoming),
    /// An HTTP/1 body, with what tells its connection that it is still being read (until it
    /// ends or is dropped): the connection's state is kept meanwhile.
    H1(Incoming, Option<super::idle::BodyOpen>),
    Other(UnsyncBoxBody<Bytes, BoxError>),
}

impl From<Incoming> for IncomingBody {
    fn from(body: Incoming) -> IncomingBody {
        IncomingBody::of(Kind::Hyper(body))
    }
}

impl IncomingBody {
    fn of(kind: Kind) -> IncomingBody {
        IncomingBody {
            kind,
            received: None,
        }
    }

    /// An HTTP/1 body; `open` keeps its connection's state while it is read.
    pub fn h1(body: Incoming, open: Option<super::idle::BodyOpen>) -> IncomingBody {
        IncomingBody::of(Kind::H1(body, open))
    }

    /// A body from a protocol whose connection driver is not hyper's.
    pub fn other(body: UnsyncBoxBody<Bytes, BoxError>) -> IncomingBody {
        IncomingBody::of(Kind::Other(body))
    }

    /// Adds every data byte read from now on to `counter`.
    pub fn count_into(&mut self, counter: Arc<AtomicU64>) {
        self.received = Some(counter);
    }
}

impl Body for IncomingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = match &mut this.kind {
            Kind::Hyper(b) => Pin::new(b).poll_frame(cx).map_err(|e| e.into()),
            Kind::H1(b, open) => {
                let polled = Pin::new(&mut *b).poll_frame(cx).map_err(|e| e.into());
                if matches!(polled, Poll::Ready(None | Some(Err(_)))) || b.is_end_stream() {
                    *open = None;
                }
                polled
            }
            Kind::Other(b) => Pin::new(b).poll_frame(cx),
        };
        if let (Some(counter), Poll::Ready(Some(Ok(frame)))) = (&this.received, &polled) {
            if let Some(data) = frame.data_ref() {
                counter.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Hyper(b) | Kind::H1(b, _) => b.is_end_stream(),
            Kind::Other(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Hyper(b) | Kind::H1(b, _) => b.size_hint(),
            Kind::Other(b) => b.size_hint(),
        }
    }
}
