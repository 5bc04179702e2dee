//! Script filters on a stream that has become a tunnel of bytes (a TCP stream once its server
//! is connected): each direction's bytes through their `tcp_payload`, held within a buffer.

use super::script_filters::take_all;
use super::script_hold::Hold;
use crate::script::{FilterStep, ScriptFilter};
use crate::txn::Txn;
use bytes::Bytes;

/// The script filters of a TCP stream once its tunnel is open: each direction's bytes go
/// through the `tcp_payload` of those that registered its data; at the end both channels
/// end, that of the side that closed first first, as HAProxy ends them. The callbacks act on
/// the stream's own transaction, lent through [`TcpFilters::slot`] while the tunnel runs (the
/// `tcp-response` rules take it from there while they run); only a TCP service, which holds
/// it while it runs, leaves them a copy ([`TcpFilters::copy_of`]).
pub struct TcpFilters(std::sync::Mutex<TcpInner>);

struct TcpInner {
    filters: Vec<Box<dyn ScriptFilter>>,
    /// What the filters have not let go yet, request and response.
    holds: [Hold; 2],
    /// Where the stream's transaction is lent while the tunnel runs.
    slot: crate::script::TxnSlot,
    /// The copy used while the slot is empty (a TCP service holds the transaction).
    copy: Option<Box<Txn>>,
    /// How much of a direction's bytes a buffer holds.
    room: usize,
    /// How many filters started their analysis of the response, in order (all of them
    /// unless it starts with the tunnel: [`TcpFilters::start_response`]).
    started: usize,
}

/// Where the start of the response's analysis is.
#[derive(Debug, PartialEq)]
pub enum Started {
    Done,
    /// A filter waits: called again at its wake time, or on news from the server.
    Wait(Option<std::time::Duration>),
    /// The filter at this place failed.
    Failed(usize),
}

impl TcpFilters {
    /// Takes the filters attached to `txn`; `None` when none is. Unless `response_started`,
    /// their analysis of the response is still to start ([`TcpFilters::start_response`]).
    pub fn take(txn: &mut Txn, response_started: bool) -> Option<TcpFilters> {
        let filters = take_all(txn);
        if filters.is_empty() {
            return None;
        }
        let room = txn.shared.room.raw_room();
        Some(TcpFilters(std::sync::Mutex::new(TcpInner {
            holds: [0, 1].map(|_| Hold::new(filters.len(), room)),
            started: if response_started { filters.len() } else { 0 },
            room,
            filters,
            slot: Default::default(),
            copy: None,
        })))
    }

    /// The callbacks act on a copy of `txn` as it is now, for a TCP service that holds the
    /// transaction while it runs (HAProxy's applet and filters share the stream; hapee's
    /// service takes it whole).
    pub fn copy_of(&self, txn: &Txn) {
        let mut copy = Txn::boxed(
            txn.shared.clone(),
            txn.client,
            txn.local,
            txn.frontend.clone(),
        );
        copy.backend = txn.backend.clone();
        copy.server = txn.server.clone();
        copy.vars = txn.vars.clone();
        self.0.lock().unwrap_or_else(|e| e.into_inner()).copy = Some(copy);
    }

    /// Whether the transaction is in the slot now: the `tcp-response` rules do not hold it.
    pub fn lent(&self) -> bool {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let lent = inner
            .slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        lent || inner.copy.is_some()
    }

    /// Where the stream's transaction is to be lent while the tunnel runs.
    pub fn slot(&self) -> crate::script::TxnSlot {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .slot
            .clone()
    }

    /// How much of a direction's bytes a buffer holds: the most read ahead while the
    /// response's start waits.
    pub fn room(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).room
    }

    /// Whether their analysis of the response is still to start.
    pub fn response_unstarted(&self) -> bool {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        inner.started < inner.filters.len()
    }

    /// `start_analyze` on the response for the filters that have not started it, in order,
    /// their channel showing `ahead` (what the server sent so far), until one waits or fails.
    /// The client's direction goes on meanwhile, as in HAProxy, whose channels' analyses
    /// wait each on its own.
    pub fn start_response(&self, ahead: &[u8]) -> Started {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let TcpInner {
            filters,
            slot,
            copy,
            started,
            ..
        } = &mut *inner;
        let mut lent = slot.lock().unwrap_or_else(|e| e.into_inner());
        let txn = if lent.is_some() { &mut *lent } else { copy };
        while let Some(f) = filters.get_mut(*started) {
            let Some(mut t) = txn.take() else {
                return Started::Done;
            };
            let before = t.res_payload.replace(Bytes::copy_from_slice(ahead));
            let (mut back, verdict) = f.step(FilterStep::StartAnalyze, true, t);
            back.res_payload = before;
            *txn = Some(back);
            match verdict {
                crate::script::FilterVerdict::Continue => *started += 1,
                crate::script::FilterVerdict::Wait(at) => return Started::Wait(at),
                crate::script::FilterVerdict::Error => return Started::Failed(*started),
            }
        }
        Started::Done
    }

    /// `chunk` of one direction (empty: nothing new, what they hold offered again) through
    /// the filters that registered its data, each seeing what the one before let go; at
    /// `eom` (its source closed) all they hold goes. A failed filter lets everything through.
    pub fn pass(&self, response: bool, chunk: &[u8], eom: bool) -> Bytes {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let TcpInner {
            filters,
            holds,
            slot,
            copy,
            ..
        } = &mut *inner;
        let mut lent = slot.lock().unwrap_or_else(|e| e.into_inner());
        let txn = if lent.is_some() { &mut *lent } else { copy };
        let passed = holds[usize::from(response)].pass(chunk, eom, |k, held, eom| {
            let f = &mut filters[k];
            let Some(lent) = txn.take().filter(|_| f.filters_data(response)) else {
                return Some((held.len(), None));
            };
            let (back, n) = f.payload(response, true, lent, held, eom);
            *txn = Some(back);
            Some((n.unwrap_or(held.len()), f.wake_time()))
        });
        passed.unwrap_or_default()
    }

    /// Whether the filters of one direction hold a full buffer: its source waits.
    pub fn full(&self, response: bool) -> bool {
        self.hold(response, Hold::full)
    }

    /// Whether the filters of one direction hold anything.
    pub fn holds(&self, response: bool) -> bool {
        self.hold(response, Hold::holds)
    }

    /// When the filters of one direction want what they hold offered again.
    pub fn wake_at(&self, response: bool) -> Option<tokio::time::Instant> {
        self.hold(response, Hold::wake_at)
    }

    fn hold<R>(&self, response: bool, f: impl FnOnce(&Hold) -> R) -> R {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&inner.holds[usize::from(response)])
    }

    /// After the filter at `at` failed to start the response: the filters from it on end
    /// the request, then all of them the response, as HAProxy resumes each channel's loop
    /// of filters where it broke.
    pub fn end_failed(self, txn: &mut Txn, at: usize) {
        let inner = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut filters = inner.filters;
        for (from, response) in [(at, false), (0, true)] {
            for f in filters.iter_mut().skip(from) {
                crate::script::lend_now(txn, |lent| f.step(FilterStep::EndAnalyze, response, lent));
            }
        }
    }

    /// Both channels end on `txn` (the stream's own, given back): the request's first when
    /// `request_first` (its client closed first), else the response's.
    pub fn end(self, txn: &mut Txn, request_first: bool) {
        let inner = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        let order = if request_first {
            [false, true]
        } else {
            [true, false]
        };
        TunnelEnd(inner.filters).end_in(txn, order);
    }
}

/// The script filters of an HTTP stream upgraded to a tunnel (a `101`, a CONNECT's `2xx`):
/// they end their analysis when the tunnel ends, the response's then the request's, as
/// HAProxy ends them.
pub struct TunnelEnd(Vec<Box<dyn ScriptFilter>>);

impl TunnelEnd {
    /// Takes the filters attached to `txn`; `None` when none is.
    pub fn take(txn: &mut Txn) -> Option<TunnelEnd> {
        let filters = take_all(txn);
        (!filters.is_empty()).then_some(TunnelEnd(filters))
    }

    /// The tunnel ended: both channels end, on the stream's own transaction.
    pub fn end(self, txn: &mut Txn) {
        self.end_in(txn, [true, false]);
    }

    /// Both channels end, in `order` (true: the response's).
    fn end_in(mut self, txn: &mut Txn, order: [bool; 2]) {
        for response in order {
            for f in self.0.iter_mut() {
                crate::script::lend_now(txn, |lent| f.step(FilterStep::EndAnalyze, response, lent));
            }
        }
    }
}
