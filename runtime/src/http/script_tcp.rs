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
/// `tcp-response` rules take it from there, and a script action among them or a TCP service
/// keeps it there while it runs, [`TcpFilters::lend_to`]): a direction that finds it out waits
/// for it ([`TcpFilters::wait_lent`]), each time only for a step of a script.
pub struct TcpFilters(std::sync::Mutex<TcpInner>);

struct TcpInner {
    filters: Vec<Box<dyn ScriptFilter>>,
    /// What the filters have not let go yet, request and response.
    holds: [Hold; 2],
    /// Where the stream's transaction is lent while the tunnel runs.
    slot: crate::script::TxnSlot,
    /// Woken when the transaction is put back in the slot.
    back: std::sync::Arc<tokio::sync::Notify>,
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
            back: Default::default(),
        })))
    }

    /// Where a script holding the transaction keeps it while the filters run beside it
    /// (a `tcp-response` rule's action, a TCP service): their slot.
    pub fn lend_to(&self) -> crate::script::LendTo {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        crate::script::LendTo::new(&inner.slot, &inner.back)
    }

    /// What wakes the directions waiting for the transaction: to be notified (all waiters)
    /// whenever it is put back in the slot.
    pub fn back(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .back
            .clone()
    }

    /// Whether the transaction is in the slot now.
    fn lent(&self) -> bool {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let lent = inner
            .slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        lent
    }

    /// Waits until the transaction is in the slot: out of it only while a step of the
    /// response's rules or of a script runs on it.
    pub async fn wait_lent(&self) {
        let back = self.back();
        loop {
            let woken = back.notified();
            let mut woken = std::pin::pin!(woken);
            woken.as_mut().enable();
            if self.lent() {
                return;
            }
            woken.await;
        }
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
            started,
            ..
        } = &mut *inner;
        let mut lent = slot.lock().unwrap_or_else(|e| e.into_inner());
        let txn = &mut *lent;
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
            ..
        } = &mut *inner;
        let mut lent = slot.lock().unwrap_or_else(|e| e.into_inner());
        let txn = &mut *lent;
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
