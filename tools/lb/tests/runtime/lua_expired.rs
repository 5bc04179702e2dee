//! The HTTP client's failed connections beside Debian's haproxy: the client tries a refused
//! connection again (`httpclient.retries`) and then answers HAProxy's 503 page.

use crate::harness::*;

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
    let dir = std::env::temp_dir().join(format!("hapee-lua-hc503-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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
    let _ = std::fs::remove_dir_all(&dir);
}
