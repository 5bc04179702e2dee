//! The Lua API that reaches into the running proxy (`testdata/lua/runtime_api.lua`): ACL and
//! map changes seen by the rules, server setters seen by the Runtime API, proxy objects,
//! `core.register_cli` on the stats socket, `core.httpclient()`, `core.tcp()` and the request
//! `Channel` of a TCP-mode stream, all through real sockets.

use super::harness::{curl, free_port, with_haproxy, Origin, Proxy, Scratch, DEFAULTS};
use std::path::PathBuf;
use std::time::Duration;

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/runtime_api.lua");
    p.canonicalize().unwrap().display().to_string()
}

struct Setup {
    proxy: Proxy,
    /// The folder of its socket and pattern files, removed after the proxy stops.
    _dir: Scratch,
    port: u16,
    tcp_port: u16,
    socket: PathBuf,
    origin: Origin,
}

/// The configuration on `port` (HTTP) and `tcp_port`, its files in `dir`.
fn config(port: u16, tcp_port: u16, dir: &std::path::Path, origin: std::net::SocketAddr) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let acl = dir.join("blocked.acl");
    let map = dir.join("tags.map");
    std::fs::write(&acl, "/blocked\n").unwrap();
    std::fs::write(&map, "/tagged one\n").unwrap();
    let socket = dir.join("admin.sock");
    format!(
        "global\n    lua-load {} {} {}\n    stats socket {} level admin\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    acl blocked path -f {}\n    http-request use-service lua.admin if {{ path_beg /acl/ }} || {{ path_beg /map/ }} || {{ path_beg /srv/ }} || {{ path /proxy }} || {{ path /client }} || {{ path /socket }}\n    http-request deny if blocked\n    http-request set-header x-tag %[path,map({},none)]\n    default_backend be\nfrontend tcpfe\n    mode tcp\n    bind 127.0.0.1:{tcp_port}\n    tcp-request inspect-delay 5s\n    tcp-request content lua.rewrite if {{ req.len gt 0 }}\n    default_backend tcpbe\nbackend be\n    server s1 {origin}\nbackend tcpbe\n    mode tcp\n    server s1 {origin}\n",
        script(),
        acl.display(),
        map.display(),
        socket.display(),
        acl.display(),
        map.display(),
    )
}

fn dir_for(port: u16, who: &str) -> Scratch {
    Scratch::dir(&format!(
        "hapee-lua-api-{who}-{}-{port}",
        std::process::id()
    ))
}

fn start() -> Setup {
    let origin = Origin::start("origin");
    let port = free_port();
    let tcp_port = free_port();
    let dir = dir_for(port, "hapee");
    let cfg = config(port, tcp_port, &dir, origin.addr);
    let proxy = Proxy::start(&cfg, port);
    Setup {
        proxy,
        socket: dir.join("admin.sock"),
        _dir: dir,
        port,
        tcp_port,
        origin,
    }
}

fn get(port: u16, path: &str) -> (u16, String) {
    curl(&[&format!("http://127.0.0.1:{port}{path}")])
}

#[test]
fn scripts_change_the_acls_and_maps_the_rules_read() {
    let s = start();
    assert_eq!(get(s.port, "/blocked").0, 403, "{}", s.proxy.stderr());
    assert_eq!(get(s.port, "/acl/del?/blocked"), (200, "deleted\n".into()));
    assert_eq!(get(s.port, "/blocked").0, 200);
    assert_eq!(get(s.port, "/acl/add?/later").1, "added\n");
    assert_eq!(get(s.port, "/later").0, 403);
    let (_, body) = get(s.port, "/tagged");
    assert!(body.contains("hdr:x-tag=one"), "{body}");
    assert_eq!(get(s.port, "/map/set?/tagged=two").1, "set\n");
    assert_eq!(get(s.port, "/map/set?/new=three").1, "set\n");
    assert!(get(s.port, "/tagged").1.contains("hdr:x-tag=two"));
    assert!(get(s.port, "/new").1.contains("hdr:x-tag=three"));
    assert_eq!(get(s.port, "/map/del?/new").1, "deleted\n");
    assert!(get(s.port, "/new").1.contains("hdr:x-tag=none"));
}

/// What the stats socket answers to `command`.
pub(crate) fn cli(socket: &std::path::Path, command: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The server and proxy handlers' answers, in order, on a proxy listening on `port`.
fn server_answers(port: u16) -> Vec<(u16, String)> {
    [
        "/srv/info",
        "/srv/weight?50",
        "/srv/weight?999",
        "/srv/maint",
        "/",
        "/srv/drain",
        "/srv/ready",
        "/",
        "/proxy",
    ]
    .iter()
    .map(|p| {
        let (code, body) = get(port, p);
        // Only the status of the origin's answers: their bodies name each proxy's ports.
        if *p == "/" {
            (code, String::new())
        } else {
            (code, body)
        }
    })
    .collect()
}

#[test]
fn server_and_proxy_objects_read_and_change_the_running_servers() {
    let s = start();
    let ours = server_answers(s.port);
    let expected: Vec<(u16, String)> = [
        (200, "s1 1 s1\n"),
        (200, "nil 50\n"),
        (
            200,
            "Absolute weight can only be between 0 and 256 inclusive. 50\n",
        ),
        (200, "MAINT\n"),
        (503, ""),
        (200, "DRAIN 1\n"),
        (200, "no check\n"),
        (200, ""),
        (200, "frontend http backend be be\n"),
    ]
    .iter()
    .map(|(c, b)| (*c, b.to_string()))
    .collect();
    assert_eq!(ours, expected, "{}", s.proxy.stderr());
    assert_eq!(cli(&s.socket, "get weight be/s1"), "50 (initial 1)\n\n");
    // A new address takes the traffic: nothing listens there.
    let dead = free_port();
    assert_eq!(
        get(s.port, &format!("/srv/addr?127.0.0.1:{dead}")).1,
        format!("nil 127.0.0.1:{dead}\n")
    );
    assert_eq!(get(s.port, "/").0, 503);
    let origin = s.origin.addr;
    // Each HAProxy run's folder lives until the comparison is over.
    let dirs = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        let dir = dir_for(port, "haproxy");
        let cfg = config(port, free_port(), &dir, origin);
        dirs.borrow_mut().push(dir);
        cfg
    };
    if let Some((theirs, _)) = with_haproxy(cfg, server_answers) {
        // Debian's 2.6 has no `puid` on server objects yet: its first answer is an error.
        assert_eq!(ours[1..], theirs[1..], "hapee and haproxy differ");
    }
}

#[test]
fn register_cli_adds_a_runtime_api_command() {
    let s = start();
    assert_eq!(
        cli(&s.socket, "lua greet bob"),
        "hello bob\n\n",
        "{}",
        s.proxy.stderr()
    );
    // Built-in commands are still there, and unknown ones still get the usage text.
    assert!(cli(&s.socket, "show info").contains("Name: "));
    assert!(cli(&s.socket, "lua nothing").contains("Unknown command"));
}

#[test]
fn httpclient_and_cosockets_reach_a_server_without_holding_the_thread() {
    let s = start();
    let (code, body) = get(s.port, &format!("/client?http://{}/hc", s.origin.addr));
    assert_eq!(code, 200, "{}", s.proxy.stderr());
    let (status, echoed) = body.split_once('\n').unwrap();
    assert_eq!(status, "200 origin");
    assert!(echoed.contains("method=POST"), "{echoed}");
    assert!(echoed.contains("path=/hc"));
    assert!(echoed.contains("hdr:x-from=lua"));
    assert!(echoed.contains("hdr:user-agent=HAProxy"));
    assert!(echoed.contains("body=payload"));
    // Nothing listens: after its retries the client's proxy answers HAProxy's 503 page.
    let dead = free_port();
    let (_, body) = get(s.port, &format!("/client?http://127.0.0.1:{dead}/"));
    assert!(body.starts_with("503 "), "{body}");
    let (_, body) = get(s.port, &format!("/socket?{}", s.origin.addr));
    assert_eq!(body, "HTTP/1.1 200 OK|true|nil|connection closed.\n");
}

#[test]
fn a_tcp_request_content_action_rewrites_the_held_request() {
    let s = start();
    let (code, body) = curl(&[&format!("http://127.0.0.1:{}/old/page", s.tcp_port)]);
    assert_eq!(code, 200, "{}", s.proxy.stderr());
    assert!(body.contains("path=/new/page"), "{body}");
    // The header the script added says how many bytes were left after the request line.
    assert!(body.contains("hdr:x-channel="), "{body}");
}
