//! The log line of a request whose client left before its answer (hyper drops the request's
//! future): the guard that holds the transaction until it is answered.

use super::{head_len, log_txn, reply};
use crate::txn::Txn;

/// A request whose client went away before its response: hyper then drops the request's
/// future, and this logs it as HAProxy logs one under `option abortonclose` (hapee always
/// stops working for a client that has gone): status 400 with the page's size, `CH`; or, when
/// it went while the request waited for a server's slot or connection, no status, `CQ` or `CC`;
/// or, an HTTP/2 or HTTP/3 stream reset while the server had the request, no status, `CD`.
pub(super) struct Unanswered(pub(super) Option<Box<Txn>>);

impl Unanswered {
    pub(super) fn txn(&mut self) -> &mut Txn {
        self.0
            .as_mut()
            .expect("the transaction is taken only once answered")
    }

    pub(super) fn answered(mut self) -> Box<Txn> {
        self.0
            .take()
            .expect("the transaction is taken only once answered")
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let Some(mut txn) = self.0.take() else {
            return;
        };
        let t = &txn.timings;
        if txn.server.is_some() && (t.queue < 0 || t.connect < 0) {
            txn.term = if t.queue < 0 { *b"CQ" } else { *b"CC" };
            // Gone from the queue: the time it waited there is logged, and a request HAProxy
            // would have held in the backend's queue has no server yet.
            if let Some((since, unassigned, entry)) = txn.queue_wait.take() {
                txn.timings.queue = (crate::clock::now() - since).as_millis() as i64;
                let shared = txn.shared.clone();
                let be = txn
                    .backend
                    .as_deref()
                    .and_then(|b| shared.backend_by_name(b));
                let server = be
                    .zip(txn.server.as_deref())
                    .and_then(|(be, name)| be.server_named(name));
                if let (Some(be), Some(server)) = (be, server) {
                    txn.queue_pos = entry.position(server, be);
                }
                if unassigned {
                    txn.server = None;
                }
            }
            txn.status = None;
            log_txn(&txn);
            return;
        }
        // An HTTP/2 or HTTP/3 client that resets its stream (or drops its connection) while
        // the server has the request, its upload under way or done: HAProxy sends nothing on
        // the stream and logs a client abort in the data phase, no status and no bytes.
        let multiplexed = txn
            .request
            .as_ref()
            .is_some_and(|r| r.version >= hyper::Version::HTTP_2);
        if multiplexed && txn.server.is_some() && txn.response.is_none() {
            txn.status = None;
            txn.bytes_out = 0;
            txn.timings.response = -1;
            txn.term = *b"CD";
            log_txn(&txn);
            return;
        }
        let shared = txn.shared.clone();
        let mut files = Vec::new();
        if let Some(be) = txn
            .backend
            .as_deref()
            .and_then(|b| shared.backend_by_name(b))
        {
            files.push(&be.errorfiles);
        }
        if let Some(fe) = shared.frontend_by_name(&txn.frontend) {
            files.push(&fe.errorfiles);
        }
        let page = reply::error(400, &files);
        let body = hyper::body::Body::size_hint(page.body())
            .exact()
            .unwrap_or(0);
        txn.status = Some(400);
        txn.bytes_out = head_len(&page) + body;
        txn.term = *b"CH";
        log_txn(&txn);
    }
}
