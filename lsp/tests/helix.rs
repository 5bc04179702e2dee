//! hapee-lsp inside Helix: Debian trixie's `hx` with the `languages.toml` docs/editors.md gives
//! runs in a tmux pane (Helix has no headless mode); the test types keys and reads the screen:
//! the diagnostics picker with the codes, a hover, an edit typed in insert mode, and the lint
//! level of the workspace's `.hapee.toml`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Where .ci/run unpacks trixie's `hx` and the glibc it needs (bookworm's is too old for it), with
/// an `hx` script that starts it through that glibc's loader; `HAPEE_HELIX` names another `hx`.
const HELIX: &str = "/opt/hapee-helix/hx";
const INSTALL: &str = "apt-get download hx libc6 from trixie into /opt/hapee-helix (see .ci/run)";

/// `hx` when it and tmux run; without them the test is skipped, except in CI where it fails.
fn helix() -> Option<String> {
    let hx = std::env::var("HAPEE_HELIX").unwrap_or(HELIX.into());
    let runs = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs(&hx, "--version") && runs("tmux", "-V") {
        return Some(hx);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{hx} or tmux is missing (CI installs them: {INSTALL})"
    );
    eprintln!("skipped: {hx} or tmux is missing ({INSTALL})");
    None
}

/// A tmux server of the test's own (its socket named after the process), running Helix in
/// one pane; dropping it ends tmux, Helix and the language server.
struct Pane {
    socket: String,
}

impl Pane {
    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        out
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "hx", key]);
            // Helix reads an Escape followed at once by a key as Alt+key.
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn screen(&self) -> String {
        String::from_utf8(self.tmux(&["capture-pane", "-p", "-t", "hx"]).stdout).unwrap()
    }

    /// Waits (up to 60 s) until the screen `after` shows satisfies `wanted`; that screen.
    fn screen_when(&self, after: &[&str], wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.keys(after);
            let screen = self.screen();
            if wanted(&screen) || Instant::now() > deadline {
                return screen;
            }
            self.keys(&["Escape"]);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn start(hx: &str, dir: &Path, file: &str) -> Pane {
    let lsp_dir = Path::new(env!("CARGO_BIN_EXE_hapee-lsp")).parent().unwrap();
    let path = format!(
        "{}:{}",
        lsp_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pane = Pane {
        socket: format!("hapee-helix-{}", std::process::id()),
    };
    // `env` rather than tmux's own environment: the command starts in a shell that could reset
    // PATH, and the configuration is the test's, in its directory.
    pane.tmux(&[
        "new-session",
        "-d",
        "-s",
        "hx",
        "-x",
        "200",
        "-y",
        "40",
        "-c",
        &dir.display().to_string(),
        "env",
        &format!("PATH={path}"),
        &format!("HOME={}", dir.display()),
        &format!("XDG_CONFIG_HOME={}", dir.join("config").display()),
        hx,
        file,
    ]);
    pane
}

/// The languages.toml block of docs/editors.md, as a user would copy it.
fn documented_languages_toml() -> String {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/editors.md");
    let doc = std::fs::read_to_string(doc).unwrap();
    let helix = &doc[doc.find("## Helix").expect("a Helix section")..];
    let start = helix.find("```toml\n").expect("a toml block") + "```toml\n".len();
    helix[start..start + helix[start..].find("```").unwrap()].to_string()
}

#[test]
fn helix_shows_diagnostics_hover_and_follows_edits() {
    let Some(hx) = helix() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("hapee-helix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("config/helix")).unwrap();
    std::fs::write(
        dir.join("config/helix/languages.toml"),
        documented_languages_toml(),
    )
    .unwrap();
    // Helix takes the directory with .git for the workspace root, and the server reads its
    // .hapee.toml: the unused ACL is an error there.
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".hapee.toml"), "[lints]\ndeny = [\"L002\"]\n").unwrap();
    std::fs::write(
        dir.join("haproxy.cfg"),
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n",
    )
    .unwrap();
    let pane = start(&hx, &dir, "haproxy.cfg");

    // The document's diagnostics picker (space d): severity, code and message.
    let picker = ["Space", "d"];
    let opened = pane.screen_when(&picker, |s| s.contains("L002"));
    assert!(
        opened.contains("ERROR    L002 ACL 'unused' is declared but never used in frontend 'fe'"),
        "{opened}"
    );
    assert!(!opened.contains("E241"), "{opened}");
    pane.keys(&["Escape"]);

    // Hover (space k) on `connect` of `timeout connect`, line 5 column 13.
    pane.keys(&[":5", "Enter", "12l"]);
    // (The popup's text: the file itself shows `timeout connect` too.)
    let documented = "timeout connect (stable) — Maximum time to establish a connection";
    let hover = pane.screen_when(&["Space", "k"], |s| s.contains(documented));
    assert!(hover.contains(documented), "{hover}");
    pane.keys(&["Escape"]);

    // A line typed after the ACL uses it, in a rule naming a missing backend.
    pane.keys(&[":10", "Enter", "o", "use_backend nope if unused", "Escape"]);
    let edited = pane.screen_when(&picker, |s| s.contains("E241") && !s.contains("L002"));
    assert!(
        edited.contains("E241") && !edited.contains("L002"),
        "{edited}"
    );
    pane.keys(&["Escape"]);
    // And deleted again (x selects the line, d deletes it): the lint is back.
    pane.keys(&[":11", "Enter", "x", "d"]);
    let deleted = pane.screen_when(&picker, |s| s.contains("L002") && !s.contains("E241"));
    assert!(
        deleted.contains("L002") && !deleted.contains("E241"),
        "{deleted}"
    );
    drop(pane);
    let _ = std::fs::remove_dir_all(&dir);
}
