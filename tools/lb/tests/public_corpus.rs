//! Parity with HAProxy 2.7.0's `-c` on public configurations no other test was written from:
//! `testdata/public-corpus/`, real `haproxy.cfg` files from public repositories, each with the
//! verdict of an HAProxy 2.7.0 built from its source tag (see that folder's README).
//!
//! Each configuration is copied alone into an empty directory and checked there by the real
//! binary, `hapee-lb -c`, as HAProxy checked it: the files it names mostly do not exist, and
//! finding that is part of the verdict. The figures are printed; the floors below are what the
//! checker reached, so a change that loses agreement fails.

use hapee_compiler::testkit::{alert_line, read_index, Parity};
// Only folders here: its single-file guard goes unused.
#[allow(dead_code)]
#[path = "runtime/harness_scratch.rs"]
mod scratch;
use scratch::Scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// HAProxy accepted the configuration and so did `hapee-lb -c`.
const VALID_AGREED_AT_LEAST: usize = 428;
/// HAProxy rejected it and `hapee-lb -c` reported an error.
const CAUGHT_AT_LEAST: usize = 614;
/// … on the line of HAProxy's first alert (or HAProxy's alert names no line).
const SAME_LINE_AT_LEAST: usize = 614;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/public-corpus")
}

/// `hapee-lb -c [args] -f <file>` run in `dir`: its errors as (line, text), from the `[ALERT]`
/// lines it prints, plus one for a non-zero exit that printed none (no listener: exit 2). None
/// when it exits 0: like HAProxy, it prints a few notes at the alert level without failing
/// ("'maxconn' already specified. Continuing.").
fn check(dir: &Path, file: &str, args: &str) -> Vec<(u32, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .arg("-c")
        .args(args.split_whitespace())
        .args(["-f", file])
        .current_dir(dir)
        // HAProxy's verdicts were made with no HAPROXY_* variable set.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("run hapee-lb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut errors: Vec<(u32, String)> = stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        // The closing summary lines name the file, not a line.
        .filter(|l| {
            !l.contains("Error(s) found in configuration file") && !l.contains("Fatal errors found")
        })
        .map(|l| (alert_line(l).unwrap_or(0), l.to_string()))
        .collect();
    if out.status.code() == Some(0) {
        return Vec::new();
    }
    if errors.is_empty() {
        errors.push((
            0,
            format!(
                "exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).trim()
            ),
        ));
    }
    errors
}

#[test]
fn public_configurations_match_haproxy_2_7() {
    let root = corpus();
    let scratch = Scratch::dir(&format!("hapee-public-corpus-{}", std::process::id()));
    let mut parity = Parity::default();
    for row in read_index(&root.join("index.tsv")) {
        let (file, exit) = (&row["file"], &row["haproxy27_exit"]);
        if exit != "0" && exit != "1" {
            continue;
        }
        let dir = scratch.join(file.trim_end_matches(".cfg"));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        std::fs::copy(root.join(file), dir.join(file)).expect("copy the configuration");
        let errors = check(&dir, file, &row["args"]);
        parity.judge(file, exit, &row["haproxy27_first_alert"], &errors);
    }
    println!("public-corpus: {}", parity.summary());
    for miss in &parity.misses {
        println!("  {miss}");
    }
    assert!(
        parity.valid >= 303 && parity.invalid >= 429,
        "corpus too small: {} valid, {} invalid",
        parity.valid,
        parity.invalid
    );
    assert!(
        parity.valid_agreed >= VALID_AGREED_AT_LEAST
            && parity.caught >= CAUGHT_AT_LEAST
            && parity.same_line >= SAME_LINE_AT_LEAST,
        "parity fell below its floor ({}):\n{}",
        parity.summary(),
        parity.misses.join("\n")
    );
}
