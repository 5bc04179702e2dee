//! `hapee-lb -c` on lines HAProxy refuses for their argument count or for a fetch that reads
//! information that does not exist where a string is evaluated, side by side with Debian's
//! `haproxy -c` when it is installed: the same verdict and the same first alert line.

use std::process::{Command, Output};

// Only folders here: its single-file guard goes unused.
#[path = "check_cli/cfg_file.rs"]
mod cfg_file;
#[allow(dead_code)]
#[path = "runtime/harness_scratch.rs"]
mod scratch;
use cfg_file::CfgFile;

fn write_cfg(name: &str, text: &str) -> CfgFile {
    CfgFile::write("hapee-places", name, text)
}

/// A configuration whose frontend holds `line`.
fn config(line: &str) -> String {
    format!(
        "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:18081
    {line}
    default_backend b
backend b
    server s 127.0.0.1:18080
"
    )
}

/// The first `[ALERT]` line without its process id, or "" when there is none.
fn first_alert(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find(|l| l.starts_with("[ALERT]"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, rest)| rest).to_string())
        .unwrap_or_default()
}

/// Checks the configuration `config(line)` of each case with hapee-lb and, when it is installed,
/// with haproxy: both must print the case's alert (after "config : ", `{}` standing for the
/// file's path) as their first `[ALERT]`, or none when it is empty, and hapee-lb must exit 1 or 0
/// accordingly. `name` prefixes the files written.
fn first_alerts_match_haproxys(
    name: &str,
    config: impl Fn(&str) -> String,
    cases: &[(&str, impl AsRef<str>)],
) {
    let haproxy = haproxy_installed();
    for (i, (line, alert)) in cases.iter().enumerate() {
        let cfg = write_cfg(&format!("{name}{i}.cfg"), &config(line));
        let cfg = cfg.to_str().unwrap();
        let alert = alert.as_ref();
        let expected = if alert.is_empty() {
            String::new()
        } else {
            format!("config : {}", alert.replace("{}", cfg))
        };
        let ours = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(["-c", "-f", cfg])
            .output()
            .unwrap();
        assert_eq!(first_alert(&ours), expected, "hapee-lb on '{line}'");
        assert_eq!(
            ours.status.code(),
            Some(if expected.is_empty() { 0 } else { 1 }),
            "'{line}'"
        );
        if haproxy {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg])
                .output()
                .unwrap();
            assert_eq!(first_alert(&theirs), expected, "haproxy on '{line}'");
        }
    }
}

fn haproxy_installed() -> bool {
    let found = Command::new("haproxy").arg("-v").output().is_ok();
    assert!(
        found || std::env::var("CI").as_deref() != Ok("true"),
        "haproxy is not installed, and CI=true requires it (see .ci/run)"
    );
    found
}

#[test]
fn refused_lines_get_haproxy_first_alert() {
    let fetch = |what: &str, fetch: &str, rest: &str, needs: &str| {
        format!("failed to parse {what} : sample fetch <{fetch}]{rest}> may not be reliably used here because it needs '{needs}' which is not available here.")
    };
    let rule = |keyword: &str, fetch: &str, needs: &str| {
        format!("error detected in frontend 'f' while parsing '{keyword}' rule : sample fetch <{fetch}]> may not be reliably used here because it needs '{needs}' which is not available here.")
    };
    // (line, the message after "config : " with its location prefix)
    let cases: Vec<(&str, String)> = vec![
        (
            "default_backend b if TRUE",
            "parsing [{}:8] : 'default_backend' cannot handle unexpected argument 'if'.".into(),
        ),
        (
            "mode http tcp",
            "parsing [{}:8] : 'mode' cannot handle unexpected argument 'tcp'.".into(),
        ),
        (
            "option dontlognull now",
            "parsing [{}:8] : 'option dontlognull' cannot handle unexpected argument 'now'."
                .into(),
        ),
        (
            "no option dontlognull x",
            "parsing [{}:8] : 'option dontlognull' cannot handle unexpected argument 'x'."
                .into(),
        ),
        (
            "no option httplog",
            "parsing [{}:8]: negation/default is not supported for option 'httplog'.".into(),
        ),
        (
            "maxconn 10 20",
            "parsing [{}:8] : 'maxconn' cannot handle unexpected argument '20'.".into(),
        ),
        (
            "log-format \"%ci %[req.ssl_alpn] %ST\"",
            format!(
                "Parsing [{{}}:8]: {}",
                fetch("log-format", "req.ssl_alpn", " %ST", "request buffer")
            ),
        ),
        (
            "log-format \"%[req.hdr(host)]\"",
            format!(
                "Parsing [{{}}:8]: {}",
                fetch("log-format", "req.hdr(host)", "", "HTTP request headers")
            ),
        ),
        (
            "error-log-format \"%[req.payload(0,1)]\"",
            format!(
                "Parsing [{{}}:8]: {}",
                fetch("error-log-format", "req.payload(0,1)", "", "request buffer")
            ),
        ),
        (
            "unique-id-format %[res.hdr(x)]",
            format!(
                "Parsing [{{}}:8]: {}",
                fetch("unique-id", "res.hdr(x)", "", "HTTP response headers")
            ),
        ),
        (
            "http-request set-header X %[res.hdr(x)]",
            format!(
                "parsing [{{}}:8] : {}",
                rule(
                    "http-request set-header",
                    "res.hdr(x)",
                    "HTTP response headers"
                )
            ),
        ),
        (
            "http-response set-header X %[req.hdr(x)]",
            format!(
                "parsing [{{}}:8] : {}",
                rule(
                    "http-response set-header",
                    "req.hdr(x)",
                    "HTTP request headers"
                )
            ),
        ),
        (
            "http-request set-var-fmt(txn.x) %[res.hdr(x)]",
            format!(
                "parsing [{{}}:8] : {}",
                rule(
                    "http-request set-var-fmt(txn.x)",
                    "res.hdr(x)",
                    "HTTP response headers"
                )
            ),
        ),
        (
            "use_backend %[res.hdr(x)]",
            "Parsing [{}:8]: failed to parse use_backend rule '%[res.hdr(x)]' : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.".into(),
        ),
        // The first expression that cannot be used is refused before a later one that does
        // not parse.
        (
            "log-format \"%[req.hdr(host)] %[nope]\"",
            format!(
                "Parsing [{{}}:8]: {}",
                fetch("log-format", "req.hdr(host)", " %[nope]", "HTTP request headers")
            ),
        ),
        // Accepted: what logs can read, and a plain redirect taken as written.
        ("log-format \"%ci %[capture.req.hdr(0)] %[ssl_fc_sni] %[status]\"", String::new()),
        ("redirect location /%[foo]", String::new()),
        ("http-request set-header X %[req.hdr(host)]", String::new()),
        // The arguments of header and request-line actions, counted as HAProxy counts them.
        (
            "http-request set-header X-Forwarded-Proto",
            "parsing [{}:8] : error detected in frontend 'f' while parsing 'http-request set-header' rule : expects exactly 2 arguments.".into(),
        ),
        (
            "http-request set-path /x junk",
            "parsing [{}:8] : error detected in frontend 'f' while parsing 'http-request set-path' rule : expects exactly 1 argument <format>.".into(),
        ),
        (
            "http-response replace-value x y",
            "parsing [{}:8] : error detected in frontend 'f' while parsing 'http-response replace-value' rule : expects exactly 3 arguments.".into(),
        ),
        (
            "http-request del-header x -m found",
            "parsing [{}:8] : error detected in frontend 'f' while parsing 'http-request del-header' rule : -m with unsupported matching method 'found'.".into(),
        ),
        ("http-request set-path /x if TRUE", String::new()),
    ];
    first_alerts_match_haproxys("case", config, &cases);
}

#[test]
fn log_format_in_a_backend_is_ignored_with_a_warning() {
    let text = config("").replace(
        "\nbackend b\n",
        "\nbackend b\n    log-format \"%[req.hdr(host)] %[nope]\"\n",
    );
    let cfg = write_cfg("backend-log.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let warning = format!(
        "[WARNING]  config : parsing [{cfg}:11] : backend 'b' : 'log-format' directive is ignored in backends."
    );
    let warnings = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("[WARNING]") || l.starts_with("[ALERT]"))
            .map(|l| l.replacen(&l[l.find('(').unwrap()..l.find(") : ").unwrap() + 4], "", 1))
            .collect()
    };
    let ours = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["-c", "-f", cfg])
        .output()
        .unwrap();
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(warnings(&ours), vec![warning.clone()]);
    if haproxy_installed() {
        let theirs = Command::new("haproxy")
            .args(["-c", "-f", cfg])
            .output()
            .unwrap();
        assert_eq!(theirs.status.code(), Some(0));
        assert_eq!(warnings(&theirs), vec![warning]);
    }
}

/// `[WARNING]`/`[ALERT]` lines without their process id.
fn warning_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[WARNING]") || l.starts_with("[ALERT]"))
        .map(|l| l.replacen(&l[l.find('(').unwrap()..l.find(") : ").unwrap() + 4], "", 1))
        .collect()
}

#[test]
fn conditions_that_cannot_match_where_they_run_are_warned_about_as_haproxy_does() {
    // Named and anonymous ACLs, one never matching and one partly, in use_backend,
    // http-request, redirect and http-response conditions (each condition read once).
    let text = config(
        "acl resp res.hdr(x) -m found
    acl mixed res.hdr(x) -m found
    acl mixed path /a
    use_backend b if resp
    use_backend b if { res.hdr(y) -m found }
    http-request deny if mixed
    redirect location /x if { res.hdr(z) -m found }
    http-response deny if { path /b } || TRUE",
    );
    let cfg = write_cfg("never-match.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let expected: Vec<String> = [
        (11, "acl 'resp' will never match because it only involves keywords that are incompatible with 'frontend use-backend rule'"),
        (12, "anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend use-backend rule'"),
        (13, "a 'http-request' rule placed after a 'use_backend' rule will still be processed before."),
        (13, "acl 'mixed' involves keywords 'res.hdr' which is incompatible with 'frontend http-request header rule'"),
        (14, "a 'redirect' rule placed after a 'use_backend' rule will still be processed before."),
        (14, "anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend http-request header rule'"),
        (15, "anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'"),
    ]
    .iter()
    .map(|(line, what)| format!("[WARNING]  config : parsing [{cfg}:{line}] : {what}"))
    .collect();
    let ours = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["-c", "-f", cfg])
        .output()
        .unwrap();
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(warning_lines(&ours), expected);
    if haproxy_installed() {
        let theirs = Command::new("haproxy")
            .args(["-c", "-f", cfg])
            .output()
            .unwrap();
        assert_eq!(theirs.status.code(), Some(0));
        assert_eq!(warning_lines(&theirs), expected);
    }
}

/// Rules after an unconditional one never run: HAProxy says so for a final `http-request`
/// action and for any `stats http-request` rule, with no space before the colon.
#[test]
fn rules_after_an_unconditional_one_are_warned_about_as_haproxy_does() {
    let text = config(
        "http-request deny
    http-request allow
    stats enable
    stats http-request allow
    stats http-request deny if { path /x }",
    );
    let cfg = write_cfg("dead-rules.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let expected = [
        (9, "previous 'http-request' action is final and has no condition attached, further entries are NOOP."),
        (12, "previous 'stats' action has no condition attached, further entries are NOOP."),
    ]
    .map(|(line, what)| format!("[WARNING]  config : parsing [{cfg}:{line}]: {what}"));
    for cmd in [env!("CARGO_BIN_EXE_hapee-lb"), "haproxy"] {
        if cmd == "haproxy" && !haproxy_installed() {
            continue;
        }
        let out = Command::new(cmd).args(["-c", "-f", cfg]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert_eq!(warning_lines(&out), expected, "{cmd}");
    }
}

#[test]
fn quiet_check_prints_only_errors_unless_a_warning_can_fail_it() {
    // L009 (a Host match without the port) and U001 (an option the runtime refuses) are
    // warnings: `-q` shows neither and passes, unless one is denied or warnings fail the check.
    let text = config("use_backend b if { hdr(host) -i a.example }").replace(
        "server s 127.0.0.1:18080",
        "server s 127.0.0.1:18080 force-tlsv11",
    );
    let cfg = write_cfg("quiet.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(["check", "--no-env", "-f", cfg])
            .args(extra)
            .output()
            .unwrap()
    };
    let loud = run(&[]);
    let text = String::from_utf8_lossy(&loud.stderr);
    assert!(text.contains("L009") && text.contains("U001"), "{text}");
    let quiet = run(&["-q"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stdout.is_empty() && quiet.stderr.is_empty(),
        "{quiet:?}"
    );
    for (extra, code) in [(["--deny", "L009"], "L009"), (["--deny", "U001"], "U001")] {
        let denied = run(&[&["-q"][..], &extra[..]].concat());
        assert_eq!(denied.status.code(), Some(1), "{extra:?}");
        let text = String::from_utf8_lossy(&denied.stderr);
        assert!(text.contains(code), "{extra:?}: {text}");
    }
    let strict = run(&["-q", "--deny-warnings"]);
    assert_eq!(strict.status.code(), Some(1));
}

/// `return`, `deny` and `tarpit` replies HAProxy refuses when it reads them (http_htx.c's
/// reply parser, the same in 2.6 and 2.7), side by side with haproxy.
#[test]
fn refused_replies_get_haproxy_first_alert() {
    let refused = |keyword: &str, why: &str| {
        format!("parsing [{{}}:8] : error detected in frontend 'f' while parsing '{keyword}' rule : {why}.")
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "http-request deny deny_status 451",
            refused(
                "http-request deny",
                "status code '451' not handled by default with 'default-errorfiles' argument.",
            ),
        ),
        (
            "http-response deny deny_status 452 if { status 500 }",
            refused(
                "http-response deny",
                "status code '452' not handled by default with 'default-errorfiles' argument.",
            ),
        ),
        (
            "http-request return status 99",
            refused("http-request return", "Unexpected status code '99'"),
        ),
        (
            "http-request return string x",
            refused(
                "http-request return",
                "a content type must be defined when non-empty payload is configured",
            ),
        ),
        (
            "http-request return status 204 content-type text/plain string x",
            refused("http-request return", "No body expected for 204 responses"),
        ),
        (
            "http-request return string x file /etc/hostname",
            refused(
                "http-request return",
                "unexpected 'file' argument, 'string' already defined",
            ),
        ),
        (
            "http-request return lf-string %[path]",
            refused(
                "http-request return",
                "a content type must be defined with a log-format payload",
            ),
        ),
        // Accepted: statuses with a page, and any status with a payload of its own.
        ("http-request deny deny_status 429", String::new()),
        (
            "http-request deny deny_status 451 content-type text/plain string gone",
            String::new(),
        ),
        ("http-request return status 404", String::new()),
        ("http-request tarpit deny_status 503", String::new()),
    ];
    first_alerts_match_haproxys("reply", config, &cases);
}

/// A configuration whose `fcgi-app` section holds `line`, used by a backend.
fn fcgi_config(line: &str) -> String {
    format!(
        "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:18081
    default_backend b
backend b
    use-fcgi-app php
    server s 127.0.0.1:18080 proto fcgi
fcgi-app php
    docroot /var/www
    {line}
"
    )
}

#[test]
fn fcgi_app_options_are_its_own_and_checked_as_haproxy_does() {
    // (line, the first alert after "config : ", or "" when valid)
    let cases: [(&str, &str); 8] = [
        ("option keep-conn", ""),
        ("no option keep-conn", ""),
        ("no option get-values", ""),
        ("option mpxs-conns", ""),
        (
            "option kep-conn",
            "parsing [{}:14] : unknown option 'kep-conn'.",
        ),
        (
            "no option max-reqs 2",
            "parsing [{}:14]: negation/default is not supported for option 'max-reqs'.",
        ),
        (
            "option max-reqs",
            "parsing [{}:14]: option 'max-reqs' expects an integer argument.",
        ),
        (
            "option max-reqs none",
            "parsing [{}:14]: option 'max-reqs' expects a strictly positive integer argument.",
        ),
    ];
    first_alerts_match_haproxys("fcgi", fcgi_config, &cases);
}

/// A TCP frontend whose SPOE engine `e` sends message `m` on its event and group `g` (message
/// `g1`) from a content rule, the messages' lines being `messages`.
fn spoe_config(spoe: &std::path::Path) -> String {
    format!(
        "defaults
    mode tcp
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:18081
    filter spoe engine e config {}
    tcp-request inspect-delay 1s
    tcp-request content send-spoe-group e g
    default_backend agents
backend agents
    server a 127.0.0.1:18080
",
        spoe.display()
    )
}

#[test]
fn spoe_arguments_missing_at_their_event_or_rule_get_haproxy_first_alert() {
    let spoe_text = |m: &str, g1: &str| {
        format!(
            "[e]
spoe-agent a
    messages m
    groups g
    timeout hello 1s
    timeout idle 1s
    timeout processing 1s
    use-backend agents
spoe-message m
{m}
spoe-message g1
    args {g1}
spoe-group g
    messages g1
"
        )
    };
    // (message m's lines, g1's arguments, the alert after "config : ", `{}` the SPOE file)
    let cases = [
        (
            "    args ip=src port=dst_port\n    event on-client-session",
            "ip=src",
            String::new(),
        ),
        (
            "    args st=status host=req.hdr(host)\n    event on-tcp-response",
            "ip=src",
            "parsing [{cfg}:8] : 'filter' : 'Ignore SPOE message 'm' at {}:9: some args extract information from 'backend http-request body rule', none of which is available here ('frontend tcp-response content rule')'".to_string(),
        ),
        (
            "    args p=path\n    event on-client-session",
            "ip=src",
            "parsing [{cfg}:8] : 'filter' : 'Ignore SPOE message 'm' at {}:9: some args extract information from 'backend http-request body rule', none of which is available here ('frontend tcp-request connection rule')'".to_string(),
        ),
        (
            "    args ip=src\n    event on-frontend-tcp-request",
            "ip=src st=status",
            "Proxy 'f': Invalid SPOE message 'g1' used by SPOE group 'g' at {}:12: some args extract information from 'frontend http-response body rule',none of which is available here ('frontend tcp-request content rule').".to_string(),
        ),
    ];
    let haproxy = haproxy_installed();
    for (i, (m, g1, alert)) in cases.iter().enumerate() {
        let spoe = write_cfg(&format!("spoe-args{i}.conf"), &spoe_text(m, g1));
        let cfg = write_cfg(&format!("spoe-args{i}.cfg"), &spoe_config(&spoe));
        let (cfg, spoe) = (cfg.to_str().unwrap(), spoe.to_str().unwrap());
        let expected = if alert.is_empty() {
            String::new()
        } else {
            format!(
                "config : {}",
                alert.replace("{cfg}", cfg).replace("{}", spoe)
            )
        };
        let ours = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(["-c", "-f", cfg])
            .output()
            .unwrap();
        assert_eq!(first_alert(&ours), expected, "hapee-lb on case {i}");
        if haproxy {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg])
                .output()
                .unwrap();
            assert_eq!(first_alert(&theirs), expected, "haproxy on case {i}");
        }
    }
}

/// HTTP-only aliases (`%HP`, `%r`, `%Tr`…) in the strings of a TCP proxy, its own or those of
/// its defaults section (compiled with the proxy's mode, reported at the defaults' line).
/// `log-format-sd` is left out: HAProxy 2.6 and 2.7.0 name the location of `log-format` (or
/// "(null):0") in its message, hapee its own line.
#[test]
fn http_only_aliases_are_refused_in_tcp_mode_as_haproxy_refuses_them() {
    let reserved = |line: u32, what: &str, name: &str| {
        format!("Parsing [{{}}:{line}]: failed to parse {what} : format variable '{name}' is reserved for HTTP mode.")
    };
    let tcp = |place: &'static str| {
        move |line: &str| {
            let (defaults, frontend) = if place == "defaults" {
                (line, "")
            } else {
                ("", line)
            };
            format!(
                "defaults
    mode tcp
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    {defaults}
frontend f
    bind 127.0.0.1:18081
    {frontend}
    default_backend b
backend b
    server s 127.0.0.1:18080
"
            )
        }
    };
    let in_frontend: Vec<(&str, String)> = vec![
        (
            r#"log-format "%ci %HP %r""#,
            reserved(9, "log-format", "HP"),
        ),
        (
            r#"unique-id-format "%ci-%Ta""#,
            reserved(9, "unique-id", "Ta"),
        ),
        (
            r#"error-log-format "%tr""#,
            reserved(9, "error-log-format", "tr"),
        ),
        // Aliases HAProxy keeps in TCP mode, and an HTTP string replaced by a TCP one.
        (r#"log-format "%ci %rt %B %Tt %ID %hr %ts""#, String::new()),
        ("log-format \"%HU\"\n    log-format \"%ci\"", String::new()),
    ];
    first_alerts_match_haproxys("tcpalias", tcp("frontend"), &in_frontend);
    let in_defaults: Vec<(&str, String)> = vec![
        (r#"log-format "%ci %HM""#, reserved(6, "log-format", "HM")),
        (r#"log-format "%ci %hr""#, String::new()),
    ];
    first_alerts_match_haproxys("tcpdefalias", tcp("defaults"), &in_defaults);
}

/// A server's `crt` is loaded once the configuration is read, and only for a server that asks
/// for TLS: a missing file is reported in the server's words after the parse (hapee said
/// `parsing [...] : 'crt' : ...` while it read the line), and not at all without TLS (hapee
/// refused it).
#[test]
fn server_certificates_are_loaded_after_the_parse_for_tls_servers_only() {
    let backend = |line: &str| {
        format!(
            "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:18081
    default_backend b
backend b
    {line}
"
        )
    };
    let missing = "unable to stat SSL certificate from file '/nonexistent/hapee-client.pem' : No such file or directory.";
    let cases = [
        ("server s 127.0.0.1:18080 crt /nonexistent/hapee-client.pem", String::new()),
        (
            "server s 127.0.0.1:18080 ssl verify none crt /nonexistent/hapee-client.pem",
            format!("[{{}}:10] : 'server b/s' : {missing}"),
        ),
        (
            "default-server check-ssl verify none\n    server s 127.0.0.1:18080 crt /nonexistent/hapee-client.pem",
            format!("[{{}}:11] : 'server b/s' : {missing}"),
        ),
        (
            "server-template s 3-4 127.0.0.1:18080 ssl verify none crt /nonexistent/hapee-client.pem",
            format!("[{{}}:10] : 'server b/s3' : {missing}"),
        ),
    ];
    first_alerts_match_haproxys("srvcrt", backend, &cases);
}
