//! `hapee-lb check` and `hapee-lb -c` as a user runs them: real binary, real files, exit codes
//! and output shapes of `haproxy -c`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
}

fn write_cfg(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hapee-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write cfg");
    path
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
    let dir = std::env::temp_dir().join(format!("hapee-cli-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("10-defaults.cfg"), "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n").unwrap();
    std::fs::write(dir.join("20-proxies.cfg"), "frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9000\n").unwrap();
    std::fs::write(dir.join("30-ignored.txt"), "this is not a config\n").unwrap();
    let out = run(&["check", "-f", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

#[test]
fn lua_scripts_are_loaded_and_their_names_checked_like_haproxy_c() {
    let lua = |name: &str, text: &str| write_cfg(name, text).display().to_string();
    let good = lua(
        "ok.lua",
        "local args = table.pack(...)\nassert(args[1] == 'a1')\ncore.register_action('hello', {'http-req'}, function(txn) end)\n",
    );
    let syntax = lua(
        "syntax.lua",
        "core.register_action('x', {'http-req'}, function(t)\n  local = 1\nend)\n",
    );
    let failing = lua("failing.lua", "error('at load')\n");
    let cases = [
        (
            format!("global\n    lua-load {syntax}\n"),
            format!("config : parsing [CFG:2] : error in Lua file '{syntax}': {syntax}:2: <name> expected near '='"),
        ),
        (
            format!("global\n    lua-load {failing}\n"),
            format!("config : parsing [CFG:2] : Lua runtime error: {failing}:1: at load"),
        ),
        (
            format!("global\n    lua-load {good} a1\n{}    http-request use-service lua.nosvc\n", VALID.replace("    default_backend be\n", "")),
            "config : parsing [CFG:14] : error detected in backend 'be' while parsing 'http-request use-service' rule : 'lua.nosvc' unknown service name..".to_string(),
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let cfg = write_cfg(&format!("lua{i}.cfg"), text);
        let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = expected.replace("CFG", cfg.to_str().unwrap());
        assert_eq!(alerts(&out), std::slice::from_ref(&expected));
        // Debian's haproxy (Lua 5.3) says the same where both know the case; its 2.6 has no
        // `lua-load` arguments, so the third case differs there.
        if i < 2 && Command::new("haproxy").arg("-v").output().is_ok() {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(alerts(&theirs), [expected]);
        }
    }
    // A `lua.<name>` action the scripts did not register.
    let text = format!("global\n    lua-load {good} a1\n{VALID}");
    let text = text.replace(
        "    default_backend be\n",
        "    http-request lua.helo\n    default_backend be\n",
    );
    let cfg = write_cfg("lua-action.cfg", &text);
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let found = alerts(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("'lua.hello', but got 'lua.helo'. Did you mean 'lua.hello' maybe ?"),
        "{found:?}"
    );
    // Registered names pass.
    let cfg = write_cfg("lua-ok.cfg", &text.replace("lua.helo", "lua.hello"));
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unregistered_lua_fetches_and_converters_fail_as_in_haproxy_c() {
    // Names computed at run time: only running the script (not reading it) tells them.
    let script = write_cfg(
        "samples.lua",
        "for _, n in ipairs({ 'twice' }) do core.register_fetches(n, function(txn, s) return s .. s end) end\n\
         local c = 'rev'\ncore.register_converters(c, function(s) return s:reverse() end)\n",
    );
    let lines = [
        ("    http-request set-header X-Ok %[lua.twice(a),lua.rev]\n", None),
        ("    acl ok lua.twice(a),lua.rev -m str aa\n    http-request deny if ok\n", None),
        (
            "    http-request set-header X-F %[lua.thrice(a)]\n",
            Some("error detected in backend 'be' while parsing 'http-request set-header' rule : failed to parse sample expression <lua.thrice(a)]> : unknown fetch method 'lua.thrice'."),
        ),
        (
            "    http-request set-var(txn.c) str(a),lua.unrev\n",
            Some("error detected in backend 'be' while parsing 'http-request set-var(txn.c)' rule : unknown converter 'lua.unrev'."),
        ),
        (
            "    acl bad lua.thrice(a) -m str x\n",
            Some("error detected while parsing ACL 'bad' : unknown fetch method 'lua.thrice' in ACL expression 'lua.thrice(a)'."),
        ),
        (
            "    http-request deny if { str(a),lua.unrev -m str x }\n",
            Some("error detected while parsing an 'http-request deny' condition : unknown converter 'lua.unrev' in ACL expression 'str(a),lua.unrev'."),
        ),
    ];
    let haproxy = Command::new("haproxy").arg("-v").output().is_ok();
    for (i, (line, expected)) in lines.iter().enumerate() {
        let text = format!("global\n    lua-load {}\n{VALID}{line}", script.display());
        let cfg = write_cfg(&format!("lua-samples{i}.cfg"), &text);
        let cfg = cfg.to_str().unwrap();
        let out = run(&["-c", "-f", cfg]);
        let ours = alerts(&out);
        match expected {
            None => assert_eq!(out.status.code(), Some(0), "{ours:?}"),
            Some(message) => {
                assert_eq!(out.status.code(), Some(1));
                assert_eq!(ours, [format!("config : parsing [{cfg}:15] : {message}")]);
            }
        }
        // Debian's haproxy (2.6, Lua 5.3) gives the same verdict and line.
        if haproxy {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg])
                .output()
                .unwrap();
            assert_eq!(theirs.status.code(), out.status.code(), "{ours:?}");
            assert_eq!(alerts(&theirs), ours);
        }
    }
}

/// A configuration large enough to be built on several threads: an unregistered `lua.<name>`
/// is refused wherever it stands, not only in the bodies the first thread builds.
#[test]
fn unregistered_lua_fetches_are_found_by_every_thread_of_a_large_build() {
    let script = write_cfg(
        "parallel.lua",
        "core.register_fetches('yes', function(txn) return 'y' end)\n",
    );
    let mut text = format!(
        "global\n    lua-load {}\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend f\n    bind 127.0.0.1:18080\n    default_backend b0\n",
        script.display()
    );
    let mut wrong = Vec::new();
    for i in 0..2000 {
        let fetch = if i % 100 == 7 { "nope" } else { "yes" };
        text.push_str(&format!(
            "backend b{i}\n    http-request set-header X %[lua.{fetch}]\n"
        ));
        if fetch == "nope" {
            wrong.push(text.lines().count());
        }
        for h in ["Y", "Z", "W"] {
            text.push_str(&format!("    http-request set-header {h} {i}\n"));
        }
        text.push_str(&format!("    server s{i} 127.0.0.1:{}\n", 10000 + i));
    }
    // Above the compiler's threshold for building proxy bodies on several threads (8,192 lines).
    assert!(
        text.lines().count() > 10_000,
        "large enough for a parallel build"
    );
    let cfg = write_cfg("lua-parallel.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--format", "json", "-f", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let errors: Vec<u64> = found
        .as_array()
        .expect("a list of diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["start"]["line"].as_u64())
        .collect();
    for line in &wrong {
        assert!(
            errors.contains(&(*line as u64)),
            "line {line} missing in {errors:?}"
        );
    }
    // HAProxy stops at an HTTP rule it cannot parse, and so does `-c`: only the first is told.
    let out = run(&["-c", "-f", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let ours = alerts(&out);
    let first = format!("config : parsing [{cfg}:{}] : ", wrong[0]);
    assert!(ours[0].starts_with(&first), "{first} not first in {ours:?}");
    assert!(
        !ours
            .iter()
            .any(|a| a.contains(&format!("[{cfg}:{}]", wrong[1]))),
        "{ours:?}"
    );
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

#[test]
fn cipher_lists_openssl_rejects_fail_as_haproxy_c_says() {
    let dir = write_cfg("ciphers-cert.pem", "")
        .parent()
        .unwrap()
        .to_path_buf();
    let (key, crt) = (dir.join("ciphers-key.pem"), dir.join("ciphers-crt.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output();
    let Ok(made) = made else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is not installed, and CI=true requires it (see .ci/run)"
        );
        eprintln!("skipped: openssl is not installed");
        return;
    };
    assert!(made.status.success());
    let pem = std::fs::read_to_string(&crt).unwrap() + &std::fs::read_to_string(&key).unwrap();
    let cert = write_cfg("ciphers-cert.pem", &pem);
    let cert = cert.display();
    let cfg = write_cfg(
        "ciphers.cfg",
        &format!(
            "global
    ssl-default-bind-ciphers NOPE:ALSO-NOPE
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind 127.0.0.1:18999 ssl crt {cert}
    bind 127.0.0.1:18998 ssl crt {cert} ciphers ECDHE-RSA-AES128-GCM-SHA256 ciphersuites BOGUS
    bind 127.0.0.1:18997 ssl crt {cert} ciphers FOO:+BAR:!ALL:HIGH
    bind 127.0.0.1:18996 ssl crt {cert} ciphers kEECDH+aRSA:!aNULL ciphersuites BOGUS:TLS_AES_128_GCM_SHA256
    default_backend b
backend b
    server s1 127.0.0.1:443 ssl verify none ciphers WRONG
    server s2 127.0.0.1:443 ssl verify none ciphersuites TLS_AES_128_GCM_SHA256:X
    server s3 127.0.0.1:443 ciphers WRONG
"
        ),
    );
    let cfg = cfg.to_str().unwrap();
    let out = run(&["-c", "-f", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let ours = alert_lines(&out);
    let bind = |list: &str, what: &str, port: u16, line: u16| {
        format!("Proxy 'f': unable to set {what} to '{list}' for bind '127.0.0.1:{port}' at [{cfg}:{line}].")
    };
    let expected = [
        format!("config : [{cfg}:15] : 'server b/s1' : unable to set SSL cipher list to 'WRONG'."),
        format!(
            "config : {}",
            bind("NOPE:ALSO-NOPE", "SSL cipher list", 18999, 9)
        ),
        bind("NOPE:ALSO-NOPE", "SSL cipher list", 18999, 9),
        format!(
            "config : {}",
            bind("BOGUS", "TLS 1.3 cipher suites", 18998, 10)
        ),
        bind("BOGUS", "TLS 1.3 cipher suites", 18998, 10),
        format!(
            "config : {}",
            bind("FOO:+BAR:!ALL:HIGH", "SSL cipher list", 18997, 11)
        ),
        bind("FOO:+BAR:!ALL:HIGH", "SSL cipher list", 18997, 11),
        "config : Fatal errors found in configuration.".to_string(),
    ];
    assert_eq!(ours, expected);
    // Debian's haproxy 2.6 prepares TLS contexts as 2.7 does, with the same messages.
    if Command::new("haproxy").arg("-v").output().is_ok() {
        let theirs = Command::new("haproxy")
            .args(["-c", "-f", cfg])
            .output()
            .unwrap();
        assert_eq!(alert_lines(&theirs), expected);
    }
    // `check` points at the list.
    let out = run(&["check", cfg]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("error[E265]"), "{text}");
    assert!(
        text.contains("OpenSSL selects no cipher from this list"),
        "{text}"
    );
}

/// The open files the global `maxconn` needs (HAProxy's `maxsock`: 10 spare, one listener,
/// two per connection, three per thread) past `fd-hard-limit`: `run` refuses to start, so
/// `check` says so where `maxconn` is; `haproxy -c` does not look.
#[test]
fn maxconn_past_the_open_file_limit_fails_check_but_not_the_haproxy_c() {
    let text = format!("global\n    nbthread 1\n    maxconn 2000\n    fd-hard-limit 3000\n{VALID}");
    let cfg = write_cfg("fd-limit.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    assert_eq!(run(&["-c", "-f", cfg]).status.code(), Some(0));
    let out = run(&["check", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[E408]: Cannot raise FD limit to 4014, limit is "),
        "{err}"
    );
    assert!(err.contains("fd-limit.cfg:3:13"), "{err}");
    assert_eq!(run(&["check", "--no-env", cfg]).status.code(), Some(0));
    // What fits passes.
    let ok = write_cfg(
        "fd-limit-ok.cfg",
        &format!("global\n    maxconn 100\n{VALID}"),
    );
    assert_eq!(run(&["check", ok.to_str().unwrap()]).status.code(), Some(0));
}

#[test]
fn chroot_that_is_no_directory_fails_check_but_not_the_haproxy_c() {
    let text = format!("global\n    chroot /nonexistent/hapee-jail\n{VALID}");
    let cfg = write_cfg("chroot.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    // `haproxy -c` does not look at the directory; HAProxy only fails when it starts.
    assert_eq!(run(&["-c", "-f", cfg]).status.code(), Some(0));
    let out = run(&["check", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[E407]: Cannot chroot(/nonexistent/hapee-jail)."),
        "{err}"
    );
    // A directory passes; --no-env skips the look.
    let ok = format!("global\n    chroot /\n{VALID}");
    let ok = write_cfg("chroot-ok.cfg", &ok);
    assert_eq!(run(&["check", ok.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(run(&["check", "--no-env", cfg]).status.code(), Some(0));
}

/// HAProxy raises the open-file limit before it changes root: with both a limit it cannot
/// have and a chroot folder that is not there, it stops on the limit, and `check` says that
/// too (it said only the chroot). Debian's haproxy, started, says the same.
#[test]
fn open_file_limit_is_reported_when_the_chroot_is_missing_too() {
    let text = format!(
        "global\n    nbthread 1\n    maxconn 2000\n    fd-hard-limit 3000\n    chroot /nonexistent/hapee-jail\n{VALID}"
    );
    let cfg = write_cfg("fd-limit-chroot.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // "limit is" the lower of this process's limit and fd-hard-limit.
    let (fd, chroot) = (
        err.find("error[E408]: Cannot raise FD limit to 4014, limit is "),
        err.find("error[E407]: Cannot chroot("),
    );
    assert!(fd.is_some() && chroot.is_some() && fd < chroot, "{err}");
    let limit = err
        .lines()
        .find_map(|l| l.strip_prefix("error[E408]: "))
        .unwrap();
    // It fails before binding anything, so starting it needs no free port.
    if let Ok(theirs) = Command::new("haproxy").args(["-db", "-f", cfg]).output() {
        let said = String::from_utf8_lossy(&theirs.stderr);
        let first = said.lines().find(|l| l.starts_with("[ALERT]"));
        assert!(first.is_some_and(|l| l.ends_with(limit)), "{said}");
    }
}

/// Variable names where HAProxy registers one: the actions' words (scope, characters,
/// conditions), the `var` fetch and the converters that take a variable. hapee accepted them
/// all (a public configuration's `set-var(txt.weird_cookie)`).
#[test]
fn variable_names_are_refused_as_haproxy_refuses_them() {
    let scope = "A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'";
    let cases = [
        (
            "    http-request set-var(txt.user) req.hdr(x-user)",
            format!("config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request set-var(txt.user)' rule : invalid variable name 'txt.user'. {scope}."),
        ),
        (
            "    http-request set-var(txn.a-b,ifexists) str(a)",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request set-var(txn.a-b,ifexists)' rule : invalid syntax at char '-b,ifexists)'.".into(),
        ),
        (
            "    http-response unset-var(txn.a,ifexists)",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-response unset-var(txn.a,ifexists)' rule : unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions.".into(),
        ),
        (
            "    tcp-request content set-var(sess.a,ifbogus) str(a)",
            "config : parsing [10] : unknown condition \"ifbogus\"".into(),
        ),
        (
            "    http-request deny if { var(txt.b) -m found }",
            format!("config : parsing [10] : error detected while parsing an 'http-request deny' condition : invalid args in fetch method 'var' : invalid variable name 'txt.b'. {scope} in ACL expression 'var(txt.b)'."),
        ),
        (
            "    http-request set-header x %[int(1),add(txt.b)]",
            "config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <int(1),add(txt.b)]> : invalid args in converter 'add' : expects an integer or a variable name.".into(),
        ),
    ];
    let haproxy = Command::new("haproxy").arg("-v").output().is_ok();
    for (rule, want) in &cases {
        let ours = rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), "", rule);
        assert_eq!(ours.as_deref(), Some(want.as_str()), "{rule}");
        if haproxy {
            assert_eq!(rule_alert("haproxy", "", rule), ours, "haproxy on {rule}");
        }
    }
    let good = "    http-request set-var(txn.a,ifnotexists) str(a),set-var(req.b_2.c,ifgt),add(-3)";
    assert_eq!(rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), "", good), None);
    if haproxy {
        assert_eq!(rule_alert("haproxy", "", good), None);
    }
}

/// `-c` on `rule` (one line in a frontend with a table), by `cmd` (`hapee-lb` or `haproxy`);
/// the first alert, without the file name, or `None` when the configuration is valid.
fn rule_alert(cmd: &str, global: &str, rule: &str) -> Option<String> {
    // Tests run side by side: each call has a file of its own.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cfg = write_cfg(
        &format!("rule-{n}.cfg"),
        &format!(
            "global
{global}defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:18995
    stick-table type ip size 1k expire 1m store http_req_rate(10s),gpc(2),gpt(2)
{rule}
"
        ),
    );
    let out = Command::new(cmd)
        .args(["-c", "-f"])
        .arg(&cfg)
        .output()
        .expect("run -c");
    let file = format!("{}:", cfg.display());
    alerts(&out).first().map(|l| l.replace(&file, ""))
}

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
    let haproxy = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok();
    for (rule, want) in cases {
        let ours = rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), "", rule);
        assert_eq!(ours.as_deref(), Some(want), "{rule}");
        if haproxy {
            assert_eq!(rule_alert("haproxy", "", rule), ours, "haproxy on {rule}");
        }
    }
    // A fetch naming a counter the session does not have is accepted: it finds nothing.
    let fetch = "    http-request set-header x %[sc_http_req_rate(7)]";
    assert_eq!(rule_alert(env!("CARGO_BIN_EXE_hapee-lb"), "", fetch), None);
    if haproxy {
        assert_eq!(rule_alert("haproxy", "", fetch), None);
    }
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
    let haproxy = Command::new("haproxy").arg("-v").output().is_ok();
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
