//! Hover and completion on the words of a redirect (its form, options and code, in the
//! `redirect` directive and the `redirect` rule action) and of an ACL (its flags and match
//! method, on `acl` lines and in `{ … }` conditions), over JSON-RPC.

mod common;

use common::Client;

const URI: &str = "file:///tmp/redirect-acl.cfg";

const CFG: &str = "\
defaults
    mode http
frontend fe
    bind :80
    acl api path -i -m beg -f /etc/haproxy/api.lst /api -n
    redirect prefix https://www.example.com code 301 drop-query append-slash if { hdr(host) -i -m end example.com }
    http-request redirect scheme https code 308 set-cookie seen=1 unless { ssl_fc }
    http-request redirect location /x ignore-empty clear-cookie seen if { path -- -x }
    default_backend app
backend app
    server s1 127.0.0.1:1
";

fn hover_at(c: &mut Client, line: u32, word: &str, nth: usize) -> String {
    c.hover_word(URI, CFG, line, word, nth)
}

fn labels(c: &mut Client, line: &str) -> Vec<String> {
    let text = CFG.replace("    default_backend app\n", &format!("    {line}\n"));
    c.replace_text(URI, 2, &text);
    c.completion_labels(URI, 8, 4 + line.len() as u32)
}

#[test]
fn redirect_forms_options_codes_and_acl_flags_have_hover() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let cases: &[(u32, &str, usize, &str)] = &[
        (4, "-i", 0, "**-i** (ACL flag)"),
        (4, "-m", 0, "**-m** (ACL flag)"),
        (4, "beg", 0, "**-m beg** (match method)"),
        (4, "-f", 0, "**-f** (ACL flag)"),
        (5, "prefix", 0, "**prefix** (redirect form)"),
        (5, "code", 0, "**code** (redirect option)"),
        (5, "301", 0, "**code 301** (redirect status)"),
        (5, "drop-query", 0, "**drop-query** (redirect option)"),
        (5, "append-slash", 0, "**append-slash** (redirect option)"),
        (5, "-i", 0, "**-i** (ACL flag)"),
        (5, " end", 0, "**-m end** (match method)"),
        (6, "scheme", 0, "**scheme** (redirect form)"),
        (6, "308", 0, "**code 308**"),
        (6, "set-cookie", 0, "**set-cookie** (redirect option)"),
        (7, "location", 0, "**location** (redirect form)"),
        (7, "ignore-empty", 0, "**ignore-empty** (redirect option)"),
        (7, "clear-cookie", 0, "**clear-cookie** (redirect option)"),
        (7, "--", 0, "**--** (ACL flag)"),
    ];
    for &(line, word, nth, expected) in cases {
        let h = hover_at(&mut c, line, word, nth);
        assert!(h.contains(expected), "{line} {word}: {h:?}");
    }
    // Patterns are not flags: `-n` after `/api`, `-x` after `--`.
    for (line, word) in [(4, "-n"), (7, "-x")] {
        let h = hover_at(&mut c, line, word, 0);
        assert!(!h.contains("ACL flag"), "{line} {word}: {h:?}");
    }
    // The fetches around them keep their own hover.
    assert!(hover_at(&mut c, 5, "hdr", 0).contains("(fetch)"));
    c.stop();
}

#[test]
fn redirect_and_acl_words_complete_in_place() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let has = |v: &[String], xs: &[&str]| xs.iter().all(|x| v.iter().any(|l| l == x));
    let forms = labels(&mut c, "redirect ");
    assert!(has(&forms, &["location", "prefix", "scheme"]), "{forms:?}");
    assert!(!has(&forms, &["code"]), "{forms:?}");
    let options = labels(&mut c, "http-request redirect scheme https ");
    assert!(
        has(
            &options,
            &[
                "code",
                "drop-query",
                "append-slash",
                "set-cookie",
                "clear-cookie"
            ]
        ),
        "{options:?}"
    );
    assert!(!has(&options, &["prefix"]), "{options:?}");
    // Options already written are not offered again.
    let rest = labels(&mut c, "redirect prefix / drop-query ");
    assert!(
        has(&rest, &["code"]) && !has(&rest, &["drop-query"]),
        "{rest:?}"
    );
    let codes = labels(&mut c, "redirect location /x code ");
    assert_eq!(codes, ["301", "302", "303", "307", "308"]);
    let code = labels(&mut c, "redirect location /x code 30");
    assert_eq!(code.len(), 5, "{code:?}");
    let flags = labels(&mut c, "acl x path -");
    assert!(
        has(&flags, &["-i", "-f", "-m", "-n", "-M", "-u", "--"]),
        "{flags:?}"
    );
    let methods = labels(&mut c, "http-request deny if { path -i -m ");
    assert!(
        has(&methods, &["beg", "end", "reg", "found"]),
        "{methods:?}"
    );
    let methods = labels(&mut c, "acl x hdr(host) -m d");
    assert_eq!(methods, ["dir", "dom"]);
    // A condition's criterion is still a fetch; a file after -f is not completed as a flag.
    let fetches = labels(&mut c, "redirect scheme https if { ");
    assert!(has(&fetches, &["path", "ssl_fc"]), "{fetches:?}");
    let file = labels(&mut c, "acl x path -f ");
    assert!(!file.iter().any(|l| l.starts_with('-')), "{file:?}");
    c.stop();
}
