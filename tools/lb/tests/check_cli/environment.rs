//! What `check` finds beyond the text, as HAProxy's `-c` does: TLS cipher lists, the open-file limit, the
//! chroot, variable names.

use super::scratch::Scratch;
use super::*;

#[test]
fn cipher_lists_openssl_rejects_fail_as_haproxy_c_says() {
    let dir = Scratch::dir(&format!("hapee-cli-{}-ciphers", std::process::id()));
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
    if haproxy_installed() {
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
    let err = env_only_failure("fd-limit.cfg", &text);
    assert!(
        err.contains("error[E408]: Cannot raise FD limit to 4014, limit is "),
        "{err}"
    );
    assert!(err.contains("fd-limit.cfg:3:13"), "{err}");
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
    // `haproxy -c` does not look at the directory; HAProxy only fails when it starts.
    let err = env_only_failure("chroot.cfg", &text);
    assert!(
        err.contains("error[E407]: Cannot chroot(/nonexistent/hapee-jail)."),
        "{err}"
    );
    // A directory passes.
    let ok = format!("global\n    chroot /\n{VALID}");
    let ok = write_cfg("chroot-ok.cfg", &ok);
    assert_eq!(run(&["check", ok.to_str().unwrap()]).status.code(), Some(0));
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
    for (rule, want) in &cases {
        assert_rule_alert_like_haproxy(rule, Some(want));
    }
    let good = "    http-request set-var(txn.a,ifnotexists) str(a),set-var(req.b_2.c,ifgt),add(-3)";
    assert_rule_alert_like_haproxy(good, None);
}

/// A file path under something that is not a folder fails with the C library's own reason
/// ("Not a directory"), as HAProxy prints `strerror`: it was "cannot be read", or "No such
/// file or directory" for a certificate. Debian's haproxy prints the same two alerts.
#[test]
fn files_under_a_plain_file_fail_with_the_system_reason() {
    let dir = write_cfg("not-a-dir", "");
    let dir = dir.to_str().unwrap();
    let text = format!(
        "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend fe\n    bind 127.0.0.1:18999 ssl crt-list {dir}/x.list\n    \
         bind 127.0.0.1:18998 ssl crt {dir}/x.pem\n    default_backend b\n\
         backend b\n    server s 127.0.0.1:2\n"
    );
    let cfg = write_cfg("not-a-dir.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let alerts = |program: &str| -> Vec<String> {
        let out = Command::new(program)
            .args(["-c", "-f", cfg])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{program}");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("parsing ["))
            .map(|l| l[l.find(") : ").map_or(0, |at| at + 4)..].to_string())
            .collect()
    };
    let ours = alerts(env!("CARGO_BIN_EXE_hapee-lb"));
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(
        ours[0].ends_with(&format!(
            "cannot open file '{dir}/x.list' : Not a directory"
        )),
        "{ours:?}"
    );
    assert!(
        ours[1].ends_with(&format!(
            "unable to stat SSL certificate from file '{dir}/x.pem' : Not a directory."
        )),
        "{ours:?}"
    );
    if haproxy_installed() {
        assert_eq!(alerts("haproxy"), ours);
    }
}

/// Server names are resolved once the configuration is read: each server without an address
/// is reported (every server of a template), a DNS SRV record (`_service._proto.name`) is not
/// asked of the system resolver, and the check ends as HAProxy's start-up ends, not as a
/// configuration error. Debian's haproxy says the same.
#[test]
fn unresolvable_server_names_end_the_check_as_haproxy_ends_it() {
    let cfg = write_cfg(
        "names.cfg",
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nlisten l\n    bind :8080\n    server b lost.invalid:80\n    server-template t 2 lost.invalid:80\n    server c _http._tcp.svc.invalid:80\n    server d _http._tcp.svc.invalid:80 resolvers dns\nresolvers dns\n    nameserver ns 127.0.0.1:53\n",
    );
    let lines = |cmd: &str| {
        let out = Command::new(cmd)
            .args(["-c", "-f"])
            .arg(&cfg)
            .output()
            .expect("run -c");
        assert_exit(&out, 1);
        alert_lines(&out)
            .iter()
            .map(|l| l.replace(&format!("{}:", cfg.display()), ""))
            .collect::<Vec<_>>()
    };
    let ours = lines(env!("CARGO_BIN_EXE_hapee-lb"));
    assert_eq!(
        ours,
        [
            "config : [7] : 'server l/b' : could not resolve address 'lost.invalid'.",
            "config : [8] : 'server l/t1' : could not resolve address 'lost.invalid'.",
            "config : [8] : 'server l/t2' : could not resolve address 'lost.invalid'.",
            "config : [9] : 'server l/c' : no method found to resolve address '_http._tcp.svc.invalid'.",
            "config : Failed to initialize server(s) addr.",
        ]
    );
    if haproxy_installed() {
        assert_eq!(lines("haproxy"), ours, "haproxy");
    }
}

/// A `crt` directory without a certificate file (empty, or holding only keys) and an empty
/// `crt-list` load no certificate: the bind has none once HAProxy has read it.
#[test]
fn certificate_words_that_load_nothing_leave_the_bind_without_a_certificate() {
    let base = Scratch::dir(&format!("hapee-cli-{}-certless", std::process::id()));
    std::fs::create_dir_all(base.join("empty")).unwrap();
    std::fs::create_dir_all(base.join("keys")).unwrap();
    std::fs::write(base.join("keys/site.key"), "").unwrap();
    std::fs::write(base.join("empty.lst"), "# nothing here\n\n").unwrap();
    let (empty, keys, list) = (
        base.join("empty").display().to_string(),
        base.join("keys").display().to_string() + "/",
        base.join("empty.lst").display().to_string(),
    );
    let text = format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind 127.0.0.1:18981 ssl crt {empty}
    bind 127.0.0.1:18982 ssl crt {keys}
    bind 127.0.0.1:18983 ssl crt-list {list}
    bind 127.0.0.1:18984 ssl crt {empty} strict-sni
    bind 127.0.0.1:18985 crt {empty}
    default_backend b
backend b
    server s1 127.0.0.1:80
"
    );
    let want = [
        "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18981' at [7] (use 'crt').",
        "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18982' at [8] (use 'crt').",
        "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18983' at [9] (use 'crt').",
        "config : Proxy 'f': no SSL certificate specified for bind '127.0.0.1:18984' at [10], ssl connections will fail (use 'crt').",
        "config : Fatal errors found in configuration.",
    ];
    assert_eq!(
        messages_after_notices(env!("CARGO_BIN_EXE_hapee-lb"), "certless", &text),
        want
    );
    if haproxy_installed() {
        assert_eq!(messages_after_notices("haproxy", "certless", &text), want);
    }
}
