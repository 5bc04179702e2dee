//! Beside Debian's haproxy: a TCP content action's last call, when its inspection delay ends
//! (at once without one), where a script in a real wait is abandoned with HAProxy's alert and
//! the next rule goes on, while channel reads answer what is there and given turns go on; and
//! the HTTP client's failed connections, tried again (`httpclient.retries`) and then answered
//! with HAProxy's 503 page.

use crate::harness::*;
use std::time::Duration;

/// A port nothing listens on (a free one, left closed).
fn closed_port() -> u16 {
    free_port()
}

fn script(dir: &std::path::Path, refused: u16) -> std::path::PathBuf {
    let file = dir.join("expired.lua");
    std::fs::write(
        &file,
        format!(
            r#"
core.register_action("status", {{ "http-req" }}, function(txn)
  local r = core.httpclient():get{{ url = "http://127.0.0.1:{refused}/" }}
  txn:set_var("txn.r", tostring(r.status) .. " " .. tostring(#r.body))
end)
"#
        ),
    )
    .unwrap();
    file
}

#[test]
fn lua_httpclient_answers_503_after_retrying_a_refused_connection_as_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-hc503-{}", std::process::id()));
    let file = script(&dir, closed_port());
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 10s\n    timeout client 10s\n    timeout server 10s\nlisten li1\n    bind 127.0.0.1:{port}\n    http-request lua.status\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.r)]\"\n",
            file.display()
        )
    };
    let drive = |port: u16| {
        let answer = send_and_read(port, b"GET / HTTP/1.0\r\nHost: h\r\n\r\n");
        answer
            .split_once("\r\n\r\n")
            .map_or(answer.clone(), |(_, body)| body.to_string())
    };
    // HAProxy's own 503 page, 107 bytes.
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(mine, "503 107");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}

const LAST_CALL: &str = r#"
core.register_action("nap", { "tcp-req" }, function(txn, ms)
  txn:set_var("txn.s", "before")
  core.msleep(tonumber(ms))
  txn:set_var("txn.s", "after")
end, 1)
core.register_action("line", { "tcp-req" }, function(txn, after)
  local l = txn.req:getline()
  txn:set_var("txn.s", "read [" .. l .. "]")
  if after == "sleep" then core.msleep(10) else core.yield() end
  txn:set_var("txn.s", "went on [" .. l .. "]")
end, 1)
core.register_action("peek", { "tcp-req" }, function(txn)
  -- The channel is still usable after an abandoned action. (What it holds is not shown:
  -- HAProxy's goes on receiving while an action sleeps.)
  txn.req:data()
  txn:set_var("txn.p", "peeked")
end)
core.register_service("say", "tcp", function(applet)
  applet:send(tostring(applet:get_var("txn.s")) .. " " .. tostring(applet:get_var("txn.p")) .. "\n")
end)
"#;

/// One `listen` section per case: its inspection delay (none for `-`) and its script action.
const CASES: [(&str, &str); 5] = [
    // Still sleeping when the delay ends: abandoned, the next rules go on.
    ("200ms", "lua.nap 2000"),
    // No delay: the first real wait is the last call's.
    ("-", "lua.nap 10"),
    // A sleep within the delay.
    ("2s", "lua.nap 10"),
    // A read waiting for a line feed gets what is there when the delay ends; then a sleep is
    // abandoned, a yield is not.
    ("300ms", "lua.line sleep"),
    ("300ms", "lua.line yield"),
];

fn last_call_config(script: &std::path::Path, port: u16) -> String {
    let mut cfg = format!(
        "global\n    lua-load {}\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n",
        script.display()
    );
    for (i, (delay, action)) in CASES.iter().enumerate() {
        cfg += &format!("listen c{i}\n    bind 127.0.0.1:{}\n", port + i as u16);
        if *delay != "-" {
            cfg += &format!("    tcp-request inspect-delay {delay}\n");
        }
        cfg += &format!(
            "    tcp-request content {action}\n    tcp-request content lua.peek\n    tcp-request content use-service lua.say\n"
        );
    }
    cfg
}

#[test]
fn lua_content_action_at_its_last_call_behaves_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-last-{}", std::process::id()));
    let script = dir.join("last.lua");
    std::fs::write(&script, LAST_CALL).unwrap();
    let drive = |port: u16, side: &Side| {
        let answers: Vec<String> = (0..CASES.len())
            .map(|i| send_and_read(port + i as u16, b"abc"))
            .collect();
        let alert = |name: &str| {
            format!("Lua function '{name}': aborting Lua processing on expired timeout.")
        };
        wait_until(Duration::from_secs(2), || {
            side.stderr().matches(&alert("nap")).count() >= 2
        });
        let err = side.stderr();
        let alerts = [alert("nap"), alert("line")].map(|a| err.matches(&a).count());
        (answers, alerts, err.contains("borrow"))
    };
    let cases = CASES.len() as u16;
    let (mine, theirs) = both_reading(cases, |p| last_call_config(&script, p), drive);
    let expected: Vec<String> = [
        "before peeked",
        "before peeked",
        "after peeked",
        "read [abc] peeked",
        "went on [abc] peeked",
    ]
    .iter()
    .map(|s| format!("{s}\n"))
    .collect();
    assert_eq!(mine, (expected, [2, 1], false));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}

/// The same last call in an HTTP proxy's `tcp-request content` rules: the request is whole,
/// so only the inspection delay lets a script wait (none: its first sleep is abandoned).
#[test]
fn lua_content_action_of_an_http_proxy_at_its_last_call_behaves_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-last-http-{}", std::process::id()));
    let script = dir.join("last.lua");
    std::fs::write(&script, LAST_CALL).unwrap();
    let cases = [("-", 10), ("1s", 10), ("200ms", 2000)];
    let cfg = |port: u16| {
        let mut cfg = format!(
            "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n",
            script.display()
        );
        for (i, (delay, ms)) in cases.iter().enumerate() {
            cfg += &format!("listen h{i}\n    bind 127.0.0.1:{}\n", port + i as u16);
            if *delay != "-" {
                cfg += &format!("    tcp-request inspect-delay {delay}\n");
            }
            cfg += &format!(
                "    tcp-request content lua.nap {ms}\n    tcp-request content set-var(txn.t) str(next)\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.s)] %[var(txn.t)]\"\n"
            );
        }
        cfg
    };
    let drive = |port: u16, side: &Side| {
        let answers: Vec<(u16, String)> = (0..cases.len())
            .map(|i| curl(&[&format!("http://127.0.0.1:{}/", port + i as u16)]))
            .collect();
        let alert = "Lua function 'nap': aborting Lua processing on expired timeout.";
        wait_until(Duration::from_secs(2), || {
            side.stderr().matches(alert).count() >= 2
        });
        (answers, side.stderr().matches(alert).count())
    };
    let (mine, theirs) = both_reading(cases.len() as u16, cfg, drive);
    let expected = ["before next", "after next", "before next"].map(|s| (200, s.to_string()));
    assert_eq!(mine, (expected.to_vec(), 2));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}

/// Whose delay an HTTP proxy's content actions get, and from when: a backend's own rules get
/// the backend's `tcp-request inspect-delay` (none: the last call comes at once, whatever the
/// frontend's), and the actions of one rule set share one delay counted from their first wait
/// (two naps of 400 ms under 600 ms: the second is abandoned), as HAProxy keeps one expiry
/// for the stream's rules.
#[test]
fn lua_content_actions_of_an_http_backend_get_its_delay_once_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-delay-be-{}", std::process::id()));
    let script = dir.join("last.lua");
    std::fs::write(&script, LAST_CALL).unwrap();
    let answer = "    tcp-request content set-var(txn.t) str(next)\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.s)] %[var(txn.t)]\"\n";
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f0\n    bind 127.0.0.1:{port}\n    default_backend b0\n\
             backend b0\n    tcp-request inspect-delay 1s\n    tcp-request content lua.nap 10\n{answer}\
             listen h1\n    bind 127.0.0.1:{}\n    tcp-request inspect-delay 600ms\n    tcp-request content lua.nap 400\n    tcp-request content lua.nap 400\n{answer}\
             frontend f2\n    bind 127.0.0.1:{}\n    tcp-request inspect-delay 2s\n    default_backend b2\n\
             backend b2\n    tcp-request content lua.nap 10\n{answer}",
            script.display(),
            port + 1,
            port + 2,
        )
    };
    let drive = |port: u16, side: &Side| {
        let answers: Vec<(u16, String)> = (0..3)
            .map(|i| curl(&[&format!("http://127.0.0.1:{}/", port + i)]))
            .collect();
        let alert = "Lua function 'nap': aborting Lua processing on expired timeout.";
        wait_until(Duration::from_secs(2), || {
            side.stderr().matches(alert).count() >= 2
        });
        (answers, side.stderr().matches(alert).count())
    };
    let (mine, theirs) = both_reading(3, cfg, drive);
    let expected = ["after next", "before next", "before next"].map(|s| (200, s.to_string()));
    assert_eq!(mine, (expected.to_vec(), 2));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}
