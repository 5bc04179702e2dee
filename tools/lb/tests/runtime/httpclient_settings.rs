//! The global `httpclient.*` settings applied to scripts' `core.httpclient()`, side by side
//! with Debian's haproxy: a name resolved with the `resolvers` section `httpclient.resolvers.id`
//! names (dnsmasq), in the family `httpclient.resolvers.prefer` puts first, and an HTTPS
//! server's certificate checked against `httpclient.ssl.ca-file`, or not at all with
//! `httpclient.ssl.verify none`.

use crate::discovery::Dnsmasq;
use crate::harness::*;
use crate::tls::Ca;
use std::time::Duration;

/// A service asking `https://both.hapee.test:<query string>/` and answering `<status>
/// <body>`.
const SCRIPT: &str = r#"
core.register_service("fetch", "http", function(applet)
    local r = core.httpclient():get{url = "https://both.hapee.test:" .. applet.qs .. "/"}
    local body = tostring(r.status) .. " " .. (r.body or "")
    applet:set_status(200)
    applet:add_header("content-type", "text/plain")
    applet:add_header("content-length", tostring(#body))
    applet:start_response()
    applet:send(body)
end)
"#;

/// The proxy on `port` (the script's service) and `port + 1` on 127.0.0.9 (the HTTPS
/// server, whose certificate names `both.hapee.test`).
fn config(port: u16, dns_port: u16, settings: &str, files: &std::path::Path) -> String {
    format!(
        "global
    lua-load {script}
    {settings}
resolvers dns
    nameserver ns1 127.0.0.1:{dns_port}
    timeout resolve 1s
    timeout retry 300ms
    resolve_retries 2
    hold valid 10s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request use-service lua.fetch
frontend origin
    bind 127.0.0.9:{origin} ssl crt {pem}
    http-request return status 200 content-type text/plain string origin
",
        script = files.join("fetch.lua").display(),
        pem = files.join("server.pem").display(),
        origin = port + 1,
    )
}

fn fetched(port: u16) -> String {
    // The origin's listener may come up after the first one.
    wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(("127.0.0.9", port + 1)).is_ok()
    });
    let (_, body) = curl(&[&format!("http://127.0.0.1:{port}/?{}", port + 1)]);
    body
}

#[test]
fn httpclient_resolves_and_verifies_as_the_global_settings_say() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let files = Scratch::dir(&format!("hapee-httpclient-{}", std::process::id()));
    let ca = Ca::new("Hapee Client CA");
    let (cert, key) = ca.issue(&["both.hapee.test"], false, false);
    std::fs::write(files.join("server.pem"), cert + &key).unwrap();
    std::fs::write(files.join("ca.pem"), ca.cert.pem()).unwrap();
    std::fs::write(files.join("fetch.lua"), SCRIPT).unwrap();
    let ca_file = files.join("ca.pem").display().to_string();
    let dns_port = free_port();
    let dns = Dnsmasq::start(
        dns_port,
        &[],
        &["--host-record=both.hapee.test,127.0.0.9,::9".to_string()],
    );
    let cases = [
        // The IPv4 address, a certificate the CA file vouches for.
        format!("httpclient.resolvers.id dns\n    httpclient.resolvers.prefer ipv4\n    httpclient.ssl.ca-file {ca_file}"),
        // IPv6 first: nothing listens on ::9.
        format!("httpclient.resolvers.id dns\n    httpclient.ssl.ca-file {ca_file}"),
        // The system's CAs do not know the test CA.
        "httpclient.resolvers.id dns\n    httpclient.resolvers.prefer ipv4".to_string(),
        // Unless nothing is checked.
        "httpclient.resolvers.id dns\n    httpclient.resolvers.prefer ipv4\n    httpclient.ssl.verify none".to_string(),
    ];
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for settings in &cases {
        let (m, t) = both_reading(
            2,
            |port| config(port, dns_port, settings, &files),
            |port, _| fetched(port),
        );
        mine.push(m);
        theirs.extend(t);
    }
    drop(dns);
    // A request the client could not make gets the client's proxy's 503 page, as HAProxy's.
    let statuses = |answers: &[String]| -> Vec<String> {
        answers
            .iter()
            .map(|a| a.split(' ').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(statuses(&mine), ["200", "503", "503", "200"], "{mine:?}");
    if !theirs.is_empty() {
        assert_eq!(statuses(&theirs), statuses(&mine), "{theirs:?}");
    }
}

#[test]
fn a_resolvers_section_httpclient_names_must_exist() {
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-httpclient-id-{}", std::process::id()));
    let cfg = dir.join("h.cfg");
    std::fs::write(
        &cfg,
        format!("global\n    httpclient.resolvers.id nowhere\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend f\n    bind 127.0.0.1:{port}\n    http-request return status 200\n"),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["run", "-f"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(10), || {
        child.try_wait().is_ok_and(|s| s.is_some())
    });
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(exited && !out.status.success(), "it started");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Couldn't setup the httpclient resolver."),
        "{err}"
    );
}
