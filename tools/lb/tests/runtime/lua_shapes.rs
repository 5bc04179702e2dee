//! The objects scripts get have HAProxy's shapes (`testdata/lua/shapes.lua`): `txn.http`,
//! `txn.req`/`txn.res`, `txn.f`/`sf`/`c`/`sc`, `AppletHTTP` and `AppletTCP` are tables that
//! `pairs()` walks, on which a script sets fields, whose metatable their class shares, and whose
//! methods take the table as `self`, and so are the proxies and servers of `core.proxies` and
//! `core.backends`; side by side with Debian's haproxy.

use super::harness::{both, curl, free_ports, with_haproxy_until, Proxy, Scratch, DEFAULTS};
use super::lua_runtime_api::cli;
use std::io::Read;
use std::path::PathBuf;

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/shapes.lua");
    p.canonicalize().unwrap().display().to_string()
}

#[test]
fn txn_parts_and_applets_are_tables_as_in_haproxy() {
    let file = script();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.applet if {{ path_beg /applet }}\n    http-request lua.shapes\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.shapes)]\"\nfrontend tcp\n    mode tcp\n    bind 127.0.0.1:{}\n    tcp-request content use-service lua.tcpshape\n",
            port + 1
        )
    };
    let ask = |port: u16| {
        let txn = curl(&["-H", "x-a: one", &format!("http://127.0.0.1:{port}/")]);
        let applet = curl(&[
            "-H",
            "x-a: two",
            "--data-binary",
            "body",
            &format!("http://127.0.0.1:{port}/applet/p?q=1"),
        ]);
        let mut tcp = String::new();
        std::net::TcpStream::connect(("127.0.0.1", port + 1))
            .and_then(|mut s| s.read_to_string(&mut tcp))
            .unwrap();
        (txn, applet, tcp)
    };
    let port = free_ports(2);
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    let table = "table[0]";
    let expected_txn = [
        format!("http={table}"),
        format!("req={table}"),
        format!("res={table}"),
        format!("f={table}"),
        format!("sf={table}"),
        format!("c={table}"),
        format!("sc={table}"),
        "true".into(),
        "true".into(),
        "true".into(),
        "set".into(),
        "one".into(),
        "false/true".into(),
        "one/AB".into(),
    ]
    .join(";");
    assert_eq!(ours.0, (200, expected_txn), "{}", p.stderr());
    assert_eq!(
        ours.1,
        (
            200,
            "table[0 c f headers length method path qs response sc sf version];table[0];POST;/applet/p;q=1;HTTP/1.1;4;two;127.0.0.1;AB;the sample-fetch 'req.hdr' needs an HTTP parser which is not available in Lua services;set"
                .to_string()
        ),
        "{}",
        p.stderr()
    );
    assert_eq!(
        ours.2,
        format!("table[0 c f sc sf];table[0];{}\n", port + 1)
    );
    drop(p);
    // The TCP service's last part is the port, which differs.
    let without_port = |r: &((u16, String), (u16, String), String)| {
        (
            r.0.clone(),
            r.1.clone(),
            r.2.rsplit_once(';').map(|(a, _)| a.to_string()),
        )
    };
    if let Some((theirs, _)) = with_haproxy_until(2, cfg, ask, |_| true) {
        assert_eq!(
            without_port(&ours),
            without_port(&theirs),
            "hapee and haproxy differ"
        );
    }
}

/// A `core.register_cli` command's applet is an `AppletTCP` table (`[0]`, `f`, `sf`, `c`,
/// `sc`) with that class's methods and no others, and gets the command's words.
#[test]
fn cli_applets_are_tcp_applet_tables_as_in_haproxy() {
    let file = script();
    let socket_name = |port: u16| format!("hapee-shape-cli-{port}.sock");
    let socket = |port: u16| std::env::temp_dir().join(socket_name(port));
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        let _ = std::fs::remove_file(socket(port));
        sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
        format!(
            "global\n    lua-load {file}\n    stats socket {} level admin\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request return status 200\n",
            socket(port).display()
        )
    };
    let (ours, theirs) = both(cfg, |port| cli(&socket(port), "shape a b"));
    assert_eq!(
        ours,
        "table[0 c f sc sf];table[0];nil;function;function;shape,a,b\n\n"
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

#[test]
fn proxies_and_servers_are_tables_as_in_haproxy() {
    let file = script();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.proxies\nbackend app\n    server s1 127.0.0.1:1 weight 7\n"
        )
    };
    let (ours, theirs) = both(cfg, |port| curl(&[&format!("http://127.0.0.1:{port}/")]));
    assert_eq!(
        ours,
        (
            200,
            "table[0 listeners name servers uuid];table[0 listeners name servers uuid];table[0 name puid];table[s1];string;string;s1;app;true;true;true;http;frontend;7"
                .into()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
