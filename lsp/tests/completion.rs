//! Completion by context and hover, over JSON-RPC.

mod common;

use common::Client;
use serde_json::{json, Value};

const URI: &str = "file:///tmp/complete.cfg";

fn labels(c: &mut Client, text: &str, line: u32, character: u32) -> Vec<String> {
    c.replace_text(URI, 2, text);
    c.completion_labels(URI, line, character)
}

const BASE: &str = "defaults\n    mode http\nfrontend fe\n    bind :80\n    acl is_api path_beg /api\nbackend app\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2\n";

fn with(line: &str) -> (String, u32, u32) {
    // The line goes into the frontend (after `acl`), or into the backend when it starts with `@`.
    let (text, at_line) = match line.strip_prefix('@') {
        Some(l) => (format!("{BASE}    {l}\n"), 8),
        None => (
            BASE.replace("backend app", &format!("    {line}\nbackend app")),
            5,
        ),
    };
    let ch = 4 + line.trim_start_matches('@').len() as u32;
    (text, at_line, ch)
}

#[test]
fn completion_follows_the_context() {
    let mut c = Client::start();
    c.open(URI, BASE);
    let mut ask = |line: &str| {
        let (text, l, ch) = with(line);
        labels(&mut c, &text, l, ch)
    };
    let has = |v: &[String], x: &str| v.iter().any(|l| l == x);
    // Converters follow HAProxy's cast matrix: after a string, lower and host_only; after an
    // integer, add and x509_v_err_str; after `method` (which only casts to a string), no
    // integer converter.
    let conv = ask("http-request set-header X %[req.hdr(host),");
    assert!(has(&conv, "lower") && has(&conv, "host_only"), "{conv:?}");
    let conv_int = ask("http-request set-header X %[dst_port,");
    assert!(
        has(&conv_int, "add") && has(&conv_int, "x509_v_err_str"),
        "{conv_int:?}"
    );
    let conv_meth = ask("http-request set-header X %[method,");
    assert!(
        has(&conv_meth, "lower") && !has(&conv_meth, "add") && !has(&conv_meth, "ipmask"),
        "{conv_meth:?}"
    );
    let actions = ask("http-request ");
    assert!(
        has(&actions, "set-header") && has(&actions, "deny") && !has(&actions, "set-status"),
        "{actions:?}"
    );
    let tcp = ask("tcp-request connection ");
    assert!(has(&tcp, "reject") && has(&tcp, "accept"), "{tcp:?}");
    let acls = ask("http-request deny if ");
    assert!(has(&acls, "is_api") && has(&acls, "TRUE"), "{acls:?}");
    let inline = ask("http-request deny if { ");
    assert!(
        has(&inline, "path_beg") && has(&inline, "src"),
        "{inline:?}"
    );
    let backends = ask("use_backend ");
    assert!(has(&backends, "app"), "{backends:?}");
    let bind = ask("bind :8443 ");
    assert!(has(&bind, "ssl") && has(&bind, "thread"), "{bind:?}");
    let servers = ask("@use-server ");
    assert!(has(&servers, "s1") && has(&servers, "s2"), "{servers:?}");
    let srv_opts = ask("@server s3 127.0.0.1:3 ");
    assert!(
        has(&srv_opts, "check") && has(&srv_opts, "weight"),
        "{srv_opts:?}"
    );
    let fetches = ask("acl x ");
    assert!(
        has(&fetches, "req.hdr") && has(&fetches, "path_end"),
        "{fetches:?}"
    );
    c.stop();
}

#[test]
fn hover_shows_status_and_definitions() {
    let mut c = Client::start();
    let text = format!("{BASE}    use-server s2 if {{ path /two }}\n");
    c.open(URI, &text);
    let _ = c.diagnostics(URI);
    let hover = |c: &mut Client, line: u32, ch: u32| -> Value {
        c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": ch}}),
        )
    };
    let h = hover(&mut c, 1, 5);
    assert!(
        h["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("(stable)"),
        "{h}"
    );
    let h = hover(&mut c, 8, 16);
    let v = h["result"]["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(v.contains("server s2") && v.contains("127.0.0.1:2"), "{v}");
    c.stop();
}
