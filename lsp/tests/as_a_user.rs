//! What a user meets in an editor, over JSON-RPC: the edits the server's answers carry, applied
//! to the text as an editor applies them, give the text the user meant.

mod common;

use common::Client;
use serde_json::{json, Value};

/// The byte offset of an LSP position (columns in UTF-16 units) in `text`, its lines ended
/// as the protocol ends them: by `\n`, `\r\n` or a lone `\r`.
fn offset(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let character = pos["character"].as_u64().unwrap() as usize;
    let bytes = text.as_bytes();
    let ends = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')));
    let start = match line {
        0 => 0,
        n => match ends.clone().nth(n - 1) {
            Some(end) => end + 1,
            None => return text.len(),
        },
    };
    let rest = &text[start..];
    let line_text = &rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())];
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
    accept_at(c, uri, text, line, character, label).0
}

/// The line `line` of `text` after accepting completion `label` with the cursor `character`
/// columns into it, and the labels offered.
fn accept_at(
    c: &mut Client,
    uri: &str,
    text: &str,
    line: usize,
    character: usize,
    label: &str,
) -> (String, Vec<String>) {
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    );
    let items = r["result"].as_array().cloned().unwrap_or_default();
    let labels = items
        .iter()
        .map(|i| i["label"].as_str().unwrap_or("").to_string())
        .collect();
    let item = items
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no {label} in {r}"))
        .clone();
    // An item without an edit leaves the editor to find the word typed so far, which it cuts
    // at '-' and '.': what it would then replace is the part after the last of those.
    let edit = item.get("textEdit").cloned().unwrap_or_else(|| {
        let typed = &text.lines().nth(line).unwrap()[..character];
        let word = typed.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_');
        let start = word.encode_utf16().count();
        json!({"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": character}}, "newText": label})
    });
    (
        apply(text, &[edit]).lines().nth(line).unwrap().to_string(),
        labels,
    )
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

/// With the cursor inside a word, the items are those that start with the part before the
/// cursor, and accepting one replaces the whole word, the part after the cursor too.
#[test]
fn a_completion_inside_a_word_replaces_the_whole_word() {
    let uri = "file:///tmp/as-a-user-mid-word.cfg";
    let lines = [
        "    use_backend app",
        "    http-request set-header X %[req.hdr(host),lower]",
        "    acl h hdr(host) -i example.com",
        "    timeout client 5s",
    ];
    let text = format!(
        "{BASE}{}\nbackend app\n    server s1 127.0.0.1:1\n",
        lines.join("\n")
    );
    let mut c = Client::start();
    c.open(uri, &text);
    let _ = c.diagnostics(uri);
    // (line, cursor after this prefix, label accepted, line after, a label filtered out)
    let cases = [
        (
            5,
            "    use_bac",
            "use_backend",
            "    use_backend app",
            "mode",
        ),
        (
            6,
            "    http-request set-header X %[req.hdr(host),lo",
            "lower",
            "    http-request set-header X %[req.hdr(host),lower]",
            "upper",
        ),
        (
            6,
            "    http-request set-header X %[req.hdr(ho",
            "host",
            "    http-request set-header X %[req.hdr(host),lower]",
            "user-agent",
        ),
        (
            7,
            "    acl h hdr(ho",
            "host",
            "    acl h hdr(host) -i example.com",
            "cookie",
        ),
        (
            8,
            "    timeout cl",
            "client",
            "    timeout client 5s",
            "server",
        ),
    ];
    for (line, before, label, after, absent) in cases {
        let character = before.encode_utf16().count();
        let (got, labels) = accept_at(&mut c, uri, &text, line, character, label);
        assert_eq!(got, after, "{before}|");
        let mut words = before.rsplit(|c: char| !(c.is_alphanumeric() || "_.-:".contains(c)));
        let typed = words.next().unwrap_or("").to_lowercase();
        assert!(
            labels.iter().all(|l| l.to_lowercase().starts_with(&typed)),
            "{before}|: {labels:?}"
        );
        assert!(!labels.iter().any(|l| l == absent), "{before}|: {labels:?}");
    }
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

/// Old Mac line endings: the editor ends a line at a lone `\r`; HAProxy reads a line up to its
/// first `\r` and skips the rest up to the line feed. Positions are the editor's, the
/// diagnostics HAProxy's (beside Debian's haproxy when it is installed) with L022 on what it
/// skips, incremental edits land where the editor put them, and formatting keeps the text
/// HAProxy skips.
#[test]
fn a_lone_carriage_return_ends_a_line_for_the_editor() {
    let uri = "file:///tmp/as-a-user-lone-cr.cfg";
    let text = "global\r    maxconn 10\rdefaults\r  mode http\rfrontend f\r    bind :8080\n    bogus2 x\n    maxconn   100\r# mac\n    nbthread   2\n";
    let mut c = Client::start();
    c.open(uri, text);
    let d = c.diagnostics(uri);
    let e101 = d
        .iter()
        .find(|d| d["code"] == "E101")
        .unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(covered(text, &e101["range"]), "bogus2", "{e101}");
    assert_eq!(e101["range"]["start"]["line"], 6, "{e101}");
    // What HAProxy skips is pointed out: from the first lone `\r` of its line to the line feed.
    let l022: Vec<&Value> = d.iter().filter(|d| d["code"] == "L022").collect();
    assert_eq!(l022.len(), 2, "{d:?}");
    assert_eq!(
        covered(text, &l022[0]["range"]),
        "\r    maxconn 10\rdefaults\r  mode http\rfrontend f\r    bind :8080"
    );
    assert_eq!(
        l022[0]["range"]["start"],
        json!({"line": 0, "character": 6})
    );
    assert_eq!(l022[0]["range"]["end"], json!({"line": 5, "character": 14}));
    // HAProxy's line number is the line feeds' count: that is the line it names.
    let start = offset(text, &e101["range"]["start"]);
    let haproxy_line = text[..start].matches('\n').count() + 1;
    assert_eq!(haproxy_line, 2);
    let message = e101["message"].as_str().unwrap();
    match std::process::Command::new("haproxy").arg("-v").output() {
        Ok(_) => {
            let dir = std::env::temp_dir().join(format!("hapee-lone-cr-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("mac.cfg"), text).unwrap();
            let out = std::process::Command::new("haproxy")
                .args(["-c", "-f", "mac.cfg"])
                .current_dir(&dir)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want = format!("parsing [mac.cfg:{haproxy_line}] : {message}");
            assert!(stderr.contains(&want), "{want}\n{stderr}");
            let _ = std::fs::remove_dir_all(&dir);
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => panic!("haproxy is missing"),
        Err(_) => eprintln!("haproxy not installed: the HAProxy side is not compared"),
    }
    // A word on an editor line that follows a lone `\r` but starts HAProxy's next line.
    let h = hover(&mut c, uri, 7, 6);
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("maxconn"),
        "{h}"
    );
    // Formatting leaves the lines holding a lone `\r` as they are, and fixes the others.
    let edits = format(&mut c, uri, None);
    let formatted = apply(text, &edits);
    assert_eq!(formatted, fmt(text), "{edits:?}");
    assert!(formatted.contains("\r    maxconn 10\rdefaults\r  mode http\r"));
    assert!(
        formatted.contains("    maxconn   100\r# mac\n    nbthread 2\n"),
        "{formatted:?}"
    );
    // An edit on the editor's line 6 replaces `bogus2` there.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 6, "character": 4}, "end": {"line": 6, "character": 10}}, "text": "maxconn"}]}),
    );
    let d = c.diagnostics(uri);
    assert!(d.iter().all(|d| d["code"] != "E101"), "{d:?}");
    c.stop();
}

/// On a line holding a lone `\r`, what HAProxy reads ends there: L015 marks the section header
/// without the text after it, and "allow on this line" writes its comment before the `\r`,
/// where `check` (and HAProxy) read it; a comment in the skipped text allows nothing.
#[test]
fn warnings_on_a_line_with_a_lone_carriage_return_stop_at_it() {
    let uri = "file:///tmp/as-a-user-lone-cr-allow.cfg";
    let text = "global\r    maxconn 10\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind :8080\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n";
    let mut c = Client::start();
    c.open(uri, text);
    let d = c.diagnostics(uri);
    let l015 = d
        .iter()
        .find(|d| d["code"] == "L015")
        .unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(covered(text, &l015["range"]), "global", "{l015}");
    assert_eq!(l015["range"]["end"], json!({"line": 0, "character": 6}));
    for code in ["L015", "L022"] {
        let r = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": l015["range"], "context": {"diagnostics": d}}),
        );
        let title = format!("allow {code} on this line");
        let fix = r["result"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["title"] == title.as_str()))
            .unwrap_or_else(|| panic!("{r}"));
        let edits = fix["edit"]["changes"][uri].as_array().unwrap();
        let allowed = apply(text, edits);
        assert!(
            allowed.starts_with(&format!("global # hapee: allow({code})\r    maxconn 10\n")),
            "{allowed:?}"
        );
        // The comment does what it says: the code is gone, the other stays.
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": allowed}]}),
        );
        let shown = c.diagnostics(uri);
        assert!(shown.iter().all(|d| d["code"] != code), "{shown:?}");
        let other = if code == "L015" { "L022" } else { "L015" };
        assert!(shown.iter().any(|d| d["code"] == other), "{shown:?}");
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": text}]}),
        );
    }
    // Written after the `\r`, where HAProxy no longer reads, the comment allows nothing.
    let skipped = text.replace("maxconn 10\n", "maxconn 10 # hapee: allow(L015)\n");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": skipped}]}),
    );
    let shown = c.diagnostics(uri);
    assert!(shown.iter().any(|d| d["code"] == "L015"), "{shown:?}");
    c.stop();
}
