//! Tracking from rules: `track-sc<n>` holds a table entry for a session (`tcp-request
//! connection|session`) or for one stream (`tcp-request content`, `http-request`,
//! `http-response`), counts what happens on it (connections, sessions, requests, errors,
//! bytes), and the `sc-inc-gpc*`, `sc-set-gpt*` and `sc-add-gpc` actions change it.

use super::data::{DataType, Slot};
use super::{key, now_ms, tick, Entry, Table};
use std::sync::Arc;
use std::sync::Mutex;

/// A tracked entry. Dropping it ends the tracking: `conn_cur` goes down and the entry may
/// expire again.
#[derive(Debug)]
pub struct Tracked {
    pub table: Arc<Table>,
    pub entry: Arc<Entry>,
}

impl Tracked {
    /// Starts tracking: the entry is held, and counts one more current and total connection
    /// and a connection event (HAProxy's `stream_start_counters`).
    pub fn start(table: Arc<Table>, entry: Arc<Entry>, now: u64) -> Tracked {
        entry.hold();
        add(
            &table,
            &entry,
            now,
            &[DataType::ConnCur, DataType::ConnCnt],
            &[DataType::ConnRate],
            1,
        );
        Tracked { table, entry }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(i) = self.table.layout.slot(DataType::ConnCur, 0) {
            if let Slot::Uint(v) = &mut self.entry.write()[i] {
                *v = v.saturating_sub(1);
            }
        }
        self.table.touch(&self.entry, now_ms(), true);
        self.entry.release();
    }
}

/// Adds `n` to counters `counts` and events to rates `rates` of an entry (those the table
/// stores), then touches it.
pub fn add(t: &Table, e: &Entry, now: u64, counts: &[DataType], rates: &[DataType], n: u64) {
    let stored = counts
        .iter()
        .chain(rates)
        .any(|d| t.layout.column(*d).is_some());
    if !stored {
        t.touch(e, now, true);
        return;
    }
    {
        let mut d = e.write();
        for c in counts {
            if let Some(i) = t.layout.slot(*c, 0) {
                bump(&mut d[i], n);
            }
        }
        for r in rates {
            if let (Some(i), period) = (t.layout.slot(*r, 0), t.layout.period(*r)) {
                if let Slot::Freq(f) = &mut d[i] {
                    f.update(period, n as u32, tick(now));
                }
            }
        }
    }
    t.touch(e, now, true);
}

fn bump(s: &mut Slot, n: u64) {
    match s {
        Slot::Uint(v) => *v = v.wrapping_add(n as u32),
        Slot::Ull(v) => *v = v.wrapping_add(n),
        Slot::Sint(v) => *v = v.wrapping_add(n as i32),
        _ => {}
    }
}

/// The tracked counters of a session or of a stream, by `sc` number.
pub type Slots = Vec<Option<Tracked>>;

/// What a transaction tracks: its stream's own counters, and its session's (shared by the
/// requests of one connection).
#[derive(Debug, Default)]
pub struct Trackers {
    pub stream: Slots,
    pub session: Option<Arc<Mutex<Slots>>>,
}

impl Trackers {
    /// The entry tracked as `sc<n>`: the stream's, else the session's.
    pub fn get(&self, n: usize) -> Option<(Arc<Table>, Arc<Entry>)> {
        if let Some(Some(t)) = self.stream.get(n) {
            return Some((t.table.clone(), t.entry.clone()));
        }
        let session = self
            .session
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        session
            .get(n)?
            .as_ref()
            .map(|t| (t.table.clone(), t.entry.clone()))
    }

    /// Whether `sc<n>` is taken already (a second `track-sc<n>` does nothing).
    pub fn is_tracked(&self, n: usize) -> bool {
        self.get(n).is_some()
    }

    /// Every tracked entry, stream first then session ones not also tracked by the stream.
    pub fn each(&self, mut f: impl FnMut(&Table, &Entry)) {
        for t in self.stream.iter().flatten() {
            f(&t.table, &t.entry);
        }
        if let Some(s) = &self.session {
            for (i, t) in s
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .enumerate()
            {
                let shadowed = matches!(self.stream.get(i), Some(Some(_)));
                if let (Some(t), false) = (t, shadowed) {
                    f(&t.table, &t.entry);
                }
            }
        }
    }

    /// Tracks `entry` as `sc<n>` of the session (`session`) or of the stream.
    pub fn track(&mut self, n: usize, table: Arc<Table>, entry: Arc<Entry>, session: bool) {
        let tracked = Tracked::start(table, entry, now_ms());
        let put = |slots: &mut Slots| {
            if slots.len() <= n {
                slots.resize_with(n + 1, || None);
            }
            slots[n] = Some(tracked);
        };
        if session {
            let s = self.session.get_or_insert_with(Default::default);
            put(&mut s.lock().unwrap_or_else(|e| e.into_inner()));
        } else {
            put(&mut self.stream);
        }
    }

    /// One event on the session's counters: `count` and its `rate`.
    fn count_on_session(&self, count: DataType, rate: DataType) {
        let Some(s) = &self.session else { return };
        let now = now_ms();
        for t in s.lock().unwrap_or_else(|e| e.into_inner()).iter().flatten() {
            add(&t.table, &t.entry, now, &[count], &[rate], 1);
        }
    }

    /// A new HTTP request on the session's counters (the stream's count theirs when they
    /// start tracking).
    pub fn count_session_request(&self) {
        self.count_on_session(DataType::HttpReqCnt, DataType::HttpReqRate);
    }

    /// The session was accepted: `sess_cnt` and `sess_rate` of the session's counters.
    pub fn count_session(&self) {
        self.count_on_session(DataType::SessCnt, DataType::SessRate);
    }

    /// The response status: 4xx count as request errors, 5xx (but 501 and 505) as failures.
    pub fn count_status(&self, status: u16) {
        let (cnt, rate) = match status {
            400..=499 => (DataType::HttpErrCnt, DataType::HttpErrRate),
            501 | 505 => return,
            500..=599 => (DataType::HttpFailCnt, DataType::HttpFailRate),
            _ => return,
        };
        let now = now_ms();
        self.each(|t, e| add(t, e, now, &[cnt], &[rate], 1));
    }

    /// Bytes received from the client and sent to it, at the end of a stream.
    pub fn count_bytes(&self, bytes_in: u64, bytes_out: u64) {
        let now = now_ms();
        self.each(|t, e| {
            if bytes_in > 0 {
                add(
                    t,
                    e,
                    now,
                    &[DataType::BytesInCnt],
                    &[DataType::BytesInRate],
                    bytes_in,
                );
            }
            if bytes_out > 0 {
                add(
                    t,
                    e,
                    now,
                    &[DataType::BytesOutCnt],
                    &[DataType::BytesOutRate],
                    bytes_out,
                );
            }
        });
    }
}

/// Counts the HTTP request of a stream that starts tracking in HTTP rules, as HAProxy's
/// `http-request track-sc` does.
pub fn count_tracked_request(t: &Table, e: &Entry) {
    add(
        t,
        e,
        now_ms(),
        &[DataType::HttpReqCnt],
        &[DataType::HttpReqRate],
        1,
    );
}

/// The slots of general purpose counter `idx`: `legacy` names (`gpc0`, `gpc1`) use their own
/// types and fall back on the array; array names (`gpc(idx)`) use the array only.
pub fn gpc_slots(t: &Table, idx: usize, legacy: bool) -> (Option<usize>, Option<usize>) {
    let l = &t.layout;
    if legacy {
        let (cnt, rate) = match idx {
            0 => (DataType::Gpc0, DataType::Gpc0Rate),
            _ => (DataType::Gpc1, DataType::Gpc1Rate),
        };
        (
            l.slot(cnt, 0).or_else(|| l.slot(DataType::Gpc, idx)),
            l.slot(rate, 0).or_else(|| l.slot(DataType::GpcRate, idx)),
        )
    } else {
        (l.slot(DataType::Gpc, idx), l.slot(DataType::GpcRate, idx))
    }
}

/// The period of the rate at `slot` (a `gpc0_rate`/`gpc1_rate` or a `gpc_rate` element).
pub fn period_of_slot(t: &Table, slot: usize) -> u32 {
    t.layout
        .columns
        .iter()
        .find(|c| (c.offset..c.offset + c.elements).contains(&slot))
        .map_or(0, |c| c.period)
}

/// The slot of general purpose tag `idx` (`gpt0` falls back on the array).
pub fn gpt_slot(t: &Table, idx: usize, legacy: bool) -> Option<usize> {
    let l = &t.layout;
    if legacy {
        l.slot(DataType::Gpt0, 0)
            .or_else(|| l.slot(DataType::Gpt, idx))
    } else {
        l.slot(DataType::Gpt, idx)
    }
}

/// Adds `n` to general purpose counter `idx` and `n` events to its rate; answers the
/// counter's new value (0 when only the rate is stored).
pub fn add_gpc(t: &Table, e: &Entry, idx: usize, legacy: bool, n: u64, now: u64) -> u64 {
    let (cnt, rate) = gpc_slots(t, idx, legacy);
    let mut value = 0;
    {
        let mut d = e.write();
        if let Some(r) = rate {
            let period = period_of_slot(t, r);
            if let Slot::Freq(f) = &mut d[r] {
                f.update(period, n as u32, tick(now));
            }
        }
        if let Some(c) = cnt {
            bump(&mut d[c], n);
            if let Slot::Uint(v) = d[c] {
                value = u64::from(v);
            }
        }
    }
    t.touch(e, now, true);
    value
}

/// Sets general purpose tag `idx`.
pub fn set_gpt(t: &Table, e: &Entry, idx: usize, legacy: bool, value: u32, now: u64) {
    if let Some(s) = gpt_slot(t, idx, legacy) {
        e.write()[s] = Slot::Uint(value);
        t.touch(e, now, true);
    }
}

/// The key of a client address in table `t`.
pub fn src_key(t: &Table, client: std::net::IpAddr) -> Option<key::Key> {
    key::from_value(&crate::sample::Value::Ip(client), t.key_type, t.key_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::data::ALL;
    use hapee_compiler::plan::tables::{KeyType, StickTablePlan, StorePlan};

    /// A table storing every 2.7 type (`gpc`/`gpt` arrays next to the legacy ones, which
    /// HAProxy's parser would refuse together, to read both here).
    fn everything() -> Arc<Table> {
        let stores = ALL
            .iter()
            .map(|t| StorePlan {
                name: t.name().into(),
                elements: if t.is_array() { 2 } else { 1 },
                period: if t.std_type() == crate::tables::data::StdType::Freq {
                    10_000
                } else {
                    0
                },
            })
            .collect();
        Arc::new(
            Table::new(&StickTablePlan {
                stores,
                ..crate::tables::test_plan("all", KeyType::Ip, 10, Some(60_000), &[])
            })
            .unwrap(),
        )
    }

    fn value(t: &Table, e: &Entry, d: DataType, idx: usize) -> u64 {
        let now = tick(now_ms());
        match &e.read()[t.layout.slot(d, idx).unwrap()] {
            Slot::Uint(v) => u64::from(*v),
            Slot::Ull(v) => *v,
            Slot::Sint(v) => *v as u64,
            Slot::Freq(f) => u64::from(f.read(t.layout.period(d), now)),
            Slot::Dict(_) => 0,
        }
    }

    #[test]
    fn every_counter_counts_what_haproxy_counts() {
        use DataType::*;
        let t = everything();
        let e = t.get_or_create(&[10, 0, 0, 9], now_ms()).unwrap();
        let mut trackers = Trackers::default();
        trackers.track(1, t.clone(), e.clone(), true);
        trackers.count_session();
        trackers.count_session_request();
        trackers.count_session_request();
        trackers.count_status(404);
        trackers.count_status(503);
        trackers.count_status(501);
        trackers.count_bytes(2048, 5000);
        let expect = [
            (ConnCur, 1),
            (ConnCnt, 1),
            (ConnRate, 1),
            (SessCnt, 1),
            (SessRate, 1),
            (HttpReqCnt, 2),
            (HttpReqRate, 2),
            (HttpErrCnt, 1),
            (HttpErrRate, 1),
            (HttpFailCnt, 1),
            (HttpFailRate, 1),
            (BytesInCnt, 2048),
            (BytesInRate, 2048),
            (BytesOutCnt, 5000),
            (BytesOutRate, 5000),
        ];
        for (d, v) in expect {
            assert_eq!(value(&t, &e, d, 0), v, "{}", d.name());
        }
        assert_eq!(e.refs(), 1);
        // General purpose counters and tags: legacy names first, the arrays by index.
        assert_eq!(add_gpc(&t, &e, 0, true, 1, now_ms()), 1);
        assert_eq!(add_gpc(&t, &e, 1, false, 3, now_ms()), 3);
        set_gpt(&t, &e, 0, true, 9, now_ms());
        set_gpt(&t, &e, 1, false, 4, now_ms());
        assert_eq!(value(&t, &e, Gpc0, 0), 1);
        assert_eq!(value(&t, &e, Gpc0Rate, 0), 1);
        assert_eq!(value(&t, &e, Gpc, 1), 3);
        assert_eq!(value(&t, &e, GpcRate, 1), 3);
        assert_eq!(value(&t, &e, Gpc, 0), 0);
        assert_eq!((value(&t, &e, Gpt0, 0), value(&t, &e, Gpt, 1)), (9, 4));
        // The session ends: the entry is released, `conn_cur` goes back down.
        drop(trackers);
        assert_eq!((value(&t, &e, ConnCur, 0), e.refs()), (0, 0));
    }
}
