//! The process's TLS files as the Runtime API sees and changes them (HAProxy's certificate
//! store): every certificate, CA, CRL and crt-list file a listener loaded, keyed by path, with
//! the content read at start-up kept in memory. Listeners read their files through [`read`],
//! so a file is read from disk once and a committed change replaces what later builds read.
//! One transaction per kind may be open at a time, as in HAProxy. Committing rebuilds the
//! TLS configuration of every listener that read the file (see [`User`]) and swaps them all
//! only when every one was built.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// The kinds of files the store keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Kind {
    Cert,
    Ca,
    Crl,
    CrtList,
}

impl Kind {
    fn slot(self) -> usize {
        self as usize
    }
}

/// One line of a crt-list: the certificate as written, and its options and SNI filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrtListLine {
    pub cert: String,
    pub rest: String,
}

impl CrtListLine {
    /// A line read as `check` and the listeners read it ([`hapee_compiler::plan::crt_list`]);
    /// `None` for a comment, a blank line or a malformed one.
    pub fn parse(line: &str) -> Option<CrtListLine> {
        if line.starts_with(['#', '\r']) {
            return None;
        }
        let entry = hapee_compiler::plan::crt_list::parse_line("CLI", 1, line, 0).ok()??;
        let after = entry.crt.at + entry.crt.text.len();
        Some(CrtListLine {
            rest: line[after..].trim().to_string(),
            cert: entry.crt.text,
        })
    }

    pub fn text(&self) -> String {
        if self.rest.is_empty() {
            self.cert.clone()
        } else {
            format!("{} {}", self.cert, self.rest)
        }
    }
}

/// Something built from store files that a commit must rebuild: a listener's TLS.
pub trait User: Send + Sync {
    /// The files its last build read.
    fn uses(&self, kind: Kind, path: &str) -> bool;
    /// Builds its configuration again from the store; the closure puts it in force.
    fn rebuild(&self) -> Result<Box<dyn FnOnce() + '_>, String>;
}

/// The store's content.
#[derive(Default)]
pub struct Files {
    /// Certificate files (PEM, certificate, chain and key); `None`: made by `new ssl cert`,
    /// nothing set yet.
    pub certs: BTreeMap<String, Option<Vec<u8>>>,
    /// CA files (PEM bundles) and CRL files (PEM).
    pub cas: BTreeMap<String, Vec<u8>>,
    pub crls: BTreeMap<String, Vec<u8>>,
    pub crt_lists: BTreeMap<String, Vec<CrtListLine>>,
    /// The open transaction of each kind: the path and its new content.
    transactions: [Option<(String, Vec<u8>)>; 4],
    users: Vec<Weak<dyn User>>,
}

impl Files {
    pub fn transaction(&self, kind: Kind) -> Option<&(String, Vec<u8>)> {
        self.transactions[kind.slot()].as_ref()
    }

    pub fn set_transaction(&mut self, kind: Kind, tx: Option<(String, Vec<u8>)>) {
        self.transactions[kind.slot()] = tx;
    }

    /// The listeners alive now.
    fn users(&mut self) -> Vec<Arc<dyn User>> {
        self.users.retain(|u| u.strong_count() > 0);
        self.users.iter().filter_map(Weak::upgrade).collect()
    }

    /// Whether some listener uses the file.
    pub fn in_use(&mut self, kind: Kind, path: &str) -> bool {
        self.users().iter().any(|u| u.uses(kind, path))
    }

    /// Whether the store knows the file.
    pub fn has(&self, kind: Kind, path: &str) -> bool {
        match kind {
            Kind::Cert => self.certs.contains_key(path),
            Kind::Ca => self.cas.contains_key(path),
            Kind::Crl => self.crls.contains_key(path),
            Kind::CrtList => self.crt_lists.contains_key(path),
        }
    }

    fn content(&self, kind: Kind, path: &str) -> Option<Option<Vec<u8>>> {
        match kind {
            Kind::Cert => self.certs.get(path).cloned(),
            Kind::Ca => self.cas.get(path).cloned().map(Some),
            Kind::Crl => self.crls.get(path).cloned().map(Some),
            Kind::CrtList => self.crt_lists.get(path).map(|lines| {
                Some(
                    lines
                        .iter()
                        .map(|l| l.text() + "\n")
                        .collect::<String>()
                        .into_bytes(),
                )
            }),
        }
    }

    fn put(&mut self, kind: Kind, path: &str, bytes: Option<Vec<u8>>) {
        let path = path.to_string();
        match (kind, bytes) {
            (Kind::Cert, b) => {
                self.certs.insert(path, b);
            }
            (Kind::Ca, Some(b)) => {
                self.cas.insert(path, b);
            }
            (Kind::Crl, Some(b)) => {
                self.crls.insert(path, b);
            }
            (Kind::CrtList, Some(b)) => {
                let text = String::from_utf8_lossy(&b);
                self.crt_lists
                    .insert(path, text.lines().filter_map(CrtListLine::parse).collect());
            }
            (_, None) => {}
        }
    }

    fn remove(&mut self, kind: Kind, path: &str) {
        match kind {
            Kind::Cert => drop(self.certs.remove(path)),
            Kind::Ca => drop(self.cas.remove(path)),
            Kind::Crl => drop(self.crls.remove(path)),
            Kind::CrtList => drop(self.crt_lists.remove(path)),
        }
    }
}

fn store() -> &'static Mutex<Files> {
    static STORE: OnceLock<Mutex<Files>> = OnceLock::new();
    STORE.get_or_init(Default::default)
}

/// The store, for the Runtime API. Never held while a listener builds (builds read it).
pub fn lock() -> MutexGuard<'static, Files> {
    store().lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The files the build running on this thread has read.
    static READS: RefCell<Option<Vec<(Kind, String)>>> = const { RefCell::new(None) };
}

/// Runs a build and answers what it read from the store.
pub fn recording<T>(build: impl FnOnce() -> T) -> (T, Vec<(Kind, String)>) {
    let outer = READS.with(|r| r.borrow_mut().replace(Vec::new()));
    let value = build();
    let reads = READS.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer));
    (value, reads.unwrap_or_default())
}

/// A file's content: the store's, else the disk's (then kept). A certificate made by
/// `new ssl cert` and never set reads as missing.
pub fn read(kind: Kind, path: &str) -> std::io::Result<Vec<u8>> {
    READS.with(|r| {
        if let Some(reads) = r.borrow_mut().as_mut() {
            reads.push((kind, path.to_string()));
        }
    });
    let known = lock().content(kind, path);
    match known {
        Some(Some(bytes)) => Ok(bytes),
        Some(None) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "an empty certificate store entry",
        )),
        None => {
            let bytes = std::fs::read(path)?;
            let mut files = lock();
            if !files.has(kind, path) {
                files.put(kind, path, Some(bytes.clone()));
            }
            Ok(bytes)
        }
    }
}

/// Lets commits rebuild `user`.
pub fn register(user: Weak<dyn User>) {
    lock().users.push(user);
}

/// Puts `content` in force for `path` and rebuilds every listener using it (all of them when
/// `everyone`); on a failed build the old content stays. Answers how many were rebuilt.
pub fn apply(kind: Kind, path: &str, content: Option<Vec<u8>>) -> Result<usize, String> {
    let (old, users) = {
        let mut files = lock();
        let old = files.content(kind, path);
        files.put(kind, path, content);
        let users: Vec<Arc<dyn User>> = files
            .users()
            .into_iter()
            .filter(|u| u.uses(kind, path))
            .collect();
        (old, users)
    };
    let mut swaps = Vec::new();
    for u in &users {
        match u.rebuild() {
            Ok(swap) => swaps.push(swap),
            Err(e) => {
                let mut files = lock();
                match old {
                    Some(old) => files.put(kind, path, old),
                    None => files.remove(kind, path),
                }
                return Err(e);
            }
        }
    }
    let n = swaps.len();
    for swap in swaps {
        swap();
    }
    Ok(n)
}

/// Adds an entry to the store (`new ssl …`).
pub fn create(files: &mut Files, kind: Kind, path: &str) {
    match kind {
        Kind::Cert => files.put(kind, path, None),
        _ => files.put(kind, path, Some(Vec::new())),
    }
}

/// Removes an unused entry (`del ssl …`).
pub fn delete(files: &mut Files, kind: Kind, path: &str) {
    files.remove(kind, path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crt_list_lines_keep_options_and_filters() {
        let l = CrtListLine::parse("  site.pem [verify none] www.a !b ").unwrap();
        assert_eq!(l.cert, "site.pem");
        assert_eq!(l.rest, "[verify none] www.a !b");
        assert_eq!(l.text(), "site.pem [verify none] www.a !b");
        assert!(CrtListLine::parse("# only a comment").is_none());
        assert!(CrtListLine::parse("site.pem [bogus]").is_none());
    }

    #[test]
    fn reads_are_recorded_and_kept() {
        let dir = std::env::temp_dir().join(format!("hapee-ckch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ca.pem");
        std::fs::write(&f, b"first").unwrap();
        let path = f.to_string_lossy().into_owned();
        let (bytes, reads) = recording(|| read(Kind::Ca, &path).unwrap());
        assert_eq!(bytes, b"first");
        assert_eq!(reads, vec![(Kind::Ca, path.clone())]);
        // Later reads give what was read first, not the disk's new content.
        std::fs::write(&f, b"second").unwrap();
        assert_eq!(read(Kind::Ca, &path).unwrap(), b"first");
        assert_eq!(apply(Kind::Ca, &path, Some(b"third".to_vec())), Ok(0));
        assert_eq!(read(Kind::Ca, &path).unwrap(), b"third");
        let _ = std::fs::remove_dir_all(dir);
    }
}
