//! A sample fetch used where the information it reads does not exist, refused in HAProxy's
//! words: each rule kind tests its expression against its own check points (or the ones its
//! action names), and the global section only has what exists before any connection.

use super::*;

fn refusal(keyword: &str, needs: &str) -> String {
    format!(
        "fetch method '{keyword}' extracts information from '{needs}', none of which is available here"
    )
}

#[test]
fn rule_expressions_reading_what_is_not_there_are_refused_as_haproxy_refuses_them() {
    let (reqh, resh) = ("HTTP request headers", "HTTP response headers");
    let (reqb, resb) = ("request buffer", "response buffer");
    let bare = |m: String| format!("config : parsing [10] : {m}");
    let cases = [
        // set-var names the action; HTTP rules wrap the words, TCP rules give them bare.
        (
            "    http-request set-var(txn.a) res.hdr(a)",
            in_http_rule("http-request set-var(txn.a)", &refusal("set-var(txn.a)", resh)),
        ),
        (
            "    http-response set-var(txn.a) req.hdr(a)",
            in_http_rule("http-response set-var(txn.a)", &refusal("set-var(txn.a)", reqh)),
        ),
        (
            "    http-after-response set-var(txn.a) req.hdr(a)",
            in_http_rule(
                "http-after-response set-var(txn.a)",
                &refusal("set-var(txn.a)", reqh),
            ),
        ),
        (
            "    tcp-request connection set-var(sess.a) req.hdr(a)",
            bare(refusal("set-var(sess.a)", reqh)),
        ),
        (
            "    tcp-request session set-var(sess.a) req.len",
            bare(refusal("set-var(sess.a)", reqb)),
        ),
        (
            "    tcp-request content set-var(sess.a) res.len",
            bare(refusal("set-var(sess.a)", resb)),
        ),
        // Tracking keys and captures name the expression.
        (
            "    tcp-request connection track-sc0 req.hdr(a)",
            bare(format!(
                "'tcp-request connection track-sc0' : {}",
                refusal("req.hdr(a)", reqh)
            )),
        ),
        (
            "    http-request track-sc0 res.hdr(a)",
            in_http_rule("http-request track-sc0", &refusal("res.hdr(a)", resh)),
        ),
        (
            "    tcp-request content capture res.hdr(a) len 10",
            bare(format!(
                "'tcp-request content capture' : {}",
                refusal("res.hdr(a)", resh)
            )),
        ),
        (
            "    http-response capture req.hdr(a) id 0",
            in_http_rule("http-response capture", &refusal("req.hdr(a)", reqh)),
        ),
        (
            "    http-request sc-set-gpt0(0) res.hdr(a)",
            in_http_rule("http-request sc-set-gpt0(0)", &refusal("res.hdr(a)", resh)),
        ),
        (
            "    tcp-request content sc-set-gpt0(0) res.len",
            bare(refusal("res.len", resb)),
        ),
        // These test the request headers' point whatever the rule set.
        (
            "    tcp-request content set-src res.len",
            bare(refusal("res.len", resb)),
        ),
        (
            "    http-request set-dst res.hdr(a)",
            in_http_rule("http-request set-dst", &refusal("res.hdr(a)", resh)),
        ),
        // set-priority-* names the line's first word.
        (
            "    http-request set-priority-class res.hdr(a)",
            in_http_rule(
                "http-request set-priority-class",
                &refusal("set-priority-class", resh),
            ),
        ),
        (
            "    tcp-request content set-priority-offset res.len",
            bare(refusal("tcp-request", resb)),
        ),
        (
            "    http-request do-resolve(txn.a,r) res.hdr(a)\nresolvers r\n    nameserver n 127.0.0.1:53",
            in_http_rule("http-request do-resolve(txn.a,r)", &refusal("res.hdr(a)", resh)),
        ),
        // A TCP rule's format string: the log-format words, bare.
        (
            "    tcp-request content set-var-fmt(sess.a) x%[res.len]",
            bare("sample fetch <res.len]> may not be reliably used here because it needs 'response buffer' which is not available here".into()),
        ),
        (
            "    tcp-request connection set-var-fmt(sess.a) %[nope]",
            bare("failed to parse sample expression <nope]> : unknown fetch method 'nope'".into()),
        ),
        // A pattern file a rule's string cannot read: the expression from its start.
        (
            "    http-request set-header x a%[str(b)]%[str(a),map(/nonexistent/hapee.map)]",
            in_http_rule(
                "http-request set-header",
                "failed to parse sample expression <str(a),map(/nonexistent/hapee.map)]> : invalid args in converter 'map' : failed to open pattern file </nonexistent/hapee.map>",
            ),
        ),
    ];
    for (rule, want) in &cases {
        assert_rule_alert_like_haproxy(rule, Some(want));
    }
    // Where the information exists, and integer values, pass.
    for rule in [
        "    http-request set-var(txn.a) req.hdr(a)",
        "    http-response set-var(txn.a) res.hdr(a)",
        "    tcp-request session set-var(sess.a) src",
        "    tcp-request content set-var-fmt(sess.a) %[req.len]",
        "    tcp-request connection set-src req.len",
        "    http-request sc-set-gpt0(0) 12",
        "    http-request capture req.hdr(a) len 10",
    ] {
        assert_rule_alert_like_haproxy(rule, None);
    }
}

#[test]
fn global_set_var_reads_only_what_exists_before_any_connection() {
    for (line, want) in [
        (
            "set-var proc.x req.hdr(a)",
            Some(refusal("set-var(proc.x)", "HTTP request headers")),
        ),
        // The fetch is tested before the scope.
        (
            "set-var txn.x src",
            Some(refusal("set-var(txn.x)", "client address")),
        ),
        (
            "set-var-fmt proc.x \"%[str(a)] %[src]\"",
            Some("sample fetch <src]> may not be reliably used here because it needs 'client address' which is not available here".into()),
        ),
        // Expressions are compiled in order: the unusable fetch before a later unknown one.
        (
            "set-var-fmt proc.x \"a%[req.hdr(a)] %[nope]\"",
            Some("sample fetch <req.hdr(a)] %[nope]> may not be reliably used here because it needs 'HTTP request headers' which is not available here".into()),
        ),
        (
            "set-var-fmt proc.x \"a%[str(a)] %[nope]\"",
            Some("failed to parse sample expression <nope]> : unknown fetch method 'nope'".into()),
        ),
        (
            "set-var-fmt proc.x \"%[str(a)\"",
            Some("missing ']' after 'str(a)'".into()),
        ),
        ("set-var proc.x env(HOME)", None),
        ("set-var proc.x var(proc.y)", None),
        ("set-var-fmt proc.x \"%[env(HOME)] %[str(a)]\"", None),
    ] {
        assert_global_alert_like_haproxy(line, want.as_deref());
    }
}
