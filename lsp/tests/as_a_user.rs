//! What a user meets in an editor, over JSON-RPC: the edits the server's answers carry, applied
//! to the text as an editor applies them, give the text the user meant.

mod common;

use common::Client;
use serde_json::{json, Value};

/// The byte offset of an LSP position (columns in UTF-16 units) in `text`.
fn offset(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let character = pos["character"].as_u64().unwrap() as usize;
    let Some(start) = text
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .sum::<usize>()
        .checked_add(0)
        .filter(|&s| s <= text.len())
    else {
        return text.len();
    };
    let rest = &text[start..];
    let line_text = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let mut units = 0;
    for (i, c) in line_text.char_indices() {
        if units >= character {
            return start + i;
        }
        units += c.len_utf16();
    }
    start + line_text.len()
}

/// `text` with `edits` applied, as an editor applies one answer's edits.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    spans.sort_by_key(|&(start, _, _)| std::cmp::Reverse(start));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end, new);
    }
    out
}

const BASE: &str =
    "defaults\n    mode http\nfrontend fé # café\n    bind :80\n    acl is_api path_beg /api\n";

/// The line `line` of `text` after accepting completion `label` at the end of that line.
fn accept(c: &mut Client, uri: &str, text: &str, line: usize, label: &str) -> String {
    let character = text.lines().nth(line).unwrap().encode_utf16().count();
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    );
    let item = r["result"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["label"] == label))
        .unwrap_or_else(|| panic!("no {label} in {r}"))
        .clone();
    // An item without an edit leaves the editor to find the word typed so far, which it cuts
    // at '-' and '.': what it would then replace is the part after the last of those.
    let edit = item.get("textEdit").cloned().unwrap_or_else(|| {
        let typed = text.lines().nth(line).unwrap();
        let word = typed.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_');
        let start = word.encode_utf16().count();
        json!({"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": character}}, "newText": label})
    });
    apply(text, &[edit]).lines().nth(line).unwrap().to_string()
}

/// Accepting an item replaces the whole name typed so far, dashes, dots and a leading `!`
/// of a condition taken into account.
#[test]
fn accepted_completions_replace_the_name_typed_so_far() {
    let uri = "file:///tmp/as-a-user-completion.cfg";
    let mut c = Client::start();
    c.open(uri, BASE);
    let _ = c.diagnostics(uri);
    let mut version = 1;
    let mut with = |c: &mut Client, line: &str| {
        version += 1;
        let text = format!("{BASE}    {line}\nbackend app\n    server s1 127.0.0.1:1\n");
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        text
    };
    let text = with(&mut c, "http-req");
    assert_eq!(
        accept(&mut c, uri, &text, 5, "http-request"),
        "    http-request"
    );
    let text = with(&mut c, "http-request set-header X %[req.hdr(host),lo");
    assert_eq!(
        accept(&mut c, uri, &text, 5, "lower"),
        "    http-request set-header X %[req.hdr(host),lower"
    );
    let text = with(&mut c, "http-request set-header X %[req.h");
    assert_eq!(
        accept(&mut c, uri, &text, 5, "req.hdr"),
        "    http-request set-header X %[req.hdr"
    );
    let text = with(&mut c, "use_backend app if !is_a");
    assert_eq!(
        accept(&mut c, uri, &text, 5, "is_api"),
        "    use_backend app if !is_api"
    );
    let text = with(&mut c, "option http-ke");
    assert_eq!(
        accept(&mut c, uri, &text, 5, "http-keep-alive"),
        "    option http-keep-alive"
    );
    c.stop();
}

fn hover(c: &mut Client, uri: &str, line: u32, character: u32) -> Value {
    c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    )["result"]
        .clone()
}

/// The text a range of `text` covers.
fn covered<'a>(text: &'a str, range: &Value) -> &'a str {
    &text[offset(text, &range["start"])..offset(text, &range["end"])]
}

/// Hovering a fetch or converter inside an expression highlights that name, not the whole
/// expression; a rule's Lua action is documented as an action, not as a fetch.
#[test]
fn hover_is_about_the_name_under_the_cursor() {
    let uri = "file:///tmp/as-a-user-hover.cfg";
    let mut c = Client::start();
    let line = "    http-request set-header X-Host %[req.hdr(host),lower,map(/etc/hosts.map,é)]";
    let text = format!("global\n    lua-load /tmp/x.lua\n{BASE}{line}\n    http-request lua.tag_request\n    default_backend app\nbackend app\n    server s1 127.0.0.1:1\n");
    c.open(uri, &text);
    let _ = c.diagnostics(uri);
    let at = |name: &str| line.find(name).unwrap() as u32 + 1;
    for name in ["req.hdr", "lower", "map"] {
        let h = hover(&mut c, uri, 7, at(name));
        let value = h["contents"]["value"].as_str().unwrap_or("");
        assert!(value.starts_with(&format!("**{name}**")), "{name}: {h}");
        assert_eq!(covered(&text, &h["range"]), name, "{h}");
    }
    let h = hover(&mut c, uri, 8, 20);
    let value = h["contents"]["value"].as_str().unwrap_or("");
    assert!(
        value.contains("http-request lua.tag_request") && !value.contains("fetch"),
        "{h}"
    );
    assert_eq!(covered(&text, &h["range"]), "lua.tag_request");
    c.stop();
}

fn format(c: &mut Client, uri: &str, range: Option<Value>) -> Vec<Value> {
    let options = json!({"tabSize": 4, "insertSpaces": true});
    let r = match range {
        Some(range) => c.request(
            "textDocument/rangeFormatting",
            json!({"textDocument": {"uri": uri}, "range": range, "options": options}),
        ),
        None => c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": options}),
        ),
    };
    r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .clone()
}

/// What `hapee-lb fmt` writes for `text`.
fn fmt(text: &str) -> String {
    let c = hapee_compiler::testkit::compile_text("f.cfg", text, false);
    hapee_compiler::fmt::format_file(&c.db, &c.tree.files[0])
}

/// Formatting gives the text `hapee-lb fmt` writes, by edits of the lines it changes only;
/// a file with CRLF line endings keeps them; a selection is formatted alone.
#[test]
fn formatting_edits_only_what_it_changes() {
    let mut c = Client::start();
    let messy = "\n\n# top é\nglobal\n  maxconn   100 # ☕\n\n\n\ndefaults\n\tmode http\n    timeout connect 5s\nfrontend fe\n    bind :80\n\n\n";
    for (name, text) in [
        ("lf", messy.to_string()),
        ("no-final-lf", messy.trim_end().to_string()),
        ("crlf", messy.replace('\n', "\r\n")),
        ("crlf-no-final-lf", messy.trim_end().replace('\n', "\r\n")),
    ] {
        let uri = format!("file:///tmp/as-a-user-fmt-{name}.cfg");
        c.open(&uri, &text);
        let edits = format(&mut c, &uri, None);
        let formatted = apply(&text, &edits);
        let want = fmt(&text);
        if name.starts_with("crlf") {
            assert_eq!(formatted, want.replace('\n', "\r\n"), "{name}: {edits:?}");
        } else {
            assert_eq!(formatted, want, "{name}: {edits:?}");
        }
        // Lines already formatted are not edited.
        let untouched = text.lines().position(|l| l == "defaults").unwrap();
        assert!(
            edits
                .iter()
                .all(|e| e["range"]["start"]["line"] != untouched),
            "{name}: {edits:?}"
        );
    }
    // The selection of lines 9 and 10 (`mode`, `timeout connect`): only `mode` changes.
    let uri = "file:///tmp/as-a-user-fmt-lf.cfg";
    let range = json!({"start": {"line": 9, "character": 0}, "end": {"line": 11, "character": 0}});
    let edits = format(&mut c, uri, Some(range));
    let formatted = apply(messy, &edits);
    let want = messy.replace("\tmode http", "    mode http");
    assert_eq!(formatted, want, "{edits:?}");
    c.stop();
}

/// A new file of a `-f` directory, open in the editor but not saved yet, is compiled with the
/// directory's other files: what it names there is found, and they see what it names.
#[test]
fn an_unsaved_file_of_a_workspace_directory_is_part_of_the_workspace() {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-unsaved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let front = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind :8080\n    default_backend app\n";
    std::fs::write(dir.join("10-front.cfg"), front).unwrap();
    let new = dir.join("20-back.cfg");
    let uri_front = format!("file://{}", dir.join("10-front.cfg").display());
    let uri_new = format!("file://{}", new.display());
    let mut c = Client::start_with(json!({"hapee": {"files": [dir.display().to_string()]}}));
    c.open(&uri_new, "backend app\n    server s1 127.0.0.1:9000\n");
    let d = c.diagnostics(&uri_new);
    assert!(
        d.is_empty(),
        "the defaults and the frontend are in 10-front.cfg: {d:?}"
    );
    c.open(&uri_front, front);
    let d = c.diagnostics(&uri_front);
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri_front}, "position": {"line": 7, "character": 21}}),
    );
    assert_eq!(def["result"]["uri"], uri_new.as_str(), "{def}");
    assert!(!new.exists());
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A very long line (a long quoted string, as a `description` or a `return` body may hold)
/// is checked and answered about like any other: the server used to die on it.
#[test]
fn a_very_long_quoted_line_is_answered() {
    let uri = "file:///tmp/as-a-user-long.cfg";
    let mut c = Client::start();
    let long = format!("    description \"{}\"", "é ".repeat(60_000));
    let text = format!("global\n{long}\n    maxconn 10 # ☕\n{BASE}    default_backend nope\n");
    c.open(uri, &text);
    let d = c.diagnostics(uri);
    let e241 = d.iter().find(|d| d["code"] == "E241").expect("E241");
    assert_eq!(covered(&text, &e241["range"]), "nope");
    let h = hover(&mut c, uri, 2, 6);
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap_or("")
        .contains("maxconn"));
    c.stop();
}

/// The quick fix that adds the missing final line feed ends the line as the file's other
/// lines end.
#[test]
fn a_final_line_feed_added_to_a_crlf_file_is_crlf() {
    let uri = "file:///tmp/as-a-user-crlf-fix.cfg";
    let mut c = Client::start();
    let text = "global\r\n    maxconn 10\r\ndefaults\r\n    mode http";
    c.open(uri, text);
    let d = c.diagnostics(uri);
    assert!(d.iter().any(|d| d["code"] == "E009"), "{d:?}");
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 13}}, "context": {"diagnostics": d}}),
    );
    let fix = r["result"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|a| a["title"].as_str().unwrap_or("").contains("E009"))
        })
        .unwrap_or_else(|| panic!("{r}"));
    let edits = fix["edit"]["changes"][uri].as_array().unwrap();
    assert_eq!(apply(text, edits), format!("{text}\r\n"));
    c.stop();
}
