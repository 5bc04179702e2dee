//! The Lua API that reaches into the running proxy (`testdata/lua/runtime_api.lua`): ACL and
//! map changes seen by the rules, server setters seen by the Runtime API, proxy objects,
//! `core.register_cli` on the stats socket, `core.httpclient()`, `core.tcp()` and the request
//! `Channel` of a TCP-mode stream, all through real sockets.

use super::harness::{curl, free_port, Origin, Proxy, DEFAULTS};
use std::path::PathBuf;
use std::time::Duration;

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/runtime_api.lua");
    p.canonicalize().unwrap().display().to_string()
}

struct Setup {
    proxy: Proxy,
    port: u16,
    tcp_port: u16,
    socket: PathBuf,
    origin: Origin,
}

fn start() -> Setup {
    let origin = Origin::start("origin");
    let port = free_port();
    let tcp_port = free_port();
    let dir = std::env::temp_dir().join(format!("hapee-lua-api-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let acl = dir.join("blocked.acl");
    let map = dir.join("tags.map");
    std::fs::write(&acl, "/blocked\n").unwrap();
    std::fs::write(&map, "/tagged one\n").unwrap();
    let socket = dir.join("admin.sock");
    let cfg = format!(
        "global\n    lua-load {} {} {}\n    stats socket {} level admin\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    acl blocked path -f {}\n    http-request use-service lua.admin if {{ path_beg /acl/ }} || {{ path_beg /map/ }} || {{ path_beg /srv/ }} || {{ path /proxy }} || {{ path /client }} || {{ path /socket }}\n    http-request deny if blocked\n    http-request set-header x-tag %[path,map({},none)]\n    default_backend be\nfrontend tcpfe\n    mode tcp\n    bind 127.0.0.1:{tcp_port}\n    tcp-request inspect-delay 5s\n    tcp-request content lua.rewrite if {{ req.len gt 0 }}\n    default_backend tcpbe\nbackend be\n    server s1 {}\nbackend tcpbe\n    mode tcp\n    server s1 {}\n",
        script(),
        acl.display(),
        map.display(),
        socket.display(),
        acl.display(),
        map.display(),
        origin.addr,
        origin.addr,
    );
    let proxy = Proxy::start(&cfg, port);
    Setup {
        proxy,
        port,
        tcp_port,
        socket,
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
fn cli(socket: &std::path::Path, command: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn server_and_proxy_objects_read_and_change_the_running_servers() {
    let s = start();
    assert_eq!(
        get(s.port, "/srv/info").1,
        "s1 1 s1\n",
        "{}",
        s.proxy.stderr()
    );
    assert_eq!(get(s.port, "/srv/weight?50").1, "nil 50\n");
    assert_eq!(cli(&s.socket, "get weight be/s1"), "50 (initial 1)\n\n");
    assert!(get(s.port, "/srv/weight?999")
        .1
        .starts_with("Absolute weight"));
    assert_eq!(get(s.port, "/srv/maint").1, "MAINT\n");
    assert_eq!(get(s.port, "/").0, 503);
    assert_eq!(get(s.port, "/srv/drain").1, "DRAIN true\n");
    assert_eq!(get(s.port, "/srv/ready").1, "no check\n");
    assert_eq!(get(s.port, "/").0, 200);
    // A new address takes the traffic: nothing listens there.
    let dead = free_port();
    assert_eq!(
        get(s.port, &format!("/srv/addr?127.0.0.1:{dead}")).1,
        format!("nil 127.0.0.1:{dead}\n")
    );
    assert_eq!(get(s.port, "/").0, 503);
    assert_eq!(get(s.port, "/proxy").1, "frontend http backend be be\n");
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
    // Nothing listens: HAProxy's client answers status 0.
    let dead = free_port();
    let (_, body) = get(s.port, &format!("/client?http://127.0.0.1:{dead}/"));
    assert!(body.starts_with("0 "), "{body}");
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
