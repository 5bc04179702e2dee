//! A request body streaming through script filters while the server receives it: the
//! filters it takes from the transaction, how a failure among them ends the request, and how
//! they are put back for the response.

use super::filters::BodyFilter;
use super::script_filters::{
    attach, call, end_after_error, http_end, request_body, request_data, request_headers, with_lent,
};
use super::script_hold::Hold;
use crate::script::{self, FilterStep, FilterVerdict, ScriptFilter};
use crate::txn::Txn;
use bytes::Bytes;

/// What a streaming request body ([`Upload`]) shares with its transaction: the filters it
/// took, by their place, and whether one failed.
#[derive(Default)]
pub struct UploadState {
    filters: Vec<(usize, Box<dyn ScriptFilter>)>,
    failed: bool,
}

pub type Uploading = std::sync::Arc<std::sync::Mutex<UploadState>>;

/// Puts back in their places the filters a streaming request body took: the response's
/// callbacks (and the ends) need them. A body still streaming then goes on unfiltered.
pub(super) fn reclaim(txn: &mut Txn) {
    let Some(uploading) = txn.filters.uploading.take() else {
        return;
    };
    let taken = std::mem::take(&mut uploading.lock().unwrap_or_else(|e| e.into_inner()).filters);
    for (i, filter) in taken {
        if let Some(a) = txn.filters.scripts.get_mut(i) {
            a.filter = Some(filter);
        }
    }
}

/// A request body streaming through the filters that registered its data, chunk by chunk as
/// the client sends it (HAProxy's `http_payload` per buffer), then their `http_end`. The
/// callbacks reach the transaction through the slot that whoever holds it fills meanwhile.
struct Upload {
    filters: Uploading,
    /// What the filters have not let go yet.
    hold: Hold,
    slot: script::TxnSlot,
    failed: bool,
}

impl Upload {
    fn pass(&mut self, chunk: Bytes, eom: bool) -> Bytes {
        if self.failed {
            return Bytes::new();
        }
        let mut state = self.filters.lock().unwrap_or_else(|e| e.into_inner());
        let UploadState { filters, failed } = &mut *state;
        let slot = &self.slot;
        let passed = self.hold.pass(&chunk, eom, |k, held, eom| {
            // Taken back by the transaction: the rest goes on unfiltered.
            let Some((_, filter)) = filters.get_mut(k) else {
                return Some((held.len(), None));
            };
            let n = with_lent(slot, |txn| filter.payload(false, false, txn, held, eom))
                .unwrap_or(Some(held.len()))?;
            Some((n, filter.wake_time()))
        });
        let Ok(chunk) = passed else {
            (self.failed, *failed) = (true, true);
            return Bytes::new();
        };
        if eom {
            for (_, filter) in filters.iter_mut() {
                let verdict = with_lent(&self.slot, |txn| http_end(&mut **filter, false, txn));
                if verdict == Some(FilterVerdict::Error) {
                    (self.failed, *failed) = (true, true);
                    return Bytes::new();
                }
            }
        }
        chunk
    }
}

impl BodyFilter for Upload {
    fn data(&mut self, chunk: Bytes) -> Bytes {
        self.pass(chunk, false)
    }

    fn retry(&mut self) -> Bytes {
        self.pass(Bytes::new(), false)
    }

    fn hold(&self) -> Option<&Hold> {
        (!self.failed).then_some(&self.hold)
    }

    fn end(&mut self) -> Bytes {
        self.pass(Bytes::new(), true)
    }

    fn failed(&self) -> bool {
        self.failed
    }
}

/// Makes `client`'s body stream through the filters that registered the request's data.
fn stream_upload(txn: &mut Txn, client: &mut super::prefetch::ClientBody) {
    let mut taken = Vec::new();
    for (i, a) in txn.filters.scripts.iter_mut().enumerate() {
        if a.filter.as_ref().is_some_and(|f| f.filters_data(false)) {
            taken.extend(a.filter.take().map(|f| (i, f)));
        }
    }
    let hold = Hold::new(taken.len(), txn.shared.room.body_room());
    let filters: Uploading = std::sync::Arc::new(std::sync::Mutex::new(UploadState {
        filters: taken,
        failed: false,
    }));
    txn.filters.uploading = Some(filters.clone());
    let slot = txn
        .filters
        .lent
        .get_or_insert_with(Default::default)
        .clone();
    client.filter(Box::new(Upload {
        filters,
        hold,
        slot,
        failed: false,
    }));
}

/// The request's script filters once its rules have run (the backend's attach first):
/// `http_headers`, then the body through those that registered its data (at once when it
/// has all arrived, else as it streams). The request's body, or the answer when a filter
/// failed (a 400).
pub async fn on_request(
    txn: &mut Txn,
    backend: &str,
    mut body: super::ReqBody,
    files: &[&crate::state::ErrorFiles],
) -> Result<super::ReqBody, hyper::Response<super::ResBody>> {
    use http_body_util::{BodyExt, Either, Full};
    if *backend != *txn.frontend {
        if let Err(at) = attach(txn, backend, true, &mut body).await {
            return Err(failed_request(txn, files, at));
        }
    }
    if txn.filters.scripts.is_empty() {
        return Ok(body);
    }
    if let Err(at) = request_headers(txn, &mut body).await {
        return Err(failed_request(txn, files, at));
    }
    let body = if request_data(txn) {
        // A body that has all arrived goes through at once; one still coming streams
        // through as the client sends it.
        let bufsize = txn.shared.bufsize.max(8192);
        let whole = match body {
            Either::Right(full) => full.collect().await.ok().map(|c| c.to_bytes()),
            Either::Left(client) => match client.read_arrived(bufsize).await {
                Ok(super::prefetch::Arrived::Whole(data)) => Some(data),
                Ok(super::prefetch::Arrived::Partial(mut client)) => {
                    stream_upload(txn, &mut client);
                    return Ok(Either::Left(client));
                }
                Err(_) => None,
            },
        };
        let filtered = match whole {
            Some(data) => request_body(txn, data),
            None => Err(0),
        };
        let filtered = match filtered {
            Ok(filtered) => filtered,
            Err(at) => return Err(failed_request(txn, files, at)),
        };
        Either::Right(Full::new(filtered))
    } else {
        body
    };
    Ok(body)
}

/// Whether a filter failed on the request body as it streamed.
pub fn upload_failed(txn: &Txn) -> bool {
    txn.filters
        .uploading
        .as_ref()
        .is_some_and(|u| u.lock().unwrap_or_else(|e| e.into_inner()).failed)
}

/// HAProxy's answer once a filter failed on the request body as it streamed: a 400, the
/// stream ending `PH`, the connection closed; the filters end the response's analysis, then
/// the request's.
pub fn failed_upload(
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
) -> hyper::Response<super::ResBody> {
    for response in [true, false] {
        for i in 0..txn.filters.scripts.len() {
            call(txn, i, FilterStep::EndAnalyze, response);
        }
    }
    txn.filters.scripts.clear();
    bad_request(txn, files, *b"PH")
}

/// HAProxy's answer to a request filter number `at` failed on: the filters end their
/// analysis, and the client gets a 400, the stream ending `PR`, the connection closed.
pub fn failed_request(
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
    at: usize,
) -> hyper::Response<super::ResBody> {
    end_after_error(txn, at, 0);
    bad_request(txn, files, *b"PR")
}

/// The 400 of a request a filter failed on, the stream ending `term`, the connection closed.
fn bad_request(
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
    term: [u8; 2],
) -> hyper::Response<super::ResBody> {
    let mut page = super::reply::error_in(400, files, txn);
    txn.term = term;
    page.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    page
}
