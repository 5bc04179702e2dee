//! The master CLI (`-S`) side by side with HAProxy 2.7.0's master: the same sessions (help,
//! unknown commands, levels, prefixes, prompt mode, `reload` with a broken and then a good
//! configuration, `show proc` and `show startup-logs` after each) must read the same once the
//! pids, uptimes, versions and help texts (ours are in our own words) are set aside.

use crate::harness::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn config(port: u16) -> String {
    format!(
        "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-request return status 200 content-type text/plain string ok\n"
    )
}

/// Sends `input` on a new master CLI connection; everything read until it closes. A master
/// that reloads re-executes itself and listens again a moment later: connecting waits for it.
fn session(cli: &Path, input: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match UnixStream::connect(cli) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("no master CLI on {}: {e}", cli.display()),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(input.as_bytes()).unwrap();
    // As `socat` does at the end of its input: HAProxy's master keeps a connection open
    // until its client has said all it had to.
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// `text` with what differs between two runs or two programs set aside: pids (`P`), uptimes
/// (`U`), the version (`V`), the executable's path, help texts (only the usage column kept),
/// and runs of spaces.
fn normalize(text: &str, version: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let help = line.starts_with("  ") && line.contains(" : ");
        let line = if help {
            line.split(" : ").next().unwrap_or(line)
        } else {
            line
        };
        let line = match line.split_once("path to executable is ") {
            Some((head, _)) => format!("{head}path to executable is E"),
            None => line.to_string(),
        };
        let words: Vec<String> = line
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let digits = |w: &str| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_digit());
                if digits(w) {
                    "P".into()
                } else if w.starts_with('(') && w.ends_with(')') && digits(&w[1..w.len() - 1]) {
                    "(P)".into()
                } else if w.len() == 11 && w.as_bytes()[1] == b'd' && w.ends_with('s') {
                    "U".into()
                } else if w == version {
                    "V".into()
                } else if let Some(pid) = w.strip_suffix('>').filter(|p| digits(p)) {
                    let _ = pid;
                    "P>".into()
                } else {
                    w.into()
                }
            })
            .collect();
        // Keep the prompt's trailing space: it is what a client waits for.
        out.push_str(&words.join(" "));
        if line.ends_with("> ") {
            out.push(' ');
        }
    }
    out
}

/// `text` with the configuration's errors (the alerts before `Loading failure!`) as one line:
/// their words are the checker's, compared with HAProxy's by the checker's own tests.
fn config_errors_aside(text: &str) -> String {
    let Some(end) = text.find("[WARNING] (P) : Loading failure!") else {
        return text.to_string();
    };
    let Some(start) = text[..end].find("[ALERT]") else {
        return text.to_string();
    };
    format!("{}[ALERT] (P) : C\n{}", &text[..start], &text[end..])
}

/// The old workers' pids of a `show proc` answer.
fn old_workers(show_proc: &str) -> usize {
    show_proc.split("# old workers\n").nth(1).map_or(0, |rest| {
        rest.lines().take_while(|l| !l.starts_with('#')).count()
    })
}

/// Waits until `show proc` lists no old worker; its answer.
fn settled(cli: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = session(cli, "show proc\n");
        if old_workers(&answer) == 0 {
            return answer;
        }
        assert!(Instant::now() < deadline, "an old worker stays: {answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The sessions of the comparison, run against the master CLI at `cli` whose configuration
/// is `cfg`; each answer normalized.
fn sessions(cli: &Path, cfg: &Path, version: &str) -> Vec<(String, String)> {
    let inputs = [
        "show proc\n",
        "help\n",
        "help show\n",
        "bogus\n",
        "show\n",
        "\n",
        "show version\n",
        "show cli level\n",
        "operator; show cli level\n",
        "user; operator; show cli level\n",
        "user; reload\n",
        "@1 show cli level\n",
        "user; @1 show cli level\n",
        "@7 show info\n",
        "@!1 show info\n",
        "@1 show version; show version\n",
        "prompt\nshow version\n@1\n@master\nuser\nshow cli level\nquit\n",
        "prompt\nprompt\nshow cli level\n",
    ];
    let mut out: Vec<(String, String)> = inputs
        .iter()
        .map(|i| (i.to_string(), normalize(&session(cli, i), version)))
        .collect();
    // A broken configuration: the worker stays, both counts say so.
    let good = std::fs::read_to_string(cfg).unwrap();
    std::fs::write(cfg, format!("{good}    bogus-keyword here\n")).unwrap();
    let failed = session(cli, "reload\n");
    out.push(("reload (broken)".into(), normalize(&failed, version)));
    for probe in ["show proc\n", "show startup-logs\n"] {
        let answer = normalize(&session(cli, probe), version);
        out.push((format!("{probe} after the failure"), answer));
    }
    std::fs::write(cfg, good).unwrap();
    let loaded = session(cli, "reload\n");
    // Only the head: what follows depends on when the old worker leaves.
    let head: String = loaded.lines().take(4).map(|l| format!("{l}\n")).collect();
    out.push(("reload (good)".into(), normalize(&head, version)));
    out.push((
        "show proc once settled".into(),
        normalize(&settled(cli), version),
    ));
    out
}

/// Starts `program` (hapee-lb or haproxy) as a master with a CLI on `dir`; the child, the
/// CLI's path and the configuration's.
fn start(
    program: &std::ffi::OsStr,
    dir: &Path,
    port: u16,
) -> (std::process::Child, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let cli = dir.join("master.sock");
    let cfg = dir.join("m.cfg");
    std::fs::write(&cfg, config(port)).unwrap();
    let child = std::process::Command::new(program)
        .arg("-W")
        .arg("-S")
        .arg(&cli)
        .arg("-f")
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // A connection is not enough: HAProxy's master binds the CLI, starts its worker, then
    // executes itself again in wait mode and binds the CLI anew; a session opened on the
    // first socket is reset without an answer. Its CLI is up once a command is answered.
    let deadline = Instant::now() + Duration::from_secs(30);
    while session(&cli, "show version\n").is_empty()
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "no master CLI on {}",
            cli.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, cli, cfg)
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn master_cli_sessions_read_as_haproxy_27s() {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-mcli27-{}-{port}", std::process::id()));
    // The same folder for both: the configuration's path is in the alerts.
    let (child, cli, cfg) = start(&hapee_lb(), &dir, port);
    let ours = sessions(&cli, &cfg, hapee_runtime::lifecycle::VERSION);
    stop(child);
    // What holds without the reference too.
    let get = |key: &str| {
        ours.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert!(get("show proc\n").starts_with("#<PID> <type> <reloads> <uptime> <version>\nP master 0 [failed: 0] U V\n# workers\nP worker 0 U V\n# programs\n\n"), "{}", get("show proc\n"));
    let failed = get("reload (broken)");
    assert!(
        failed.starts_with("Success=0\n--\n[NOTICE] (P) : haproxy version is V\n"),
        "{failed}"
    );
    assert!(
        failed.ends_with("[WARNING] (P) : Loading failure!\n\n"),
        "{failed}"
    );
    assert!(get("show proc\n after the failure")
        .contains("P master 1 [failed: 1] U V\n# workers\nP worker 1 U V\n"));
    assert!(get("show proc once settled")
        .contains("P master 2 [failed: 0] U V\n# workers\nP worker 0 U V\n# programs"));
    let Some(haproxy) = haproxy_27() else { return };
    let version = String::from_utf8_lossy(
        &std::process::Command::new(&haproxy)
            .arg("-v")
            .output()
            .unwrap()
            .stdout,
    )
    .split_whitespace()
    .nth(2)
    .unwrap_or_default()
    .to_string();
    let port = free_port();
    let (child, cli, cfg) = start(haproxy.as_os_str(), &dir, port);
    let theirs = sessions(&cli, &cfg, &version);
    stop(child);
    for ((input, a), (_, b)) in ours.iter().zip(&theirs) {
        let (a, b) = (config_errors_aside(a), config_errors_aside(b));
        assert_eq!(a, b, "the answers to {input:?} differ (hapee first)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
