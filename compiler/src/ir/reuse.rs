//! Proxy bodies kept from one build to the next (the language server rebuilds the model on
//! every edit; most sections did not change).
//!
//! A body's build reads nothing but its own lines, the proxy its header opened (the inherited
//! defaults) and the global settings seen before it (the parallel build relies on the same
//! fact). So a fingerprint of those — the section's text, which lines are its body, the
//! defaults it starts from, the globals — says when the previous build of a body still holds.
//! It is then moved (or cloned) from the previous model, its spans shifted to where the
//! section now stands. A body whose build wrote an absolute line number into a message is
//! reused only at the same line.

use super::model::{AclHost, FileRef, Proxy};
use super::shift::{Shift, Shifter};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceDb};
use crate::syntax::{Section, SyntaxTree};

/// What one body's build produced besides the proxy itself.
#[derive(Clone, Debug, Default)]
pub(crate) struct BodyOutput {
    pub diags: Vec<Diagnostic>,
    pub files: Vec<FileRef>,
    pub acl_hosts: Vec<AclHost>,
    /// The build wrote an absolute line number (`file:line`) into a message.
    pub positional: bool,
}

/// A body built by the previous compilation.
struct Entry {
    /// Its proxy's index in the previous model.
    proxy: usize,
    file: FileId,
    /// Byte range of the section (header to last body line) and its first line.
    start: u32,
    end: u32,
    line: usize,
    output: BodyOutput,
}

/// The bodies of the last build, by fingerprint.
#[derive(Default)]
pub struct BodyCache {
    entries: rustc_hash::FxHashMap<u64, Vec<Entry>>,
}

impl BodyCache {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The proxies of the previous model: owned (moved out) or shared (cloned).
pub enum Previous<'a> {
    Owned(Vec<Proxy>),
    Shared(&'a [Proxy]),
    None,
}

impl Previous<'_> {
    fn take(&mut self, index: usize) -> Option<Proxy> {
        match self {
            Previous::Owned(v) => v.get_mut(index).map(|p| {
                let placeholder = Proxy::new(p.kind, None, p.header);
                std::mem::replace(p, placeholder)
            }),
            Previous::Shared(v) => v.get(index).cloned(),
            Previous::None => None,
        }
    }
}

/// The reuse state of one build: the previous bodies, and the entries this build leaves.
pub struct BodyReuse<'a> {
    old: BodyCache,
    previous: Previous<'a>,
    next: BodyCache,
    /// Fingerprints of the defaults sections' built proxies, by index, for this build.
    defaults: rustc_hash::FxHashMap<usize, u64>,
}

impl<'a> BodyReuse<'a> {
    pub fn new(old: BodyCache, previous: Previous<'a>) -> Self {
        BodyReuse {
            old,
            previous,
            next: BodyCache::default(),
            defaults: Default::default(),
        }
    }

    /// The entries to keep for the next build.
    pub fn into_cache(self) -> BodyCache {
        self.next
    }

    /// The fingerprint of a body about to be built: `proxy` is what its header opened.
    pub(super) fn fingerprint(
        &mut self,
        db: &SourceDb,
        tree: &SyntaxTree,
        section: &Section,
        proxy: &Proxy,
        proxies: &[Proxy],
        globals: &impl std::hash::Hash,
    ) -> u64 {
        use std::hash::{Hash, Hasher};
        let (start, end) = range(tree, section);
        let text = db
            .file(section.file)
            .text
            .get(start as usize..end as usize)
            .unwrap_or("");
        let mut h = rustc_hash::FxHasher::default();
        h.write_u64(xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
        section.file.hash(&mut h);
        db.file(section.file).name.hash(&mut h);
        section.kind.keyword().hash(&mut h);
        for &i in &section.body {
            (i - section.header).hash(&mut h);
        }
        // Expanded words depend on the environment, the section and the line: hash them as
        // read.
        if text.contains('$') {
            for line in std::iter::once(tree.header(section)).chain(tree.body(section)) {
                for w in line.words.iter() {
                    w.value.hash(&mut h);
                    w.span.start.wrapping_sub(start).hash(&mut h);
                }
            }
        }
        globals.hash(&mut h);
        proxy.defaults.hash(&mut h);
        if let Some(d) = proxy.defaults {
            let of_defaults = *self.defaults.entry(d).or_insert_with(|| {
                proxies.get(d).map_or(0, |p| {
                    let mut dh = xxhash_rust::xxh3::Xxh3::new();
                    let _ =
                        std::fmt::Write::write_fmt(&mut HashWriter(&mut dh), format_args!("{p:?}"));
                    dh.digest()
                })
            });
            of_defaults.hash(&mut h);
        }
        h.finish()
    }

    /// The previous build of a body with this fingerprint, moved to where `section` stands.
    pub(super) fn take(
        &mut self,
        db: &SourceDb,
        tree: &SyntaxTree,
        section: &Section,
        fingerprint: u64,
    ) -> Option<(Proxy, BodyOutput)> {
        let (start, _) = range(tree, section);
        let line = db.file(section.file).line_index(start as usize);
        let entries = self.old.entries.get_mut(&fingerprint)?;
        let at = entries
            .iter()
            .position(|e| e.file == section.file && (!e.output.positional || e.line == line))?;
        let entry = entries.swap_remove(at);
        let mut proxy = self.previous.take(entry.proxy)?;
        let mut output = entry.output;
        let delta = i64::from(start) - i64::from(entry.start);
        if delta != 0 {
            let s = Shifter {
                file: entry.file,
                from: entry.start,
                to: entry.end,
                delta,
            };
            proxy.shift(&s);
            output.diags.shift(&s);
            output.files.shift(&s);
            output.acl_hosts.shift(&s);
        }
        Some((proxy, output))
    }

    /// Records the body of proxy `index` of this build.
    pub(super) fn remember(
        &mut self,
        db: &SourceDb,
        tree: &SyntaxTree,
        section: &Section,
        fingerprint: u64,
        index: usize,
        output: BodyOutput,
    ) {
        let (start, end) = range(tree, section);
        let line = db.file(section.file).line_index(start as usize);
        self.next
            .entries
            .entry(fingerprint)
            .or_default()
            .push(Entry {
                proxy: index,
                file: section.file,
                start,
                end,
                line,
                output,
            });
    }
}

/// The byte range of a section: its header line to its last body line.
fn range(tree: &SyntaxTree, section: &Section) -> (u32, u32) {
    let header = tree.header(section).span;
    let end = section
        .body
        .last()
        .map_or(header.end, |&i| tree.line(section.file, i).span.end);
    (header.start, end.max(header.end))
}

/// Feeds formatted text to a hasher without building the string.
struct HashWriter<'h>(&'h mut xxhash_rust::xxh3::Xxh3);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}
