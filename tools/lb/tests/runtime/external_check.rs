//! `option external-check`: a shell script as the health check, given HAProxy's arguments
//! and environment; its exit status decides, and one that runs too long is killed.

use super::harness::{free_port, Haproxy, Proxy, Scratch};
use std::path::Path;
use std::time::{Duration, Instant};

/// Records its arguments and environment, then fails when `fail` exists and hangs when
/// `slow` does.
const SCRIPT: &str = "#!/bin/sh
dir=$(dirname \"$0\")
{
  echo \"ARGS=$*\"
  env | grep -v -E '^(PWD|SHLVL|_|OLDPWD)=' | sort
} > \"$dir/seen.$$\"
mv \"$dir/seen.$$\" \"$dir/seen\"
[ -e \"$dir/slow\" ] && sleep 30
[ -e \"$dir/fail\" ] && exit 3
exit 0
";

/// A folder with the check script; bound before the proxy that runs it, so dropped after.
fn setup(name: &str) -> Scratch {
    let dir = Scratch::dir(&format!("hapee-extchk-{name}-{}", std::process::id()));
    let script = dir.join("check.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn config(port: u16, server: u16, dir: &Path) -> String {
    format!(
        "global
    insecure-fork-wanted
    external-check
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    timeout check 1s
listen app
    bind 127.0.0.1:{port}
    option external-check
    external-check path \"/usr/bin:/bin\"
    external-check command {dir}/check.sh
    server srv1 127.0.0.1:{server} check inter 2s rise 1 fall 1 maxconn 7
",
        dir = dir.display()
    )
}

/// Waits for `f` to hold; long enough for a few check periods of a loaded machine.
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the script last saw, with the line of a given proxy's port masked.
fn seen(dir: &Path, port: u16) -> String {
    std::fs::read_to_string(dir.join("seen"))
        .unwrap_or_default()
        .replace(&port.to_string(), "PORT")
}

#[test]
fn the_command_gets_haproxys_arguments_and_its_status_decides() {
    let dir = setup("ours");
    let port = free_port();
    let server = free_port();
    let proxy = Proxy::start(&config(port, server, &dir), port);
    wait_for("a first check", || dir.join("seen").exists());
    let ours = seen(&dir, port);
    for line in [
        format!("ARGS=127.0.0.1 PORT 127.0.0.1 {server}"),
        "PATH=/usr/bin:/bin".to_string(),
        "HAPROXY_PROXY_NAME=app".to_string(),
        "HAPROXY_PROXY_ADDR=127.0.0.1".to_string(),
        "HAPROXY_PROXY_PORT=PORT".to_string(),
        "HAPROXY_SERVER_NAME=srv1".to_string(),
        "HAPROXY_SERVER_ADDR=127.0.0.1".to_string(),
        format!("HAPROXY_SERVER_PORT={server}"),
        "HAPROXY_SERVER_MAXCONN=7".to_string(),
        "HAPROXY_SERVER_CURCONN=0".to_string(),
        "HAPROXY_SERVER_SSL=0".to_string(),
        "HAPROXY_SERVER_PROTO=h1".to_string(),
    ] {
        assert!(ours.lines().any(|l| l == line), "{line} not in:\n{ours}");
    }
    // Nothing else of the proxy's environment reaches the command.
    assert_eq!(ours.lines().count(), 14, "{ours}");
    // A failing status takes the server down, with the status as the code.
    std::fs::write(dir.join("fail"), "").unwrap();
    let down = "Server app/srv1 is DOWN, reason: External check error, code: 3";
    wait_for("the server to go down", || proxy.stderr().contains(down));
    std::fs::remove_file(dir.join("fail")).unwrap();
    let up = "Server app/srv1 is UP, reason: External check passed, code: 0";
    wait_for("the server to come back", || proxy.stderr().contains(up));
    // A command still running at the end of its time is a timeout (`inter` here, shorter
    // than `timeout connect`; long enough for the script to record what it saw on a loaded
    // machine).
    std::fs::write(dir.join("slow"), "").unwrap();
    wait_for("a timeout", || {
        proxy
            .stderr()
            .contains("Server app/srv1 is DOWN, reason: External check timeout")
    });
    drop(proxy);
    let _ = std::fs::remove_file(dir.join("slow"));
    // Debian's haproxy gives the command the same arguments and environment.
    if !Haproxy::installed() {
        return;
    }
    let hdir = setup("theirs");
    let hport = free_port();
    let mut h = Haproxy::start(&config(hport, server, &hdir), hport);
    wait_for("haproxy's first check", || hdir.join("seen").exists());
    let theirs = seen(&hdir, hport).replace(&hdir.display().to_string(), "DIR");
    h.stop();
    let ours = ours.replace(&dir.display().to_string(), "DIR");
    let sorted = |s: &str| {
        let mut v: Vec<String> = s.lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours), sorted(&theirs));
}

/// Starts one side on a configuration and port; answers what reads its standard error.
type Start = dyn Fn(&str, u16) -> Box<dyn Fn() -> String>;

/// A command that cannot be run is HAProxy's child failing to exec: an alert on standard
/// error at each try, and the check an error with exit code 255.
#[test]
fn a_missing_command_alerts_and_fails_with_code_255() {
    let run = |start: &Start| {
        let dir = setup("missing");
        let port = free_port();
        let cfg = config(port, free_port(), &dir).replace("/check.sh", "/no-such-check");
        let stderr = start(&cfg, port);
        let down = "Server app/srv1 is DOWN, reason: External check error, code: 255";
        wait_for("the server to go down", || stderr().contains(down));
        let alert = stderr()
            .lines()
            .find(|l| l.contains("Failed to exec"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, t)| t).to_string());
        alert
    };
    let ours = run(&|cfg, port| {
        let proxy = Proxy::start(cfg, port);
        Box::new(move || proxy.stderr())
    });
    assert_eq!(
        ours.as_deref(),
        Some("Failed to exec process for external health check: No such file or directory. Aborting.")
    );
    if !Haproxy::installed() {
        return;
    }
    let theirs = run(&|cfg, port| {
        let h = Haproxy::start(cfg, port);
        Box::new(move || h.stderr())
    });
    assert_eq!(ours, theirs);
}
