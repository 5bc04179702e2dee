//! A script fetches, and may change, the message of the rules or filter callback it runs in,
//! as in HAProxy 2.7 (`testdata/lua/sides.lua`): in a response rule `hdr` and `cookie` read
//! the response and the request's volatile parts (path, headers) are gone while its method
//! stays; `txn.http`'s functions of the other side fail with their last argument as the
//! error; the private value of the stream's actions reaches its script fetches (a rule's and
//! the log's), while each direction of a filter keeps one of its own. Side by side with
//! HAProxy 2.7.0 when it is there.

use super::harness::{curl, free_ports, haproxy_27, Haproxy, Proxy, DEFAULTS};

fn config(port: u16) -> String {
    let script = super::lua_public::script("sides.lua");
    format!(
        "global\n    lua-load {script}\n    log stdout format raw local0\n{DEFAULTS}    log global\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   log-format \"done %[var(txn.w)] %[var(txn.side)] %[lua.priv]\"\n\
         \x20   filter lua.sides\n\
         \x20   http-request set-var(txn.w) req.hdr(x-w)\n\
         \x20   http-request set-var(txn.side) req.hdr(x-side)\n\
         \x20   http-request lua.sides req\n\
         \x20   http-request set-var(txn.fp) lua.priv\n\
         \x20   http-request lua.wrong req\n\
         \x20   http-response lua.wrong res\n\
         \x20   http-response lua.sides res\n\
         \x20   http-response set-header x-req %[var(txn.req)]\n\
         \x20   http-response set-header x-res %[var(txn.res)]\n\
         \x20   http-response set-header x-fp %[var(txn.fp)]\n\
         \x20   default_backend be\n\
         backend be\n    server o 127.0.0.1:{origin}\n\
         frontend origin\n    bind 127.0.0.1:{origin}\n\
         \x20   http-request return status 200 content-type text/plain hdr x-a from-server hdr set-cookie c=srv string ok\n",
        origin = port + 1
    )
}

/// The requests: one with a header and a cookie, then one per wrong-side call.
const WRONG: &[(&str, &str)] = &[
    ("res_set_header", "req"),
    ("res_get_headers", "req"),
    ("req_set_header", "res"),
    ("req_set_path", "res"),
];

/// The status of each answer and what it carried of the script's notes.
fn drive(port: u16) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}/some/path");
    let mut out = Vec::new();
    let mut ask = |extra: &[&str]| {
        let mut args = vec!["-D", "-", "-o", "/dev/null"];
        args.extend_from_slice(extra);
        args.push(&url);
        let (code, head) = curl(&args);
        out.push(format!("status {code}"));
        out.extend(
            head.lines()
                .filter(|l| {
                    ["x-req:", "x-res:", "x-fp:"]
                        .iter()
                        .any(|h| l.starts_with(h))
                })
                .map(|l| l.trim_end().to_string()),
        );
    };
    ask(&["-H", "x-a: from-client", "-b", "c=cli"]);
    for (w, side) in WRONG {
        ask(&["-H", &format!("x-w: {w}"), "-H", &format!("x-side: {side}")]);
    }
    out
}

/// The lines of a proxy's log the test compares, sorted (a script's error and the log line
/// of its request may come in either order): its log lines, the script errors and the
/// filter's notes.
fn notes(stdout: &str) -> Vec<String> {
    let mut kept: Vec<String> = stdout
        .lines()
        .filter(|l| {
            ["done ", "Lua function", "filter "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(str::to_string)
        .collect();
    kept.sort();
    kept
}

/// Whether every request was logged, with its script errors and filter notes.
fn all_logged(stdout: &str) -> bool {
    let count = |p: &str| stdout.lines().filter(|l| l.starts_with(p)).count();
    count("done ") == 1 + WRONG.len()
        && count("filter ") == 2 * (1 + WRONG.len())
        && count("Lua function") == WRONG.len()
}

#[test]
fn scripts_fetch_and_change_the_message_of_their_side_as_in_haproxy() {
    let port = free_ports(2);
    let p = Proxy::start(&config(port), port);
    let mut ours = drive(port);
    let stdout = p.stdout_when(all_logged);
    ours.extend(notes(&stdout));
    drop(p);
    let script = super::lua_public::script("sides.lua");
    let expected_start = [
        "status 200",
        "x-req: hdr=from-client req.hdr=from-client res.hdr=nil path=/some/path method=GET cookie=cli priv=nil",
        "x-res: hdr=from-server req.hdr=nil res.hdr=from-server path=nil method=GET cookie=srv priv=req",
        "x-fp: req",
    ];
    assert_eq!(ours[..4], expected_start, "{ours:#?}");
    for line in [
        format!(
            "Lua function 'wrong': [state-id 0] runtime error: from-req from [C]: in method \
             'res_set_header', {script}:26: in field '?', {script}:34: in function line 32."
        ),
        format!(
            "Lua function 'wrong': [state-id 0] unknown runtime error from [C]: in method \
             'res_get_headers', {script}:27: in field '?', {script}:34: in function line 32."
        ),
        "done - - res".to_string(),
        "done req_set_path res res".to_string(),
        "filter req hdr=from-client req.hdr=from-client res.hdr=nil path=/some/path method=GET cookie=cli priv=nil".to_string(),
        "filter res hdr=from-server req.hdr=nil res.hdr=from-server path=nil method=GET cookie=srv priv=nil".to_string(),
    ] {
        assert!(ours.contains(&line), "missing {line}\nin {ours:#?}");
    }
    let Some(program) = haproxy_27() else {
        return;
    };
    let port = free_ports(2);
    let mut h = Haproxy::start_program(&program, &config(port), port, &["-db"]);
    let mut theirs = drive(port);
    let stdout = h.stop_when(std::time::Duration::from_secs(10), all_logged);
    theirs.extend(notes(&stdout));
    assert_eq!(ours, theirs);
}
