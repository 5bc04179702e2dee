//! What a user meets in an editor: hover on every kind of keyword, lint settings honoured as by
//! `hapee-lb check`, section-aware completion of keywords and values, quick fixes, rename
//! guards, incremental edits and the protocol's lifecycle. Each test drives the real binary.

mod common;

use common::{action_edits, apply, codes, scratch, Client};
use serde_json::{json, Value};

const CFG: &str = "\
global
    maxconn 100
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:8080 ssl crt /x.pem
    acl is_api path_beg /api
    http-request set-header X-Host %[req.hdr(host),lower]
    use_backend api if is_api
    default_backend app
backend app
    balance leastconn
    server s1 127.0.0.1:9000 check inter 2s
backend api
    server a1 127.0.0.1:9001
";

fn labels(c: &mut Client, uri: &str, line: u32, character: u32) -> Vec<String> {
    c.completion_labels(uri, line, character)
}

fn change(c: &mut Client, uri: &str, version: i64, text: &str) {
    c.replace_text(uri, version, text);
}

#[test]
fn hover_documents_each_timeout_option_action_fetch_and_converter() {
    let uri = "file:///tmp/hover.cfg";
    let mut c = Client::start();
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    // On the keyword and on the timeout's name: that timeout's doc, not another one's.
    let connect = c.hover_text(uri, 4, 5);
    assert!(
        connect.contains("timeout connect") && connect.contains("establish"),
        "{connect}"
    );
    let client = c.hover_text(uri, 5, 14);
    assert!(
        client.contains("timeout client") && client.contains("client side"),
        "{client}"
    );
    assert!(!client.contains("timeout check"), "{client}");
    assert!(c.hover_text(uri, 6, 14).contains("timeout server"));
    // Bind and server options.
    let crt = c.hover_text(uri, 8, 29);
    assert!(
        crt.contains("**crt**") && crt.contains("bind option"),
        "{crt}"
    );
    let inter = c.hover_text(uri, 15, 36);
    assert!(
        inter.contains("**inter**") && inter.contains("server option"),
        "{inter}"
    );
    let check = c.hover_text(uri, 15, 31);
    assert!(check.contains("**check**"), "{check}");
    // A rule's action, a fetch with its signature, a converter after a comma.
    let action = c.hover_text(uri, 10, 20);
    assert!(action.contains("http-request set-header"), "{action}");
    let fetch = c.hover_text(uri, 10, 41);
    assert!(
        fetch.contains("**req.hdr** (fetch)") && fetch.contains("→ str"),
        "{fetch}"
    );
    let conv = c.hover_text(uri, 10, 53);
    assert!(conv.contains("**lower** (converter)"), "{conv}");
    // An ACL keyword and a balance algorithm.
    let acl = c.hover_text(uri, 9, 16);
    assert!(acl.contains("path_beg") && acl.contains("-m beg"), "{acl}");
    let algo = c.hover_text(uri, 14, 14);
    assert!(algo.contains("balance leastconn"), "{algo}");
    c.stop();
}

#[test]
fn lint_settings_are_honoured_as_by_check() {
    let dir = scratch("lints");
    // An unused ACL (L002) and an unused backend (L001).
    let text = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\nbackend old\n    server s2 127.0.0.1:9001\n";
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, text).unwrap();
    std::fs::write(dir.join(".hapee.toml"), "[lints]\nallow = [\"L001\"]\n").unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::start_in(&dir);
    c.open(&uri, text);
    let d = codes(&c.diagnostics(&uri));
    assert!(d.contains(&"L002".to_string()), "{d:?}");
    assert!(
        !d.contains(&"L001".to_string()),
        ".hapee.toml allows L001: {d:?}"
    );
    // The server's own "allow on this line" fix silences the lint once applied.
    let edits = action_edits(&mut c, &uri, 9, "allow L002 on this line");
    let allowed = apply(text, &edits);
    assert!(
        allowed.contains("acl unused path /x # hapee: allow(L002)"),
        "{allowed}"
    );
    change(&mut c, &uri, 2, &allowed);
    let d = codes(&c.diagnostics(&uri));
    assert!(!d.contains(&"L002".to_string()), "{d:?}");
    // A comment written by hand without the spaces is read too, and the fix joins its list.
    let by_hand = allowed.replace(
        "    default_backend app\n",
        "    acl other path /y #hapee:allow(L001)\n    acl more path /z #hapee:allow(L002)\n    default_backend app\n",
    );
    change(&mut c, &uri, 3, &by_hand);
    let d = c.diagnostics(&uri);
    let l002: Vec<u64> = d
        .iter()
        .filter(|d| d["code"] == "L002")
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(l002, [10], "{d:?}");
    let edits = action_edits(&mut c, &uri, 10, "allow L002 on this line");
    let joined = apply(&by_hand, &edits);
    assert!(
        joined.contains("acl other path /y #hapee:allow(L001, L002)\n"),
        "{joined}"
    );
    change(&mut c, &uri, 4, &joined);
    let d = codes(&c.diagnostics(&uri));
    assert!(!d.contains(&"L002".to_string()), "{d:?}");
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lints_are_shown_while_the_file_has_errors_errors_first() {
    let uri = "file:///tmp/errors.cfg";
    let text = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000 chekc\n";
    let mut c = Client::start();
    c.open(uri, text);
    let d = c.diagnostics(uri);
    let codes = codes(&d);
    assert!(codes.contains(&"E224".to_string()), "{codes:?}");
    assert!(codes.contains(&"L002".to_string()), "{codes:?}");
    let first_lint = d.iter().position(|d| d["severity"] != 1).unwrap();
    assert!(
        d[first_lint..].iter().all(|d| d["severity"] != 1),
        "errors first: {d:?}"
    );
    c.stop();
}

#[test]
fn completion_knows_the_section_and_the_values() {
    let uri = "file:///tmp/complete.cfg";
    let text = "defaults\n    mode http\n    \nfrontend fe\n    bind :8080\n    \n    timeout \n    no option \nbackend app\n    \n    balance \n    mode \n    option \n    http-request \n    http-request set-var(txn.x) req.hdr(host),\n";
    let mut c = Client::start();
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    let front = labels(&mut c, uri, 5, 4);
    assert!(front.contains(&"bind".into()) && front.contains(&"use_backend".into()));
    assert!(
        !front.contains(&"server".into()) && !front.contains(&"balance".into()),
        "{front:?}"
    );
    let back = labels(&mut c, uri, 9, 4);
    assert!(back.contains(&"server".into()) && back.contains(&"balance".into()));
    assert!(
        !back.contains(&"bind".into()) && !back.contains(&"use_backend".into()),
        "{back:?}"
    );
    // A frontend's timeouts: client-side ones, no `timeout server`.
    let timeouts = labels(&mut c, uri, 6, 12);
    assert!(timeouts.contains(&"client".into()) && timeouts.contains(&"http-request".into()));
    assert!(!timeouts.contains(&"server".into()), "{timeouts:?}");
    let no_options = labels(&mut c, uri, 7, 14);
    assert!(
        no_options.contains(&"http-keep-alive".into()),
        "{no_options:?}"
    );
    let algos = labels(&mut c, uri, 10, 12);
    assert!(algos.contains(&"leastconn".into()) && algos.contains(&"roundrobin".into()));
    let modes = labels(&mut c, uri, 11, 9);
    assert_eq!(modes, vec!["http", "tcp"]);
    let options = labels(&mut c, uri, 12, 11);
    assert!(options.contains(&"httpchk".into()), "{options:?}");
    let actions = labels(&mut c, uri, 13, 17);
    assert!(actions.contains(&"set-header".into()) && actions.contains(&"deny".into()));
    // Converters after a comma come with their signature.
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 14, "character": 46}}),
    );
    let lower = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "lower")
        .cloned()
        .expect("lower offered");
    assert!(
        lower["detail"].as_str().unwrap().contains("→ str"),
        "{lower}"
    );
    c.stop();
}

#[test]
fn quick_fixes_remove_whole_lines_and_correct_misspellings() {
    let uri = "file:///tmp/fixes.cfg";
    let text = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout cliet 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000 chekc\n";
    let mut c = Client::start();
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    let fixed = apply(text, &action_edits(&mut c, uri, 5, "replace with 'client'"));
    assert!(fixed.contains("    timeout client 5s\n"), "{fixed}");
    let fixed = apply(
        &fixed,
        &action_edits(&mut c, uri, 12, "replace with 'check'"),
    );
    assert!(fixed.ends_with("127.0.0.1:9000 check\n"), "{fixed}");
    change(&mut c, uri, 2, &fixed);
    let d = codes(&c.diagnostics(uri));
    assert!(!d.iter().any(|c| c.starts_with('E')), "{d:?}");
    // Removing the unused ACL leaves no blank line behind, nor its comment alone on a line.
    let removed = apply(&fixed, &action_edits(&mut c, uri, 9, "remove the ACL"));
    assert!(
        removed.contains("    bind 127.0.0.1:8080\n    default_backend app\n"),
        "{removed:?}"
    );
    let commented = fixed.replace("path /x\n", "path /x  # old API\n");
    change(&mut c, uri, 3, &commented);
    let _ = c.diagnostics(uri);
    let removed = apply(&commented, &action_edits(&mut c, uri, 9, "remove the ACL"));
    assert!(
        removed.contains("    bind 127.0.0.1:8080\n    default_backend app\n"),
        "{removed:?}"
    );
    // The last line of a file without a final newline goes as well.
    let last =
        "global\n    maxconn 100\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x";
    change(&mut c, uri, 4, last);
    let _ = c.diagnostics(uri);
    let removed = apply(last, &action_edits(&mut c, uri, 4, "remove the ACL"));
    assert!(removed.ends_with("bind 127.0.0.1:8080\n"), "{removed:?}");
    c.stop();
}

#[test]
fn rename_refuses_a_name_that_exists() {
    let uri = "file:///tmp/rename.cfg";
    let mut c = Client::start();
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": 12, "character": 22}, "newName": "api"}),
    );
    let message = r["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("'api' already exists"), "{r}");
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": 12, "character": 22}, "newName": "web"}),
    );
    assert!(
        r["result"]["changes"][uri].as_array().unwrap().len() >= 2,
        "{r}"
    );
    // A backend may take a frontend's name; a listen may not (it is a frontend too). ACLs of
    // one section and servers of one backend are namespaces of their own.
    let rename = |c: &mut Client, uri: &str, line: u32, character: u32, name: &str| {
        c.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, "newName": name}),
        )
    };
    let text = "frontend fe\n    bind :80\n    acl a path /a\n    acl b path /b\n    use_backend app if a b\nfrontend fe2\n    bind :81\n    acl c path /c\n    use_backend web if c\nbackend app\n    server s1 127.0.0.1:80\n    server s2 127.0.0.1:81\nlisten web\n    bind :82\n    server w1 127.0.0.1:83\n";
    let uri = "file:///tmp/rename-namespaces.cfg";
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    let refused = |r: &Value| {
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("already exists")
    };
    assert!(
        refused(&rename(&mut c, uri, 2, 9, "b")),
        "ACL of the same section"
    );
    let r = rename(&mut c, uri, 2, 9, "c");
    assert_eq!(
        r["result"]["changes"][uri].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    assert!(
        refused(&rename(&mut c, uri, 10, 12, "s2")),
        "server of the same backend"
    );
    assert!(
        !refused(&rename(&mut c, uri, 10, 12, "w1")),
        "server of another backend"
    );
    assert!(
        !refused(&rename(&mut c, uri, 9, 9, "fe")),
        "a backend may be named as a frontend"
    );
    assert!(
        refused(&rename(&mut c, uri, 9, 9, "web")),
        "backends and listens share names"
    );
    let r = rename(&mut c, uri, 12, 8, "fe2");
    assert!(refused(&r), "a listen is a frontend too: {r}");
    c.stop();
}

#[test]
fn incremental_edits_are_applied_in_order() {
    let uri = "file:///tmp/incremental.cfg";
    let mut c = Client::start();
    let sync = &c.init["result"]["capabilities"]["textDocumentSync"];
    assert_eq!(sync["change"], 2, "incremental sync: {sync}");
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    // Two ranged edits in one notification: rename the backend's definition, then its use.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 13, "character": 8}, "end": {"line": 13, "character": 11}}, "text": "web"},
            {"range": {"start": {"line": 12, "character": 20}, "end": {"line": 12, "character": 23}}, "text": "missing"},
        ]}),
    );
    let d = c.diagnostics(uri);
    let e = d
        .iter()
        .find(|d| d["message"].as_str().unwrap_or("").contains("'missing'"))
        .unwrap_or_else(|| panic!("unknown backend reported: {d:?}"));
    assert_eq!(e["range"]["start"]["line"], 12);
    let fixed = json!([{"range": {"start": {"line": 12, "character": 20}, "end": {"line": 12, "character": 27}}, "text": "web"}]);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": fixed}),
    );
    let d = c.diagnostics(uri);
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    c.stop();
}

/// Neovim's document versions skip numbers (they are its buffer's `changedtick`): a request
/// right after such an edit is answered on the edited text, and so is one after the next edit.
#[test]
fn requests_right_after_edits_with_skipped_versions_see_those_edits() {
    let uri = "file:///tmp/skipped-versions.cfg";
    let mut c = Client::start();
    c.open(uri, CFG);
    let _ = c.diagnostics(uri);
    let insert = json!([{"range": {"start": {"line": 12, "character": 0}, "end": {"line": 12, "character": 0}}, "text": "    acl x req.hdr(host),lo\n"}]);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": insert}),
    );
    let after_comma = labels(&mut c, uri, 12, 26);
    assert!(
        after_comma.contains(&"lower".to_string()),
        "{after_comma:?}"
    );
    let replace = json!([{"range": {"start": {"line": 12, "character": 4}, "end": {"line": 12, "character": 26}}, "text": "timeout "}]);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 9}, "contentChanges": replace}),
    );
    let timeouts = labels(&mut c, uri, 12, 12);
    assert!(timeouts.contains(&"client".to_string()), "{timeouts:?}");
    c.stop();
}

#[test]
fn lifecycle_server_info_and_second_shutdown() {
    let mut c = Client::start();
    let info = &c.init["result"]["serverInfo"];
    assert_eq!(info["name"], "hapee-lsp");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let first = c.request("shutdown", Value::Null);
    assert!(first.get("error").is_none(), "{first}");
    let second = c.request("shutdown", Value::Null);
    assert_eq!(second["error"]["code"], -32600, "{second}");
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.cfg"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover["error"]["code"], -32600, "{hover}");
    assert!(c.exit().success());
    // `exit` without `shutdown` ends with 1, as the protocol says.
    let c = Client::start();
    assert_eq!(c.exit().code(), Some(1));
}

#[test]
fn help_and_version() {
    let run = |arg: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hapee-lsp"))
            .arg(arg)
            .output()
            .expect("run hapee-lsp")
    };
    let help = run("--help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Usage: hapee-lsp") && text.contains("--version"),
        "{text}"
    );
    let version = run("--version");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("hapee-lsp {}", env!("CARGO_PKG_VERSION"))
    );
    let bad = run("--bogus");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn completion_of_expressions_after_actions_and_check_rules() {
    let uri = "file:///tmp/complete-values.cfg";
    let text = "defaults\n    mode http\nfrontend fe\n    bind :8080 \n    http-request set-var(txn.x) \n    http-request track-sc0 \n    tcp-request content \nbackend app\n    http-check \n    http-check expect \n    tcp-check expect \n    stick on \n    balance hash \n    server s1 127.0.0.1:80 \n";
    let mut c = Client::start();
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    // A proxy's bind line is not offered the options only `stats socket` takes.
    let bind = labels(&mut c, uri, 3, 15);
    assert!(bind.contains(&"ssl".into()) && bind.contains(&"alpn".into()));
    assert!(!bind.contains(&"level".into()), "{bind:?}");
    // A sample expression follows these actions: fetches are offered.
    for line in [4, 5] {
        let len = text.lines().nth(line).unwrap().len() as u32;
        let fetches = labels(&mut c, uri, line as u32, len);
        assert!(
            fetches.contains(&"src".into()) && fetches.contains(&"req.hdr".into()),
            "line {line}: {fetches:?}"
        );
    }
    let content = labels(&mut c, uri, 6, 24);
    assert!(
        content.contains(&"accept".into()) && content.contains(&"reject".into()),
        "{content:?}"
    );
    let checks = labels(&mut c, uri, 8, 15);
    assert!(checks.contains(&"expect".into()) && checks.contains(&"send".into()));
    assert!(!checks.contains(&"deny".into()), "{checks:?}");
    let http_expect = labels(&mut c, uri, 9, 22);
    assert!(http_expect.contains(&"status".into()) && http_expect.contains(&"rstatus".into()));
    assert!(!http_expect.contains(&"binary".into()), "{http_expect:?}");
    let tcp_expect = labels(&mut c, uri, 10, 21);
    assert!(tcp_expect.contains(&"binary".into()), "{tcp_expect:?}");
    for (line, len) in [(11, 13), (12, 17)] {
        let fetches = labels(&mut c, uri, line, len);
        assert!(fetches.contains(&"src".into()), "line {line}: {fetches:?}");
    }
    let server = labels(&mut c, uri, 13, 27);
    assert!(server.contains(&"check".into()) && server.contains(&"weight".into()));
    c.stop();
}

#[test]
fn did_you_mean_fixes_for_keywords_options_and_actions() {
    let uri = "file:///tmp/did-you-mean.cfg";
    let text = "defaults\n    mode http\n    timeout conect 5s\nbackend app\n    balanse roundrobin\n    option httpchck\n    server s1 127.0.0.1:80 wieght 3\nfrontend fe\n    bind :80 sll\n    http-request deyn\n    default_backend app\nbackend b2\n    balance leastconnn\n";
    let mut c = Client::start();
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    let mut fixed = text.to_string();
    for (line, to) in [
        (2, "connect"),
        (4, "balance"),
        (5, "httpchk"),
        (6, "weight"),
        (8, "ssl"),
        (9, "deny"),
        (12, "leastconn"),
    ] {
        let edits = action_edits(&mut c, uri, line, &format!("replace with '{to}'"));
        fixed = apply(&fixed, &edits);
    }
    assert_eq!(
        fixed,
        "defaults\n    mode http\n    timeout connect 5s\nbackend app\n    balance roundrobin\n    option httpchk\n    server s1 127.0.0.1:80 weight 3\nfrontend fe\n    bind :80 ssl\n    http-request deny\n    default_backend app\nbackend b2\n    balance leastconn\n"
    );
    change(&mut c, uri, 2, &fixed);
    let d = codes(&c.diagnostics(uri));
    // No misspelling is left; the `ssl` bind still lacks the certificate HAProxy asks for (E286),
    // which no spelling fix can supply.
    assert!(
        !d.iter().any(|c| c.starts_with('E') && c != "E286"),
        "{d:?}"
    );
    assert!(d.iter().any(|c| c == "E286"), "{d:?}");
    c.stop();
}

/// A misspelled backend name (`default_backend`, `use_backend`) gets the closest backend as
/// its fix; a name close to none gets no guess.
#[test]
fn did_you_mean_fixes_for_backend_names() {
    let uri = "file:///tmp/did-you-mean-backends.cfg";
    let text = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind :80\n    use_backend api_servers if { path_beg /api }\n    use_backend zzqx if { path_beg /z }\n    default_backend web_servrs\nbackend web_servers\n    server s1 127.0.0.1:80\nbackend api_servers_v2\n    server s2 127.0.0.1:81\n";
    let mut c = Client::start();
    c.open(uri, text);
    let d = c.diagnostics(uri);
    let mut e241: Vec<u64> = d
        .iter()
        .filter(|d| d["code"] == "E241")
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    e241.sort();
    assert_eq!(e241, [7, 8, 9], "{d:?}");
    let mut fixed = text.to_string();
    for (line, to) in [(7, "api_servers_v2"), (9, "web_servers")] {
        let edits = action_edits(&mut c, uri, line, &format!("replace with '{to}'"));
        fixed = apply(&fixed, &edits);
    }
    assert!(fixed.contains("    use_backend api_servers_v2 if { path_beg /api }\n"));
    assert!(fixed.contains("    default_backend web_servers\n"));
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 8, "character": 0}, "end": {"line": 8, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert_eq!(r["result"], json!([]), "no guess for 'zzqx': {r}");
    c.stop();
}

#[test]
fn lint_settings_followed_when_the_watched_file_changes() {
    let dir = scratch("watch");
    let text = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n";
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, text).unwrap();
    let uri = format!("file://{}", path.display());
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start_in_with(&dir, capabilities);
    // The server asks to be told about .hapee.toml.
    let register = c.server_request("client/registerCapability");
    let watchers = &register["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers[0]["globPattern"], "**/.hapee.toml", "{register}");
    c.send(json!({"jsonrpc": "2.0", "id": register["id"], "result": null}));
    c.open(&uri, text);
    assert_eq!(codes(&c.diagnostics(&uri)), ["L002"]);
    // The user allows L002 in .hapee.toml: the editor's diagnostics follow without an edit.
    let toml = dir.join(".hapee.toml");
    std::fs::write(&toml, "[lints]\nallow = [\"L002\"]\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": format!("file://{}", toml.display()), "type": 1}]}),
    );
    assert_eq!(codes(&c.diagnostics(&uri)), Vec::<String>::new());
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hover_documents_less_common_actions_and_options_too() {
    let uri = "file:///tmp/hover-more.cfg";
    let text = "frontend fe\n    bind :443 ssl crt /x.pem strict-sni tfo\n    http-request set-src hdr(x-forwarded-for)\n    stick on src\n    default_backend app\nbackend app\n    server s1 127.0.0.1:80 check-sni example.com tfo\n";
    let mut c = Client::start();
    c.open(uri, text);
    let _ = c.diagnostics(uri);
    for (line, character, name) in [
        (0, 3, "**frontend** (section)"),
        (5, 3, "**backend** (section)"),
        (1, 30, "strict-sni"),
        (1, 41, "tfo"),
        (2, 20, "set-src"),
        (3, 6, "stick on"),
        (6, 30, "check-sni"),
        (6, 50, "tfo"),
    ] {
        let text = c.hover_text(uri, line, character);
        assert!(text.contains(name), "{name}: {text}");
        // Each has its own doc, not a placeholder shared by a whole class of keywords.
        for placeholder in [
            "Rule action.",
            "Server option.",
            "Listener option.",
            "Proxy setting.",
        ] {
            assert!(!text.contains(placeholder), "{name}: {text}");
        }
    }
    c.stop();
}
