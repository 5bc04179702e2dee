//! Script filters (`core.register_filter`, `filter lua.<name> [args…]`), side by side with
//! Debian's haproxy: a script registering one loads and sees HAProxy's `filter` global
//! (`testdata/lua/filters.lua`), and the filters of `testdata/lua/filters_run.lua` run on real
//! requests and responses: their callbacks in HAProxy's order, `HTTPMessage` changes to the
//! heads, bodies rewritten on both sides (the length left to the script), a filter's error
//! answered with a 400, and a filter without `FLT_CFG_FL_HTX` kept off HTTP streams.

use super::harness::{both_reading, both_sides, curl, raw, Origin, Scratch, Side, DEFAULTS};
use std::process::Command;
use std::time::Duration;

#[test]
fn a_script_registering_a_filter_loads_and_sees_haproxys_filter_global() {
    let script = super::lua_public::script("filters.lua");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.constants\n"
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, side| {
        let warnings: Vec<String> = side
            .stderr()
            .lines()
            .filter(|l| l.contains("more than once"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, w)| w).to_string())
            .collect();
        (curl(&[&format!("http://127.0.0.1:{port}/")]), warnings)
    });
    assert_eq!(
        ours.0,
        (200, "1 0 -1 1 function function function function".into())
    );
    assert_eq!(
        ours.1,
        ["config : Trying to register filter 'lua.counter' more than once. This will become a hard error in version 2.5."]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// The response to `path` as curl shows it (head and body), without its date and with the
/// proxy's port as `PORT`.
pub(super) fn exchange(port: u16, path: &str, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-i"])
        .args(args)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl is installed (see .ci/run)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(&port.to_string(), "PORT")
}

/// The starts and ends `lua.tcp` printed as it ended each channel of a TCP stream: its
/// payload calls depend on how the bytes arrive, the starts and ends do not.
pub(super) fn tcp_starts_and_ends(side: &Side) -> Vec<String> {
    ended(side, "ended tcp ", 2)
        .iter()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| w.starts_with("start:") || w.starts_with("end:"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// What the filters printed as each ended a channel (`prefix` starts their lines).
fn ended(side: &Side, prefix: &str, at_least: usize) -> Vec<String> {
    side.selected(
        |out| {
            out.lines()
                .filter(|l| l.starts_with(prefix))
                .map(str::to_string)
                .collect()
        },
        at_least,
    )
}

#[test]
fn script_filters_run_on_requests_and_responses_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.calls fe\n    filter lua.plain\n    filter lua.upper req res\n    http-response set-header x-upper-req %[var(txn.upper_req)]\n    http-request return status 200 content-type text/plain string hi if {{ path /ret }}\n    use_backend bang if {{ path_beg /bang }}\n    default_backend app\nbackend app\n    filter lua.calls be\n    server o {0}\nbackend bang\n    filter lua.bang\n    server o {0}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let answers = [
                exchange(port, "/", &["-d", "hello body"]),
                exchange(port, "/rewrite", &[]),
                exchange(port, "/bang", &["-d", "hello body"]),
                exchange(port, "/", &["-H", "x-fail: fe"]),
                exchange(port, "/", &["-H", "x-fail: be"]),
                exchange(port, "/", &["-H", "x-boom: be"]),
                exchange(port, "/ret", &[]),
            ];
            // Two filters end both channels of each exchange (one filter for `bang`), but the
            // frontend's does not end a request its backend's filter failed on.
            let ends = ended(side, "ended ", 21);
            let alerts: Vec<String> = side
                .stderr()
                .lines()
                .filter_map(|l| l.split_once("Lua filter ").map(|(_, m)| m.to_string()))
                .collect();
            (answers, ends, alerts)
        },
    );
    let (answers, ends, alerts) = &ours;
    let first = &answers[0];
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    // Both channels' bodies upper-cased: the request's as the origin echoes it, then the
    // whole response; the length unchanged.
    assert!(first.contains("BODY=HELLO BODY"), "{first}");
    assert!(first.contains("\nx-upper-req: 10"), "{first}");
    assert!(first.contains("content-length: "), "{first}");
    assert!(
        first.contains(
            "x-calls-be: start:req headers:req:POST:/:HTTP/1.1 start:res start:res headers:res:HTTP/1.1:200"
        ),
        "{first}"
    );
    assert!(first.contains("x-messages: table table table"), "{first}");
    assert!(
        !first.contains("x-origin") && !first.contains("x-plain"),
        "{first}"
    );
    // The frontend's filter rewrote the path the backend's sees.
    assert!(
        answers[1].contains("headers:req:GET:/rewritten?q=1:HTTP/1.1"),
        "{}",
        answers[1]
    );
    // A length the script dropped: the longer body goes chunked.
    let bang = &answers[2];
    assert!(bang.contains("transfer-encoding: chunked"), "{bang}");
    assert!(bang.ends_with("BODY=HELLO BODY\n!"), "{bang}");
    for failed in &answers[3..6] {
        assert!(failed.starts_with("HTTP/1.1 400"), "{failed}");
    }
    assert_eq!(ends.len(), 21, "{ends:?}");
    // A request the rules answered: only its analysis started, and ends.
    assert_eq!(ends[20], "ended fe start:req end:req");
    assert!(answers[6].ends_with("\n\nhi"), "{}", answers[6]);
    assert_eq!(
        ends[14..17],
        [
            "ended be start:req headers:req:GET:/:HTTP/1.1 end:req",
            "ended fe start:req headers:req:GET:/:HTTP/1.1 end:res",
            "ended be start:req headers:req:GET:/:HTTP/1.1 end:req end:res",
        ]
    );
    // A callback that fails is reported as HAProxy reports it, and fails the request.
    assert!(answers[5].starts_with("HTTP/1.1 400"), "{}", answers[5]);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].starts_with("'calls' : "), "{alerts:?}");
    assert!(alerts[0].contains("boom in be"), "{alerts:?}");
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

#[test]
fn a_script_filter_rewrites_both_directions_of_a_tcp_stream_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.tcp\n    server o {}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let answer = raw(
                port,
                b"GET /x?a=b HTTP/1.0\r\nhost: here\r\n\r\n",
                Duration::from_secs(5),
            );
            let answer: Vec<String> = answer
                .lines()
                .filter(|l| !l.starts_with("DATE:"))
                .map(str::to_string)
                .collect();
            (answer, tcp_starts_and_ends(side))
        },
    );
    let (answer, ends) = &ours;
    assert_eq!(
        answer.first().map(String::as_str),
        Some("HTTP/1.1 200 OK"),
        "{answer:?}"
    );
    // The server saw the request upper-cased, and its answer came back upper-cased.
    assert!(answer.iter().any(|l| l == "PATH=/X"), "{answer:?}");
    assert!(answer.iter().any(|l| l == "HDR:HOST=HERE"), "{answer:?}");
    assert_eq!(
        ends,
        &[
            "start:req start:res end:res",
            "start:req start:res end:res end:req"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// The status, the body's size and curl's exit code (18 when the response was cut short).
type Curled = (u16, usize, i32);

/// curl's view of a POST of `size` bytes to `path`.
fn post_sized(port: u16, path: &str, size: usize) -> Curled {
    let file = Scratch::file(&format!("hapee-luaf-{}-{size}", std::process::id()));
    std::fs::write(&file, vec![b'x'; size]).unwrap();
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "-o", "/dev/null", "-w"])
        .arg("%{http_code} %{size_download}")
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl is installed (see .ci/run)");
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text
        .split_whitespace()
        .map(|w| w.parse::<usize>().unwrap_or(0));
    let status = words.next().unwrap_or(0) as u16;
    (
        status,
        words.next().unwrap_or(0),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn response_body_callbacks_set_the_streams_variables_and_a_failure_cuts_the_response_short() {
    let script = super::lua_public::script("filters_run.lua");
    let format = "%ST %ts %[var(txn.tally_seen)] %[var(txn.tally_end)] %[var(txn.tally_req)] %[var(txn.tally_res)]";
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n    log stdout format raw local0\n{DEFAULTS}    log global\nfrontend fe\n    bind 127.0.0.1:{port}\n    log-format \"{format}\"\n    filter lua.tally\n    use_backend cut if {{ path /cut }}\n    default_backend app\nbackend app\n    server o {0}\nbackend cut\n    filter lua.tally cut\n    server o {0}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let whole = post_sized(port, "/", 100);
            let cut = post_sized(port, "/cut", 200_000);
            let lines = side.selected(
                |out| {
                    out.lines()
                        .filter(|l| l.starts_with("200 "))
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                },
                2,
            );
            (whole, cut, lines)
        },
    );
    let outcome = |(whole, cut, lines): &(Curled, Curled, Vec<String>)| {
        // How many bytes the failing filter saw depends on how they arrived: only that it
        // went past its limit does not.
        let lines: Vec<String> = lines
            .iter()
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                let seen = match w.get(2).and_then(|s| s.parse::<usize>().ok()) {
                    Some(n) if n == whole.1 => "all".to_string(),
                    Some(n) if n > 50_000 => "past".to_string(),
                    _ => w.get(2).unwrap_or(&"").to_string(),
                };
                format!(
                    "{} {} {seen} {}",
                    w[0],
                    w.get(1).unwrap_or(&""),
                    w[3..].join(" ")
                )
            })
            .collect();
        (whole.0, whole.2, cut.0, cut.1 < 200_000, cut.2, lines)
    };
    let mine = outcome(&ours);
    // The whole body passed: the variables its callbacks set are in the log line; the
    // failed one cut the response short (curl's 18) and the stream ended `SD`, its filters
    // still ending both channels.
    assert_eq!(
        mine,
        (
            200,
            0,
            200,
            true,
            18,
            vec![
                "200 -- all end ended ended".to_string(),
                "200 SD past - ended ended".to_string()
            ]
        ),
        "{ours:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(
            mine,
            outcome(&theirs),
            "hapee and haproxy differ: {theirs:?}"
        );
    }
}

#[test]
fn a_tcp_stream_ending_before_its_tunnel_ends_its_filters_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    // The second port is claimed and nothing listens there: the server cannot be reached.
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.tcp\n    tcp-request inspect-delay 2s\n    tcp-request content reject if {{ req.payload(0,3) -m str BAD }}\n    tcp-request content accept if {{ req.len gt 0 }}\n    server o 127.0.0.1:{}\n",
            port + 1
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, side| {
        raw(port, b"BAD", Duration::from_secs(5));
        let first = ended(side, "ended tcp ", 1);
        raw(port, b"GOOD", Duration::from_secs(5));
        let all = ended(side, "ended tcp ", first.len() + 2);
        (first, all)
    });
    // Rejected: only the request's analysis started, and it ends; the server unreachable:
    // the request's ends, then the response's, which never started.
    assert_eq!(
        ours,
        (
            vec!["ended tcp start:req end:req".to_string()],
            vec![
                "ended tcp start:req end:req".to_string(),
                "ended tcp start:req end:req".to_string(),
                "ended tcp start:req end:req end:res".to_string(),
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// A request body streams through script filters: one upper-cases 17 MB as it passes, one
/// fails on 1 MB as it passes (the client answered a 400, the stream ending `PH`).
#[test]
fn a_large_upload_streams_through_a_script_filter_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    // More than the 16 MB a request body was once held whole up to (beyond which it went
    // unfiltered): it streams through the filter chunk by chunk.
    let size = 17_000_000;
    let file = Scratch::file(&format!("hapee-luaf-up-{}", std::process::id()));
    std::fs::write(&file, vec![b'x'; size]).unwrap();
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n    log stdout format raw local0\n{DEFAULTS}    log global\nfrontend fe\n    bind 127.0.0.1:{port}\n    log-format \"%ST %ts %[var(txn.upper_req)]\"\n    filter lua.upper req\n    http-response set-header x-upper-req %[var(txn.upper_req)]\n    use_backend cutreq if {{ path /cutreq }}\n    default_backend app\nbackend app\n    server o {0}\nbackend cutreq\n    filter lua.tally cutreq\n    server o {0}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let out = Command::new("curl")
                .args(["-s", "-i", "--max-time", "60", "--data-binary"])
                .arg(format!("@{}", file.display()))
                .arg(format!("http://127.0.0.1:{port}/"))
                .output()
                .expect("curl is installed (see .ci/run)");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let told = text
                .lines()
                .find_map(|l| l.strip_prefix("x-upper-req: "))
                .map(str::to_string);
            // What the origin got, as it echoes it: upper-cased throughout.
            let body = text
                .lines()
                .find_map(|l| l.strip_prefix("body="))
                .unwrap_or("");
            let counts = (body.len(), body.bytes().filter(|&b| b == b'X').count());
            // A filter failing on the body as it streams: the client's 400.
            let failed = post_sized(port, "/cutreq", 1_000_000);
            let logged = side.selected(
                |o| {
                    o.lines()
                        .filter(|l| l.starts_with("200 ") || l.starts_with("400 "))
                        .map(str::to_string)
                        .collect()
                },
                2,
            );
            (told, counts, failed.0, logged)
        },
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        ours,
        (
            Some(size.to_string()),
            (size, size),
            400,
            vec![format!("200 -- {size}"), "400 PH -".to_string()]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// The status line of a POST of `hello` to `port` whose body is sent only once the filter
/// waited on it (the second stream whose callback `what` waited, after the request before
/// it), or "none" when no answer comes within 3 s.
fn post_late(port: u16, side: &Side, what: &str) -> String {
    use std::io::{Read, Write};
    let mut s = super::harness::connect(("127.0.0.1", port));
    s.write_all(b"POST /late HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\n")
        .unwrap();
    let first = format!("waits {what} 1");
    side.selected(
        |out| {
            out.lines()
                .filter(|l| *l == first)
                .map(str::to_string)
                .collect()
        },
        2,
    );
    s.write_all(b"hello").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(n) if n > 0 => String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        _ => "none".into(),
    }
}

/// curl's status for `path` on `port` (a POST of `hello` with `post`), 0 when no answer
/// came within 3 s.
fn status_within(port: u16, post: bool) -> u16 {
    let mut args = vec!["--max-time", "3"];
    if post {
        args.extend(["-d", "hello"]);
    }
    let url = format!("http://127.0.0.1:{port}/");
    args.push(&url);
    curl(&args).0
}

#[test]
fn a_filter_waiting_without_a_wake_time_runs_again_when_the_stream_progresses_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Origin| {
        let fe = |i: u16, at: &str| {
            format!(
                "frontend fe{i}\n    bind 127.0.0.1:{}\n    filter lua.waits {at}\n    default_backend app\n",
                port + i
            )
        };
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}{}{}{}backend app\n    server o {}\n",
            fe(0, "headers:req"),
            fe(1, "start:req"),
            fe(2, "start:res"),
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        3,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            // A request all there: nothing wakes a filter waiting on it, and the client gets
            // no answer; a body arriving later wakes it.
            let headers = (
                status_within(port, false),
                post_late(port, side, "headers:req"),
            );
            let start = (
                status_within(port + 1, true),
                post_late(port + 1, side, "start:req"),
            );
            // The response's head arriving wakes its analysis' start.
            let response = status_within(port + 2, false);
            (headers, start, response)
        },
    );
    let answered = "HTTP/1.1 200 OK".to_string();
    assert_eq!(
        ours,
        ((0, answered.clone()), (0, answered), 200),
        "{ours:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// An HTTP stream upgraded to a tunnel (`101`): its filters end both channels, the response's
/// then the request's, once the tunnel ends (they never ended).
#[test]
fn an_upgraded_streams_filters_end_with_its_tunnel_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.calls up\n    default_backend app\nbackend app\n    server o {}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let answer = super::harness::raw_until(
                port,
                b"GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nping\n",
                |got| got.contains("PING"),
                Duration::from_secs(5),
            );
            (
                answer.starts_with("HTTP/1.1 101"),
                ended(side, "ended up ", 2),
            )
        },
    );
    let head = "ended up start:req headers:req:GET:/ws:HTTP/1.1 start:res headers:res:HTTP/1.1:101";
    assert_eq!(
        ours,
        (
            true,
            vec![format!("{head} end:res"), format!("{head} end:res end:req")]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// An `http_end` answering `filter.WAIT` is called again as HAProxy's stream loops on, the
/// message going on meanwhile (it was taken for `filter.CONTINUE`): waiting once, it is called
/// twice; waiting three times with a wake time, four times, on the request and the response.
#[test]
fn an_http_end_that_waits_is_called_again_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cases = [
        ("rq1", "req 1"),
        ("rs1", "res 1"),
        ("rq3", "req 3 300"),
        ("rs3", "res 3 300"),
    ];
    let cfg = |port: u16, origin: &Origin| {
        let mut text = format!("global\n    lua-load {script}\n{DEFAULTS}");
        for (i, (tag, args)) in cases.iter().enumerate() {
            text.push_str(&format!(
                "frontend {tag}\n    bind 127.0.0.1:{}\n    filter lua.endwait {tag} {args}\n    default_backend app\n",
                port + i as u16
            ));
        }
        text + &format!("backend app\n    server o {}\n", origin.addr)
    };
    let (ours, theirs) = both_sides(
        4,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let mut seen = Vec::new();
            for (i, (tag, _)) in cases.iter().enumerate() {
                let status = curl(&[
                    "--max-time",
                    "5",
                    "-d",
                    "hello",
                    &format!("http://127.0.0.1:{}/", port + i as u16),
                ])
                .0;
                let prefix = format!("endwait {tag} ");
                let calls = side.selected(
                    |out| {
                        out.lines()
                            .filter(|l| l.starts_with(&prefix))
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    },
                    // Its later calls may come after the answer.
                    if tag.ends_with('3') { 4 } else { 2 },
                );
                seen.push((status, calls.len()));
            }
            seen
        },
    );
    assert_eq!(ours, [(200, 2), (200, 2), (200, 4), (200, 4)]);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// Sends a request through a TCP `listen` with the `tcp` filter (more `global` and `listen`
/// lines added), side by side: how many bytes came back, and the `tcplog ` lines, whose
/// format is `%B`, the variables the filter sets and `vars`.
fn tcp_logged(global: &str, listen: &str, vars: &str) -> ((usize, Vec<String>), usize) {
    let script = super::lua_public::script("filters_run.lua");
    let request = b"GET /x HTTP/1.0\r\nhost: here\r\n\r\n";
    let cfg = |port: u16, origin: &Origin| {
        format!(
            "global\n    lua-load {script}\n{global}    log stdout format raw local0\n{DEFAULTS}    log global\nlisten tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    option dontlognull\n    log-format \"tcplog %B %[var(txn.tcp_req)] %[var(txn.tcp_res)]{vars}\"\n    filter lua.tcp\n{listen}    server o {}\n",
            origin.addr
        )
    };
    let (ours, theirs) = both_sides(
        1,
        || Origin::start("o"),
        cfg,
        |port, _, side| {
            let answer = raw(port, request, Duration::from_secs(5));
            let logged = side.selected(
                |out| {
                    out.lines()
                        .filter_map(|l| l.strip_prefix("tcplog "))
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                },
                1,
            );
            (answer.len(), logged)
        },
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
    (ours, request.len())
}

/// A TCP stream's `tcp_payload` callbacks act on the stream's own transaction: the variables
/// they set are in its log line (they acted on a copy). The harness's probe of the port sends
/// nothing: `dontlognull` keeps its line out; `%B` makes both write the line at the end.
#[test]
fn tcp_payload_callbacks_set_the_streams_variables_as_in_haproxy() {
    let ((answered, logged), sent) = tcp_logged("", "", "");
    assert_eq!(logged, [format!("{answered} {sent} {answered}")]);
}

/// The same with `tcp-response content` rules whose script action waits on the server's
/// first bytes: the rules and the filters act on the one transaction (the filters acted on a
/// copy while the rules held it, and their variables missed the log line), and what the rules
/// held goes through the filters.
#[test]
fn tcp_response_rules_and_filters_act_on_the_streams_own_transaction_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-resrules-{}", std::process::id()));
    let action = dir.join("mark.lua");
    std::fs::write(
        &action,
        "core.register_action(\"mark\", { \"tcp-res\" }, function(txn)\n  core.msleep(50)\n  txn:set_var(\"txn.act\", \"ran\")\nend)\n",
    )
    .unwrap();
    let global = format!("    lua-load {}\n", action.display());
    let listen = "    tcp-response inspect-delay 2s\n    tcp-response content lua.mark\n";
    let ((answered, logged), sent) = tcp_logged(&global, listen, " %[var(txn.act)]");
    assert_eq!(logged, [format!("{answered} {sent} {answered} ran")]);
}

/// A service taking a TCP stream answers in the server's place: the filters start the
/// response's analysis as it takes the stream, its answer goes through their `tcp_payload`
/// (upper-cased, as what it read was), and both channels end with it, the response's first
/// (only the request's started and ended, and the answer went out unfiltered).
#[test]
fn a_tcp_service_starts_and_ends_the_filters_response_analysis_as_in_haproxy() {
    let script = super::lua_public::script("filters_run.lua");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}listen tcp\n    mode tcp\n    bind 127.0.0.1:{port}\n    filter lua.tcp\n    tcp-request inspect-delay 2s\n    tcp-request content use-service lua.greet if {{ req.len gt 0 }}\n"
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, side| {
        let answer = raw(port, b"hi\n", Duration::from_secs(5));
        (answer, ended(side, "ended tcp ", 2))
    });
    assert_eq!(
        ours,
        (
            "GOT HI\n".to_string(),
            vec![
                "ended tcp start:req start:res end:res".to_string(),
                "ended tcp start:req start:res end:res end:req".to_string(),
            ]
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
