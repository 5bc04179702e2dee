//! hapee patch: interim (1xx) responses a server sends ahead of a request's final response.

use http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// Put in a request's extensions by a server built to send interim responses (HTTP/1
/// `Builder::interim_responses`, and always over HTTP/2): each [`Interim::send`] goes out
/// ahead of the final response, in order, the next time the connection writes. Ignored once
/// the final response has begun.
///
/// Over HTTP/2 the stream that writes them is woken by [`Interim::send`], so that one queued
/// from another task (the request body's first read, for `Expect: 100-continue`) goes out at
/// once.
#[derive(Clone, Debug, Default)]
pub struct Interim(Arc<Mutex<Queue>>);

#[derive(Debug, Default)]
struct Queue {
    queued: Vec<(StatusCode, HeaderMap)>,
    writer: Option<Waker>,
}

impl Interim {
    /// Queues an interim response (`status` should be a 1xx other than 101).
    pub fn send(&self, status: StatusCode, headers: HeaderMap) {
        let writer = self.0.lock().ok().and_then(|mut q| {
            q.queued.push((status, headers));
            q.writer.take()
        });
        if let Some(writer) = writer {
            writer.wake();
        }
    }

    /// What was queued since the last call; `writer` is woken by the next [`Interim::send`].
    pub(crate) fn take(&self, writer: Option<&Waker>) -> Vec<(StatusCode, HeaderMap)> {
        self.0
            .lock()
            .map(|mut q| {
                if let Some(w) = writer {
                    q.writer = Some(w.clone());
                }
                std::mem::take(&mut q.queued)
            })
            .unwrap_or_default()
    }
}
