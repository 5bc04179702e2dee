//! Rules found by the public corpus's sixteenth batch, each checked against the lines HAProxy
//! 2.7.0 prints for the same file: the `bind` keywords of a global `stats socket` line, the
//! words of a bind option whose value is missing or refused, and the CLI's other global
//! `stats` settings.

use super::sections_and_context::alerts;

/// A global `stats socket` line takes the `bind` keywords: the first unknown one fails the
/// line (a second `stats socket` pasted into the first, as a real file had it), as does one
/// without its value, whose own words HAProxy quotes after `'stats socket' : `.
#[test]
fn stats_socket_options_are_read_as_bind_keywords() {
    let cases = [
        (
            "/run/    stats socket :9999 level admin",
            "'stats socket' : unknown keyword 'stats'.",
        ),
        (
            "/tmp/s.sock level admin foo",
            "'stats socket' : unknown keyword 'foo'. Did you mean 'tfo' maybe ?",
        ),
        (
            "/tmp/s.sock mode 600 level",
            "'stats socket' : ''level' : missing level'",
        ),
        (
            "/tmp/s.sock user",
            "'stats socket' : ''user' : missing user name'",
        ),
        (
            "/tmp/s.sock mode",
            "'stats socket' : ''mode' : missing or invalid mode '' (octal integer expected)'",
        ),
    ];
    for (i, (options, expected)) in cases.into_iter().enumerate() {
        let text = format!(
            "global\n  stats socket {options}\n\nfrontend f\n  bind :8000\n  timeout client 1s\n"
        );
        assert_eq!(
            alerts(&format!("stats-socket-{i}.cfg"), &text),
            [
                format!("[ALERT] config : parsing [{{f}}:2] : {expected}"),
                "[ALERT] config : Error(s) found in configuration file : {f}".to_string(),
                "[ALERT] config : Fatal errors found in configuration.".to_string(),
            ],
            "stats socket {options}"
        );
    }
    let good = "global\n  stats socket /tmp/s.sock mode 600 level admin expose-fd listeners\n\n\
                frontend f\n  bind :8000\n  timeout client 1s\n";
    assert!(alerts("stats-socket-good.cfg", good).is_empty());
}

/// A bind option without its value is worded as its own parser words it in HAProxy (the
/// listener's, the UNIX socket's, the CLI's and ALPN's), not with one generic sentence.
#[test]
fn bind_options_without_value_are_worded_as_haproxy_words_them() {
    let cases = [
        ("level", "'level' : missing level"),
        ("user", "'user' : missing user name"),
        ("uid", "'uid' : missing value"),
        ("name", "'name' : missing name"),
        ("id", "'id' : expects an integer argument"),
        ("expose-fd", "'expose-fd' : missing fd type"),
        (
            "alpn",
            "'alpn' : missing the comma-delimited ALPN protocol suite",
        ),
    ];
    for (option, expected) in cases {
        let text = format!("frontend f\n  bind /tmp/x.sock {option}\n  timeout client 1s\n");
        assert_eq!(
            alerts(&format!("bind-{option}.cfg"), &text).first().map(String::as_str),
            Some(
                format!(
                    "[ALERT] config : parsing [{{f}}:2] : 'bind /tmp/x.sock' in section 'frontend' : {expected}"
                )
                .as_str()
            ),
            "bind … {option}"
        );
    }
}

/// The values of the listener's, the UNIX socket's, the CLI's and the TLS verify options are
/// read as their parsers read them, on `bind` lines and `stats socket` lines alike (the
/// latter quote the option's words whole; `verify`'s end with a line feed in HAProxy, which
/// puts that closing quote on a line of its own).
#[test]
fn bind_option_values_are_refused_as_haproxy_refuses_them() {
    let cases = [
        (
            "level foo",
            "'level' only supports 'user', 'operator', and 'admin' (got 'foo')",
        ),
        (
            "mode 999",
            "'mode' : missing or invalid mode '999' (octal integer expected)",
        ),
        (
            "expose-fd fds",
            "'expose-fd' only supports 'listeners' (got 'fds')",
        ),
        (
            "severity-output text",
            "'severity-output' only supports 'none', 'number', and 'string' (got 'text')",
        ),
        ("maxconn -1", "'maxconn' : invalid value -1, must be >= 0"),
        ("id x", "'id' : expects an integer argument, found 'x'"),
        ("id 0", "'id' : custom id has to be > 0"),
        ("proto h3", "'proto' :  unknown MUX protocol 'h3'"),
        (
            "tcp-ut soon",
            "'tcp-ut' : expects a positive delay in milliseconds",
        ),
        (
            "mss 70000",
            "'mss' : expects an MSS with and absolute value between 1 and 65535",
        ),
    ];
    for (i, (option, expected)) in cases.into_iter().enumerate() {
        let text = format!(
            "global\n  stats socket /tmp/s.sock {option}\n\nfrontend f\n  bind /tmp/x.sock {option}\n  timeout client 1s\n"
        );
        assert_eq!(
            alerts(&format!("bind-value-{i}.cfg"), &text)[..2],
            [
                format!("[ALERT] config : parsing [{{f}}:2] : 'stats socket' : '{expected}'"),
                format!("[ALERT] config : parsing [{{f}}:5] : 'bind /tmp/x.sock' in section 'frontend' : {expected}"),
            ],
            "{option}"
        );
    }
    let verify = "global\n  stats socket /tmp/s.sock verify maybe\n\nfrontend f\n  bind :8000\n  timeout client 1s\n";
    assert_eq!(
        alerts("bind-verify.cfg", verify)[0],
        "[ALERT] config : parsing [{f}:2] : 'stats socket' : ''verify' : unknown verify method 'maybe', only 'none', 'optional', and 'required' are supported"
    );
    let good = "global\n  stats socket /tmp/s.sock mode 0660 level operator severity-output number id 5 maxconn 10\n\n\
                frontend f\n  mode http\n  bind /tmp/x.sock mode 600 proto h1 tcp-ut 10s\n  timeout client 1s\n";
    assert!(alerts("bind-values-good.cfg", good).is_empty());
}

/// `stats timeout` and `stats maxconn` are read as the CLI reads them: a delay that is not
/// zero (HAProxy names the first character it could not read, an empty value's being the
/// string's end) and a positive number; a `stats socket`'s `thread` set must name the first
/// thread group, the CLI's.
#[test]
fn global_stats_settings_are_read_as_the_cli_reads_them() {
    let cases = [
        ("stats timeout 1x0", "'stats timeout' : unexpected character 'x'"),
        ("stats timeout", "'stats timeout' : unexpected character '"),
        ("stats timeout 0", "'stats timeout' expects a positive value"),
        (
            "stats timeout 99999999999",
            "timer overflow in argument '99999999999' to 'stats timeout' (maximum value is 2147483647 ms or ~24.8 days)",
        ),
        ("stats maxconn none", "'stats maxconn' expects a positive value"),
        ("stats maxconn -1", "'stats maxconn' expects a positive value"),
        (
            "stats socket /tmp/s.sock thread all",
            "'stats socket' : ''all' multiple thread-groups are not supported'",
        ),
        (
            "stats socket /tmp/s.sock backlog -3",
            "'stats socket' : ''backlog' : invalid value -3, must be > 0'",
        ),
    ];
    for (i, (line, expected)) in cases.into_iter().enumerate() {
        let text = format!("global\n  {line}\n\nfrontend f\n  bind :8000\n  timeout client 1s\n");
        assert_eq!(
            alerts(&format!("global-stats-{i}.cfg"), &text)
                .first()
                .map(String::as_str),
            Some(format!("[ALERT] config : parsing [{{f}}:2] : {expected}").as_str()),
            "{line}"
        );
    }
    let good = "global\n  stats timeout 30s\n  stats maxconn 10\n  stats socket /tmp/s.sock thread 1/all\n\n\
                frontend f\n  bind :8000\n  timeout client 1s\n";
    assert!(alerts("global-stats-good.cfg", good).is_empty());
}
