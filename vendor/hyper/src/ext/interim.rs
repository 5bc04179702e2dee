//! hapee patch: interim (1xx) responses a server sends ahead of a request's final response.

use http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

/// Put in a request's extensions by a server built to send interim responses (HTTP/1
/// `Builder::interim_responses`, and always over HTTP/2): each [`Interim::send`] goes out
/// ahead of the final response, in order, the next time the connection writes. Ignored once
/// the final response has begun.
#[derive(Clone, Debug, Default)]
pub struct Interim(Arc<Mutex<Vec<(StatusCode, HeaderMap)>>>);

impl Interim {
    /// Queues an interim response (`status` should be a 1xx other than 101).
    pub fn send(&self, status: StatusCode, headers: HeaderMap) {
        if let Ok(mut queued) = self.0.lock() {
            queued.push((status, headers));
        }
    }

    /// What was queued since the last call.
    pub(crate) fn take(&self) -> Vec<(StatusCode, HeaderMap)> {
        self.0
            .lock()
            .map(|mut queued| std::mem::take(&mut *queued))
            .unwrap_or_default()
    }
}
