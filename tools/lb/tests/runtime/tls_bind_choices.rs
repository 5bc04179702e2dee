//! TLS choices of a `bind` line seen by `openssl s_client`, side by side with Debian's
//! haproxy: whose cipher order wins (`prefer-client-ciphers`), whether the certificate
//! request names CAs (`no-ca-names`), and session tickets sealed with a file's keys
//! (`tls-ticket-keys`), which resume on every listener of the file and follow the Runtime
//! API's `set ssl tls-key` rotations (`show tls-keys`).

use crate::api::ask;
use crate::harness::*;
use crate::tls::{have, server_pki, Ca, Pki};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `openssl s_client` sending one HTTP/1.0 request and reading until the proxy closes: all it
/// printed.
fn s_client(port: u16, args: &[&str]) -> String {
    let args: Vec<&str> = std::iter::once("-ign_eof")
        .chain(args.iter().copied())
        .collect();
    crate::tls::s_client_request(port, &args)
}

/// The cipher a handshake settled on.
fn cipher(text: &str) -> String {
    regex::Regex::new(r"Cipher is (\S+)")
        .unwrap()
        .captures(text)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| format!("no cipher in: {text}"))
}

#[test]
fn the_listeners_cipher_order_wins_unless_prefer_client_ciphers() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("cipher-order");
    server_pki(&pki, &Ca::new("Cipher CA"));
    let crt = pki.path("default.pem");
    let cfg = |port: u16| {
        let line = format!("ssl crt {crt} ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256 ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} {line}
    bind 127.0.0.1:{} {line} prefer-client-ciphers
    http-request return status 200
",
            port + 1
        )
    };
    let client_order = [
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
    ];
    let (ours, theirs) = both_reading(2, cfg, |port, _| {
        let mut out = Vec::new();
        for p in [port, port + 1] {
            for version in ["-tls1_2", "-tls1_3"] {
                let mut args = vec![version];
                args.extend(client_order);
                out.push(cipher(&s_client(p, &args)));
            }
        }
        out
    });
    assert_eq!(
        ours,
        [
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_AES_256_GCM_SHA384",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_AES_128_GCM_SHA256"
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn no_ca_names_leaves_the_certificate_request_without_cas() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("ca-names");
    server_pki(&pki, &Ca::new("Named Client CA"));
    let crt = pki.path("default.pem");
    let ca = pki.path("ca.pem");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} ca-file {ca} verify optional
    bind 127.0.0.1:{} ssl crt {crt} ca-file {ca} verify optional no-ca-names
    http-request return status 200
",
            port + 1
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| {
        [port, port + 1].map(|p| {
            let text = s_client(p, &["-tls1_2"]);
            (
                text.contains("No client certificate CA names sent"),
                text.contains("Acceptable client certificate CA names"),
            )
        })
    });
    assert_eq!(ours, [(false, true), (true, false)]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

/// A key of `size` bytes, each `fill`, in base64.
fn key(fill: u8, size: usize) -> String {
    hapee_compiler::plan::ticket_keys::encode(&vec![fill; size])
}

/// Whether a session saved from `from` resumes on `to`.
fn resumes(from: u16, to: u16, version: &str, sess: &str) -> bool {
    let first = s_client(from, &[version, "-sess_out", sess]);
    assert!(first.contains("200"), "no answer: {first}");
    s_client(to, &[version, "-sess_in", sess]).contains("Reused,")
}

#[test]
fn ticket_keys_of_a_file_resume_on_its_listeners_and_rotate() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("ticket-keys");
    server_pki(&pki, &Ca::new("Ticket CA"));
    let crt = pki.path("default.pem");
    let keys = pki.write("tickets.keys", &[1, 2, 3, 4].map(|n| key(n, 80)).join("\n"));
    let dir = pki.path("");
    let cfg = |port: u16| {
        format!(
            "global
    tune.ssl.cachesize 0
    stats socket {dir}/api{port}.sock level admin
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} tls-ticket-keys {keys}
    bind 127.0.0.1:{} ssl crt {crt} tls-ticket-keys {keys}
    bind 127.0.0.1:{} ssl crt {crt}
    http-request return status 200
",
            port + 1,
            port + 2
        )
    };
    let sess = pki.path("sess");
    let (ours, theirs) = both_reading(3, cfg, |port, _| {
        let sock = Path::new(&dir).join(format!("api{port}.sock"));
        assert!(wait_until(Duration::from_secs(20), || sock.exists()));
        let mut out = Vec::new();
        for version in ["-tls1_2", "-tls1_3"] {
            // The file's listeners open each other's tickets; the other listener does not.
            out.push(format!(
                "{version} same file {} other {}",
                resumes(port, port + 1, version, &sess),
                resumes(port, port + 2, version, &sess)
            ));
        }
        out.push(ask(&sock, "show tls-keys\n"));
        out.push(ask(&sock, &format!("show tls-keys {keys}\n")));
        // A ticket of the key in use survives one rotation, not two.
        let first = s_client(port, &["-tls1_2", "-sess_out", &sess]);
        assert!(first.contains("200"));
        out.push(ask(
            &sock,
            &format!("set ssl tls-key {keys} {}\n", key(5, 80)),
        ));
        out.push(format!(
            "after one {}",
            s_client(port, &["-tls1_2", "-sess_in", &sess]).contains("Reused,")
        ));
        out.push(ask(
            &sock,
            &format!("set ssl tls-key {keys} {}\n", key(6, 80)),
        ));
        out.push(format!(
            "after two {}",
            s_client(port, &["-tls1_2", "-sess_in", &sess]).contains("Reused,")
        ));
        out.push(ask(&sock, &format!("show tls-keys {keys}\n")));
        out.push(ask(
            &sock,
            &format!("set ssl tls-key {keys} {}\n", key(7, 48)),
        ));
        out.push(ask(&sock, "set ssl tls-key /nowhere AAAA\n"));
        out.push(ask(&sock, &format!("set ssl tls-key {keys} not-base64\n")));
        out
    });
    let expected_keys = |fills: [u8; 3]| {
        let mut text = format!("# id secret\n# 0 ({keys})\n");
        for (i, n) in fills.iter().enumerate() {
            text.push_str(&format!("0.{i} {}\n", key(*n, 80)));
        }
        text + "\n"
    };
    assert_eq!(ours[0], "-tls1_2 same file true other false");
    assert_eq!(ours[1], "-tls1_3 same file true other false");
    assert_eq!(ours[2], format!("# id (file)\n0 ({keys})\n\n"));
    assert_eq!(ours[3], expected_keys([2, 3, 4]));
    assert_eq!(ours[4], "TLS ticket key updated!\n\n");
    assert_eq!(ours[5], "after one true");
    assert_eq!(ours[7], "after two false");
    assert_eq!(ours[8], expected_keys([4, 5, 6]));
    assert_eq!(
        ours[9],
        "'set ssl tls-key' received a key of wrong size.\n\n"
    );
    assert_eq!(
        ours[10],
        "'set ssl tls-key' unable to locate referenced filename\n\n"
    );
    assert_eq!(
        ours[11],
        "'set ssl tls-key' received invalid base64 encoded TLS key.\n\n"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

#[test]
fn check_refuses_bad_ticket_key_files_and_run_explains_old_versions() {
    let pki = Pki::new("ticket-check");
    let short = pki.write("short.keys", &[1, 2].map(|n| key(n, 48)).join("\n"));
    let mixed = pki.write(
        "mixed.keys",
        &format!("{}\n{}\n{}\n", key(1, 48), key(2, 80), key(3, 48)),
    );
    let crt = pki.path("default.pem");
    server_pki(&pki, &Ca::new("Check CA"));
    let cfg = pki.write(
        "bad.cfg",
        &format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:1 ssl crt {crt} tls-ticket-keys {short}
    bind 127.0.0.1:2 ssl crt {crt} tls-ticket-keys {mixed}
    http-request return status 200
"
        ),
    );
    let old = pki.write(
        "old.cfg",
        &format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:3 ssl crt {crt} force-tlsv10
    http-request return status 200
"
        ),
    );
    let check = |cfg: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(["check", cfg])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let text = check(&cfg);
    assert!(text.contains(&format!(
        "'bind 127.0.0.1:1' in section 'frontend' : '{short}' : please supply at least 3 keys in the tls-tickets-file"
    )), "{text}");
    assert!(
        text.contains(&format!(
            "'bind 127.0.0.1:2' in section 'frontend' : '{mixed}' : wrong sized key on line 2"
        )),
        "{text}"
    );
    let text = check(&old);
    assert!(
        text.contains("bind option 'force-tlsv10' (rustls speaks TLS 1.2 and 1.3 only"),
        "{text}"
    );
    if Haproxy::installed() {
        let theirs = Command::new("/usr/sbin/haproxy")
            .args(["-c", "-f", &cfg])
            .output()
            .unwrap();
        let theirs = String::from_utf8_lossy(&theirs.stderr);
        assert!(theirs.contains("please supply at least 3 keys"), "{theirs}");
        assert!(theirs.contains("wrong sized key on line 2"), "{theirs}");
    }
}
