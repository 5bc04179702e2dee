//! Userlist groups as names: hover on a group where it is defined (`group NAME`), where users
//! join it (`user … groups A,B`) and where rules match it (the patterns of
//! `http_auth_group(USERLIST)`, in an `acl` line or an anonymous ACL), with go-to-definition,
//! references and rename, over JSON-RPC.

mod common;

use common::Client;
use serde_json::{json, Value};

const URI: &str = "file:///tmp/userlist-groups.cfg";

const CFG: &str = "\
userlist admins
    group ops users alice
    group dev
    user alice insecure-password a
    user bob insecure-password b groups dev,ops
userlist others
    group ops
frontend fe
    mode http
    bind :80
    acl isops http_auth_group(admins) ops dev
    http-request auth unless isops
    http-request deny if { http_auth_group(admins) -m str dev }
    default_backend app
backend app
    mode http
    server s1 127.0.0.1:8000
";

fn hover(c: &mut Client, line: u32, word: &str, nth: usize) -> String {
    c.hover_word(URI, CFG, line, word, nth)
}

fn at(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}})
}

/// The (line, character) of each location of a result.
fn places(v: &Value) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = (v.as_array().into_iter().flatten())
        .map(|l| {
            let s = &l["range"]["start"];
            (
                s["line"].as_u64().unwrap(),
                s["character"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn groups_have_hover_definition_references_and_rename() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let ops = hover(&mut c, 1, "ops", 0);
    assert_eq!(
        ops,
        "**group ops** of userlist `admins`\n\n```haproxy\ngroup ops users alice\nuser bob insecure-password b groups dev,ops\n```"
    );
    // The same where users join it and where a rule matches it, not the other userlist's.
    assert_eq!(hover(&mut c, 4, "ops", 0), ops);
    assert_eq!(hover(&mut c, 10, " ops", 0), ops);
    assert!(hover(&mut c, 6, "ops", 0).starts_with("**group ops** of userlist `others`"));
    let dev = hover(&mut c, 12, " dev", 0);
    assert!(
        dev.starts_with("**group dev** of userlist `admins`") && dev.contains("group dev\n"),
        "{dev}"
    );
    assert_eq!(hover(&mut c, 10, " dev", 0), dev);
    // The fetch and the userlist name keep their own hovers.
    assert!(hover(&mut c, 10, "http_auth_group", 0).contains("(fetch)"));
    assert!(hover(&mut c, 10, "admins", 0).starts_with("**userlist admins**"));
    // An ACL flag's value is no group.
    assert!(!hover(&mut c, 12, "str", 0).contains("group"));
    // Go to the definition from a rule, every reference, and a rename across them.
    let def = c.request("textDocument/definition", at(10, 39));
    assert_eq!(places(&json!([def["result"]])), [(1, 10)], "{def}");
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": URI}, "position": {"line": 1, "character": 11},
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(
        places(&refs["result"]),
        [(1, 10), (4, 44), (10, 38)],
        "{refs}"
    );
    let rename = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": URI}, "position": {"line": 12, "character": 59},
               "newName": "developers"}),
    );
    let edits = &rename["result"]["changes"][URI];
    assert_eq!(
        places(edits),
        [(2, 10), (4, 40), (10, 42), (12, 58)],
        "{rename}"
    );
    c.stop();
}
