//! HAProxy's `act` table (`testdata/lua/act.lua`): its codes, and what an action returning
//! each does to the rules: `act.STOP` skips the rest of the list, `act.DENY` denies the
//! request (403) or the TCP connection, ends a response's rules, `act.ERROR` ends with an internal
//! error, `act.CONTINUE` and nothing go on; side by side with Debian's haproxy, with the logs.

use super::harness::{both_sides, curl, raw, Origin, Side, LOGGED_DEFAULTS};
use std::time::Duration;

fn script() -> String {
    super::lua_public::script("act.lua")
}

/// The status and head of the response to `/x` with `x-res: <res>` (which routes it to the
/// origin and names the code its response rules return).
fn response_head(port: u16, res: &str) -> (u16, String) {
    curl(&[
        "-s",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        &format!("x-res: {res}"),
        &format!("http://127.0.0.1:{port}/x"),
    ])
}

/// The log lines of the tests' frontends (`fe`, `tcp`) and the scripts' messages.
fn kept(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains(" fe ") || l.contains(" tcp ") || l.contains("Lua function"))
        .map(str::to_string)
        .collect()
}

/// What the tests compare of each log line, sorted: an HTTP line's status, termination state
/// and request; a TCP line's route and termination state; a script's message as it stands.
fn fields(log: &[String]) -> Vec<String> {
    let mut f: Vec<String> = log
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("");
            if let Some(at_message) = l.find("Lua function") {
                l[at_message..].to_string()
            } else if l.contains(" tcp ") {
                format!("tcp {} {}", at(3), at(6))
            } else {
                // A request never stamped as whole (`%TR` -1) is marked; a measured one is
                // left out, as a loaded machine may log 1 ms where the other logs 0.
                let unstamped = if at(4).starts_with("-1/") {
                    "TR-1 "
                } else {
                    ""
                };
                format!(
                    "{unstamped}{} {} {}",
                    at(5),
                    at(9),
                    f.get(12..).map(|r| r.join(" ")).unwrap_or_default()
                )
            }
        })
        .collect();
    f.sort();
    f
}

#[test]
fn action_return_codes_end_the_rules_as_in_haproxy() {
    let cfg = |port: u16, origin: &Origin| {
        LOGGED_DEFAULTS.replacen(
            "global\n",
            &format!("global\n    lua-load {}\n", script()),
            1,
        ) + &format!(
            "    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request set-var(txn.res) req.hdr(x-res)\n    http-request use-service lua.codes if {{ path /codes }}\n    use_backend app if {{ var(txn.res) -m found }}\n    http-request lua.verdict STOP if {{ path /STOP }}\n    http-request lua.verdict CONTINUE if {{ path /CONTINUE }}\n    http-request lua.verdict DENY if {{ path /DENY }}\n    http-request lua.verdict ERROR if {{ path /ERROR }}\n    http-request deny deny_status 410 if {{ path /STOP }} || {{ path /CONTINUE }}\n    http-response lua.verdict DENY if {{ var(txn.res) -m str DENY }}\n    http-response lua.verdict STOP if {{ var(txn.res) -m str STOP }}\n    http-response lua.verdict CONTINUE if {{ var(txn.res) -m str CONTINUE }}\n    http-response set-header x-after yes\n    http-request return status 200 content-type text/plain string ok if !{{ var(txn.res) -m found }}\nbackend app\n    server o {}\nfrontend tcp\n    mode tcp\n    bind 127.0.0.1:{}\n    option tcplog\n    tcp-request inspect-delay 1s\n    tcp-request content lua.verdict DENY\n    default_backend none\nbackend none\n    mode tcp\n    server s 127.0.0.1:1\n",
            origin.addr,
            port + 1
        )
    };
    let drive = |port: u16| {
        let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
        let mut answers: Vec<(u16, String)> = ["/codes", "/STOP", "/CONTINUE", "/DENY", "/ERROR"]
            .iter()
            .map(|p| curl(&[&url(p)]))
            .collect();
        for res in ["DENY", "STOP", "CONTINUE"] {
            let (code, head) = response_head(port, res);
            let after = head.to_ascii_lowercase().contains("x-after: yes");
            answers.push((code, after.to_string()));
        }
        // The TCP connection is closed without a byte.
        answers.push((0, raw(port + 1, b"hello", Duration::from_secs(2))));
        answers
    };
    let ((ours, our_log), theirs) = both_sides(
        2,
        || Origin::start("app"),
        cfg,
        |port, _, side| {
            let answers = drive(port);
            (answers, side.selected(kept, 9))
        },
    );
    assert_eq!(
        ours[0],
        (
            200,
            "CONTINUE=0 STOP=1 YIELD=2 ERROR=3 DONE=4 DENY=5 ABORT=6 INVALID=7 function".into()
        )
    );
    // Past the deny rule and the answers: no backend takes it.
    assert_eq!(ours[1].0, 503);
    assert_eq!(ours[2].0, 410);
    assert_eq!(ours[3].0, 403);
    assert_eq!(ours[4].0, 500);
    // A response's rules end there; the response goes out (HAProxy 2.6 and 2.7.0 alike).
    assert_eq!(ours[5], (200, "false".into()));
    assert_eq!(ours[6], (200, "false".into()));
    assert_eq!(ours[7], (200, "true".into()));
    assert_eq!(ours[8], (0, String::new()));
    // Status and termination state of each line.
    assert!(
        fields(&our_log).contains(&"403 PR-- \"GET /DENY HTTP/1.1\"".to_string()),
        "{our_log:#?}"
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
        assert_eq!(fields(&our_log), fields(&their_log), "the logs differ");
    }
}

/// The codes that pause or end a transaction differently: `act.YIELD` runs the action again at
/// its wake time (in HTTP rules and TCP content rules; past the inspection delay the TCP
/// action may not wait and the next rule runs, with HAProxy's message), `act.DONE` ends the
/// rules as `STOP` (and more, see below), `act.ABORT` answers a request with the 503 of a stream without target and
/// lets a response out as it is, `act.INVALID` answers 400 or turns a response into a 502,
/// and both close a TCP stream.
#[test]
fn yield_done_abort_and_invalid_as_in_haproxy() {
    let cfg = |port: u16, origin: &Origin| {
        LOGGED_DEFAULTS.replacen(
            "global\n",
            &format!("global\n    lua-load {}\n", script()),
            1,
        ) + &format!(
            "    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request set-var(txn.res) req.hdr(x-res)\n    use_backend app if {{ var(txn.res) -m found }}\n    http-request lua.verdict ABORT if {{ path /ABORT }}\n    http-request lua.verdict INVALID if {{ path /INVALID }}\n    http-request lua.verdict DONE if {{ path /DONE }}\n    http-request lua.later 4 100 if {{ path /later }}\n    http-request return status 200 content-type text/plain lf-string runs=%[var(txn.runs)] if {{ path /later }}\n    http-request deny deny_status 410 if {{ path /DONE }}\n    http-request return status 200 content-type text/plain string ok if !{{ var(txn.res) -m found }}\n    http-response lua.verdict ABORT if {{ var(txn.res) -m str ABORT }}\n    http-response lua.verdict INVALID if {{ var(txn.res) -m str INVALID }}\n    http-response lua.verdict DONE if {{ var(txn.res) -m str DONE }}\n    http-response lua.later 3 100 if {{ var(txn.res) -m str later }}\n    http-response set-header x-after %[var(txn.runs)]\nbackend app\n    server o {addr}\nfrontend tcp\n    mode tcp\n    bind 127.0.0.1:{tcp}\n    option tcplog\n    tcp-request inspect-delay 1s\n    tcp-request content lua.verdict ABORT if {{ req.payload(5,4) -m str ABOR }}\n    tcp-request content lua.verdict INVALID if {{ req.payload(5,4) -m str INVA }}\n    tcp-request content lua.verdict DONE if {{ req.payload(5,4) -m str DONE }}\n    tcp-request content lua.later 3 100 if {{ req.payload(5,4) -m str late }}\n    tcp-request content lua.later 9 400 if {{ req.payload(5,4) -m str over }}\n    tcp-request content reject if {{ req.payload(5,4) -m str DONE }}\n    default_backend app_tcp\nbackend app_tcp\n    mode tcp\n    server o {addr}\n",
            addr = origin.addr,
            tcp = port + 1
        )
    };
    let timed = |f: &dyn Fn() -> (u16, String)| {
        let at = std::time::Instant::now();
        let answer = f();
        (answer, at.elapsed())
    };
    let drive = |port: u16| {
        let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
        let mut answers: Vec<(u16, String)> = ["/ABORT", "/INVALID", "/DONE"]
            .iter()
            .map(|p| curl(&["-s", "-o", "/dev/null", &url(p)]))
            .collect();
        let (later, took) = timed(&|| curl(&[&url("/later")]));
        // Three waits of 100 ms before the fourth run lets the request on.
        assert!(took >= Duration::from_millis(290), "{took:?}");
        answers.push(later);
        for res in ["ABORT", "INVALID", "DONE", "later"] {
            let (code, head) = response_head(port, res);
            let after = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("x-after"))
                .unwrap_or("none")
                .trim()
                .to_ascii_lowercase();
            answers.push((code, after));
        }
        let status_line = |out: String| out.lines().next().unwrap_or("").to_string();
        for path in ["/ABORT", "/INVALID", "/DONE", "/late"] {
            let request = format!("GET {path} HTTP/1.0\r\n\r\n");
            let (answer, took) =
                timed(&|| (0, raw(port + 1, request.as_bytes(), Duration::from_secs(3))));
            if path == "/late" {
                assert!(took >= Duration::from_millis(190), "{took:?}");
            }
            answers.push((0, status_line(answer.1)));
        }
        // Past the inspection delay the action may not wait: the next rule runs.
        let (answer, took) = timed(&|| {
            (
                0,
                raw(
                    port + 1,
                    b"GET /over HTTP/1.0\r\n\r\n",
                    Duration::from_secs(4),
                ),
            )
        });
        assert!(took >= Duration::from_millis(900), "{took:?}");
        answers.push((0, status_line(answer.1)));
        answers
    };
    let ((ours, our_log), theirs) = both_sides(
        2,
        || Origin::start("app"),
        cfg,
        |port, _, side| {
            let answers = drive(port);
            // Ten lines besides the responses' (see below); ours has all fourteen.
            let requests = side.selected(
                |out: &str| {
                    let all = kept(out);
                    all.into_iter().filter(|l| !l.contains("GET /x")).collect()
                },
                10,
            );
            match side {
                Side::Hapee(_) => (answers, side.selected(kept, 14)),
                Side::Haproxy(_) => (answers, requests),
            }
        },
    );
    let expected: Vec<(u16, String)> = vec![
        (503, String::new()),
        (400, String::new()),
        // Past the deny rule and the answer, as after STOP: no backend takes it.
        (503, String::new()),
        (200, "runs=4".into()),
        (200, "none".into()),
        (502, "none".into()),
        (200, "none".into()),
        (200, "x-after: 3".into()),
        (0, String::new()),
        (0, String::new()),
        (0, "HTTP/1.1 200 OK".into()),
        (0, "HTTP/1.1 200 OK".into()),
        (0, "HTTP/1.1 200 OK".into()),
    ];
    assert_eq!(ours, expected);
    let ours_fields = fields(&our_log);
    for line in [
        "TR-1 503 PR-- \"GET /ABORT HTTP/1.1\"",
        "TR-1 400 PR-- \"GET /INVALID HTTP/1.1\"",
        "Lua function 'later': aborting Lua processing on expired timeout.",
    ] {
        assert!(ours_fields.contains(&line.to_string()), "{our_log:#?}");
    }
    // HAProxy writes the line of a response whose rules yielded or aborted only once the
    // server's connection is over, which a keep-alive origin leaves to its own timeout:
    // those lines are compared on our side only.
    let requests = |f: Vec<String>| -> Vec<String> {
        f.into_iter().filter(|l| !l.contains("GET /x")).collect()
    };
    let responses: Vec<&String> = ours_fields
        .iter()
        .filter(|l| l.contains("GET /x"))
        .collect();
    assert_eq!(
        responses,
        [
            "200 ---- \"GET /x HTTP/1.1\"",
            "200 ---- \"GET /x HTTP/1.1\"",
            "200 PH-- \"GET /x HTTP/1.1\"",
            "502 PH-- \"GET /x HTTP/1.1\""
        ]
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
        assert_eq!(
            requests(ours_fields),
            requests(fields(&their_log)),
            "the logs differ"
        );
    }
}

/// After a proxy's `http-request` rules HAProxy restricts header names, looks for the stats
/// URI and runs the `redirect` rules; an action returning `act.DONE` skips all three, one
/// returning `act.STOP` none (as `CONTINUE`).
#[test]
fn done_skips_what_follows_the_request_rules_and_stop_does_not() {
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {}\n{}frontend fe\n    bind 127.0.0.1:{port}\n    option http-restrict-req-hdr-names reject\n    stats enable\n    stats uri /s\n    http-request lua.verdict STOP if {{ url_param(a) STOP }}\n    http-request lua.verdict DONE if {{ url_param(a) DONE }}\n    redirect location /redirected if {{ path_end /r }}\n    default_backend app\nbackend app\n    server o {}\n",
            script(),
            super::harness::DEFAULTS,
            origin.addr
        )
    };
    let drive = |port: u16| {
        let mut answers = Vec::new();
        for code in ["STOP", "DONE", "CONTINUE"] {
            for (path, header) in [("/x/r", "x-a: 1"), ("/s", "x-a: 1"), ("/h", "x_y: 1")] {
                let url = format!("http://127.0.0.1:{port}{path}?a={code}");
                let shown = "%{http_code} %{content_type} %{redirect_url}";
                let out = std::process::Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "--max-time",
                        "10",
                        "-w",
                        shown,
                        "-H",
                    ])
                    .args([header, &url])
                    .output()
                    .expect("curl is installed (see .ci/run)");
                let shown = String::from_utf8_lossy(&out.stdout).replace(&port.to_string(), "P");
                answers.push(format!("{code} {path} {shown}"));
            }
        }
        answers
    };
    let (ours, theirs) = both_sides(1, || Origin::start("app"), cfg, |port, _, _| drive(port));
    assert_eq!(
        ours,
        [
            "STOP /x/r 302  http://127.0.0.1:P/redirected",
            "STOP /s 200 text/html ",
            "STOP /h 403 text/html ",
            // The origin answers, without a content type.
            "DONE /x/r 200  ",
            "DONE /s 200  ",
            "DONE /h 200  ",
            "CONTINUE /x/r 302  http://127.0.0.1:P/redirected",
            "CONTINUE /s 200 text/html ",
            "CONTINUE /h 403 text/html ",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
