//! TLS termination on a `bind … ssl` line, with real clients (curl, `openssl s_client`): SNI
//! picks the certificate (directories, wildcards, the default, `strict-sni`, crt-list filters),
//! ALPN negotiates h2, and the TLS fetches and `option httpslog` see the handshake.

use crate::harness::*;
use crate::tls::{curl_tls, have, s_client, Pki};

#[test]
fn sni_picks_certificates_alpn_negotiates_h2_and_fetches_see_the_handshake() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("sni");
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {} crt {} alpn h2,http/1.1
    log stdout format raw local0
    option httpslog
    http-request set-header x-tls \"sni=%[ssl_fc_sni] v=%[ssl_fc_protocol] c=%[ssl_fc_cipher] alpn=%[ssl_fc_alpn] ssl=%[ssl_fc] crt=%[ssl_fc_has_crt] f=%[ssl_f_s_dn(CN)]\"
    default_backend app
backend app
    server s1 {}
",
        pki.path("default.pem"),
        pki.path("certs"),
        o.addr
    );
    let p = Proxy::start(&cfg, port);
    let cacert = pki.path("ca.pem");
    let resolve = |name: &str| format!("{name}:{port}:127.0.0.1");
    // HTTP/1.1 over TLS to a name of a certificate in the directory.
    let (out, err) = curl_tls(&[
        "--http1.1",
        "--cacert",
        &cacert,
        "--resolve",
        &resolve("a.example"),
        &format!("https://a.example:{port}/one"),
    ]);
    assert!(out.ends_with("200 1.1"), "{out}{err}");
    assert!(out.contains("sni=a.example v=TLSv1.3 c=TLS_"), "{out}");
    assert!(
        out.contains("alpn=http/1.1 ssl=1 crt=0 f=a.example"),
        "{out}"
    );
    // HTTP/2 through ALPN, to a wildcard name whose key sits in `<crt>.key`.
    let (out, err) = curl_tls(&[
        "--http2",
        "--cacert",
        &cacert,
        "--resolve",
        &resolve("x.b.example"),
        &format!("https://x.b.example:{port}/two?q=1"),
    ]);
    assert!(out.ends_with("200 2"), "{out}{err}");
    assert!(
        out.contains("sni=x.b.example") && out.contains("alpn=h2"),
        "{out}"
    );
    assert!(out.contains("hdr:host=x.b.example:"), "{out}");
    assert!(out.contains("f=*.b.example"), "{out}");
    // No SNI, and an unknown name: the first certificate is the default.
    let seen = s_client(port, &["-noservername"]);
    assert!(
        seen.contains("CN = default.example") || seen.contains("CN=default.example"),
        "{seen}"
    );
    let seen = s_client(port, &["-servername", "nobody.example", "-alpn", "h2"]);
    assert!(seen.contains("default.example"), "{seen}");
    assert!(seen.contains("ALPN protocol: h2"), "{seen}");
    // TLS 1.2 with an ECDHE suite.
    let seen = s_client(port, &["-servername", "a.example", "-tls1_2"]);
    assert!(
        seen.contains("TLSv1.2") && seen.contains("ECDHE-"),
        "{seen}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = p.stdout();
    let h2 = log
        .lines()
        .find(|l| l.contains("/two"))
        .unwrap_or_else(|| panic!("{log}"));
    // HTTP/2 requests are logged with the absolute URI; httpslog ends with the TLS fields.
    assert!(
        h2.contains(&format!(
            "\"GET https://x.b.example:{port}/two?q=1 HTTP/2.0\""
        )),
        "{h2}"
    );
    assert!(h2.contains(" fe~ app/s1 "), "{h2}");
    assert!(
        h2.ends_with(" 0/0000000000000000/0/0/0 x.b.example/TLSv1.3/TLS_AES_128_GCM_SHA256")
            || h2.ends_with(" 0/0000000000000000/0/0/0 x.b.example/TLSv1.3/TLS_AES_256_GCM_SHA384")
            || h2.ends_with(
                " 0/0000000000000000/0/0/0 x.b.example/TLSv1.3/TLS_CHACHA20_POLY1305_SHA256"
            ),
        "{h2}"
    );
}

#[test]
fn strict_sni_and_crt_list_filters() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("strict");
    // The wildcard certificate serves only what its crt-list line names, never c.b.example.
    let list = pki.write(
        "list.txt",
        &format!(
            "# comment\n{} [] *.b.example !c.b.example\n{} other.example\n",
            pki.path("certs/wild.pem"),
            pki.path("certs/a.pem")
        ),
    );
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt-list {list} strict-sni
    default_backend app
backend app
    server s1 {}
",
        o.addr
    );
    let _p = Proxy::start(&cfg, port);
    let seen = s_client(port, &["-servername", "x.b.example"]);
    assert!(
        seen.contains("b.example") && seen.contains("Verification"),
        "{seen}"
    );
    let seen = s_client(port, &["-servername", "other.example"]);
    assert!(
        seen.contains("CN = a.example") || seen.contains("CN=a.example"),
        "{seen}"
    );
    // Unknown names and excluded names get no certificate under strict-sni.
    for name in ["c.b.example", "a.example"] {
        let seen = s_client(port, &["-servername", name]);
        assert!(
            seen.contains("alert") || seen.contains("no peer certificate"),
            "{name}: {seen}"
        );
    }
}
