//! `tune.vars.*-max-size`: variable memory counted per scope as HAProxy counts it. A variable
//! takes its entry (what HAProxy's `struct var` is on a 64-bit build) plus the bytes of a
//! text or binary value; each scope's count includes the scopes inside it (a `req.` variable
//! counts for its stream's `reqres`, `txn` and session counts and for the process count), and
//! a count is kept only when a limit needs it. A new variable whose entry does not fit is not
//! made; a value whose bytes do not fit leaves the variable without a value.

use crate::sample::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use hapee_compiler::plan::var_limits::VarLimits;

/// The bytes of a variable's entry in HAProxy's count (list links, name hash, flags, sample).
pub const ENTRY: u64 = 80;

/// The bytes a value adds to its entry.
pub fn data_size(v: &Value) -> u64 {
    match v {
        Value::Str(s) => s.len() as u64,
        Value::Bin(b) => b.len() as u64,
        _ => 0,
    }
}

/// The scope a variable name starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Proc,
    Sess,
    Txn,
    /// `req.` and `res.`, counted together.
    ReqRes,
    /// `check.` (limited per health check, [`CheckVars`]) and anything else.
    Other,
}

impl Scope {
    pub fn of(name: &str) -> Scope {
        match name.split_once('.').map_or("", |(s, _)| s) {
            "proc" => Scope::Proc,
            "sess" => Scope::Sess,
            "txn" => Scope::Txn,
            "req" | "res" => Scope::ReqRes,
            _ => Scope::Other,
        }
    }
}

/// The bytes a stream's variables take, per scope: each count includes the inner scopes'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamSizes {
    pub reqres: u64,
    pub txn: u64,
    pub sess: u64,
}

impl StreamSizes {
    /// Counts variables (name, value), as a stream holds them.
    pub fn of<'a>(vars: impl Iterator<Item = (&'a String, &'a Value)>) -> StreamSizes {
        let mut s = StreamSizes::default();
        for (name, value) in vars {
            let size = ENTRY + data_size(value);
            match Scope::of(name) {
                Scope::ReqRes => {
                    s.reqres += size;
                    s.txn += size;
                    s.sess += size;
                }
                Scope::Txn => {
                    s.txn += size;
                    s.sess += size;
                }
                Scope::Sess => s.sess += size,
                Scope::Proc | Scope::Other => {}
            }
        }
        s
    }

    /// Whether `extra` more bytes in `scope` stay within the stream's and session's limits.
    pub fn fits(&self, limits: &VarLimits, scope: Scope, extra: u64) -> bool {
        let over = |limit: u32, size: u64| limit != 0 && size + extra > u64::from(limit);
        match scope {
            Scope::ReqRes => {
                !over(limits.reqres, self.reqres)
                    && !over(limits.txn, self.txn)
                    && !over(limits.sess, self.sess)
            }
            Scope::Txn => !over(limits.txn, self.txn) && !over(limits.sess, self.sess),
            Scope::Sess => !over(limits.sess, self.sess),
            Scope::Proc | Scope::Other => true,
        }
    }
}

/// The process count: every variable of every scope, kept while a process or global limit
/// is set.
#[derive(Debug, Default)]
pub struct ProcessCount {
    bytes: Arc<AtomicU64>,
    /// The smaller of the process and global limits (they are counted alike); 0: none.
    limit: u64,
}

impl ProcessCount {
    pub fn new(limits: &VarLimits) -> ProcessCount {
        let limit = [limits.proc, limits.global]
            .into_iter()
            .filter(|l| *l != 0)
            .min()
            .map_or(0, u64::from);
        ProcessCount {
            bytes: Arc::default(),
            limit,
        }
    }

    /// A holder's share, counted against this count when it has a limit.
    pub fn share(&self) -> Share {
        Share {
            count: (self.limit != 0).then(|| (self.bytes.clone(), self.limit)),
            held: AtomicU64::new(0),
        }
    }

    /// The bytes counted now.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The bytes one holder (a stream, a session, the process's own variables) has added to the
/// process count, given back when the holder goes.
#[derive(Debug, Default)]
pub struct Share {
    count: Option<(Arc<AtomicU64>, u64)>,
    /// Atomic only because the process's own share sits in the shared state.
    held: AtomicU64,
}

impl Share {
    /// Adds `n` bytes when the process limit leaves room for them (reserving them in one step,
    /// so that two threads cannot both take the last room); whether it did.
    pub fn grow(&self, n: u64) -> bool {
        let Some((bytes, limit)) = &self.count else {
            return true;
        };
        let reserved = bytes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
            (now + n <= *limit).then_some(now + n)
        });
        if reserved.is_ok() {
            self.held.fetch_add(n, Ordering::Relaxed);
        }
        reserved.is_ok()
    }

    /// Adds `n` bytes whatever the limit (bytes counted before and given back too early).
    pub fn force_grow(&self, n: u64) {
        if let Some((bytes, _)) = &self.count {
            bytes.fetch_add(n, Ordering::AcqRel);
            self.held.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Gives `n` bytes back (at most what this holder has).
    pub fn shrink(&self, n: u64) {
        let Some((bytes, _)) = &self.count else {
            return;
        };
        let n = n.min(self.held());
        self.held.fetch_sub(n, Ordering::Relaxed);
        bytes.fetch_sub(n, Ordering::AcqRel);
    }

    /// Moves up to `n` of this holder's bytes to `to` (the count is unchanged): a session's
    /// variables go from its request to the session between requests, and back.
    pub fn hand_over(&self, to: &mut Share, n: u64) {
        let Some(count) = &self.count else { return };
        if to.count.is_none() {
            to.count = Some(count.clone());
        }
        let n = n.min(self.held());
        self.held.fetch_sub(n, Ordering::Relaxed);
        to.held.fetch_add(n, Ordering::Relaxed);
    }

    /// The bytes this holder has added.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Some((bytes, _)) = &self.count {
            bytes.fetch_sub(self.held.load(Ordering::Relaxed), Ordering::AcqRel);
        }
    }
}

/// What storing a value in a variable comes to under the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room {
    /// Stored; the process count has taken the difference.
    Stored,
    /// A new variable whose entry does not fit: nothing changes.
    Refused,
    /// The entry fits but not the value's bytes: the variable is left without a value (HAProxy
    /// frees the old value then and keeps a valueless entry; here the variable is unset, and
    /// the process count has given back its bytes).
    Emptied,
}

impl StreamSizes {
    /// These sizes with `n` bytes of `scope` taken off.
    fn without(mut self, scope: Scope, n: u64) -> StreamSizes {
        let sub = |v: &mut u64| *v = v.saturating_sub(n);
        match scope {
            Scope::ReqRes => {
                sub(&mut self.reqres);
                sub(&mut self.txn);
                sub(&mut self.sess);
            }
            Scope::Txn => {
                sub(&mut self.txn);
                sub(&mut self.sess);
            }
            Scope::Sess => sub(&mut self.sess),
            Scope::Proc | Scope::Other => {}
        }
        self
    }
}

/// A variable as a set finds it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Slot<'a> {
    /// Its value, if it has one.
    pub value: Option<&'a Value>,
    /// Whether its entry exists (with or without a value): a process-wide variable the
    /// configuration names has one from the start, and keeps it.
    pub permanent: bool,
}

impl<'a> Slot<'a> {
    pub fn of(value: Option<&'a Value>) -> Slot<'a> {
        Slot {
            value,
            permanent: false,
        }
    }

    fn has_entry(&self) -> bool {
        self.value.is_some() || self.permanent
    }

    /// What the variable gives back when it loses its value.
    pub fn freed(&self) -> u64 {
        let entry = if self.permanent { 0 } else { ENTRY };
        self.value.map_or(0, |v| entry + data_size(v))
    }
}

/// Stores `new` in the variable `slot` describes, for a holder whose variables take `sizes`
/// (the process's own have none), as HAProxy does: the entry first, then the old bytes freed
/// and the new ones taken.
pub fn make_room(
    limits: &VarLimits,
    share: &Share,
    sizes: StreamSizes,
    scope: Scope,
    slot: Slot,
    new: &Value,
) -> Room {
    let entry = if slot.has_entry() { 0 } else { ENTRY };
    if !sizes.fits(limits, scope, entry) {
        return Room::Refused;
    }
    let old_data = slot.value.map_or(0, data_size);
    let new_data = data_size(new);
    let data_fits = sizes
        .without(scope, old_data)
        .fits(limits, scope, entry + new_data);
    // The process count, in one step each way so that threads cannot overshoot it together.
    if data_fits {
        if new_data + entry >= old_data {
            if share.grow(new_data + entry - old_data) {
                return Room::Stored;
            }
        } else {
            share.shrink(old_data - new_data - entry);
            return Room::Stored;
        }
    }
    if entry != 0 && !share.grow(ENTRY) {
        return Room::Refused;
    }
    // Left without a value, the variable gives back what it held (and the entry it was just
    // given).
    share.shrink(slot.freed() + entry);
    Room::Emptied
}

/// `tune.vars.check-max-size` in bytes (0: none), for the checks started from now on.
static CHECK_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Keeps the plan's `tune.vars.check-max-size`.
pub fn set_check_limit(limits: &VarLimits) {
    CHECK_LIMIT.store(u64::from(limits.check), Ordering::Relaxed);
}

/// The bytes one health check's `check.` variables take, and which of them have an entry
/// (a variable whose value did not fit keeps its entry, without a value, as in HAProxy).
#[derive(Debug, Default)]
pub struct CheckVars {
    bytes: u64,
    entries: std::collections::HashSet<String>,
}

impl CheckVars {
    /// Counts `name` taking `new` in place of `old`: whether the value fits (when it does
    /// not, the variable is left without a value).
    pub fn set(&mut self, name: &str, old: Option<&Value>, new: &Value) -> bool {
        let limit = CHECK_LIMIT.load(Ordering::Relaxed);
        if limit == 0 || Scope::of(name) != Scope::Other || !name.starts_with("check.") {
            return true;
        }
        if !self.entries.contains(name) {
            if self.bytes + ENTRY > limit {
                return false;
            }
            self.bytes += ENTRY;
            self.entries.insert(name.to_string());
        }
        self.bytes -= old.map_or(0, data_size).min(self.bytes);
        let size = data_size(new);
        if self.bytes + size > limit {
            return false;
        }
        self.bytes += size;
        true
    }

    /// Gives back what `name` took.
    pub fn unset(&mut self, name: &str, old: Option<&Value>) {
        if self.entries.remove(name) {
            self.bytes = self.bytes.saturating_sub(ENTRY + old.map_or(0, data_size));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(txn: u32, proc: u32) -> VarLimits {
        VarLimits {
            txn,
            proc,
            ..VarLimits::default()
        }
    }

    #[test]
    fn an_entry_and_its_bytes_are_counted_in_two_steps() {
        let s = |t: &str| Value::Str(t.into());
        let l = limits(100, 0);
        let share = Share::default();
        let empty = StreamSizes::default();
        // 80 + 20 fits 100 exactly; one byte more leaves the variable without a value.
        let twenty = s(&"a".repeat(20));
        assert_eq!(
            make_room(&l, &share, empty, Scope::Txn, Slot::of(None), &twenty),
            Room::Stored
        );
        let one_more = s(&"a".repeat(21));
        assert_eq!(
            make_room(&l, &share, empty, Scope::Txn, Slot::of(None), &one_more),
            Room::Emptied
        );
        // A second entry does not fit beside the first.
        let full = StreamSizes {
            reqres: 0,
            txn: 100,
            sess: 100,
        };
        assert_eq!(
            make_room(&l, &share, full, Scope::Txn, Slot::of(None), &Value::Int(1)),
            Room::Refused
        );
        // Replacing frees the old bytes first.
        assert_eq!(
            make_room(
                &l,
                &share,
                full,
                Scope::Txn,
                Slot::of(Some(&twenty)),
                &s("b")
            ),
            Room::Stored
        );
        // `sess` variables are not held to the stream's limits.
        assert_eq!(
            make_room(
                &l,
                &share,
                full,
                Scope::Sess,
                Slot::of(None),
                &Value::Int(1)
            ),
            Room::Stored
        );
    }

    #[test]
    fn the_process_count_is_reserved_and_given_back() {
        let count = ProcessCount::new(&limits(0, 200));
        let a = count.share();
        let b = count.share();
        let l = limits(0, 200);
        let empty = StreamSizes::default();
        let v = Value::Str("x".repeat(20));
        assert_eq!(
            make_room(&l, &a, empty, Scope::Txn, Slot::of(None), &v),
            Room::Stored
        );
        assert_eq!(
            make_room(&l, &b, empty, Scope::Txn, Slot::of(None), &v),
            Room::Stored
        );
        assert_eq!(count.bytes(), 200);
        assert_eq!(
            make_room(&l, &b, empty, Scope::Txn, Slot::of(None), &Value::Int(0)),
            Room::Refused
        );
        drop(a);
        assert_eq!(count.bytes(), 100);
        b.shrink(ENTRY + 20);
        assert_eq!(count.bytes(), 0);
    }
}
