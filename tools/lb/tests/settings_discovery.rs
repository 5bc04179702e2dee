//! Where `hapee-lb check` finds `.hapee.toml`: in the folder of the first `-f` argument (a
//! folder itself, a file's folder), then in its parents up to the repository root, else in the
//! working directory. The language server finds it the same way (lsp/tests/workspace.rs).

// Only folders here: its single-file guard goes unused.
#[allow(dead_code)]
#[path = "runtime/harness_scratch.rs"]
mod scratch;
use scratch::Scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A valid configuration with one warning, L015 (no global maxconn).
const CONFIG: &str = "global
    log stdout local0
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:18099
    default_backend b
backend b
    server s 127.0.0.1:18080
";

/// `outer/repo/conf/haproxy.d/10-site.cfg`, with `repo` a repository (`.git`), and an empty
/// working directory outside all of it.
fn tree(name: &str) -> (Scratch, PathBuf) {
    let top = Scratch::dir(&format!("hapee-settings-{name}-{}", std::process::id()));
    let conf = top.join("outer/repo/conf/haproxy.d");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::create_dir_all(top.join("outer/repo/.git")).unwrap();
    std::fs::create_dir_all(top.join("elsewhere")).unwrap();
    std::fs::write(conf.join("10-site.cfg"), CONFIG).unwrap();
    (top, conf)
}

fn levels(dir: &Path, code: &str, level: &str) {
    std::fs::write(
        dir.join(".hapee.toml"),
        format!("[lints]\n{level} = [\"{code}\"]\n"),
    )
    .unwrap();
}

/// The exit code of `check -f arg` run in `cwd`, and whether L015 was reported.
fn check(cwd: &Path, arg: &Path) -> (i32, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["check", "--format", "json", "-f"])
        .arg(arg)
        .current_dir(cwd)
        .output()
        .expect("run hapee-lb");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), stdout.contains("\"L015\""))
}

#[test]
fn settings_are_found_from_the_configuration_folder_up_to_the_repository_root() {
    let (top, conf) = tree("walk");
    let elsewhere = top.join("elsewhere");
    let repo = top.join("outer/repo");
    let file = conf.join("10-site.cfg");
    assert_eq!(check(&elsewhere, &conf), (0, true), "no settings anywhere");
    // At the repository root: found from a `-f` folder and from a file two folders down.
    levels(&repo, "L015", "allow");
    assert_eq!(
        check(&elsewhere, &conf),
        (0, false),
        "-f DIR, root settings"
    );
    assert_eq!(
        check(&elsewhere, &file),
        (0, false),
        "-f FILE, root settings"
    );
    // In the `-f` folder itself: it comes before the root's.
    levels(&conf, "L015", "deny");
    assert_eq!(
        check(&elsewhere, &conf),
        (1, true),
        "-f DIR, its own settings"
    );
    assert_eq!(
        check(&elsewhere, &file),
        (1, true),
        "-f FILE, its folder's settings"
    );
    // A relative `-f` path is walked up from the working directory.
    assert_eq!(
        check(&conf, Path::new("10-site.cfg")),
        (1, true),
        "relative"
    );
    // Above the repository root, settings are not looked for: the working directory's are.
    std::fs::remove_file(conf.join(".hapee.toml")).unwrap();
    std::fs::remove_file(repo.join(".hapee.toml")).unwrap();
    levels(&top.join("outer"), "L015", "deny");
    assert_eq!(check(&elsewhere, &conf), (0, true), "above the repository");
    levels(&elsewhere, "L015", "allow");
    assert_eq!(
        check(&elsewhere, &conf),
        (0, false),
        "the working directory's"
    );
}

/// A code that names no rule, in an allow comment or in `.hapee.toml`, is L023 at its own
/// place with the code it most likely meant; the rest of the settings still apply, `-c` (no
/// lints) says nothing of it, and `.hapee.toml` can allow L023 itself.
#[test]
fn settings_naming_no_rule_are_reported_where_they_are_written() {
    let (_top, conf) = tree("unknown");
    let file = conf.join("10-site.cfg");
    std::fs::write(
        &file,
        CONFIG.replace(
            "\nbackend b\n",
            "\nbackend b # hapee: allow(L01, unused-backnd, E301) #hapee: ignore(L015)\n",
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join(".hapee.toml"),
        "[lints]\nallow = [\"L0015\", \"L001\"]\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(args)
            .arg(&file)
            .current_dir(&conf)
            .output()
            .expect("run hapee-lb");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, json) = run(&["check", "--format", "json", "-f"]);
    assert_eq!(code, 0, "{json}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let l023: Vec<(String, u64, u64, String)> = found
        .iter()
        .filter(|d| d["code"] == "L023")
        .map(|d| {
            let file = d["file"].as_str().unwrap();
            let name = Path::new(file).file_name().unwrap().to_string_lossy();
            let fix = d["fix"]["edits"][0]["replacement"].as_str().unwrap_or("");
            (
                name.into_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["start"]["column"].as_u64().unwrap(),
                fix.to_string(),
            )
        })
        .collect();
    let expected = [
        ("10-site.cfg", 11, 26, "L001"),
        ("10-site.cfg", 11, 31, "unused-backend"),
        ("10-site.cfg", 11, 46, ""),
        ("10-site.cfg", 11, 60, ""),
        (".hapee.toml", 2, 11, "L015"),
    ];
    let expected: Vec<(String, u64, u64, String)> = expected
        .iter()
        .map(|(f, l, c, s)| (f.to_string(), *l, *c, s.to_string()))
        .collect();
    assert_eq!(l023, expected, "{json}");
    // The entry that names a rule still applies; the mistyped one does not.
    assert!(found.iter().any(|d| d["code"] == "L015"), "{json}");
    // The human output names the settings file with its line and column.
    let (_, human) = run(&["check", "-f"]);
    assert!(human.contains(".hapee.toml:2:11"), "{human}");
    assert!(human.contains("did you mean 'L015'?"), "{human}");
    // HAProxy's own mode reports no lint.
    let (_, haproxy) = run(&["-c", "-f"]);
    assert!(
        !haproxy.contains("L023") && !haproxy.contains("unknown lint"),
        "{haproxy}"
    );
    // L023 itself can be allowed.
    std::fs::write(
        conf.join(".hapee.toml"),
        "[lints]\nallow = [\"unknown-lint-code\"]\n",
    )
    .unwrap();
    let (_, json) = run(&["check", "--format", "json", "-f"]);
    assert!(!json.contains("L023"), "{json}");
}
