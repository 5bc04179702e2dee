//! `namespace <name>` on `bind` and `server` lines: a listener made in a network namespace
//! (reachable from inside it only) and a server reached inside one, side by side with Debian's
//! haproxy. The namespace is made with `ip netns add` (tests run as root); where that fails
//! outside CI, the test says so and skips.

use super::harness::*;
use std::process::Command;
use std::time::Duration;

/// A network namespace with its loopback up, removed when dropped.
struct Namespace(String);

impl Namespace {
    fn new(tag: &str) -> Option<Namespace> {
        let name = format!("hapee-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let made = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("ip")
                .args(["-n", &name, "link", "set", "lo", "up"])
                .status()
                .is_ok_and(|s| s.success());
        if !made {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "'ip netns add' must work in CI (tests run as root)"
            );
            eprintln!("cannot make a network namespace ('ip netns add' failed): skipping");
            return None;
        }
        Some(Namespace(name))
    }

    /// `args` run inside the namespace.
    fn exec(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(args);
        c
    }

    /// The status and body curl gets for `url` from inside the namespace.
    fn curl(&self, url: &str) -> String {
        let out = self
            .exec(&["curl", "-s", "--max-time", "5", "-w", " %{http_code}", url])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn listeners_and_servers_live_in_their_namespace() {
    let Some(ns) = Namespace::new("ns") else {
        return;
    };
    // A server inside the namespace, on a port that nothing outside it listens on.
    let inner = free_port();
    let root = Scratch::dir(&format!("hapee-netns-root-{}", std::process::id()));
    std::fs::write(root.join("index.html"), "inside").unwrap();
    let _server = Child(
        ns.exec(&[
            "python3",
            "-m",
            "http.server",
            &inner.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3"),
    );
    let name = ns.0.clone();
    // Python's start-up takes seconds on a loaded machine.
    assert!(
        wait_until(Duration::from_secs(30), || ns
            .curl(&format!("http://127.0.0.1:{inner}/"))
            .ends_with("200")),
        "the namespace's server never answered"
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend inside
frontend fe_inside
    bind 127.0.0.2:{port} namespace {name}
    http-request return status 200 content-type text/plain string listener-inside
backend inside
    server s1 127.0.0.1:{inner} namespace {name}
"
        )
    };
    let (ours, theirs) = both(cfg, |port| {
        let through = curl(&[&format!("http://127.0.0.1:{port}/")]);
        let url = format!("http://127.0.0.2:{port}/");
        wait_until(Duration::from_secs(10), || ns.curl(&url).ends_with("200"));
        let from_inside = ns.curl(&url);
        let from_outside = curl(&["--max-time", "2", &url]).0;
        (through, from_inside, from_outside)
    });
    assert_eq!(
        ours,
        (
            (200, "inside".to_string()),
            "listener-inside 200".to_string(),
            0
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn check_refuses_a_namespace_that_does_not_exist() {
    let cfg = Scratch::file(&format!("hapee-netns-{}.cfg", std::process::id()));
    std::fs::write(
        &cfg,
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:1 namespace hapee-none
    default_backend app
backend app
    server s1 127.0.0.1:2 namespace hapee-none
"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["check", &cfg.display().to_string()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("error[E402]: Cannot open namespace 'hapee-none'."),
        "{text}"
    );
    assert!(
        text.contains("error[E402]: 'server app/s1' : Cannot open namespace 'hapee-none'"),
        "{text}"
    );
}
