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
    /// Versions (HAProxy's generations): the one in force and the newest prepared, with the
    /// entries added to versions not in force yet (`prepare`, `add @<ver>`, `commit`).
    versions: Mutex<Versions>,
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

/// The versions of a reference and the entries waiting in versions not in force.
#[derive(Default)]
struct Versions {
    current: u32,
    next: u32,
    waiting: Vec<(u32, Entry)>,
}

/// `commit @<ver>` of a version not prepared after the one in force.
#[derive(Debug, PartialEq, Eq)]
pub struct OutOfRange;

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

    fn versions(&self) -> std::sync::MutexGuard<'_, Versions> {
        self.versions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The version in force and the newest prepared one (`curr_ver`, `next_ver`).
    pub fn version_numbers(&self) -> (u32, u32) {
        let v = self.versions();
        (v.current, v.next)
    }

    /// Every entry of every version (`entry_cnt`).
    pub fn entry_count(&self) -> usize {
        self.entries().len() + self.versions().waiting.len()
    }

    /// `prepare`: a new empty version after the newest, its number answered.
    pub fn prepare(&self) -> u32 {
        let mut v = self.versions();
        v.next = v.next.wrapping_add(1);
        v.next
    }

    /// The entries of version `ver` (`None`: the one in force).
    pub fn entries_of(&self, ver: Option<u32>) -> Vec<Entry> {
        let v = self.versions();
        match ver {
            Some(ver) if ver != v.current => v
                .waiting
                .iter()
                .filter(|(g, _)| *g == ver)
                .map(|(_, e)| e.clone())
                .collect(),
            _ => {
                drop(v);
                (**self.entries()).clone()
            }
        }
    }

    /// Whether version `ver` lies past the newest prepared one (`None`: the one in force).
    pub fn is_future(&self, ver: Option<u32>) -> bool {
        let next = self.versions().next;
        ver.is_some_and(|ver| (ver.wrapping_sub(next) as i32) > 0)
    }

    /// Adds an entry to version `ver` (`None`: the one in force); see [`PatRef::is_future`]
    /// for the versions that may take one.
    pub fn add_to(&self, ver: Option<u32>, key: &str, value: &str) {
        let mut v = self.versions();
        match ver {
            Some(ver) if ver != v.current => {
                let e = self.entry(key, value);
                v.waiting.push((ver, e));
            }
            _ => {
                drop(v);
                self.add(key, value);
            }
        }
    }

    /// Removes every entry of version `ver` (`None`: the one in force).
    pub fn clear_version(&self, ver: Option<u32>) {
        let mut v = self.versions();
        match ver {
            Some(ver) if ver != v.current => v.waiting.retain(|(g, _)| *g != ver),
            _ => {
                drop(v);
                self.clear();
            }
        }
    }

    /// Puts version `ver` in force: its entries replace those in force, older versions'
    /// waiting entries go, newer ones stay. Only a version prepared after the one in force.
    pub fn commit(&self, ver: u32) -> Result<(), OutOfRange> {
        let mut v = self.versions();
        let ahead = ver.wrapping_sub(v.current.wrapping_add(1));
        if ahead >= v.next.wrapping_sub(v.current) {
            return Err(OutOfRange);
        }
        let (now, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut v.waiting)
            .into_iter()
            .partition(|(g, _)| *g == ver);
        v.waiting = rest
            .into_iter()
            .filter(|(g, _)| (g.wrapping_sub(ver) as i32) > 0)
            .collect();
        v.current = ver;
        drop(v);
        self.update(|live| {
            *live = now.into_iter().map(|(_, e)| e).collect();
            true
        });
        Ok(())
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
        versions: Mutex::default(),
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
