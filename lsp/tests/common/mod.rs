//! A scripted editor: speaks JSON-RPC to the `hapee-lsp` binary over stdio.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
    /// The server's answer to `initialize`.
    pub init: Value,
    /// The diagnostics last published for each URI.
    shown: std::collections::HashMap<String, Vec<Value>>,
}

fn read_message(r: &mut BufReader<ChildStdout>) -> Option<Value> {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start() -> Client {
        Client::start_with(Value::Null)
    }

    /// Starts the server with these `initializationOptions`.
    pub fn start_with(options: Value) -> Client {
        Client::start_full(options, Value::Null)
    }

    /// Starts the server for the workspace rooted at `root`.
    pub fn start_in(root: &std::path::Path) -> Client {
        let uri = format!("file://{}", root.display());
        Client::start_full(Value::Null, Value::String(uri))
    }

    /// Starts the server for the workspace rooted at `root` with these `initializationOptions`.
    pub fn start_in_with_options(root: &std::path::Path, options: Value) -> Client {
        let uri = format!("file://{}", root.display());
        Client::start_full(options, Value::String(uri))
    }

    fn start_full(options: Value, root_uri: Value) -> Client {
        Client::start_with_capabilities(options, root_uri, json!({}))
    }

    /// Starts the server for the workspace rooted at `root` with these client capabilities.
    pub fn start_in_with(root: &std::path::Path, capabilities: Value) -> Client {
        let uri = format!("file://{}", root.display());
        Client::start_with_capabilities(Value::Null, Value::String(uri), capabilities)
    }

    fn start_with_capabilities(options: Value, root_uri: Value, capabilities: Value) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hapee-lsp"))
            .env("HAPEE_LSP_CRASH_REQUEST", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hapee-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(m) = read_message(&mut stdout) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            messages: rx,
            next_id: 1,
            init: Value::Null,
            shown: Default::default(),
        };
        let init = c.request(
            "initialize",
            json!({"capabilities": capabilities, "processId": null, "rootUri": root_uri, "initializationOptions": options}),
        );
        assert!(
            init["result"]["capabilities"]["hoverProvider"]
                .as_bool()
                .unwrap_or(false),
            "{init}"
        );
        c.notify("initialized", json!({}));
        c.init = init;
        c
    }

    /// Sends `exit` after whatever was sent before, and returns the server's exit status.
    pub fn exit(self) -> std::process::ExitStatus {
        let mut c = self;
        c.notify("exit", Value::Null);
        let Client {
            mut child, stdin, ..
        } = c;
        drop(stdin);
        child.wait().expect("exit")
    }

    pub fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.next("response in time");
            if m["id"] == json!(id) {
                return m;
            }
        }
    }

    /// Replaces the whole text of an open document (a full-text `didChange`).
    pub fn replace_text(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }

    /// The hover one character into the `nth` occurrence of `word` on line `line` of `text` (the
    /// document open as `uri`).
    pub fn hover_word(
        &mut self,
        uri: &str,
        text: &str,
        line: u32,
        word: &str,
        nth: usize,
    ) -> String {
        let line_text = text.lines().nth(line as usize).unwrap();
        let col = line_text
            .match_indices(word)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {word} on line {line}"))
            .0 as u32
            + 1;
        self.hover_text(uri, line, col)
    }

    /// The markdown of the hover at a position ("" when there is none); the request must not fail.
    pub fn hover_text(&mut self, uri: &str, line: u32, character: u32) -> String {
        let r = self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri},
                   "position": {"line": line, "character": character}}),
        );
        assert!(r.get("error").is_none(), "{r}");
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The labels of the completion items offered at a position.
    pub fn completion_labels(&mut self, uri: &str, line: u32, character: u32) -> Vec<String> {
        let r = self.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri},
                   "position": {"line": line, "character": character}}),
        );
        r["result"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .filter_map(|i| i["label"].as_str().map(String::from))
            .collect()
    }

    /// Answers a request, with the URIs of the diagnostics published before the answer (the
    /// server publishes what pending edits changed before it answers).
    pub fn request_after_publishes(&mut self, method: &str, params: Value) -> (Value, Vec<String>) {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let mut published = Vec::new();
        loop {
            let m = self.next("response in time");
            if m["id"] == json!(id) {
                return (m, published);
            }
            if m["method"] == "textDocument/publishDiagnostics" {
                published.push(m["params"]["uri"].as_str().unwrap_or("").to_string());
            }
        }
    }

    /// The next request the server sends with this method.
    pub fn server_request(&mut self, method: &str) -> Value {
        loop {
            let m = self.next("server request in time");
            if m["method"] == method && m.get("id").is_some() {
                return m;
            }
        }
    }

    /// The next message from the server (`what` names it in the panic if none comes in two
    /// minutes); remembers the diagnostics it publishes.
    fn next(&mut self, what: &str) -> Value {
        let m = self
            .messages
            .recv_timeout(Duration::from_secs(120))
            .expect(what);
        if m["method"] == "textDocument/publishDiagnostics" {
            if let Some(uri) = m["params"]["uri"].as_str() {
                let list = m["params"]["diagnostics"].as_array().cloned();
                self.shown.insert(uri.to_string(), list.unwrap_or_default());
            }
        }
        m
    }

    /// The diagnostics the editor shows for `uri` once the server has handled what was sent
    /// before: the next ones published for it, or, when the server published none for it
    /// (it does not send the same diagnostics again), the last ones it published.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        // The server publishes what it owes before it answers a request.
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": "hapee/sync", "params": null}));
        loop {
            let m = self.next("diagnostics in time");
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            if m["id"] == json!(id) {
                return self
                    .shown
                    .get(uri)
                    .cloned()
                    .expect("diagnostics published before");
            }
        }
    }

    /// Whether the server published diagnostics for `uri` before answering a request sent now.
    pub fn published_again(&mut self, uri: &str) -> bool {
        let (_, published) = self.request_after_publishes("hapee/sync", Value::Null);
        published.iter().any(|u| u == uri)
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "haproxy", "version": 1, "text": text}}));
    }

    pub fn stop(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        // Closing stdin lets the server's reader thread finish.
        let Client {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let status = child.wait().expect("exit");
        assert!(status.success());
    }
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Applies LSP text edits to an ASCII text, as an editor does.
pub fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + p["character"].as_u64().unwrap() as usize
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end.min(out.len()), &new);
    }
    out
}

/// The edits of the code action titled like `title` on `line`.
pub fn action_edits(c: &mut Client, uri: &str, line: u32, title: &str) -> Vec<Value> {
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "context": {"diagnostics": []}}),
    );
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    let a = actions
        .iter()
        .find(|a| a["title"].as_str().unwrap_or("").contains(title))
        .unwrap_or_else(|| panic!("no '{title}' action in {actions:?}"));
    a["edit"]["changes"][uri].as_array().unwrap().clone()
}

pub fn codes(d: &[Value]) -> Vec<String> {
    d.iter()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect()
}
