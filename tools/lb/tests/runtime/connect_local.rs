//! A CONNECT the proxy answers itself with a 2xx (`http-request return`, a Lua service) opens
//! no tunnel: the answer goes out with its length or chunks and its body, and the connection
//! closes after it, as HAProxy writes it; side by side with Debian's haproxy.

use crate::harness::*;
use std::time::Duration;

#[test]
fn a_connect_answered_locally_with_2xx_is_written_whole_then_closed_as_haproxy() {
    let dir = Scratch::dir(&format!("hapee-connect-local-{}", std::process::id()));
    let script = dir.join("svc.lua");
    std::fs::write(
        &script,
        "core.register_service(\"svc\", \"http\", function(applet)
    applet:set_status(200)
    applet:add_header(\"x-svc\", \"1\")
    applet:start_response()
    applet:send(\"from lua\")
end)
",
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "global
    lua-load {}
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-request use-service lua.svc if {{ hdr(host) -m beg lua }}
    http-request return status 200 content-type text/plain string hello if {{ hdr(host) -m beg ret }}
    http-request return status 204 if {{ hdr(host) -m beg none }}
    http-request deny
",
            script.display()
        )
    };
    let requests: [&[u8]; 5] = [
        b"CONNECT ret:443 HTTP/1.1\r\nHost: ret:443\r\n\r\n",
        // What follows the CONNECT is not read as a request: the connection ends first.
        b"CONNECT ret:443 HTTP/1.1\r\nHost: ret:443\r\n\r\nGET / HTTP/1.1\r\nHost: ret\r\n\r\n",
        b"CONNECT ret:443 HTTP/1.0\r\nHost: ret:443\r\n\r\n",
        b"CONNECT lua:443 HTTP/1.1\r\nHost: lua:443\r\n\r\n",
        b"CONNECT none:443 HTTP/1.1\r\nHost: none:443\r\n\r\n",
    ];
    // Each answer ends with the connection: `raw` returns at the close.
    let drive = |port: u16| -> Vec<String> {
        requests
            .iter()
            .map(|r| raw(port, r, Duration::from_secs(10)))
            .collect()
    };
    let (ours, theirs) = both(cfg, drive);
    assert_eq!(
        ours[0],
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello"
    );
    assert_eq!(ours[1], ours[0]);
    assert_eq!(ours[2], ours[0]);
    assert!(
        ours[3].contains("transfer-encoding: chunked\r\n")
            && ours[3].ends_with("8\r\nfrom lua\r\n0\r\n\r\n"),
        "{:?}",
        ours[3]
    );
    assert!(ours[4].starts_with("HTTP/1.1 204"), "{:?}", ours[4]);
    let Some(theirs) = theirs else {
        return;
    };
    // HAProxy (2.6 and 2.7.0), its connection in tunnel mode, announces chunks but writes the
    // service's bytes bare; hapee writes the chunks it announces. The heads are the same.
    let head = |a: &str| a.split("\r\n\r\n").next().unwrap_or_default().to_string();
    assert_eq!(head(&ours[3]), head(&theirs[3]));
    assert!(theirs[3].ends_with("\r\n\r\nfrom lua"), "{:?}", theirs[3]);
    let (mut ours, mut theirs) = (ours, theirs);
    ours.remove(3);
    theirs.remove(3);
    assert_eq!(ours, theirs);
}
