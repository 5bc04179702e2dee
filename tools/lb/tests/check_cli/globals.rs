//! Global settings refused or repeated, in HAProxy's words: sticky counters, OpenSSL-only directives, tunes.

use super::*;

#[test]
fn sticky_counters_beyond_the_limit_are_refused_as_haproxy_refuses_them() {
    // With the built-in 3 counters, HAProxy 2.7's words (Debian's 2.6 has the same).
    let cases = [
        (
            "    tcp-request connection track-sc3 src",
            "config : parsing [10] : 'tcp-request connection track-sc3' : 3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value",
        ),
        (
            "    http-request track-sc5 src",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request track-sc5' rule : 5 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value.",
        ),
        (
            "    http-request sc-inc-gpc(1,3)",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request sc-inc-gpc(1,3)' rule : invalid stick table track ID 'sc-inc-gpc(1,3)'. The max allowed ID is 2.",
        ),
        (
            "    http-request sc-inc-gpc0(4)",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request sc-inc-gpc0(4)' rule : invalid stick table track ID. The max allowed ID is 2.",
        ),
        (
            "    http-request sc-set-gpt0(3) 1",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request sc-set-gpt0(3)' rule : invalid stick table track ID 'sc-set-gpt0(3)'. The max allowed ID is 2.",
        ),
        (
            "    tcp-request content sc-set-gpt(0,3) 1",
            "config : parsing [10] : invalid stick table track ID 'sc-set-gpt(0,3)'. The max allowed ID is 2",
        ),
        (
            "    http-request track-sc1x src",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request track-sc1x' rule : Wrong track-sc number '1x'.",
        ),
    ];
    for (rule, want) in cases {
        assert_rule_alert_like_haproxy(rule, Some(want));
    }
    // A fetch naming a counter the session does not have is accepted: it finds nothing.
    assert_rule_alert_like_haproxy("    http-request set-header x %[sc_http_req_rate(7)]", None);
    // `tune.stick-counters` (HAProxy 2.8's setting) moves the limit, and the words name it.
    let eight = "    tune.stick-counters 8\n";
    let hapee = env!("CARGO_BIN_EXE_hapee-lb");
    assert_eq!(
        rule_alert(hapee, eight, "    http-request track-sc7 src"),
        None
    );
    assert_eq!(
        rule_alert(hapee, eight, "    http-request sc-inc-gpc(1,7)"),
        None
    );
    assert_eq!(
        rule_alert(hapee, eight, "    http-request track-sc8 src").as_deref(),
        Some("config : parsing [11] : error detected in frontend 'fe' while parsing 'http-request track-sc8' rule : 8 track-sc number exceeding 7 (tune.stick-counters-1) value.")
    );
    assert_eq!(
        rule_alert(hapee, eight, "    http-request sc-inc-gpc1(9)").as_deref(),
        Some("config : parsing [11] : error detected in frontend 'fe' while parsing 'http-request sc-inc-gpc1(9)' rule : invalid stick table track ID. The max allowed ID is 7 (tune.stick-counters).")
    );
    assert_eq!(
        rule_alert(hapee, "    tune.stick-counters 0\n", "    tcp-request connection track-sc0 src").as_deref(),
        Some("config : parsing [11] : 'tcp-request connection track-sc0' : 0 track-sc number not usable, stick-counters are disabled by tune.stick-counters")
    );
    assert_eq!(
        rule_alert(hapee, "    tune.stick-counters -2\n", "").as_deref(),
        Some("config : parsing [2] : tune.stick-counters: the number of stick-counters may not be negative (was -2)")
    );
    assert_eq!(
        rule_alert(hapee, "    tune.stick-counters eight\n", "").as_deref(),
        Some("config : parsing [2] : tune.stick-counters: 'eight' is an invalid number")
    );
}

/// OpenSSL's own machinery (engines, asynchronous mode, providers) has no counterpart in
/// rustls: `check` names each keyword with the reason, and `run` refuses to start with it.
#[test]
fn openssl_only_globals_are_refused_with_the_reason() {
    let cfg = write_cfg(
        "openssl-only.cfg",
        &format!(
            "global\n    ssl-engine rdrand\n    ssl-mode-async\n    ssl-provider default\n    ssl-provider-path /usr/lib/ossl-modules\n    ssl-propquery provider=default\n{VALID}"
        ),
    );
    let path = cfg.to_str().unwrap();
    for command in ["check", "run"] {
        let out = run(&[command, "-f", path]);
        let err = String::from_utf8_lossy(&out.stderr);
        for (line, keyword, reason) in [
            (2, "ssl-engine", "rustls, which has no OpenSSL engines"),
            (3, "ssl-mode-async", "rustls has no engines"),
            (
                4,
                "ssl-provider",
                "OpenSSL 3 providers are loaded by OpenSSL",
            ),
            (
                5,
                "ssl-provider-path",
                "OpenSSL 3 providers are loaded by OpenSSL",
            ),
            (
                6,
                "ssl-propquery",
                "property queries choose among OpenSSL 3 providers",
            ),
        ] {
            let said = format!(
                "not supported by the hapee runtime: '{keyword}' in a global section (OpenSSL-only: "
            );
            assert!(err.contains(&said), "{command} {keyword}: {err}");
            assert!(err.contains(reason), "{command} {keyword}: {err}");
            assert!(
                err.contains(&format!("openssl-only.cfg:{line}:5")),
                "{command}: {err}"
            );
        }
        assert!(!err.contains("runtime yet: 'ssl-"), "{command}: {err}");
        if command == "run" {
            assert_eq!(out.status.code(), Some(1), "{err}");
        }
    }
}

/// Bad values of the compression, soft-stop, poller and variable settings are refused with
/// HAProxy's words, as `haproxy -c` refuses them (Debian's 2.6 is built with libslz, so the
/// zlib settings are compared with HAProxy 2.7's texts only, and 2.7's one-letter-short QUIC
/// backend keyword, which no 2.6 build has, likewise).
#[test]
fn bad_global_tunes_are_refused_in_haproxy_words() {
    let haproxy = haproxy_installed();
    let cases: &[(&str, &str, bool)] = &[
        (
            "maxcompcpuusage 150",
            "'maxcompcpuusage' expects an integer argument between 0 and 100.",
            true,
        ),
        (
            "maxcompcpuusage -5",
            "'maxcompcpuusage' expects an integer argument between 0 and 100.",
            true,
        ),
        (
            "maxzlibmem",
            "'maxzlibmem' expects an integer argument.",
            true,
        ),
        (
            "close-spread-time 5x",
            "unexpected character 'x' in argument to <close-spread-time>.",
            true,
        ),
        (
            "close-spread-time",
            "'close-spread-time' expects <time> as argument.",
            true,
        ),
        // Paths without their word.
        (
            "chroot",
            "'chroot' expects a directory as an argument.",
            true,
        ),
        (
            "pidfile",
            "'pidfile' expects a file name as an argument.",
            true,
        ),
        (
            "server-state-base",
            "'server-state-base' expects one argument: a directory path.",
            true,
        ),
        (
            "server-state-file",
            "'server-state-file' expect one argument: a file path.",
            true,
        ),
        (
            "tune.fd.edge-triggered maybe",
            "'tune.fd.edge-triggered' expects either 'on' or 'off' but got 'maybe'.",
            true,
        ),
        (
            "tune.vars.check-max-size 1k",
            "tune.vars.check-max-size: '1k' is an invalid size",
            true,
        ),
        (
            "tune.ssl.force-private-cache x",
            "'tune.ssl.force-private-cache' cannot handle unexpected argument 'x'.",
            true,
        ),
        (
            "tune.zlib.memlevel 10",
            "'tune.zlib.memlevel' expects a numeric value between 1 and 9.",
            false,
        ),
        (
            "tune.zlib.windowsize 7",
            "'tune.zlib.windowsize' expects a numeric value between 8 and 15.",
            false,
        ),
        (
            "tune.quic.backend.max-idle-timeou 30s",
            "'tune.quic.backend.max-idle-timeou' keyword not unhandled (please report this bug).",
            false,
        ),
    ];
    for (i, (line, message, compare)) in cases.iter().enumerate() {
        let text = format!("global\n    expose-experimental-directives\n    {line}\n{VALID}");
        let cfg = write_cfg(&format!("tunes{i}.cfg"), &text);
        let cfg = cfg.to_str().unwrap();
        let out = run(&["-c", "-f", cfg]);
        let ours = alerts(&out);
        assert_eq!(out.status.code(), Some(1), "{line}: {ours:?}");
        assert_eq!(
            ours,
            [format!("config : parsing [{cfg}:3] : {message}")],
            "{line}"
        );
        if haproxy && *compare {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg])
                .output()
                .unwrap();
            assert_eq!(alerts(&theirs), ours, "{line}");
        }
    }
    // What HAProxy accepts: a CPU share read as 0 from a word, `infinite`, a window of 0.
    for line in [
        "maxcompcpuusage abc",
        "close-spread-time infinite",
        "close-spread-time 0",
    ] {
        let cfg = write_cfg("tunes-ok.cfg", &format!("global\n    {line}\n{VALID}"));
        let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{line}: {:?}", alerts(&out));
    }
}

/// A global setting given again is reported at the alert level and the check still passes, as
/// HAProxy 2.7 does ("Warnings were found." is not printed for it); a global `quiet` silences
/// everything after it, the closing lines and "Configuration file is valid" included.
#[test]
fn repeated_global_settings_alert_without_failing_and_quiet_silences_the_rest() {
    let repeated = write_cfg(
        "repeated.cfg",
        &format!("global\n    maxconn 100\n    user nobody\nglobal\n    maxconn 200\n    uid 99\n{VALID}"),
    );
    let out = run(&["-c", "-f", repeated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Configuration file is valid\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = repeated.to_str().unwrap();
    for expected in [
        format!("parsing [{name}:5] : 'maxconn' already specified. Continuing."),
        format!("parsing [{name}:6] : user/uid already specified. Continuing."),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("[ALERT]") && l.ends_with(&expected)),
            "{expected} not in:\n{stderr}"
        );
    }

    let quiet = write_cfg(
        "quiet.cfg",
        &format!(
            "global\n    nbproc 2\n    quiet\n    maxconn 1\n    maxconn 2\n    nbproc 4\n{VALID}"
        ),
    );
    let out = run(&["-c", "-f", quiet.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let alerts: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .collect();
    assert_eq!(alerts.len(), 1, "{stderr}");
    assert!(
        alerts[0].contains(":2] : nbproc is not supported any more"),
        "{stderr}"
    );
}

/// Every `global` line opens a section, an indented one within the global section too, and
/// takes no argument (a public configuration's `global setting 1`).
#[test]
fn a_global_line_with_arguments_is_refused_as_haproxy_refuses_it() {
    let want = "config : parsing [2] : 'global' cannot handle unexpected argument 'setting'.";
    let hapee = env!("CARGO_BIN_EXE_hapee-lb");
    let ours = rule_alert(hapee, "    global setting 1\n", "");
    assert_eq!(ours.as_deref(), Some(want));
    if haproxy_installed() {
        assert_eq!(rule_alert("haproxy", "    global setting 1\n", ""), ours);
    }
    assert_eq!(rule_alert(hapee, "    global\n", ""), None);
}

/// A global `user` or `group` whose name is empty (an unset variable in quotes) or missing is
/// looked up all the same, and no account is named '' (a public configuration's
/// `user "${HAPROXY_USER}"`).
#[test]
fn an_empty_user_or_group_name_is_refused_as_haproxy_refuses_it() {
    let hapee = env!("CARGO_BIN_EXE_hapee-lb");
    for (global, want) in [
        (
            "    user \"${HAPEE_TEST_UNSET_USER}\"\n",
            "config : parsing [2] : cannot find user id for '' (0:Success)",
        ),
        (
            "    group\n",
            "config : parsing [2] : cannot find group id for '' (0:Success)",
        ),
    ] {
        let ours = rule_alert(hapee, global, "");
        assert_eq!(ours.as_deref(), Some(want), "{global}");
        if haproxy_installed() {
            assert_eq!(
                rule_alert("haproxy", global, ""),
                ours,
                "haproxy on {global}"
            );
        }
    }
}

/// The global section's `set-var`/`set-var-fmt` lines: both words required, the name read as
/// the action reads it, the expression parsed (one word: what follows is not read), and only
/// the `proc` scope set.
#[test]
fn global_set_var_lines_are_refused_as_haproxy_refuses_them() {
    let missing =
        "'set-var' requires a process-wide variable name ('proc.<name>') and a sample expression.";
    for (line, want) in [
        ("set-var proc.x", Some(missing.to_string())),
        ("set-var-fmt proc.x", Some("'set-var-fmt' requires a process-wide variable name ('proc.<name>') and a format string.".into())),
        ("set-var proc str(a)", Some("invalid variable name 'proc'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'".into())),
        ("set-var proc.x-y str(a)", Some("invalid syntax at char '-y)'".into())),
        ("set-var proc.x,ifwhat str(a)", Some("unknown condition \"ifwhat\"".into())),
        ("set-var proc.x str(a),nope", Some("unknown converter 'nope'".into())),
        ("set-var proc.x var(proc.y,d,e)", Some("fetch method 'var' : expected ')' before ',e)'".into())),
        ("set-var proc.x var()", Some("invalid args in fetch method 'var' : Empty variable name cannot be accepted".into())),
        // The expression is read before the scope.
        ("set-var txn.x nope", Some("unknown fetch method 'nope'".into())),
        ("set-var sess.x str(a)", Some("'set-var': cannot set variable 'sess.x', only scope 'proc' is permitted in the global section.".into())),
        ("set-var-fmt txn.x abc", Some("'set-var-fmt': cannot set variable 'txn.x', only scope 'proc' is permitted in the global section.".into())),
        ("set-var proc.x str(a) junk", None),
        ("set-var proc.x,ifnotset var(proc.y,d)", None),
    ] {
        assert_global_alert_like_haproxy(line, want.as_deref());
    }
}

#[test]
fn global_values_are_refused_as_haproxy_refuses_them() {
    // Each line alone: HAProxy stops reading a global section's line at its first refusal.
    let cases = [
        ("tune.idletimer", "config : parsing [2] : 'tune.idletimer' expects a timer value between 0 and 65535 ms."),
        ("tune.idletimer 70000", "config : parsing [2] : 'tune.idletimer' expects a timer value between 0 and 65535 ms."),
        ("tune.idletimer 5x", "config : parsing [2]: unexpected character 'x' in argument to <tune.idletimer>."),
        ("tune.idletimer 100000000000", "config : parsing [2]: timer overflow in argument <100000000000> to <tune.idletimer>, maximum value is 65535 ms."),
        ("tune.comp.maxlevel 0", "config : parsing [2] : 'tune.comp.maxlevel' expects a numeric value between 1 and 9"),
        ("tune.http.maxhdr 40000", "config : parsing [2] : 'tune.http.maxhdr' expects a numeric value between 1 and 32767"),
        ("ssl-server-verify maybe", "config : parsing [2] : 'ssl-server-verify' expects 'none' or 'required' as argument."),
        ("description", "config : parsing [2]: 'description' expects a string argument."),
        ("node bad/name", "config : parsing [2]: 'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."),
        ("log-tag", "config : parsing [2] : 'log-tag' expects a tag for use in syslog."),
        ("spread-checks 60", "config : parsing [2]: 'spread-checks' needs a positive value in range 0..50."),
        ("setenv A", "config : parsing [2]: 'setenv' expects a name and a value."),
        ("presetenv A", "config : parsing [2]: 'presetenv' expects a name and a value."),
        ("unsetenv", "config : parsing [2]: 'unsetenv' expects at least one variable name."),
        ("localpeer", "config : parsing [2] : 'localpeer' expects a name as an argument."),
        ("unix-bind prefix /tmp foo bar", "config : parsing [2] : 'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options."),
        ("unix-bind prefix", "config : parsing [2] : unix_bind 'prefix' expects a path as an argument."),
    ];
    for (line, want) in cases {
        let text = format!("global\n  {line}\ndefaults\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n");
        let want = [
            want,
            "config : Error(s) found in configuration file : ",
            "config : Fatal errors found in configuration.",
        ];
        assert_eq!(
            messages_after_notices(env!("CARGO_BIN_EXE_hapee-lb"), "global-values", &text),
            want,
            "hapee-lb on {line}"
        );
        if haproxy_installed() {
            assert_eq!(
                messages_after_notices("haproxy", "global-values", &text),
                want,
                "haproxy on {line}"
            );
        }
    }
}
