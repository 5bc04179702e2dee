//! The diagnostics the server publishes after each incremental edit (a range of the previous
//! text replaced, as an editor sends it) are those of the compiler's `check` pipeline run from
//! scratch on the same text: compile, lints (run on a configuration with errors too, as the
//! server shows them), the levels of `.hapee.toml` and inline `# hapee: allow(…)` comments.
//! The server compiles only what an edit changed and keeps lint findings from one edit to the
//! next; this compares it, edit after edit, with a compilation that reuses nothing.

mod common;
#[path = "../../compiler/tests/support/routing.rs"]
mod routing;
use routing::routing_config;

use common::Client;
use hapee_compiler::check::compile;
use hapee_compiler::diagnostic::{Diagnostic, Severity};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::lint::LintConfig;
use hapee_compiler::source::{SourceDb, SourceFile};
use hapee_compiler::syntax::ProcessEnv;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The lint levels of the test's workspace: one code raised, one allowed, one lowered.
const HAPEE_TOML: &str = "[lints]\ndeny = [\"L002\"]\nallow = [\"L015\"]\nwarn = [\"L007\"]\n";

/// The LSP position (line, UTF-16 unit) of byte `offset` of `file`.
fn position(file: &SourceFile, offset: usize) -> Value {
    let line = file.line_index(offset);
    let start = file.line_starts()[line] as usize;
    let character = file.text[start..offset.min(file.text.len())]
        .encode_utf16()
        .count();
    json!({"line": line, "character": character})
}

fn range(file: &SourceFile, span: hapee_compiler::Span) -> Value {
    json!({"start": position(file, span.start as usize), "end": position(file, span.end as usize)})
}

/// What `check` finds in `text`, as the server shows it: the fields of each diagnostic an
/// editor reads, errors first.
fn expected(path: &Path, uri: &str, text: &str, levels: &LintConfig) -> Vec<Value> {
    let mut db = SourceDb::new();
    db.add(path.display().to_string(), text);
    let options = CheckOptions {
        no_env: true,
        master_worker: false,
        lints: true,
        resolve_dontfail: false,
    };
    let mut c = compile(db, &ProcessEnv, &options);
    if c.has_errors() {
        let lints = hapee_compiler::lint::run(&c, &options);
        c.diagnostics.extend(lints);
    } else {
        // What `run` would refuse, as far as the compiler alone knows.
        let refused = hapee_compiler::refusals::registry_diagnostics(&c);
        c.diagnostics.extend(refused);
    }
    let diags = levels.apply(&c.db, std::mem::take(&mut c.diagnostics));
    let file = c.db.file(hapee_compiler::FileId(0));
    let mut shown: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity != Severity::Hint)
        .collect();
    shown.sort_by_key(|d| d.severity != Severity::Error);
    shown
        .into_iter()
        .map(|d| {
            let mut message = d.message.to_string();
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .map(|l| {
                    json!({"location": {"uri": uri, "range": range(file, l.span)}, "message": l.message})
                })
                .collect();
            json!({
                "range": d.span.map_or_else(
                    || json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}),
                    |s| range(file, s),
                ),
                "severity": match d.severity {
                    Severity::Error => 1,
                    Severity::Warning => 2,
                    Severity::Notice => 3,
                    Severity::Hint => 4,
                },
                "code": d.code,
                "message": message,
                "related": related,
            })
        })
        .collect()
}

/// The same fields of the published diagnostics.
fn published(diags: Vec<Value>) -> Vec<Value> {
    diags
        .into_iter()
        .map(|d| {
            json!({
                "range": d["range"],
                "severity": d["severity"],
                "code": d["code"],
                "message": d["message"],
                "related": d.get("relatedInformation").cloned().unwrap_or(json!([])),
            })
        })
        .collect()
}

/// The `didChange` content change that turns `old` into `new`: the bytes between their common
/// start and common end, as a range of `old`.
fn change(old: &str, new: &str) -> Value {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let most = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(most)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    let file = SourceFile::new("old", old);
    json!({
        "range": {"start": position(&file, prefix), "end": position(&file, old.len() - suffix)},
        "text": &new[prefix..new.len() - suffix],
    })
}

/// An open document and the server it is open in.
struct Editor {
    client: Client,
    path: PathBuf,
    uri: String,
    text: String,
    version: i64,
    levels: LintConfig,
    edits: usize,
}

impl Editor {
    fn open(client: Client, path: PathBuf, text: String) -> Editor {
        let uri = format!("file://{}", path.display());
        let mut e = Editor {
            client,
            path,
            uri,
            text,
            version: 1,
            levels: LintConfig::from_toml(HAPEE_TOML).expect("levels"),
            edits: 0,
        };
        let (uri, text) = (e.uri.clone(), e.text.clone());
        e.client.open(&uri, &text);
        e.compare("opened");
        e
    }

    /// Sends the edit that makes the text `new` and compares what the server publishes.
    fn edit(&mut self, new: String, what: &str) {
        self.version += 1;
        let params = json!({
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [change(&self.text, &new)],
        });
        self.text = new;
        self.client.notify("textDocument/didChange", params);
        self.edits += 1;
        self.compare(what);
    }

    /// Replaces the first `from` with `to`.
    fn replace(&mut self, from: &str, to: &str) {
        let at = self
            .text
            .find(from)
            .unwrap_or_else(|| panic!("{from:?} in the text"));
        let mut new = self.text.clone();
        new.replace_range(at..at + from.len(), to);
        self.edit(new, &format!("{from:?} -> {to:?}"));
    }

    fn compare(&mut self, what: &str) {
        let got = published(self.client.diagnostics(&self.uri));
        let want = expected(&self.path, &self.uri, &self.text, &self.levels);
        if got != want {
            let only = |a: &[Value], b: &[Value]| {
                a.iter()
                    .filter(|d| !b.contains(d))
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            panic!(
                "{}: {what}: published diagnostics differ from check's ({} published, {} expected)\nonly published: {:#?}\nonly expected: {:#?}",
                self.path.display(),
                got.len(),
                want.len(),
                only(&got, &want),
                only(&want, &got)
            );
        }
    }

    /// Closes the document: the server and the number of edits made.
    fn close(mut self) -> (Client, usize) {
        self.client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": self.uri}}),
        );
        (self.client, self.edits)
    }
}

/// A directory with the workspace's `.hapee.toml`.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hapee-lsp-incremental-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(".hapee.toml"), HAPEE_TOML).expect(".hapee.toml");
    dir
}

/// Edits of the benchmark's configuration (large enough that its first build shares the
/// bodies among threads): lines inserted and deleted, a backend renamed away from its
/// `use_backend` and back, ACLs added and removed, an allow comment, a shadowed rule, text
/// shifted by a line at the top, the defaults changed, sections added and removed, typing.
#[test]
fn edits_of_a_large_routing_configuration_publish_what_check_finds() {
    let dir = workspace("routing");
    let path = dir.join("acl.cfg");
    let mut e = Editor::open(Client::start_in(&dir), path, routing_config(1100));
    e.replace("    default_backend be_0\n", "    default_backend be_1\n");
    e.replace(
        "    server s0 10.2.50.1:8080 check\n",
        "    server s0 10.2.50.1:8080 check weight 3\n",
    );
    // A server without `check` in a backend with `option httpchk` (L007, lowered to a warning).
    e.replace(
        "backend be_10\n",
        "backend be_10\n    server s9 10.99.0.1:80\n",
    );
    e.replace("    server s9 10.99.0.1:80\n", "");
    // A backend renamed: its `use_backend` names nothing (an error), then follows it.
    e.replace("backend be_20\n", "backend be_20x\n");
    e.replace("use_backend be_20 if", "use_backend be_20x if");
    // An unused ACL (L002, raised to an error), allowed on its line, then removed.
    e.replace(
        "    acl host_5 hdr(host) -i app5.example.com\n",
        "    acl host_5 hdr(host) -i app5.example.com\n    acl unused_1 path_beg /x\n",
    );
    e.replace(
        "    acl unused_1 path_beg /x\n",
        "    acl unused_1 path_beg /x # hapee: allow(L002)\n",
    );
    e.replace("    acl unused_1 path_beg /x # hapee: allow(L002)\n", "");
    // A `use_backend` shadowed by an earlier one with the same condition (L004).
    e.replace(
        "    use_backend be_6 if host_6\n",
        "    use_backend be_6 if host_6\n    use_backend be_7 if host_6\n",
    );
    e.replace("    use_backend be_7 if host_6\n", "");
    // Every line after the first moves down.
    e.replace("global\n", "# generated\nglobal\n");
    // The defaults change: every body is built again.
    e.replace("    timeout server 30s\n", "    timeout server 31s\n");
    e.replace("    timeout server 31s\n", "    timeout server 30s\n");
    // A backend nobody uses (L001), then a used one removed and written again.
    let end = e.text.clone() + "backend be_new\n    server s1 10.98.0.1:80\n";
    e.edit(end, "backend added at the end");
    let removed = "backend be_300\n    option httpchk GET /health\n    http-check expect status 200\n    server s0 10.1.50.1:8080 check\n    server s1 10.1.50.2:8080 check\n\n";
    e.replace(removed, "");
    e.replace("backend be_301\n", &format!("{removed}backend be_301\n"));
    // Two servers of one backend at one address (L006).
    e.replace(
        "    server s1 10.0.50.2:8080 check\n",
        "    server s1 10.0.50.1:8080 check\n",
    );
    // Typing a backend's name, one character after the other.
    for typed in ["backend be_40a\n", "backend be_40ab\n", "backend be_40a\n"] {
        let from = e.text.find("backend be_40").expect("be_40");
        let end = from + e.text[from..].find('\n').expect("line end") + 1;
        let mut new = e.text.clone();
        new.replace_range(from..end, typed);
        e.edit(new, typed);
    }
    // The defaults in TCP mode: the HTTP options are in vain everywhere (L010).
    e.replace("    mode http\n", "    mode tcp\n");
    e.replace("    mode tcp\n", "    mode http\n");
    let (client, edits) = e.close();
    client.stop();
    assert!(edits >= 20, "{edits} edits");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// Random edits of the lint fixtures (each with the pitfall of one lint, or without it) and of
/// a few corpus configurations: lines from the other files inserted, lines deleted, characters
/// typed, lines replaced.
#[test]
fn random_edits_of_lint_fixtures_and_corpus_configurations_publish_what_check_finds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("testdata/lints"))
        .expect("lint fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    files.sort();
    let corpus = hapee_compiler::testkit::corpus_dir().join("regtests-2.7");
    for name in [
        "checks/http-check.vtc.cfg",
        "http-rules/acl_cli_spaces.vtc.cfg",
        "balance/balance-uri.vtc.cfg",
    ] {
        let p = corpus.join(name);
        if p.is_file() {
            files.push(p);
        }
    }
    assert!(files.len() > 30, "fixtures found: {}", files.len());
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable"))
        .collect();
    let pool: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
    let dir = workspace("fixtures");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut client = Client::start_in(&dir);
    let mut edits = 0;
    for (i, text) in texts.iter().enumerate() {
        let path = dir.join(format!("fixture-{i}.cfg"));
        let mut e = Editor::open(client, path, text.clone());
        for step in 0..6 {
            let mut new = e.text.clone();
            let lines: Vec<usize> = std::iter::once(0)
                .chain(new.match_indices('\n').map(|(at, _)| at + 1))
                .filter(|&at| at < new.len())
                .collect();
            let start = lines[rng.below(lines.len())];
            let end = new[start..].find('\n').map_or(new.len(), |n| start + n + 1);
            let line = pool[rng.below(pool.len())];
            match rng.below(5) {
                0 => new.insert_str(start, &format!("{line}\n")),
                1 => new.replace_range(start..end, ""),
                2 => new.replace_range(start..end, &format!("{line}\n")),
                3 => new.insert_str(end.saturating_sub(1).max(start), " x"),
                _ => new.insert_str(
                    end.saturating_sub(1).max(start),
                    " # hapee: allow(L002, L006, unused-backend)",
                ),
            }
            e.edit(new, &format!("random edit {step}"));
        }
        let done;
        (client, done) = e.close();
        edits += done;
    }
    client.stop();
    assert!(edits > 200, "{edits} edits");
    let _ = std::fs::remove_dir_all(&dir);
}
