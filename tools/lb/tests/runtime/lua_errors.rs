//! What a failing Lua script logs, side by side with Debian's haproxy (Lua 5.3): one request
//! runs every failing action of `testdata/lua/errors.lua` (HAProxy logs a failed action and
//! goes on with the next rule), and both proxies must log the same lines, to their loggers
//! and as alerts on stderr. Lua 5.3 and 5.4 word these errors alike, so no line is excused.

use super::harness::{curl, free_port, with_haproxy_until, Proxy, DEFAULTS};
use std::path::PathBuf;

/// The actions of `errors.lua`, in the order the rules call them.
const CASES: &[&str] = &[
    "info_no_argument",
    "info_two_arguments",
    "log_one_argument",
    "log_bad_level",
    "txn_info_no_argument",
    "txn_log_bad_level",
    "set_var_one_argument",
    "get_var_no_argument",
    "unset_var_two_arguments",
    "map_new_at_runtime",
    "concat_add_table",
    "concat_add_nothing",
    "msleep_string",
    "sleep_no_argument",
    "error_string",
    "error_level_0",
    "error_table",
    "index_nil",
    "call_nil",
    "arithmetic",
    "req_set_header_one_argument",
    "req_del_header_no_argument",
    "req_set_path_no_argument",
    "no_such_fetch",
    "set_map_unknown_file",
    "add_acl_one_argument",
    "tokenize_no_argument",
    "set_loglevel_bad_level",
    "connect_no_argument",
    "string_rep_no_argument",
    "info_nil",
    "log_nil_message",
    "msleep_nil",
    "get_var_nil",
    "set_loglevel_nil",
    "req_set_path_nil",
    "req_set_header_nil_value",
    "concat_add_nil",
    "tokenize_nil",
    "add_acl_nil_key",
    "nested",
];

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/errors.lua");
    p.canonicalize().unwrap().display().to_string()
}

fn config(port: u16) -> String {
    let rules: String = CASES
        .iter()
        .map(|c| format!("    http-request lua.{c}\n"))
        .collect();
    format!(
        "global\n    lua-load {}\n    log stdout format raw local0\n{DEFAULTS}    log global\n\
         frontend fe\n    bind 127.0.0.1:{port}\n{rules}    http-request use-service lua.answer\n",
        script()
    )
}

/// The script-failure lines of a log, in order.
fn failures(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("Lua function '"))
        .map(String::from)
        .collect()
}

/// The alerts of a proxy's stderr without the process id.
fn alerts(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("[ALERT]    ("))
        .filter_map(|l| l.split_once(") : ").map(|(_, m)| m.to_string()))
        .collect()
}

#[test]
fn script_errors_are_logged_with_haproxys_words_file_and_line() {
    let port = free_port();
    let p = Proxy::start(&config(port), port);
    let url = format!("http://127.0.0.1:{port}/");
    // Every failed action lets the rules go on to the service.
    assert_eq!(curl(&[&url]), (200, "ok\n".to_string()), "{}", p.stderr());
    let done = |log: &str| log.contains("Lua function 'nested'");
    let ours = failures(&p.stdout_when(done));
    let file = script();
    let line = |name: &str| {
        let n = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .position(|l| l.contains(&format!("\"{name}\"")))
            .unwrap()
            + 1;
        format!("{file}:{n}")
    };
    // A few lines spelled out, so that the test holds without haproxy too.
    let expected = [
        format!(
            "Lua function 'info_no_argument': [state-id 0] runtime error: {0}: 'info' needs 1 \
             arguments from [C]: in field 'Info', {0}: in function line {1}.",
            line("info_no_argument"),
            line("info_no_argument").rsplit(':').next().unwrap()
        ),
        format!(
            "Lua function 'msleep_string': [state-id 0] runtime error: {0}: bad argument #1 to \
             'msleep' (number expected, got string) from [C]: in field 'msleep', {0}: in \
             function line {1}.",
            line("msleep_string"),
            line("msleep_string").rsplit(':').next().unwrap()
        ),
        format!(
            "Lua function 'map_new_at_runtime': [state-id 0] runtime error: {0}: 'new': map: \
             cannot load map at runtime. from [C]: in field 'new', {0}: in function line {1}.",
            line("map_new_at_runtime"),
            line("map_new_at_runtime").rsplit(':').next().unwrap()
        ),
        format!(
            "Lua function 'error_table': [state-id 0] unknown runtime error from [C]: in global \
             'error', {0}: in function line {1}.",
            line("error_table"),
            line("error_table").rsplit(':').next().unwrap()
        ),
    ];
    for e in &expected {
        assert!(ours.contains(e), "missing {e}\nin {ours:#?}");
    }
    // One line per case, each of them failing.
    assert_eq!(ours.len(), CASES.len(), "{ours:#?}");
    assert_eq!(alerts(&p.stderr()), ours);
    let Some(((code, _), theirs_log)) = with_haproxy_until(
        1,
        config,
        |port| curl(&[&format!("http://127.0.0.1:{port}/")]),
        done,
    ) else {
        return;
    };
    assert_eq!(code, 200);
    let theirs = failures(&theirs_log);
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t);
    }
    assert_eq!(ours, theirs);
}
