//! `curves`/`ecdhe` naming P-521 (`secp521r1`), a key exchange rustls' aws-lc-rs provider
//! does not carry and hapee adds: `openssl s_client` with P-521 gets through, a client
//! offering only P-256 does not, side by side with Debian's haproxy.

use crate::harness::*;
use crate::tls::{have, s_client, Ca, Pki};

/// A listener per way of naming P-521 (`curves`, `ecdhe`).
fn config(crt: &str, ports: &[u16; 2]) -> String {
    let [curves, ecdhe] = ports;
    format!(
        "{DEFAULTS}frontend curves
    bind 127.0.0.1:{curves} ssl crt {crt} curves secp521r1
    http-request return status 200 content-type text/plain lf-string \"ok\\n\"
frontend ecdhe
    bind 127.0.0.1:{ecdhe} ssl crt {crt} force-tlsv12 ecdhe secp521r1
    http-request return status 200 content-type text/plain lf-string \"ok\\n\"
"
    )
}

/// Whether `s_client` finished a handshake, and the key exchange group it reports.
fn handshake(port: u16, args: &[&str]) -> (bool, String) {
    let out = s_client(port, args);
    let done = out.contains("Verify return code") && !out.contains("alert handshake failure");
    let temp = out
        .lines()
        .find(|l| l.contains("Server Temp Key") || l.contains("Negotiated TLS1.3 group"))
        .unwrap_or("")
        .trim()
        .to_string();
    (
        done && out.contains("Cipher is ") && !out.contains("Cipher is (NONE)"),
        temp,
    )
}

fn drive(ports: &[u16; 2]) -> Vec<(bool, String)> {
    let [curves, ecdhe] = *ports;
    vec![
        handshake(curves, &["-groups", "P-521"]),
        handshake(curves, &["-groups", "P-256"]),
        // TLS 1.2 clients also check the certificate's curve (P-256) against their list.
        handshake(curves, &["-groups", "P-521:P-256", "-tls1_2"]),
        handshake(ecdhe, &["-groups", "P-521:P-256"]),
        handshake(ecdhe, &["-groups", "P-256"]),
    ]
}

#[test]
fn p521_key_exchange_where_curves_name_it_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("curves");
    let ca = Ca::new("Hapee Curves CA");
    let (c, k) = ca.issue(&["curves.example"], false, false);
    let crt = pki.write("c.pem", &(c + &k));
    // Each proxy is waited for on the port it is given: the second listener's, bound last.
    let ports = |port: u16| [port + 1, port];
    let (mine, theirs) = both_reading(
        2,
        |port| config(&crt, &ports(port)),
        |port, _| drive(&ports(port)),
    );
    let oks: Vec<bool> = mine.iter().map(|(ok, _)| *ok).collect();
    assert_eq!(oks, [true, false, true, true, false], "{mine:?}");
    assert!(mine[0].1.contains("521"), "{mine:?}");
    assert!(mine[2].1.contains("521"), "{mine:?}");
    assert!(mine[3].1.contains("521"), "{mine:?}");
    // The same with Debian's haproxy.
    if let Some(theirs) = theirs {
        let their_oks: Vec<bool> = theirs.iter().map(|(ok, _)| *ok).collect();
        assert_eq!(oks, their_oks, "hapee {mine:?}\nhaproxy {theirs:?}");
    }
}
