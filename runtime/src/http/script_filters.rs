//! Script filters (`filter lua.<name>`) on an HTTP stream, called where HAProxy's filter
//! analyzers call them: `start_analyze` on the request when the proxy's filters attach (the
//! frontend's before its rules, the backend's once it is chosen), `http_headers` on the
//! request after every request rule, its payload (chunk by chunk as the client sends it)
//! and `http_end` when a filter registered the request's data; on the response
//! `start_analyze` and `http_headers` after the response rules, the payload chunk by chunk
//! as it streams to the client, then `http_end`, and at its end `end_analyze` on both.
//!
//! While a body streams, the transaction is elsewhere (with the server exchange, then with
//! the response on its way out), which lends it to the body's callbacks through a slot
//! ([`crate::script::LentTxn`], `txn.filters.lent`): what they change (variables, the
//! termination state) is the stream's own, up to its log line.

use super::filters::BodyFilter;
use super::script_hold::Hold;
use super::script_upload::reclaim;
pub use super::script_upload::{
    failed_request, failed_upload, on_request, upload_failed, UploadState, Uploading,
};
use crate::script::{self, FilterStep, FilterVerdict, ScriptFilter};
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use hapee_compiler::plan::filters::FilterPlan;

/// A script filter attached to one transaction.
pub struct Attached {
    /// The `filter` line's number ([`hapee_compiler::plan::filters::ScriptFilter::id`]).
    id: usize,
    /// Taken by the response body once its head has gone through.
    pub(super) filter: Option<Box<dyn ScriptFilter>>,
    /// Declared by the backend (attached once it was chosen).
    backend: bool,
}

/// What calls a filter that answered `filter.WAIT` without a wake time again: HAProxy calls
/// it when its stream wakes, as data arrives on the channel or its source ends, which a
/// complete message never does (the stream then waits until its client gives up). Each
/// call again needs news (an event, more data, the end), and what is read meanwhile is held
/// within a buffer: a filter that always waits is not spun on.
pub struct Wake<'a> {
    /// The event already happened (the response head arrived after the response's analysis
    /// started): the first wait ends at once.
    now: bool,
    on: On<'a>,
}

enum On<'a> {
    /// More of the request body, or its end, after what had arrived already (`settled` once
    /// that is read ahead: it is no news).
    Body {
        body: &'a mut super::ReqBody,
        settled: bool,
    },
    /// More of the response body, or its end, after what came with its head.
    Response {
        body: &'a mut crate::upstream::ServerBody,
        settled: bool,
        limit: usize,
    },
    /// More bytes of a TCP stream's source (kept in `ahead`, up to `limit`), or its end.
    Source(Source<'a>),
    /// Nothing more is coming.
    Never,
}

/// A TCP stream's source read while a filter waits, and what came from it.
pub struct Source<'a> {
    pub from: &'a mut (dyn tokio::io::AsyncRead + Unpin + Send),
    pub ahead: &'a mut BytesMut,
    pub limit: usize,
    pub ended: bool,
}

/// How much of a request body that had already arrived a waiting filter's stream reads
/// ahead, as HAProxy's buffer holds it.
const ARRIVED_LIMIT: usize = 16 << 10;

impl<'a> Wake<'a> {
    /// What wakes a filter waiting on `body`.
    pub fn body(body: &'a mut super::ReqBody) -> Wake<'a> {
        Wake::on(On::Body {
            body,
            settled: false,
        })
    }

    /// What wakes a filter waiting on a TCP stream's `source`.
    pub fn source(source: Source<'a>) -> Wake<'a> {
        Wake::on(On::Source(source))
    }

    /// Nothing: a filter that waits is not called again.
    pub fn never() -> Wake<'a> {
        Wake::on(On::Never)
    }

    /// Called again once at once (the event that wakes it already happened), then as `self`.
    pub fn after_now(mut self) -> Wake<'a> {
        self.now = true;
        self
    }

    fn on(on: On<'a>) -> Wake<'a> {
        Wake { now: false, on }
    }

    /// Lets the callbacks see in their channel what a TCP stream's source sent meanwhile.
    fn show(&self, txn: &mut Txn, response: bool) {
        if let On::Source(source) = &self.on {
            let data = Some(Bytes::copy_from_slice(source.ahead));
            match response {
                true => txn.res_payload = data,
                false => txn.payload = data,
            }
        }
    }

    async fn next(&mut self) {
        if std::mem::take(&mut self.now) {
            return tokio::task::yield_now().await;
        }
        match &mut self.on {
            On::Body {
                body: http_body_util::Either::Left(client),
                settled,
            } => {
                if !*settled {
                    *settled = true;
                    let _ = client.take_arrived(ARRIVED_LIMIT).await;
                }
                if !client.read_more().await {
                    std::future::pending::<()>().await;
                }
            }
            On::Response {
                body,
                settled,
                limit,
            } => {
                if !body.arrival(*limit, settled).await {
                    std::future::pending::<()>().await;
                }
            }
            On::Source(source) => {
                use tokio::io::AsyncReadExt;
                let room = source.limit.saturating_sub(source.ahead.len());
                if source.ended || room == 0 {
                    return std::future::pending().await;
                }
                let mut read = (&mut *source.from).take(room as u64);
                match read.read_buf(source.ahead).await {
                    Ok(0) | Err(_) => source.ended = true,
                    Ok(_) => {}
                }
            }
            On::Body { .. } | On::Never => std::future::pending().await,
        }
    }
}

/// Attaches the script filters of `proxy` that are not attached yet to an HTTP stream, then
/// runs their `start_analyze` on the request. `Err` (the failed filter's place) when one
/// failed (`filter.ERROR`): the request is answered with a 400. `body`: the request body,
/// whose progress wakes a filter that waits.
pub async fn attach(
    txn: &mut Txn,
    proxy: &str,
    backend: bool,
    body: &mut super::ReqBody,
) -> Result<(), usize> {
    attach_woken(txn, proxy, backend, true, Wake::body(body)).await
}

/// Attaches the script filters of `proxy` that are not attached yet (the HTTP stream's
/// with `http`), then runs their `start_analyze` on the request, calling again as `wake`
/// says one that waits.
async fn attach_woken(
    txn: &mut Txn,
    proxy: &str,
    backend: bool,
    http: bool,
    mut wake: Wake<'_>,
) -> Result<(), usize> {
    let first = txn.filters.scripts.len();
    attach_only(txn, proxy, backend, http);
    let step = FilterStep::StartAnalyze;
    run_all(txn, first, step, false, false, &mut wake).await
}

/// Attaches the script filters of `proxy` that are not attached yet.
fn attach_only(txn: &mut Txn, proxy: &str, backend: bool, http: bool) {
    let Some(hooks) = script::hooks() else {
        return;
    };
    let shared = txn.shared.clone();
    let Some(chain) = shared.filters.chain_for(proxy) else {
        return;
    };
    for f in chain {
        let FilterPlan::Script(plan) = f else {
            continue;
        };
        if txn.filters.scripts.iter().any(|a| a.id == plan.id) {
            continue;
        }
        if let Some(filter) = hooks.filter(plan, http, txn) {
            txn.filters.scripts.push(Attached {
                id: plan.id,
                filter: Some(filter),
                backend,
            });
        }
    }
}

/// [`attach`] on a TCP stream, whose filters waiting on its start are called again as its
/// client's bytes (read into `source.ahead`) arrive.
pub async fn attach_tcp(
    txn: &mut Txn,
    proxy: &str,
    backend: bool,
    source: Source<'_>,
) -> Result<(), usize> {
    attach_woken(txn, proxy, backend, false, Wake::source(source)).await
}

/// Runs `step` on the filters from the `first` attached on (the backend's only, with
/// `backend_only`), each until it stops waiting; the place of the one that failed. The
/// channel's payload is as before afterwards: what a TCP source sent meanwhile is the caller's.
async fn run_all(
    txn: &mut Txn,
    first: usize,
    step: FilterStep,
    response: bool,
    backend_only: bool,
    wake: &mut Wake<'_>,
) -> Result<(), usize> {
    let before = (txn.payload.clone(), txn.res_payload.clone());
    // The callbacks see in their channel what the source sent so far.
    let ran = async {
        for i in first..txn.filters.scripts.len() {
            if backend_only && !txn.filters.scripts[i].backend {
                continue;
            }
            loop {
                wake.show(txn, response);
                match call(txn, i, step, response) {
                    FilterVerdict::Continue => break,
                    FilterVerdict::Error => return Err(i),
                    // Its wake time, or news before it.
                    FilterVerdict::Wait(Some(at)) => {
                        tokio::select! {
                            _ = tokio::time::sleep(at) => {}
                            _ = wake.next() => {}
                        }
                    }
                    FilterVerdict::Wait(None) => wake.next().await,
                }
            }
        }
        Ok(())
    }
    .await;
    if let On::Source(_) = wake.on {
        (txn.payload, txn.res_payload) = before;
    }
    ran
}

/// How many more times an `http_end` that answered `filter.WAIT` is called, at once, before
/// the message goes on. HAProxy does not hold the message for it: its stream, looping on,
/// calls it again (2.6 and 2.7.0 alike: a filter waiting three times with a wake time is
/// called four times, the message going on within the same millisecond; one always
/// waiting without one, two or three times, on the request or the response).
const END_AGAIN: usize = 3;

/// `http_end` on `filter`, called again at once while it answers `filter.WAIT` (at most
/// [`END_AGAIN`] more times); a wait left is no error.
pub(super) fn http_end(
    filter: &mut dyn ScriptFilter,
    response: bool,
    txn: Box<Txn>,
) -> (Box<Txn>, FilterVerdict) {
    let (mut txn, mut verdict) = filter.step(FilterStep::HttpEnd, response, txn);
    for _ in 0..END_AGAIN {
        if !matches!(verdict, FilterVerdict::Wait(_)) {
            break;
        }
        (txn, verdict) = filter.step(FilterStep::HttpEnd, response, txn);
    }
    (txn, verdict)
}

/// After a failure: `end_analyze` on the request for the filters from `request_from` on,
/// then on the response from `response_from` on. HAProxy resumes each channel's loop of
/// filters where it broke, so that the filters before the failed one do not end a channel
/// whose analysis failed.
pub fn end_after_error(txn: &mut Txn, request_from: usize, response_from: usize) {
    for (from, response) in [(request_from, false), (response_from, true)] {
        for i in from..txn.filters.scripts.len() {
            call(txn, i, FilterStep::EndAnalyze, response);
        }
    }
    txn.filters.scripts.clear();
}

/// A request answered without a server's response (`http-request return`, a redirect, the
/// stats page…): the filters still attached end the request's analysis, the only one that
/// started. (A Lua service's exchange goes through them as a server's does:
/// `super::script_service`.)
pub fn end_unanswered(txn: &mut Txn) {
    for i in 0..txn.filters.scripts.len() {
        call(txn, i, FilterStep::EndAnalyze, false);
    }
    txn.filters.scripts.clear();
}

/// A TCP stream that ends before its tunnel (rejected, or without a server): the filters
/// still attached end the request's analysis, then, once a backend was chosen (HAProxy
/// ends both channels when the server could not be reached, even though the response never
/// started), the response's.
pub fn end_early(txn: &mut Txn) {
    if txn.filters.scripts.is_empty() {
        return;
    }
    let response_from = match txn.backend {
        Some(_) => 0,
        None => txn.filters.scripts.len(),
    };
    end_after_error(txn, 0, response_from);
}

pub(super) fn call(txn: &mut Txn, i: usize, step: FilterStep, response: bool) -> FilterVerdict {
    reclaim(txn);
    let Some(mut filter) = txn.filters.scripts.get_mut(i).and_then(|a| a.filter.take()) else {
        return FilterVerdict::Continue;
    };
    let verdict = script::lend_now(txn, |lent| filter.step(step, response, lent));
    txn.filters.scripts[i].filter = Some(filter);
    verdict
}

/// `http_headers` on the request, once every rule has run; the failed filter's place.
pub async fn request_headers(txn: &mut Txn, body: &mut super::ReqBody) -> Result<(), usize> {
    let mut wake = Wake::body(body);
    run_all(txn, 0, FilterStep::HttpHeaders, false, false, &mut wake).await
}

/// Whether a filter registered the request's data: its body then goes through them whole.
pub fn request_data(txn: &Txn) -> bool {
    txn.filters
        .scripts
        .iter()
        .any(|a| a.filter.as_ref().is_some_and(|f| f.filters_data(false)))
}

/// The request's whole `body` through the filters that registered its data, then their
/// `http_end`; the failed filter's place when one failed.
pub fn request_body(txn: &mut Txn, body: Bytes) -> Result<Bytes, usize> {
    let mut data = BytesMut::from(&body[..]);
    for i in 0..txn.filters.scripts.len() {
        let Some(mut filter) = txn.filters.scripts[i].filter.take() else {
            continue;
        };
        let ok = !filter.filters_data(false) || {
            let passed = script::lend_now(txn, |lent| {
                filter.payload(false, false, lent, &mut data, true)
            });
            passed.is_some()
                && script::lend_now(txn, |lent| http_end(&mut *filter, false, lent))
                    != FilterVerdict::Error
        };
        txn.filters.scripts[i].filter = Some(filter);
        if !ok {
            return Err(i);
        }
    }
    Ok(data.freeze())
}

/// `start_analyze` then `http_headers` on the response, after its rules; the failed filter's
/// place when one failed (the client gets a 502). As in HAProxy, the response's start is a
/// pass over every filter when the frontend declares filters, then one over the backend's
/// when the backend does: a backend's filter then starts twice. A filter waiting on either is
/// called again as more of `body` arrives (once at once for the start: its head came).
pub async fn response_headers(
    txn: &mut Txn,
    body: Option<&mut crate::upstream::ServerBody>,
) -> Result<(), usize> {
    if txn.filters.scripts.is_empty() {
        return Ok(());
    }
    let shared = txn.shared.clone();
    let declares = |name: &str| {
        shared
            .filters
            .chain_for(name)
            .is_some_and(|c| !c.is_empty())
    };
    let frontend = declares(&txn.frontend);
    let backend = txn
        .backend
        .as_deref()
        .is_some_and(|b| *b != *txn.frontend && declares(b));
    let mut wake = match body {
        Some(body) if !hyper::body::Body::is_end_stream(&*body) => Wake::on(On::Response {
            body,
            settled: false,
            limit: shared.room.body_room(),
        }),
        // A body the proxy holds whole (a service's): no news will come.
        _ => Wake::never(),
    };
    if frontend {
        wake.now = true;
        run_all(txn, 0, FilterStep::StartAnalyze, true, false, &mut wake).await?;
    }
    if backend {
        wake.now = true;
        run_all(txn, 0, FilterStep::StartAnalyze, true, true, &mut wake).await?;
    }
    wake.now = false;
    run_all(txn, 0, FilterStep::HttpHeaders, true, false, &mut wake).await
}

/// The response body's part of the script filters: the payload callbacks of those that
/// registered the response's data, and when the body ends their `http_end`, then every
/// filter's `end_analyze` on the request and then on the response (HAProxy ends both
/// channels' analysis together, at the end of the stream). `None` when none is attached.
/// The callbacks reach the transaction through the slot left in `txn.filters.lent`, which
/// whoever holds the transaction while the body goes out fills.
pub fn body_filter(txn: &mut Txn) -> Option<Box<dyn BodyFilter>> {
    script_body(txn, false).map(|b| Box::new(b) as Box<dyn BodyFilter>)
}

/// [`body_filter`], ending the response's analysis before the request's with
/// `response_first`.
pub(super) fn script_body(txn: &mut Txn, response_first: bool) -> Option<ScriptBody> {
    let filters = take_all(txn);
    if filters.is_empty() {
        return None;
    }
    let slot = txn
        .filters
        .lent
        .get_or_insert_with(Default::default)
        .clone();
    Some(ScriptBody {
        hold: Hold::new(filters.len(), txn.shared.room.body_room()),
        filters: filters
            .into_iter()
            .map(|filter| {
                let data = filter.filters_data(true);
                OnBody { filter, data }
            })
            .collect(),
        slot,
        failed: false,
        ended: false,
        response_first,
    })
}

/// A body the proxy holds whole (a service's response) through the script filters at once,
/// offered in one piece that is the message's end (as HAProxy offers a response that fits in
/// its buffer), then their `http_end` and every filter's `end_analyze`. `None` when a
/// callback failed: the stream is then aborted.
pub(super) fn whole_response(txn: &mut Txn, body: Bytes, response_first: bool) -> Option<Bytes> {
    let Some(mut filters) = script_body(txn, response_first) else {
        return Some(body);
    };
    let slot = filters.slot.clone();
    txn.filters.lent = None;
    script::lend_now(txn, |lent| {
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(lent);
        let out = filters.finish(body);
        let failed = filters.failed;
        drop(filters);
        let back = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        (
            back.expect("the filters give the transaction back"),
            (!failed).then_some(out),
        )
    })
}

/// The filters attached to `txn`, taken for what they do once the transaction is elsewhere.
pub(super) fn take_all(txn: &mut Txn) -> Vec<Box<dyn ScriptFilter>> {
    reclaim(txn);
    txn.filters
        .scripts
        .iter_mut()
        .filter_map(|a| a.filter.take())
        .collect()
}

/// `start_analyze` on the response of a TCP stream a service took; a filter that waits is
/// called again as `wake` says. (A server's starts in the tunnel:
/// [`super::script_tcp::TcpFilters::start_response`].)
pub async fn tcp_response_start(txn: &mut Txn, mut wake: Wake<'_>) -> Result<(), usize> {
    run_all(txn, 0, FilterStep::StartAnalyze, true, false, &mut wake).await
}

/// `data`, the first bytes of a TCP stream's request (those its content rules held), through
/// the filters that registered the request's data; the failed filter's place when one failed.
pub fn tcp_held(txn: &mut Txn, data: Bytes) -> Result<Bytes, usize> {
    let mut data = BytesMut::from(&data[..]);
    for i in 0..txn.filters.scripts.len() {
        let Some(mut filter) = txn.filters.scripts[i].filter.take() else {
            continue;
        };
        let passed = filter.filters_data(false).then(|| {
            script::lend_now(txn, |lent| {
                filter.payload(false, true, lent, &mut data, false)
            })
        });
        txn.filters.scripts[i].filter = Some(filter);
        if passed == Some(None) {
            return Err(i);
        }
    }
    Ok(data.freeze())
}

/// The script filters on a response body.
pub(super) struct ScriptBody {
    filters: Vec<OnBody>,
    /// What they have not let go yet.
    hold: Hold,
    /// Where the transaction is while the body goes out (empty when no one lent it).
    slot: script::TxnSlot,
    /// A callback failed: the stream is aborted, nothing more goes through.
    failed: bool,
    /// The filters ended their analysis (at the body's end, or after a failure).
    ended: bool,
    /// The response's analysis ends before the request's (HAProxy's order for a POST a
    /// service answered, whose request channel reads on until the stream ends).
    response_first: bool,
}

struct OnBody {
    filter: Box<dyn ScriptFilter>,
    /// Whether the filter registered the response's data.
    data: bool,
}

/// Runs `f` on the transaction in `slot`, if it is there.
pub(super) fn with_lent<R>(
    slot: &script::TxnSlot,
    f: impl FnOnce(Box<Txn>) -> (Box<Txn>, R),
) -> Option<R> {
    let mut lent = slot.lock().unwrap_or_else(|e| e.into_inner());
    let txn = lent.take()?;
    let (txn, r) = f(txn);
    *lent = Some(txn);
    Some(r)
}

impl ScriptBody {
    /// `chunk` (empty: nothing new, what they hold offered again) through the filters that
    /// registered the response's data, each seeing what the one before let go. When one
    /// fails the stream is aborted, as the head is out: nothing more goes through.
    fn pass(&mut self, chunk: Bytes, eom: bool) -> Bytes {
        if self.failed {
            return Bytes::new();
        }
        let ScriptBody {
            filters,
            hold,
            slot,
            ..
        } = self;
        let passed = hold.pass(&chunk, eom, |k, held, eom| {
            let f = &mut filters[k];
            if !f.data {
                return Some((held.len(), None));
            }
            let filter = &mut f.filter;
            let n = with_lent(slot, |txn| filter.payload(true, false, txn, held, eom))
                .unwrap_or(Some(held.len()))?;
            Some((n, filter.wake_time()))
        });
        passed.unwrap_or_else(|_| {
            self.fail();
            Bytes::new()
        })
    }

    /// Runs `step` on each filter (only those that registered the response's data with
    /// `data_only`); false when one failed.
    fn step(&mut self, step: FilterStep, response: bool, data_only: bool) -> bool {
        for f in self.filters.iter_mut().filter(|f| f.data || !data_only) {
            let filter = &mut f.filter;
            let verdict = with_lent(&self.slot, |txn| match step {
                FilterStep::HttpEnd => http_end(&mut **filter, response, txn),
                _ => filter.step(step, response, txn),
            });
            if verdict == Some(FilterVerdict::Error) {
                return false;
            }
        }
        true
    }

    /// A callback failed on the response body: HAProxy aborts the stream (the client's
    /// connection closes, the response cut short, the stream ending `SD`) and ends every
    /// filter's analysis of both channels.
    fn fail(&mut self) {
        self.failed = true;
        with_lent(&self.slot, |mut txn| {
            if txn.term == *b"--" {
                txn.term = *b"SD";
            }
            (txn, ())
        });
        self.end_analyze();
    }

    /// Every filter ends its analysis of the request, then of the response. The response's
    /// headers, kept for the callbacks, then go: the log line sees none, as without filters.
    fn end_analyze(&mut self) {
        self.ended = true;
        for response in [self.response_first, !self.response_first] {
            self.step(FilterStep::EndAnalyze, response, false);
        }
        with_lent(&self.slot, |mut txn| {
            if let Some(r) = txn.response.as_mut() {
                r.headers.clear();
            }
            (txn, ())
        });
    }
}

impl Drop for ScriptBody {
    /// A body cut short (the client or the server gone) still ends the filters' analysis,
    /// as HAProxy ends it with the stream.
    fn drop(&mut self) {
        if !self.ended {
            self.end_analyze();
        }
    }
}

impl BodyFilter for ScriptBody {
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
        self.finish(Bytes::new())
    }

    fn last(&mut self, chunk: Bytes) -> Bytes {
        self.finish(chunk)
    }

    fn failed(&self) -> bool {
        self.failed
    }
}

impl ScriptBody {
    /// `last`, the body's end, through the filters, then their `http_end` and the ends of
    /// their analysis.
    fn finish(&mut self, last: Bytes) -> Bytes {
        let out = self.pass(last, true);
        if self.failed {
            return out;
        }
        if !self.step(FilterStep::HttpEnd, true, true) {
            self.fail();
            return Bytes::new();
        }
        self.end_analyze();
        out
    }
}
