//! Signature help over stdio, as an editor asks for it: after `(` or `,` inside a fetch's or
//! converter's parentheses, and among a directive's arguments.

mod common;

use common::Client;
use serde_json::{json, Value};

/// The signature help at the end of `line` (a line of a backend section).
fn help_at_end(c: &mut Client, uri: &str, version: &mut i32, line: &str) -> Value {
    *version += 1;
    let text = format!("defaults\n    mode http\nbackend app\n{line}\n    server s1 127.0.0.1:1\n");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": *version}, "contentChanges": [{"text": text}]}),
    );
    let r = c.request(
        "textDocument/signatureHelp",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": line.len()},
               "context": {"triggerKind": 2, "triggerCharacter": line.chars().last().map(String::from), "isRetrigger": false}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    r["result"].clone()
}

/// The signature's label and the text of its active parameter.
fn active(help: &Value) -> (String, String) {
    let sig = &help["signatures"][0];
    let label = sig["label"].as_str().unwrap_or_else(|| panic!("{help}"));
    let i = help["activeParameter"]
        .as_u64()
        .unwrap_or_else(|| panic!("{help}")) as usize;
    let at = &sig["parameters"][i]["label"];
    let (s, e) = (
        at[0].as_u64().unwrap() as usize,
        at[1].as_u64().unwrap() as usize,
    );
    (label.to_string(), label[s..e].to_string())
}

/// Each case's line gets the help with that label and that active parameter.
fn expect_active(c: &mut Client, uri: &str, version: &mut i32, cases: &[(&str, &str, &str)]) {
    for &(line, label, param) in cases {
        let help = help_at_end(c, uri, version, line);
        assert_eq!(
            active(&help),
            (label.to_string(), param.to_string()),
            "{line}: {help}"
        );
    }
}

#[test]
fn the_server_advertises_signature_help_on_parenthesis_and_comma() {
    let c = Client::start();
    let caps = &c.init["result"]["capabilities"]["signatureHelpProvider"];
    assert_eq!(caps["triggerCharacters"], json!(["(", ","]), "{caps}");
    c.stop();
}

#[test]
fn fetch_and_converter_arguments_show_the_one_being_typed() {
    let uri = "file:///tmp/signature-help-calls.cfg";
    let mut c = Client::start();
    c.open(uri, "");
    let mut v = 1;
    let cases = [
        ("    acl h hdr(", "hdr([str[,sint]])", "str"),
        ("    acl h req.hdr(host,", "req.hdr([str[,sint]])", "sint"),
        (
            "    http-request set-var(txn.x) src,map_beg(",
            "map_beg(str[,str])",
            "str",
        ),
        (
            "    http-request set-var(txn.x) src,map_beg(/etc/m.map,",
            "map_beg(str[,str])",
            "str",
        ),
        (
            "    http-request set-header X %[req.hdr(host),regsub(a,",
            "regsub(regex,str[,str])",
            "str",
        ),
        // An ACL keyword takes its fetch's arguments.
        ("    acl h hdr_beg(", "hdr_beg([str[,sint]])", "str"),
    ];
    expect_active(&mut c, uri, &mut v, &cases);
    // The second argument of `regsub` is the active one (index 1), not the third.
    let help = help_at_end(
        &mut c,
        uri,
        &mut v,
        "    http-request set-header X %[req.hdr(host),regsub(a,",
    );
    assert_eq!(help["activeParameter"], 1, "{help}");
    // A converter without arguments shows its name, with no parameter active.
    let help = help_at_end(&mut c, uri, &mut v, "    acl l hdr(host),lower(");
    assert_eq!(help["signatures"][0]["label"], "lower", "{help}");
    assert!(help["activeParameter"].is_null(), "{help}");
    let help = help_at_end(&mut c, uri, &mut v, "    acl h req.hdr(");
    let doc = help["signatures"][0]["documentation"]
        .as_str()
        .unwrap_or("");
    assert!(doc.starts_with("→ str."), "{help}");
    // Past the closing parenthesis the line's directive is helped with again; an unknown call
    // has no help.
    let help = help_at_end(&mut c, uri, &mut v, "    acl h hdr(host),lower");
    assert_eq!(active(&help).1, "<criterion>", "{help}");
    let help = help_at_end(&mut c, uri, &mut v, "    acl h no_such_fetch(");
    assert!(help.is_null(), "{help}");
    c.stop();
}

#[test]
fn directive_arguments_show_the_usage_from_the_registry() {
    let uri = "file:///tmp/signature-help-directives.cfg";
    let mut c = Client::start();
    c.open(uri, "");
    let mut v = 1;
    let cases = [
        ("    timeout ", "timeout <name> <timeout>", "<name>"),
        (
            "    timeout server ",
            "timeout <name> <timeout>",
            "<timeout>",
        ),
        (
            "    balance ",
            "balance <algorithm> [<arguments>]",
            "<algorithm>",
        ),
        (
            "    server s2 ",
            "server <name> <address>[:[port]] [<param>*]",
            "<address>[:[port]]",
        ),
        (
            "    server s2 10.0.0.1:80 check ",
            "server <name> <address>[:[port]] [<param>*]",
            "[<param>*]",
        ),
        (
            "    use-server s1 if ",
            "use-server <server> [{if|unless} <condition>]",
            "[{if|unless} <condition>]",
        ),
    ];
    expect_active(&mut c, uri, &mut v, &cases);
    // Once the timeout is named, its own doc shows; each argument has its doc.
    let help = help_at_end(&mut c, uri, &mut v, "    timeout server ");
    let doc = help["signatures"][0]["documentation"]
        .as_str()
        .unwrap_or("");
    assert!(doc.contains("server side"), "{help}");
    assert!(help["signatures"][0]["parameters"][1]["documentation"]
        .as_str()
        .is_some_and(|d| d.contains("milliseconds")));
    // A word too many for a fixed usage, a directive without a grammar, and a comment: none.
    for line in ["    timeout server 5s ", "    hash-type ", "    # timeout "] {
        let help = help_at_end(&mut c, uri, &mut v, line);
        assert!(help.is_null(), "{line}: {help}");
    }
    c.stop();
}
