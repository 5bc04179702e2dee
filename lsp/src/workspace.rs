//! The documents the editor has open, the workspace files from the `hapee.files` setting, and
//! the analysis of each open document (recomputed after an edit).
//!
//! With `hapee.files` set (files or directories, in HAProxy's `-f` order; a directory stands
//! for its `*.cfg` files, sorted), an open document that is one of those files is compiled with
//! all of them, open documents taking precedence over the disk. Any other document is compiled
//! alone.

use crate::analysis::Analysis;
use crate::position::Encoding;
use hapee_compiler::lint::LintConfig;
use hapee_compiler::source::SourceFile;
use lsp_types as lsp;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct Documents {
    /// Each open document's text, with its line index kept through edits.
    text: HashMap<lsp::Url, SourceFile>,
    analysis: HashMap<lsp::Url, Analysis>,
    /// Each open document's edit order (see [`crate::sync`]).
    order: HashMap<lsp::Url, crate::sync::EditOrder>,
    /// Each open document's compilations: an edit compiles again only what it changed.
    sessions: HashMap<lsp::Url, hapee_compiler::incremental::Session>,
    pub dirty: HashSet<lsp::Url>,
    /// The lines (first and last, as the editor counts them in the text it has now) that the
    /// edits of each document since its diagnostics were last published replaced or added.
    /// Diagnostics that did not change are not published again (the editor shows them
    /// already), unless one lies on such a line: the editor may have moved or dropped its marks
    /// with the text they were on.
    pub touched: HashMap<lsp::Url, (u32, u32)>,
    /// A hash of each document's last published diagnostics.
    pub published: HashMap<lsp::Url, u64>,
    /// The JSON of each open document's last published diagnostics, one by one.
    pub diagnostics_json: HashMap<lsp::Url, crate::publish::Published>,
    /// The semantic tokens last sent for each open document.
    tokens: HashMap<lsp::Url, crate::tokens::Sent>,
    /// The configured `-f` list.
    files: Vec<PathBuf>,
    /// The workspace root: where `.hapee.toml` is looked for when the files' folders and their
    /// parents have none, as `check` looks in its working directory.
    root: Option<PathBuf>,
    /// How the client counts columns: in the positions of its edits and of every answer.
    enc: Encoding,
    /// The diagnostics of the `.hapee.toml` read by the last compilation, to publish for that
    /// file (see [`crate::settings`]).
    pub settings: Option<(lsp::Url, Vec<lsp::Diagnostic>)>,
}

/// The lines touched so far (`before`, in the text before the edit) and by the edit that
/// replaces `range` with `text`, in the text after it. The editor's lines end at a line feed,
/// a CRLF or a lone carriage return: counting each \r and \n of `text` may count a line too
/// many, which only touches one more.
fn touched_after(before: Option<(u32, u32)>, range: lsp::Range, text: &str) -> (u32, u32) {
    let (first, last) = (range.start.line, range.end.line.max(range.start.line));
    let breaks = text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
    let new_last = first.saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX));
    // Where a line of the text before lands: lines after the edit move with it, lines inside
    // it become the edit's own.
    let moved = |line: u32| {
        if line > last {
            (line - last).saturating_add(new_last)
        } else if line >= first {
            line.min(new_last)
        } else {
            line
        }
    };
    match before {
        Some((a, b)) => (moved(a).min(first), moved(b).max(new_last)),
        None => (first, new_last),
    }
}

/// Reads `hapee.files` (or `files`) from settings or initialization options.
pub fn files_setting(v: &serde_json::Value) -> Option<Vec<PathBuf>> {
    let list = v
        .get("hapee")
        .and_then(|h| h.get("files"))
        .or_else(|| v.get("files"))?;
    Some(
        list.as_array()?
            .iter()
            .filter_map(|f| f.as_str().map(PathBuf::from))
            .collect(),
    )
}

/// The `-f` list with directories expanded to their sorted `*.cfg` files, counting among them
/// the documents of `open` in such a directory that are not saved yet (a new file is part of
/// the workspace from its first keystroke, as it will be once saved).
fn expand(files: &[PathBuf], open: &[PathBuf]) -> Vec<PathBuf> {
    let is_cfg = |p: &Path| p.extension().is_some_and(|e| e == "cfg");
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(f)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| is_cfg(p))
                .collect();
            let unsaved = open.iter().filter(|p| {
                is_cfg(p) && !p.exists() && p.parent().is_some_and(|dir| same_file(dir, f))
            });
            entries.extend(unsaved.map(|p| f.join(p.file_name().unwrap_or_default())));
            entries.sort();
            out.extend(entries);
        } else {
            out.push(f.clone());
        }
    }
    out
}

use crate::analysis::file_name;

/// A file of a compilation: an open document (borrowed) or a file read from the disk.
type Source<'d> = (lsp::Url, Cow<'d, SourceFile>);

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

impl Documents {
    /// Columns count bytes (a client that offered UTF-8) or UTF-16 units from now on.
    pub fn set_encoding(&mut self, enc: Encoding) {
        self.enc = enc;
    }

    pub fn set_root(&mut self, root: Option<PathBuf>) {
        self.root = root;
    }

    pub fn set_files(&mut self, files: Vec<PathBuf>) {
        self.files = files;
        self.touch_all();
    }

    pub fn open(&mut self, uri: lsp::Url, version: i32, text: String) {
        self.order
            .insert(uri.clone(), crate::sync::EditOrder::opened(version));
        self.text
            .insert(uri.clone(), SourceFile::new(file_name(&uri), text));
        self.dirty.insert(uri);
        self.touch_all();
    }

    pub fn close(&mut self, uri: &lsp::Url) {
        self.text.remove(uri);
        self.order.remove(uri);
        self.analysis.remove(uri);
        self.sessions.remove(uri);
        self.dirty.remove(uri);
        self.touched.remove(uri);
        self.published.remove(uri);
        self.diagnostics_json.remove(uri);
        self.tokens.remove(uri);
        self.touch_all();
    }

    /// The semantic tokens last sent for `uri` (an open document).
    pub fn tokens_sent(&mut self, uri: &lsp::Url) -> &mut crate::tokens::Sent {
        self.tokens.entry(uri.clone()).or_default()
    }

    pub fn is_open(&self, uri: &lsp::Url) -> bool {
        self.text.contains_key(uri)
    }

    /// A save may also follow an edit of `.hapee.toml`: every open document is checked again.
    pub fn saved(&mut self, uri: lsp::Url) {
        self.dirty.insert(uri);
        self.recheck_all();
    }

    /// `.hapee.toml` (or a workspace file on disk) changed: every open document is checked
    /// again.
    pub fn recheck_all(&mut self) {
        let open: Vec<lsp::Url> = self.text.keys().cloned().collect();
        self.dirty.extend(open);
    }

    /// An edit of one file can change the diagnostics of every file compiled with it.
    fn touch_all(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let open: Vec<lsp::Url> = self.text.keys().cloned().collect();
        self.dirty.extend(open);
    }

    /// A `didChange` of `version`: its edits are applied in their turn (see [`crate::sync`]),
    /// with those held for it.
    pub fn changed(
        &mut self,
        uri: lsp::Url,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    ) {
        let Some(order) = self.order.get_mut(&uri) else {
            return;
        };
        for batch in order.arrived(version, changes) {
            self.apply(uri.clone(), batch);
        }
    }

    /// Applies the edits held too long for versions that never came, in version order.
    /// The earliest moment held edits must be applied, if any document holds some.
    pub fn next_due(&self) -> Option<std::time::Instant> {
        self.order.values().filter_map(|order| order.due()).min()
    }

    pub fn apply_overdue(&mut self) {
        let now = std::time::Instant::now();
        let held: Vec<(lsp::Url, Vec<_>)> = (self.order.iter_mut())
            .filter(|(_, order)| order.overdue(now))
            .map(|(uri, order)| (uri.clone(), order.flush()))
            .collect();
        for (uri, batches) in held {
            for batch in batches {
                self.apply(uri.clone(), batch);
            }
        }
    }

    /// Applies one `didChange`'s edits in order: a change with a range replaces that range
    /// (incremental sync), one without replaces the whole text.
    fn apply(&mut self, uri: lsp::Url, changes: Vec<lsp::TextDocumentContentChangeEvent>) {
        let Some(file) = self.text.get_mut(&uri) else {
            return;
        };
        for change in changes {
            let touched = self.touched.get(&uri).copied();
            let lines = match change.range {
                Some(r) => {
                    let start = self.enc.line_offset(file, r.start);
                    let end = self.enc.line_offset(file, r.end).max(start);
                    file.replace(start..end, &change.text);
                    touched_after(touched, r, &change.text)
                }
                None => {
                    *file = SourceFile::new(file_name(&uri), change.text);
                    (0, u32::MAX)
                }
            };
            self.touched.insert(uri.clone(), lines);
        }
        self.dirty.insert(uri);
        self.touch_all();
    }

    /// The lint levels for a compilation whose first file is `first`, as `check` reads them.
    fn lint_config(&self, first: Option<&Path>) -> LintConfig {
        let cwd = self
            .root
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        LintConfig::discover(&cwd, first).unwrap_or_else(|e| {
            // The editor shows the server's stderr in its log.
            eprintln!("hapee-lsp: {e}; using the default lint levels");
            LintConfig::default()
        })
    }

    /// The workspace sources and the index of `uri` among them, when `uri` is a workspace file.
    /// Open documents are borrowed, not copied (a copy of a large file costs as much as much of
    /// an edit's compilation).
    fn sources(&self, uri: &lsp::Url) -> Option<(Vec<Source<'_>>, usize)> {
        let path = uri.to_file_path().ok()?;
        let open: Vec<PathBuf> = (self.text.keys())
            .filter_map(|u| u.to_file_path().ok())
            .collect();
        let files = expand(&self.files, &open);
        let focus = files.iter().position(|f| same_file(f, &path))?;
        let sources = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let url = if i == focus {
                    uri.clone()
                } else {
                    lsp::Url::from_file_path(f).unwrap_or_else(|_| uri.clone())
                };
                let text = self.text.get(&url).map_or_else(
                    || {
                        // Bytes that are not UTF-8 become U+FFFD, and the compiler reports them.
                        let text = std::fs::read(f)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        Cow::Owned(SourceFile::new(file_name(&url), text))
                    },
                    Cow::Borrowed,
                );
                (url, text)
            })
            .collect();
        Some((sources, focus))
    }

    /// The analysis of an open document, computed again if it is stale.
    pub fn analysis(&mut self, uri: &lsp::Url) -> Option<&Analysis> {
        if !self.analysis.contains_key(uri) || self.dirty.contains(uri) {
            // Free the stale analysis first: two compilations of a large file at once would
            // double the peak memory.
            let mut spans = hapee_compiler::timing::Spans::new("lsp analysis");
            self.analysis.remove(uri);
            spans.mark("free previous");
            // Out of the map while the sources borrow the documents.
            let mut session = self.sessions.remove(uri).unwrap_or_default();
            let text = self.text.get(uri)?;
            let (sources, focus) = self
                .sources(uri)
                .unwrap_or_else(|| (vec![(uri.clone(), Cow::Borrowed(text))], 0));
            let sources: Vec<(lsp::Url, &SourceFile)> = sources
                .iter()
                .map(|(u, f)| (u.clone(), f.as_ref()))
                .collect();
            // Another open file of this workspace, checked again after the same edit, may
            // already have compiled these very texts.
            let shared = self
                .analysis
                .iter()
                .find(|(u, a)| !self.dirty.contains(*u) && a.compiled(&sources))
                .map(|(_, a)| a.refocus(focus));
            let (a, settings) = match shared {
                Some(a) => (a, None),
                None => {
                    let first = sources.first().and_then(|(u, _)| u.to_file_path().ok());
                    let lints = self.lint_config(first.as_deref());
                    spans.mark("sources and lint settings");
                    let settings = crate::settings::diagnostics(&lints, self.enc);
                    let a = Analysis::workspace(&mut session, &sources, focus, &lints, self.enc);
                    (a, settings)
                }
            };
            drop(sources);
            if settings.is_some() {
                self.settings = settings;
            }
            self.sessions.insert(uri.clone(), session);
            spans.mark("compile and lint levels");
            self.analysis.insert(uri.clone(), a);
            spans.done();
        }
        self.analysis.get(uri)
    }
}
