//! Stick tables (sans-I/O, the time is always given): keys, the 2.7 data types and their
//! layout, HAProxy's rate counters, sharded tables with read-write locks, the changes kept
//! for peers, tracking from rules (`track-sc*`, `sc-*` actions, `sc_*`/`src_*` fetches and
//! `table_*` converters), and `show table` as HAProxy prints it.

pub mod action;
pub mod cli;
pub mod data;
pub mod fetch;
pub mod freq;
pub mod key;
pub mod show;
pub mod stick;
pub mod table;
pub mod track;
pub mod updates;

pub use table::{Entry, Table};

use hapee_compiler::plan::tables::StickTablePlan;
use rustc_hash::FxHashMap;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// A table plan as tests declare one: `name` with a 4-byte key of type `key`, and `stores`
/// as `(data type, elements, period)`; not shared through peers, purged, not sharded.
#[cfg(test)]
pub(crate) fn test_plan(
    name: &str,
    key: hapee_compiler::plan::tables::KeyType,
    size: u64,
    expire: Option<u32>,
    stores: &[(&str, u32, u32)],
) -> StickTablePlan {
    StickTablePlan {
        name: name.into(),
        network_name: name.into(),
        key,
        key_size: 4,
        size,
        expire,
        nopurge: false,
        peers: None,
        srvkey_addr: false,
        write_to: None,
        shards: 0,
        stores: stores
            .iter()
            .map(
                |&(name, elements, period)| hapee_compiler::plan::tables::StorePlan {
                    name: name.into(),
                    elements,
                    period,
                },
            )
            .collect(),
    }
}

/// Every table of the configuration, by name.
#[derive(Debug, Default)]
pub struct Tables {
    list: Vec<Arc<Table>>,
    by_name: FxHashMap<String, usize>,
}

impl Tables {
    pub fn build(plans: &[StickTablePlan]) -> Result<Tables, Vec<String>> {
        let mut tables = Tables::default();
        let mut problems = Vec::new();
        for p in plans {
            if tables.by_name.contains_key(&p.name) {
                continue;
            }
            match Table::new(p) {
                Ok(t) => {
                    tables.by_name.insert(p.name.clone(), tables.list.len());
                    tables.list.push(Arc::new(t));
                }
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(tables)
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Table>> {
        self.by_name.get(name).map(|&i| &self.list[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Table>> {
        self.list.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Removes expired entries from every table.
    pub fn purge_expired(&self, now: u64) {
        for t in &self.list {
            t.purge_expired(now);
        }
    }
}

/// The tables' clock in ms. It starts at the wall-clock time in ms, as HAProxy's `now_ms`
/// does, so that its 32-bit ticks (rate counters, peers) are far from 0 and wrap as HAProxy's.
pub fn now_ms() -> u64 {
    static START: OnceLock<(Instant, u64)> = OnceLock::new();
    thread_local! {
        /// The last reading converted: a request reads this clock several times in one
        /// round of its thread (`crate::clock`), where the reading does not change.
        static LAST: Cell<Option<(Instant, u64)>> = const { Cell::new(None) };
    }
    let now = crate::clock::now();
    LAST.with(|last| match last.get() {
        Some((at, ms)) if at == now => ms,
        _ => {
            let (start, base) = START.get_or_init(|| {
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                (Instant::now(), wall)
            });
            let ms = base + now.saturating_duration_since(*start).as_millis() as u64;
            last.set(Some((now, ms)));
            ms
        }
    })
}

/// The 32-bit tick of a table clock reading.
pub fn tick(now: u64) -> u32 {
    now as u32
}
