//! Checks HAProxy makes of whole proxies and of lines it reads in a context: multiplexers
//! against the proxy's mode, the external check's settings, tags set from an expression in a
//! connection rule, counters a stick-table cannot store together, a server's times, and what
//! HAProxy checks once the proxies are: unused or empty sections, then its post-parsers.

use super::*;

/// `-c` on `text`: every line after the version notices, without the process id and the
/// file's name.
fn output(cmd: &str, text: &str) -> Vec<String> {
    messages_after_notices(cmd, "post-parse", text)
}

/// hapee's output on `text` must be `want`, and haproxy's too when it is installed.
#[track_caller]
fn assert_like_haproxy(text: &str, want: &[&str]) {
    let ours = output(env!("CARGO_BIN_EXE_hapee-lb"), text);
    assert_eq!(ours, want, "hapee-lb on {text}");
    if haproxy_installed() {
        assert_eq!(output("haproxy", text), want, "haproxy on {text}");
    }
}

const TIMEOUTS: &str = "defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
";

#[test]
fn multiplexers_must_serve_the_proxy_mode() {
    let text = format!(
        "{TIMEOUTS}frontend ft
  mode tcp
  bind 127.0.0.1:18997 proto h2
  default_backend bt
frontend fh
  mode http
  bind 127.0.0.1:18998 proto none
  default_backend bh
backend bt
  mode tcp
  server s1 127.0.0.1:1 proto fcgi
  server s2 127.0.0.1:1 proto none
backend bh
  mode http
  server s1 127.0.0.1:1 proto none
  server s2 127.0.0.1:1 proto h2
"
    );
    // The FastCGI server of a TCP backend is refused once, not again for lacking its app.
    assert_like_haproxy(
        &text,
        &[
            "config : frontend 'ft' : MUX protocol 'h2' is not usable for 'bind 127.0.0.1:18997' at [7].",
            "config : frontend 'fh' : MUX protocol 'none' is not usable for 'bind 127.0.0.1:18998' at [11].",
            "config : backend 'bt' : MUX protocol 'fcgi' is not usable for server 's1' at [15].",
            "config : backend 'bh' : MUX protocol 'none' is not usable for server 's1' at [19].",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn connection_rules_set_tags_from_integers_only_and_tables_store_one_form() {
    let text = format!(
        "{TIMEOUTS}frontend ft
  mode tcp
  bind 127.0.0.1:18999
  stick-table type ip size 1k store gpt0,gpt(2)
  tcp-request connection track-sc0 src
  tcp-request connection sc-set-gpt0(0) src_port
  tcp-request connection sc-set-gpt0(0) 5
  tcp-request content sc-set-gpt0(0) src_port
  tcp-request connection sc-set-gpt(1,0) src_port
  default_backend bt
backend bt
  mode tcp
  stick-table type ip size 1k store gpc(2) store conn_cnt,gpc1
  server s 127.0.0.1:1
"
    );
    // A rule line in error is not a rule: no warning about its place after the content rule.
    assert_like_haproxy(
        &text,
        &[
            "config : parsing [8] : stick-table: simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'.",
            "config : parsing [10] : internal error, unexpected rule->from=0, please report this bug!",
            "config : parsing [13] : internal error, unexpected rule->from=0, please report this bug!",
            "config : parsing [17] : stick-table: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'.",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn external_check_settings_and_server_times_are_warned_about() {
    let text = "global
  external-check
  insecure-fork-wanted
defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
  external-check command check.sh
backend b1
  option external-check
  server s 127.0.0.1:1 check inter 1s[
backend b2
  external-check path /bin
  server s 127.0.0.1:1
frontend f
  bind 127.0.0.1:18994
  default_backend b1
";
    assert_like_haproxy(
        text,
        &[
            "config : [11] : 'server b1/s' : unexpected character '[' after the timer value '1s[', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.",
            "config : Proxy 'b1': 'external-check command' does not have a leading '/' and 'external-check path' is not set.",
            "config : 'external-check command' will be ignored for backend 'b2' (requires 'option external-check').",
            "config : 'external-check path' will be ignored for backend 'b2' (requires 'option external-check').",
            "config : 'external-check command' will be ignored for frontend 'f' (requires 'option external-check').",
            "config : Proxy 'f': 'external-check command' does not have a leading '/' and 'external-check path' is not set.",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn tcp_services_servers_words_and_header_names_are_read_as_haproxy_reads_them() {
    // A TCP rule names its second word in place of the unknown service; an empty word ends a
    // server's options (an option's empty value does not); a duplicate name is found before
    // the address on a header line is refused.
    let text = format!(
        "{TIMEOUTS}frontend f
  bind 127.0.0.1:18993
  tcp-request content use-service lua.nosuch
  default_backend b
backend b
  server s 127.0.0.1:1 check inter 2s init-addr \"\" last
listen l
  bind 127.0.0.1:18992
  server s 127.0.0.1:1 \"\" unknownword
listen l 127.0.0.1:18991
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : parsing [7] : 'content' unknown service name.",
            "config : [10] : 'server b/s' : unknown keyword 'last'.",
            "config : Parsing [14]: proxy 'l' has the same name as proxy 'l' declared at 11.",
            "config : parsing [14] : please use the 'bind' keyword for listening addresses.",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn the_default_dh_size_is_an_integer_of_at_least_1024() {
    let cases = [
        (
            "tune.ssl.default-dh-param",
            Some("'tune.ssl.default-dh-param' expects an integer argument."),
        ),
        (
            "tune.ssl.default-dh-param 512",
            Some("'tune.ssl.default-dh-param' expects a value >= 1024."),
        ),
        ("tune.ssl.default-dh-param 2048", None),
    ];
    for (line, want) in cases {
        assert_global_alert_like_haproxy(line, want);
    }
}

/// The proxies' own findings (the cache filters after the HTTP-mode warnings, mail alerts),
/// then the sections dropped or empty, then the post-parsers in HAProxy's order: resolvers
/// (nameserver sockets, servers' resolvers), programs.
#[test]
fn sections_and_post_parsers_come_after_the_proxies_in_haproxy_order() {
    let text = format!(
        "resolvers r2
    nameserver ns1 unix@/tmp/hapee-no-such.sock
resolvers r1
    timeout resolve 1s
mailers m
    mailer a 127.0.0.1:25
mailers m2
    mailer a 127.0.0.1:25
program p1
    no option start-on-reload
{TIMEOUTS}frontend f
  bind 127.0.0.1:18990
  http-request cache-use nocache
  default_backend b
backend b
    email-alert mailers m
    email-alert from a@b
    email-alert to c@d
    server s1 127.0.0.1:80 resolvers nope
backend c
    email-alert mailers nope
    email-alert from a@b
    email-alert to c@d
    server s1 127.0.0.1:80
backend d
    email-alert mailers m2
    server s1 127.0.0.1:80
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : 'http-request' rules ignored for frontend 'f' as they require HTTP mode.",
            "config : config: frontend 'f': unable to find the cache 'nocache' referenced by the filter 'cache'.",
            "config : Proxy 'c': unable to find mailers 'nope'.",
            "config : 'email-alert' will be ignored for backend 'd' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).",
            "config : Removing incomplete section 'mailers m2'.",
            "config : resolvers 'r1' [3] has no nameservers configured!",
            "config : resolvers 'r2': can't create socket for nameserver 'ns1'.",
            "config : backend 'b', server 's1': unable to find required resolvers 'nope'",
            "config : The program section 'p1' lacks a command to launch.",
            "config : Can't use a 'program' section without master worker mode.",
            "config : Fatal errors found in configuration.",
        ],
    );
}

/// TLS binds are prepared once every proxy is checked: a later proxy's duplicate server comes
/// before an earlier frontend's missing certificate.
#[test]
fn binds_are_prepared_after_every_proxy_is_checked() {
    let text = format!(
        "{TIMEOUTS}frontend f
  bind 127.0.0.1:18991 ssl
  default_backend b
backend b
  server s1 127.0.0.1:80
  server s1 127.0.0.1:81
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : parsing [10] : backend 'b', another server named 's1' was already defined at line 9, please use distinct names.",
            "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18991' at [6] (use 'crt').",
            "config : Fatal errors found in configuration.",
        ],
    );
}

/// The TLS versions of each bind, worked out when it is prepared: its own bounds and `no-…`
/// words with the global defaults, TLSv1.2 the default lowest.
#[test]
fn tls_versions_of_each_bind_are_settled_as_haproxy_settles_them() {
    let text = "global
    ssl-default-bind-options no-tlsv13
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend f
    bind 127.0.0.1:18961 ssl strict-sni ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2
    bind 127.0.0.1:18962 ssl strict-sni ssl-max-ver TLSv1.1
    bind 127.0.0.1:18963 ssl strict-sni ssl-min-ver TLSv1.0 no-tlsv11
    bind 127.0.0.1:18964 ssl strict-sni no-tlsv12
    default_backend b
backend b
    server s 127.0.0.1:80
";
    let no_crt = |port: u16, line: u16| {
        format!("config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:{port}' at [{line}], ssl connections will fail (use 'crt').")
    };
    let ignored = |port: u16, line: u16| {
        format!("config : Proxy 'f': no-sslv3/no-tlsv1x are ignored for bind '127.0.0.1:{port}' at [{line}]. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.")
    };
    let want = [
        no_crt(18961, 9),
        ignored(18961, 9),
        "config : Proxy 'f': all SSL/TLS versions are disabled for bind '127.0.0.1:18961' at [9].".to_string(),
        no_crt(18962, 10),
        ignored(18962, 10),
        "config : Proxy 'f': Ambiguous configuration for bind '127.0.0.1:18962' at [10]: the ssl-min-ver value is not configured and the ssl-max-ver value is lower than the default ssl-min-ver value (TLSv1.2). Setting the ssl-min-ver to TLSv1.1. Use 'ssl-min-ver' to fix this.".to_string(),
        no_crt(18963, 11),
        ignored(18963, 11),
        no_crt(18964, 12),
        "config : Proxy 'f': all SSL/TLS versions are disabled for bind '127.0.0.1:18964' at [12].".to_string(),
        "config : Fatal errors found in configuration.".to_string(),
    ];
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_like_haproxy(text, &want);
}

#[test]
fn track_links_are_refused_as_haproxy_refuses_them() {
    // Once the proxies are read: a missing proxy or server, a server with nothing to follow
    // (a `track` of its own is enough, even one refused), a loop closed by the second link,
    // proxies that disagree on `disable-on-404`, a server tracking itself; a disabled
    // proxy's servers are not linked.
    let text = format!(
        "{TIMEOUTS}backend b1
  server s1 127.0.0.1:80 check
  server s2 127.0.0.1:81 track nope/s1
  server s3 127.0.0.1:82 track missing
  server s4 127.0.0.1:83
  server s5 127.0.0.1:84 track s4
  server s7 127.0.0.1:86 track s8
  server s8 127.0.0.1:87 track s7
  server-template t 1-2 127.0.0.1:88 track s1
  server s9 127.0.0.1:89 track t2
backend b2
  option httpchk
  http-check disable-on-404
  server t1 127.0.0.1:80 track b1/s1
  server t2 127.0.0.1:81 track b1/s8
  server t3 127.0.0.1:82 track t3
backend b3
  disabled
  server y 127.0.0.1:80 track nope
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : [7] : 'server b1/s2' : unable to find required proxy 'nope' for tracking.",
            "config : [8] : 'server b1/s3' : unable to find required server 'missing' for tracking.",
            "config : [10] : 'server b1/s5' : unable to use b1/s4 for tracking as it does not have any check nor agent enabled.",
            "config : [12] : 'server b1/s8' : unable to track b1/s7 as it belongs to a tracking chain looping back to b1/s8.",
            "config : [18] : 'server b2/t1' : unable to use b1/s1 fortracking: disable-on-404 option inconsistency.",
            "config : [19] : 'server b2/t2' : unable to use b1/s8 fortracking: disable-on-404 option inconsistency.",
            "config : [20] : 'server b2/t3' : unable to track b2/t3 as it belongs to a tracking chain looping back to b2/t3.",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn checks_with_track_and_agents_without_port_are_refused_as_the_line_is_read() {
    // Read with the `default-server` lines before the server, the defaults section's first;
    // a `default-server` line itself is not checked, a template's server has no name yet.
    let text = format!(
        "{TIMEOUTS}  default-server agent-port 9
backend b1
  default-server agent-check check
  server s1 127.0.0.1:80 no-check agent-port 5
  server-template t 1-2 127.0.0.1:80 track s1
  server s3 127.0.0.1:80 no-check track s1 agent-port 0
  server s4 127.0.0.1:80 no-check track s1
  server s5 127.0.0.1:80 no-agent-check track s1
backend b2
  server a1 127.0.0.1:81 agent-check
  server a2 127.0.0.1:82 track a1
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : [9] : 'server b1/(null)' : unable to enable checks and tracking at the same time!",
            "config : [10] : 'server b1/s3' : server s3 does not have agent port. Agent check has been disabled.",
            "config : [12] : 'server b1/s5' : unable to enable checks and tracking at the same time!",
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ],
    );
}

#[test]
fn what_a_tcp_or_balancing_backend_drops_is_said_as_haproxy_says_it() {
    // A TCP backend's cookie, monitor URI, HTTP hash and server cookies and redirects; a
    // balancing backend's transparent mode and dispatch address; tcp-check rules no
    // `option tcp-check` runs. Without a listener, the warnings are still announced.
    let text = format!(
        "{TIMEOUTS}backend t
  mode tcp
  cookie SRV insert
  balance hdr(host)
  server s 127.0.0.1:80 cookie a
  server r 127.0.0.1:81 redir http://example.com
backend d
  dispatch 127.0.0.1:82
  balance roundrobin
  tcp-check connect port 80
  option httpchk
backend x
  option transparent
  balance source
  server s 127.0.0.1:80
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : cookie will be ignored for backend 't' (needs 'mode http').",
            "config : Layer 7 hash not possible for backend 't' (needs 'mode http'). Falling back to round robin.",
            "config : backend 't' : ignoring cookie for server 's' as HTTP mode is disabled.",
            "config : backend 't' : server cannot have cookie or redirect prefix in non-HTTP mode.",
            "config : dispatch address of backend 'd' will be ignored in balance mode.",
            "config : backend 'x' cannot use both transparent and balance mode.",
            "config : Fatal errors found in configuration.",
        ],
    );
    let text = format!(
        "{TIMEOUTS}backend d
  tcp-check connect port 80
  server s 127.0.0.1:80 check
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : backend 'd' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
        ],
    );
    let said = |cmd: &str| {
        String::from_utf8_lossy(&check_text(cmd, "no-listener", &text).0.stdout).into_owned()
    };
    let want = "Warnings were found.\nConfiguration file has no error but will not start (no listener) => exit(2).\n";
    assert_eq!(said(env!("CARGO_BIN_EXE_hapee-lb")), want);
    if haproxy_installed() {
        assert_eq!(said("haproxy"), want);
    }
}

#[test]
fn default_server_options_hash_expressions_and_state_files_as_haproxy_reads_them() {
    // `id` on a default-server line: said at the alert level, skipped, still valid; a
    // default-server `crt` is loaded only for the TLS servers that take it, as theirs; a
    // `balance hash` expression HAProxy cannot compile; the global state file nobody set.
    let text = format!(
        "{TIMEOUTS}backend b
  default-server id 5 crt /nonexistent-hapee.pem
  server s 127.0.0.1:80
  server t 127.0.0.1:81 ssl verify none
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : [6] : 'id' option is not accepted in default-server sections",
            "config : [8] : 'server b/t' : unable to stat SSL certificate from file '/nonexistent-hapee.pem' : No such file or directory.",
            "config : Fatal errors found in configuration.",
        ],
    );
    let text = format!(
        "{TIMEOUTS}backend c
  balance hash req.nope
  server s 127.0.0.1:80
"
    );
    assert_like_haproxy(
        &text,
        &[
            "config : backend 'c' [5]: failed to parse 'balance hash' expression 'req.nope' in : unknown fetch method 'req.nope'.",
            "config : Fatal errors found in configuration.",
        ],
    );
    let text = format!(
        "{TIMEOUTS}backend d
  load-server-state-from-file global
  server s 127.0.0.1:80
"
    );
    assert_like_haproxy(
        &text,
        &["config : backend 'd' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!"],
    );
}
