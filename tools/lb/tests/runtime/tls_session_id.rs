//! `ssl_fc_session_id` and `ssl_bc_session_id` with OpenSSL's rules, side by side with
//! Debian's haproxy: `openssl s_client` saving and resuming sessions on a bind with and
//! without tickets, in TLS 1.2 and 1.3, and server connections to a TLS 1.2 origin.

use crate::harness::*;
use crate::tls::{have, s_client_request as s_client, server_pki, Ca, Pki};
use std::process::Command;

/// What one bind answered to a new session then its resumption, as comparable facts.
fn shape(port: u16, version: &str, sess: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut client_ids = Vec::new();
    let mut ours = Vec::new();
    let answer = regex::Regex::new(r"id=([0-9A-F]*) r=(\d)").unwrap();
    let session = regex::Regex::new(r"Session-ID: ([0-9A-F]*)").unwrap();
    for i in 0..2 {
        let mode = if i == 0 { "-sess_out" } else { "-sess_in" };
        let text = s_client(
            port,
            &[version, mode, sess, "-ign_eof", "-servername", "a.example"],
        );
        let id = answer
            .captures(&text)
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .unwrap_or_else(|| panic!("no answer: {text}"));
        // s_client prints the ID of the session it holds at the end (TLS 1.3: one per ticket).
        let client = session
            .captures_iter(&text)
            .last()
            .map(|c| c[1].to_string())
            .unwrap_or_default();
        out.push(format!("resumed={} len={}", id.1, id.0.len() / 2));
        client_ids.push(client);
        ours.push(id.0);
    }
    out.push(format!("same id twice: {}", ours[0] == ours[1]));
    out.push(format!(
        "first is the client's: {}",
        ours[0] == client_ids[0]
    ));
    out.push(format!(
        "second is the client's first: {}",
        ours[1] == client_ids[0]
    ));
    out
}

#[test]
fn bind_session_ids_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("sessid");
    server_pki(&pki, &Ca::new("Session CA"));
    let crt = pki.path("default.pem");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt}
    bind 127.0.0.1:{} ssl crt {crt} no-tls-tickets
    http-request return status 200 content-type text/plain lf-string \"id=%[ssl_fc_session_id,hex] r=%[ssl_fc_is_resumed]\\n\"
",
            port + 1
        )
    };
    let sess = pki.path("sess");
    let drive = |port: u16| -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for version in ["-tls1_2", "-tls1_3"] {
            for p in [port, port + 1] {
                all.push(shape(p, version, &sess));
            }
        }
        all
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| drive(port));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // TLS 1.2 with tickets: a new session has no ID; a resumed one has the ID the client sent.
    assert_eq!(
        ours[0],
        s(&[
            "resumed=0 len=0",
            "resumed=1 len=32",
            "same id twice: false",
            "first is the client's: false",
            "second is the client's first: true"
        ]),
        "{ours:?}"
    );
    // TLS 1.2 from the cache: one ID, the client's, kept on resumption.
    assert_eq!(
        ours[1],
        s(&[
            "resumed=0 len=32",
            "resumed=1 len=32",
            "same id twice: true",
            "first is the client's: true",
            "second is the client's first: true"
        ]),
        "{ours:?}"
    );
    // TLS 1.3: a fresh random ID with the tickets of each connection.
    for tls13 in &ours[2..] {
        assert_eq!(
            tls13[..3],
            s(&[
                "resumed=0 len=32",
                "resumed=1 len=32",
                "same id twice: false"
            ])
        );
    }
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}

/// `(x-bc header, origin's body)` for a request through `port` to `path`.
fn through(port: u16, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "10"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let header = regex::Regex::new(r"(?i)x-bc: ([0-9A-F]*)")
        .unwrap()
        .captures(&text)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    let body = regex::Regex::new(r"fc=([0-9A-F]*)")
        .unwrap()
        .captures(&text)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no answer from the origin: {text}"));
    (header, body)
}

#[test]
fn server_session_ids_as_haproxy() {
    if !have("curl", &["--version"]) || !Haproxy::installed() {
        return;
    }
    let pki = Pki::new("bcsessid");
    server_pki(&pki, &Ca::new("Origin CA"));
    let crt = pki.path("default.pem");
    // The origin: Debian's haproxy over TLS 1.2, with and without tickets.
    let origin = free_ports(2);
    let _origin = Haproxy::start(
        &format!(
            "{DEFAULTS}frontend o
    bind 127.0.0.1:{origin} ssl crt {crt} ssl-max-ver TLSv1.2 no-tls-tickets
    bind 127.0.0.1:{} ssl crt {crt} ssl-max-ver TLSv1.2
    http-request return status 200 content-type text/plain lf-string \"fc=%[ssl_fc_session_id,hex]\\n\"
",
            origin + 1
        ),
        origin,
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-response set-header x-bc \"%[ssl_bc_session_id,hex]\"
    use_backend tickets if {{ path /t }}
    use_backend no_tickets if {{ path /n }}
    default_backend cache
backend cache
    server o 127.0.0.1:{origin} ssl verify none
backend tickets
    server o 127.0.0.1:{} ssl verify none
backend no_tickets
    server o 127.0.0.1:{} ssl verify none no-tls-tickets
",
            origin + 1,
            origin + 1
        )
    };
    let drive = |port: u16| {
        let (bc, fc) = through(port, "/c");
        let (tbc, tfc) = through(port, "/t");
        let (nbc, nfc) = through(port, "/n");
        vec![
            format!("cache: same={} len={}", bc == fc, bc.len() / 2),
            // A ticket's session is named by the SHA-256 of the ticket on the client side; the
            // origin's new session has no ID.
            format!("ticket: bc len={} fc len={}", tbc.len() / 2, tfc.len() / 2),
            // `no-tls-tickets`: no ticket asked for, so the origin names the session.
            format!("no ticket: same={} len={}", nbc == nfc, nbc.len() / 2),
        ]
    };
    let (ours, theirs) = both(cfg, drive);
    assert_eq!(
        ours,
        vec![
            "cache: same=true len=32",
            "ticket: bc len=32 fc len=0",
            "no ticket: same=true len=32"
        ]
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}

/// `tune.ssl.force-private-cache` chose a per-process cache when HAProxy ran several
/// processes; 2.7 runs one, whose threads share its cache whatever the setting: a session
/// from the cache (no tickets) resumes as without it, side by side with haproxy.
#[test]
fn force_private_cache_keeps_resumption_from_the_cache() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("privcache");
    server_pki(&pki, &Ca::new("Private cache CA"));
    let crt = pki.path("default.pem");
    let cfg = |port: u16| {
        format!(
            "global\n    tune.ssl.force-private-cache\n    nbthread 2\n{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} no-tls-tickets
    http-request return status 200 content-type text/plain lf-string \"id=%[ssl_fc_session_id,hex] r=%[ssl_fc_is_resumed]\\n\"
"
        )
    };
    let sess = pki.path("sess");
    let (ours, theirs) = both_reading(1, cfg, |port, _| shape(port, "-tls1_2", &sess));
    assert_eq!(
        ours[..2],
        ["resumed=0 len=32", "resumed=1 len=32"],
        "{ours:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
