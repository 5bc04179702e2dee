//! `hapee-lb route` against `hapee-lb run` on the `redirect` directive: the rule is shown as
//! written (not as the `http-request redirect` it runs as), after the proxy's `http-request`
//! rules as HAProxy runs it, and the verdict carries the Location and the cookie the proxy
//! answers with, for each form (`prefix` with `drop-query`/`append-slash`, `scheme`,
//! `location` with `set-cookie`/`clear-cookie`).

use super::harness::{free_port, Proxy};
use std::process::Command;

fn route(cfg: &std::path::Path, request: &str, headers: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hapee-lb"));
    cmd.args(["route", "--format", "json", "-f"])
        .arg(cfg)
        .arg(request);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.output().expect("run hapee-lb route");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("route prints JSON")
}

/// The status, Location and Set-Cookie the running proxy answers.
fn through_run(url: &str, headers: &[&str]) -> (u16, String, Option<String>) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-D", "-", "--max-time", "10"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    (
        status,
        field("location").unwrap_or_default(),
        field("set-cookie"),
    )
}

#[test]
fn route_shows_redirect_directives_as_written_with_the_answer_run_gives() {
    let port = free_port();
    let config = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   acl old path_beg -i /OLD\n\
         \x20   redirect prefix http://new.example.com code 301 drop-query if old\n\
         \x20   redirect scheme https code 302 if {{ hdr(host) -m end secure.example }}\n\
         \x20   redirect location /login set-cookie seen=1 if {{ path -m reg ^/acc.*t$ }}\n\
         \x20   redirect location /bye clear-cookie seen if {{ path /logout }}\n\
         \x20   redirect prefix / append-slash drop-query if {{ path_end -i .dir }}\n\
         \x20   http-request redirect location /x%[path] code 303 if {{ path_beg /ex }}\n"
    );
    let proxy = Proxy::start(&config, port);
    let cfg = proxy.dir.join("haproxy.cfg");
    let cases: [(&str, &[&str], &str); 7] = [
        (
            "/OLD/a?q=1",
            &[],
            "redirect prefix http://new.example.com code 301 drop-query if old",
        ),
        (
            "/old/b?q=2",
            &[],
            "redirect prefix http://new.example.com code 301 drop-query if old",
        ),
        (
            "/x?y=1",
            &["Host: a.secure.example"],
            "redirect scheme https code 302 if { hdr(host) -m end secure.example }",
        ),
        (
            "/account",
            &[],
            "redirect location /login set-cookie seen=1 if { path -m reg ^/acc.*t$ }",
        ),
        (
            "/logout",
            &[],
            "redirect location /bye clear-cookie seen if { path /logout }",
        ),
        (
            "/a/b.DIR?x=1",
            &[],
            "redirect prefix / append-slash drop-query if { path_end -i .dir }",
        ),
        (
            "/ex/1?y",
            &[],
            "http-request redirect location /x%[path] code 303 if { path_beg /ex }",
        ),
    ];
    for (path, headers, rule) in cases {
        let predicted = route(&cfg, &format!("GET {path}"), headers);
        let (status, location, cookie) =
            through_run(&format!("http://127.0.0.1:{port}{path}"), headers);
        let mut verdict = format!("redirect {status} {location}");
        if let Some(c) = &cookie {
            verdict.push_str(&format!(" (set-cookie: {c})"));
        }
        assert_eq!(
            predicted["verdict"],
            verdict.as_str(),
            "{path}: {predicted}"
        );
        let rules = predicted["rules"].as_array().unwrap();
        let last = rules.last().unwrap();
        assert_eq!(last["rule"], rule, "{path}: {predicted}");
        assert_eq!(last["matched"], true, "{path}: {predicted}");
        // The `redirect` directives run after the `http-request` rules, as HAProxy runs them.
        if rule.starts_with("redirect ") {
            assert!(
                rules[0]["rule"]
                    .as_str()
                    .unwrap()
                    .starts_with("http-request redirect location /x"),
                "{path}: {predicted}"
            );
        }
    }
}
