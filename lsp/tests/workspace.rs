//! The workspace model: `hapee.files` compiles several files together, as `-f` does.

mod common;

use common::Client;
use serde_json::json;

#[test]
fn files_setting_compiles_the_workspace_together() {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-ws-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("10-front.cfg");
    let b = dir.join("20-back.cfg");
    let c = dir.join("30-broken.cfg");
    let front = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind :8080\n    default_backend app\n";
    std::fs::write(&a, front).unwrap();
    std::fs::write(&b, "backend app\n    server s1 127.0.0.1:9000\n").unwrap();
    // Not UTF-8: the server must keep answering and report it.
    std::fs::write(
        &c,
        b"# caf\xe9\nbackend other\n    server s2 127.0.0.1:9001\n",
    )
    .unwrap();
    let uri_a = format!("file://{}", a.display());
    let uri_b = format!("file://{}", b.display());

    let mut cl = Client::start_with(json!({"hapee": {"files": [dir.display().to_string()]}}));
    cl.open(&uri_a, front);
    let d = cl.diagnostics(&uri_a);
    assert!(
        d.iter().all(|d| d["severity"] != 1),
        "backend 'app' comes from the other file: {d:?}"
    );
    // Definition and rename cross the file boundary.
    let def = cl.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri_a}, "position": {"line": 7, "character": 21}}),
    );
    assert_eq!(def["result"]["uri"], uri_b, "{def}");
    let edit = cl.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri_a}, "position": {"line": 7, "character": 21}, "newName": "web"}),
    );
    let changes = edit["result"]["changes"].as_object().expect("changes");
    assert!(
        changes.contains_key(&uri_a) && changes.contains_key(&uri_b),
        "{edit}"
    );
    // Without the setting, the same file alone misses its backend.
    cl.stop();
    let mut alone = Client::start();
    alone.open(&uri_a, front);
    let d = alone.diagnostics(&uri_a);
    assert!(d.iter().any(|d| d["severity"] == 1), "{d:?}");
    alone.stop();
    // The setting can also arrive later, through workspace/didChangeConfiguration.
    let mut late = Client::start();
    late.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"hapee": {"files": [a.display().to_string(), b.display().to_string()]}}}),
    );
    late.open(&uri_a, front);
    let d = late.diagnostics(&uri_a);
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    late.stop();
}

/// An edit of one workspace file checks every open file again, with one compilation; a file
/// whose diagnostics did not change is not published again, one whose diagnostics did is.
#[test]
fn an_edit_republishes_only_the_workspace_files_it_changed() {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-ws-pub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("10-front.cfg");
    let b = dir.join("20-back.cfg");
    let front = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind :8080\n    default_backend app\n";
    let back = "backend app\n    server s1 127.0.0.1:9000\n";
    std::fs::write(&a, front).unwrap();
    std::fs::write(&b, back).unwrap();
    let uri_a = format!("file://{}", a.display());
    let uri_b = format!("file://{}", b.display());
    let mut cl = Client::start_with(json!({"hapee": {"files": [dir.display().to_string()]}}));
    cl.open(&uri_a, front);
    cl.open(&uri_b, back);
    let symbols = |uri: &str| json!({"textDocument": {"uri": uri}});
    let (_, published) = cl.request_after_publishes("textDocument/documentSymbol", symbols(&uri_a));
    assert!(
        published.contains(&uri_a) && published.contains(&uri_b),
        "{published:?}"
    );
    let edit = |cl: &mut Client, version: i64, line: u32, old: &str, new: &str| {
        cl.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri_a, "version": version}, "contentChanges": [{
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": old.len()}},
                "text": new}]}),
        );
    };
    // A timeout changes no diagnostic of either file: neither is published again (the editor
    // shows them already).
    edit(
        &mut cl,
        2,
        3,
        "    timeout client 1s",
        "    timeout client 2s",
    );
    let (_, published) = cl.request_after_publishes("textDocument/documentSymbol", symbols(&uri_a));
    assert_eq!(published, Vec::<String>::new());
    // Routing elsewhere leaves backend 'app' unused: its file gets the new warning.
    edit(
        &mut cl,
        3,
        7,
        "    default_backend app",
        "    default_backend zz",
    );
    let (_, published) = cl.request_after_publishes("textDocument/documentSymbol", symbols(&uri_a));
    assert!(
        published.contains(&uri_a) && published.contains(&uri_b),
        "{published:?}"
    );
    let (answer, _) = cl.request_after_publishes(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri_b}, "position": {"line": 0, "character": 9}}),
    );
    assert!(answer.get("error").is_none(), "{answer}");
    cl.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `.hapee.toml` is found as `hapee-lb check` finds it (tools/lb/tests/settings_discovery.rs):
/// in the configuration's folder, then its parents up to the repository root, before the
/// workspace root; for a document of a `hapee.files` folder and for a document alone.
#[test]
fn settings_are_found_from_the_configuration_folder_as_check_finds_them() {
    let top = std::env::temp_dir().join(format!("hapee-lsp-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    let repo = top.join("outer/repo");
    let conf = repo.join("conf/haproxy.d");
    let elsewhere = top.join("elsewhere");
    for d in [&conf, &repo.join(".git"), &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    let text = "global\n    log stdout local0\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind 127.0.0.1:18099\n    default_backend b\nbackend b\n    server s 127.0.0.1:18080\n";
    let file = conf.join("10-site.cfg");
    std::fs::write(&file, text).unwrap();
    let uri = format!("file://{}", file.display());
    let levels = |dir: &std::path::Path, level: &str| {
        std::fs::write(
            dir.join(".hapee.toml"),
            format!("[lints]\n{level} = [\"L015\"]\n"),
        )
        .unwrap();
    };
    let l015 = |d: &[serde_json::Value]| {
        d.iter()
            .find(|d| d["code"] == "L015")
            .map(|d| d["severity"].as_i64().unwrap_or(0))
    };
    // The repository root's settings, the workspace root elsewhere: with `hapee.files` naming
    // the folder, and with the document alone.
    levels(&repo, "allow");
    let files = json!({"hapee": {"files": [conf.display().to_string()]}});
    for options in [files, serde_json::Value::Null] {
        let mut c = Client::start_in_with_options(&elsewhere, options.clone());
        c.open(&uri, text);
        let d = c.diagnostics(&uri);
        assert_eq!(l015(&d), None, "{options}: {d:?}");
        // The folder's own settings come first (the editor reports the new file).
        levels(&conf, "deny");
        c.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": format!("file://{}/.hapee.toml", conf.display()), "type": 1}]}),
        );
        let d = c.diagnostics(&uri);
        assert_eq!(l015(&d), Some(1), "{options}: {d:?}");
        c.stop();
        std::fs::remove_file(conf.join(".hapee.toml")).unwrap();
    }
    // Above the repository root nothing is looked for: the workspace root's settings apply.
    std::fs::remove_file(repo.join(".hapee.toml")).unwrap();
    levels(&top.join("outer"), "deny");
    levels(&elsewhere, "allow");
    let mut c = Client::start_in(&elsewhere);
    c.open(&uri, text);
    let d = c.diagnostics(&uri);
    assert_eq!(l015(&d), None, "{d:?}");
    c.stop();
    let _ = std::fs::remove_dir_all(&top);
}
