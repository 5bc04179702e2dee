//! The documents the editor has open, the workspace files from the `hapee.files` setting, and
//! the analysis of each open document (recomputed after an edit).
//!
//! With `hapee.files` set (files or directories, in HAProxy's `-f` order; a directory stands
//! for its `*.cfg` files, sorted), an open document that is one of those files is compiled with
//! all of them, open documents taking precedence over the disk. Any other document is compiled
//! alone.

use crate::analysis::Analysis;
use lsp_types as lsp;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct Documents {
    text: HashMap<lsp::Url, String>,
    analysis: HashMap<lsp::Url, Analysis>,
    pub dirty: HashSet<lsp::Url>,
    /// The configured `-f` list.
    files: Vec<PathBuf>,
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

/// The `-f` list with directories expanded to their sorted `*.cfg` files.
fn expand(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(f)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(f.clone());
        }
    }
    out
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

impl Documents {
    pub fn set_files(&mut self, files: Vec<PathBuf>) {
        self.files = files;
        self.touch_all();
    }

    pub fn open(&mut self, uri: lsp::Url, text: String) {
        self.text.insert(uri.clone(), text);
        self.dirty.insert(uri);
        self.touch_all();
    }

    pub fn close(&mut self, uri: &lsp::Url) {
        self.text.remove(uri);
        self.analysis.remove(uri);
        self.dirty.remove(uri);
        self.touch_all();
    }

    pub fn saved(&mut self, uri: lsp::Url) {
        self.dirty.insert(uri);
    }

    /// An edit of one file can change the diagnostics of every file compiled with it.
    fn touch_all(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let open: Vec<lsp::Url> = self.text.keys().cloned().collect();
        self.dirty.extend(open);
    }

    pub fn changed(&mut self, uri: lsp::Url, text: String) {
        self.text.insert(uri.clone(), text);
        self.dirty.insert(uri);
        self.touch_all();
    }

    /// The workspace sources and the index of `uri` among them, when `uri` is a workspace file.
    fn sources(&self, uri: &lsp::Url) -> Option<(Vec<(lsp::Url, String)>, usize)> {
        let path = uri.to_file_path().ok()?;
        let files = expand(&self.files);
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
                let text = self.text.get(&url).cloned().unwrap_or_else(|| {
                    // Bytes that are not UTF-8 become U+FFFD, and the compiler reports them.
                    std::fs::read(f)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                });
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
            self.analysis.remove(uri);
            let text = self.text.get(uri)?;
            let a = match self.sources(uri) {
                Some((sources, focus)) => Analysis::workspace(&sources, focus),
                None => Analysis::new(uri.clone(), text),
            };
            self.analysis.insert(uri.clone(), a);
        }
        self.analysis.get(uri)
    }
}
