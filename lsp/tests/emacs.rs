//! hapee-lsp inside Emacs: Debian's Emacs with its eglot package, set up as docs/editors.md
//! says, opens a file, shows the server's diagnostics through flymake, hovers and follows an
//! incremental edit (`tests/emacs/drive.el`).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Whether Emacs and eglot are here; without them the test is skipped, except in CI where it
/// fails.
fn have_eglot() -> bool {
    let found = Command::new("emacs")
        .args(["--batch", "-q", "--eval", "(require 'eglot)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "emacs or eglot is missing (CI installs Debian's emacs-nox and elpa-eglot)"
        );
        eprintln!(
            "skipped: emacs with eglot is not installed (apt-get install emacs-nox elpa-eglot)"
        );
    }
    found
}

#[test]
fn emacs_eglot_shows_diagnostics_hover_and_follows_edits() {
    if !have_eglot() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hapee-emacs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A directory eglot takes for a project (it asks for one otherwise).
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n",
    )
    .unwrap();
    let out = dir.join("events");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emacs/drive.el");
    let status = Command::new("emacs")
        .args(["--batch", "-q", "-l"])
        .arg(&script)
        .env("HAPEE_LSP", env!("CARGO_BIN_EXE_hapee-lsp"))
        .env("HAPEE_EMACS_CFG", &cfg)
        .env("HAPEE_EMACS_OUT", &out)
        .env("HAPEE_EMACS_HOVER_LINE", "4")
        .env("HAPEE_EMACS_HOVER_COL", "13")
        .env("HAPEE_EMACS_SIGNATURE_LINE", "6")
        .env("HAPEE_EMACS_SIGNATURE_COL", "19")
        .env("HAPEE_EMACS_INSERT_AFTER", "10")
        .env("HAPEE_EMACS_INSERT", "    use_backend app if unused")
        .current_dir(&dir)
        .output()
        .expect("run emacs");
    assert!(status.status.success(), "{status:?}");
    let events: Vec<Value> = std::fs::read_to_string(&out)
        .expect("the driver's events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[0]["event"], "diagnostics", "{events:?}");
    let shown = events[0]["messages"].to_string();
    assert!(
        shown.contains("L002") && shown.contains("ACL 'unused'"),
        "{shown}"
    );
    assert_eq!(events[1]["event"], "hover");
    let hover = events[1]["text"].as_str().unwrap();
    assert!(hover.contains("**timeout connect**"), "{hover}");
    // eldoc's line after `timeout server `: the usage, then the delay's own doc.
    assert_eq!(events[2]["event"], "signature", "{events:?}");
    let sig = events[2]["text"].as_str().unwrap();
    assert!(
        sig.starts_with("timeout <name> <timeout>") && sig.contains("\n<timeout>: The delay"),
        "{sig:?}"
    );
    // The ACL is used once the new line is in: eglot sent the edit and flymake shows the result.
    assert_eq!(events[3]["event"], "edit");
    assert_eq!(events[3]["messages"], serde_json::json!([]), "{events:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
