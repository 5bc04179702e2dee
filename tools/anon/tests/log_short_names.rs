//! Names of one to three characters (`fe`, `db`, `s1`, a user `al`) in logs written by Debian's
//! haproxy: gone from every line, with and without `--config`, including HAProxy's own event
//! lines (`Server db/s2 is DOWN`, `backend ab has no server available!`) and a custom format's
//! lines read without the configuration; each name gets the token `hapee-anon config` gives it.

mod common;

use common::*;
use std::process::Command;

/// The words of `text`: its runs of letters and digits.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn short_names_leave_no_line_with_or_without_the_configuration() {
    if !have_haproxy() {
        return;
    }
    let [fe, web, origin, closed] = [0; 4].map(|_| free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-short-{}", std::process::id()));
    let cfg = format!(
        r#"global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{fe}
    capture request header X-User len 32
    log-format "%ci %ft %b/%s %ST user=%[capture.req.hdr(0)] %HU"
    default_backend db
frontend web
    bind 127.0.0.1:{web}
    use_backend ab if {{ path /ab }}
    default_backend db
backend db
    # Every request to s1, the one server that answers, even before the checks ran.
    balance first
    option httpchk
    server s1 127.0.0.1:{origin} check inter 200ms
    server s2 127.0.0.1:{closed} check inter 200ms
    server bob 127.0.0.1:{closed} check inter 200ms
backend ab
    server x 127.0.0.1:{closed} check inter 200ms
frontend o
    bind 127.0.0.1:{origin}
    http-request return status 200 content-type text/plain string ok
"#
    );
    let traffic = || {
        for (port, path) in [(fe, "/a?u=ed"), (web, "/db"), (web, "/ab")] {
            let out = Command::new("curl")
                .args(["-s", "--max-time", "10", "-H", "X-User: al"])
                .arg(format!("http://127.0.0.1:{port}{path}"))
                .output()
                .expect("curl is installed");
            assert!(out.status.success(), "{out:?}");
        }
    };
    let complete = |log: &str| {
        [
            "db/s2 is DOWN",
            "db/bob is DOWN",
            "ab has no server",
            " user=al ",
        ]
        .iter()
        .all(|l| log.contains(l))
            && log.matches(" web ").count() >= 2
    };
    let log = haproxy_log(&dir, &cfg, &[fe, web, origin], traffic, complete);
    let anon_cfg = anonymized_config(&dir, "k1");
    let token = |line: &str| token_of(&cfg, &anon_cfg, line);
    let names = ["fe", "web", "db", "ab", "s1", "s2", "bob", "x", "o"];
    let tokens: Vec<String> = [
        "frontend fe",
        "frontend web",
        "backend db",
        "backend ab",
        "server s1",
        "server s2",
        "server bob",
        "server x",
        "frontend o",
    ]
    .iter()
    .map(|l| token(l))
    .collect();
    let log_path = dir.join("haproxy.log");
    let cfg_path = dir.join("haproxy.cfg");
    for with_config in [true, false] {
        let mut args = vec!["log", "--key", "k1"];
        if with_config {
            args.extend(["--config", cfg_path.to_str().unwrap()]);
        }
        args.push(log_path.to_str().unwrap());
        let out = anon(&args);
        assert_eq!(out.lines().count(), log.lines().count(), "{out}");
        for (original, anonymized) in log.lines().zip(out.lines()) {
            for w in words(anonymized) {
                assert!(
                    !names.contains(&w) && !["al", "ed"].contains(&w),
                    "'{w}' left (config: {with_config}) in:\n{anonymized}\nfrom:\n{original}"
                );
            }
        }
        let (db, ab, s2, bob) = (&tokens[2], &tokens[3], &tokens[5], &tokens[6]);
        for event in [
            format!("Server {db}/{s2} is DOWN, reason: Layer4 connection problem"),
            format!("Server {db}/{bob} is DOWN, reason: Layer4 connection problem"),
            format!("backend {ab} has no server available!"),
        ] {
            assert!(
                out.contains(&event),
                "{event} (config: {with_config}):\n{out}"
            );
        }
        // Traffic lines: the names of the frontends and the backend each line went through.
        let (fe_t, web_t, s1) = (&tokens[0], &tokens[1], &tokens[4]);
        assert!(
            out.contains(&format!(" {fe_t} {db}/{s1} 200 user=")),
            "(config: {with_config}):\n{out}"
        );
        assert!(
            out.contains(&format!("] {web_t} {db}/{s1} ")),
            "(config: {with_config}):\n{out}"
        );
        assert!(
            out.contains(&format!("] {web_t} {ab}/")),
            "(config: {with_config}):\n{out}"
        );
    }
}
