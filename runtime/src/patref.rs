//! Pattern references (HAProxy's `pat_ref`): the contents of a map or ACL pattern file, loaded
//! once per file and shared by every converter and ACL that names it. The Runtime API changes
//! them (`add/del/set/clear map|acl`); readers on every thread see a change at their next
//! lookup, through an atomically swapped snapshot — no lock on the request path. The registry
//! of files itself is locked only while a configuration is loaded and by the Runtime API.

use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// One key (and value, for maps) of a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A stable identifier, what `show map <file>` prints in front of each entry.
    pub id: u64,
    pub key: String,
    pub value: String,
}

/// Whether a file was loaded for a map converter or for an ACL (`show map` / `show acl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Map,
    Acl,
}

pub struct PatRef {
    /// The `#<id>` of `show map` / `show acl`.
    pub id: u32,
    pub path: String,
    pub kind: Kind,
    entries: ArcSwap<Vec<Entry>>,
    /// Bumped on every change, so that users holding compiled forms know to rebuild them.
    version: AtomicU64,
    next_entry: AtomicU64,
    /// How each ACL using the file reads a pattern: `add acl` refuses one that any of them
    /// cannot read, with its reason.
    checks: Mutex<Vec<Check>>,
}

impl std::fmt::Debug for PatRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatRef")
            .field("id", &self.id)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("entries", &self.entries().len())
            .finish()
    }
}

/// A pattern check: `Some(reason)` when the pattern is not valid.
pub type Check = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl PatRef {
    /// Registers how a user of this file reads its patterns.
    pub fn add_check(&self, check: Check) {
        self.checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(check);
    }

    /// Why `pattern` cannot be added, if a user of the file cannot read it.
    pub fn refusal(&self, pattern: &str) -> Option<String> {
        let checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        checks.iter().find_map(|c| c(pattern))
    }

    pub fn entries(&self) -> arc_swap::Guard<Arc<Vec<Entry>>> {
        self.entries.load()
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn entry(&self, key: &str, value: &str) -> Entry {
        Entry {
            id: self.next_entry.fetch_add(1, Ordering::Relaxed),
            key: key.to_string(),
            value: value.to_string(),
        }
    }

    /// Applies `change` to a copy of the entries and publishes it. Changes come from the
    /// Runtime API thread only; the lock keeps two concurrent clients from losing an edit.
    fn update(&self, change: impl FnOnce(&mut Vec<Entry>) -> bool) -> bool {
        let _one_writer = writer_lock();
        let mut next = (**self.entries.load()).clone();
        let changed = change(&mut next);
        if changed {
            self.entries.store(Arc::new(next));
            self.version.fetch_add(1, Ordering::Release);
        }
        changed
    }

    pub fn add(&self, key: &str, value: &str) {
        let e = self.entry(key, value);
        self.update(|v| {
            v.push(e);
            true
        });
    }

    /// Removes every entry with `key`; false when there was none.
    pub fn delete(&self, key: &str) -> bool {
        self.update(|v| {
            let before = v.len();
            v.retain(|e| e.key != key);
            v.len() != before
        })
    }

    /// Removes the entry `#<id>`.
    pub fn delete_id(&self, id: u64) -> bool {
        self.update(|v| {
            let before = v.len();
            v.retain(|e| e.id != id);
            v.len() != before
        })
    }

    /// Sets the value of every entry with `key`; false when there was none.
    pub fn set(&self, key: &str, value: &str) -> bool {
        self.update(|v| {
            let mut hit = false;
            for e in v.iter_mut().filter(|e| e.key == key) {
                e.value = value.to_string();
                hit = true;
            }
            hit
        })
    }

    pub fn set_id(&self, id: u64, value: &str) -> bool {
        self.update(|v| match v.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.value = value.to_string();
                true
            }
            None => false,
        })
    }

    pub fn clear(&self) {
        self.update(|v| {
            v.clear();
            true
        });
    }
}

fn registry() -> &'static Mutex<Vec<Arc<PatRef>>> {
    static REFS: OnceLock<Mutex<Vec<Arc<PatRef>>>> = OnceLock::new();
    REFS.get_or_init(Default::default)
}

fn writer_lock() -> std::sync::MutexGuard<'static, ()> {
    static WRITER: Mutex<()> = Mutex::new(());
    WRITER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads a pattern file: one entry a line (key, then the value after the first blank for
/// maps), blank lines and `#` comments skipped.
fn parse(text: &str, kind: Kind) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match (kind, l.split_once(char::is_whitespace)) {
            (Kind::Map, Some((k, v))) => (k.to_string(), v.trim().to_string()),
            _ => (l.to_string(), String::new()),
        })
        .collect()
}

/// The reference of `path` for `kind`, loading the file the first time it is named.
pub fn load(path: &str, kind: Kind) -> std::io::Result<Arc<PatRef>> {
    let mut refs = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = refs.iter().find(|r| r.path == path && r.kind == kind) {
        return Ok(r.clone());
    }
    let text = std::fs::read_to_string(path)?;
    let r = PatRef {
        id: refs.len() as u32,
        path: path.to_string(),
        kind,
        entries: ArcSwap::from_pointee(Vec::new()),
        version: AtomicU64::new(0),
        next_entry: AtomicU64::new(1),
        checks: Mutex::new(Vec::new()),
    };
    let entries = parse(&text, kind)
        .into_iter()
        .map(|(k, v)| r.entry(&k, &v))
        .collect();
    r.entries.store(Arc::new(entries));
    let r = Arc::new(r);
    refs.push(r.clone());
    Ok(r)
}

/// The references of `kind`, in load order.
pub fn all(kind: Kind) -> Vec<Arc<PatRef>> {
    let refs = registry().lock().unwrap_or_else(|e| e.into_inner());
    refs.iter().filter(|r| r.kind == kind).cloned().collect()
}

/// The reference a command names: `#<id>` or the file name.
pub fn find(ident: &str, kind: Kind) -> Option<Arc<PatRef>> {
    let refs = all(kind);
    match ident.strip_prefix('#') {
        Some(id) => {
            let id: u32 = id.parse().ok()?;
            refs.into_iter().find(|r| r.id == id)
        }
        None => refs.into_iter().find(|r| r.path == ident),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_seen_by_every_holder() {
        let dir = std::env::temp_dir().join(format!("hapee-patref-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.map");
        std::fs::write(&path, "# comment\na 1\nb  2 two\n\n").unwrap();
        let p = path.to_str().unwrap();
        let first = load(p, Kind::Map).unwrap();
        let second = load(p, Kind::Map).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        let keys = |r: &PatRef| {
            r.entries()
                .iter()
                .map(|e| format!("{}={}", e.key, e.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&first), ["a=1", "b=2 two"]);
        let v = first.version();
        first.add("c", "3");
        assert!(second.version() > v);
        assert!(second.set("a", "9"));
        assert!(!second.set("zz", "9"));
        assert!(first.delete("b"));
        assert!(!first.delete("b"));
        assert_eq!(keys(&second), ["a=9", "c=3"]);
        assert!(find(&format!("#{}", first.id), Kind::Map).is_some());
        assert!(find(p, Kind::Acl).is_none());
        first.clear();
        assert!(second.entries().is_empty());
    }
}
