//! HAProxy's reg-test layout for client certificates: a frontend relays to a server
//! `unix@… ssl crt <client cert>` that is the proxy's own `bind unix@… ssl` listener. The
//! reg-tests' client certificates are X.509 version 1 ones, which the listener verifies as
//! OpenSSL does (rustls' WebPKI refuses them); side by side with Debian's haproxy.

use crate::harness::*;
use crate::tls::{have, Pki};

#[test]
fn unix_tls_listener_verifies_version_1_client_certificates_as_haproxy() {
    if !have("curl", &["--version"]) {
        return;
    }
    let files = [
        "common.pem",
        "ca-auth.crt",
        "crl-auth.pem",
        "client1.pem",
        "client2_expired.pem",
        "client3_revoked.pem",
    ];
    let Some(paths) = files
        .iter()
        .map(|f| corpus_path(&format!("ssl/{f}")))
        .collect::<Option<Vec<String>>>()
    else {
        return;
    };
    let [common, ca, crl, good, expired, revoked] = &paths[..] else {
        unreachable!()
    };
    let dir = Pki::new("unixv1");
    let cfg = |port: u16| {
        let lax = dir.path(&format!("lax-{port}.sock"));
        let strict = dir.path(&format!("strict-{port}.sock"));
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    use_backend strict-good if {{ path /strict-good }}
    use_backend strict-expired if {{ path /strict-expired }}
    use_backend lax-expired if {{ path /lax-expired }}
    use_backend lax-revoked if {{ path /lax-revoked }}
    default_backend lax-good
backend lax-good
    server s unix@{lax} ssl verify none crt {good}
backend lax-expired
    server s unix@{lax} ssl verify none crt {expired}
backend lax-revoked
    server s unix@{lax} ssl verify none crt {revoked}
backend strict-good
    server s unix@{strict} ssl verify none crt {good}
backend strict-expired
    server s unix@{strict} ssl verify none crt {expired}
frontend lax
    bind unix@{lax} ssl crt {common} ca-file {ca} verify optional crt-ignore-err all crl-file {crl}
    http-request return status 200 content-type text/plain lf-string \"used=%[ssl_c_used] err=%[ssl_c_err] verify=%[ssl_c_verify] cn=%[ssl_c_s_dn(CN)] v=%[ssl_c_version] serial=%[ssl_c_serial,hex]\"
frontend strict
    bind {strict} ssl crt {common} ca-file {ca} verify required
    http-request return status 200 content-type text/plain lf-string \"used=%[ssl_c_used] err=%[ssl_c_err] verify=%[ssl_c_verify] cn=%[ssl_c_s_dn(CN)]\"
"
        )
    };
    let drive = |port: u16| -> Vec<(u16, String)> {
        [
            "/lax-good",
            "/lax-expired",
            "/lax-revoked",
            "/strict-good",
            "/strict-expired",
        ]
        .iter()
        .map(|p| curl(&[&format!("http://127.0.0.1:{port}{p}")]))
        .collect()
    };
    let (ours, theirs) = both(cfg, drive);
    assert_eq!(
        ours[0],
        (200, "used=1 err=0 verify=0 cn=client1 v=1 serial=02".into()),
        "{ours:?}"
    );
    assert_eq!(ours[2].0, 200, "{ours:?}");
    assert!(ours[2].1.contains("err=23"), "{ours:?}");
    assert_eq!(ours[3].0, 200, "{ours:?}");
    assert_ne!(ours[4].0, 200, "{ours:?}");
    let Some(theirs) = theirs else {
        return;
    };
    // A refused certificate fails both; the status differs (HAProxy 503 after its connection
    // retries, hapee 502: under TLS 1.3 the refusal comes after the client's handshake).
    assert_eq!(ours[..4], theirs[..4]);
    assert_ne!(theirs[4].0, 200, "{theirs:?}");
}
