//! `hapee-lb check` reports for CI and people: SARIF for code scanning, and a human output that
//! groups a code seen many times (JSON and SARIF stay complete).

// Only folders here: its single-file guard goes unused.
#[path = "check_cli/cfg_file.rs"]
mod cfg_file;
#[allow(dead_code)]
#[path = "runtime/harness_scratch.rs"]
mod scratch;
use cfg_file::CfgFile;
use scratch::Scratch;
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(args)
        .output()
        .expect("run hapee-lb")
}

/// A configuration with `n` backends, each routed by an exact Host match (one L009 each).
fn many_warnings(n: usize) -> CfgFile {
    let mut text = String::from("global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n");
    for i in 0..n {
        text.push_str(&format!(
            "    use_backend b{i} if {{ hdr(host) -i app{i}.example.com }}\n"
        ));
    }
    text.push_str("    default_backend b0\n");
    for i in 0..n {
        text.push_str(&format!(
            "backend b{i}\n    server s 127.0.0.1:{}\n",
            9000 + i
        ));
    }
    CfgFile::write("hapee-reports", &format!("many-{n}.cfg"), &text)
}

#[test]
fn human_output_groups_repeated_codes_and_all_shows_them() {
    let cfg = many_warnings(40);
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", cfg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("warning[L009]").count(), 5, "{err}");
    assert!(
        err.contains("... and 35 more L009 (host-with-port)"),
        "{err}"
    );
    // The summary still counts every warning.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("40 warnings"), "{stdout}");
    let all = run(&["check", "--all", cfg]);
    let err = String::from_utf8_lossy(&all.stderr);
    assert_eq!(err.matches("warning[L009]").count(), 40);
    assert!(!err.contains("more L009"));
    let json = run(&["check", "--format", "json", cfg]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v.as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "L009")
            .count(),
        40
    );
}

#[test]
fn sarif_output_is_complete_with_rules_locations_and_fixes() {
    let cfg = many_warnings(12);
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--format", "sarif", cfg]);
    assert_eq!(out.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "hapee-lb");
    let results = run0["results"].as_array().unwrap();
    let l009: Vec<_> = results.iter().filter(|r| r["ruleId"] == "L009").collect();
    assert_eq!(l009.len(), 12);
    let region = &l009[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 10, "{region}");
    assert_eq!(l009[0]["level"], "warning");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = &rules[l009[0]["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "L009");
    assert_eq!(rule["name"], "host-with-port");
    // An error with a fix carries it as a SARIF fix.
    let bad = CfgFile::write(
        "hapee-reports",
        "bad.cfg",
        "defaults\n    timeout cliet 5s\n",
    );
    let out = run(&["check", "--format", "sarif", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e209 = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "E209")
        .cloned()
        .expect("E209");
    assert_eq!(e209["level"], "error");
    let replacement = &e209["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "client");
}

#[test]
fn pre_commit_hooks_run_check_and_fmt() {
    let hooks = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.pre-commit-hooks.yaml"
    ))
    .expect(".pre-commit-hooks.yaml at the repository root");
    let hooks = hook_entries(&hooks);
    let ids: Vec<&str> = hooks.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["hapee-check", "hapee-fmt"]);
    let dir = Scratch::dir(&format!("hapee-hooks-{}", std::process::id()));
    let good = dir.join("haproxy-good.cfg");
    std::fs::write(
        &good,
        "defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:8080
    default_backend be

backend be
    server s1 127.0.0.1:9000
",
    )
    .unwrap();
    let bad = dir.join("haproxy-bad.cfg");
    std::fs::write(
        &bad,
        "defaults
  timeout cliet 5s
",
    )
    .unwrap();
    // As pre-commit runs a `language: system` hook: the entry, then the staged files.
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    let path = format!(
        "{}:{}",
        bin_dir.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let hook = |entry: &str, files: &[&PathBuf]| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("{entry} \"$@\""))
            .arg("--")
            .args(files)
            .env("PATH", &path)
            .output()
            .expect("run the hook")
            .status
            .code()
    };
    for (id, entry) in &hooks {
        assert_eq!(hook(entry, &[&good]), Some(0), "{id} on a clean file");
        assert_eq!(hook(entry, &[&good, &bad]), Some(1), "{id} with a bad file");
    }
}

/// `(id, entry)` of each hook: the two keys of `.pre-commit-hooks.yaml` the test needs.
fn hook_entries(yaml: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in yaml.lines().map(str::trim) {
        if let Some(id) = line.strip_prefix("- id:") {
            out.push((id.trim().to_string(), String::new()));
        } else if let (Some(entry), Some(last)) = (line.strip_prefix("entry:"), out.last_mut()) {
            last.1 = entry.trim().to_string();
        }
    }
    out
}
