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
//!
//! A body the edit changed is built again, but not always from its first statement: each
//! rebuilt body keeps its build state (proxy, output, declared names) as it stood before the
//! first statement at or after the edit, with a fingerprint of the lines before it. The next
//! build of that body resumes there when those lines, its header, defaults and globals are
//! still the same and the section starts at the same byte — typing on one line of a large
//! frontend rebuilds the statements from that line on, not the thousands before it.

use super::build::{start_body, statement_counts, Body, Builder, ProxyNames, Stmt};
use super::model::{AclHost, FileRef, Proxy};
use super::shift::{Shift, Shifter};
use crate::diagnostic::Diagnostic;
use crate::registry::SectionKind;
use crate::reparse::WithinSection;
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

/// A body's build state after its first statements (a body is built in order, one
/// statement after the other, from the proxy its header opened).
#[derive(Clone)]
pub(super) struct BodyState {
    pub proxy: Proxy,
    pub output: BodyOutput,
    pub names: ProxyNames,
}

/// The state of a body built by the previous compilation, before its statement `done`.
struct Checkpoint {
    file: FileId,
    /// Where the section started, and its header's line.
    start: u32,
    line: usize,
    done: usize,
    /// [`BodyReuse::fingerprint_upto`] of the section up to that statement.
    fingerprint: u64,
    state: Box<BodyState>,
}

/// How a body's build starts, and before which statement it keeps its state.
#[derive(Default)]
pub(super) struct Plan {
    /// A kept state and the statements it built. Boxed, as are [`Kept`]'s: a first build
    /// has a plan and a kept slot per body, and on 10,000 bodies a state held inline was
    /// megabytes of empty room.
    pub resume: Option<(Box<BodyState>, usize)>,
    /// The statement before which to keep the state, and the fingerprint of the section up
    /// to it.
    pub capture: Option<(usize, u64)>,
}

/// A state a build kept, before its statement `done`.
pub(super) struct Kept {
    pub state: Box<BodyState>,
    pub done: usize,
    pub fingerprint: u64,
}

/// The bodies of the last build, by fingerprint.
#[derive(Default)]
pub struct BodyCache {
    /// One entry per fingerprint (not a list each: thousands of allocations per build)...
    entries: rustc_hash::FxHashMap<u64, Entry>,
    /// ...and the entries whose fingerprint an earlier one has (identical sections).
    more: Vec<(u64, Entry)>,
    checkpoints: Vec<Checkpoint>,
    /// Each body's fingerprint, in the build's order, by its file and header line.
    fingerprints: Vec<(FileId, usize, u64)>,
}

impl BodyCache {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.more.is_empty()
            && self.checkpoints.is_empty()
            && self.fingerprints.is_empty()
    }
}

/// The proxies of the previous model: owned (moved out, each at most once) or shared (cloned).
pub enum Previous<'a> {
    Owned(Vec<Option<Proxy>>),
    Shared(&'a [Proxy]),
    None,
}

impl Previous<'_> {
    fn take(&mut self, index: usize) -> Option<Proxy> {
        match self {
            // Taken, not replaced by an empty proxy: thousands of those cost as much to make
            // and drop as the bookkeeping of the bodies they stood for.
            Previous::Owned(v) => v.get_mut(index).and_then(Option::take),
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
    /// Per file, the first byte that differs from the previous compilation's text.
    edits: Vec<Option<u32>>,
    /// The edit, when it stayed inside one section's lines.
    within: Option<WithinSection>,
    /// Statements not built again, as a kept state held them.
    resumed: usize,
    /// The proxies taken from the previous model: this model's index, the previous one's,
    /// and how the proxy moved.
    taken: Vec<(usize, usize, Option<Shifter>)>,
}

impl<'a> BodyReuse<'a> {
    pub fn new(old: BodyCache, previous: Previous<'a>) -> Self {
        // An edit leaves about as many bodies as there were: room for them at once, rather
        // than growing (and rehashing) the table body by body.
        let mut next = BodyCache::default();
        next.entries.reserve(old.entries.len() + old.more.len());
        next.fingerprints.reserve(old.fingerprints.len());
        BodyReuse {
            old,
            previous,
            next,
            defaults: Default::default(),
            edits: Vec::new(),
            within: None,
            resumed: 0,
            taken: Vec::new(),
        }
    }

    /// Where the text of file `file` first differs from the previous compilation's.
    pub fn set_edit(&mut self, file: FileId, at: u32) {
        let i = file.0 as usize;
        if self.edits.len() <= i {
            self.edits.resize(i + 1, None);
        }
        self.edits[i] = Some(at);
    }

    /// Says that the edit stayed inside the lines of one section (see [`WithinSection`]).
    pub(crate) fn set_within(&mut self, within: WithinSection) {
        self.within = Some(within);
    }

    /// The entries to keep for the next build.
    pub fn into_cache(self) -> BodyCache {
        self.next
    }

    /// The proxies this build took from the previous model: this model's index, the previous
    /// model's index, and how the proxy moved (`None`: it stands where it stood).
    pub(crate) fn taken(&self) -> &[(usize, usize, Option<Shifter>)] {
        &self.taken
    }

    /// How many body statements this build did not build again, as kept states held them.
    pub fn resumed(&self) -> usize {
        self.resumed
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
        let all = section.body.len();
        let f = self
            .unchanged_fingerprint(section, proxy, proxies)
            .unwrap_or_else(|| {
                self.fingerprint_upto(db, tree, section, all, proxy, proxies, globals)
            });
        self.next
            .fingerprints
            .push((section.file, section.header, f));
        f
    }

    /// The previous fingerprint of a body that an edit inside another section's lines left
    /// as it was: its lines, their places within the section, its header and so the proxy it
    /// opened and the globals are those of the previous build, as the edited section is
    /// neither a `global` nor a `defaults` section (the only ones other bodies read). Its
    /// defaults are too when they stand before the edit: after it, they moved, and so did
    /// the places their model holds.
    fn unchanged_fingerprint(
        &self,
        section: &Section,
        proxy: &Proxy,
        proxies: &[Proxy],
    ) -> Option<u64> {
        let within = self.within?;
        if matches!(within.kind, SectionKind::Global | SectionKind::Defaults)
            || section.file != FileId(0)
        {
            return None;
        }
        if let Some(d) = proxy.defaults {
            let edit = self.edits.first().copied().flatten()?;
            let defaults = proxies.get(d)?;
            if defaults.header.file != section.file || defaults.header.start >= edit {
                return None;
            }
        }
        let old_header = within.old_header(section.header)?;
        // In source order: the one file's headers ascend.
        let old = &self.old.fingerprints;
        let at = old
            .binary_search_by_key(&old_header, |&(_, header, _)| header)
            .ok()?;
        let (file, _, f) = old[at];
        (file == section.file).then_some(f)
    }

    /// The fingerprint of a section's header and its first `upto` body lines, with what their
    /// build reads besides them.
    #[allow(clippy::too_many_arguments)]
    fn fingerprint_upto(
        &mut self,
        db: &SourceDb,
        tree: &SyntaxTree,
        section: &Section,
        upto: usize,
        proxy: &Proxy,
        proxies: &[Proxy],
        globals: &impl std::hash::Hash,
    ) -> u64 {
        use std::hash::{Hash, Hasher};
        let (start, end) = range_upto(tree, section, upto);
        let body = &section.body[..upto.min(section.body.len())];
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
        for &i in body {
            (i - section.header).hash(&mut h);
        }
        // Expanded words depend on the environment, the section and the line: hash them as
        // read.
        if memchr::memchr(b'$', text.as_bytes()).is_some() {
            let lines = body.iter().map(|&i| tree.line(section.file, i));
            for line in std::iter::once(tree.header(section)).chain(lines) {
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

    /// The previous build of a body with this fingerprint, moved to where `section` stands,
    /// for this build's proxy `index`.
    pub(super) fn take(
        &mut self,
        tree: &SyntaxTree,
        section: &Section,
        fingerprint: u64,
        index: usize,
    ) -> Option<(Proxy, BodyOutput)> {
        let (start, _) = range(tree, section);
        let line = section.header;
        let fits = |e: &Entry| e.file == section.file && (!e.output.positional || e.line == line);
        let old = &mut self.old;
        let entry = if old.entries.get(&fingerprint).is_some_and(fits) {
            old.entries.remove(&fingerprint)?
        } else {
            let at = old
                .more
                .iter()
                .position(|(f, e)| *f == fingerprint && fits(e))?;
            old.more.swap_remove(at).1
        };
        let mut proxy = self.previous.take(entry.proxy)?;
        let mut output = entry.output;
        let delta = i64::from(start) - i64::from(entry.start);
        let shifter = (delta != 0).then_some(Shifter {
            file: entry.file,
            from: entry.start,
            to: entry.end,
            delta,
        });
        if let Some(s) = &shifter {
            proxy.shift(s);
            output.diags.shift(s);
            output.files.shift(s);
            output.acl_hosts.shift(s);
        }
        self.taken.push((index, entry.proxy, shifter));
        Some((proxy, output))
    }

    /// How the body of `section`, about to be built again, starts (from the state the previous
    /// build kept, when its lines before that still hold) and where it keeps its state for the
    /// next build (before the first statement the edit reached).
    pub(super) fn plan(
        &mut self,
        db: &SourceDb,
        tree: &SyntaxTree,
        section: &Section,
        proxy: &Proxy,
        proxies: &[Proxy],
        globals: &impl std::hash::Hash,
    ) -> Plan {
        let (start, _) = range(tree, section);
        let line = section.header;
        let mut plan = Plan::default();
        let candidates: Vec<(usize, usize)> = self
            .old
            .checkpoints
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.file == section.file
                    && c.start == start
                    && c.done <= section.body.len()
                    && (!c.state.output.positional || c.line == line)
            })
            .map(|(at, c)| (at, c.done))
            .collect();
        for (at, done) in candidates.into_iter().rev() {
            let f = self.fingerprint_upto(db, tree, section, done, proxy, proxies, globals);
            if self.old.checkpoints[at].fingerprint == f {
                let c = self.old.checkpoints.swap_remove(at);
                self.resumed += c.done;
                plan.resume = Some((c.state, c.done));
                break;
            }
        }
        // The statement the edit reached: the first on the edit's line or after it.
        let edit = self.edits.get(section.file.0 as usize).copied().flatten();
        let capture = edit.filter(|&at| start <= at).and_then(|at| {
            let edited = db.file(section.file).line_index(at as usize);
            let j = section.body.partition_point(|&i| i < edited);
            (j < section.body.len()).then_some(j)
        });
        // A resumed build never sees the statements before where it resumes.
        let resumed = plan.resume.as_ref().map_or(0, |r| r.1);
        let capture = capture.filter(|&j| j > 0 && j >= resumed).map(|j| {
            let f = self.fingerprint_upto(db, tree, section, j, proxy, proxies, globals);
            (j, f)
        });
        plan.capture = capture;
        plan
    }

    /// Keeps the state the build of `section` kept, for the next build.
    pub(super) fn keep(&mut self, tree: &SyntaxTree, section: &Section, kept: Kept) {
        let (start, _) = range(tree, section);
        self.next.checkpoints.push(Checkpoint {
            file: section.file,
            start,
            line: section.header,
            done: kept.done,
            fingerprint: kept.fingerprint,
            state: kept.state,
        });
    }

    /// Records the body of proxy `index` of this build.
    pub(super) fn remember(
        &mut self,
        tree: &SyntaxTree,
        section: &Section,
        fingerprint: u64,
        index: usize,
        output: BodyOutput,
    ) {
        let (start, end) = range(tree, section);
        let entry = Entry {
            proxy: index,
            file: section.file,
            start,
            end,
            line: section.header,
            output,
        };
        match self.next.entries.entry(fingerprint) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(entry);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.next.more.push((fingerprint, entry));
            }
        }
    }
}

/// Builds the body of `w`'s only proxy as `build::proxy_body` does, from the state `plan` resumes
/// (its proxy replacing the opened one), and returns the state before statement
/// `plan.capture`.
pub(super) fn build_planned(
    w: &mut Builder,
    tree: &SyntaxTree,
    body: &Body,
    plan: Plan,
) -> Option<Kept> {
    let Some((state, done)) = plan.resume else {
        start_body(
            w,
            statement_counts(
                tree.body(body.section)
                    .map(|l| l.words.first().map(|w| w.value.as_str())),
            ),
            body,
            0,
        );
        return build_statements(w, tree, body, 0, plan.capture);
    };
    let state = *state;
    w.set_globals(&body.globals);
    w.config.proxies[0] = state.proxy;
    w.diags = state.output.diags;
    w.config.files = state.output.files;
    w.config.acl_hosts = state.output.acl_hosts;
    w.positional.set(state.output.positional);
    w.in_proxy = state.names;
    build_statements(w, tree, body, done, plan.capture)
}

/// Builds the body statements of `w`'s only proxy from statement `from` on, and returns the
/// state before statement `capture`.
fn build_statements(
    w: &mut Builder,
    tree: &SyntaxTree,
    body: &Body,
    from: usize,
    capture: Option<(usize, u64)>,
) -> Option<Kept> {
    let mut kept = None;
    for (i, line) in tree.body(body.section).enumerate().skip(from) {
        if let Some((done, fingerprint)) = capture.filter(|c| c.0 == i) {
            let state = Box::new(BodyState {
                proxy: w.config.proxies[0].clone(),
                output: BodyOutput {
                    diags: w.diags.clone(),
                    files: w.config.files.clone(),
                    acl_hosts: w.config.acl_hosts.clone(),
                    positional: w.positional.get(),
                },
                names: w.in_proxy.clone(),
            });
            kept = Some(Kept {
                state,
                done,
                fingerprint,
            });
        }
        super::proxy::statement(w, 0, &Stmt::new(line));
    }
    kept
}

/// The byte range of a section: its header line to its last body line.
fn range(tree: &SyntaxTree, section: &Section) -> (u32, u32) {
    range_upto(tree, section, section.body.len())
}

/// The byte range of a section's header and its first `upto` body lines.
fn range_upto(tree: &SyntaxTree, section: &Section, upto: usize) -> (u32, u32) {
    let header = tree.header(section).span;
    let end = upto
        .checked_sub(1)
        .and_then(|last| section.body.get(last))
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
