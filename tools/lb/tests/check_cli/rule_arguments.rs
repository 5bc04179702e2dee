//! Expressions and values inside rule arguments that HAProxy compiles while it reads the line
//! (address and priority actions, captures, check rules' variables, stick rules, a server's
//! `sni`, `set-mark`, replies' formats), and the warnings it gives once the configuration is
//! read about `tcp-request content` rules that run before the request is there.

use super::*;

#[test]
fn rule_expressions_and_values_are_refused_as_haproxy_refuses_them() {
    let bare = |m: &str| format!("config : parsing [10] : {m}");
    let resolve = |e: &str| {
        format!("Can't parse '{e}'. Expects 'do-resolve(<varname>,<resolvers>[,<options>]) <expr>'. Available options are 'ipv4' and 'ipv6'")
    };
    let cases = [
        // Actions whose expression was only tested for where it can be read: it must parse.
        (
            "    http-request set-src nope",
            in_http_rule("http-request set-src", "unknown fetch method 'nope'"),
        ),
        (
            "    http-request set-dst-port src,nope",
            in_http_rule("http-request set-dst-port", "unknown converter 'nope'"),
        ),
        ("    tcp-request connection set-src", bare("missing fetch method")),
        (
            "    http-request set-priority-class nope",
            in_http_rule("http-request set-priority-class", "unknown fetch method 'nope'"),
        ),
        (
            "    tcp-request content sc-set-gpt0(0) 12a",
            bare("unknown fetch method '12a'"),
        ),
        (
            "    tcp-request content capture nope len 10",
            bare("'tcp-request content capture' : unknown fetch method 'nope'"),
        ),
        // `do-resolve` words every expression error its own way.
        (
            "    tcp-request content do-resolve(txn.a,dns) src,nope",
            bare(&resolve("src,nope")),
        ),
        (
            "    http-request do-resolve(txn.a,dns) nope(",
            in_http_rule("http-request do-resolve(txn.a,dns)", &resolve("nope(")),
        ),
        // Captures count their words (HTTP) or need a positive length (TCP).
        (
            "    http-request capture req.hdr(a)",
            in_http_rule(
                "http-request capture",
                "expects <expression> [ 'len' <length> | id <idx> ]",
            ),
        ),
        (
            "    http-response capture res.hdr(a)",
            in_http_rule("http-response capture", "expects <expression> id <idx>"),
        ),
        (
            "    tcp-request content capture req.len",
            bare("'tcp-request content capture' : a positive 'len' argument is mandatory"),
        ),
        (
            "    tcp-request content capture req.len len 0",
            bare("'tcp-request content capture' : length must be > 0"),
        ),
        // Marks and TOS values are C integers.
        (
            "    http-request set-mark nope",
            in_http_rule(
                "http-request set-mark",
                "invalid character starting at 'nope' (integer/hex value expected)",
            ),
        ),
        (
            "    tcp-request connection set-tos 0x1g",
            bare("invalid character starting at 'g' (integer/hex value expected)"),
        ),
        (
            "    http-request set-mark",
            in_http_rule(
                "http-request set-mark",
                "expects exactly 1 argument (integer/hex value)",
            ),
        ),
        // A reply's header values and log-format body are compiled with the rule.
        (
            "    http-request return hdr x %[nope]",
            in_http_rule(
                "http-request return",
                "failed to parse sample expression <nope]> : unknown fetch method 'nope'",
            ),
        ),
        (
            "    http-request return hdr x %[src,map(/nonexistent/hapee.map)]",
            in_http_rule(
                "http-request return",
                "failed to parse sample expression <src,map(/nonexistent/hapee.map)]> : invalid args in converter 'map' : failed to open pattern file </nonexistent/hapee.map>",
            ),
        ),
        (
            "    http-request return status 200 content-type text/plain lf-string %[nope]",
            in_http_rule(
                "http-request return",
                "failed to parse sample expression <nope]> : unknown fetch method 'nope'",
            ),
        ),
    ];
    for (rule, want) in &cases {
        assert_rule_alert_like_haproxy(rule, Some(want));
    }
    for rule in [
        "    http-request set-mark 0x10",
        "    http-request set-tos -1",
        "    tcp-request content capture req.len len 4",
        "    http-request sc-set-gpt0(0) +5",
        "    http-request return status 200 content-type text/plain lf-string %[src]",
    ] {
        assert_rule_alert_like_haproxy(rule, None);
    }
}

/// The `[ALERT]` and `[WARNING]` lines of `cmd -c` on a backend `be` holding `lines` (after
/// its table, before its server), without process ids and file name, and without the
/// closing summaries.
fn backend_messages(cmd: &str, lines: &str) -> Vec<String> {
    let (out, file) = check_text(
        cmd,
        "backend",
        &format!(
            "{HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:18996
    default_backend be
backend be
    stick-table type string size 1k
{lines}
    server s 127.0.0.1:18997
"
        ),
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[ALERT]") || l.starts_with("[WARNING]"))
        .filter_map(|l| {
            l.split_once(") : ")
                .map(|(_, rest)| rest.replace(&file, ""))
        })
        .filter(|l| !l.contains("found in configuration"))
        .collect()
}

#[track_caller]
fn assert_backend_like_haproxy(lines: &str, want: &[&str]) {
    let ours = backend_messages(env!("CARGO_BIN_EXE_hapee-lb"), lines);
    assert_eq!(ours, want, "{lines}");
    if haproxy_installed() {
        assert_eq!(
            backend_messages("haproxy", lines),
            ours,
            "haproxy on {lines}"
        );
    }
}

#[test]
fn check_rules_stick_rules_and_server_sni_are_compiled_as_haproxy_compiles_them() {
    let at = |m: &str| format!("config : parsing [11] : {m}");
    let cases: [(&str, String); 9] = [
        // Check rules' variables: any scope, the check's own places.
        (
            "    option httpchk\n    http-check set-var(check.a) nope",
            at("'http-check set-var(check.a)' : 'set-var' : unknown fetch method 'nope'."),
        ),
        (
            "    option httpchk\n    http-check set-var(txn.a) req.hdr(x)",
            at("'http-check set-var(txn.a)' : 'set-var' : fetch method 'set-var(txn.a)' extracts information from 'HTTP request headers', none of which is available here."),
        ),
        (
            "    option tcp-check\n    tcp-check unset-var(txn)",
            at("'tcp-check unset-var(txn)' : 'unset-var' : invalid variable name 'txn'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."),
        ),
        (
            "    option tcp-check\n    tcp-check set-var-fmt(check.a) %[nope]",
            at("'tcp-check set-var-fmt(check.a)' : 'set-var-fmt' : failed to parse sample expression <nope]> : unknown fetch method 'nope'."),
        ),
        // Stick rules: the expression, where it is read, what follows it.
        ("    stick on src,nope", at("'stick': unknown converter 'nope'")),
        (
            "    stick match res.hdr(x)",
            at("'stick': fetch method 'res.hdr' extracts information from 'HTTP response headers', none of which is available during request."),
        ),
        (
            "    stick store-response req.hdr(x)",
            at("'stick': fetch method 'req.hdr' extracts information from 'HTTP request headers', none of which is available for 'store-response'."),
        ),
        ("    stick on src foo", at("'stick': unknown keyword 'foo'.")),
        // A server's SNI expression, compiled once its line is read.
        (
            "    server s2 127.0.0.1:18998 sni nope",
            "config : [t.cfg:11] : 'server be/s2' : error detected while parsing sni expression : unknown fetch method 'nope'".into(),
        ),
    ];
    for (lines, want) in &cases {
        // The last of the lines is the one refused.
        let line = format!("[{}]", 10 + lines.lines().count());
        let want = want.replace("[t.cfg:11]", "[11]").replace("[11]", &line);
        assert_backend_like_haproxy(lines, &[want.as_str()]);
    }
    assert_backend_like_haproxy(
        "    server s2 127.0.0.1:18998 ssl verify none sni res.hdr(x)",
        &["config : [11] : 'server be/s2' : error detected while parsing sni expression :  fetch method 'res.hdr(x)' extracts information from 'HTTP response headers', none of which is available here."],
    );
    assert_backend_like_haproxy("    stick on src table be if TRUE", &[]);
    assert_backend_like_haproxy("    stick store-response res.hdr(x)", &[]);
}

#[test]
fn stick_rule_conditions_are_checked_as_haproxy_checks_them() {
    let at = |m: &str| format!("config : parsing [11] : {m}");
    let sticking = |m: &str| {
        at(&format!(
            "'stick': error detected while parsing sticking condition : {m}."
        ))
    };
    let never = |keyword: &str, place: &str| {
        at(&format!("anonymous acl will never match because it uses keyword '{keyword}' which is incompatible with '{place}'"))
    };
    let cases = [
        (
            "    stick on src if { nope }",
            sticking("unknown fetch method 'nope' in ACL expression 'nope'"),
        ),
        (
            "    stick match src table be unless FOO",
            sticking("no such ACL : 'FOO'"),
        ),
        (
            "    stick store-request src if { res.hdr(x) -m found }",
            never("res.hdr", "backend use-server, balance or stick-match rule"),
        ),
        (
            "    stick store-response src if { req.hdr(x) -m found }",
            never("req.hdr", "backend stick-store rule"),
        ),
    ];
    for (line, want) in &cases {
        assert_backend_like_haproxy(line, &[want.as_str()]);
    }
}

/// The warnings of `cmd -c` on frontend `fe` holding `lines`.
fn frontend_warnings(cmd: &str, lines: &str) -> Vec<String> {
    let (out, _) = check_text(
        cmd,
        "content",
        &format!(
            "{HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:18999
    stick-table type ip size 1k
{lines}
"
        ),
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .filter_map(|l| l.split_once(") : ").map(|(_, rest)| rest.to_string()))
        .collect()
}

#[test]
fn content_rules_that_run_before_the_request_is_there_are_warned_about_as_haproxy_does() {
    let no_delay = |what: &str| {
        format!("config : frontend 'fe' : a '{what}' rule explicitly depending on request contents without any 'tcp-request inspect-delay' setting. This means that this rule will randomly find its contents. This can be fixed by setting the tcp-request inspect-delay.")
    };
    let session = "config : frontend 'fe' : a 'tcp-request content track-sc*' rule not depending on request contents for an HTTP frontend should be executed at the session level, using a 'tcp-request session' rule (mandatory to track invalid HTTP requests).";
    let cases: [(&str, Vec<String>); 4] = [
        (
            "    acl h hdr(host) x\n    tcp-request content track-sc0 src\n    tcp-request content track-sc0 src if h\n    tcp-request content track-sc0 src if METH_GET",
            vec![session.into()],
        ),
        (
            "    tcp-request content track-sc1 req.len\n    tcp-request content capture req.len len 4",
            vec![no_delay("tcp-request content track-sc*"), no_delay("tcp-request capture")],
        ),
        // The delay, its own or the defaults section's, waits for the contents.
        (
            "    tcp-request inspect-delay 1s\n    tcp-request content capture req.len len 4",
            vec![],
        ),
        // What exists once the session is accepted needs no delay.
        ("    tcp-request content capture src len 4", vec![]),
    ];
    for (lines, want) in &cases {
        let ours = frontend_warnings(env!("CARGO_BIN_EXE_hapee-lb"), lines);
        assert_eq!(&ours, want, "{lines}");
        if haproxy_installed() {
            assert_eq!(
                frontend_warnings("haproxy", lines),
                ours,
                "haproxy on {lines}"
            );
        }
    }
}
