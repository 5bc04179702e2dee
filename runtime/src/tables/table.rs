//! One stick table (sans-I/O: every call takes the time): entries spread over shards by key
//! hash, each shard behind a read-write lock (lookups share it; only inserting and removing
//! entries take it exclusively), each entry's data behind its own lock. Entries expire
//! `expire` ms after their last touch; a full table makes room by dropping the entries that
//! expire first among those no session tracks, as HAProxy does (nothing when `nopurge`).

use super::data::{Layout, Slot};
use super::key::Key;
use super::updates::Updates;
use hapee_compiler::plan::tables::{KeyType, StickTablePlan};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Shards per table: enough for the threads of a busy machine to rarely meet on one.
const SHARDS: usize = 16;

/// One entry: its key, when it expires, who tracks it, and its data.
#[derive(Debug)]
pub struct Entry {
    pub key: Key,
    /// Expiry date, in ms on the table's clock.
    expire: AtomicU64,
    /// Trackers holding the entry (HAProxy's `ref_cnt`): a held entry is never removed.
    refs: AtomicU32,
    data: RwLock<Vec<Slot>>,
}

impl Entry {
    pub fn expire(&self) -> u64 {
        self.expire.load(Ordering::Relaxed)
    }

    pub fn refs(&self) -> u32 {
        self.refs.load(Ordering::Relaxed)
    }

    pub fn hold(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }

    pub fn release(&self) {
        let _ = self
            .refs
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1));
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Vec<Slot>> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Vec<Slot>> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct Shard {
    map: FxHashMap<Key, Arc<Entry>>,
    /// Entries by the expiry they were queued with. Touching an entry only moves its date;
    /// the queue is corrected when its head is visited, as HAProxy's expiry tree is.
    exps: BTreeMap<(u64, u64), Key>,
    seq: u64,
}

impl Shard {
    fn queue(&mut self, expire: u64, key: Key) {
        self.seq += 1;
        self.exps.insert((expire, self.seq), key);
    }
}

pub struct Table {
    pub name: String,
    pub network_name: String,
    pub key_type: KeyType,
    pub key_size: usize,
    pub size: u64,
    /// Lifetime of an untouched entry in ms; 0: forever.
    pub expire: u32,
    pub nopurge: bool,
    pub peers: Option<String>,
    /// `srvkey addr`: stickiness keeps the server's address rather than its name.
    pub srvkey_addr: bool,
    /// `shards` of its peers section (0: none), and the seed of the keys' shard hash.
    pub peer_shards: u32,
    hash_seed: u64,
    pub layout: Layout,
    shards: Box<[RwLock<Shard>]>,
    current: AtomicU64,
    /// Changes to send to peers (only kept for a table shared through a peers section).
    pub updates: Option<Mutex<Updates>>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("name", &self.name).finish()
    }
}

fn shard_of(key: &[u8]) -> usize {
    // The map inside the shard hashes the same key: use other bits to pick the shard.
    (rustc_hash::FxBuildHasher.hash_one(key) >> 59) as usize % SHARDS
}

impl Table {
    pub fn new(plan: &StickTablePlan) -> Result<Table, String> {
        let layout =
            Layout::new(&plan.stores).map_err(|e| format!("stick-table '{}': {e}", plan.name))?;
        Ok(Table {
            name: plan.name.clone(),
            network_name: plan.network_name.clone(),
            key_type: plan.key,
            key_size: plan.key_size as usize,
            size: plan.size.max(1),
            expire: plan.expire.unwrap_or(0),
            nopurge: plan.nopurge,
            peers: plan.peers.clone(),
            srvkey_addr: plan.srvkey_addr,
            peer_shards: plan.shards,
            hash_seed: xxhash_rust::xxh64::xxh64(plan.name.as_bytes(), 0),
            layout,
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            current: AtomicU64::new(0),
            updates: plan.peers.as_ref().map(|_| Mutex::new(Updates::default())),
        })
    }

    /// The peers shard of a key (1 to `shards`, 0 when unsharded), as HAProxy computes it:
    /// XXH64 of the key as HAProxy stores it (integers in the machine's byte order, strings
    /// without their end) seeded with the XXH64 of the table's name.
    pub fn peer_shard(&self, key: &[u8]) -> u32 {
        if self.peer_shards == 0 {
            return 0;
        }
        let native;
        let bytes = match self.key_type {
            KeyType::Integer if key.len() == 4 => {
                native = u32::from_be_bytes([key[0], key[1], key[2], key[3]]).to_ne_bytes();
                &native[..]
            }
            _ => key,
        };
        (xxhash_rust::xxh64::xxh64(bytes, self.hash_seed) % u64::from(self.peer_shards)) as u32 + 1
    }

    fn shard(&self, key: &[u8]) -> &RwLock<Shard> {
        &self.shards[shard_of(key)]
    }

    fn expiry_from(&self, now: u64) -> u64 {
        now + u64::from(self.expire)
    }

    fn is_expired(&self, e: &Entry, now: u64) -> bool {
        self.expire != 0 && e.expire() <= now && e.refs() == 0
    }

    /// The ms left before `e` expires, 0 for a table whose entries never do (HAProxy's
    /// `tick_remain` on an eternal date).
    pub fn remaining(&self, e: &Entry, now: u64) -> u64 {
        if self.expire == 0 {
            0
        } else {
            e.expire().saturating_sub(now)
        }
    }

    /// Entries in the table.
    pub fn used(&self) -> u64 {
        self.current.load(Ordering::Relaxed)
    }

    /// The live entry of `key`, if any (a read lock only).
    pub fn lookup(&self, key: &[u8], now: u64) -> Option<Arc<Entry>> {
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        let e = shard.map.get(key)?;
        (!self.is_expired(e, now)).then(|| e.clone())
    }

    /// The entry of `key`, created when missing; `None` when the table is full and nothing
    /// can be dropped to make room.
    pub fn get_or_create(&self, key: &[u8], now: u64) -> Option<Arc<Entry>> {
        if let Some(e) = self.lookup(key, now) {
            return Some(e);
        }
        if self.current.fetch_add(1, Ordering::Relaxed) >= self.size {
            // HAProxy drops a batch of size/256 + 1 of the oldest entries at once.
            if self.nopurge || self.trash_oldest((self.size >> 8) + 1) == 0 {
                self.current.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
        }
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = shard.map.get(key).cloned() {
            // Another thread created it meanwhile, or it expired and starts afresh.
            self.current.fetch_sub(1, Ordering::Relaxed);
            if self.is_expired(&e, now) {
                *e.write() = self.layout.zeroed();
                e.expire.store(self.expiry_from(now), Ordering::Relaxed);
            }
            return Some(e);
        }
        let expire = self.expiry_from(now);
        let entry = Arc::new(Entry {
            key: key.into(),
            expire: AtomicU64::new(expire),
            refs: AtomicU32::new(0),
            data: RwLock::new(self.layout.zeroed()),
        });
        shard.map.insert(key.into(), entry.clone());
        shard.queue(expire, key.into());
        Some(entry)
    }

    /// Pushes the entry's expiry `expire` ms after `now` and, for a shared table, queues it
    /// for the peers (`local`: the change was made here, not learnt from a peer).
    pub fn touch(&self, e: &Entry, now: u64, local: bool) {
        if self.expire != 0 {
            e.expire.store(self.expiry_from(now), Ordering::Relaxed);
        }
        if let (Some(updates), true) = (&self.updates, local) {
            updates
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(e.key.clone());
        }
    }

    /// Sets the expiry date (for entries learnt from peers with their remaining time).
    pub fn set_expire(&self, e: &Entry, expire: u64) {
        e.expire.store(expire, Ordering::Relaxed);
    }

    /// Drops up to `batch` unreferenced entries, those expiring first across shards; answers
    /// how many went. Entries touched since they were queued move to their real date first
    /// (a second pass sees them there), tracked ones stay.
    pub fn trash_oldest(&self, batch: u64) -> u64 {
        let mut dropped = 0;
        for _pass in 0..2 {
            // The oldest queued dates of every shard, oldest first overall.
            let mut candidates: Vec<((u64, u64), usize)> = Vec::new();
            for (i, s) in self.shards.iter().enumerate() {
                let s = s.read().unwrap_or_else(|e| e.into_inner());
                let take = (batch * 2) as usize;
                candidates.extend(s.exps.keys().take(take).map(|k| (*k, i)));
            }
            candidates.sort_unstable();
            for (queued, i) in candidates {
                if dropped >= batch {
                    return dropped;
                }
                let mut shard = self.shards[i].write().unwrap_or_else(|e| e.into_inner());
                let Some(key) = shard.exps.get(&queued).cloned() else {
                    continue;
                };
                let Some(e) = shard.map.get(&key).cloned() else {
                    shard.exps.remove(&queued);
                    continue;
                };
                if e.expire() != queued.0 {
                    shard.exps.remove(&queued);
                    shard.queue(e.expire(), key);
                } else if e.refs() == 0 {
                    shard.exps.remove(&queued);
                    shard.map.remove(&key);
                    self.forget(&key);
                    dropped += 1;
                    self.current.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        dropped
    }

    /// Visits the head of a shard's queue when it is due at `now`: requeues it when its
    /// entry's date moved or it is tracked, removes it otherwise. Answers the removed key.
    fn pop_due(shard: &mut Shard, now: u64) -> Option<Key> {
        let (&(queued, seq), _) = shard.exps.iter().next()?;
        if queued > now {
            return None;
        }
        let key = shard.exps.remove(&(queued, seq)).unwrap_or_default();
        let e = shard.map.get(&key).cloned()?;
        let expire = e.expire();
        if expire > now || e.refs() > 0 {
            // Touched since, or tracked: back in the queue at its date, or (tracked and due)
            // just after now, so that the walk goes on.
            shard.queue(expire.max(now + 1), key);
            return None;
        }
        shard.map.remove(&key);
        Some(key)
    }

    /// A removed entry has no change left to send to peers.
    fn forget(&self, key: &[u8]) {
        if let Some(u) = &self.updates {
            u.lock().unwrap_or_else(|e| e.into_inner()).forget(key);
        }
    }

    /// Removes the entries expired at `now` that nobody tracks; answers how many.
    pub fn purge_expired(&self, now: u64) -> u64 {
        if self.expire == 0 {
            return 0;
        }
        let mut dropped = 0;
        for s in self.shards.iter() {
            let due = {
                let s = s.read().unwrap_or_else(|e| e.into_inner());
                s.exps.keys().next().is_some_and(|k| k.0 <= now)
            };
            if !due {
                continue;
            }
            let mut shard = s.write().unwrap_or_else(|e| e.into_inner());
            // Each visit removes a due item from the queue or requeues it after `now`.
            while shard.exps.keys().next().is_some_and(|k| k.0 <= now) {
                if let Some(key) = Self::pop_due(&mut shard, now) {
                    self.forget(&key);
                    dropped += 1;
                }
            }
        }
        self.current.fetch_sub(dropped, Ordering::Relaxed);
        dropped
    }

    /// Removes one entry (`clear table … key`); a tracked entry stays.
    pub fn remove(&self, key: &[u8]) -> bool {
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        match shard.map.get(key) {
            Some(e) if e.refs() == 0 => {
                shard.map.remove(key);
                self.forget(key);
                self.current.fetch_sub(1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Every entry, for dumps (each shard read-locked in turn).
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        let mut out = Vec::new();
        for s in self.shards.iter() {
            let s = s.read().unwrap_or_else(|e| e.into_inner());
            out.extend(s.map.values().cloned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(size: u64, expire: Option<u32>) -> StickTablePlan {
        crate::tables::test_plan("t", KeyType::Integer, size, expire, &[("gpc0", 1, 0)])
    }

    fn k(n: u32) -> Key {
        n.to_be_bytes().into()
    }

    #[test]
    fn entries_expire_after_their_last_touch() {
        let t = Table::new(&plan(10, Some(1000))).unwrap();
        let e = t.get_or_create(&k(1), 0).unwrap();
        t.touch(&e, 500, true);
        assert!(t.lookup(&k(1), 1499).is_some());
        assert!(t.lookup(&k(1), 1500).is_none());
        assert_eq!(t.purge_expired(1000), 0, "touched at 500: due at 1500");
        assert_eq!(t.used(), 1);
        assert_eq!(t.purge_expired(1500), 1);
        assert_eq!(t.used(), 0);
        // A tracked entry outlives its date.
        let e = t.get_or_create(&k(2), 2000).unwrap();
        e.hold();
        assert_eq!(t.purge_expired(5000), 0);
        e.release();
        assert_eq!(t.purge_expired(5001), 1);
    }

    #[test]
    fn a_full_table_drops_the_least_recently_touched_entries() {
        let t = Table::new(&plan(3, Some(10_000))).unwrap();
        for (n, at) in [(1, 0), (2, 10), (3, 20)] {
            t.get_or_create(&k(n), at).unwrap();
        }
        let first = t.lookup(&k(1), 30).unwrap();
        t.touch(&first, 30, true);
        let held = t.lookup(&k(2), 30).unwrap();
        held.hold();
        // Full: 3 (untouched since 20) goes; 1 was touched at 30, 2 is tracked.
        assert!(t.get_or_create(&k(4), 40).is_some());
        assert_eq!(t.used(), 3);
        assert!(t.lookup(&k(3), 40).is_none());
        assert!(t.lookup(&k(1), 40).is_some() && t.lookup(&k(2), 40).is_some());
        // nopurge: a full table refuses new keys.
        let mut p = plan(1, None);
        p.nopurge = true;
        let t = Table::new(&p).unwrap();
        assert!(t.get_or_create(&k(1), 0).is_some());
        assert!(t.get_or_create(&k(2), 0).is_none());
        assert_eq!(t.used(), 1);
    }

    #[test]
    fn shards_share_readers_across_threads() {
        let t = Arc::new(Table::new(&plan(100_000, None)).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for n in 0..1000 {
                        let e = t.get_or_create(&k(n), 0).unwrap();
                        if let Slot::Uint(v) = &mut e.write()[0] {
                            *v += 1;
                        }
                        let _ = i;
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(t.used(), 1000);
        let total: u32 = t
            .entries()
            .iter()
            .map(|e| match e.read()[0] {
                Slot::Uint(v) => v,
                _ => 0,
            })
            .sum();
        assert_eq!(total, 4000);
    }
}
