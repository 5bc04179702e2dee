//! HAProxy's own public Lua scripts, from the reg-tests of github.com/haproxy/haproxy at tag
//! v2.7.0 (`reg-tests/lua/*.lua` and `reg-tests/server/get_srv_stats.lua`, kept in the shared
//! corpus), run unchanged with the configurations of their `.vtc` files, through real sockets,
//! side by side with Debian's haproxy: the HTTP client from a task and from a `tcp-request
//! content` action (with `dst` to a UNIX socket), cosockets from a task, converters given
//! values of the wrong type, and a fetch walking the backends' servers that returns a table.

use super::harness::{
    both_reading, both_with, corpus_path, curl, free_port, has_head, raw_server, raw_until,
    wait_until, with_haproxy, Origin, Proxy, Scratch, DEFAULTS,
};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The reg-test script `reg-tests/lua/<name>` of haproxy v2.7.0 from the shared corpus, or
/// `None` (a failure under CI) when the corpus is not there.
fn regtest(name: &str) -> Option<String> {
    corpus_path(&format!("lua/{name}"))
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// `reg-tests/lua/lua_httpclient.lua`: a service takes three destinations from the request's
/// headers (`applet.headers[...][0]`); a task (`core.register_task`) waiting on them with
/// `core.msleep` then POSTs 2001 lines to the first server, POSTs the answer to the second,
/// and GETs from a `listen` section bound on a UNIX socket given as `dst = "unix@…"`, which
/// forwards to the third. Each server gets its one request, on each side.
#[test]
fn haproxy_regtest_lua_httpclient_runs_unchanged() {
    let Some(file) = regtest("lua_httpclient.lua") else {
        return;
    };
    let socket_name = |port: u16| format!("hapee-lua-hc-{port}.sock");
    let socket = |port: u16| std::env::temp_dir().join(socket_name(port));
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let servers = || {
        [
            Origin::start("s1"),
            Origin::start("s2"),
            Origin::start("s3"),
        ]
    };
    let cfg = |port: u16, s: &[Origin; 3]| {
        let _ = std::fs::remove_file(socket(port));
        sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe1\n    bind 127.0.0.1:{port}\n    default_backend b1\nbackend b1\n    http-request use-service lua.fakeserv\nlisten li1\n    bind unix@{}\n    server srv3 {}\n",
            socket(port).display(),
            s[2].addr
        )
    };
    let drive = |port: u16, s: &[Origin; 3]| {
        let answer = curl(&[
            "-H",
            &format!("vtcport: {}", s[0].addr.port()),
            "-H",
            &format!("vtcport2: {}", s[1].addr.port()),
            "-H",
            &format!("vtcport3: unix@{}", socket(port).display()),
            &url(port, "/"),
        ]);
        let hits = || s.iter().map(|o| o.hits.load(Ordering::SeqCst)).collect();
        let all = wait_until(Duration::from_secs(10), || hits() == vec![1, 1, 1]);
        (answer, all, hits())
    };
    let (ours, theirs) = both_with(servers, cfg, drive);
    assert_eq!(ours, ((200, "OK".to_string()), true, vec![1, 1, 1]));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// `reg-tests/lua/httpclient_action.lua`: a `tcp-request content` action in an HTTP `listen`
/// GETs `http://127.0.0.1` (nothing listens on port 80 here) and the rules go on to
/// `http-request return status 503`.
#[test]
fn haproxy_regtest_httpclient_action_runs_unchanged() {
    let Some(file) = regtest("httpclient_action.lua") else {
        return;
    };
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\ndefaults\n    mode tcp\n    timeout http-request 10s\n    timeout queue 1m\n    timeout connect 10s\n    timeout client 1m\n    timeout server 1m\n    timeout check 10s\nlisten li1\n    mode http\n    bind 127.0.0.1:{port}\n    tcp-request inspect-delay 10ms\n    tcp-request content lua.test\n    http-request return status 503\n"
        )
    };
    let ask = |port: u16| curl(&[&url(port, "/")]).0;
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    assert_eq!(ask(port), 503, "{}", p.stderr());
    drop(p);
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(theirs, 503);
    }
}

/// `reg-tests/lua/lua_socket.lua`: a task waits until a service has read a port from a
/// request header, connects there with `core.tcp()`, sends a request and reads with
/// `receive("*a")` until the server closes, then logs what it received.
#[test]
fn haproxy_regtest_lua_socket_runs_unchanged() {
    let Some(file) = regtest("lua_socket.lua") else {
        return;
    };
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n01234567890123456789",
        Duration::ZERO,
        Duration::ZERO,
    );
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe1\n    bind 127.0.0.1:{port}\n    default_backend b1\nbackend b1\n    http-request use-service lua.fakeserv\n"
        )
    };
    let received = "Received: HTTP/1.1 200 OK";
    let drive = |port: u16, side: &super::harness::Side| {
        let answer = curl(&[
            "-H",
            &format!("vtcport: {}", server.port()),
            &url(port, "/"),
        ]);
        let logged = wait_until(Duration::from_secs(10), || side.stderr().contains(received));
        let body_read = side.stderr().contains("01234567890123456789");
        (answer, logged, body_read)
    };
    let (ours, theirs) = both_reading(1, cfg, drive);
    assert_eq!(ours, ((200, "OK".to_string()), true, true));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// `reg-tests/lua/wrong_types_usage.lua`: `txn.sc:ipmask(txn.f:src(), 24, 112)` in an
/// `http-request` action, from two clients at once: the converter reads the address from the
/// fetch's text and the requests reach the server.
#[test]
fn haproxy_regtest_wrong_types_usage_runs_unchanged() {
    let Some(file) = regtest("wrong_types_usage.lua") else {
        return;
    };
    let origin = Origin::start("s1");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe1\n    bind 127.0.0.1:{port}\n    default_backend b1\n    http-request lua.foo\nbackend b1\n    server s1 {}\n",
            origin.addr
        )
    };
    let ask = |port: u16| {
        let clients: Vec<_> = (0..2)
            .map(|_| {
                let u = url(port, "/foo");
                std::thread::spawn(move || curl(&[&u]).0)
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    assert_eq!(ask(port), vec![200, 200], "{}", p.stderr());
    drop(p);
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(theirs, vec![200, 200]);
    }
}

/// `reg-tests/server/get_srv_stats.lua` (of `reg-tests/server/cli_delete_server_lua.vtc`): a
/// fetch walks `core.backends` and their `servers` for `s1` and returns its `get_stats()`
/// table, which `http-request add-header` writes: a table is no sample value, so HAProxy
/// makes it the boolean false, written `0`.
#[test]
fn haproxy_regtest_get_srv_stats_runs_unchanged() {
    let Some(file) = corpus_path("server/get_srv_stats.lua") else {
        return;
    };
    let origin = Origin::start("s1");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend test\nbackend test\n    http-request add-header s1-stats %[lua.get_srv_stats(s1)]\n    server s1 {}\n",
            origin.addr
        )
    };
    let ask = |port: u16| {
        let (code, body) = curl(&[&url(port, "/")]);
        let header = body
            .lines()
            .find(|l| l.starts_with("hdr:s1-stats"))
            .map(String::from);
        (code, header)
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    assert_eq!(
        ours,
        (200, Some("hdr:s1-stats=0".to_string())),
        "{}",
        p.stderr()
    );
    drop(p);
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// `reg-tests/lua/close_wait_lf.lua`: a service that sends nothing, asked by requests whose
/// lines end in a bare LF. HAProxy answers 500 without an alert and logs the request with its
/// timers; no connection is left in CLOSE-WAIT. (The reg-test's request has no `Host` header,
/// which hapee's HTTP/1.1 parser refuses with a 400 where HAProxy accepts it: the request here
/// names one.)
#[test]
fn haproxy_regtest_close_wait_lf_runs_unchanged() {
    let Some(file) = regtest("close_wait_lf.lua") else {
        return;
    };
    let cfg = |port: u16| {
        format!(
            "defaults\n    timeout client 5s\n    timeout connect 5s\nglobal\n    lua-load {file}\nfrontend frt\n    log stdout format raw local0 debug err\n    log-format Ta=%Ta\\ Tc=%Tc\\ Td=%Td\\ Th=%Th\\ Ti=%Ti\\ Tq=%Tq\\ TR=%TR\\ Tr=%Tr\\ Tt=%Tt\\ Tw=%Tw\n    mode http\n    bind 127.0.0.1:{port}\n    http-request use-service lua.donothing\n"
        )
    };
    const REQUESTS: usize = 5;
    let timers = |log: &str| -> Vec<String> {
        log.lines()
            // The requests' lines (a connection closed before sending one, such as the
            // harness's probe of the port, logs `TR=-1`).
            .filter(|l| l.starts_with("Ta=") && !l.contains(" TR=-1 "))
            .map(|l| {
                // The names of the timers and whether each is a number; durations vary.
                l.split(' ')
                    .map(|f| {
                        let (name, value) = f.split_once('=').unwrap_or((f, ""));
                        format!("{name}:{}", value.parse::<i64>().is_ok())
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let drive = |port: u16, side: &super::harness::Side| {
        let statuses: Vec<String> = (0..REQUESTS)
            .map(|_| {
                // The 500's head is waited for (the connection may stay open after it).
                let answer = raw_until(
                    port,
                    b"GET / HTTP/1.1\nHost: a\n\n",
                    has_head,
                    Duration::from_secs(20),
                );
                answer.lines().next().unwrap_or("").to_string()
            })
            .collect();
        let logged = side.selected(timers, REQUESTS);
        let close_wait = wait_until(Duration::from_secs(5), || {
            let ss = std::process::Command::new("ss")
                .args(["-tn", "state", "close-wait"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            !ss.contains(&format!("127.0.0.1:{port} "))
        });
        let alerted = side.stderr().contains("Lua applet");
        (statuses, logged, close_wait, alerted)
    };
    let (ours, theirs) = both_reading(1, cfg, drive);
    let timer_names =
        "Ta:true Tc:true Td:true Th:true Ti:true Tq:true TR:true Tr:true Tt:true Tw:true";
    assert_eq!(
        ours,
        (
            vec!["HTTP/1.1 500 Internal Server Error".to_string(); REQUESTS],
            vec![timer_names.to_string(); REQUESTS],
            true,
            false
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
