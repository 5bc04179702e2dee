//! Hover over the names of userlist, resolvers, peers and named defaults sections, where they
//! are defined and where they are used (`server … resolvers NAME`, `http_auth(NAME)`,
//! `http_auth_group(NAME)`, `stick-table … peers NAME`, `from NAME`), and over the integer
//! operators of ACLs (`lt 10`), with their completion, over JSON-RPC.

mod common;

use common::Client;

const URI: &str = "file:///tmp/section-names.cfg";

const CFG: &str = "\
resolvers mydns
    nameserver dns1 127.0.0.1:53
    hold valid 10s
userlist admins
    group ops users alice
    user alice insecure-password secret
peers mesh
    peer lb1 127.0.0.1:10000
defaults base
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe from base
    bind :80
    acl authed http_auth(admins)
    acl isops http_auth_group(admins) ops
    acl small req.len lt 10 ge 2
    acl short path -m len le 3
    acl word path lt
    http-request auth realm x unless authed isops small short word
    use_backend app if { req.len gt 5 }
    default_backend app
backend app from base
    stick-table type ip size 1k peers mesh
    server s1 127.0.0.1:8000 resolvers mydns check
";

fn hover_at(c: &mut Client, line: u32, word: &str, nth: usize) -> String {
    c.hover_word(URI, CFG, line, word, nth)
}

#[test]
fn section_names_show_their_section_where_defined_and_used() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let resolvers = "**resolvers mydns**\n\n```haproxy\nresolvers mydns\n    nameserver dns1 127.0.0.1:53\n    hold valid 10s\n```";
    assert_eq!(hover_at(&mut c, 0, "mydns", 0), resolvers);
    assert_eq!(hover_at(&mut c, 25, "mydns", 0), resolvers);
    let userlist = hover_at(&mut c, 3, "admins", 0);
    assert!(
        userlist.starts_with("**userlist admins**")
            && userlist.contains("    group ops users alice\n"),
        "{userlist}"
    );
    assert_eq!(hover_at(&mut c, 15, "admins", 0), userlist);
    assert_eq!(hover_at(&mut c, 16, "admins", 0), userlist);
    let peers = hover_at(&mut c, 24, "mesh", 0);
    assert!(peers.contains("    peer lb1 127.0.0.1:10000\n"), "{peers}");
    let defaults = hover_at(&mut c, 13, "base", 0);
    assert!(
        defaults.starts_with("**defaults base**") && defaults.contains("    mode http\n"),
        "{defaults}"
    );
    assert_eq!(hover_at(&mut c, 8, "base", 0), defaults);
    // The fetch around the name keeps its own hover.
    assert!(hover_at(&mut c, 15, "http_auth", 0).contains("(fetch)"));
    c.stop();
}

#[test]
fn integer_operators_have_hover_and_completion() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    for (line, word, expected) in [
        (17, " lt", "**lt** (integer operator)"),
        (17, " ge", "**ge** (integer operator)"),
        (18, " le ", "**le** (integer operator)"),
        (21, " gt", "**gt** (integer operator)"),
    ] {
        let h = hover_at(&mut c, line, word, 0);
        assert!(h.contains(expected), "{line} {word}: {h:?}");
    }
    // A path matched as a string: `lt` is a pattern there, not an operator.
    assert!(!hover_at(&mut c, 19, " lt", 0).contains("operator"));
    // Completion offers the operators where numbers go, and not for string patterns.
    let with = |c: &mut Client, line: &str| {
        let text = CFG.replace("    default_backend app\n", &format!("    {line}\n"));
        c.replace_text(URI, 2, &text);
        c.completion_labels(URI, 22, 4 + line.len() as u32)
    };
    let after_criterion = with(&mut c, "acl n req.len ");
    for l in ["-m", "-i", "eq", "ge", "gt", "le", "lt"] {
        assert!(
            after_criterion.iter().any(|x| x == l),
            "{after_criterion:?}"
        );
    }
    assert_eq!(
        with(&mut c, "acl n req.len 10 "),
        ["eq", "ge", "gt", "le", "lt"]
    );
    assert_eq!(
        with(&mut c, "http-request deny if { status l"),
        ["le", "lt"]
    );
    let strings = with(&mut c, "acl n path ");
    assert!(!strings.iter().any(|x| x == "lt"), "{strings:?}");
    assert!(with(&mut c, "acl n path /x ").is_empty());
    c.stop();
}
