//! The global section's process-wide TLS settings, side by side with Debian's haproxy:
//! `maxsslconn` (a TLS connection past the limit is closed before its handshake),
//! `maxsslrate` (TLS listeners hold connections past the rate), `tune.ssl.keylog` (the
//! `ssl_fc_*_secret` fetches, checked against the SSLKEYLOGFILE curl writes) and
//! `issuers-chain-path` (a certificate's missing chain completed from a directory).

use crate::harness::*;
use crate::idle_pools::ask;
use crate::tls::{curl_tls, have, Ca, Pki};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use std::process::{Command, Stdio};
use std::time::Duration;

const TIMEOUTS: &str = "timeout client 30s\n    timeout server 5s\n    timeout connect 5s";

/// A TLS frontend on `port` answering `ok`, with an admin CLI on `port + 1`.
fn tls_frontend(global: &str, pem: &str, port: u16) -> String {
    format!(
        "global
    {global}
    stats socket ipv4@127.0.0.1:{} level admin
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port} ssl crt {pem}
    http-request return status 200 content-type text/plain string ok
",
        port + 1
    )
}

/// The value of a `show info` field.
fn info_field(cli: u16, name: &str) -> String {
    let info = ask(cli, "show info");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_string()
}

/// The status code curl got over TLS (`000` when the handshake failed).
fn https_code(port: u16) -> String {
    let (out, _) = curl_tls(&["-k", &format!("https://127.0.0.1:{port}/")]);
    out.lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn maxsslconn_closes_a_tls_connection_past_the_limit_before_its_handshake() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("maxsslconn");
    let pem = pki.path("default.pem");
    let cfg = |port: u16| tls_frontend("maxsslconn 1", &pem, port);
    let (mine, theirs) = both_reading(2, cfg, |port, side| {
        let cli = port + 1;
        // One TLS connection held open by a client that finished its handshake.
        let mut held = Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-connect",
                &format!("127.0.0.1:{port}"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        let open = wait_until(Duration::from_secs(10), || {
            info_field(cli, "CumSslConns") == "1" && info_field(cli, "CurrSslConns") == "1"
        });
        assert!(open, "{}: the first connection never counted", side.name());
        let past_limit = https_code(port);
        let _ = held.kill();
        let _ = held.wait();
        let released = wait_until(Duration::from_secs(10), || {
            info_field(cli, "CurrSslConns") == "0"
        });
        assert!(released, "{}: the held connection never ended", side.name());
        let after = https_code(port);
        (past_limit, after, info_field(cli, "MaxSslConns"))
    });
    assert_eq!(mine, ("000".into(), "200".into(), "1".into()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn maxsslrate_holds_tls_connections_past_the_rate_without_refusing_them() {
    let pki = Pki::with_server_certs("maxsslrate");
    let pem = pki.path("default.pem");
    let cfg = |port: u16| tls_frontend("maxsslrate 1", &pem, port);
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        // Three connections in a row: each waits for a second of its own, none is refused.
        let codes: Vec<String> = (0..3).map(|_| https_code(port)).collect();
        let limit = info_field(port + 1, "SslRateLimit");
        let _ = ask(port + 1, "set rate-limit ssl-sessions global 7");
        (codes, limit, info_field(port + 1, "SslRateLimit"))
    });
    assert_eq!(mine, (vec!["200".to_string(); 3], "1".into(), "7".into()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
    // hapee never let more than one in within a second.
    let port = free_ports(2);
    let proxy = Proxy::start(&tls_frontend("maxsslrate 1", &pem, port), port);
    for _ in 0..3 {
        assert_eq!(https_code(port), "200");
    }
    assert_eq!(
        info_field(port + 1, "MaxSslRate"),
        "1",
        "{}",
        proxy.stderr()
    );
}

/// The SSLKEYLOGFILE lines curl wrote, as (label, client random, secret) in lower case.
fn key_lines(file: &str) -> Vec<(String, String, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((
                w.next()?.to_string(),
                w.next()?.to_ascii_lowercase(),
                w.next()?.to_ascii_lowercase(),
            ))
        })
        .collect()
}

const KEYLOG_LABELS: [&str; 5] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
];

#[test]
fn keylog_fetches_give_the_secrets_the_client_logged() {
    let pki = Pki::with_server_certs("keylog");
    let pem = pki.path("default.pem");
    // The answer is an SSLKEYLOGFILE of the connection, one line per label.
    let fetches: Vec<String> = KEYLOG_LABELS
        .iter()
        .map(|l| {
            format!(
                "{l} %[ssl_fc_client_random,hex] %[ssl_fc_{}]",
                l.to_ascii_lowercase()
            )
        })
        .collect();
    let cfg = |port: u16| {
        format!(
            "global
    tune.ssl.keylog on
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port} ssl crt {pem}
    http-request return status 200 content-type text/plain lf-string \"{}\"
",
            fetches.join("|")
        )
    };
    let (mine, theirs) = both(cfg, |port| {
        let file = pki.path(&format!("keys-{port}.log"));
        let out = Command::new("curl")
            .args([
                "-s",
                "-k",
                "--tlsv1.3",
                &format!("https://127.0.0.1:{port}/"),
            ])
            .env("SSLKEYLOGFILE", &file)
            .output()
            .expect("curl runs");
        let body = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        let served: Vec<(String, String, String)> = body
            .split('|')
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((
                    w.next()?.to_ascii_uppercase(),
                    w.next()?.to_string(),
                    w.next()?.to_string(),
                ))
            })
            .collect();
        let logged = key_lines(&file);
        // Each line served is one the client logged.
        let matching = served.iter().filter(|s| logged.contains(s)).count();
        (served.len(), matching)
    });
    assert_eq!(mine, (KEYLOG_LABELS.len(), KEYLOG_LABELS.len()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// A root CA, an intermediate it signs (with a Subject Key Identifier) and a leaf for
/// `name` signed by the intermediate (naming its key): `(root PEM, intermediate PEM, leaf
/// cert + key PEM)`.
fn three_level_pki(name: &str) -> (String, String, String) {
    let root = Ca::new("Hapee Root");
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "Hapee Intermediate");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let intermediate = p.signed_by(&key, &root.cert, &root.key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.use_authority_key_identifier_extension = true;
    let leaf = p.signed_by(&leaf_key, &intermediate, &key).unwrap();
    (
        root.cert.pem(),
        intermediate.pem(),
        leaf.pem() + &leaf_key.serialize_pem(),
    )
}

#[test]
fn issuers_chain_path_completes_a_certificate_without_its_chain() {
    let pki = Pki::new("issuers");
    let (root, intermediate, leaf) = three_level_pki("chain.example");
    let root_file = pki.write("root.pem", &root);
    let leaf_file = pki.write("leaf.pem", &leaf);
    std::fs::create_dir_all(pki.path("issuers")).unwrap();
    pki.write("issuers/intermediate.pem", &intermediate);
    let issuers = pki.path("issuers");
    let cfg = |global: &'static str| {
        let (leaf_file, issuers) = (leaf_file.clone(), issuers.clone());
        move |port: u16| {
            let global = global.replace("DIR", &issuers);
            format!(
                "global
    {global}
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port} ssl crt {leaf_file}
    http-request return status 200 content-type text/plain string ok
"
            )
        }
    };
    // Verified against the root alone: the intermediate must come from the proxy.
    let verified = |port: u16| {
        let (out, err) = curl_tls(&[
            "--cacert",
            &root_file,
            "--resolve",
            &format!("chain.example:{port}:127.0.0.1"),
            &format!("https://chain.example:{port}/"),
        ]);
        let code = out.lines().last().unwrap_or("").to_string();
        (
            code.split_whitespace().next().unwrap_or("").to_string(),
            err.contains("local issuer"),
        )
    };
    let (with, theirs) = both(cfg("issuers-chain-path DIR"), verified);
    assert_eq!(with, ("200".to_string(), false));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, with);
    }
    let (without, theirs) = both(cfg("maxconn 100"), verified);
    assert_eq!(without, ("000".to_string(), true));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, without);
    }
}
