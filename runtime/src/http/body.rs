//! The response body on its way to the client: counts bytes, hands the server connection back
//! to the idle pool once the response is complete, and writes the log line when it ends.

use super::pool::{Pool, Sender};
use super::ResBody;
use crate::txn::Txn;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct Tracked {
    inner: ResBody,
    /// The transaction to log, and the bytes of the head already counted.
    txn: Option<Box<Txn>>,
    /// The server connection to give back when the body ends cleanly.
    idle: Option<(Pool, (usize, usize), Sender)>,
    done: bool,
    /// The client connection's inactivity limit to apply once this response is over.
    after: Option<(super::idle::Limit, Option<std::time::Duration>)>,
}

impl Tracked {
    pub fn new(
        inner: ResBody,
        txn: Box<Txn>,
        idle: Option<(Pool, (usize, usize), Sender)>,
        after: (super::idle::Limit, Option<std::time::Duration>),
    ) -> Tracked {
        Tracked {
            inner,
            txn: Some(txn),
            idle,
            done: false,
            after: Some(after),
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(txn)) = (frame.data_ref(), self.txn.as_mut()) {
                    txn.bytes_out += data.len() as u64;
                }
            }
            Poll::Ready(None) => self.done = true,
            Poll::Ready(Some(Err(_))) => {
                if let Some(txn) = self.txn.as_mut() {
                    txn.term = *b"SD";
                }
                self.idle = None;
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some((limit, value)) = self.after.take() {
            limit.set(value);
        }
        let complete = self.done || self.inner.is_end_stream();
        if let Some((pool, key, sender)) = self.idle.take() {
            if complete {
                pool.put(key, sender);
            }
        }
        if let Some(mut txn) = self.txn.take() {
            if !complete && txn.term == *b"--" {
                txn.term = *b"CD";
            }
            super::log_txn(&txn);
        }
    }
}
