//! Bandwidth limitation: the `bwlim-in` and `bwlim-out` filters, enabled on a stream by a
//! `set-bandwidth-limit` rule. A per-stream filter paces the stream alone (its default limit
//! and period, or those the rule computes); a shared one paces every stream of a stick-table
//! entry together, counting in the entry's `bytes_in_rate` or `bytes_out_rate`. The pacing is
//! HAProxy's: a stream that got ahead of an even pace waits, one below it may forward what is
//! left of its share of the period, at least `min-size` bytes at a time.

use crate::sample::{Expr, Unsupported};
use crate::tables::data::{DataType, Slot};
use crate::tables::freq::FreqCtr;
use crate::tables::{key, now_ms, tick, Entry, Table};
use crate::txn::Txn;
use bytes::Bytes;
use hapee_compiler::plan::filters::{BandwidthLimit, FilterPlan, FiltersPlan};
use hyper::body::Frame;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// One declared filter, ready to run.
#[derive(Debug)]
pub struct Limit {
    pub plan: BandwidthLimit,
    /// The shared form's key, compiled.
    key: Option<Expr>,
    /// Where it stands among its proxy's filters: limits apply in declaration order.
    order: (u8, usize),
}

/// The bandwidth filters of every proxy, by proxy and filter name.
#[derive(Debug, Default)]
pub struct Limits {
    by_proxy: HashMap<String, Vec<Arc<Limit>>>,
}

impl Limits {
    pub fn build(plan: &FiltersPlan) -> Limits {
        let mut by_proxy: HashMap<String, Vec<Arc<Limit>>> = HashMap::new();
        for p in &plan.proxies {
            for (i, f) in p.chain.iter().enumerate() {
                let FilterPlan::BandwidthLimit(l) = f else {
                    continue;
                };
                by_proxy
                    .entry(p.proxy.clone())
                    .or_default()
                    .push(Arc::new(Limit {
                        key: l.key.as_deref().and_then(|k| Expr::parse(k).ok()),
                        plan: l.clone(),
                        order: (0, i),
                    }));
            }
        }
        Limits { by_proxy }
    }

    /// The filter `name` a rule of the transaction names: its frontend's, else its backend's.
    fn find(&self, txn: &Txn, name: &str) -> Option<(u8, Arc<Limit>)> {
        let proxies = std::iter::once(Some(&*txn.frontend)).chain([txn.backend.as_deref()]);
        for (side, proxy) in proxies.enumerate() {
            let found = proxy
                .and_then(|p| self.by_proxy.get(p))
                .and_then(|ls| ls.iter().find(|l| l.plan.name == name));
            if let Some(l) = found {
                return Some((side as u8, l.clone()));
            }
        }
        None
    }
}

/// What the runtime cannot run among the filters: a key expression its sample compiler lacks.
pub fn refusals(plan: &FiltersPlan) -> Vec<String> {
    let keys = plan.proxies.iter().flat_map(|p| &p.chain);
    keys.filter_map(|f| match f {
        FilterPlan::BandwidthLimit(BandwidthLimit { key: Some(k), .. }) => {
            Expr::parse(k).err().map(|e| e.0)
        }
        _ => None,
    })
    .collect()
}

/// A stream's count of the bytes it forwarded: its own, or a stick-table entry's (held while
/// the stream uses it).
enum Counter {
    Own(FreqCtr),
    Shared {
        table: Arc<Table>,
        entry: Arc<Entry>,
        rate: DataType,
    },
}

impl Drop for Counter {
    fn drop(&mut self) {
        if let Counter::Shared { table, entry, .. } = self {
            table.touch(entry, now_ms(), true);
            entry.release();
        }
    }
}

/// One filter enabled on one stream.
struct StreamLimit {
    limit: Arc<Limit>,
    side: u8,
    counter: Counter,
    /// Per-stream limit and period set by the rule (0: the filter's defaults).
    bytes: u32,
    period: u32,
    /// Before this date (table clock, ms) nothing more goes.
    wait_until: Option<u64>,
}

impl StreamLimit {
    /// How many of `len` bytes may go at `now`; `last`: the stream's data is all there (a
    /// smaller tail than `min-size` may go).
    fn allow(&mut self, len: u32, last: bool, now: u64) -> u32 {
        if len == 0 || self.wait_until.is_some_and(|t| t > now) {
            return 0;
        }
        self.wait_until = None;
        let min_size = u32::try_from(self.limit.plan.min_size).unwrap_or(u32::MAX);
        let plan_limit = u32::try_from(self.limit.plan.limit).unwrap_or(u32::MAX);
        let step = match &mut self.counter {
            Counter::Own(own) => {
                let period = if self.period > 0 {
                    self.period
                } else {
                    self.limit.plan.period
                };
                let limit = if self.bytes > 0 {
                    self.bytes
                } else {
                    plan_limit
                };
                pace(
                    own,
                    Pace {
                        period,
                        limit,
                        users: 1,
                        min_size,
                    },
                    len,
                    last,
                    now,
                )
            }
            Counter::Shared { table, entry, rate } => {
                let Some(slot) = table.layout.slot(*rate, 0) else {
                    return len;
                };
                let period = table.layout.period(*rate);
                let users = entry.refs().max(1);
                let mut data = entry.write();
                let Slot::Freq(counter) = &mut data[slot] else {
                    return len;
                };
                let pace_of = Pace {
                    period,
                    limit: plan_limit,
                    users,
                    min_size,
                };
                pace(counter, pace_of, len, last, now)
            }
        };
        self.wait_until = step.wait_until;
        step.allowed
    }
}

/// The settings one step of pacing runs with.
#[derive(Clone, Copy)]
struct Pace {
    period: u32,
    limit: u32,
    /// The streams sharing the counter: each may take its share of what is left.
    users: u32,
    min_size: u32,
}

struct Step {
    allowed: u32,
    wait_until: Option<u64>,
}

/// HAProxy's pacing of `len` bytes at `now` on `rate` (flt_bwlim's `bwlim_apply_limit`).
fn pace(rate: &mut FreqCtr, p: Pace, len: u32, last: bool, now: u64) -> Step {
    let (period, limit, users, min_size) = (p.period.max(1), p.limit.max(1), p.users, p.min_size);
    let t = tick(now);
    let per = |bytes: u64| bytes * u64::from(period) * u64::from(users);
    // Ahead of an even pace over the current period: nothing goes until it is caught up
    // (this also keeps a new stream from spending the whole limit in one burst).
    let overshoot = rate.overshoot(period, limit, t);
    if overshoot > 0 {
        let wait = per(u64::from(min_size) + overshoot as u64) / u64::from(limit);
        return Step {
            allowed: 0,
            wait_until: Some(now + wait.max(1)),
        };
    }
    let remain = rate.remain(period, limit, 0, t);
    let tokens = remain.div_ceil(users);
    let mut allowed = len;
    let mut wait = 0u64;
    if tokens < len {
        allowed = tokens;
        if tokens < min_size {
            allowed = if last { len.min(min_size) } else { min_size };
            if allowed <= remain {
                wait = per(u64::from(allowed - tokens)).div_ceil(u64::from(limit));
            } else {
                allowed = if limit < allowed { remain } else { 0 };
            }
        }
    }
    // `min-size` may allow more than there is: only what there is goes, and counts.
    allowed = allowed.min(len);
    rate.update(period, allowed, t);
    let mut wait_until = None;
    if allowed < len {
        let pend = (len - allowed).min(min_size.saturating_mul(users));
        wait += u64::from(rate.next_event_delay(period, limit, pend, t));
        wait_until = Some(now + wait.max(1));
    }
    Step {
        allowed,
        wait_until,
    }
}

/// The limits enabled on one direction of a stream, applied one after the other.
#[derive(Default)]
pub struct Pacer {
    limits: Vec<StreamLimit>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("limits", &self.limits.len())
            .finish()
    }
}

impl Pacer {
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// Enables `limit` (again: a second rule for the same filter replaces the first).
    fn enable(&mut self, l: StreamLimit) {
        self.limits
            .retain(|s| !Arc::ptr_eq(&s.limit, &l.limit) || s.side != l.side);
        let at = self
            .limits
            .partition_point(|s| (s.side, s.limit.order) < (l.side, l.limit.order));
        self.limits.insert(at, l);
    }

    /// How many of the `len` bytes at hand may go now, once every limit allows some (ready
    /// with at least 1 when `len` is not 0); `last`: no more data follows them.
    pub fn poll_allow(&mut self, cx: &mut Context<'_>, len: usize, last: bool) -> Poll<usize> {
        if self.limits.is_empty() || len == 0 {
            return Poll::Ready(len);
        }
        loop {
            if let Some(sleep) = self.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
            let now = now_ms();
            let mut n = u32::try_from(len).unwrap_or(u32::MAX);
            for l in &mut self.limits {
                n = l.allow(n, last, now);
                if n == 0 {
                    break;
                }
            }
            if n > 0 {
                return Poll::Ready((n as usize).min(len));
            }
            let until = self
                .limits
                .iter()
                .filter_map(|l| l.wait_until)
                .filter(|&t| t > now)
                .min()
                .unwrap_or(now + 1);
            let at = tokio::time::Instant::now() + std::time::Duration::from_millis(until - now);
            self.sleep = Some(Box::pin(tokio::time::sleep_until(at)));
        }
    }
}

/// A body going through a pacer: the frame at hand is held and handed on in the pieces the
/// limits allow.
pub struct Paced {
    pacer: Pacer,
    held: Bytes,
}

impl Paced {
    /// `None` when no limit is enabled.
    pub fn new(pacer: Pacer) -> Option<Box<Paced>> {
        (!pacer.is_empty()).then(|| {
            Box::new(Paced {
                pacer,
                held: Bytes::new(),
            })
        })
    }

    /// Whether data is still held back.
    pub fn holds_data(&self) -> bool {
        !self.held.is_empty()
    }

    /// The next frame of `source`, or the next piece of the data held.
    pub fn poll_frame<E>(
        &mut self,
        cx: &mut Context<'_>,
        mut source: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, E>>>,
    ) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        loop {
            if !self.held.is_empty() {
                let n = ready!(self.pacer.poll_allow(cx, self.held.len(), false));
                return Poll::Ready(Some(Ok(Frame::data(self.held.split_to(n)))));
            }
            match ready!(source(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.held = data,
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
                other => return Poll::Ready(other),
            }
        }
    }
}

/// The next frame of a body that may be paced: through its [`Paced`] when `slot` holds one,
/// else straight from `source`. The pacer is taken out of the body for the poll, so that
/// `source` may borrow the body whole.
pub fn poll_paced<B, E>(
    body: &mut B,
    cx: &mut Context<'_>,
    slot: impl Fn(&mut B) -> &mut Option<Box<Paced>>,
    mut source: impl FnMut(&mut B, &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, E>>>,
) -> Poll<Option<Result<Frame<Bytes>, E>>> {
    let Some(mut paced) = slot(body).take() else {
        return source(body, cx);
    };
    let polled = paced.poll_frame(cx, |cx| source(body, cx));
    *slot(body) = Some(paced);
    polled
}

/// The limits a transaction enabled: on what the client sends, on what it receives.
#[derive(Debug, Default)]
pub struct TxnLimits {
    pub upload: Pacer,
    pub download: Pacer,
}

/// `set-bandwidth-limit <name> [limit <expr>] [period <expr>]`.
#[derive(Debug)]
pub struct SetLimit {
    name: String,
    bytes: Option<Expr>,
    period: Option<Expr>,
}

impl SetLimit {
    pub fn compile(args: &[String]) -> Result<SetLimit, Unsupported> {
        let mut set = SetLimit {
            name: args.first().cloned().unwrap_or_default(),
            bytes: None,
            period: None,
        };
        let mut i = 1;
        while let (Some(which), Some(expr)) = (args.get(i), args.get(i + 1)) {
            match which.as_str() {
                "limit" => set.bytes = Some(Expr::parse(expr)?),
                "period" => set.period = Some(Expr::parse(expr)?),
                _ => break,
            }
            i += 2;
        }
        Ok(set)
    }

    /// Enables the filter on the transaction's stream, in its direction; a rule whose filter,
    /// key or table entry is not there does nothing.
    pub fn run(&self, txn: &mut Txn) {
        let shared = txn.shared.clone();
        let Some((side, limit)) = shared.filters.limits.find(txn, &self.name) else {
            return;
        };
        let positive = |e: &Option<Expr>| {
            e.as_ref()
                .and_then(|e| e.eval(txn))
                .and_then(|v| v.as_int())
                .filter(|&v| v > 0)
                .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        let counter = match (&limit.key, &limit.plan.table) {
            (Some(expr), Some(table)) => {
                let Some(t) = shared.tables.get(table).cloned() else {
                    return;
                };
                let now = now_ms();
                let entry = expr
                    .eval(txn)
                    .and_then(|v| key::from_value(&v, t.key_type, t.key_size))
                    .and_then(|k| t.get_or_create(&k, now));
                let Some(entry) = entry else { return };
                entry.hold();
                let rate = if limit.plan.upload {
                    DataType::BytesInRate
                } else {
                    DataType::BytesOutRate
                };
                Counter::Shared {
                    table: t,
                    entry,
                    rate,
                }
            }
            _ => Counter::Own(FreqCtr::default()),
        };
        let shared_form = matches!(counter, Counter::Shared { .. });
        let l = StreamLimit {
            bytes: if shared_form {
                0
            } else {
                positive(&self.bytes)
            },
            period: if shared_form {
                0
            } else {
                positive(&self.period)
            },
            side,
            counter,
            wait_until: None,
            limit: limit.clone(),
        };
        let limits = &mut txn.filters.limits;
        if limit.plan.upload {
            limits.upload.enable(l);
        } else {
            limits.download.enable(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(limit: u64, period: u32, min_size: u64) -> StreamLimit {
        StreamLimit {
            limit: Arc::new(Limit {
                plan: BandwidthLimit {
                    name: "l".into(),
                    upload: false,
                    limit,
                    period,
                    key: None,
                    table: None,
                    min_size,
                },
                key: None,
                order: (0, 0),
            }),
            side: 0,
            counter: Counter::Own(FreqCtr::default()),
            bytes: 0,
            period: 0,
            wait_until: None,
        }
    }

    /// Forwards `total` bytes offered in 16 kB pieces, stepping a clock by each wait:
    /// the milliseconds it takes.
    fn time_to_send(s: &mut StreamLimit, total: u32) -> u64 {
        let start = 10_000_000u64;
        let mut now = start;
        let mut left = total;
        while left > 0 {
            let n = s.allow(left.min(16384), left <= 16384, now).min(left);
            left -= n;
            if n == 0 {
                now = s.wait_until.unwrap_or(now + 1).max(now + 1);
            }
        }
        now - start
    }

    #[test]
    fn a_stream_goes_at_its_limit_without_an_initial_burst() {
        // 200 kB at 100 kB/s: about two seconds, not one burst then a pause.
        let ms = time_to_send(&mut stream(100 << 10, 1000, 0), 200 << 10);
        assert!((1800..=2100).contains(&ms), "{ms} ms");
        // The first piece goes; the next, at the same instant, is ahead of the pace and waits.
        let mut s = stream(100 << 10, 1000, 0);
        assert_eq!(s.allow(16384, false, 10_000_000), 16384);
        assert_eq!(s.allow(16384, false, 10_000_000), 0);
        assert!(s.wait_until.is_some_and(|t| t > 10_000_000));
    }

    #[test]
    fn min_size_is_the_smallest_piece_but_the_last() {
        let mut s = stream(10 << 10, 1000, 4096);
        let now = 50_000_000;
        let first = s.allow(100_000, false, now);
        assert!(first == 0 || first >= 4096, "{first}");
        let mut t = stream(10 << 10, 1000, 4096);
        assert_eq!(t.allow(100, true, now), 100);
    }
}
