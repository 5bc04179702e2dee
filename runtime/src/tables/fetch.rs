//! The table fetches and converters: `sc_*`/`sc<n>_*` read what a transaction tracks,
//! `src_*` the client address's entry, `table_*` the entry of the converted sample, and
//! `table_avl`/`table_cnt`/`in_table` the table itself.

use super::data::{DataType, Slot, StdType};
use super::track::{add, add_gpc, gpc_slots, gpt_slot, period_of_slot, src_key};
use super::{key, now_ms, tick, Entry, Table};
use crate::sample::Value;
use crate::txn::Txn;
use std::cell::RefCell;
use std::sync::Arc;

/// What is read (or changed) on an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// A counter (`conn_cnt`, `http_req_cnt`, …).
    Count(DataType),
    /// A rate over its period.
    Rate(DataType),
    /// A byte counter in KiB.
    Kbytes(DataType),
    Gpc {
        idx: usize,
        legacy: bool,
    },
    GpcRate {
        idx: usize,
        legacy: bool,
    },
    IncGpc {
        idx: usize,
        legacy: bool,
    },
    ClrGpc {
        idx: usize,
        legacy: bool,
    },
    Gpt {
        idx: usize,
        legacy: bool,
    },
    ServerId,
    Trackers,
    Tracked,
    /// ms before the entry expires (`table_expire`).
    Expire,
    /// ms since it was last touched (`table_idle`).
    Idle,
    /// `src_updt_conn_cnt`: one more connection, then its count.
    UpdtConnCnt,
    /// `in_table`.
    Present,
    /// `table_avl`, `table_cnt`.
    Available,
    Used,
}

/// Where the entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `sc<n>`: what the transaction tracks.
    Counter(usize),
    /// The client's address.
    Src,
    /// The converter's input.
    Input,
    /// No entry: the table itself.
    Whole,
}

#[derive(Clone, Debug)]
pub struct TableRead {
    pub source: Source,
    pub metric: Metric,
    /// The table named, or the default one; `None` with a counter: the tracked entry's.
    pub table: Option<String>,
    /// `table_expire`/`table_idle`: the value when the key is not in the table.
    pub default: Option<i64>,
}

thread_local! {
    /// The table of the proxy whose expressions are being compiled: `src_*` fetches,
    /// `table_*` converters and `track-sc*` use it when they name none, as in HAProxy.
    static DEFAULT_TABLE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with `table` as the default table of the expressions it compiles.
pub fn with_default_table<R>(table: Option<&str>, f: impl FnOnce() -> R) -> R {
    let before = DEFAULT_TABLE.with(|d| d.replace(table.map(String::from)));
    let out = f();
    DEFAULT_TABLE.with(|d| *d.borrow_mut() = before);
    out
}

/// The default table of the expressions being compiled.
pub fn default_table() -> Option<String> {
    DEFAULT_TABLE.with(|d| d.borrow().clone())
}

/// A metric's name after its prefix, and whether it takes an index argument first.
fn metric(name: &str, idx: usize) -> Option<(Metric, bool)> {
    let legacy = |n: &str, prefix: &str| n.strip_prefix(prefix).and_then(|d| d.parse().ok());
    Some(match name {
        "get_gpc" | "gpc" => (Metric::Gpc { idx, legacy: false }, true),
        "gpc_rate" => (Metric::GpcRate { idx, legacy: false }, true),
        "inc_gpc" => (Metric::IncGpc { idx, legacy: false }, true),
        "clr_gpc" => (Metric::ClrGpc { idx, legacy: false }, true),
        "get_gpt" | "gpt" => (Metric::Gpt { idx, legacy: false }, true),
        "gpc0_rate" | "gpc1_rate" => (
            Metric::GpcRate {
                idx: usize::from(name.starts_with("gpc1")),
                legacy: true,
            },
            false,
        ),
        "kbytes_in" => (Metric::Kbytes(DataType::BytesInCnt), false),
        "kbytes_out" => (Metric::Kbytes(DataType::BytesOutCnt), false),
        "server_id" => (Metric::ServerId, false),
        "trackers" => (Metric::Trackers, false),
        "tracked" => (Metric::Tracked, false),
        "expire" => (Metric::Expire, false),
        "idle" => (Metric::Idle, false),
        "updt_conn_cnt" => (Metric::UpdtConnCnt, false),
        n => {
            let m = if let Some(i) = legacy(n, "get_gpc").or_else(|| legacy(n, "gpc")) {
                Metric::Gpc {
                    idx: i,
                    legacy: true,
                }
            } else if let Some(i) = legacy(n, "inc_gpc") {
                Metric::IncGpc {
                    idx: i,
                    legacy: true,
                }
            } else if let Some(i) = legacy(n, "clr_gpc") {
                Metric::ClrGpc {
                    idx: i,
                    legacy: true,
                }
            } else if let Some(i) = legacy(n, "get_gpt").or_else(|| legacy(n, "gpt")) {
                Metric::Gpt {
                    idx: i,
                    legacy: true,
                }
            } else {
                let t = DataType::from_name(n)?;
                match t.std_type() {
                    StdType::Freq => Metric::Rate(t),
                    StdType::Uint | StdType::Ull => Metric::Count(t),
                    _ => return None,
                }
            };
            (m, false)
        }
    })
}

fn arg(args: &[String], i: usize) -> Option<&str> {
    args.get(i).map(String::as_str).filter(|a| !a.is_empty())
}

impl TableRead {
    /// A table fetch (`sc_http_req_rate(0)`, `sc1_conn_cur`, `src_get_gpc(2,t)`,
    /// `table_cnt`), or `None` when `name` is not one.
    pub fn fetch(name: &str, args: &[String]) -> Option<TableRead> {
        let index = |i: usize| arg(args, i).and_then(|a| a.parse().ok()).unwrap_or(0usize);
        if let Some(rest) = name.strip_prefix("sc_") {
            let (m, indexed) = metric(rest, index(0))?;
            let at = usize::from(indexed);
            return Some(TableRead {
                source: Source::Counter(index(at)),
                metric: m,
                table: arg(args, at + 1).map(String::from),
                default: None,
            });
        }
        if let Some(rest) = name.strip_prefix("src_") {
            let (m, indexed) = metric(rest, index(0))?;
            if matches!(m, Metric::Tracked | Metric::Expire | Metric::Idle) {
                return None;
            }
            return Some(TableRead {
                source: Source::Src,
                metric: m,
                table: arg(args, usize::from(indexed))
                    .map(String::from)
                    .or_else(default_table),
                default: None,
            });
        }
        if matches!(name, "table_avl" | "table_cnt") {
            return Some(TableRead {
                source: Source::Whole,
                metric: if name == "table_avl" {
                    Metric::Available
                } else {
                    Metric::Used
                },
                table: arg(args, 0).map(String::from).or_else(default_table),
                default: None,
            });
        }
        let digit = name.strip_prefix("sc")?;
        let (n, rest) = digit.split_once('_')?;
        let n: usize = n.parse().ok()?;
        let (m, indexed) = metric(rest, 0)?;
        if indexed {
            return None;
        }
        Some(TableRead {
            source: Source::Counter(n),
            metric: m,
            table: arg(args, 0).map(String::from),
            default: None,
        })
    }

    /// A table converter (`table_http_req_rate(t)`, `table_gpc(1,t)`, `table_expire(t,0)`,
    /// `in_table(t)`), or `None`.
    pub fn converter(name: &str, args: &[String]) -> Option<TableRead> {
        if name == "in_table" {
            return Some(TableRead {
                source: Source::Input,
                metric: Metric::Present,
                table: arg(args, 0).map(String::from).or_else(default_table),
                default: None,
            });
        }
        let rest = name.strip_prefix("table_")?;
        let idx = arg(args, 0).and_then(|a| a.parse().ok()).unwrap_or(0);
        let (m, indexed) = metric(rest, idx)?;
        if matches!(
            m,
            Metric::Tracked | Metric::UpdtConnCnt | Metric::IncGpc { .. } | Metric::ClrGpc { .. }
        ) {
            return None;
        }
        let at = usize::from(indexed);
        Some(TableRead {
            source: Source::Input,
            metric: m,
            table: arg(args, at).map(String::from).or_else(default_table),
            default: arg(args, at + 1).and_then(|d| d.parse().ok()),
        })
    }

    fn named_table(&self, txn: &Txn) -> Option<Arc<Table>> {
        txn.shared.tables.get(self.table.as_deref()?).cloned()
    }

    /// The fetch's value for this transaction.
    pub fn fetch_value(&self, txn: &Txn) -> Option<Value> {
        let now = now_ms();
        match self.source {
            Source::Counter(n) => {
                let tracked = txn.stick.get(n);
                if self.metric == Metric::Tracked {
                    return Some(Value::Bool(tracked.is_some()));
                }
                let (table, entry) = tracked?;
                match self.named_table(txn) {
                    Some(other) if other.name != table.name => {
                        let e = other.lookup(&entry.key, now);
                        Some(self.value(&other, e.as_deref(), now))
                    }
                    _ => Some(self.value(&table, Some(&entry), now)),
                }
            }
            Source::Src => {
                let t = self.named_table(txn)?;
                let k = src_key(&t, txn.client.ip())?;
                let creates = matches!(self.metric, Metric::IncGpc { .. } | Metric::UpdtConnCnt);
                let e = if creates {
                    t.get_or_create(&k, now)
                } else {
                    t.lookup(&k, now)
                };
                Some(self.value(&t, e.as_deref(), now))
            }
            Source::Whole => {
                let t = self.named_table(txn)?;
                Some(Value::Int(match self.metric {
                    Metric::Available => t.size.saturating_sub(t.used()) as i64,
                    _ => t.used() as i64,
                }))
            }
            Source::Input => None,
        }
    }

    /// The converter's value for `input`.
    pub fn convert_value(&self, input: &Value, txn: &Txn) -> Option<Value> {
        let t = self.named_table(txn)?;
        let now = now_ms();
        let k = key::from_value(input, t.key_type, t.key_size)?;
        let e = t.lookup(&k, now);
        match (&e, self.metric) {
            (None, Metric::Present) => Some(Value::Bool(false)),
            (Some(_), Metric::Present) => Some(Value::Bool(true)),
            (None, _) => self.default.map(Value::Int),
            (Some(e), _) => Some(self.value(&t, Some(e), now)),
        }
    }

    /// The metric of an entry (0 for a missing entry or a type the table does not store).
    fn value(&self, t: &Table, e: Option<&Entry>, now: u64) -> Value {
        let Some(e) = e else {
            return Value::Int(0);
        };
        let read = |slot: Option<usize>| -> i64 {
            let Some(s) = slot else { return 0 };
            match &e.read()[s] {
                Slot::Uint(v) => i64::from(*v),
                Slot::Sint(v) => i64::from(*v),
                Slot::Ull(v) => *v as i64,
                Slot::Freq(f) => i64::from(f.read(period_of_slot(t, s), tick(now))),
                Slot::Dict(_) => 0,
            }
        };
        let remain = || {
            if t.expire == 0 {
                0
            } else {
                e.expire().saturating_sub(now) as i64
            }
        };
        Value::Int(match self.metric {
            Metric::Count(d) | Metric::Rate(d) => read(t.layout.slot(d, 0)),
            Metric::Kbytes(d) => read(t.layout.slot(d, 0)) >> 10,
            Metric::Gpc { idx, legacy } => read(gpc_slots(t, idx, legacy).0),
            Metric::GpcRate { idx, legacy } => read(gpc_slots(t, idx, legacy).1),
            Metric::Gpt { idx, legacy } => read(gpt_slot(t, idx, legacy)),
            Metric::IncGpc { idx, legacy } => add_gpc(t, e, idx, legacy, 1, now) as i64,
            Metric::ClrGpc { idx, legacy } => {
                let slot = gpc_slots(t, idx, legacy).0;
                let before = read(slot);
                if let Some(s) = slot {
                    e.write()[s] = Slot::Uint(0);
                    t.touch(e, now, true);
                }
                before
            }
            Metric::ServerId => read(t.layout.slot(DataType::ServerId, 0)),
            Metric::Trackers => i64::from(e.refs()),
            Metric::Expire => remain(),
            Metric::Idle => i64::from(t.expire) - remain(),
            Metric::UpdtConnCnt => {
                add(t, e, now, &[DataType::ConnCnt], &[], 1);
                read(t.layout.slot(DataType::ConnCnt, 0))
            }
            Metric::Tracked | Metric::Present => 1,
            Metric::Available | Metric::Used => 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn names_and_arguments() {
        let f = TableRead::fetch("sc_http_req_rate", &s(&["1"])).unwrap();
        assert_eq!(
            (f.source, f.metric, f.table),
            (
                Source::Counter(1),
                Metric::Rate(DataType::HttpReqRate),
                None
            )
        );
        let f = TableRead::fetch("sc_get_gpc", &s(&["2", "1", "t"])).unwrap();
        assert_eq!(
            (f.source, f.metric, f.table.as_deref()),
            (
                Source::Counter(1),
                Metric::Gpc {
                    idx: 2,
                    legacy: false
                },
                Some("t")
            )
        );
        let f = TableRead::fetch("sc2_inc_gpc1", &[]).unwrap();
        assert_eq!(
            (f.source, f.metric),
            (
                Source::Counter(2),
                Metric::IncGpc {
                    idx: 1,
                    legacy: true
                }
            )
        );
        let f = with_default_table(Some("fe"), || TableRead::fetch("src_kbytes_in", &[])).unwrap();
        assert_eq!(f.table.as_deref(), Some("fe"));
        let c = TableRead::converter("table_expire", &s(&["t", "-1"])).unwrap();
        assert_eq!((c.metric, c.default), (Metric::Expire, Some(-1)));
        let c = TableRead::converter("table_gpc_rate", &s(&["3", "t"])).unwrap();
        assert_eq!(c.table.as_deref(), Some("t"));
        assert!(TableRead::fetch("src_port", &[]).is_none());
        assert!(TableRead::fetch("src_is_local", &[]).is_none());
        assert!(TableRead::converter("table_inc_gpc0", &[]).is_none());
    }
}
