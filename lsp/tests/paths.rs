//! Completion of the values that name files (from the disk, relative paths from the
//! configuration's folder) and of the server a `track` option names, over JSON-RPC; a free
//! option value is not offered the line's options.

mod common;

use common::Client;

const CFG: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind :80
    default_backend app
backend app
    server s1 127.0.0.1:8000 check
backend other
    server s2 127.0.0.1:8001 check
";

#[test]
fn file_values_complete_from_the_disk_and_track_names_servers() {
    let dir = std::env::temp_dir().join(format!("hapee-lsp-paths-{}", std::process::id()));
    for sub in ["errors", "certs", ".git"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for file in [
        "errors/503.http",
        "errors/504.http",
        "certs/site.pem",
        "hosts.map",
    ] {
        std::fs::write(dir.join(file), "").unwrap();
    }
    let uri = format!("file://{}/haproxy.cfg", dir.display());
    let mut c = Client::start_in(&dir);
    assert_eq!(
        c.init["result"]["capabilities"]["completionProvider"]["triggerCharacters"],
        serde_json::json!([" ", "/"])
    );
    c.open(&uri, CFG);
    let mut version = 1;
    let mut labels = |c: &mut Client, line: &str| {
        version += 1;
        c.replace_text(&uri, version, &format!("{CFG}    {line}\n"));
        c.completion_labels(&uri, 12, 4 + line.len() as u32)
    };
    let top = ["certs/", "errors/", "hosts.map"];
    assert_eq!(labels(&mut c, "errorfile 503 "), top);
    assert_eq!(
        labels(&mut c, "errorfile 503 errors/"),
        ["503.http", "504.http"]
    );
    assert_eq!(
        labels(&mut c, "errorfile 503 errors/50"),
        ["503.http", "504.http"]
    );
    let absolute = format!("errorfile 503 {}/errors/", dir.display());
    assert_eq!(labels(&mut c, &absolute), ["503.http", "504.http"]);
    assert_eq!(
        labels(&mut c, "server s3 1.1.1.1:1 ssl crt certs/"),
        ["site.pem"]
    );
    assert_eq!(labels(&mut c, "server s3 1.1.1.1:1 ssl ca-file "), top);
    assert_eq!(
        labels(&mut c, "http-request set-header X %[req.hdr(host),map(h"),
        ["hosts.map"]
    );
    assert_eq!(labels(&mut c, "http-request deny if { src -f "), top);
    assert_eq!(labels(&mut c, "lua-load ."), [".git/"]);
    // `track` names a server of this backend, or another's as backend/server.
    assert_eq!(
        labels(&mut c, "server s3 1.1.1.1:1 track "),
        ["app/s1", "s2"]
    );
    assert_eq!(labels(&mut c, "server s3 1.1.1.1:1 track app/"), ["s1"]);
    // A free value is no place for the line's options.
    assert!(labels(&mut c, "server s3 1.1.1.1:1 weight ").is_empty());
    assert!(labels(&mut c, "server s3 1.1.1.1:1 sni ")
        .iter()
        .any(|l| l == "req.hdr"));
    // After the path, the line's options again.
    let options = labels(&mut c, "server s3 1.1.1.1:1 ssl crt certs/site.pem ");
    assert!(options.iter().any(|l| l == "verify"), "{options:?}");
    c.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
