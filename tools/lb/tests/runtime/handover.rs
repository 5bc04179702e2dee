//! The master CLI reaching workers (`@1`, `@!<pid>`, `@master`), and listening sockets taken
//! over from a running process with `-x` (from hapee and from Debian's haproxy) while clients
//! keep connecting: no connection refused.

use crate::harness::*;
use crate::reload::{master_cli, start_master, wait_new_worker, workers, Load};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn config(port: u16, origin: &Origin, sock: &std::path::Path) -> String {
    format!(
        "global
    stats socket {} level admin expose-fd listeners
    hard-stop-after 20s
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s {}
",
        sock.display(),
        origin.addr
    )
}

/// The test's folder for its sockets, made before the proxies that use it (so dropped after).
fn temp(name: &str, port: u16) -> Scratch {
    Scratch::dir(&format!("hapee-{name}-{}-{port}", std::process::id()))
}

#[test]
fn master_cli_passes_commands_to_workers_and_answers_reload_with_its_status() {
    let origin = Origin::start("o");
    let port = free_port();
    let dir = temp("mcli-at", port);
    let (_proxy, cli) = start_master(&config(port, &origin, &dir.join("api.sock")), port);
    let (current, _) = workers(&master_cli(&cli, "show proc"));
    let worker = current[0];
    // `@1` is the current worker; its Runtime API answers.
    let info = master_cli(&cli, "@1 show info");
    assert!(info.contains(&format!("Pid: {worker}\n")), "{info}");
    let by_pid = master_cli(&cli, &format!("@!{worker} show servers state"));
    assert!(by_pid.starts_with("1\n# be_id"), "{by_pid}");
    assert!(master_cli(&cli, "@master show proc").contains("# workers"));
    assert_eq!(
        master_cli(&cli, "@7 show info"),
        "Can't find the target PID matching the prefix '@7'\n"
    );
    assert_eq!(
        master_cli(&cli, "@!1 show info"),
        "Can't find the target PID matching the prefix '@!1'\n"
    );
    // A prefix alone makes the worker the target of what follows, and the prompt says so.
    let mut s = UnixStream::connect(&cli).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"prompt\n@1\nshow backend\nquit\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.contains(&format!("{worker}> ")), "{out}");
    assert!(out.contains("# name\nb\n"), "{out}");
    // `reload` answers once the new worker serves, with its status.
    let answer = master_cli(&cli, "reload; show proc");
    assert!(answer.starts_with("Success=1\n--\n"), "{answer}");
    assert!(answer.contains("Loading success."), "{answer}");
    assert!(
        !answer.contains("<PID>"),
        "nothing runs after reload: {answer}"
    );
    let new = wait_new_worker(&cli, worker);
    assert!(master_cli(&cli, "@1 show info").contains(&format!("Pid: {new}\n")));
    // A broken configuration: Success=0 and the errors.
    let cfg = _proxy.dir.join("haproxy.cfg");
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{good}    bogus-keyword here\n")).unwrap();
    let answer = master_cli(&cli, "reload");
    assert!(answer.starts_with("Success=0\n--\n"), "{answer}");
    assert!(answer.contains("Loading failure!"), "{answer}");
}

/// The inodes of the sockets listening on 127.0.0.1:`port`.
fn listening_inodes(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"0A"))
                .then(|| f.get(9).map(|i| i.to_string()))
                .flatten()
        })
        .collect()
}

/// Whether process `pid` holds the socket of `inode`.
fn holds(pid: u32, inode: &str) -> bool {
    let wanted = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy() == wanted))
        })
        .unwrap_or(false)
}

/// Waits until process `pid` holds the socket of `inode` (the port answers before a new
/// process has even started: the old one still listens).
fn wait_holds(pid: u32, inode: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !holds(pid, inode) {
        assert!(
            Instant::now() < deadline,
            "process {pid} never listens on socket {inode}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `child` exits.
fn wait_exit(child: &mut std::process::Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "{what} does not leave");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn x_takes_the_listening_sockets_of_the_old_process_without_a_refusal() {
    let origin = Origin::start("o");
    let port = free_port();
    let dir = temp("x-old", port);
    let sock = dir.join("api.sock");
    let cfg = config(port, &origin, &sock);
    let mut old = Proxy::start(&cfg.replace("global\n", "global\n    nbthread 2\n"), port);
    let inodes = listening_inodes(port);
    // One socket for the thread group, which both threads accept on.
    assert_eq!(inodes.len(), 1, "one socket per thread group");
    let load = Load::start(port, 2);
    std::thread::sleep(Duration::from_millis(300));
    let pid = old.child.id().to_string();
    let new_sock = dir.join("api-new.sock");
    let new_cfg = config(port, &origin, &new_sock).replace("global\n", "global\n    nbthread 2\n");
    let new = Proxy::start_with(&new_cfg, port, &["-x", sock.to_str().unwrap(), "-sf", &pid]);
    for inode in &inodes {
        wait_holds(new.child.id(), inode);
    }
    wait_exit(&mut old.child, "the old process");
    std::thread::sleep(Duration::from_millis(300));
    let (answered, _, failures) = load.finish();
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    assert!(answered > 10);
    assert_eq!(
        listening_inodes(port),
        inodes,
        "no socket was opened or closed"
    );
}

/// A bind line whose socket options changed (`transparent` here) gets a new socket at the
/// reload: HAProxy takes over only a listening socket whose options match. Its own
/// unchanged line keeps the socket it had.
#[test]
fn x_binds_anew_a_line_whose_socket_options_changed() {
    let origin = Origin::start("o");
    let port = free_port();
    let kept = free_port();
    let dir = temp("x-opts", port);
    let sock = dir.join("api.sock");
    let with_kept = |cfg: String| {
        format!("{cfg}frontend other\n    bind 127.0.0.1:{kept}\n    default_backend b\n")
    };
    let mut old = Proxy::start(&with_kept(config(port, &origin, &sock)), port);
    let (changed, unchanged) = (listening_inodes(port), listening_inodes(kept));
    assert_eq!((changed.len(), unchanged.len()), (1, 1));
    let pid = old.child.id().to_string();
    let new_cfg = with_kept(config(port, &origin, &dir.join("api-new.sock"))).replace(
        &format!("bind 127.0.0.1:{port}\n"),
        &format!("bind 127.0.0.1:{port} transparent\n"),
    );
    let new = Proxy::start_with(&new_cfg, port, &["-x", sock.to_str().unwrap(), "-sf", &pid]);
    wait_holds(new.child.id(), &unchanged[0]);
    wait_exit(&mut old.child, "the old process");
    let now = listening_inodes(port);
    assert_eq!(now.len(), 1);
    assert!(
        !holds(new.child.id(), &changed[0]),
        "the old socket was taken over"
    );
    assert_ne!(now, changed);
    assert_eq!(
        crate::proxy_sockets::listener_option(
            new.child.id(),
            port,
            libc::SOL_IP,
            libc::IP_TRANSPARENT
        ),
        Some(1)
    );
    assert_eq!(listening_inodes(kept), unchanged);
}

#[test]
fn x_takes_over_from_debian_haproxy() {
    if !Haproxy::installed() {
        return;
    }
    let origin = Origin::start("o");
    let port = free_port();
    let dir = temp("x-ha", port);
    let sock = dir.join("ha.sock");
    let mut ha = Haproxy::start_with(&config(port, &origin, &sock), port, &["-db"]);
    let inodes = listening_inodes(port);
    assert_eq!(inodes.len(), 1);
    let load = Load::start(port, 2);
    std::thread::sleep(Duration::from_millis(300));
    let pid = ha.child.id().to_string();
    // One thread: the one socket haproxy had is all hapee listens on.
    let new = Proxy::start_with(
        &config(port, &origin, &dir.join("hapee.sock"))
            .replace("global\n", "global\n    nbthread 1\n"),
        port,
        &["-x", sock.to_str().unwrap(), "-sf", &pid],
    );
    wait_holds(new.child.id(), &inodes[0]);
    wait_exit(&mut ha.child, "haproxy");
    std::thread::sleep(Duration::from_millis(300));
    let (answered, _, failures) = load.finish();
    // haproxy's old process closes idle keep-alive connections as it leaves (a known
    // HAProxy behaviour); what must not happen is a refused or reset new connection.
    let refused: Vec<&String> = failures
        .iter()
        .filter(|f| f.starts_with("connect"))
        .collect();
    assert!(refused.is_empty(), "refused connections: {refused:?}");
    assert!(answered > 10);
    assert_eq!(listening_inodes(port), inodes);
}

#[test]
fn stick_tables_carry_over_a_reload_through_the_local_peer() {
    let port = free_port();
    let peer_port = free_port();
    let cfg = format!(
        "global
    localpeer me
    hard-stop-after 20s
peers mesh
    peer me 127.0.0.1:{peer_port}
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s peers mesh store http_req_cnt,gpc0
    http-request track-sc0 src if {{ path /hit }}
    http-request sc-inc-gpc0(0) if {{ path /hit }}
    http-request return status 200 content-type text/plain lf-string \"cnt=%[src_http_req_cnt] gpc=%[src_get_gpc0]\"
"
    );
    let (_proxy, cli) = start_master(&cfg, port);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..3 {
        curl(&[&format!("{url}/hit")]);
    }
    assert_eq!(curl(&[&format!("{url}/peek")]).1, "cnt=3 gpc=3");
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    assert!(master_cli(&cli, "reload").starts_with("Success=1"));
    wait_new_worker(&cli, first[0]);
    // Once the old worker has left, only the new one answers: it learnt the table.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !workers(&master_cli(&cli, "show proc")).1.is_empty() {
        assert!(Instant::now() < deadline, "the old worker does not leave");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(curl(&[&format!("{url}/peek")]).1, "cnt=3 gpc=3");
}
