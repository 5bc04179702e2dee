//! The changes of a shared table waiting to be taught to peers: each local change of an entry
//! gets the next update id (a later change of the same entry replaces its earlier id), and
//! each peer link walks the ids past the last one it sent.

use super::key::Key;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Updates {
    last: u32,
    by_id: BTreeMap<u32, Key>,
    id_of: FxHashMap<Key, u32>,
}

impl Updates {
    /// Records a change of `key`.
    pub fn push(&mut self, key: Key) {
        self.last += 1;
        if let Some(old) = self.id_of.insert(key.clone(), self.last) {
            self.by_id.remove(&old);
        }
        self.by_id.insert(self.last, key);
    }

    /// Drops the pending change of a key removed from its table.
    pub fn forget(&mut self, key: &[u8]) {
        if let Some(id) = self.id_of.remove(key) {
            self.by_id.remove(&id);
        }
    }

    /// The id of the latest change.
    pub fn last(&self) -> u32 {
        self.last
    }

    /// Up to `max` changes after id `after`, oldest first.
    pub fn after(&self, after: u32, max: usize) -> Vec<(u32, Key)> {
        self.by_id
            .range(after.saturating_add(1)..)
            .take(max)
            .map(|(id, k)| (*id, k.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_changed_twice_is_sent_once_at_its_latest_id() {
        let mut u = Updates::default();
        for k in [b"a", b"b", b"a"] {
            u.push(k[..].into());
        }
        let ids: Vec<(u32, Vec<u8>)> = u
            .after(0, 10)
            .into_iter()
            .map(|(i, k)| (i, k.to_vec()))
            .collect();
        assert_eq!(ids, [(2, b"b".to_vec()), (3, b"a".to_vec())]);
        assert_eq!(u.after(2, 10).len(), 1);
        assert_eq!(u.last(), 3);
        u.forget(b"b");
        assert_eq!(u.after(0, 10).len(), 1);
    }
}
