//! Hover and completion on the words real configurations write after `log`, `cookie` and
//! `stick-table`, and on `if`/`unless`: words a hover over every word of the public corpus's
//! files found without a doc, over JSON-RPC.

mod common;

use common::Client;

const URI: &str = "file:///tmp/directive-words.cfg";

const CFG: &str = "\
global
    log stdout format raw local0 info
defaults
    mode http
    log global
frontend fe
    bind :80
    http-request deny if { path /x }
    http-request set-header X-A 1 unless { ssl_fc }
    default_backend app
backend app
    stick-table type ip size 1m expire 30s store http_req_rate(10s)
    cookie SRV insert indirect nocache httponly
    server s1 127.0.0.1:1 cookie a
";

fn hover(c: &mut Client, line: u32, word: &str) -> String {
    let text = CFG.lines().nth(line as usize).unwrap();
    let col = text
        .find(&format!(" {word}"))
        .unwrap_or_else(|| panic!("no {word} on line {line}")) as u32
        + 1;
    c.hover_text(URI, line, col)
}

fn labels(c: &mut Client, line: &str, at_line: u32, in_backend: bool) -> Vec<String> {
    let anchor = if in_backend {
        "    server s1"
    } else {
        "    default_backend app"
    };
    let text = CFG.replace(anchor, &format!("    {line}\n{anchor}"));
    c.replace_text(URI, 2, &text);
    c.completion_labels(URI, at_line, 4 + line.len() as u32)
}

#[test]
fn log_cookie_stick_table_words_and_conditions_have_hover_and_completion() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    for (line, word, expected) in [
        (1, "format", "**format** (log)"),
        (1, "raw", "**format raw**"),
        (1, "local0", "**local0** (log)"),
        (1, "info", "**info** (log)"),
        (4, "global", "**global** (log)"),
        (7, "if", "**if**"),
        (8, "unless", "**unless**"),
        (11, "type", "**type** (stick-table)"),
        (11, "size", "**size** (stick-table)"),
        (11, "expire", "**expire** (stick-table)"),
        (11, "store", "**store** (stick-table)"),
        (12, "insert", "**insert** (cookie)"),
        (12, "indirect", "**indirect** (cookie)"),
        (12, "nocache", "**nocache** (cookie)"),
    ] {
        let h = hover(&mut c, line, word);
        assert!(h.contains(expected), "{line} {word}: {h:?}");
    }
    // `cookie` on a server line is the server option, not the directive's words.
    assert!(hover(&mut c, 13, "cookie").contains("(server option)"));
    let has = |v: &[String], xs: &[&str]| xs.iter().all(|x| v.iter().any(|l| l == x));
    let log = labels(&mut c, "log 127.0.0.1 loc", 9, false);
    assert!(has(&log, &["local0", "local7"]), "{log:?}");
    let cookie = labels(&mut c, "cookie SRV ", 13, true);
    assert!(
        has(&cookie, &["insert", "indirect", "nocache", "maxidle"]),
        "{cookie:?}"
    );
    let named = labels(&mut c, "cookie ", 13, true);
    assert!(named.is_empty(), "the cookie's name comes first: {named:?}");
    let table = labels(&mut c, "stick-table type ip s", 13, true);
    assert!(has(&table, &["size", "store", "srvkey"]), "{table:?}");
    c.stop();
}
