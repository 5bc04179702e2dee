//! Server states carried over reloads with `server-state-file`: what the Runtime API changed
//! survives a reload, a changed configuration wins where HAProxy says it does, and the files
//! are the same format both ways with Debian's haproxy.

use crate::api::ask;
use crate::harness::*;
use crate::reload::{master_cli, start_master, wait_new_worker, workers};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// `show servers state` rows by server name: the fields after `srv_name`, by column name.
fn rows(dump: &str) -> HashMap<String, HashMap<String, String>> {
    let mut lines = dump.lines();
    assert_eq!(lines.next(), Some("1"), "format version 1: {dump}");
    let header: Vec<&str> = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .expect("a header line")
        .split(' ')
        .collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let fields: HashMap<String, String> = header
                .iter()
                .zip(l.split(' '))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            (fields["srv_name"].clone(), fields)
        })
        .collect()
}

/// The fields a reload must carry over.
fn kept(row: &HashMap<String, String>) -> (String, String, String, String) {
    (
        row["srv_admin_state"].clone(),
        row["srv_uweight"].clone(),
        row["srv_iweight"].clone(),
        row["srv_port"].clone(),
    )
}

fn config(port: u16, dir: &Path, origins: &[&Origin], extra: &str) -> String {
    format!(
        "global
    stats socket {d}/admin.sock level admin
    server-state-base {d}
    server-state-file state
    hard-stop-after 20s
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server a {}
    server b {} weight 50
    server c {}{extra}
",
        origins[0].addr,
        origins[1].addr,
        origins[2].addr,
        d = dir.display(),
    )
}

/// Asks the Runtime API of whatever process serves `sock` now, retrying while a reload
/// replaces it.
fn api(sock: &Path, command: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::os::unix::net::UnixStream::connect(sock) {
            drop(s);
            return ask(sock, &format!("{command}\n"));
        }
        assert!(
            Instant::now() < deadline,
            "no Runtime API on {}",
            sock.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_reload_keeps_what_the_runtime_api_changed_unless_the_configuration_changed_it() {
    let origins = [Origin::start("a"), Origin::start("b"), Origin::start("c")];
    let o: Vec<&Origin> = origins.iter().collect();
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-state-rt-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let (proxy, cli) = start_master(&config(port, &dir, &o, ""), port);
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    let other_port = free_port();
    for command in [
        "set server b/a state drain".to_string(),
        "set server b/b weight 20".to_string(),
        "set server b/c state maint".to_string(),
        format!("set server b/c addr 127.0.0.1 port {other_port}"),
    ] {
        api(&sock, &command);
    }
    let before = rows(&api(&sock, "show servers state"));
    std::fs::write(dir.join("state"), api(&sock, "show servers state")).unwrap();
    let answer = master_cli(&cli, "reload");
    assert!(answer.starts_with("Success=1\n--\n"), "{answer}");
    let second = wait_new_worker(&cli, first[0]);
    // The new worker answers the Runtime API once it serves.
    let after = rows(&api(&sock, "show servers state"));
    for name in ["a", "b", "c"] {
        assert_eq!(kept(&after[name]), kept(&before[name]), "server {name}");
    }
    assert_eq!(after["c"]["srv_port"], other_port.to_string());
    // Traffic follows the restored states: `a` drains, `c` is in maintenance.
    for _ in 0..6 {
        let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!(code, 200);
        assert!(body.contains("name=b"), "{body}");
    }
    // The configuration changes: `b` gets another weight and `a` is disabled there. The
    // configuration wins for both; `c` keeps its forced maintenance.
    std::fs::write(dir.join("state"), api(&sock, "show servers state")).unwrap();
    let changed = config(port, &dir, &o, "")
        .replace(" weight 50", " weight 40")
        .replace(
            &format!("server a {}", o[0].addr),
            &format!("server a {} disabled", o[0].addr),
        );
    std::fs::write(proxy.dir.join("haproxy.cfg"), changed).unwrap();
    let answer = master_cli(&cli, "reload");
    assert!(answer.starts_with("Success=1\n"), "{answer}");
    wait_new_worker(&cli, second);
    let last = rows(&api(&sock, "show servers state"));
    assert_eq!(last["a"]["srv_admin_state"], "5", "{last:?}");
    assert_eq!(
        (
            last["b"]["srv_uweight"].as_str(),
            last["b"]["srv_iweight"].as_str()
        ),
        ("40", "40")
    );
    assert_eq!(last["c"]["srv_admin_state"], "1");
}

/// Sets the same states on a process's Runtime API at `sock`.
fn change(sock: &Path, other_port: u16) {
    for command in [
        "set server b/a state drain".to_string(),
        "set server b/b weight 20".to_string(),
        "set server b/c state maint".to_string(),
        format!("set server b/c addr 127.0.0.1 port {other_port}"),
    ] {
        ask(sock, &format!("{command}\n"));
    }
}

#[test]
fn debian_haproxy_and_hapee_read_each_others_state_files() {
    if !Haproxy::installed() {
        return;
    }
    let origins = [Origin::start("a"), Origin::start("b"), Origin::start("c")];
    let o: Vec<&Origin> = origins.iter().collect();
    let other_port = free_port();
    // hapee writes, haproxy reads.
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-state-ha-{}-{port}", std::process::id()));
    let sock = dir.join("admin.sock");
    let hapee = Proxy::start(&config(port, &dir, &o, ""), port);
    change(&sock, other_port);
    let written = ask(&sock, "show servers state\n");
    std::fs::write(dir.join("state"), &written).unwrap();
    drop(hapee);
    let ha_port = free_port();
    let ha_dir = Scratch::dir(&format!("hapee-state-hb-{}-{port}", std::process::id()));
    std::fs::copy(dir.join("state"), ha_dir.join("state")).unwrap();
    let ha = Haproxy::start(&config(ha_port, &ha_dir, &o, ""), ha_port);
    let read_by_haproxy = rows(&ask(&ha_dir.join("admin.sock"), "show servers state\n"));
    let from_hapee = rows(&written);
    for name in ["a", "b", "c"] {
        assert_eq!(
            kept(&read_by_haproxy[name]),
            kept(&from_hapee[name]),
            "haproxy restored {name} from hapee's file: {}",
            ha.stderr()
        );
    }
    // haproxy writes, hapee reads.
    let ha_sock = ha_dir.join("admin.sock");
    ask(&ha_sock, "set server b/a state ready\n");
    ask(&ha_sock, "set server b/b state drain\n");
    ask(&ha_sock, "set server b/c weight 7\n");
    let written = ask(&ha_sock, "show servers state\n");
    drop(ha);
    std::fs::write(dir.join("state"), &written).unwrap();
    let port = free_port();
    let _hapee = Proxy::start(&config(port, &dir, &o, ""), port);
    let read_by_hapee = rows(&ask(&sock, "show servers state\n"));
    let from_haproxy = rows(&written);
    for name in ["a", "b", "c"] {
        assert_eq!(
            kept(&read_by_hapee[name]),
            kept(&from_haproxy[name]),
            "hapee restored {name} from haproxy's file"
        );
    }
}
