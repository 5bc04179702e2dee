//! Script filters (`filter lua.<name>`) on an HTTP stream, called where HAProxy's filter
//! analyzers call them: `start_analyze` on the request when the proxy's filters attach (the
//! frontend's before its rules, the backend's once it is chosen), `http_headers` on the
//! request after every request rule, its payload and `http_end` when a filter registered the
//! request's data, then `end_analyze`; on the response `start_analyze` and `http_headers`
//! after the response rules, the payload chunk by chunk as it streams to the client, then
//! `http_end` and `end_analyze` at its end.
//!
//! While the body streams, the transaction itself is with the connection: the callbacks of
//! the response body see a copy of what it held when the head went out.

use super::filters::BodyFilter;
use crate::script::{self, FilterStep, FilterVerdict, ScriptFilter};
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use hapee_compiler::plan::filters::FilterPlan;

/// A script filter attached to one transaction.
pub struct Attached {
    /// The `filter` line's number ([`hapee_compiler::plan::filters::ScriptFilter::id`]).
    id: usize,
    /// Taken by the response body once its head has gone through.
    filter: Option<Box<dyn ScriptFilter>>,
}

/// How long a filter that answered `filter.WAIT` without a wake time waits before it is
/// called again: HAProxy calls it at the stream's next event, which a complete message
/// never gets.
const WAIT_AGAIN: std::time::Duration = std::time::Duration::from_millis(100);

/// Attaches the script filters of `proxy` that are not attached yet, then runs their
/// `start_analyze` on the request. False when one failed (`filter.ERROR`): the request is
/// answered with a 400.
pub async fn attach(txn: &mut Txn, proxy: &str) -> bool {
    let Some(hooks) = script::hooks() else {
        return true;
    };
    let shared = txn.shared.clone();
    let Some(chain) = shared.filters.chain_for(proxy) else {
        return true;
    };
    let first = txn.filters.scripts.len();
    for f in chain {
        let FilterPlan::Script(plan) = f else {
            continue;
        };
        if txn.filters.scripts.iter().any(|a| a.id == plan.id) {
            continue;
        }
        if let Some(filter) = hooks.filter(plan, true, txn) {
            txn.filters.scripts.push(Attached {
                id: plan.id,
                filter: Some(filter),
            });
        }
    }
    run_all(txn, first, FilterStep::StartAnalyze, false).await
}

/// Runs `step` on the filters from the `first` attached on, each until it stops waiting;
/// false once one failed.
async fn run_all(txn: &mut Txn, first: usize, step: FilterStep, response: bool) -> bool {
    for i in first..txn.filters.scripts.len() {
        loop {
            match call(txn, i, step, response) {
                FilterVerdict::Continue => break,
                FilterVerdict::Error => return false,
                FilterVerdict::Wait(wake) => {
                    tokio::time::sleep(wake.unwrap_or(WAIT_AGAIN)).await;
                }
            }
        }
    }
    true
}

fn call(txn: &mut Txn, i: usize, step: FilterStep, response: bool) -> FilterVerdict {
    let Some(mut filter) = txn.filters.scripts.get_mut(i).and_then(|a| a.filter.take()) else {
        return FilterVerdict::Continue;
    };
    let verdict = script::lend_now(txn, |lent| filter.step(step, response, lent));
    txn.filters.scripts[i].filter = Some(filter);
    verdict
}

/// `http_headers` on the request, once every rule has run; false when a filter failed.
pub async fn request_headers(txn: &mut Txn) -> bool {
    run_all(txn, 0, FilterStep::HttpHeaders, false).await
}

/// Whether a filter registered the request's data: its body then goes through them whole.
pub fn request_data(txn: &Txn) -> bool {
    txn.filters
        .scripts
        .iter()
        .any(|a| a.filter.as_ref().is_some_and(|f| f.filters_data(false)))
}

/// The request's whole `body` through the filters that registered its data, then their
/// `http_end`; `None` when one failed.
pub fn request_body(txn: &mut Txn, body: Bytes) -> Option<Bytes> {
    let mut data = BytesMut::from(&body[..]);
    for i in 0..txn.filters.scripts.len() {
        let Some(mut filter) = txn.filters.scripts[i].filter.take() else {
            continue;
        };
        let ok = !filter.filters_data(false) || {
            let passed =
                script::lend_now(txn, |lent| filter.payload(false, false, lent, &mut data, true));
            passed.is_some()
                && script::lend_now(txn, |lent| filter.step(FilterStep::HttpEnd, false, lent))
                    != FilterVerdict::Error
        };
        txn.filters.scripts[i].filter = Some(filter);
        if !ok {
            return None;
        }
    }
    Some(data.freeze())
}

/// `end_analyze` on the request, once it has gone to the server.
pub fn request_end(txn: &mut Txn) {
    for i in 0..txn.filters.scripts.len() {
        call(txn, i, FilterStep::EndAnalyze, false);
    }
}

/// `start_analyze` then `http_headers` on the response, after its rules; false when a filter
/// failed (the client gets a 502).
pub async fn response_headers(txn: &mut Txn) -> bool {
    if txn.filters.scripts.is_empty() {
        return true;
    }
    run_all(txn, 0, FilterStep::StartAnalyze, true).await
        && run_all(txn, 0, FilterStep::HttpHeaders, true).await
}

/// The response body's part of filter `id`: its payload callbacks if it registered the
/// response's data, and its `http_end` and `end_analyze` when the body ends.
pub fn body_filter(
    txn: &mut Txn,
    id: usize,
    status: u16,
    headers: &hyper::HeaderMap,
) -> Option<Box<dyn BodyFilter>> {
    let filter = txn
        .filters
        .scripts
        .iter_mut()
        .find(|a| a.id == id)?
        .filter
        .take()?;
    let data = filter.filters_data(true);
    Some(Box::new(ScriptBody {
        filter,
        txn: Some(copy_for_body(txn, status, headers)),
        held: BytesMut::new(),
        data,
    }))
}

/// What a response body's callbacks see of the transaction.
fn copy_for_body(t: &Txn, status: u16, headers: &hyper::HeaderMap) -> Box<Txn> {
    let mut c = Txn::boxed(t.shared.clone(), t.client, t.local, t.frontend.clone());
    c.backend = t.backend.clone();
    c.server = t.server.clone();
    c.request = t.request.clone();
    c.request_body = t.request_body.clone();
    c.response = Some(crate::txn::ResponseView {
        status,
        version: t
            .response
            .as_ref()
            .map_or(hyper::Version::HTTP_11, |r| r.version),
        headers: headers.clone(),
        lines: Default::default(),
    });
    c.vars = t.vars.clone();
    c
}

/// A script filter on a response body.
struct ScriptBody {
    filter: Box<dyn ScriptFilter>,
    txn: Option<Box<Txn>>,
    /// What came and the filter has not let go yet.
    held: BytesMut,
    /// Whether the filter registered the response's data.
    data: bool,
}

impl ScriptBody {
    /// Runs the payload callback on what is held; the bytes that go on. A failed filter lets
    /// everything through: the response head is out, nothing else can be sent instead.
    fn pass(&mut self, eom: bool) -> Bytes {
        if let Some(txn) = self.txn.take() {
            let (txn, n) = self.filter.payload(true, false, txn, &mut self.held, eom);
            self.txn = Some(txn);
            if let Some(n) = n.filter(|_| !eom) {
                return self.held.split_to(n.min(self.held.len())).freeze();
            }
        }
        self.held.split().freeze()
    }

    fn step(&mut self, step: FilterStep) {
        if let Some(txn) = self.txn.take() {
            let (txn, _) = self.filter.step(step, true, txn);
            self.txn = Some(txn);
        }
    }
}

impl BodyFilter for ScriptBody {
    fn data(&mut self, chunk: Bytes) -> Bytes {
        if !self.data {
            return chunk;
        }
        self.held.extend_from_slice(&chunk);
        self.pass(false)
    }

    fn end(&mut self) -> Bytes {
        let mut out = Bytes::new();
        if self.data {
            out = self.pass(true);
            self.step(FilterStep::HttpEnd);
        }
        self.step(FilterStep::EndAnalyze);
        out
    }
}

/// The largest request body the filters that registered its data get whole; a larger one
/// goes on unfiltered.
const WHOLE_BODY_LIMIT: usize = 16 << 20;

/// The request's script filters once its rules have run (the backend's attach first):
/// `http_headers`, then the body through those that registered its data, then
/// `end_analyze`. The request's body, or the answer when a filter failed (a 400).
pub async fn on_request(
    txn: &mut Txn,
    backend: &str,
    body: super::ReqBody,
    files: &[&crate::state::ErrorFiles],
) -> Result<super::ReqBody, hyper::Response<super::ResBody>> {
    use http_body_util::{BodyExt, Either, Full};
    if *backend != *txn.frontend && !attach(txn, backend).await {
        return Err(failed_request(txn, files));
    }
    if txn.filters.scripts.is_empty() {
        return Ok(body);
    }
    if !request_headers(txn).await {
        return Err(failed_request(txn, files));
    }
    let body = if request_data(txn) {
        let whole = match body {
            Either::Right(full) => full.collect().await.ok().map(|c| c.to_bytes()),
            Either::Left(client) => {
                let until = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
                match client.wait_for(until, 0, WHOLE_BODY_LIMIT).await {
                    Ok((super::prefetch::Arrived::Whole(data), _)) => Some(data),
                    Ok((super::prefetch::Arrived::Partial(client), _)) => {
                        request_end(txn);
                        return Ok(Either::Left(client));
                    }
                    Err(_) => None,
                }
            }
        };
        let Some(filtered) = whole.and_then(|data| request_body(txn, data)) else {
            return Err(failed_request(txn, files));
        };
        Either::Right(Full::new(filtered))
    } else {
        body
    };
    request_end(txn);
    Ok(body)
}

/// HAProxy's answer to a request a filter failed on: a 400, the stream ending `PR`, the
/// connection closed.
pub fn failed_request(
    txn: &mut Txn,
    files: &[&crate::state::ErrorFiles],
) -> hyper::Response<super::ResBody> {
    let mut page = super::reply::error_in(400, files, txn);
    txn.term = *b"PR";
    page.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    page
}
