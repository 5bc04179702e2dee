//! Certificates made on the fly (`generate-certificates` with `ca-sign-file`), with curl and
//! `openssl s_client`, side by side with Debian's haproxy on the same configuration: a name
//! no certificate covers gets a certificate for it, chained to the signing CA, the same one
//! (from the cache) on the next connection, and with the same subject, issuer and
//! extensions as HAProxy's.

use crate::harness::*;
use crate::tls::{curl_tls, have, s_client, Ca, Pki};
use std::process::{Command, Stdio};

/// The PEM certificates `openssl s_client -showcerts` printed, the served one first.
fn served_chain(out: &str) -> Vec<String> {
    let mut certs = Vec::new();
    let mut rest = out;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----";
        let Some(end) = rest[start..].find(end_marker) else {
            break;
        };
        let end = start + end + end_marker.len();
        certs.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    certs
}

/// `openssl x509` with `args` on a PEM certificate.
fn x509(pem: &str, args: &[&str]) -> String {
    let out = output_with_input(
        Command::new("openssl").arg("x509").args(args),
        pem.as_bytes(),
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// What one proxy (hapee or haproxy) did on `port`: the made certificate's description
/// (subject, issuer, extensions; serial and dates vary), and checks that fail the test.
fn drive(port: u16, pki: &Pki, who: &str) -> String {
    let cacert = pki.path("signer.crt");
    // A name a certificate covers is served that certificate, nothing is made.
    let seen = s_client(port, &["-servername", "a.example"]);
    assert!(
        seen.contains("CN = a.example") || seen.contains("CN=a.example"),
        "{who}: {seen}"
    );
    // The made certificate: CA behind it, the name lower-cased, the same one next time.
    let first = s_client(port, &["-servername", "Other.Example", "-showcerts"]);
    let chain = served_chain(&first);
    assert_eq!(chain.len(), 2, "{who}: {first}");
    assert_eq!(
        x509(&chain[1], &["-noout", "-fingerprint"]),
        x509(
            &std::fs::read_to_string(&cacert).unwrap(),
            &["-noout", "-fingerprint"]
        ),
        "{who}: the CA follows the made certificate"
    );
    let again = served_chain(&s_client(
        port,
        &["-servername", "other.example", "-showcerts"],
    ));
    assert_eq!(again.first(), chain.first(), "{who}: cached");
    // curl checks the name against the SAN and the chain against the signing CA. (Debian's
    // haproxy 2.6 drops curl's first connection for a name it has just made a certificate
    // for, so curl comes second.)
    let (out, err) = curl_tls(&[
        "--cacert",
        &cacert,
        "--resolve",
        &format!("other.example:{port}:127.0.0.1"),
        &format!("https://other.example:{port}/"),
    ]);
    assert!(out.contains("200 1.1"), "{who}: {out}{err}");
    assert!(
        out.contains("s_dn=Hapee Signing CA last=other.example i_dn=Hapee Signing CA"),
        "{who}: {out}"
    );
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile", &cacert, "-purpose", "sslserver"])
        .stdin(Stdio::null())
        .arg(pki.write(&format!("leaf-{who}.pem"), &chain[0]))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains(": OK"),
        "{who}: {verify:?}"
    );
    // Its public key is the default certificate's.
    let default_key = x509(
        &std::fs::read_to_string(pki.path("default.pem")).unwrap(),
        &["-noout", "-pubkey"],
    );
    assert_eq!(
        x509(&chain[0], &["-noout", "-pubkey"]),
        default_key,
        "{who}"
    );
    let text = x509(&chain[0], &["-noout", "-text"]);
    let signature = text
        .lines()
        .find(|l| l.contains("Signature Algorithm"))
        .unwrap_or("")
        .trim();
    x509(
        &chain[0],
        &[
            "-noout",
            "-subject",
            "-issuer",
            "-ext",
            "basicConstraints,subjectKeyIdentifier,authorityKeyIdentifier,keyUsage,subjectAltName,nsComment",
        ],
    ) + signature
}

#[test]
fn unknown_names_get_a_certificate_signed_by_the_ca_like_haproxy() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("gencert");
    let signer = Ca::new("Hapee Signing CA");
    pki.write("signer.crt", &signer.cert.pem());
    pki.write(
        "signer.pem",
        &(signer.cert.pem() + &signer.key.serialize_pem()),
    );
    let other = Ca::new("Hapee Test CA");
    let (c, k) = other.issue(&["default.example"], false, false);
    pki.write("default.pem", &(c + &k));
    let (c, k) = other.issue(&["a.example"], false, false);
    pki.write("a.pem", &(c + &k));
    let cfg = |port: u16| {
        format!(
            "global
    tune.ssl.ssl-ctx-cache-size 10
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl generate-certificates crt {} crt {} ca-sign-file {} ca-sign-pass unused
    http-request return status 200 content-type text/plain lf-string \"s_dn=%[ssl_f_s_dn(CN)] last=%[ssl_f_s_dn(CN,-1)] i_dn=%[ssl_f_i_dn(CN)]\"
",
            pki.path("default.pem"),
            pki.path("a.pem"),
            pki.path("signer.pem"),
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, side| drive(port, &pki, side.name()));
    assert!(
        ours.contains("subject=CN = Hapee Signing CA, O = Hapee Tests, CN = other.example\n"),
        "{ours}"
    );
    assert!(ours.contains("DNS:other.example"), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn generation_without_a_signing_ca_is_refused_at_start() {
    let pki = Pki::new("gencert-noca");
    let other = Ca::new("Hapee Test CA");
    let (c, k) = other.issue(&["default.example"], false, false);
    pki.write("default.pem", &(c + &k));
    let dir = Scratch::dir(&format!("hapee-gencert-noca-{}", std::process::id()));
    let cfg = dir.join("h.cfg");
    std::fs::write(
        &cfg,
        format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{} ssl generate-certificates crt {}\n    http-request return status 200\n",
            free_port(),
            pki.path("default.pem")
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["run", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no CA certificate File configured"), "{err}");
}

#[test]
fn without_a_cache_each_handshake_gets_a_new_certificate_the_fetches_see() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::new("gencert-nocache");
    let signer = Ca::new("Hapee Signing CA");
    pki.write("signer.crt", &signer.cert.pem());
    pki.write(
        "signer.pem",
        &(signer.cert.pem() + &signer.key.serialize_pem()),
    );
    let (c, k) = Ca::new("Other CA").issue(&["default.example"], false, false);
    pki.write("default.pem", &(c + &k));
    let port = free_port();
    let cfg = format!(
        "global
    tune.ssl.ssl-ctx-cache-size 0
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl generate-certificates crt {} ca-sign-file {}
    http-request return status 200 content-type text/plain lf-string \"name=%[ssl_f_s_dn(CN,-1)] serial=%[ssl_f_serial,hex]\"
",
        pki.path("default.pem"),
        pki.path("signer.pem"),
    );
    let _p = Proxy::start(&cfg, port);
    let get = || {
        let (out, err) = curl_tls(&[
            "--cacert",
            &pki.path("signer.crt"),
            "--resolve",
            &format!("fresh.example:{port}:127.0.0.1"),
            &format!("https://fresh.example:{port}/"),
        ]);
        assert!(out.contains("200 1.1"), "{out}{err}");
        assert!(out.contains("name=fresh.example serial="), "{out}");
        out
    };
    let (first, second) = (get(), get());
    assert_ne!(first, second, "a new certificate (serial) per handshake");
}
