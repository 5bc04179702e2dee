//! What `hapee-lb run` refuses (U001) and the TLS names rustls does not offer (U002) are shown
//! in the editor as `hapee-lb check` shows them, at the same line with the same message, and
//! the lint settings silence them there too.

mod common;

use common::Client;
use serde_json::{json, Value};

const CFG: &str = "\
global
    maxconn 100
    ssl-engine rdrand
    ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:8080 npn http/1.1
    default_backend app
backend app
    server s1 127.0.0.1:9000 check
";

fn refusals(d: &[Value]) -> Vec<(u64, String)> {
    d.iter()
        .filter(|d| d["code"] == "U001")
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_runtime_refusals_are_shown_as_check_shows_them() {
    let uri = "file:///tmp/refusals.cfg";
    let mut c = Client::start();
    c.open(uri, CFG);
    let d = c.diagnostics(uri);
    let u = refusals(&d);
    // The messages `hapee-lb check` prints for this file.
    assert_eq!(
        u,
        [
            (
                2,
                "not supported by the hapee runtime: 'ssl-engine' in a global section (OpenSSL-only: hapee's TLS is rustls, which has no OpenSSL engines to load; its cryptography comes from its own provider)".to_string()
            ),
            (
                10,
                "not supported by the hapee runtime yet: bind option 'npn' (rustls has no Next Protocol Negotiation, the TLS extension that ALPN replaced: use 'alpn')".to_string()
            ),
        ],
        "{d:?}"
    );
    assert!(d
        .iter()
        .filter(|d| d["code"] == "U001")
        .all(|d| d["severity"] == 2));
    // An edit that adds a refused keyword gets its U001; `# hapee: allow(U001)` silences one line.
    let edited = CFG
        .replace("npn http/1.1", "npn http/1.1 # hapee: allow(U001)")
        .replace(
            "    default_backend app\n",
            "    default_backend app\n    option http-use-proxy-header\n",
        );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let lines: Vec<u64> = refusals(&c.diagnostics(uri))
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert!(!lines.contains(&10), "allowed on its line: {lines:?}");
    assert!(lines.contains(&2), "{lines:?}");
    c.stop();
}

#[test]
fn hapee_toml_allows_the_runtime_refusals_as_for_check() {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-refusals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, CFG).unwrap();
    std::fs::write(dir.join(".hapee.toml"), "[lints]\nallow = [\"U001\"]\n").unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::start_in(&dir);
    c.open(&uri, CFG);
    let d = c.diagnostics(&uri);
    assert!(refusals(&d).is_empty(), "{d:?}");
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// "Allow on this line" is offered for every warning `check` lets the comment silence (the
/// runtime's refusals and HAProxy's warnings as well as lints), and never for an error. Like
/// `check`, the server looks for refusals only in a configuration without errors.
#[test]
fn every_warning_can_be_allowed_on_its_line_errors_cannot() {
    let (uri, broken) = (
        "file:///tmp/refusals-allow.cfg",
        "file:///tmp/refusals-error.cfg",
    );
    let mut c = Client::start();
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    let titles = |c: &mut Client, uri: &str, line: u32| -> Vec<String> {
        let r = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "context": {"diagnostics": []}}),
        );
        r["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(titles(&mut c, uri, 2).contains(&"allow U001 on this line".to_string()));
    assert!(titles(&mut c, uri, 3).contains(&"allow U002 on this line".to_string()));
    let text = CFG.replace(
        "    default_backend app\n",
        "    default_backend app\n    use_backend nowhere\n",
    );
    c.open(broken, &text);
    let d = c.diagnostics(broken);
    assert!(d.iter().any(|d| d["code"] == "E241"), "{d:?}");
    assert!(refusals(&d).is_empty(), "{d:?}");
    let error_line = titles(&mut c, broken, 12);
    assert!(
        !error_line.iter().any(|t| t.starts_with("allow")),
        "{error_line:?}"
    );
    c.stop();
}
