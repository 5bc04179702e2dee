//! Completion of the values that name files (certificates, CA and CRL files, error files, Lua
//! scripts, ACL pattern files, maps) from the disk, and of the `[backend/]server` a `track`
//! option names. A relative path is read from the configuration file's folder.

use crate::analysis::Analysis;
use hapee_compiler::ir::FileKind;
use lsp_types as lsp;
use lsp_types::CompletionItemKind as K;

/// Directives whose first argument is a file or a folder.
const FILE_DIRECTIVES: &[&str] = &[
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "ssl-dh-param-file",
    "ca-base",
    "crt-base",
    "issuers-chain-path",
    "h1-case-adjust-file",
    "server-state-file",
    "server-state-base",
    "chroot",
];

/// Functions (converters and rule actions) whose first argument is a pattern or map file.
fn file_call(name: &str) -> bool {
    name.starts_with("map") || matches!(name, "set-map" | "del-map" | "add-acl" | "del-acl")
}

/// Where the path being written starts in `current` (the word at the cursor, up to it), when
/// word `k` of `words` names a file.
pub(crate) fn path_start(words: &[&str], k: usize, current: &str) -> Option<usize> {
    if let Some((name, _, 0)) = crate::signature::open_call(current) {
        return file_call(name).then(|| current.rfind('(').map_or(0, |i| i + 1));
    }
    let previous = *words.get(k.checked_sub(1)?)?;
    let first = *words.first()?;
    let file = if crate::words::options_start(words).is_some_and(|(start, _)| k > start) {
        FileKind::of_tls_option(previous).is_some() || previous == "tls-ticket-keys"
    } else {
        (k == 1 && FILE_DIRECTIVES.contains(&first))
            || (k == 2 && first == "errorfile")
            // `http-request return … file <f>`, `http-error status 503 errorfile <f>`.
            || (k > 2 && matches!(previous, "file" | "lf-file" | "errorfile"))
    };
    let acl_file = matches!(
        crate::arguments::slot(words, k - 1),
        Some(crate::arguments::Slot::AclFlag(_))
    ) && previous == "-f";
    (file || acl_file).then_some(0)
}

impl Analysis {
    /// The entries of the folder `path` (as written so far) names, folders ending with `/`;
    /// hidden ones only once a `.` is typed.
    pub(crate) fn path_items(&self, path: &str) -> Vec<lsp::CompletionItem> {
        let (folder, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let base = if path.starts_with('/') {
            std::path::PathBuf::from(if folder.is_empty() { "/" } else { folder })
        } else {
            let Some(dir) = self
                .uri
                .to_file_path()
                .ok()
                .and_then(|p| p.parent().map(|p| p.to_path_buf()))
            else {
                return Vec::new();
            };
            dir.join(folder)
        };
        let Ok(entries) = std::fs::read_dir(&base) else {
            return Vec::new();
        };
        let mut items: Vec<lsp::CompletionItem> = entries
            .flatten()
            .filter_map(|e| {
                let label = e.file_name().into_string().ok()?;
                if label.starts_with('.') && !name.starts_with('.') {
                    return None;
                }
                let folder = e.file_type().ok()?.is_dir();
                Some(lsp::CompletionItem {
                    label: if folder { format!("{label}/") } else { label },
                    kind: Some(if folder { K::FOLDER } else { K::FILE }),
                    ..Default::default()
                })
            })
            .collect();
        items.sort_by(|a, b| a.label.cmp(&b.label));
        items.truncate(500);
        items
    }

    /// What a `track` option may name: the servers of this backend, then `backend/server`
    /// for the others; after a `/`, the servers of the backend before it. `own` is the server
    /// the line declares, which cannot track itself.
    pub(crate) fn track_items(
        &self,
        line: usize,
        current: &str,
        own: Option<&str>,
    ) -> Vec<lsp::CompletionItem> {
        let item = |label: String, doc: &str| lsp::CompletionItem {
            label,
            kind: Some(K::REFERENCE),
            detail: Some(doc.to_string()),
            ..Default::default()
        };
        let backends = self
            .c
            .config
            .proxies
            .iter()
            .filter(|p| p.kind.has_backend() && p.name.is_some());
        if let Some((backend, _)) = current.split_once('/') {
            return backends
                .filter(|p| p.name_str() == backend)
                .flat_map(|p| p.servers.iter())
                .map(|s| item(s.name.value.to_string(), "server of that backend"))
                .collect();
        }
        let here = self.section_name(line);
        let mut items = Vec::new();
        for p in backends {
            for s in &p.servers {
                if here.as_deref() == Some(p.name_str()) {
                    if own == Some(s.name.value.as_str()) {
                        continue;
                    }
                    items.push(item(s.name.value.to_string(), "server of this backend"));
                } else {
                    let label = format!("{}/{}", p.name_str(), s.name.value);
                    items.push(item(label, "server of another backend"));
                }
            }
        }
        items
    }

    /// The name of the section holding `line` of the focused file.
    fn section_name(&self, line: usize) -> Option<String> {
        let f = self.file();
        let tree = &self.c.tree;
        let s = tree.sections.iter().rfind(|s| {
            s.file == self.focus && f.line_index(tree.header(s).span.start as usize) <= line
        })?;
        tree.header(s).words.get(1).map(|w| w.value.to_string())
    }
}
