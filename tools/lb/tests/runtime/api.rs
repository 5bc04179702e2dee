//! The Runtime API over real sockets: unix and TCP `stats socket`s, levels, one-shot, chained
//! and interactive use, with a Rust client and with socat; counters after known traffic;
//! server state changes seen by traffic; `set anon on` against `hapee-anon`.

use crate::harness::{curl, free_port, output_with_input, Origin, Proxy, Scratch, DEFAULTS};
use hapee_runtime::lifecycle::VERSION as V;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Whether an external tool is there: a test without it skips, except under `CI=true`, where
/// `.ci/run` must have installed it.
pub fn tool(name: &str, probe: &[&str]) -> bool {
    let there = Command::new(name)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !there {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required in CI (.ci/run installs it)"
        );
        eprintln!("{name} is not installed: skipping");
    }
    there
}

/// Sends `input` on a unix socket and reads until the proxy closes the connection.
pub fn ask(sock: &Path, input: &str) -> String {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(input.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The same through socat, as operators do (`echo … | socat stdio unix:…`).
pub fn socat(target: &str, input: &str) -> String {
    let out = output_with_input(
        Command::new("socat").args(["-t", "5", "stdio", target]),
        input.as_bytes(),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A proxy with an admin, an operator and a user unix socket, a TCP socket, and one
/// backend of two servers.
pub struct Fixture {
    pub proxy: Proxy,
    pub port: u16,
    pub cli_port: u16,
    pub dir: Scratch,
    pub origins: Vec<Origin>,
}

impl Fixture {
    pub fn start(extra_global: &str) -> Fixture {
        let origins = vec![Origin::start("a"), Origin::start("b")];
        let port = free_port();
        let cli_port = free_port();
        let dir = Scratch::dir(&format!("hapee-api-{}-{port}", std::process::id()));
        let d = dir.display();
        let config = format!(
            "global
    stats socket {d}/admin.sock level admin mode 600 expose-fd listeners
    stats socket {d}/oper.sock level operator
    stats socket {d}/user.sock level user mode 666
    stats socket ipv4@127.0.0.1:{cli_port} level admin
    stats timeout 20s
    stats maxconn 20
{extra_global}
{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    server s1 {} check inter 200
    server s2 {}
",
            origins[0].addr, origins[1].addr
        );
        let proxy = Proxy::start(&config, port);
        let f = Fixture {
            proxy,
            port,
            cli_port,
            dir,
            origins,
        };
        // The unix sockets are bound before the listeners, so they exist by now.
        assert!(f.sock("admin").exists(), "{}", f.proxy.stderr());
        f
    }

    pub fn sock(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.sock"))
    }

    pub fn admin(&self, input: &str) -> String {
        ask(&self.sock("admin"), input)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        curl(&[&format!("http://127.0.0.1:{}{path}", self.port)])
    }
}

/// The CSV row of `px/sv` as a map from column name to value.
pub fn stat_row(csv: &str, px: &str, sv: &str) -> std::collections::HashMap<String, String> {
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .trim_start_matches("# ")
        .split(',')
        .map(String::from)
        .collect();
    let row = lines
        .find(|l| l.starts_with(&format!("{px},{sv},")))
        .unwrap_or_else(|| panic!("no row {px}/{sv} in {csv}"));
    header
        .into_iter()
        .zip(row.split(',').map(String::from))
        .collect()
}

#[test]
fn levels_unknown_commands_and_chaining() {
    let f = Fixture::start("");
    // One-shot: the answer, an empty line, then the proxy closes.
    let info = f.admin("show info\n");
    assert!(
        info.starts_with("Name: HAProxy\nVersion: 2.7.0\n"),
        "{info}"
    );
    assert!(info.ends_with("\n\n"), "{info}");
    assert!(info.contains("\nNbthread: "), "{info}");
    // Unknown commands: HAProxy 2.7.0's answer, with the closest commands.
    let unknown = f.admin("show infoo\n");
    assert!(
        unknown.starts_with(
            "Unknown command: 'show', but maybe one of the following ones is a better match:\n"
        ),
        "{unknown}"
    );
    assert!(unknown.contains("\n  show info "), "{unknown}");
    assert!(unknown.ends_with("  quit                                    : disconnect\n\n"));
    // Levels: a user may read, not change; an operator may see the environment.
    let user = f.sock("user");
    assert_eq!(
        ask(&user, "set server app/s1 state maint\n"),
        "Permission denied\n\n"
    );
    assert_eq!(ask(&user, "show env\n"), "Permission denied\n\n");
    assert_eq!(ask(&user, "show cli level\n"), "user\n\n");
    let oper = f.sock("oper");
    assert!(ask(&oper, "show env PATH\n").starts_with("PATH="));
    assert_eq!(
        ask(&oper, "disable server app/s2\n"),
        "Permission denied\n\n"
    );
    assert_eq!(
        ask(&oper, "set maxconn global 100\n"),
        "Permission denied\n\n"
    );
    // Lowering the level inside a session.
    assert_eq!(
        f.admin("operator; show cli level; set server app/s2 weight 3\n"),
        "\noperator\n\nPermission denied\n\n"
    );
    // `;`-chained commands in one line.
    let chained = f.admin("show version;show cli level\n");
    assert_eq!(chained, format!("{V}\n\nadmin\n\n"));
    // help lists the commands.
    let help = f.admin("help\n");
    assert!(help.starts_with("The following commands are valid at this level:\n"));
    assert!(help.contains("  show servers state [<backend>]"), "{help}");
    // Unix socket modes as configured.
    use std::os::unix::fs::PermissionsExt;
    let mode = |n: &str| std::fs::metadata(f.sock(n)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("admin"), 0o600);
    assert_eq!(mode("user"), 0o666);
}

#[test]
fn interactive_prompt_mode_over_tcp() {
    let f = Fixture::start("");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", f.cli_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let read_until = |s: &mut std::net::TcpStream, end: &str| {
        let mut got = Vec::new();
        let mut b = [0u8; 4096];
        while !String::from_utf8_lossy(&got).ends_with(end) {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&b[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    };
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "\n> ");
    // The connection stays open between commands.
    s.write_all(b"show version\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), format!("{V}\n\n> "));
    s.write_all(b"show cli level\n").unwrap();
    assert_eq!(read_until(&mut s, "> "), "admin\n\n> ");
    s.write_all(b"quit\n").unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn socat_one_shot_and_tcp_socket() {
    if !tool("socat", &["-V"]) {
        return;
    }
    let f = Fixture::start("");
    let unix = format!("unix-connect:{}", f.sock("admin").display());
    let out = socat(&unix, "show version; show backend\n");
    assert_eq!(out, format!("{V}\n\n# name\napp\n\n"));
    let tcp = format!("tcp:127.0.0.1:{}", f.cli_port);
    let stat = socat(&tcp, "show stat\n");
    assert!(stat.starts_with("# pxname,svname,qcur,"), "{stat}");
    assert!(stat.contains("\nweb,FRONTEND,"), "{stat}");
    assert!(stat.contains("\napp,s1,"), "{stat}");
    assert!(stat.contains("\napp,BACKEND,"), "{stat}");
}

#[test]
fn show_stat_counts_known_traffic() {
    let f = Fixture::start("");
    for _ in 0..6 {
        assert_eq!(f.get("/").0, 200);
    }
    assert_eq!(f.get("/status/404").0, 404);
    assert_eq!(f.get("/status/503").0, 503);
    let csv = f.admin("show stat\n");
    let header = csv.lines().next().unwrap();
    // HAProxy 2.7.0's 101 static columns, then `-`.
    assert_eq!(header.matches(',').count(), 102, "{header}");
    assert!(
        header.ends_with(",uweight,agg_server_check_status,-,"),
        "{header}"
    );
    let fe = stat_row(&csv, "web", "FRONTEND");
    assert_eq!(fe["req_tot"], "8");
    assert_eq!(fe["hrsp_2xx"], "6");
    assert_eq!(fe["hrsp_4xx"], "1");
    assert_eq!(fe["hrsp_5xx"], "1");
    assert_eq!(fe["stot"], "8", "curl opens one connection per request");
    assert_eq!(fe["status"], "OPEN");
    assert_eq!(fe["mode"], "http");
    assert!(fe["bout"].parse::<u64>().unwrap() > 0);
    let be = stat_row(&csv, "app", "BACKEND");
    assert_eq!(be["req_tot"], "8");
    assert_eq!(be["algo"], "roundrobin");
    assert_eq!(be["act"], "2");
    let s1 = stat_row(&csv, "app", "s1");
    let s2 = stat_row(&csv, "app", "s2");
    let served: u64 = s1["lbtot"].parse::<u64>().unwrap() + s2["lbtot"].parse::<u64>().unwrap();
    assert_eq!(served, 8);
    assert_eq!(s1["lbtot"], "4", "round robin shares evenly");
    assert_eq!(s2["status"], "no check");
    assert_eq!(s1["addr"], f.origins[0].addr.to_string());
    // The `<iid> <type> <sid>` filter: servers (type 4) of the backend only.
    let iid = be["iid"].clone();
    let only = f.admin(&format!("show stat {iid} 4 -1\n"));
    assert_eq!(only.lines().filter(|l| l.starts_with("app,s")).count(), 2);
    assert!(
        !only.contains("FRONTEND") && !only.contains("BACKEND"),
        "{only}"
    );
    // typed and json carry the same figures.
    let typed = f.admin("show stat typed\n");
    assert!(
        typed
            .lines()
            .any(|l| l.starts_with("F.") && l.ends_with(".req_tot.1:MCP:u64:8")),
        "{typed}"
    );
    // Tagged per row as HAProxy 2.7 tags them: a backend's session rate and its peak are
    // gauges (a frontend's a rate and a peak), a server's act/bck statuses.
    for (row, field) in [
        ("B.", ".33.rate.1:MGP:u32:"),
        ("B.", ".35.rate_max.1:MGP:u32:"),
        ("F.", ".33.rate.1:MRP:u32:"),
        ("F.", ".35.rate_max.1:MMP:u32:"),
        ("S.", ".19.act.1:SGP:u32:"),
        ("S.", ".20.bck.1:SGP:u32:"),
    ] {
        assert!(
            typed
                .lines()
                .any(|l| l.starts_with(row) && l.contains(field)),
            "{row}…{field} in {typed}"
        );
    }
    let json = f.admin("show stat json\n");
    let parsed: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let fields = parsed.as_array().unwrap();
    assert_eq!(fields.len(), 4, "frontend, two servers, backend");
    assert_eq!(fields[0][0]["objType"], "Frontend");
    let info = f.admin("show info json\n");
    let info: serde_json::Value = serde_json::from_str(info.trim()).unwrap();
    let cum_req = info
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"]["name"] == "CumReq")
        .unwrap();
    // Every stream: the eight requests and the five Runtime API connections, this one included.
    assert_eq!(cum_req["value"]["value"], 13);
    let typed_info = f.admin("show info typed\n");
    assert!(
        typed_info.starts_with("0.Name.1:POS:str:HAProxy\n"),
        "{typed_info}"
    );
}

#[test]
fn server_state_changes_steer_traffic() {
    let f = Fixture::start("");
    assert_eq!(f.admin("set server app/s1 state maint\n"), "\n");
    for _ in 0..4 {
        let (code, body) = f.get("/");
        assert_eq!(code, 200);
        assert!(
            body.contains("name=b"),
            "maint server s1 got traffic: {body}"
        );
    }
    let state = f.admin("show servers state app\n");
    let s1 = state.lines().find(|l| l.contains(" s1 ")).unwrap();
    let cols: Vec<&str> = s1.split(' ').collect();
    assert_eq!(cols[6], "1", "srv_admin_state: forced maintenance: {s1}");
    let csv = f.admin("show stat\n");
    assert_eq!(stat_row(&csv, "app", "s1")["status"], "MAINT");
    // Back to ready, and s2 drained: traffic goes to s1 only.
    assert_eq!(
        f.admin("set server app/s1 state ready; set server app/s2 state drain\n"),
        "\n\n"
    );
    for _ in 0..4 {
        assert!(f.get("/").1.contains("name=a"));
    }
    assert_eq!(
        stat_row(&f.admin("show stat\n"), "app", "s2")["status"],
        "DRAIN"
    );
    assert_eq!(f.admin("set server app/s2 state ready\n"), "\n");
    // Weights.
    assert_eq!(f.admin("set server app/s2 weight 0\n"), "\n");
    assert_eq!(f.admin("get weight app/s2\n"), "0 (initial 1)\n\n");
    for _ in 0..3 {
        assert!(f.get("/").1.contains("name=a"));
    }
    assert_eq!(
        f.admin("set weight app/s2 1; disable server app/s1\n"),
        "\n\n"
    );
    assert!(f.get("/").1.contains("name=b"));
    assert_eq!(f.admin("enable server app/s1\n"), "\n");
    // A new address: s2 now points to s1's origin.
    let a = f.origins[0].addr;
    let moved = f.admin(&format!(
        "set server app/s2 addr {} port {}\n",
        a.ip(),
        a.port()
    ));
    assert!(moved.starts_with("IP changed from"), "{moved}");
    assert!(
        moved.contains(&format!(
            "port changed from '{}' to '{}'",
            f.origins[1].addr.port(),
            a.port()
        )),
        "{moved}"
    );
    for _ in 0..4 {
        assert!(f.get("/").1.contains("name=a"));
    }
    // Errors name what is wrong.
    assert_eq!(
        f.admin("set server app/nope state ready\n"),
        "No such server.\n\n"
    );
    assert_eq!(
        f.admin("set server nope/s1 state ready\n"),
        "No such backend.\n\n"
    );
    assert!(f
        .admin("set server app/s1 state sideways\n")
        .starts_with("'set server <srv> state' expects"));
    // Health: forced down, then the check brings it back. The check is disabled first: while
    // it runs (every 200 ms) it may bring s1 up again before any later command.
    assert_eq!(f.admin("disable health app/s1\n"), "\n");
    assert_eq!(f.admin("set server app/s1 health down\n"), "\n");
    assert!(f.admin("show stat\n").contains("\napp,s1,"));
    assert_eq!(
        stat_row(&f.admin("show stat\n"), "app", "s1")["status"],
        "DOWN"
    );
    assert_eq!(f.admin("enable health app/s1\n"), "\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while stat_row(&f.admin("show stat\n"), "app", "s1")["status"] != "UP" {
        assert!(
            std::time::Instant::now() < deadline,
            "the check never brought s1 back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn frontend_disable_and_maxconn() {
    let f = Fixture::start("");
    assert_eq!(f.admin("set maxconn frontend web 77\n"), "\n");
    assert_eq!(
        stat_row(&f.admin("show stat\n"), "web", "FRONTEND")["slim"],
        "77"
    );
    assert_eq!(f.admin("set maxconn global 500\n"), "\n");
    assert!(f.admin("show info\n").contains("\nMaxconn: 500\n"));
    assert_eq!(f.admin("disable frontend web\n"), "\n");
    assert_eq!(
        stat_row(&f.admin("show stat\n"), "web", "FRONTEND")["status"],
        "STOP"
    );
    assert_eq!(
        f.admin("disable frontend web\n"),
        "Frontend is already disabled.\n\n"
    );
    assert_eq!(f.admin("enable frontend web\n"), "\n");
    assert_eq!(f.get("/").0, 200);
    assert_eq!(f.admin("disable frontend nope\n"), "No such frontend.\n\n");
}

#[test]
fn anonymized_output_matches_hapee_anon() {
    let f = Fixture::start("");
    let plain = f.admin("show servers state\n");
    assert!(plain.contains(" app ") && plain.contains(" s1 "), "{plain}");
    let out = f.admin("set anon on 1234; show anon; show servers state; show servers conn\n");
    assert!(
        out.starts_with("\nAnonymized mode enabled\nKey : 1234\n"),
        "{out}"
    );
    for secret in [
        " app ".to_string(),
        " s1 ".to_string(),
        "app/s1".to_string(),
        f.origins[0].addr.ip().to_string(),
    ] {
        assert!(!out.contains(&secret), "{secret} leaked: {out}");
    }
    // The tokens are hapee-anon's for the same key.
    let mut anon = hapee_anon::keyed::Anonymizer::new(hapee_anon::keyed::key_from_text("1234"));
    let app = anon.name("app");
    let s1 = anon.name("s1");
    let ip = anon.ip(f.origins[0].addr.ip()).to_string();
    let line = out
        .lines()
        .find(|l| l.contains(&format!(" {s1} ")))
        .unwrap_or_else(|| panic!("no {s1} in {out}"));
    assert!(line.contains(&format!(" {app} ")), "{line}");
    assert!(line.contains(&format!(" {ip} ")), "{line}");
    // A user session sees the mode but not the key; errors are HAProxy's.
    assert_eq!(
        ask(&f.sock("user"), "set anon on 7; show anon\n"),
        "\nAnonymized mode enabled\n\n"
    );
    assert_eq!(
        f.admin("set anon on 0\n"),
        "Value out of range (1 to 4294967295 expected).\n\n"
    );
    assert_eq!(
        f.admin("set anon off 3\n"),
        "Key can't be added while disabling anonymized mode\n\n"
    );
    assert_eq!(f.admin("show anon\n"), "Anonymized mode disabled\n\n");
}

/// A tmux server of its own for one test, killed at the end.
struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.0)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "hatop"])
    }

    /// Waits until the pane shows `what`.
    fn wait_for(&self, what: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let pane = self.pane();
            if pane.contains(what) {
                return pane;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {what:?} in:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn hatop_lists_proxies_and_drives_servers() {
    if !tool("tmux", &["-V"]) || !tool("hatop", &["--version"]) {
        return;
    }
    let f = Fixture::start("");
    let tmux = Tmux(format!("hapee-hatop-{}", f.port));
    let command = format!("hatop -s {}", f.sock("admin").display());
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "hatop",
        "-x",
        "200",
        "-y",
        "50",
        &command,
    ]);
    let pane = tmux.wait_for(">>> app");
    assert!(pane.contains("HAProxy Version: 2.7.0"), "{pane}");
    assert!(pane.contains(">>> web"), "{pane}");
    let line = |name: &str| {
        pane.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in:\n{pane}"))
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(line("FRONTEND")[2], "OPEN");
    assert_eq!(line("s1")[2], "UP");
    assert_eq!(
        line("s2")[2],
        "-",
        "hatop shows a server without check as '-'"
    );
    assert_eq!(line("BACKEND")[2], "UP");
    // hatop's CLI mode (key 5): put s1 into maintenance; traffic skips it.
    tmux.run(&["send-keys", "-t", "hatop", "5"]);
    tmux.wait_for("haproxy command line");
    tmux.run(&["send-keys", "-t", "hatop", "disable server app/s1", "Enter"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stat_row(&f.admin("show stat\n"), "app", "s1")["status"] != "MAINT" {
        assert!(
            std::time::Instant::now() < deadline,
            "hatop's command never arrived:\n{}",
            tmux.pane()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for _ in 0..4 {
        assert!(f.get("/").1.contains("name=b"));
    }
    // Back to the status view: s1 is listed in maintenance.
    tmux.run(&["send-keys", "-t", "hatop", "Escape", "1"]);
    tmux.wait_for("MAINT");
}

#[test]
fn maps_and_acls_change_at_once_on_every_thread() {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-maps-{}-{port}", std::process::id()));
    let map = dir.join("hosts.map");
    let acl = dir.join("blocked.acl");
    std::fs::write(&map, "/a alpha\n/b beta\n").unwrap();
    std::fs::write(&acl, "# nobody yet\n10.99.0.0/16\n").unwrap();
    let sock = dir.join("admin.sock");
    let config = format!(
        "global
    nbthread 2
    stats socket {} level admin
{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    http-request deny if {{ src -f {} }}
    http-request return status 200 content-type text/plain lf-string \"%[path,map({},none)]\"
",
        sock.display(),
        acl.display(),
        map.display()
    );
    let _proxy = Proxy::start(&config, port);
    let get = |path: &str| curl(&[&format!("http://127.0.0.1:{port}{path}")]);
    assert_eq!(get("/a"), (200, "alpha".into()));
    assert_eq!(get("/c"), (200, "none".into()));
    let m = map.display().to_string();
    let listing = ask(&sock, "show map\n");
    assert!(
        listing.starts_with("# id (file) description\n"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("({m}) pattern loaded from file '{m}'")),
        "{listing}"
    );
    assert!(listing.contains("entry_cnt=2"), "{listing}");
    assert_eq!(ask(&sock, &format!("add map {m} /c gamma\n")), "\n");
    assert_eq!(ask(&sock, &format!("set map {m} /a ALPHA\n")), "\n");
    assert_eq!(ask(&sock, &format!("del map {m} /b\n")), "\n");
    assert_eq!(
        ask(&sock, &format!("del map {m} /b\n")),
        "Key not found.\n\n"
    );
    assert_eq!(
        ask(&sock, &format!("set map {m} /zz x\n")),
        "entry not found.\n\n"
    );
    assert_eq!(
        ask(&sock, "add map /no/such.map k v\n"),
        "Unknown map identifier. Please use #<id> or <file>.\n\n"
    );
    // Every request, on whichever thread, sees the new contents.
    for _ in 0..6 {
        assert_eq!(get("/a"), (200, "ALPHA".into()));
        assert_eq!(get("/b"), (200, "none".into()));
        assert_eq!(get("/c"), (200, "gamma".into()));
    }
    let entries = ask(&sock, &format!("show map {m}\n"));
    let lines: Vec<&str> = entries.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{entries}");
    assert!(
        lines[0].starts_with("0x") && lines[0].ends_with(" /a ALPHA"),
        "{entries}"
    );
    // Delete by the id `show map` printed.
    let id = lines[1].split(' ').next().unwrap();
    assert_eq!(ask(&sock, &format!("del map {m} #{id}\n")), "\n");
    assert_eq!(get("/c"), (200, "none".into()));
    // ACL patterns: block 127.0.0.1, then unblock it.
    let a = acl.display().to_string();
    assert_eq!(
        ask(&sock, &format!("add acl {a} nonsense\n")),
        "'nonsense' is not a valid IPv4 or IPv6 address.\n\n"
    );
    assert_eq!(ask(&sock, &format!("add acl {a} 127.0.0.0/8\n")), "\n");
    for _ in 0..4 {
        assert_eq!(get("/a").0, 403);
    }
    assert!(ask(&sock, &format!("show acl {a}\n")).contains(" 127.0.0.0/8\n"));
    assert_eq!(ask(&sock, &format!("del acl {a} 127.0.0.0/8\n")), "\n");
    assert_eq!(get("/a").0, 200);
    assert_eq!(ask(&sock, &format!("clear map {m}\n")), "\n");
    assert_eq!(get("/a"), (200, "none".into()));
}

#[test]
fn show_sess_lists_live_sessions_and_anonymizes_them() {
    let f = Fixture::start("");
    assert_eq!(ask(&f.sock("user"), "show sess\n"), "Permission denied\n\n");
    // A client that holds its connection open after one request.
    let mut held = std::net::TcpStream::connect(("127.0.0.1", f.port)).unwrap();
    held.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    held.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = held.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let me = held.local_addr().unwrap();
    let list = f.admin("show sess\n");
    let line = list
        .lines()
        .find(|l| l.contains(&format!("src={me}")))
        .unwrap_or_else(|| panic!("no session from {me} in:\n{list}"));
    assert!(line.starts_with("0x"), "{line}");
    assert!(
        line.contains(" proto=tcpv4 ") && line.contains(" fe=web be=app srv=s"),
        "{line}"
    );
    let id = line.split(':').next().unwrap().trim_start_matches("0x");
    let one = f.admin(&format!("show sess {id}\n"));
    assert!(one.contains("fe=web"), "{one}");
    assert_eq!(f.admin("show sess ffffffff\n"), "Session not found.\n\n");
    // Anonymized: no address, frontend, backend or server name; hapee-anon's tokens.
    let anon = f.admin("set anon on 42; show sess\n");
    for secret in ["127.0.0.1", "web", "app", "=s1", "=s2"] {
        assert!(!anon.contains(secret), "{secret} in {anon}");
    }
    let mut a = hapee_anon::keyed::Anonymizer::new(hapee_anon::keyed::key_from_text("42"));
    assert!(anon.contains(&format!("fe={}", a.name("web"))), "{anon}");
    assert!(
        anon.contains(&format!("src={}:{}", a.ip(me.ip()), me.port())),
        "{anon}"
    );
    drop(held);
}

#[test]
fn maxconn_set_at_run_time_holds_new_connections() {
    let f = Fixture::start("");
    assert_eq!(f.admin("set maxconn frontend web 1\n"), "\n");
    let mut held = std::net::TcpStream::connect(("127.0.0.1", f.port)).unwrap();
    held.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    held.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(held.read(&mut buf).unwrap() > 0);
    // The one slot is taken: a second client is not served while it is.
    let (code, _) = curl(&["--max-time", "2", &format!("http://127.0.0.1:{}/", f.port)]);
    assert_eq!(code, 0, "a second connection was served past maxconn 1");
    drop(held);
    assert_eq!(f.admin("set maxconn frontend web 100\n"), "\n");
    assert_eq!(f.get("/").0, 200);
}

/// A command line longer than a buffer never ends within what HAProxy's CLI reads: the
/// connection closes without an answer (a FIN, what came past dropped), as HAProxy's does;
/// a shorter one is answered. Side by side with Debian's haproxy.
#[test]
fn a_line_longer_than_a_buffer_closes_the_cli() {
    let cfg = |port: u16| {
        format!(
            "global\n    stats socket 127.0.0.1:{port} level admin\n    stats timeout 3s\n{DEFAULTS}"
        )
    };
    let drive = |port: u16| {
        let send = |line: &[u8]| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(line).unwrap();
            let mut got = Vec::new();
            match s.read_to_end(&mut got) {
                Ok(_) => String::from_utf8_lossy(&got).into_owned(),
                Err(e) => format!("<{:?}>", e.kind()),
            }
        };
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(20_000));
        let short = format!("GET /{} HTTP/1.1\r\n", "a".repeat(1_000));
        (send(long.as_bytes()), send(short.as_bytes()))
    };
    let (mine, theirs) = crate::harness::both(cfg, drive);
    assert_eq!(mine.0, "", "hapee answered a 20 kB line");
    assert!(
        mine.1.starts_with("Unknown command: 'GET'"),
        "{:?}",
        &mine.1[..mine.1.len().min(80)]
    );
    if let Some(theirs) = theirs {
        // HAProxy closes at once, or (a race between its reads and its parser) holds the
        // connection until a timeout: either way without an answer.
        assert!(
            theirs.0.is_empty() || theirs.0.starts_with('<'),
            "{:?}",
            theirs.0
        );
        // Debian's 2.6 does not name the command (2.7 does).
        assert!(theirs.1.starts_with("Unknown command"), "{:?}", theirs.1);
    }
}
