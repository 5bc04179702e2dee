//! A request body streamed to the server while the response is read: the upload goes on
//! alongside the wait for the response head, and after it, from the response body, so that a
//! server answering before it has read the whole request is heard at once (HAProxy forwards
//! both directions at the same time too).

use super::{encode_chunk, encode_last_chunk, Link, Sending, WriteError};
use crate::http::prefetch::ClientBody;
use hyper::body::Body;
use hyper::HeaderMap;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Where the upload stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the client's next frame (after `out` is written).
    Reading,
    /// The last chunk is in `out`: done once it is written.
    Ending,
}

pub struct Upload {
    incoming: ClientBody,
    sending: Sending,
    /// Bytes to write, from `written` on.
    out: Vec<u8>,
    written: usize,
    phase: Phase,
    trailers: Option<HeaderMap>,
}

impl Upload {
    /// An upload that first writes `head` (the request head), then the client's body.
    pub(super) fn new(head: Vec<u8>, incoming: ClientBody, sending: Sending) -> Upload {
        Upload {
            incoming,
            sending,
            out: head,
            written: 0,
            phase: Phase::Reading,
            trailers: None,
        }
    }

    /// Moves the upload on as far as the client and the server allow: ready once all of it
    /// is written. While it waits for the client, the connection's `timeout server` does not
    /// run (the server is waiting for the proxy, not the other way round); once ready, it runs
    /// again (`waits_on_client` is only left set on a pending answer).
    pub(super) fn poll_send(
        &mut self,
        conn: &mut Link,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), WriteError>> {
        loop {
            conn.waits_on_client = false;
            while self.written < self.out.len() {
                match conn.poll_write_some(&self.out[self.written..], cx) {
                    Poll::Ready(Ok(n)) => self.written += n,
                    Poll::Ready(Err(_)) => return Poll::Ready(Err(WriteError::Server)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if self.phase == Phase::Ending {
                return Poll::Ready(Ok(()));
            }
            self.out.clear();
            self.written = 0;
            match Pin::new(&mut self.incoming).poll_frame(cx) {
                Poll::Pending => {
                    conn.waits_on_client = true;
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(e))) if h2_connection_shut(&*e) => {
                    return Poll::Ready(Err(WriteError::ClientShut))
                }
                Poll::Ready(Some(Err(_))) => return Poll::Ready(Err(WriteError::Client)),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if self.sending == Sending::Chunked => {
                        encode_chunk(&data, &mut self.out)
                    }
                    Ok(data) => self.out.extend_from_slice(&data),
                    Err(frame) => self.trailers = frame.into_trailers().ok(),
                },
                Poll::Ready(None) => {
                    if self.sending == Sending::Chunked {
                        encode_last_chunk(self.trailers.as_ref(), &mut self.out);
                    }
                    self.phase = Phase::Ending;
                }
            }
        }
    }
}

/// Whether a client body's error is the end of its HTTP/2 connection with a FIN while the
/// stream was open: h2 ends such streams with a broken pipe, where a reset stream or a
/// reset connection gives its reason or the socket's error.
fn h2_connection_shut(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(e);
    while let Some(e) = at {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2
                .get_io()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        }
        at = e.source();
    }
    false
}
