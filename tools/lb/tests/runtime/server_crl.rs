//! `crl-file` on `server` lines: a server whose certificate the list revokes is refused (the
//! request gets a 503), one the list does not name is used; the same with Debian's haproxy.

use crate::harness::{both, free_port, raw};
use crate::tls::{Ca, Pki};
use std::time::Duration;

fn crl(ca: &Ca, serial: &[u8]) -> String {
    rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2026, 1, 1),
        next_update: rcgen::date_time_ymd(2036, 1, 1),
        crl_number: rcgen::SerialNumber::from(3u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(serial),
            revocation_time: rcgen::date_time_ymd(2026, 2, 3),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&ca.cert, &ca.key)
    .unwrap()
    .pem()
    .unwrap()
}

fn config(port: u16, tls_port: u16, pki: &Pki) -> String {
    let p = |n: &str| pki.path(n);
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    use_backend revoked if {{ path /revoked }}
    default_backend fine
backend revoked
    retries 0
    server s 127.0.0.1:{tls_port} ssl ca-file {ca} crl-file {bad} verifyhost srv.example
backend fine
    server s 127.0.0.1:{tls_port} ssl ca-file {ca} crl-file {good} verifyhost srv.example
frontend tls
    bind 127.0.0.1:{tls_port} ssl crt {site}
    http-request return status 200 content-type text/plain string served
",
        ca = p("ca.pem"),
        bad = p("revokes-it.pem"),
        good = p("revokes-other.pem"),
        site = p("site.pem"),
    )
}

fn statuses(port: u16) -> Vec<String> {
    ["/revoked", "/fine"]
        .iter()
        .map(|path| {
            let req = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            let out = raw(port, req.as_bytes(), Duration::from_secs(10));
            out.lines().next().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn server_crl_file_refuses_a_revoked_server_certificate() {
    let pki = Pki::new("server-crl");
    let ca = Ca::new("Server CRL CA");
    // `issue` gives every leaf the serial 1A2B.
    let (c, k) = ca.issue(&["srv.example"], false, false);
    pki.write("site.pem", &(c + &k));
    pki.write("ca.pem", &ca.cert.pem());
    pki.write("revokes-it.pem", &crl(&ca, &[0x1a, 0x2b]));
    pki.write("revokes-other.pem", &crl(&ca, &[0x77, 0x01]));
    let (mine, theirs) = both(|port| config(port, free_port(), &pki), statuses);
    assert!(mine[0].contains(" 503 "), "{mine:?}");
    assert!(mine[1].contains(" 200 "), "{mine:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}
