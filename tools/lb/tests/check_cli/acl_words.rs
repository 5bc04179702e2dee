//! What HAProxy says while it reads an ACL's criterion: the warning for an ACL with no pattern
//! to match (named and anonymous, by the type of the criterion's sample), and the arguments a
//! fetch or converter needs but was not given.

use super::*;

/// `-c` on ACL lines in a frontend: every line of the output after the version notices,
/// without the process id and the file's name.
fn acl_output(cmd: &str, body: &str) -> Vec<String> {
    messages_after_notices(
        cmd,
        "acl-words",
        &format!(
            "{HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:18996
{body}    default_backend b
backend b
    server s 127.0.0.1:1
"
        ),
    )
}

/// Compares hapee's output on `body` with `want`, and with haproxy's when it is installed.
#[track_caller]
fn assert_acl_output_like_haproxy(body: &str, want: &[String]) {
    let ours = acl_output(env!("CARGO_BIN_EXE_hapee-lb"), body);
    assert_eq!(ours, want, "hapee-lb on {body}");
    if haproxy_installed() {
        assert_eq!(acl_output("haproxy", body), want, "haproxy on {body}");
    }
}

/// The warning's lines for criterion `c`.
fn never_matches(c: &str) -> Vec<String> {
    vec![
        format!("config : parsing acl keyword '{c}' :"),
        "  no pattern to match against were provided, so this ACL will never match.".into(),
        "  If this is what you intended, please add '--' to get rid of this warning.".into(),
        "  If you intended to match only for existence, please use '-m found'.".into(),
        "  If you wanted to force an int to match as a bool, please use '-m bool'.".into(),
        String::new(),
    ]
}

#[test]
fn an_acl_without_patterns_is_warned_about_unless_it_gives_a_boolean() {
    // Integers, strings, addresses, methods, ACL keywords with their own match method, and
    // criteria ending in a converter: each warned about, in the order the lines are read.
    let body = "    acl a rand(50)\n    acl b src_port\n    acl c hdr(x)\n    acl d method\n    \
                acl e src\n    acl f hdr(x),lower\n    acl g hdr_beg(host)\n    \
                http-request deny if { url_port } || { ssl_fc }\n";
    let want: Vec<String> = [
        "rand(50)",
        "src_port",
        "hdr(x)",
        "method",
        "src",
        "hdr(x),lower",
    ]
    .into_iter()
    .chain(["hdr_beg(host)", "url_port"])
    .flat_map(never_matches)
    .collect();
    assert_acl_output_like_haproxy(body, &want);
    // Booleans, a '-m' method, '--', patterns, and a criterion refused for its missing method
    // are not.
    let quiet = "    acl a ssl_fc\n    acl b src_port,bool\n    acl c path -m found\n    \
                 acl d path --\n    acl e always_true\n    acl f path /x\n    \
                 http-request deny if { ssl_fc } { hdr(x) -m found }\n";
    assert_acl_output_like_haproxy(quiet, &[]);
}

#[test]
fn anonymous_acls_after_a_condition_error_are_not_read() {
    // The first error of a rule's condition stops HAProxy's reading of the file.
    let want: Vec<String> = never_matches("hdr(host)")
        .into_iter()
        .chain([
            "config : parsing [8] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nope'.".to_string(),
            "config : Error(s) found in configuration file : ".to_string(),
        ])
        .collect();
    assert_acl_output_like_haproxy(
        "    http-request deny if { hdr(host) } nope { src_port }\n",
        &want,
    );
}

#[test]
fn empty_typed_arguments_end_the_list() {
    let alert = |line: u32, m: &str| {
        format!("config : parsing [{line}] : error detected while parsing ACL '{m}")
    };
    let want = [
        alert(8, "a' : ACL keyword 'payload' : expected type 'integer' at position 1, but got nothing."),
        alert(9, "b' : fetch method 'req.payload' : expected type 'integer' at position 1, but got nothing in ACL expression 'req.payload()'."),
        alert(10, "c' : invalid arg 1 in converter 'ipmask' : expected type 'IPv4 mask' at position 1, but got nothing in ACL expression 'src,ipmask'."),
        "config : Error(s) found in configuration file : ".to_string(),
        "config : Fatal errors found in configuration.".to_string(),
    ];
    assert_acl_output_like_haproxy(
        "    acl a payload\n    acl b req.payload() -m found\n    acl c src,ipmask 1.2.3.4\n",
        &want,
    );
}

/// A condition naming an ACL whose own line failed: HAProxy's "no such ACL", pointing at that
/// declaration (no "did you mean" the same name).
#[test]
fn an_acl_declared_on_a_line_in_error_is_pointed_at() {
    let cfg = write_cfg(
        "failed-acl.cfg",
        &format!(
            "{HTTP_DEFAULTS}frontend fe\n    bind 127.0.0.1:18997\n    acl broken {{ path /x\n    \
             use_backend b if broken\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n"
        ),
    );
    let out = run(&["check", "--format", "json", "-f", cfg.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let e504 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E504")
        .expect("E504");
    assert!(
        e504["message"]
            .as_str()
            .unwrap()
            .contains("no such ACL : 'broken'"),
        "{e504}"
    );
    let decl_line = HTTP_DEFAULTS.lines().count() as u64 + 3;
    assert_eq!(e504["related"][0]["start"]["line"], decl_line, "{e504}");
    assert!(
        e504["help"]
            .as_str()
            .unwrap()
            .starts_with("fix the error on the ACL's line"),
        "{e504}"
    );
}
