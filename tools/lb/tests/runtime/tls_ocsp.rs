//! OCSP stapling: a DER response in `<crt>.ocsp` is sent in the handshakes of that
//! certificate, as `openssl s_client -status` shows; a certificate without one staples nothing.

use crate::harness::*;
use crate::tls::{have, Ca, Pki};
use std::process::Command;

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn ocsp_responses_beside_certificates_are_stapled() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("ocsp");
    let ca = Ca::new("Hapee OCSP CA");
    let ca_pem = pki.write("ca.pem", &ca.cert.pem());
    let ca_key = pki.write("ca.key", &ca.key.serialize_pem());
    let (c, k) = ca.issue(&["stapled.example"], false, false);
    let stapled = pki.write("stapled.pem", &(c + &k));
    let (c, k) = ca.issue(&["plain.example"], false, false);
    let plain = pki.write("plain.pem", &(c + &k));
    // openssl's own responder signs a response for the certificate.
    let req = pki.path("req.der");
    let index = pki.write("index.txt", "");
    let ocsp = pki.path("stapled.pem.ocsp");
    openssl(&[
        "ocsp",
        "-issuer",
        &ca_pem,
        "-cert",
        &stapled,
        "-reqout",
        &req,
        "-no_nonce",
    ]);
    let made = openssl(&[
        "ocsp", "-index", &index, "-rsigner", &ca_pem, "-rkey", &ca_key, "-CA", &ca_pem, "-reqin",
        &req, "-respout", &ocsp, "-ndays", "1",
    ]);
    assert!(std::path::Path::new(&ocsp).exists(), "{made}");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {stapled} crt {plain}
    http-request return status 200
"
    );
    let _p = Proxy::start(&cfg, port);
    let status = |name: &str| {
        openssl(&[
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            name,
            "-status",
        ])
    };
    let seen = status("stapled.example");
    assert!(seen.contains("OCSP Response Status: successful"), "{seen}");
    assert!(seen.contains("Hapee OCSP CA"), "{seen}");
    let seen = status("plain.example");
    assert!(seen.contains("OCSP response: no response sent"), "{seen}");
}
