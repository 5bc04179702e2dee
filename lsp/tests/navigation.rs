//! References, rename, folding ranges and semantic tokens over JSON-RPC.

mod common;

use common::Client;
use serde_json::{json, Value};

const URI: &str = "file:///tmp/nav.cfg";
const CFG: &str = "defaults web
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
userlist admins
    user root insecure-password x
frontend fe from web
    bind 127.0.0.1:8080
    acl is_api path_beg /api
    acl is_admin path_beg /admin
    http-request deny if is_admin !{ http_auth(admins) }
    use_backend api if is_api
    use_backend api if { nbsrv(app) lt 1 }
    default_backend app
backend app from web
    server s1 127.0.0.1:9000
    server s2 127.0.0.1:9002
    use-server s2 if { path_beg /two }
backend api from web
    server a1 127.0.0.1:9001
";

fn lines_of(locations: &Value) -> Vec<u64> {
    let mut l: Vec<u64> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    l.sort();
    l
}

fn pos(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}})
}

#[test]
fn references_and_rename_across_kinds() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let refs = |c: &mut Client, line, ch, decl: bool| {
        let mut p = pos(line, ch);
        p["context"] = json!({"includeDeclaration": decl});
        c.request("textDocument/references", p)["result"].clone()
    };
    // Backend `app`: defined on line 15, used by default_backend (14) and nbsrv(app) (13).
    assert_eq!(lines_of(&refs(&mut c, 14, 21, true)), vec![13, 14, 15]);
    assert_eq!(lines_of(&refs(&mut c, 14, 21, false)), vec![13, 14]);
    // ACL `is_api`: its declaration and its use.
    assert_eq!(lines_of(&refs(&mut c, 9, 9, true)), vec![9, 12]);
    // Server s2 and its use-server; userlist admins and http_auth(admins); defaults `web`.
    assert_eq!(lines_of(&refs(&mut c, 17, 12, true)), vec![17, 18]);
    assert_eq!(lines_of(&refs(&mut c, 5, 10, true)), vec![5, 11]);
    assert_eq!(lines_of(&refs(&mut c, 0, 10, true)), vec![0, 7, 15, 19]);

    // Rename `api` everywhere it is written.
    let prep = c.request("textDocument/prepareRename", pos(19, 9));
    assert_eq!(prep["result"]["placeholder"], "api", "{prep}");
    let mut p = pos(12, 17);
    p["newName"] = json!("api_v2");
    let edit = c.request("textDocument/rename", p);
    let edits = edit["result"]["changes"][URI]
        .as_array()
        .expect("edits")
        .clone();
    assert_eq!(edits.len(), 3, "{edit}");
    assert!(edits.iter().all(|e| e["newText"] == "api_v2"));
    // An invalid new name is refused with an error, not applied.
    let mut p = pos(12, 17);
    p["newName"] = json!("bad name");
    assert!(c.request("textDocument/rename", p).get("error").is_some());
    // Go to definition of a server used by use-server.
    let def = c.request("textDocument/definition", pos(18, 16));
    assert_eq!(def["result"]["range"]["start"]["line"], 17, "{def}");
    c.stop();
}

#[test]
fn folding_ranges_and_semantic_tokens() {
    let mut c = Client::start();
    let text = format!(
        "{CFG}.if defined(HOME)\nbackend extra\n    server e 127.0.0.1:9\n.endif\n# the end\n"
    );
    c.open(URI, &text);
    let _ = c.diagnostics(URI);
    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": URI}}),
    );
    let ranges: Vec<(u64, u64)> = folds["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(ranges.contains(&(7, 14)), "frontend fold: {ranges:?}");
    assert!(ranges.contains(&(21, 24)), ".if fold: {ranges:?}");
    let tokens = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": URI}}),
    );
    let data = tokens["result"]["data"]
        .as_array()
        .expect("token data")
        .clone();
    assert_eq!(data.len() % 5, 0);
    // Decode: the first token is `defaults` (namespace, type 0) at 0:0, length 8.
    assert_eq!(
        &data[..5],
        &[json!(0), json!(0), json!(8), json!(0), json!(0)]
    );
    // Some token is a comment (type 5) and some is a name (type 2).
    let types: Vec<u64> = data.chunks(5).map(|t| t[3].as_u64().unwrap()).collect();
    assert!(
        types.contains(&5) && types.contains(&2) && types.contains(&6),
        "{types:?}"
    );
    c.stop();
}

/// After an edit, a client that names the tokens it has gets only the tokens that changed, as
/// one edit of its list; applied, they are the tokens a full request gives. A client that names
/// tokens the server no longer keeps gets them all.
#[test]
fn semantic_tokens_after_an_edit_come_as_the_change() {
    let mut c = Client::start();
    let delta = &c.init["result"]["capabilities"]["semanticTokensProvider"]["full"]["delta"];
    assert_eq!(delta, &json!(true));
    c.open(URI, CFG);
    let ints = |v: &Value| -> Vec<u64> {
        v.as_array()
            .expect("token data")
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect()
    };
    let first = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": URI}}),
    );
    let mut have = ints(&first["result"]["data"]);
    let mut id = first["result"]["resultId"]
        .as_str()
        .expect("result id")
        .to_string();
    let doc = json!({"uri": URI});
    // Nothing changed: no edit.
    let same = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": doc, "previousResultId": id}),
    );
    assert_eq!(same["result"]["edits"], json!([]), "{same}");
    id = same["result"]["resultId"].as_str().unwrap().to_string();
    // A comment line added near the top: the tokens after it shift by one line only in the
    // delta of the first one that follows.
    for (version, text) in [(2, "# added\n"), (3, "")] {
        let end = if text.is_empty() { 1 } else { 0 };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": [{
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1 + end, "character": 0}},
                "text": text}]}),
        );
        let d = c.request(
            "textDocument/semanticTokens/full/delta",
            json!({"textDocument": doc, "previousResultId": id}),
        );
        let edits = d["result"]["edits"]
            .as_array()
            .unwrap_or_else(|| panic!("{d}"));
        assert_eq!(edits.len(), 1, "{d}");
        let e = &edits[0];
        let inserted = ints(&e["data"]);
        assert!(inserted.len() <= 10, "only what changed: {e}");
        let at = e["start"].as_u64().unwrap() as usize;
        let deleted = e["deleteCount"].as_u64().unwrap() as usize;
        have.splice(at..at + deleted, inserted);
        let full = c.request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": URI}}),
        );
        assert_eq!(have, ints(&full["result"]["data"]), "version {version}");
        id = full["result"]["resultId"].as_str().unwrap().to_string();
    }
    let stale = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": doc, "previousResultId": "stale"}),
    );
    assert_eq!(ints(&stale["result"]["data"]), have, "{stale}");
    c.stop();
}
