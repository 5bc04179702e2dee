//! `hapee-lb check` and `hapee-lb -c` as a user runs them: real binary, real files, exit codes
//! and output shapes of `haproxy -c`.

use std::process::{Command, Output};

// Only folders here: its single-file guard goes unused.
#[path = "check_cli/cfg_file.rs"]
mod cfg_file;
#[allow(dead_code)]
#[path = "runtime/harness_scratch.rs"]
mod scratch;
use cfg_file::CfgFile;

#[path = "check_cli/acl_words.rs"]
mod acl_words;
#[path = "check_cli/bind_words.rs"]
mod bind_words;
#[path = "check_cli/check_rule_words.rs"]
mod check_rule_words;
#[path = "check_cli/crypto.rs"]
mod crypto;
#[path = "check_cli/environment.rs"]
mod environment;
#[path = "check_cli/fcgi_filters.rs"]
mod fcgi_filters;
#[path = "check_cli/fetch_places.rs"]
mod fetch_places;
#[path = "check_cli/globals.rs"]
mod globals;
#[path = "check_cli/lua.rs"]
mod lua;
#[path = "check_cli/post_parse_checks.rs"]
mod post_parse_checks;
#[path = "check_cli/proxy_values.rs"]
mod proxy_values;
#[path = "check_cli/read_refusals.rs"]
mod read_refusals;
#[path = "check_cli/rule_arguments.rs"]
mod rule_arguments;
#[path = "check_cli/section_headers.rs"]
mod section_headers;
#[path = "check_cli/sections_and_context.rs"]
mod sections_and_context;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
}

fn write_cfg(name: &str, text: &str) -> CfgFile {
    CfgFile::write("hapee-cli", name, text)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run hapee-lb")
}

const VALID: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:8080
    default_backend be

backend be
    server s1 127.0.0.1:9000
";

#[test]
fn valid_config_exits_zero_like_haproxy() {
    let cfg = write_cfg("valid.cfg", VALID);
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Configuration file is valid\n"
    );
    let quiet = run(&["-c", "-q", "-f", cfg.to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stdout.is_empty());
}

#[test]
fn errors_use_haproxy_line_shapes_and_exit_one() {
    let cfg = write_cfg(
        "bad.cfg",
        &VALID.replace(
            "    bind 127.0.0.1:8080\n",
            "    bind 127.0.0.1:8080\n    bind-process 1\n",
        ),
    );
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let pid = "(";
    assert!(stderr.contains("[ALERT]    "), "{stderr}");
    assert!(stderr.contains(pid));
    assert!(
        stderr.contains(&format!(
            "config : parsing [{}:9]: 'bind-process' is not supported anymore.",
            cfg.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("config : Fatal errors found in configuration."),
        "{stderr}"
    );
}

/// HAProxy stops reading at an HTTP rule that does not parse (no "Fatal errors" line then),
/// but not at an `http-request` line where the keyword is unknown (the global section) nor at
/// a line whose words do not split (an unmatched quote): the lines it reports, and whether it
/// stopped, are haproxy's.
#[test]
fn only_http_rules_that_fail_to_parse_stop_the_reading() {
    let cases = [
        (
            "abort-global.cfg",
            "global\n    http-request deny\n    bogus1\nfrontend f\n    bind :8080\n    http-request bogus\n    bogus2\n",
            vec![2, 3, 6],
            false,
        ),
        (
            "abort-quote.cfg",
            "frontend f\n    bind :8080\n    http-request deny \"unterminated\n    bogus2\n",
            vec![3, 4],
            true,
        ),
    ];
    // The lines named by `parsing [file:line]` alerts, and whether the run ended with the
    // "Fatal errors" line (HAProxy's closing words when it read everything).
    let read = |cmd: &str, cfg: &str| {
        let out = Command::new(cmd)
            .args(["-c", "-f", cfg])
            .output()
            .expect("run -c");
        assert_exit(&out, 1);
        let lines: Vec<usize> = alerts(&out)
            .iter()
            .filter_map(|l| {
                l.split_once(&format!("{cfg}:"))?
                    .1
                    .split(']')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        let fatal = String::from_utf8_lossy(&out.stderr).contains("Fatal errors found");
        (lines, fatal)
    };
    for (name, text, lines, fatal) in cases {
        let cfg = write_cfg(name, text);
        let cfg = cfg.to_str().unwrap();
        let ours = read(env!("CARGO_BIN_EXE_hapee-lb"), cfg);
        assert_eq!(ours, (lines, fatal), "{name}");
        if haproxy_installed() {
            assert_eq!(read("haproxy", cfg), ours, "haproxy on {name}");
        }
    }
}

#[test]
fn human_format_points_at_the_column() {
    let cfg = write_cfg(
        "col.cfg",
        &VALID.replace(
            "    bind 127.0.0.1:8080\n",
            "    bind 127.0.0.1:8080 process 2\n",
        ),
    );
    let out = run(&["check", "--no-env", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[E302]"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:8:25", cfg.display())),
        "line 8, column 25 expected: {stderr}"
    );
    assert!(
        stderr.contains("replace 'process' with 'thread'"),
        "{stderr}"
    );
}

#[test]
fn json_format_is_machine_readable() {
    let cfg = write_cfg(
        "json.cfg",
        &VALID.replace("default_backend be", "default_backend nowhere"),
    );
    let out = run(&["check", "--format", "json", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let first = &v.as_array().expect("array")[0];
    assert_eq!(first["code"], "E241");
    assert_eq!(first["start"]["line"], 9);
    assert_eq!(first["start"]["column"], 21);
}

#[test]
fn no_listener_exits_two() {
    let cfg = write_cfg("nolistener.cfg", "defaults\n    mode http\n    timeout connect 5s\n    timeout server 5s\n\nbackend be\n    server s1 127.0.0.1:9000\n");
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("will not start (no listener) => exit(2).")
    );
}

/// In master-worker mode (`master-worker` in `global`, or `-W`) HAProxy's worker listens on its
/// end of the master's socket pair, so a configuration with no other listener is valid.
#[test]
fn master_worker_mode_counts_as_a_listener() {
    let cfg = write_cfg("mworker.cfg", "global\n    master-worker\n");
    let bare = write_cfg("bare-global.cfg", "global\n    daemon\n");
    let cases = [
        (vec!["-c", "-f", cfg.to_str().unwrap()], 0),
        (vec!["-c", "-f", bare.to_str().unwrap()], 2),
        (vec!["-c", "-W", "-f", bare.to_str().unwrap()], 0),
    ];
    for (args, code) in cases {
        assert_exit(&run(&args), code);
        if haproxy_installed() {
            let theirs = Command::new("haproxy")
                .args(&args)
                .output()
                .expect("run haproxy");
            assert_eq!(theirs.status.code(), Some(code), "haproxy {args:?}");
        }
    }
}

#[test]
fn zero_warning_mode_fails_on_warnings() {
    let cfg = write_cfg(
        "warn.cfg",
        "frontend fe\n    mode http\n    bind 127.0.0.1:8080\n",
    );
    let ok = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("Warnings were found.\n"));
    let strict = run(&["-c", "-dW", "-f", cfg.to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stderr)
        .contains("Some warnings were found and 'zero-warning' is set. Aborting."));
}

#[test]
fn missing_file_is_reported_like_haproxy() {
    let out = run(&["-c", "-f", "/nonexistent/haproxy.cfg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "Could not open configuration file /nonexistent/haproxy.cfg : No such file or directory"
    ));
}

#[test]
fn directory_loads_cfg_files_in_order() {
    let dir = scratch::Scratch::dir(&format!("hapee-cli-dir-{}", std::process::id()));
    std::fs::write(dir.join("10-defaults.cfg"), "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n").unwrap();
    std::fs::write(dir.join("20-proxies.cfg"), "frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9000\n").unwrap();
    std::fs::write(dir.join("30-ignored.txt"), "this is not a config\n").unwrap();
    let out = run(&["check", "-f", dir.to_str().unwrap()]);
    assert_exit(&out, 0);
}

#[test]
fn cc_evaluates_conditions_like_haproxy() {
    assert_eq!(
        run(&["-cc", "version_atleast(2.5-dev0)"]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&["-cc", "feature(DEVICEATLAS) && 1"]).status.code(),
        Some(1)
    );
    let bad = run(&["-cc", "defined(A,B)"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("Failed to evaluate condition: expected ')' before ',B)'"));
}

#[test]
fn dump_plan_prints_the_runtime_plan() {
    let cfg = write_cfg("plan.cfg", &format!("global\n    nbthread 2\n{VALID}"));
    let out = run(&["check", "--dump-plan", "-q", "-f", cfg.to_str().unwrap()]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan is JSON");
    assert_eq!(plan["global"]["nbthread"], 2);
    assert_eq!(plan["listeners"][0]["address"]["port"]["low"], 8080);
    assert_eq!(plan["frontends"][0]["default_backend"], 0);
    assert_eq!(plan["backends"][0]["servers"][0]["name"], "s1");
}

#[test]
fn dash_dc_dumps_anonymized_config() {
    let cfg = write_cfg(
        "dump.cfg",
        "frontend www\n    bind 192.168.1.10:443 ssl crt /x.pem\n    default_backend app1\n",
    );
    let out = run(&["-dC1234", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "frontend ID(361f60)\n\tbind IPV4(a94ee8):443 [...]\n\tdefault_backend ID(461ee9)\n"
    );
    let numbered = run(&["-dC1234,line", "-f", cfg.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&numbered.stdout).starts_with("1\tfrontend ID(361f60)\n2\t"));
    let plain = run(&["-dC", "-f", cfg.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        "frontend www \n\tbind 192.168.1.10:443 ssl crt /x.pem \n\tdefault_backend app1 \n"
    );
}

#[test]
fn fmt_check_diff_and_rewrite() {
    let cfg = write_cfg(
        "fmt.cfg",
        "global\n  maxconn   100\nfrontend fe\nbind :80\n",
    );
    let p = cfg.to_str().unwrap();
    assert_eq!(run(&["fmt", "--check", p]).status.code(), Some(1));
    let diff = run(&["fmt", "--diff", p]);
    assert!(String::from_utf8_lossy(&diff.stdout).contains("+    maxconn 100"));
    assert_eq!(run(&["fmt", p]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "global\n    maxconn 100\nfrontend fe\n    bind :80\n"
    );
    assert_eq!(run(&["fmt", "--check", p]).status.code(), Some(0));
    // A last line without its line feed gets one, and fmt says so: HAProxy refuses the file
    // without it, so the verdict changes.
    std::fs::write(&cfg, "global\n    maxconn 100").unwrap();
    let out = run(&["fmt", p]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("(E009)"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "global\n    maxconn 100\n"
    );
    assert!(run(&["fmt", p]).stderr.is_empty());
}

#[test]
fn explain_lists_and_explains_codes() {
    let list = run(&["explain", "--list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.lines().count() >= 25);
    assert!(text
        .lines()
        .all(|l| l.split(' ').next().is_some_and(|c| c.len() == 4)));
    let one = run(&["explain", "E302"]);
    assert!(String::from_utf8_lossy(&one.stdout).contains("thread"));
    assert_eq!(run(&["explain", "E999"]).status.code(), Some(1));
    // Every listed code explains, by code and by name.
    for line in text.lines() {
        let mut words = line.split(' ');
        let (code, name) = (words.next().unwrap(), words.next().unwrap());
        for asked in [code, name] {
            let out = run(&["explain", asked]);
            assert!(out.status.success(), "{asked}: {out:?}");
            assert!(String::from_utf8_lossy(&out.stdout).starts_with(code));
        }
    }
    // A mistyped code gets the one it most likely meant.
    let typo = run(&["explain", "l23"]);
    assert_eq!(typo.status.code(), Some(1));
    let said = String::from_utf8_lossy(&typo.stderr);
    assert!(said.contains("did you mean 'L023'?"), "{said}");
}

#[test]
fn lint_levels_from_flags_toml_and_inline_comments() {
    let base = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9000\nbackend old\n    server s2 127.0.0.1:9001\n";
    let cfg = write_cfg("lint.cfg", base);
    let p = cfg.to_str().unwrap();
    let warn = run(&["check", "-f", p]);
    assert_eq!(warn.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&warn.stderr).contains("warning[L001]"));
    let deny = run(&["check", "--deny", "L001", "-f", p]);
    assert_eq!(deny.status.code(), Some(1), "a denied lint is an error");
    let allow = run(&["check", "--allow", "unused-backend", "-f", p]);
    assert!(!String::from_utf8_lossy(&allow.stderr).contains("L001"));
    let inline = write_cfg(
        "lint-inline.cfg",
        &base.replace("backend old\n", "backend old # hapee: allow(L001)\n"),
    );
    assert!(
        !String::from_utf8_lossy(&run(&["check", "-f", inline.to_str().unwrap()]).stderr)
            .contains("L001")
    );
    // HAProxy's own mode never shows lints.
    let compat = run(&["-c", "-f", p]);
    assert_eq!(
        String::from_utf8_lossy(&compat.stdout),
        "Configuration file is valid\n"
    );
}

#[test]
fn tls_names_rustls_lacks_are_named_and_dh_param_gets_a_note() {
    let cfg = write_cfg(
        "tls-names.cfg",
        "global
    tune.ssl.default-dh-param 2048
    ssl-dh-param-file /dev/null
    ssl-default-bind-curves X25519:brainpoolP256r1
    ssl-default-server-ciphers ECDHE-RSA-AES256-GCM-SHA384:DES-CBC3-SHA
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:8443 ssl crt /nonexistent.pem ciphers ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA ciphersuites TLS_AES_128_CCM_SHA256
    default_backend be
backend be
    server s1 127.0.0.1:9000 ssl verify none ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_8_SHA256
",
    );
    let out = run(&["check", "--no-env", "-f", cfg.to_str().unwrap()]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("U002") && text.contains("the cipher 'AES128-SHA'"),
        "{text}"
    );
    assert!(!text.contains("'ECDHE-RSA-AES128-GCM-SHA256'"), "{text}");
    assert!(
        text.contains("the TLS 1.3 suite 'TLS_AES_128_CCM_SHA256'"),
        "{text}"
    );
    assert!(text.contains("the curve 'brainpoolP256r1'"), "{text}");
    assert!(text.contains("U003"), "{text}");
    // The server side: global defaults and server lines.
    assert!(text.contains("the cipher 'DES-CBC3-SHA'"), "{text}");
    assert!(
        text.contains("the TLS 1.3 suite 'TLS_AES_128_CCM_8_SHA256'"),
        "{text}"
    );
    assert!(text.contains("'ssl-dh-param-file' has no effect"), "{text}");
}

/// The `[ALERT]` lines of a `-c` run, without the process id.
fn alerts(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split_once(") : ").map(|(_, rest)| rest.to_string()))
        .filter(|l| l.starts_with("config : parsing"))
        .collect()
}

/// Every `[ALERT]` line of a `-c` run (and the bare lines HAProxy continues one with), without
/// the process id.
fn alert_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]") && !l.starts_with("[WARNING]"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// `-c` on `rule` (one line in a frontend with a table), by `cmd` (`hapee-lb` or `haproxy`);
/// the first alert, without the file name, or `None` when the configuration is valid.
fn rule_alert(cmd: &str, global: &str, rule: &str) -> Option<String> {
    let (out, file) = check_text(
        cmd,
        "rule",
        &format!(
            "global
{global}{HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:18995
    stick-table type ip size 1k expire 1m store http_req_rate(10s),gpc(2),gpt(2)
{rule}
"
        ),
    );
    alerts(&out).first().map(|l| l.replace(&file, ""))
}

/// The defaults section the rule tests' configurations start with.
const HTTP_DEFAULTS: &str = "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
";

/// `cmd -c` (`hapee-lb` or `haproxy`) on `text`, written to a file of its own named after
/// `stem` (tests run side by side): the run's output, and the file's name as its messages
/// give it (`<path>:`).
fn check_text(cmd: &str, stem: &str, text: &str) -> (Output, String) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cfg = write_cfg(&format!("{stem}-{n}.cfg"), text);
    let out = Command::new(cmd)
        .args(["-c", "-f"])
        .arg(&cfg)
        .output()
        .expect("run -c");
    (out, format!("{}:", cfg.display()))
}

/// `-c` on `text` by `cmd`: every line of its output after the version notices, without the
/// process id and the file's name.
fn messages_after_notices(cmd: &str, stem: &str, text: &str) -> Vec<String> {
    let (out, file) = check_text(cmd, stem, text);
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| {
            l.split_once(") : ")
                .map_or(l, |(_, rest)| rest)
                .replace(&file, "")
                .replace(file.trim_end_matches(':'), "")
        })
        .collect()
}

/// HAProxy's rule wording around a message, for a rule of frontend `fe` on line 10.
fn in_http_rule(rule: &str, message: &str) -> String {
    format!("config : parsing [10] : error detected in frontend 'fe' while parsing '{rule}' rule : {message}.")
}

/// Fails with the command's error output unless it exited with `code`.
#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether Debian's haproxy is installed, for the tests that compare with it.
fn haproxy_installed() -> bool {
    Command::new("haproxy").arg("-v").output().is_ok()
}

/// `hapee-lb -c`'s first alert for `rule` in a frontend must be `want`, and haproxy's the
/// same when it is installed.
#[track_caller]
fn assert_rule_alert_like_haproxy(rule: &str, want: Option<&str>) {
    let ours = rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), "", rule);
    assert_eq!(ours.as_deref(), want, "{rule}");
    if haproxy_installed() {
        assert_eq!(rule_alert("haproxy", "", rule), ours, "haproxy on {rule}");
    }
}

/// The first alert for global line `line` (HAProxy's words after the location, `None`: it
/// passes), the same as Debian's haproxy gives when it is installed.
#[track_caller]
fn assert_global_alert_like_haproxy(line: &str, want: Option<&str>) {
    let global = format!("    {line}\n");
    let want = want.map(|m| format!("config : parsing [2] : {m}"));
    let ours = rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), &global, "");
    assert_eq!(ours, want, "{line}");
    if haproxy_installed() {
        assert_eq!(
            rule_alert("haproxy", &global, ""),
            ours,
            "haproxy on {line}"
        );
    }
}

/// A finding of `check` that only the environment gives: `-c` passes `text` (as `haproxy -c`
/// does, which does not look), `check` fails with it, `check --no-env` passes. Its error output.
#[track_caller]
fn env_only_failure(name: &str, text: &str) -> String {
    let cfg = write_cfg(name, text);
    let cfg = cfg.to_str().unwrap();
    assert_eq!(run(&["-c", "-f", cfg]).status.code(), Some(0));
    assert_eq!(run(&["check", "--no-env", cfg]).status.code(), Some(0));
    let out = run(&["check", cfg]);
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `hapee-lb <command> --help` prints the help and succeeds, as `hapee-lb --help` does: a
/// new user asks a command for its help before anything else (it was an unknown option).
#[test]
fn each_command_answers_help() {
    for command in ["check", "run", "fmt", "route", "explain", "docs"] {
        for flag in ["--help", "-h"] {
            let out = bin().args([command, flag]).output().expect("run hapee-lb");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{command} {flag}: {out:?}");
            assert!(
                text.contains(&format!("hapee-lb {command}")),
                "{command} {flag}: {text}"
            );
        }
    }
    // After `--`, a file may be named like a flag.
    let out = bin()
        .args(["fmt", "--check", "--", "--help"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
}

#[test]
fn fix_writes_the_fixes_shown_and_checks_again() {
    // Misspellings (errors), a mistyped allow code, a missing final line feed; once those are
    // fixed the lints appear (an unused ACL, a server not checked) and are fixed in turn.
    let text = "global\n    maxconn 100\ndefaults\n    mode http\n    timeout conect 5s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:18490\n    acl unused_one path_beg /x\n    acl is_api path_beg /api\n    use_backend api if is_api # hapee: allow(L02)\n    default_backend app\nbackend app\n    balanse roundrobin\n    server s1 127.0.0.1:9000 chekc\nbackend api\n    server a1 127.0.0.1:9001\n    option httpchk";
    let cfg = write_cfg("fix.cfg", text);
    let out = run(&["check", "--fix", "-f", cfg.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("fixed 5 problems") && said.contains("fixed 2 problems"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\nfrontend fe\n    bind 127.0.0.1:18490\n    acl is_api path_beg /api\n    use_backend api if is_api # hapee: allow(L002)\n    default_backend app\nbackend app\n    balance roundrobin\n    server s1 127.0.0.1:9000 check\nbackend api\n    server a1 127.0.0.1:9001 check\n    option httpchk\n"
    );
    // Nothing left to fix: the file is left as it is.
    let again = run(&["check", "--fix", "-f", cfg.to_str().unwrap()]);
    assert!(again.stderr.is_empty(), "{again:?}");
    // A code allowed is not fixed.
    std::fs::write(&cfg, "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:18491\n    acl unused_one path_beg /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n").unwrap();
    let allowed = run(&[
        "check",
        "--fix",
        "--allow",
        "L002",
        "-f",
        cfg.to_str().unwrap(),
    ]);
    assert!(
        !String::from_utf8_lossy(&allowed.stderr).contains("fixed"),
        "{allowed:?}"
    );
    assert!(std::fs::read_to_string(&cfg)
        .unwrap()
        .contains("unused_one"));
}

#[test]
fn acls_used_only_by_redirects_and_directives_are_not_unused() {
    // L002 counted only rule and use_backend conditions: `check --fix` removed ACLs that a
    // `redirect`, `monitor fail`, `use-server`, `stick on` or `force-persist` line uses, and
    // HAProxy then refused the configuration (found fixing broken public-corpus files).
    let text = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:18492\n    acl a1 path_beg /a\n    acl a2 path_beg /b\n    acl unused path_beg /e\n    redirect scheme https if !a1\n    monitor-uri /mon\n    monitor fail if a2\n    default_backend app\nbackend app\n    acl b1 path_beg /x\n    acl b2 path_beg /y\n    acl b3 path_beg /z\n    use-server s1 if b1\n    stick-table type ip size 1k\n    stick on src if b2\n    force-persist if b3\n    server s1 127.0.0.1:9000\n";
    let cfg = write_cfg("acl_users.cfg", text);
    let out = run(&["check", "--format", "json", "-f", cfg.to_str().unwrap()]);
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let unused: Vec<u64> = found
        .iter()
        .filter(|d| d["code"] == "L002")
        .map(|d| d["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(unused, [10], "{found:?}");
}
