//! What the log anonymizer's tests share: Debian's haproxy writing logs from a configuration,
//! and `hapee-anon` run on them.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A configuration's `global` section sending its logs to standard output, raw.
pub const STDOUT_LOG_GLOBAL: &str = "global\n    log stdout format raw local0\n";

/// The `defaults` section of the tests' HTTP configurations, logging through `global`.
pub const HTTP_LOG_DEFAULTS: &str = "defaults
    mode http
    log global
    timeout connect 5s
    timeout client 5s
    timeout server 5s
";

/// The frontend the tests' servers point at, answering `ok` to everything.
pub fn origin_frontend(port: u16) -> String {
    format!(
        "frontend origin_fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"
    )
}

/// `curl -s --max-time 10` with `args` on `url`, which must get the origin's `ok`.
pub fn curl_ok(args: &[&str], url: &str) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl is installed");
    assert_eq!(out.stdout, b"ok");
}

pub fn have_haproxy() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is missing (CI installs Debian's haproxy package)"
        );
        eprintln!("skipped: haproxy is not installed");
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "haproxy did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn anon(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-anon"))
        .args(args)
        .output()
        .expect("run hapee-anon");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The token the anonymized configuration gives the section `keyword name` of the original
/// (same line number).
pub fn token_of(original: &str, anonymized: &str, line_start: &str) -> String {
    let i = original
        .lines()
        .position(|l| l.trim_start().starts_with(line_start))
        .unwrap_or_else(|| panic!("no '{line_start}' line"));
    let words: Vec<&str> = anonymized
        .lines()
        .nth(i)
        .unwrap()
        .split_whitespace()
        .collect();
    words[1].to_string()
}

/// `hapee-anon log --config` on the log `haproxy_log` left in `dir`.
pub fn anonymized(dir: &Path, key: &str) -> String {
    let cfg = dir.join("haproxy.cfg");
    let log = dir.join("haproxy.log");
    anon(&[
        "log",
        "--key",
        key,
        "--config",
        cfg.to_str().unwrap(),
        log.to_str().unwrap(),
    ])
}

pub fn anonymized_config(dir: &Path, key: &str) -> String {
    let cfg = dir.join("haproxy.cfg");
    anon(&["config", "--key", key, cfg.to_str().unwrap()])
}

pub fn assert_gone(out: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!out.contains(secret), "'{secret}' left in:\n{out}");
    }
}

/// Starts Debian's haproxy on `cfg` logging to a file, waits for `ports`, runs `traffic`, waits
/// until the log is `complete`, stops haproxy and answers the log.
pub fn haproxy_log(
    dir: &Path,
    cfg: &str,
    ports: &[u16],
    traffic: impl FnOnce(),
    complete: impl Fn(&str) -> bool,
) -> String {
    let cfg_path = dir.join("haproxy.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let log_path = dir.join("haproxy.log");
    let mut haproxy = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&cfg_path)
        .stdout(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy");
    for &port in ports {
        wait_for(port);
    }
    traffic();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !complete(&std::fs::read_to_string(&log_path).unwrap()) {
        assert!(Instant::now() < deadline, "haproxy logged too little");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = haproxy.kill();
    let _ = haproxy.wait();
    std::fs::read_to_string(&log_path).unwrap()
}

/// A test's folder under the system's temp folder, made afresh and removed when dropped,
/// unless the test is failing: a panicking thread leaves it there to be read.
pub struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
