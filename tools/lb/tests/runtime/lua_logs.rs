//! Script log messages as HAProxy writes them (`testdata/lua/logs.lua`): each byte that is not
//! printable ASCII shown as `.`, the message cut at a NUL and, past a buffer's worth, cut to
//! end with ` ...`; none sent to the loggers while the script loads; side by side with
//! Debian's haproxy.

use super::harness::{curl, logged_side_by_side, LOGGED_DEFAULTS};

fn script() -> String {
    super::lua_public::script("logs.lua")
}

#[test]
fn script_log_messages_are_cleaned_as_haproxy_cleans_them() {
    // A small buffer, so that the long message is cut.
    let cfg = |port: u16| {
        LOGGED_DEFAULTS.replacen(
            "global\n",
            &format!("global\n    lua-load {}\n    tune.bufsize 1024\n", script()),
            1,
        ) + &format!(
            "frontend fe\n    bind 127.0.0.1:{port}\n    http-request lua.logs\n    http-request return status 200\n"
        )
    };
    let drive = |port: u16| curl(&[&format!("http://127.0.0.1:{port}/")]).0;
    let keep = |l: &str| l.contains("msg:");
    let ((status, ours), theirs) = logged_side_by_side(cfg, drive, keep, 4);
    assert_eq!(status, 200);
    let expected = [
        "msg:core ends with a line end.".to_string(),
        "msg:txn tab.here, caf..".to_string(),
        "msg:log cut".to_string(),
        format!("msg:{} ...", "x".repeat(1023 - 8)),
    ];
    assert_eq!(ours, expected);
    if let Some((_, theirs)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
