//! Where `hapee-lb check` finds `.hapee.toml`: in the folder of the first `-f` argument (a
//! folder itself, a file's folder), then in its parents up to the repository root, else in the
//! working directory. The language server finds it the same way (lsp/tests/workspace.rs).

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
fn tree(name: &str) -> (PathBuf, PathBuf) {
    let top = std::env::temp_dir().join(format!("hapee-settings-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
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
    let _ = std::fs::remove_dir_all(&top);
}
