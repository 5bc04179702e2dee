//! Names a script registers twice (`testdata/lua/twice.lua`): HAProxy's start-up warning for
//! each repeat, and the later function serving (actions, fetches, converters, services and
//! Runtime API commands); side by side with Debian's haproxy.

use super::harness::{both_reading, curl, Scratch, DEFAULTS};
use super::lua_runtime_api::cli;

fn script() -> String {
    super::lua_public::script("twice.lua")
}

/// The warnings of names registered twice in `stderr`, without their pid.
pub(super) fn twice_warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("more than once"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, w)| w).to_string())
        .collect()
}

#[test]
fn names_registered_twice_warn_and_the_later_function_serves() {
    let socket_name = |port: u16| format!("hapee-twice-{port}.sock");
    let socket = |port: u16| std::env::temp_dir().join(socket_name(port));
    // Each side's socket, removed once the comparison is over.
    let sockets = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        let _ = std::fs::remove_file(socket(port));
        sockets.borrow_mut().push(Scratch::file(&socket_name(port)));
        format!(
            "global\n    lua-load {}\n    stats socket {} level admin\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.svc if {{ path /svc }}\n    http-request lua.act\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.act)] %[lua.fetch] %[str(x),lua.conv]\"\n",
            script(),
            socket(port).display()
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, side| {
        let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
        let warnings = twice_warnings(&side.stderr());
        (
            curl(&[&url("/")]),
            curl(&[&url("/svc")]),
            cli(&socket(port), "say which"),
            warnings,
        )
    });
    assert_eq!(ours.0, (200, "second second second".into()));
    assert_eq!(ours.1, (200, "second".into()));
    assert_eq!(ours.2, "second\n\n");
    let warning = |kind: &str, name: &str| {
        format!("config : Trying to register {kind} 'lua.{name}' more than once. This will become a hard error in version 2.5.")
    };
    assert_eq!(
        ours.3,
        [
            warning("action", "act"),
            warning("sample-fetch", "fetch"),
            warning("converter", "conv"),
            warning("service", "svc"),
            warning("CLI keyword", "say which"),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
