//! Lint settings that name no rule (L023), in the editor as `hapee-lb check` reports them: an
//! allow comment's mistyped code is marked where it is written with a quick fix to the code it
//! most likely meant, and `.hapee.toml`'s are published for that file.

mod common;
use common::{action_edits, apply, codes, scratch, Client};
use serde_json::{json, Value};

const TEXT: &str = "global\n    log stdout local0\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x # hapee: allow(unused_acl)\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\nbackend old # hapee: allow(L01)\n    server s2 127.0.0.1:9001\n";

/// Each L023's line and column and its message.
fn unknown(d: &[Value]) -> Vec<(u64, u64, String)> {
    d.iter()
        .filter(|d| d["code"] == "L023")
        .map(|d| {
            let start = &d["range"]["start"];
            (
                start["line"].as_u64().unwrap(),
                start["character"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn settings_naming_no_rule_are_marked_with_a_fix_in_the_file_and_in_hapee_toml() {
    let dir = scratch("unknown-codes");
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, TEXT).unwrap();
    let toml = dir.join(".hapee.toml");
    std::fs::write(&toml, "[lints]\nallow = [\"L0015\"]\n").unwrap();
    let uri = format!("file://{}", path.display());
    let toml_uri = format!("file://{}", toml.display());
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start_in_with(&dir, capabilities);
    let register = c.server_request("client/registerCapability");
    c.send(json!({"jsonrpc": "2.0", "id": register["id"], "result": null}));
    c.open(&uri, TEXT);
    let d = c.diagnostics(&uri);
    let found = unknown(&d);
    assert_eq!(
        found.iter().map(|(l, c, _)| (*l, *c)).collect::<Vec<_>>(),
        [(9, 38), (13, 27)],
        "{d:?}"
    );
    assert!(
        found[0].2.contains("did you mean 'unused-acl'?"),
        "{found:?}"
    );
    assert!(found[1].2.contains("did you mean 'L001'?"), "{found:?}");
    // The lints those comments were meant for are still shown, and L015 (the mistyped
    // .hapee.toml entry) too.
    let shown = codes(&d);
    for code in ["L001", "L002", "L015"] {
        assert!(shown.contains(&code.to_string()), "{code}: {shown:?}");
    }
    // `.hapee.toml`'s own entry, published for that file.
    let t = c.diagnostics(&toml_uri);
    let in_toml = unknown(&t);
    assert_eq!(in_toml.len(), 1, "{t:?}");
    assert_eq!((in_toml[0].0, in_toml[0].1), (1, 10), "{t:?}");
    assert!(in_toml[0].2.contains("did you mean 'L015'?"), "{t:?}");
    // The quick fixes put the codes meant; then the comments silence their lints.
    let edits = action_edits(&mut c, &uri, 13, "replace with 'L001'");
    let fixed = apply(TEXT, &edits);
    let edits = action_edits(&mut c, &uri, 9, "replace with 'unused-acl'");
    let fixed = apply(&fixed, &edits);
    assert!(
        fixed.contains("backend old # hapee: allow(L001)\n"),
        "{fixed}"
    );
    assert!(fixed.contains("# hapee: allow(unused-acl)\n"), "{fixed}");
    c.replace_text(&uri, 2, &fixed);
    let d = codes(&c.diagnostics(&uri));
    assert_eq!(d, ["L015"], "{d:?}");
    // The user corrects .hapee.toml: its diagnostics are cleared, and its level applies.
    std::fs::write(&toml, "[lints]\nallow = [\"L015\"]\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": toml_uri, "type": 2}]}),
    );
    assert_eq!(codes(&c.diagnostics(&uri)), Vec::<String>::new());
    assert_eq!(c.diagnostics(&toml_uri), Vec::<Value>::new());
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
