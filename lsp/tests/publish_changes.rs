//! Diagnostics are published again only when they change or when an edit replaced a line that
//! carries one: the editor already shows the others where they are (over stdio, as an editor).

mod common;

use common::Client;
use serde_json::{json, Value};

const CFG: &str = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080 process 1\n    acl is_api path_beg /api\n    use_backend api if is_api\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\nbackend api\n    server a1 127.0.0.1:9001\n";
const URI: &str = "file:///tmp/hapee-publish-changes.cfg";

fn edit(c: &mut Client, version: i32, changes: Value) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": changes}),
    );
}

/// A change replacing `line`, columns `from..to`, with `text`.
fn change(line: u32, from: u32, to: u32, text: &str) -> Value {
    json!({"range": {"start": {"line": line, "character": from}, "end": {"line": line, "character": to}}, "text": text})
}

fn e302_line(d: &[Value]) -> Value {
    let e = d.iter().find(|d| d["code"] == "E302").expect("E302 shown");
    e["range"]["start"]["line"].clone()
}

#[test]
fn unchanged_diagnostics_are_not_published_again() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let first = c.diagnostics(URI);
    assert_eq!(e302_line(&first), 8);

    // An edit of another line that leaves every diagnostic as it was: nothing to redraw.
    edit(&mut c, 2, json!([change(1, 12, 15, "200")]));
    assert!(
        !c.published_again(URI),
        "the same diagnostics were sent again"
    );
    // Back again, and a line added then removed in one change: the same.
    edit(&mut c, 3, json!([change(1, 12, 15, "100")]));
    assert!(!c.published_again(URI));
    edit(
        &mut c,
        4,
        json!([change(0, 0, 0, "# note\n"), {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}, "text": ""}]),
    );
    assert!(!c.published_again(URI));
    assert_eq!(c.diagnostics(URI), first);

    // The same diagnostic on a line the edit replaced: sent again, as the editor may have
    // dropped its mark with the text.
    edit(
        &mut c,
        5,
        json!([change(8, 0, 33, "    bind 127.0.0.1:8081 process 1")]),
    );
    assert!(
        c.published_again(URI),
        "the edited line's diagnostic was not sent"
    );
    // A line added above moves them: sent again, at their new places.
    edit(&mut c, 6, json!([change(0, 0, 0, "# note\n")]));
    assert!(c.published_again(URI), "moved diagnostics were not sent");
    assert_eq!(e302_line(&c.diagnostics(URI)), 9);
    // A new diagnostic: sent with the others.
    edit(&mut c, 7, json!([change(12, 20, 23, "nope")]));
    let d = c.diagnostics(URI);
    assert!(d.iter().any(|d| d["code"] == "E241"), "{d:?}");
    assert_eq!(e302_line(&d), 9);
    edit(&mut c, 8, json!([change(12, 20, 24, "app")]));
    assert!(c.published_again(URI), "a diagnostic gone was not sent");
    // The diagnostic's whole line written again as it was: sent again.
    edit(
        &mut c,
        9,
        json!([{"range": {"start": {"line": 9, "character": 0}, "end": {"line": 10, "character": 0}}, "text": "    bind 127.0.0.1:8081 process 1\n"}]),
    );
    assert!(c.published_again(URI));
    assert_eq!(e302_line(&c.diagnostics(URI)), 9);
    c.stop();
}

/// The diagnostics an edit changed come before the answer to a request sent after it, an
/// error answer too (errors went out on another channel of the writer, which could send them
/// first).
#[test]
fn diagnostics_come_before_an_error_answer() {
    let mut c = Client::start();
    c.open(URI, CFG);
    c.diagnostics(URI);
    for version in 2..40 {
        let text = if version % 2 == 0 {
            "    default_backend nope"
        } else {
            "    default_backend app"
        };
        edit(
            &mut c,
            version,
            json!([{"range": {"start": {"line": 11, "character": 0}, "end": {"line": 12, "character": 0}}, "text": format!("{text}\n")}]),
        );
        let (answer, published) = c.request_after_publishes("hapee/noSuchMethod", Value::Null);
        assert!(answer.get("error").is_some(), "{answer}");
        assert_eq!(published, [URI], "version {version}");
    }
    c.stop();
}
