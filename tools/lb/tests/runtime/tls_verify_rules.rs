//! OpenSSL's rules for client certificates that hapee follows on top of rustls, each side by
//! side with Debian's haproxy: the codes of a leaf sent alone whose issuer is unknown (20,
//! then 21 once that is let through), version 1 leaves verified through the certificates
//! sent above them, TLS 1.2's "wrong curve" for a client key on a curve the bind does not
//! name, and a TLS 1.3 server's refusal of our certificate counted as a failed connection.

use crate::harness::*;
use crate::tls::{curl_tls, have, s_client_request, Ca, Pki};
use std::process::Command;

/// `openssl <args>` in `dir`, which must succeed.
fn openssl(dir: &str, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root CA, an intermediate it signs, and a version 1 leaf the intermediate signs (openssl
/// makes version 1 certificates when given no extensions), in `dir`: `root.pem`,
/// `inter.pem`, `leaf.pem` + `leaf.key`.
fn version_1_chain(dir: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut root = vec!["req", "-x509", "-days", "30", "-subj", "/CN=V1 Root"];
    root.extend(ec);
    root.extend(["-keyout", "root.key", "-out", "root.pem"]);
    openssl(dir, &root);
    std::fs::write(
        format!("{dir}/ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n",
    )
    .unwrap();
    for (name, issuer, ext) in [("inter", "root", true), ("leaf", "inter", false)] {
        let mut req = vec!["req", "-subj"];
        let subject = format!("/CN=V1 {name}");
        req.push(&subject);
        req.extend(ec);
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        req.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &req);
        let (ca, ca_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
        let mut sign = vec![
            "x509", "-req", "-days", "30", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-out", &pem,
        ];
        if ext {
            sign.extend(["-extfile", "ca.ext"]);
        }
        openssl(dir, &sign);
    }
}

/// With every error let through, a client certificate sent alone whose issuer is unknown
/// shows 20 as its own error and 21 as the chain's (OpenSSL's signature walk finds no key
/// for the leaf); with 20 alone let through, that 21 refuses it. A version 1 leaf sent with
/// its intermediate verifies up to the root of `ca-file`, and `ssl_c_chain_der` holds what
/// was sent above the leaf.
#[test]
fn unknown_issuers_and_version_1_chains_give_openssls_codes() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("verify-rules");
    version_1_chain(&pki.path(""));
    let leaf = std::fs::read_to_string(pki.path("leaf.pem")).unwrap();
    let inter = std::fs::read_to_string(pki.path("inter.pem")).unwrap();
    pki.write("leaf-chain.pem", &(leaf + &inter));
    let stranger = pki.client_cert(&Ca::new("Unknown CA"), "mallory", false);
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend all
    bind 127.0.0.1:{port} ssl crt {default} ca-file {root} verify optional crt-ignore-err all
    http-request return status 200 content-type text/plain lf-string \"err=%[ssl_c_err] ca=%[ssl_c_ca_err] verify=%[ssl_c_verify] v=%[ssl_c_version] chain=%[ssl_c_chain_der,length]\"
frontend only20
    bind 127.0.0.1:{} ssl crt {default} ca-file {root} verify optional crt-ignore-err 20
    http-request return status 200 content-type text/plain lf-string \"err=%[ssl_c_err] verify=%[ssl_c_verify]\"
",
            port + 1,
            default = pki.path("default.pem"),
            root = pki.path("root.pem"),
        )
    };
    let drive = |port: u16| -> Vec<String> {
        let get = |port: u16, cert: &str, key: &str| {
            let url = format!("https://127.0.0.1:{port}/");
            curl_tls(&["-k", "--cert", cert, "--key", key, &url]).0
        };
        let (leaf_key, chain, alone) = (
            pki.path("leaf.key"),
            pki.path("leaf-chain.pem"),
            pki.path("leaf.pem"),
        );
        vec![
            get(port, &chain, &leaf_key),
            get(port, &alone, &leaf_key),
            get(port, &stranger.0, &stranger.1),
            get(port + 1, &stranger.0, &stranger.1),
        ]
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| drive(port));
    assert!(
        ours[0].starts_with("err=0 ca=0 verify=0 v=1 chain="),
        "{ours:?}"
    );
    assert!(!ours[0].contains("chain=\n"), "{ours:?}");
    assert!(
        ours[1].starts_with("err=20 ca=0 verify=21 v=1 chain=\n"),
        "{ours:?}"
    );
    assert!(ours[2].starts_with("err=20 ca=0 verify=21 v=3"), "{ours:?}");
    assert!(ours[3].ends_with("000 0"), "{ours:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}

/// In TLS 1.2 a client's elliptic-curve key must be on one of the bind's `curves` (or its
/// `ecdhe` curve): a P-256 key fails the handshake where P-384 alone is named, and is taken
/// where P-256 is. TLS 1.3 has no such rule.
#[test]
fn a_tls12_client_key_off_the_binds_curves_fails_the_handshake() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("verify-curves");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    // rcgen's keys are P-256 ones.
    let alice = pki.client_cert(&client_ca, "alice", false);
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend p384
    bind 127.0.0.1:{port} ssl crt {default} ca-file {ca} verify optional curves P-384
    http-request return status 200 content-type text/plain string ok
frontend p256
    bind 127.0.0.1:{} ssl crt {default} ca-file {ca} verify optional ecdhe prime256v1
    http-request return status 200 content-type text/plain string ok
",
            port + 1,
            default = pki.path("default.pem"),
            ca = pki.path("client-ca.pem"),
        )
    };
    let drive = |port: u16| -> Vec<String> {
        let cert = [
            "-ign_eof",
            "-cert",
            alice.0.as_str(),
            "-key",
            alice.1.as_str(),
        ];
        let try_with = |port: u16, version: &str| {
            let mut args = cert.to_vec();
            args.push(version);
            let out = s_client_request(port, &args);
            if out.contains("HTTP/1.1 200") {
                format!("{version} ok")
            } else if out.contains("alert illegal parameter") {
                format!("{version} illegal parameter")
            } else {
                format!("{version} other: {out}")
            }
        };
        vec![
            try_with(port, "-tls1_2"),
            try_with(port, "-tls1_3"),
            try_with(port + 1, "-tls1_2"),
        ]
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| drive(port));
    assert_eq!(
        ours,
        ["-tls1_2 illegal parameter", "-tls1_3 ok", "-tls1_2 ok"],
        "{ours:?}"
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}

/// A server that refuses our client certificate after a TLS 1.3 handshake: the client side
/// learns of it in place of the response, and counts a failed connection (503, `SC`, no
/// connect time) as HAProxy does, which reads the refusal before sending its request; with
/// TLS 1.2 the handshake itself fails, the same way.
#[test]
fn a_tls13_refusal_of_our_certificate_is_a_failed_connection() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("verify-refused");
    pki.ca("Client CA", "client-ca.pem");
    let stranger = pki.client_cert(&Ca::new("Unknown CA"), "mallory", false);
    let both_files = pki.write(
        "mallory-both.pem",
        &(std::fs::read_to_string(&stranger.0).unwrap()
            + &std::fs::read_to_string(&stranger.1).unwrap()),
    );
    let cfg = |port: u16| {
        format!(
            "global
    log stdout format raw local0
{DEFAULTS}    retries 0
frontend fe
    bind 127.0.0.1:{port}
    log global
    log-format \"%ST %tsc Tc=%Tc %b\"
    use_backend v12 if {{ path /v12 }}
    default_backend v13
backend v13
    server s 127.0.0.1:{tls} ssl verify none crt {both_files} force-tlsv13
backend v12
    server s 127.0.0.1:{tls} ssl verify none crt {both_files} force-tlsv12
frontend strict
    bind 127.0.0.1:{tls} ssl crt {default} ca-file {ca} verify required
    http-request return status 200
",
            tls = port + 1,
            default = pki.path("default.pem"),
            ca = pki.path("client-ca.pem"),
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, side| {
        let statuses: Vec<String> = ["/", "/v12"]
            .iter()
            .map(|p| {
                let url = format!("http://127.0.0.1:{port}{p}");
                curl_tls(&[&url]).0.lines().last().unwrap_or("").to_string()
            })
            .collect();
        let lines = |log: &str| -> Vec<String> {
            log.lines()
                .filter(|l| l.contains("Tc="))
                .map(str::to_string)
                .collect()
        };
        let log = side.stdout_when(|l| lines(l).len() >= 2);
        (statuses, lines(&log))
    });
    assert_eq!(ours.0, ["503 1.1", "503 1.1"], "{ours:?}");
    assert_eq!(
        ours.1,
        ["503 SC-- Tc=-1 v13", "503 SC-- Tc=-1 v12"],
        "{ours:?}"
    );
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}
