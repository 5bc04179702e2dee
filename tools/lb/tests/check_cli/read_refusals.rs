//! What HAProxy refuses while it reads the lines, side by side with it: addresses a proxy
//! connects from or through (`source`, `usesrc`, `socks4`, `tcp-check connect addr`) and the
//! kinds of port each takes, a ring's sizes, a stick-table's stores, certificate names with a
//! `$` left in them, the section a SPOE filter's file makes it forget, and where it stops
//! reading a file after 50 failing lines.

use super::*;

/// `-c` on `text` by `cmd`: its exit status and every line after the version notices, without
/// the process id and the file's name.
fn run(cmd: &str, text: &str) -> (Option<i32>, Vec<String>) {
    let (out, file) = check_text(cmd, "read-refusals", text);
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| {
            l.split_once(") : ")
                .map_or(l, |(_, rest)| rest)
                .replace(&file, "")
                .replace(file.trim_end_matches(':'), "")
        })
        .collect();
    (out.status.code(), lines)
}

/// hapee's exit status and output on `text` must be `code` and `want`, and haproxy's too when
/// it is installed.
#[track_caller]
fn assert_like_haproxy(text: &str, code: i32, want: &[String]) {
    let ours = run(env!("CARGO_BIN_EXE_hapee-lb"), text);
    assert_eq!(ours, (Some(code), want.to_vec()), "hapee-lb on {text}");
    if haproxy_installed() {
        assert_eq!(
            run("haproxy", text),
            (Some(code), want.to_vec()),
            "haproxy on {text}"
        );
    }
}

fn strings(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

#[test]
fn source_usesrc_socks4_and_check_addresses_take_their_own_ports() {
    let text = "defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend b1
  source 0.0.0.0:12003-12010
  source 0.0.0.0:+12011
  server s1 127.0.0.1:1 source 0.0.0.1:+15002
  server s2 127.0.0.1:1 source 0.0.0.1:15004-15010
  server s3 127.0.0.1:1 source 0.0.0.0 usesrc 0.0.0.1:16004-16010 weight 3
  server s4 127.0.0.1:1 socks4 0.0.0.1
  server s5 127.0.0.1:1 socks4 0.0.0.1:18004-18010
  server s6 127.0.0.1:1 socks4 127.0.0.1:1080 source 0.0.0.0 interface lo usesrc clientip check
  tcp-check connect addr 0.0.0.1:-19003
  tcp-check connect addr 0.0.0.1:19004-19005
  tcp-check connect addr 127.0.0.1:19001
";
    assert_like_haproxy(
        text,
        1,
        &strings(&[
            "config : parsing [6] : 'source 0.0.0.0:12003-12010' : port range not permitted here in '0.0.0.0:12003-12010'",
            "config : parsing [7] : 'source 0.0.0.0:+12011' : port offset not permitted here in '0.0.0.0:+12011'",
            "config : [8] : 'server b1/s1' : 'source 0.0.0.1:+15002' : port offset not permitted here in '0.0.0.1:+15002'.",
            "config : [10] : 'server b1/s3' : 'usesrc 0.0.0.1:16004-16010' : port range not permitted here in '0.0.0.1:16004-16010'",
            "config : error encountered while processing 'usesrc'.",
            "config : [11] : 'server b1/s4' : 'socks4 0.0.0.1' : missing port specification in '0.0.0.1'.",
            "config : [12] : 'server b1/s5' : 'socks4 0.0.0.1:18004-18010' : port range not permitted here in '0.0.0.1:18004-18010'.",
            "config : parsing [14] : 'tcp-check connect' : 'addr' : port offset not permitted here in '0.0.0.1:-19003'..",
            "config : parsing [15] : 'tcp-check connect' : 'addr' : port range not permitted here in '0.0.0.1:19004-19005'..",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

/// `global` then `n` lines HAProxy refuses, then `tail`.
fn unknown_keywords(n: usize, tail: &str) -> String {
    let mut text = String::from("global\n");
    for i in 1..=n {
        text.push_str(&format!("  nosuchkw{i}\n"));
    }
    text + tail
}

/// The alerts of `unknown_keywords` for its lines `from..=to`.
fn unknown_alerts(from: usize, to: usize) -> Vec<String> {
    (from..=to)
        .map(|i| {
            format!(
                "config : parsing [{}] : unknown keyword 'nosuchkw{i}' in 'global' section",
                i + 1
            )
        })
        .collect()
}

#[test]
fn reading_stops_at_the_line_after_the_fiftieth_failing_one() {
    let mut want = unknown_alerts(1, 50);
    want.push("config : parsing [52]: too many fatal errors (50), stopping now.".into());
    want.push("config : Error(s) found in configuration file : ".into());
    want.push("config : Fatal errors found in configuration.".into());
    // The line it stops at is any line, a comment too; nothing after it is read.
    assert_like_haproxy(&unknown_keywords(55, "  # end\n"), 1, &want);
    assert_like_haproxy(&unknown_keywords(50, "  # end\n  maxconn x\n"), 1, &want);
    // Without a line after the fiftieth, there is no line to stop at.
    let mut want = unknown_alerts(1, 50);
    want.push("config : Error(s) found in configuration file : ".into());
    want.push("config : Fatal errors found in configuration.".into());
    assert_like_haproxy(&unknown_keywords(50, ""), 1, &want);
}

#[test]
fn a_listening_address_on_a_frontend_header_does_not_count_as_a_failing_line() {
    // The header's alert does not fail its line; the 47 lines after it, outside any proxy,
    // and the 3 unknown keywords before it make the 50.
    let mut text = unknown_keywords(3, "frontend f 0.0.0.0:80\n");
    for _ in 0..47 {
        text.push_str("  maxconn 1\n");
    }
    text.push_str("  foo\n  bar\n");
    let mut want = unknown_alerts(1, 3);
    want.push(
        "config : parsing [5] : please use the 'bind' keyword for listening addresses.".into(),
    );
    for line in 6..=52 {
        want.push(format!(
            "config : parsing [{line}] : 'listen' or 'defaults' expected."
        ));
    }
    want.push("config : parsing [53]: too many fatal errors (50), stopping now.".into());
    want.push("config : Error(s) found in configuration file : ".into());
    want.push("config : Fatal errors found in configuration.".into());
    assert_like_haproxy(&text, 1, &want);
}

const DEFAULTS: &str = "defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
";

#[test]
fn ring_sizes_are_bytes_and_only_grow() {
    let text = "ring r1
  size 1M
ring r2
  size 65536
  size 32768
  size 131072
ring r3
  size x
";
    assert_like_haproxy(
        text,
        1,
        &strings(&[
            "config : parsing [2] : ignoring new size '1' that is smaller than current size '16384' for ring 'r1'.",
            "config : parsing [5] : ignoring new size '32768' that is smaller than current size '65536' for ring 'r2'.",
            "config : parsing [8] : invalid size 'x' for new sink buffer.",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
    // The smaller size is printed as a warning, and fails the configuration all the same.
    let (_, lines) = run(env!("CARGO_BIN_EXE_hapee-lb"), "ring r\n  size 1M\n");
    assert_eq!(lines.len(), 3, "{lines:?}");
    let (out, _) = check_text(
        env!("CARGO_BIN_EXE_hapee-lb"),
        "read-refusals",
        "ring r\n  size 1M\n",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("[WARNING]"));
}

#[test]
fn stick_table_stores_are_read_entry_by_entry() {
    let text = format!(
        "{DEFAULTS}backend b1
  stick-table type ip size 1k store foo
backend b2
  stick-table type ip size 1k store conn_cnt store conn_cnt,gpc(3),gpc_rate(3,10s),http_req_rate(10s)
backend b3
  stick-table type ip size 1k store http_req_rate
backend b4
  stick-table type ip size 1k store gpc(101)
backend b5
  stick-table type ip size 1k store gpc_rate(3,10s),gpc(3
backend b6
  stick-table type ip size 1k store http_req_rate(10x)
"
    );
    assert_like_haproxy(
        &text,
        1,
        &strings(&[
            "config : parsing [7] : stick-table: unknown store option 'foo'.",
            "config : parsing [9]: stick-table: store option 'conn_cnt' already enabled, ignored.",
            "config : parsing [11] : stick-table: missing argument to store option 'http_req_rate'.",
            "config : parsing [13] : stick-table: array size is out of allowed range (1-100) for store option 'gpc'.",
            "config : parsing [15] : stick-table: missing closing parenthesis after store option 'gpc'.",
            "config : parsing [17] : stick-table: error when processing store option 'http_req_rate'.",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

#[test]
fn a_dollar_left_in_a_certificate_name_is_part_of_it() {
    // Variables are expanded inside double quotes only: written bare, `${NAME}` is opened as
    // it is written, set or not.
    let text = format!(
        "{DEFAULTS}frontend f
  bind 127.0.0.1:18443 ssl crt ${{HAPEE_TEST_UNSET_P44}}/x.pem
  bind 127.0.0.1:18444 ssl crt \"${{HAPEE_TEST_UNSET_P44}}/y.pem\"
  default_backend b
backend b
  server s 127.0.0.1:1
"
    );
    assert_like_haproxy(
        &text,
        1,
        &strings(&[
            "config : parsing [7] : 'bind 127.0.0.1:18443' in section 'frontend' : unable to stat SSL certificate from file '${HAPEE_TEST_UNSET_P44}/x.pem' : No such file or directory.",
            "config : parsing [8] : 'bind 127.0.0.1:18444' in section 'frontend' : unable to stat SSL certificate from file '/y.pem' : No such file or directory.",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

#[test]
fn a_spoe_filter_file_makes_haproxy_forget_the_section_name() {
    let text = format!(
        "{DEFAULTS}frontend f
  bind 127.0.0.1:18080
  nosuchkw1
  filter spoe engine e config /nonexistent/hapee-p44-spoe.conf
  nosuchkw2
  bind 127.0.0.1:18081 nosuchopt
  default_backend b
backend b
  nosuchkw3
  server s 127.0.0.1:1
"
    );
    assert_like_haproxy(
        &text,
        1,
        &strings(&[
            "config : parsing [8] : unknown keyword 'nosuchkw1' in 'frontend' section",
            "config : parsing [9] : 'filter' : 'Could not open configuration file /nonexistent/hapee-p44-spoe.conf : No such file or directory'",
            "config : parsing [10] : unknown keyword 'nosuchkw2' in '(null)' section",
            "config : parsing [11] : 'bind 127.0.0.1:18081' in section '(null)': unknown keyword 'nosuchopt'.",
            "config : parsing [14] : unknown keyword 'nosuchkw3' in 'backend' section",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

#[test]
fn a_tls_bind_needs_a_certificate_unless_strict_sni() {
    let text = format!(
        "{DEFAULTS}frontend f
  bind 127.0.0.1:18443 ssl
  bind 127.0.0.1:18444 ssl strict-sni
  default_backend b
backend b
  server s 127.0.0.1:1
"
    );
    assert_like_haproxy(
        &text,
        1,
        &strings(&[
            "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18443' at [7] (use 'crt').",
            "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18444' at [8], ssl connections will fail (use 'crt').",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

/// A server's host name is made into DNS labels while the line is read: an empty label (a
/// leading dot, two dots in a row) is refused in HAProxy's words, a template's server unnamed.
#[test]
fn server_names_with_empty_labels_cannot_be_resolved() {
    let text = "defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend b
  server s1 a..b:80
  server s2 .a:80
  server-template t 2 .x.internal:80
  server s3 a.b.:80
";
    assert_like_haproxy(
        text,
        1,
        &strings(&[
            "config : [6] : 'server b/s1' : Can't create DNS resolution for server 's1'",
            "config : [7] : 'server b/s2' : Can't create DNS resolution for server 's2'",
            "config : [8] : 'server b/(null)' : Can't create DNS resolution for server '(null)'",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ]),
    );
}

#[test]
fn persistence_stats_values_and_side_sections_are_read_as_haproxy_reads_them() {
    // `persist` methods, `stats` settings without their value, a page refresh time, a cookie
    // domain without a dot, a userlist's repeated user and group, a peers section mixing
    // `peer` and `bind` lines, a mailers section's timeouts, a stick-table in defaults.
    let text = "defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend b
  mode http
  persist
  persist rdp-cookie(
  persist rdp-cookie(abc)
  persist cookie
  stats uri
  stats realm
  stats auth
  stats scope
  stats refresh 99999999999s
  stats refresh 10x
  cookie SRV insert domain localhost
userlist u
  group g
  user a insecure-password x
  group g
  user a insecure-password y
peers p
  peer a 127.0.0.1:9998
  bind 127.0.0.1:9997
mailers m
  timeout
  timeout mail
  timeout mail 5x
  timeout mail 99999999999
  timeout connect 5s
  mailer a 127.0.0.1:25
defaults
  stick-table type ip size 1k
";
    let want = [
        "config : parsing [7] : missing persist method.",
        "config : parsing [8] : persist rdp-cookie(name)' requires an rdp cookie name.",
        "config : parsing [10] : unknown persist method.",
        "config : parsing [11] : 'uri' needs an URI prefix.",
        "config : parsing [12] : 'realm' needs an realm name.",
        "config : parsing [13] : 'auth' needs a user:password account.",
        "config : parsing [14] : 'scope' needs a proxy name.",
        "config : parsing [15]: timer overflow in argument <99999999999s> to stats refresh interval, maximum value is 2147483647 s (~68 years).",
        "config : parsing [16]: unexpected character 'x' in argument to stats refresh interval.",
        "config : parsing [17]: domain 'localhost' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).",
        "config : parsing [21]: ignoring duplicated group 'g' in userlist 'u'.",
        "config : parsing [22]: ignoring duplicated user 'a' in userlist 'u'.",
        "config : parsing [25] : mixing \"peer\" and \"bind\" line is forbidden",
        "config : parsing [27] : 'timeout' expects 'mail' and <time> as arguments.",
        "config : parsing [28] : 'timeout mail' expects <time> as argument.",
        "config : parsing [29]: unexpected character 'x' in argument to <timeout mail>.",
        "config : parsing [30]: timer overflow in argument <99999999999> to <timeout mail>, maximum value is 2147483647 ms (~24.8 days).",
        "config : parsing [31] : 'timeout' expects 'mail' and <time> as arguments got 'connect'.",
        "config : parsing [34] : 'stick-table' is not supported in 'defaults' section.",
        "config : Error(s) found in configuration file : ",
        "config : Fatal errors found in configuration.",
    ]
    .map(String::from);
    assert_like_haproxy(text, 1, &want);
}

#[test]
fn option_capture_and_email_alert_words_are_read_as_haproxy_reads_them() {
    let text = "defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
  option forwardfor except 10.0.0.0/8 header X-Real if-none
  option forwardfor except ::1/128
  option originalto except 10.0.0.0/255.0.0.0 header X-O
  email-alert level info
frontend f
  mode http
  bind 127.0.0.1:9013
  option forwardfor except 300.1.2.3
  option forwardfor header
  option forwardfor foo
  option originalto if-none
  option http-restrict-req-hdr-names
  option http-restrict-req-hdr-names foo
  capture request header
  capture response header X len
  capture cookie x
  capture foo
  acl or src 1.2.3.4
  email-alert
  email-alert level nope
  email-alert foo bar
  default_backend b
backend b
  capture foo
  server s 127.0.0.1:80
";
    let want = [
        "config : parsing [12] : 'option forwardfor except' expects <address>[/mask] as argument.",
        "config : parsing [13] : 'option forwardfor header' expects <header_name> as argument.",
        "config : parsing [14] : 'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
        "config : parsing [15] : 'option originalto' only supports optional values: 'except' and 'header'.",
        "config : parsing [16] : missing parameter. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.",
        "config : parsing [17] : invalid parameter 'foo'. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.",
        "config : parsing [18] : 'capture request' expects 'header' <header_name> 'len' <len>.",
        "config : parsing [19] : 'capture response' expects 'header' <header_name> 'len' <len>.",
        "config : parsing [20] : 'capture' expects 'cookie' <cookie_name> 'len' <len>.",
        "config : parsing [21] : 'capture' expects 'cookie' or 'request header' or 'response header'.",
        "config : parsing [22] : acl name 'or' will never match. 'or' is used to express a logical disjunction within a condition.",
        "config : parsing [23] : missing argument after 'email-alert'.",
        "config : parsing [24] : unknown log level 'level' after 'nope'",
        "config : parsing [25] : email-alert: unknown argument 'foo'.",
        "config : parsing [28] : 'capture' ignored because backend 'b' has no frontend capability.",
        "config : parsing [28] : 'capture' expects 'cookie' or 'request header' or 'response header'.",
        "config : Error(s) found in configuration file : ",
        "config : Fatal errors found in configuration.",
    ]
    .map(String::from);
    assert_like_haproxy(text, 1, &want);
}

#[test]
fn except_networks_in_the_short_forms_the_system_reads_are_taken() {
    // `127.1` and `10.0.0/8` are what C's inet_aton reads; a part over 255 is not.
    let text = "defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend b
  option forwardfor except 127.1
  option originalto except 10.0.0/8
  server s 127.0.0.1:80
";
    assert_like_haproxy(text, 2, &[]);
    let text = text.replace("127.1", "10.256.0.0");
    let want = [
        "config : parsing [7] : 'option forwardfor except' expects <address>[/mask] as argument.",
        "config : Error(s) found in configuration file : ",
        "config : Fatal errors found in configuration.",
    ]
    .map(String::from);
    assert_like_haproxy(&text, 1, &want);
}

#[test]
fn server_option_values_are_refused_as_haproxy_refuses_them() {
    // Each option alone on a server line: HAProxy stops reading the line at the refusal.
    let cases = [
        ("inter 0", "invalid value 0 for argument 'inter' of server s.."),
        ("fastinter x", "unexpected character 'x' in 'agent-inter' argument of server s.."),
        ("slowstart 5y", "unexpected character 'y' in 'slowstart' argument of server s.."),
        ("pool-purge-delay x", "unexpected character 'x' in argument to <pool-purge-delay>.."),
        ("observe foo", "'observe' expects one of 'none', 'layer4', 'layer7' but got 'foo'."),
        ("on-error foo", "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got 'foo'."),
        ("error-limit x", "error-limit has to be > 0.."),
        ("rise 0", "'rise' has to be > 0.."),
        ("weight 300", "weight of server s is not within 0 and 256 (300).."),
        ("resolve-prefer ipv5", "'resolve-prefer' expects either ipv4 or ipv6 as argument.."),
        ("init-addr last,foo", "'init-addr' : unknown init-addr method 'foo', supported methods are 'libc', 'last', 'none'.."),
        ("ws foo", "'ws' has to be 'auto', 'h1' or 'h2'."),
        ("verify maybe", "'verify' : unknown verify method 'maybe', only 'none' and 'required' are supported."),
        ("ssl-min-ver TLSv9", "'TLSv9' : unknown ssl/tls version."),
        ("send-proxy-v2 proxy-v2-options ssl,foo", "'foo' : proxy v2 option not implemented."),
    ];
    for (options, message) in cases {
        let text = format!(
            "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nbackend b\n  server s 127.0.0.1:80 {options}\n"
        );
        let want = [
            format!("config : [7] : 'server b/s' : {message}"),
            "config : Error(s) found in configuration file : ".to_string(),
            "config : Fatal errors found in configuration.".to_string(),
        ];
        assert_like_haproxy(&text, 1, &want);
    }
}
