//! Speaks JSON-RPC to the `hapee-lsp` binary over stdio, as an editor does.

mod common;

use common::Client;
use serde_json::json;
use std::time::Duration;

const CFG: &str = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080 process 1\n    acl is_api path_beg /api\n    use_backend api if is_api\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\nbackend api\n    server a1 127.0.0.1:9001\n";
const URI: &str = "file:///tmp/haproxy.cfg";

#[test]
fn diagnostics_match_check_with_utf16_ranges() {
    let mut c = Client::start();
    assert_eq!(
        c.init["result"]["capabilities"]["positionEncoding"], "utf-16",
        "a client that offers no encoding gets the protocol's"
    );
    c.open(URI, CFG);
    let d = c.diagnostics(URI);
    let e302 = d
        .iter()
        .find(|d| d["code"] == "E302")
        .expect("E302 published");
    assert_eq!(e302["range"]["start"], json!({"line": 8, "character": 24}));
    assert_eq!(e302["severity"], 1);
    // An edit that fixes it clears the error.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": CFG.replace(" process 1", " thread 1")}]}),
    );
    assert!(c.diagnostics(URI).iter().all(|d| d["code"] != "E302"));
    // Non-ASCII text before an error: columns count UTF-16 units.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": "global\n    description \"é😀\" bind-process\n    nbproc 2\n"}]}),
    );
    let d = c.diagnostics(URI);
    let nbproc = d.iter().find(|d| d["code"] == "E311").expect("E311");
    assert_eq!(nbproc["range"]["start"]["line"], 2);
    c.stop();
}

/// A client that offers UTF-8 positions gets them: columns count bytes, in the diagnostics
/// published and in the edits the client sends.
#[test]
fn positions_count_bytes_for_a_client_that_offers_utf8() {
    let root = std::env::temp_dir().join(format!("hapee-lsp-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let caps = json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}});
    let mut c = Client::start_in_with(&root, caps);
    assert_eq!(
        c.init["result"]["capabilities"]["positionEncoding"],
        "utf-8"
    );
    let line = "    bind 127.0.0.1:8080 name é😀 process 1";
    let text = CFG.replace("    bind 127.0.0.1:8080 process 1", line);
    c.open(URI, &text);
    let d = c.diagnostics(URI);
    let e302 = d.iter().find(|d| d["code"] == "E302").expect("E302");
    let at = line.find("process").unwrap();
    assert_ne!(
        at,
        line[..at].encode_utf16().count(),
        "the line is not ASCII"
    );
    assert_eq!(e302["range"]["start"], json!({"line": 8, "character": at}));
    // An edit placed in bytes lands where the client meant it.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": 8, "character": at}, "end": {"line": 8, "character": line.len()}},
            "text": "thread 1"}]}),
    );
    let d = c.diagnostics(URI);
    assert!(d.iter().all(|d| d["code"] != "E302"), "{d:?}");
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    c.stop();
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn hover_definition_symbols_completion_formatting_actions() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 11, "character": 22}}),
    );
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("servers: s1"),
        "{hover}"
    );
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": URI}, "position": {"line": 10, "character": 27}}),
    );
    assert_eq!(def["result"]["range"]["start"]["line"], 9, "{def}");
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let names: Vec<&str> = symbols["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"frontend fe") && names.contains(&"backend api"),
        "{names:?}"
    );
    let completion = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 11, "character": 20}}),
    );
    let labels: Vec<&str> = completion["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"app") && labels.contains(&"api"),
        "{labels:?}"
    );
    let fmt = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(fmt["result"].is_array(), "{fmt}");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 8, "character": 0}, "end": {"line": 8, "character": 40}}, "context": {"diagnostics": []}}),
    );
    let titles: Vec<&str> = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains("replace 'process' with 'thread'")),
        "{titles:?}"
    );
    c.stop();
}

#[test]
fn robustness_unknown_methods_closed_documents_rapid_edits_and_big_files() {
    let mut c = Client::start();
    let unknown = c.request("textDocument/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    // A handler that panics answers an internal error; the server keeps serving.
    let crashed = c.request("hapee/crashForTesting", json!({}));
    assert_eq!(crashed["error"]["code"], -32603, "{crashed}");
    let closed = c.request("textDocument/hover", json!({"textDocument": {"uri": "file:///nope.cfg"}, "position": {"line": 0, "character": 0}}));
    assert!(closed.get("error").is_some());
    c.open(URI, CFG);
    for v in 2..102 {
        let text = format!("{CFG}# edit {v}\n");
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": v}, "contentChanges": [{"text": text}]}),
        );
    }
    let after = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert!(after["result"].is_array());
    let mut big = String::from("global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend b0\n");
    let mut i = 0;
    while 10 + 3 * i < 200_000 {
        big.push_str(&format!(
            "backend b{i}\n    server s1 10.0.{}.{}:80\n    server s2 10.1.{}.{}:80\n",
            i / 250 % 250,
            i % 250 + 1,
            i / 250 % 250,
            i % 250 + 1
        ));
        i += 1;
    }
    c.open("file:///tmp/big.cfg", &big);
    let d = c.diagnostics("file:///tmp/big.cfg");
    assert!(
        d.iter().all(|d| d["severity"] != 1),
        "no errors expected in the big file"
    );
    c.stop();
}

/// Voluntary context switches of every thread of process `pid` (each wake-up from a wait counts one).
fn wake_ups(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc task list");
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

#[test]
fn an_idle_server_sleeps_until_a_message_arrives() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    // With nothing owed to the editor the server blocks on its input; a server that polls on a
    // timer (a 2 ms debounce would) wakes hundreds of times a second.
    std::thread::sleep(Duration::from_millis(200));
    let before = wake_ups(c.pid());
    std::thread::sleep(Duration::from_secs(1));
    let woken = wake_ups(c.pid()) - before;
    assert!(
        woken < 20,
        "the idle server woke {woken} times in one second"
    );
    // And it still answers at once.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 11, "character": 22}}),
    );
    assert!(hover["result"].is_object(), "{hover}");
    c.stop();
}
