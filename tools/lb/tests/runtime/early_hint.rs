//! `http-request early-hint`: consecutive unconditional rules make one `103 Early Hints`, a
//! conditional one a 103 of its own, all ahead of the final response, over HTTP/1.1 and
//! HTTP/2 (curl); an HTTP/1.0 client gets none. Side by side with Debian's haproxy.

use super::harness::{both, raw};
use std::time::Duration;

fn config(port: u16) -> String {
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request early-hint link \"</style.css>; rel=preload; as=style\"
    http-request early-hint link \"</script.js>; rel=preload; as=script\"
    http-request set-var(txn.seen) str(yes)
    http-request early-hint x-path %[path] if {{ path_beg /a }}
    http-request return status 200 content-type text/plain string ok
"
    )
}

fn answers(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for (version, path) in [("1.1", "/ab"), ("1.1", "/b"), ("1.0", "/ab")] {
        let req = format!("GET {path} HTTP/{version}\r\nHost: a\r\nConnection: close\r\n\r\n");
        out.push(raw(port, req.as_bytes(), Duration::from_secs(2)));
    }
    // HTTP/2 (prior knowledge): the status lines and headers curl reports.
    let h2 = std::process::Command::new("curl")
        .args(["-sv", "--http2-prior-knowledge"])
        .arg(format!("http://127.0.0.1:{port}/ab"))
        .output()
        .expect("curl runs");
    let lines: Vec<String> = String::from_utf8_lossy(&h2.stderr)
        .lines()
        .filter(|l| l.starts_with("< ") && !l.trim_end().eq("<"))
        .map(|l| l.trim_end().to_string())
        .collect();
    out.push(lines.join("\n"));
    out
}

#[test]
fn early_hints_go_ahead_of_the_response() {
    let (mine, theirs) = both(config, answers);
    let hint = "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload; as=style\r\nlink: </script.js>; rel=preload; as=script\r\n\r\n";
    assert!(
        mine[0].starts_with(&format!(
            "{hint}HTTP/1.1 103 Early Hints\r\nx-path: /ab\r\n\r\nHTTP/1.1 200 OK\r\n"
        )),
        "{mine:?}"
    );
    assert!(
        mine[1].starts_with(&format!("{hint}HTTP/1.1 200 OK\r\n")),
        "{mine:?}"
    );
    assert!(mine[2].starts_with("HTTP/1.1 200 OK\r\n"), "{mine:?}");
    assert!(
        mine[3].starts_with("< HTTP/2 103\n< link: </style.css>"),
        "{mine:?}"
    );
    assert!(
        mine[3].contains("< HTTP/2 103\n< x-path: /ab\n< HTTP/2 200"),
        "{mine:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
