//! Hover and completion on the words keywords take after their own, read from the registry's
//! one table of them: `option forwardfor except|header|if-none`, `capture … len`, a userlist's
//! `groups`/`users`, `filter` and each filter's options, `balance uri depth|len|whole|path-only`,
//! `http-check send`/`expect`/`connect` and `tcp-check connect` words, and the fixed values of
//! bind and server options (`level admin`, `resolve-prefer ipv4`, `init-addr last,libc`), over
//! JSON-RPC. A value chosen from a list is not taken for a fetch of the same name.

mod common;

use common::Client;
use serde_json::json;

const URI: &str = "file:///tmp/keyword-words.cfg";

const CFG: &str = "\
global
    stats socket /run/haproxy.sock level admin mode 600
userlist users
    group admins users alice
    user alice password $5$x groups admins
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:8080 name web1 accept-proxy
    option forwardfor except 127.0.0.0/8 header X-Client if-none
    capture request header Host len 64
    filter compression
    filter bwlim-in lim1 default-limit 100k default-period 1s
    filter trace name t1 random-forwarding
    filter spoe engine e1 config /etc/spoe.conf
    default_backend app
backend app
    balance uri depth 3 len 10 whole path-only
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host example.com
    http-check expect ok-status L7OK status 200
    server s1 127.0.0.1:9000 resolve-prefer ipv4 init-addr last,libc,none check
backend tcpb
    mode tcp
    tcp-check connect addr 127.0.0.1 port 25 send-proxy via-socks4 linger
    server s2 127.0.0.1:25 check
";

/// The hover text at the `nth` (0-based) occurrence of ` word` on `line`, cursor `into` bytes
/// into the word.
fn hover_at(c: &mut Client, line: u32, word: &str, into: usize) -> String {
    let text = CFG.lines().nth(line as usize).unwrap();
    let col = text
        .find(&format!(" {word}"))
        .unwrap_or_else(|| panic!("no {word} on line {line}"))
        + 1
        + into;
    c.hover_text(URI, line, col as u32)
}

fn labels(c: &mut Client, version: i64, line: &str, in_backend: bool) -> Vec<String> {
    let anchor = if in_backend {
        "    server s1"
    } else {
        "    default_backend app"
    };
    let text = CFG.replace(anchor, &format!("    {line}\n{anchor}"));
    let at_line = text
        .lines()
        .position(|l| l == format!("    {line}"))
        .unwrap() as u32;
    c.replace_text(URI, version, &text);
    c.completion_labels(URI, at_line, 4 + line.len() as u32)
}

#[test]
fn keyword_words_and_option_values_have_hover_and_completion() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    for (line, word, expected) in [
        (1, "admin", "**level admin**"),
        (3, "users", "**users** (group)"),
        (4, "password", "**password** (user)"),
        (4, "groups", "**groups** (user)"),
        (11, "name", "**name** (bind option)"),
        (12, "except", "**except** (option forwardfor)"),
        (12, "header", "**header** (option forwardfor)"),
        (12, "if-none", "**if-none** (option forwardfor)"),
        (13, "len", "**len** (capture request header)"),
        (14, "compression", "**filter compression**"),
        (15, "bwlim-in", "**filter bwlim-in**"),
        (15, "default-limit", "**default-limit** (filter bwlim-in)"),
        (15, "default-period", "**default-period** (filter bwlim-in)"),
        (16, "trace", "**filter trace**"),
        (
            16,
            "random-forwarding",
            "**random-forwarding** (filter trace)",
        ),
        (17, "engine", "**engine** (filter spoe)"),
        (17, "config", "**config** (filter spoe)"),
        (20, "uri", "**balance uri**"),
        (20, "depth", "**depth** (balance uri)"),
        (20, "whole", "**whole** (balance uri)"),
        (20, "path-only", "**path-only** (balance uri)"),
        (21, "meth", "**meth** (http-check send)"),
        (21, "GET", "**meth GET**"),
        (21, "ver", "**ver** (http-check send)"),
        (21, "HTTP/1.1", "**ver HTTP/1.1**"),
        (21, "hdr", "**hdr** (http-check send)"),
        (22, "ok-status", "**ok-status** (http-check expect)"),
        (22, "L7OK", "**ok-status L7OK**"),
        (22, "status", "**status** (http-check expect)"),
        (23, "ipv4", "**resolve-prefer ipv4**"),
        (26, "addr", "**addr** (tcp-check connect)"),
        (26, "port", "**port** (tcp-check connect)"),
        (26, "via-socks4", "**via-socks4** (tcp-check connect)"),
        (26, "linger", "**linger** (tcp-check connect)"),
    ] {
        let h = hover_at(&mut c, line, word, 1);
        assert!(h.contains(expected), "{line} {word}: {h:?}");
    }
    // Each item of a comma list is documented on its own.
    assert!(hover_at(&mut c, 23, "last,", 1).contains("**init-addr last**"));
    assert!(hover_at(&mut c, 23, "last,", 6).contains("**init-addr libc**"));
    assert!(hover_at(&mut c, 23, "last,", 11).contains("**init-addr none**"));
    // Free values (an address, a name, a header's value) have no doc, and none of a fetch
    // that happens to share their name.
    assert_eq!(hover_at(&mut c, 21, "Host", 1), "");
    assert_eq!(hover_at(&mut c, 16, "t1", 1), "");

    let has = |v: &[String], xs: &[&str]| xs.iter().all(|x| v.iter().any(|l| l == x));
    let mut version = 2;
    let mut complete = |line: &str, backend: bool| {
        version += 1;
        labels(&mut c, version, line, backend)
    };
    let ff = complete("option forwardfor except 10.0.0.0/8 ", false);
    assert!(
        has(&ff, &["header", "if-none"]) && !has(&ff, &["except"]),
        "{ff:?}"
    );
    let no_ff = complete("no option forwardfor ", false);
    assert!(has(&no_ff, &["except", "if-none"]), "{no_ff:?}");
    let filters = complete("filter ", false);
    assert!(
        has(
            &filters,
            &["compression", "spoe", "bwlim-in", "trace", "cache"]
        ),
        "{filters:?}"
    );
    let trace = complete("filter trace ", false);
    assert!(
        has(&trace, &["name", "random-parsing", "hexdump"]),
        "{trace:?}"
    );
    let capture = complete("capture response header Server ", false);
    assert_eq!(capture, ["len"]);
    let uri = complete("balance uri ", true);
    assert!(
        has(&uri, &["depth", "len", "whole", "path-only"]),
        "{uri:?}"
    );
    let meth = complete("http-check send meth ", true);
    assert!(has(&meth, &["GET", "HEAD", "OPTIONS"]), "{meth:?}");
    let send = complete("http-check send meth GET ", true);
    assert!(has(&send, &["uri", "ver", "hdr", "body"]) && !has(&send, &["meth"]));
    let expect = complete("http-check expect ", true);
    assert!(
        has(&expect, &["status", "rstatus", "min-recv", "!"]),
        "{expect:?}"
    );
    let connect = complete("tcp-check connect ", true);
    assert!(
        has(&connect, &["addr", "port", "send-proxy", "sni"]),
        "{connect:?}"
    );
    let prefer = complete("server s3 127.0.0.1:1 resolve-prefer ", true);
    assert_eq!(prefer, ["ipv4", "ipv6"]);
    let init = complete("server s3 127.0.0.1:1 init-addr last,", true);
    assert!(
        has(&init, &["libc", "none"]) && !has(&init, &["last"]),
        "{init:?}"
    );
    c.stop();
}

#[test]
fn stats_socket_level_and_userlist_words_complete() {
    let mut c = Client::start();
    c.open(URI, CFG);
    let _ = c.diagnostics(URI);
    let text = CFG.replace(
        "    stats socket /run/haproxy.sock level admin mode 600",
        "    stats socket /run/haproxy.sock level ",
    );
    c.replace_text(URI, 2, &text);
    let levels = c.completion_labels(URI, 1, text.lines().nth(1).unwrap().len() as u32);
    assert_eq!(levels, ["user", "operator", "admin"]);
    let text = CFG.replace("groups admins\n", "\n");
    c.replace_text(URI, 3, &text);
    let user = c.completion_labels(URI, 4, text.lines().nth(4).unwrap().len() as u32);
    assert!(
        user.contains(&"groups".to_string()) && !user.contains(&"password".to_string()),
        "{user:?}"
    );
    c.stop();
}

const MORE: &str = "\
global
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    ssl-default-server-options no-sslv3 verify required
resolvers dns
    nameserver ns1 127.0.0.1:53
    hold valid 10s
defaults
    mode http
    compression algo gzip deflate
    option mysql-check user haproxy_user post-41
frontend fe
    bind :80
    http-request return status 200 content-type text/plain string Hello if { path /x }
    http-request deny deny_status 429 if { path /y }
    http-request auth realm Admin if { path /z }
    http-error status 503 content-type text/html lf-file /etc/haproxy/503.html
    default_backend be
backend be
    server s1 127.0.0.1:80
";

/// Default TLS options read as bind and server options, a resolvers section's `hold`,
/// `compression`, `option mysql-check`, and the answer options of `return`, `deny`, `auth` and
/// `http-error`,
/// with the rule's condition still read as a condition.
#[test]
fn default_tls_options_hold_compression_and_answer_options() {
    let uri = "file:///tmp/keyword-words-more.cfg";
    let mut c = Client::start();
    c.open(uri, MORE);
    let _ = c.diagnostics(uri);
    let mut hover = |line: u32, word: &str| {
        let text = MORE.lines().nth(line as usize).unwrap();
        let col = text.find(&format!(" {word}")).unwrap() + 2;
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}),
        );
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for (line, word, expected) in [
        (1, "ssl-min-ver", "**ssl-min-ver** (bind option)"),
        (1, "TLSv1.2", "**ssl-min-ver TLSv1.2**"),
        (1, "no-tls-tickets", "**no-tls-tickets** (bind option)"),
        (2, "verify", "**verify** (server option)"),
        (2, "required", "**verify required**"),
        (5, "valid", "**valid** (hold)"),
        (8, "algo", "**compression algo**"),
        (8, "gzip", "**gzip** (compression algo)"),
        (9, "user", "**user** (option mysql-check)"),
        (9, "post-41", "**post-41** (option mysql-check)"),
        (12, "status", "**status** (http-request return)"),
        (12, "content-type", "**content-type** (http-request return)"),
        (12, "string", "**string** (http-request return)"),
        (12, "path", "**path** (fetch)"),
        (13, "deny_status", "**deny_status** (http-request deny)"),
        (13, "path", "**path** (fetch)"),
        (14, "realm", "**realm** (http-request auth)"),
        (15, "status", "**status** (http-error)"),
        (15, "content-type", "**content-type** (http-error)"),
        (15, "lf-file", "**lf-file** (http-error)"),
    ] {
        let h = hover(line, word);
        assert!(h.contains(expected), "{line} {word}: {h:?}");
    }
    c.stop();
}
