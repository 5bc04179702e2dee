//! One cache's storage (sans-I/O): complete responses by primary key (and, for responses that
//! vary, by secondary key), shared by every thread behind one lock, within the memory its
//! `total-max-size` gives and evicting the least recently used entries first.

use super::vary::SecondaryKey;
use bytes::Bytes;
use hyper::HeaderMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The primary key: a SHA-1 of the request's scheme, host and URI.
pub type Key = [u8; 20];

/// What an entry costs besides its headers and body (its bookkeeping), so that many small
/// entries cannot hold more memory than the limit says.
const ENTRY_OVERHEAD: usize = 128;

/// A stored response.
#[derive(Debug)]
pub struct Entry {
    pub key: Key,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The ETag, for `If-None-Match`.
    pub etag: Option<String>,
    /// What `If-Modified-Since` is compared to (seconds since the epoch).
    pub last_modified: u64,
    /// When it was stored, and the `Age` the server gave it (seconds).
    pub stored_at: u64,
    pub origin_age: u64,
    /// When it stops being served (seconds since the epoch).
    pub expire: u64,
    /// The request headers it varies on (`vary::*` bits), and its secondary key.
    pub signature: u8,
    pub secondary: SecondaryKey,
}

impl Entry {
    /// The memory it is counted for.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum();
        ENTRY_OVERHEAD + headers + self.body.len()
    }

    /// The `Age` of the response served from it `now`.
    pub fn age(&self, now: u64) -> u64 {
        (now.saturating_sub(self.stored_at) + self.origin_age).min(1 << 31)
    }
}

struct Slot {
    id: u64,
    entry: Arc<Entry>,
    /// Its place in the recency order.
    used: u64,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<Key, Vec<Slot>>,
    /// Recency order: use tick → (key, id); the first is the least recently used.
    recency: BTreeMap<u64, (Key, u64)>,
    bytes: usize,
    tick: u64,
}

impl Inner {
    fn touch(&mut self, key: &Key, id: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(slot) = self
            .by_key
            .get_mut(key)
            .and_then(|v| v.iter_mut().find(|s| s.id == id))
        {
            self.recency.remove(&slot.used);
            slot.used = tick;
            self.recency.insert(tick, (*key, id));
        }
    }

    fn remove(&mut self, key: &Key, id: u64) {
        let Some(slots) = self.by_key.get_mut(key) else {
            return;
        };
        if let Some(i) = slots.iter().position(|s| s.id == id) {
            let slot = slots.swap_remove(i);
            self.recency.remove(&slot.used);
            self.bytes -= slot.entry.size();
        }
        if slots.is_empty() {
            self.by_key.remove(key);
        }
    }

    fn evict_oldest(&mut self) -> bool {
        let Some((_, (key, id))) = self.recency.pop_first() else {
            return false;
        };
        // `remove` finds the slot by id; its recency mark is already gone.
        if let Some(slots) = self.by_key.get_mut(&key) {
            if let Some(i) = slots.iter().position(|s| s.id == id) {
                let slot = slots.swap_remove(i);
                self.bytes -= slot.entry.size();
            }
            if slots.is_empty() {
                self.by_key.remove(&key);
            }
        }
        true
    }
}

/// Why a response was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Larger than `max-object-size`, or than the whole cache.
    TooLarge,
    /// `max-secondary-entries` variants of its URL are stored already.
    TooManyVariants,
}

pub struct Store {
    capacity: usize,
    max_object: usize,
    max_variants: usize,
    inner: Mutex<Inner>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Store {
    pub fn new(capacity: u64, max_object: u64, max_variants: u32) -> Store {
        Store {
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            max_object: usize::try_from(max_object).unwrap_or(usize::MAX),
            max_variants: max_variants.max(1) as usize,
            inner: Mutex::new(Inner::default()),
            next_id: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The lock guards plain bookkeeping: a panic elsewhere leaves it consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The largest object stored.
    pub fn max_object(&self) -> usize {
        self.max_object
    }

    /// The fresh entry for `key` whose variant serves a request with secondary key `request`
    /// (`None` for a request whose headers cannot be keyed), counted as used.
    pub fn lookup(
        &self,
        key: &Key,
        request: Option<&SecondaryKey>,
        now: u64,
    ) -> Option<Arc<Entry>> {
        let mut inner = self.lock();
        let slots = inner.by_key.get(key)?;
        let found = slots.iter().find(|s| {
            s.entry.expire > now
                && match (s.entry.signature, request) {
                    (0, _) => true,
                    (sig, Some(r)) => s.entry.secondary.serves(&r.reduce(sig)),
                    (_, None) => false,
                }
        })?;
        let (id, entry) = (found.id, found.entry.clone());
        inner.touch(key, id);
        Some(entry)
    }

    /// Stores a complete response, replacing the variant it supersedes and evicting the least
    /// recently used entries to make room.
    pub fn insert(&self, entry: Entry, now: u64) -> Result<(), Refused> {
        let size = entry.size();
        if size > self.max_object || size > self.capacity {
            return Err(Refused::TooLarge);
        }
        let key = entry.key;
        let mut inner = self.lock();
        // The variant this one replaces, and the expired ones, go first.
        let stale: Vec<u64> = inner.by_key.get(&key).map_or_else(Vec::new, |slots| {
            slots
                .iter()
                .filter(|s| {
                    s.entry.expire <= now
                        || (s.entry.signature == entry.signature
                            && s.entry.secondary == entry.secondary)
                })
                .map(|s| s.id)
                .collect()
        });
        for id in stale {
            inner.remove(&key, id);
        }
        if entry.signature != 0 && inner.by_key.get(&key).map_or(0, Vec::len) >= self.max_variants {
            return Err(Refused::TooManyVariants);
        }
        while inner.bytes + size > self.capacity && inner.evict_oldest() {}
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        inner.tick += 1;
        let used = inner.tick;
        inner.recency.insert(used, (key, id));
        inner.bytes += size;
        inner.by_key.entry(key).or_default().push(Slot {
            id,
            entry: Arc::new(entry),
            used,
        });
        Ok(())
    }

    /// Drops every stored variant of `key` (a successful unsafe request changed it).
    pub fn invalidate(&self, key: &Key) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner
            .by_key
            .get(key)
            .map_or_else(Vec::new, |s| s.iter().map(|s| s.id).collect());
        for id in ids {
            inner.remove(key, id);
        }
    }

    /// The memory used, in bytes.
    pub fn used(&self) -> usize {
        self.lock().bytes
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The fresh entries, least recently used first.
    pub fn fresh(&self, now: u64) -> Vec<Arc<Entry>> {
        let inner = self.lock();
        inner
            .recency
            .values()
            .filter_map(|(key, id)| {
                inner
                    .by_key
                    .get(key)
                    .and_then(|v| v.iter().find(|s| s.id == *id))
            })
            .filter(|s| s.entry.expire > now)
            .map(|s| s.entry.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: u8, body: usize, expire: u64) -> Entry {
        Entry {
            key: [key; 20],
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; body]),
            etag: None,
            last_modified: 0,
            stored_at: 0,
            origin_age: 0,
            expire,
            signature: 0,
            secondary: SecondaryKey::default(),
        }
    }

    #[test]
    fn the_least_recently_used_entry_makes_room() {
        let size = entry(0, 1000, 10).size();
        let store = Store::new(size as u64 * 3, size as u64, 10);
        for k in 1..=3 {
            store.insert(entry(k, 1000, 10), 0).unwrap();
        }
        // Using 1 makes 2 the oldest.
        assert!(store.lookup(&[1; 20], None, 0).is_some());
        store.insert(entry(4, 1000, 10), 0).unwrap();
        assert!(store.lookup(&[2; 20], None, 0).is_none());
        for k in [1, 3, 4] {
            assert!(store.lookup(&[k; 20], None, 0).is_some(), "{k}");
        }
        assert!(store.used() <= store.capacity());
    }

    #[test]
    fn objects_over_the_limit_and_expired_entries_are_not_served() {
        let store = Store::new(1 << 20, 2048, 10);
        assert_eq!(store.insert(entry(1, 4096, 10), 0), Err(Refused::TooLarge));
        store.insert(entry(2, 100, 10), 0).unwrap();
        assert!(store.lookup(&[2; 20], None, 9).is_some());
        assert!(store.lookup(&[2; 20], None, 10).is_none());
        assert!(store.fresh(10).is_empty());
        store.invalidate(&[2; 20]);
        assert_eq!(store.used(), 0);
    }

    #[test]
    fn variants_are_bounded_per_url() {
        let store = Store::new(1 << 20, 1 << 16, 2);
        for referer in 1..=3u64 {
            let mut e = entry(1, 10, 10);
            e.signature = super::super::vary::REFERER;
            e.secondary.referer = referer;
            let r = store.insert(e, 0);
            assert_eq!(r.is_ok(), referer <= 2, "{referer}");
        }
        let wanted = SecondaryKey {
            referer: 2,
            ..Default::default()
        };
        assert!(store.lookup(&[1; 20], Some(&wanted), 0).is_some());
    }
}
