//! The response body on its way to the client: counts bytes and writes the log line when it
//! ends.

use super::ResBody;
use crate::txn::Txn;
use crate::upstream::BoxError;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct Tracked {
    inner: ResBody,
    /// The transaction to log (unless logged already, `option logasap`), and the bytes of
    /// the head already counted.
    txn: Option<Box<Txn>>,
    /// Where a script service's body finds the transaction while it runs the script on.
    lent: Option<crate::script::TxnSlot>,
    done: bool,
    /// The client connection's limits to apply once this response is over.
    after: Option<NextHead>,
    /// Whether the body's bytes count in the log's `%B`: a server's body counts what the
    /// server sent (before compression), the proxy's own what goes out.
    counted: bool,
    /// An empty HTTP/1 body under a `Content-Length: 0` of its own: shown to hyper as a body
    /// of known length 0 rather than as none, so that hyper writes that header where it is
    /// (for no body it drops it and adds one after the others; HAProxy keeps it in place).
    zero_length: bool,
    /// The client connection's place in the open counts, held until the line is written:
    /// HAProxy's session (and its `%ac`/`%fc` count) outlives its last stream, even when an
    /// HTTP/2 client's connection is gone before that stream ends.
    open: Option<std::rc::Rc<crate::listener::OpenConn>>,
}

/// The limits of the wait for the next request head, applied when a response is over.
pub struct NextHead {
    pub limit: super::idle::Limit,
    pub idle: Option<std::time::Duration>,
    pub head: Option<std::time::Duration>,
}

impl Tracked {
    /// Under `option logasap` (`txn.logged_early`) the line is written now, with the head's
    /// bytes, and not again at the end.
    pub fn new(inner: ResBody, mut txn: Box<Txn>, after: NextHead, counted: bool) -> Tracked {
        // `option contstats`: a server's response counts as it goes, from its head on.
        if counted && txn.server.is_some() && txn.live.is_none() {
            count_live(&mut txn);
        }
        if txn.logged_early {
            // The line counts the body bytes read with the head; the totals, counted at the
            // end, the whole body.
            let held = match &inner {
                http_body_util::Either::Right(server) => server.buffered(),
                http_body_util::Either::Left(_) => 0,
            };
            txn.bytes_out += held;
            super::write_line(&txn);
            txn.bytes_out -= held;
        }
        Tracked {
            inner,
            txn: Some(txn),
            lent: None,
            done: false,
            after: Some(after),
            counted,
            zero_length: false,
            open: None,
        }
    }

    /// Keeps the client connection counted open until the line is written.
    pub fn holding_open(&mut self, open: Option<std::rc::Rc<crate::listener::OpenConn>>) {
        self.open = open;
    }

    /// Lends the transaction to the script whose service makes the body
    /// ([`crate::script::StreamedBody`]) whenever the body is read.
    pub fn lend_to_script(&mut self, slot: Option<crate::script::LentTxn>) {
        self.lent = slot.map(|s| s.0);
    }

    /// Marks the body of `parts` as [`Tracked::zero_length`] when it is one (HTTP/1 only:
    /// over HTTP/2 an ended body lets the head carry the end of the stream). A 204 keeps no
    /// length at all, as hyper writes it.
    pub fn keep_zero_length(&mut self, head: &hyper::http::response::Parts, http1: bool) {
        self.zero_length = http1
            && self.inner.is_end_stream()
            && head.status != hyper::StatusCode::NO_CONTENT
            && says_zero_length(&head.headers);
    }
}

/// `option contstats`: the transaction's bytes counted as they flow from now on, when its
/// proxies ask for it; a call, so the request path holds none of it.
#[inline(never)]
fn count_live(txn: &mut Txn) {
    txn.live = crate::api::LiveBytes::of(txn).map(std::sync::Arc::new);
    if let Some(live) = &txn.live {
        live.catch_up(txn, 0);
    }
}

/// Whether the head says `Content-Length: 0`, by a call laid out apart.
#[inline(never)]
fn says_zero_length(headers: &hyper::HeaderMap) -> bool {
    headers
        .get(hyper::header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == b"0")
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(slot) = &this.lent {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = this.txn.take();
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(slot) = &this.lent {
            this.txn = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let counted = self.counted && matches!(self.inner, http_body_util::Either::Left(_));
                if let (Some(data), Some(txn), true) =
                    (frame.data_ref(), self.txn.as_mut(), counted)
                {
                    txn.bytes_out += data.len() as u64;
                }
                // `option contstats`: what went through so far, a server's body included.
                if let Some(txn) = self.txn.as_ref() {
                    if let Some(live) = &txn.live {
                        let body = match (&self.inner, self.counted) {
                            (http_body_util::Either::Right(server), true) => server.received(),
                            _ => 0,
                        };
                        live.catch_up(txn, body);
                    }
                }
            }
            Poll::Ready(None) => self.done = true,
            Poll::Ready(Some(Err(e))) => {
                let timeout = crate::upstream::is_server_timeout(e);
                // A term already chosen (a script service's `LR`, cut short) is the cause.
                if let Some(txn) = self.txn.as_mut().filter(|t| t.term == *b"--") {
                    txn.term = if timeout { *b"sD" } else { *b"SD" };
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        !self.zero_length && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(next) = self.after.take() {
            next.limit.await_head(next.idle, next.head);
        }
        let complete = self.done || self.inner.is_end_stream();
        if let Some(mut txn) = self.txn.take() {
            if let (http_body_util::Either::Right(server), true) = (&self.inner, self.counted) {
                txn.bytes_out += server.received();
            }
            if let (Some(slot), http_body_util::Either::Right(_)) = (&self.lent, &self.inner) {
                // The script filters of a server's body cut short end their analysis then,
                // with the transaction lent to them.
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(txn);
                drop(std::mem::replace(
                    &mut self.inner,
                    http_body_util::Either::Left(http_body_util::Full::new(Bytes::new())),
                ));
                match slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    Some(back) => txn = back,
                    None => return,
                }
            }
            if !complete && txn.term == *b"--" {
                txn.term = *b"CD";
            }
            if txn.logged_early {
                crate::api::count_txn(&txn);
            } else {
                // HAProxy writes the line once the stream has let its server go: the
                // connection back to its pool, the slot (and `%sc`'s count) to the next.
                drop(std::mem::replace(
                    &mut self.inner,
                    http_body_util::Either::Left(http_body_util::Full::new(Bytes::new())),
                ));
                // A tunnel's stream goes on in the tunnel, which logs it (unless it is gone).
                let txn = match txn.rare.as_mut().and_then(|r| r.tunnel.take()) {
                    Some(tunnel) => match tunnel.0.send(txn) {
                        Ok(()) => return,
                        Err(txn) => txn,
                    },
                    None => txn,
                };
                super::log_txn(&txn);
            }
        }
    }
}
