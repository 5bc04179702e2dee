//! An ECDSA and an RSA certificate for one name: which one a client gets, by its signature
//! algorithms and suites as HAProxy reads them, and the `ssl_f_*` names of what it got, side
//! by side with Debian's haproxy.

use crate::harness::*;
use crate::tls::{have, Pki};
use std::io::Write;
use std::process::{Command, Stdio};

/// A self-signed certificate and its key in one PEM, made by `openssl req` with `key`.
fn self_signed(pki: &Pki, name: &str, key: &[&str]) -> String {
    let (crt, k) = (
        pki.path(&format!("{name}.crt")),
        pki.path(&format!("{name}.key")),
    );
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=a.example",
        ])
        .args(key)
        .args(["-keyout", &k, "-out", &crt])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl req");
    let pem = std::fs::read_to_string(&crt).unwrap() + &std::fs::read_to_string(&k).unwrap();
    pki.write(&format!("{name}.pem"), &pem)
}

#[test]
fn ecdsa_or_rsa_for_one_name_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("keytype");
    let rsa = self_signed(&pki, "rsa", &["-newkey", "rsa:2048"]);
    let ec = self_signed(
        &pki,
        "ec",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {rsa} crt {ec}
    http-request return status 200 content-type text/plain lf-string \"alg=%[ssl_f_key_alg] sig=%[ssl_f_sig_alg]\\n\"
"
        )
    };
    let drive = |port: u16| -> Vec<String> {
        let cases: [&[&str]; 5] = [
            // Only TLS 1.3 suites: none names ECDSA, so RSA.
            &["-tls1_3"],
            &["-tls1_2"],
            &["-tls1_2", "-sigalgs", "RSA-PSS+SHA256:ECDSA+SHA256"],
            // RSA-PSS counts as neither type: with no RSA, ECDSA is the fallback.
            &[
                "-tls1_3",
                "-sigalgs",
                "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256",
            ],
            &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        ];
        cases
            .iter()
            .map(|args| {
                let mut child = Command::new("openssl")
                    .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                    .args(["-servername", "a.example", "-ign_eof"])
                    .args(*args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                let _ = child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(b"GET / HTTP/1.0\r\n\r\n");
                let out = child.wait_with_output().unwrap();
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.lines()
                    .find(|l| l.starts_with("alg="))
                    .unwrap_or("no answer")
                    .to_string()
            })
            .collect()
    };
    let (ours, theirs) = both(cfg, drive);
    let (r, e) = (
        "alg=rsaEncryption sig=RSA-SHA256",
        "alg=id-ecPublicKey sig=ecdsa-with-SHA256",
    );
    assert_eq!(ours, vec![r, e, e, e, r]);
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}
