//! `crt-list` files as HAProxy 2.7 reads them, side by side with Debian's haproxy on the same
//! list: per-line options in brackets (`alpn`, `ssl-min-ver`/`ssl-max-ver`, `verify` with
//! `ca-file`), SNI filters with `!` exclusions, a certificate per key type for one name chosen
//! by the client's signature algorithms, and an unknown option refused at start.

use crate::harness::*;
use crate::tls::{have, s_client, Ca, Pki};
use std::process::Command;

/// A self-signed RSA certificate and key for `name`, made by openssl (PEM, both in one).
fn rsa_cert(pki: &Pki, file: &str, name: &str) -> String {
    let (crt, key) = (pki.path("rsa.crt"), pki.path("rsa.key"));
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .args(["-keyout", &key, "-out", &crt])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let pem = std::fs::read_to_string(&crt).unwrap() + &std::fs::read_to_string(&key).unwrap();
    pki.write(file, &pem)
}

/// What one handshake settled: the served certificate's CN, the version, the ALPN protocol.
fn summary(port: u16, args: &[&str]) -> String {
    let out = s_client(port, args);
    let cn = out
        .lines()
        .find_map(|l| l.strip_prefix("subject="))
        .map(|s| {
            s.rsplit("CN")
                .next()
                .unwrap_or("")
                .trim_start_matches([' ', '='])
                .to_string()
        })
        .unwrap_or_default();
    let version = out
        .lines()
        .find_map(|l| l.strip_prefix("New, "))
        .and_then(|l| l.split(',').next())
        .unwrap_or("?")
        .to_string();
    let bits = out
        .lines()
        .find_map(|l| l.strip_prefix("Server public key is "))
        .unwrap_or("-")
        .to_string();
    // A TLS 1.2 client has its session printed even when the server's alert ends it.
    let refused = if out.contains(" alert ") {
        " refused"
    } else {
        ""
    };
    let alpn = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("ALPN protocol: "))
        .unwrap_or("-")
        .to_string();
    format!(
        "{} -> cn={cn} key={bits} v={version}{refused} alpn={alpn}",
        args.join(" ")
    )
}

fn drive(port: u16, pki: &Pki) -> Vec<String> {
    let client = [
        "-cert",
        &pki.path("client.pem"),
        "-key",
        &pki.path("client.key"),
    ];
    let cases: Vec<Vec<&str>> = vec![
        vec!["-servername", "a.example", "-alpn", "h2,http/1.1"],
        vec![
            "-servername",
            "a.example",
            "-alpn",
            "h2,http/1.1",
            "-tls1_2",
        ],
        vec!["-servername", "b.example", "-alpn", "h2,http/1.1"],
        [
            &["-servername", "b.example", "-alpn", "h2,http/1.1"][..],
            &client[..],
        ]
        .concat(),
        vec!["-servername", "y.w.example"],
        vec!["-servername", "x.w.example"],
        vec!["-servername", "only-default.example"],
        vec!["-servername", "dual.example"],
        // (OpenSSL also wants the certificate's own signature among them.)
        vec![
            "-servername",
            "dual.example",
            "-sigalgs",
            "rsa_pss_rsae_sha256:rsa_pkcs1_sha256",
        ],
        vec![
            "-servername",
            "dual.example",
            "-tls1_2",
            "-sigalgs",
            "RSA+SHA256",
        ],
        vec!["-noservername", "-alpn", "h2,http/1.1"],
    ];
    cases.iter().map(|c| summary(port, c)).collect()
}

#[test]
fn crt_list_line_options_and_filters_like_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("crtlist");
    let ca = Ca::new("Hapee Test CA");
    pki.write("ca.pem", &ca.cert.pem());
    for (file, name) in [
        ("default.pem", "default.example"),
        ("a.pem", "a.example"),
        ("b.pem", "b.example"),
        ("dual-ecdsa.pem", "dual.example"),
        ("hidden.pem", "only-default.example"),
    ] {
        let (c, k) = ca.issue(&[name], false, false);
        pki.write(file, &(c + &k));
    }
    let (c, k) = ca.issue(&["*.w.example"], false, false);
    pki.write("wild.pem", &(c + &k));
    let (c, k) = ca.issue(&["client.example"], true, false);
    pki.write("client.pem", &c);
    pki.write("client.key", &k);
    rsa_cert(&pki, "dual-rsa.pem", "dual.example");
    let list = pki.write(
        "list.txt",
        &format!(
            "# the first line is the default certificate\n\
             default.pem [alpn http/1.1]\n\
             hidden.pem !*\n\
             a.pem [alpn h2 ssl-min-ver TLSv1.3] a.example\n\
             b.pem [ alpn http/1.1 ssl-max-ver TLSv1.2 verify required ca-file {} ] b.example\n\
             wild.pem *.w.example !x.w.example\n\
             dual-rsa.pem dual.example\n\
             dual-ecdsa.pem dual.example\n",
            pki.path("ca.pem")
        ),
    );
    let cfg = |port: u16| {
        format!(
            "global\n    crt-base {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port} ssl crt-list {list} alpn h2,http/1.1\n    http-request return status 200\n",
            pki.path("")
        )
    };
    let (ours, theirs) = both(cfg, |port| drive(port, &pki));
    let expect = [
        "cn=a.example key=256 bit v=TLSv1.3 alpn=h2",
        "v=(NONE)",
        "cn=b.example key=256 bit v=TLSv1.2 refused",
        "cn=b.example key=256 bit v=TLSv1.2 alpn=http/1.1",
        "cn=*.w.example key=256 bit v=TLSv1.3",
        "cn=default.example",
        "cn=default.example",
        "cn=dual.example key=256 bit v=TLSv1.3",
        "cn=dual.example key=2048 bit v=TLSv1.3",
        "cn=dual.example key=2048 bit v=TLSv1.2 alpn=-",
        "cn=default.example key=256 bit v=TLSv1.3 alpn=http/1.1",
    ];
    for (seen, want) in ours.iter().zip(expect) {
        assert!(seen.contains(want), "{seen}\nwanted {want}\nall: {ours:#?}");
    }
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn an_option_crt_list_lines_do_not_take_is_refused() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("crtlist-bad");
    let ca = Ca::new("Hapee Test CA");
    let (c, k) = ca.issue(&["a.example"], false, false);
    pki.write("a.pem", &(c + &k));
    let list = pki.write(
        "list.txt",
        &format!("{} [no-tlsv13] a.example\n", pki.path("a.pem")),
    );
    let cfg = pki.write(
        "h.cfg",
        &format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{} ssl crt-list {list}\n    http-request return status 200\n",
            free_port()
        ),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["run", "-f", &cfg])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "parsing [{list}:1]: unknown ssl keyword no-tlsv13"
        )),
        "{err}"
    );
    if Haproxy::installed() {
        let theirs = Command::new("haproxy")
            .args(["-c", "-f", &cfg])
            .output()
            .unwrap();
        assert!(!theirs.status.success());
        assert!(
            String::from_utf8_lossy(&theirs.stderr).contains("unknown ssl keyword no-tlsv13"),
            "{theirs:?}"
        );
    }
}

/// A multi-certificate bundle: `crt site.pem` where only `site.pem.rsa` and `site.pem.ecdsa`
/// exist loads both, and each client gets the one its suites and signatures can use, as with
/// Debian's haproxy on the same files.
#[test]
fn a_bundle_name_loads_its_rsa_and_ecdsa_parts() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("bundle");
    rsa_cert(&pki, "site.pem.rsa", "bundle.example");
    let ca = Ca::new("Bundle CA");
    let (c, k) = ca.issue(&["bundle.example"], false, false);
    pki.write("site.pem.ecdsa", &(c + &k));
    let config = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port} ssl crt {} ssl-max-ver TLSv1.2
    http-request return status 200
",
            pki.path("site.pem")
        )
    };
    let drive = |port: u16| -> Vec<String> {
        [
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        ]
        .iter()
        .map(|c| summary(port, &["-servername", "bundle.example", "-cipher", c]))
        .collect()
    };
    let (ours, theirs) = both(config, drive);
    assert!(ours[0].contains("key=2048 bit"), "{ours:?}");
    assert!(ours[1].contains("key=256 bit"), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
