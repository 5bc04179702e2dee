//! A `program` section whose command cannot be run, in master-worker mode: HAProxy's forked
//! child reports the failed exec and exits with 1, and the master, taking that as a current
//! program's failure, terminates its workers and exits with 1 (exit-on-failure).

use crate::harness::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn config(port: u16) -> String {
    format!(
        "{DEFAULTS}program missing
    command /nonexistent/hapee-no-such-command arg1
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200
"
    )
}

/// Runs `program args -f <config>` until it exits (at most 30 s): its exit code and what it
/// said, each line without its level's padding and with process ids left out, kept when it
/// tells of the program or the master's end.
fn run_to_exit(program: &Path, args: &[&str], cfg: &str, port: u16) -> (Option<i32>, Vec<String>) {
    let dir = Scratch::dir(&format!("hapee-prog-missing-{}-{port}", std::process::id()));
    let file = dir.join("h.cfg");
    std::fs::write(&file, cfg).unwrap();
    let err = dir.join("err.log");
    let mut child = Command::new(program)
        .args(args)
        .arg("-f")
        .arg(&file)
        .current_dir(&*dir)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .expect("start the proxy");
    let mut status = None;
    let exited = wait_until(Duration::from_secs(30), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
    // The pid after a program's or worker's name.
    let pid = regex::Regex::new(r"('|worker) \(\d+\)").unwrap();
    let said = std::fs::read_to_string(&err)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            [
                "Cannot execute",
                "Current program",
                "exit-on-failure",
                "All workers exited",
            ]
            .iter()
            .any(|w| l.contains(w))
        })
        .map(|l| {
            let (level, text) = l.split_once(" : ").unwrap_or(("", l));
            let level = level.split_whitespace().next().unwrap_or("");
            format!("{level} {}", pid.replace_all(text, "$1"))
        })
        .collect();
    (status.and_then(|s| s.code()), said)
}

#[test]
fn a_program_whose_command_is_missing_ends_the_master_as_haproxy_does() {
    let port = free_port();
    let (code, said) = run_to_exit(
        Path::new(env!("CARGO_BIN_EXE_hapee-lb")),
        &["run", "-W"],
        &config(port),
        port,
    );
    assert_eq!(code, Some(1), "{said:?}");
    assert_eq!(
        said,
        [
            "[ALERT] Cannot execute /nonexistent/hapee-no-such-command: No such file or directory",
            "[ALERT] Current program 'missing' exited with code 1 (Exit)",
            "[ALERT] exit-on-failure: killing every processes with SIGTERM",
            "[WARNING] All workers exited. Exiting... (1)",
        ]
    );
    let mut theirs = Vec::new();
    if Haproxy::installed() {
        theirs.push(Path::new("haproxy").to_path_buf());
    }
    theirs.extend(haproxy_27());
    for program in theirs {
        let port = free_port();
        let (their_code, their_said) = run_to_exit(&program, &["-W", "-db"], &config(port), port);
        assert_eq!(their_code, code, "{}", program.display());
        assert_eq!(their_said, said, "{}", program.display());
    }
}
