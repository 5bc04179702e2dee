//! Client certificates on a `bind … ssl` line: verification with `ca-file` and
//! `ca-verify-file`, `crt-ignore-err`, the `ssl_c_*` fetches and log fields, ClientHello capture
//! and certificate hashes; side by side with Debian's haproxy where it runs.

use crate::harness::*;
use crate::tls::{curl_tls, have, s_client, Ca, Pki};

#[test]
fn client_certificates_are_verified_and_ignored_errors_stay_visible() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("mtls");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    let good = pki.client_cert(&client_ca, "alice", false);
    let expired = pki.client_cert(&client_ca, "old", true);
    let stranger_ca = Ca::new("Unknown CA");
    let stranger = pki.client_cert(&stranger_ca, "mallory", false);
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {} ca-file {} verify required crt-ignore-err X509_V_ERR_CERT_HAS_EXPIRED
    http-request return status 200 content-type text/plain lf-string \"used=%[ssl_c_used] err=%[ssl_c_err] name=%[ssl_c_err,x509_v_err_str] ca=%[ssl_c_ca_err] verify=%[ssl_c_verify] cn=%[ssl_c_s_dn(CN)] issuer=%[ssl_c_i_dn] serial=%[ssl_c_serial,hex] after=%[ssl_c_notafter]\"
",
        pki.path("default.pem"),
        pki.path("client-ca.pem"),
    );
    drop(o);
    let _p = Proxy::start(&cfg, port);
    let url = format!("https://127.0.0.1:{port}/");
    let cacert = pki.path("ca.pem");
    let with = |(cert, key): &(String, String)| {
        curl_tls(&[
            "--cacert", &cacert, "-k", "--cert", cert, "--key", key, &url,
        ])
    };
    let (out, err) = with(&good);
    assert!(
        out.contains("used=1 err=0 name=X509_V_OK ca=0 verify=0 cn=alice"),
        "{out}{err}"
    );
    assert!(
        out.contains("issuer=/CN=Client CA/O=Hapee Tests serial=1A2B after="),
        "{out}"
    );
    let (out, err) = with(&expired);
    assert!(
        out.contains("used=1 err=10 name=X509_V_ERR_CERT_HAS_EXPIRED ca=0 verify=10 cn=old"),
        "{out}{err}"
    );
    assert!(out.contains("after=210101000000Z"), "{out}");
    // An unknown CA is not ignored here; no certificate at all fails `verify required`.
    let (out, _) = with(&stranger);
    assert!(out.ends_with("000 0"), "{out}");
    let (out, _) = curl_tls(&["-k", &url]);
    assert!(out.ends_with("000 0"), "{out}");
}

#[test]
fn same_statuses_logs_and_client_certificate_fields_as_haproxy() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("side");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    let expired = pki.client_cert(&client_ca, "old", true);
    let good = pki.client_cert(&client_ca, "alice", false);
    // Debian's haproxy (2.6) knows the numeric form of crt-ignore-err only.
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {} crt {} ca-file {} verify optional crt-ignore-err 10 alpn h2,http/1.1
    log stdout format raw local0
    option httpslog
    http-request return status 200 content-type text/plain lf-string \"used=%[ssl_c_used] err=%[ssl_c_err] ca=%[ssl_c_ca_err] verify=%[ssl_c_verify] s=%[ssl_c_s_dn] i=%[ssl_c_i_dn] cn=%[ssl_c_s_dn(CN)] serial=%[ssl_c_serial,hex] nb=%[ssl_c_notbefore] na=%[ssl_c_notafter] v=%[ssl_c_version] fc=%[ssl_fc] sni=%[ssl_fc_sni] p=%[ssl_fc_protocol]\"
",
            pki.path("default.pem"),
            pki.path("certs"),
            pki.path("client-ca.pem"),
        )
    };
    let cacert = pki.path("ca.pem");
    let drive = |port: u16| -> Vec<String> {
        let url = format!("https://a.example:{port}/p?x=1");
        let resolve = format!("a.example:{port}:127.0.0.1");
        let base = ["--cacert", cacert.as_str(), "--resolve", resolve.as_str()];
        let mut answers = Vec::new();
        for (proto, cert) in [
            ("--http1.1", None),
            ("--http2", None),
            ("--http1.1", Some(&expired)),
            ("--http2", Some(&good)),
        ] {
            let mut args: Vec<&str> = base.to_vec();
            args.push(proto);
            if let Some((c, k)) = cert {
                args.extend(["--cert", c.as_str(), "--key", k.as_str()]);
            }
            args.push(&url);
            answers.push(curl_tls(&args).0);
        }
        answers
    };
    let lines = |log: &str| -> Vec<Vec<String>> {
        log.lines()
            .filter(|l| l.contains("GET "))
            .map(|l| {
                let port_free = regex::Regex::new(r":\d{4,5}/").unwrap().replace(l, ":P/");
                crate::tcp_logs_lifecycle::stable_fields(&port_free)
            })
            .collect()
    };
    let ((ours, our_log), theirs) = both_reading(1, cfg, |port, side| {
        let answers = drive(port);
        // Every request that reached HTTP is logged once its connection ends.
        let requests = answers.iter().filter(|a| !a.is_empty()).count();
        (answers, side.stdout_when(|l| lines(l).len() >= requests))
    });
    assert!(ours[2].contains("used=1 err=10 ca=0 verify=10"), "{ours:?}");
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
    assert_eq!(lines(&our_log), lines(&their_log), "{our_log}\n{their_log}");
}

/// With `tune.ssl.capture-buffer-size`, the ClientHello's cipher list is kept and named as
/// HAProxy names it; certificate hashes and chains read as in HAProxy; and a server line
/// presents an X.509 v1 client certificate (rustls' WebPKI refuses those, OpenSSL does not).
#[test]
fn client_hello_capture_certificate_hashes_and_v1_client_certificates_as_haproxy() {
    if !have("curl", &["--version"]) || !Haproxy::installed() {
        return;
    }
    let (Some(common), Some(ca_auth), Some(client1)) = (
        corpus_path("ssl/common.pem"),
        corpus_path("ssl/ca-auth.crt"),
        corpus_path("ssl/client1.pem"),
    ) else {
        return;
    };
    // The origin is Debian's haproxy, requiring a client certificate signed by `ca-auth.crt`
    // (`client1.pem` is a version 1 certificate).
    let origin = free_port();
    let _origin = Haproxy::start(
        &format!(
            "{DEFAULTS}frontend origin
    bind 127.0.0.1:{origin} ssl crt {common} ca-file {ca_auth} verify required
    http-request return status 200 content-type text/plain lf-string \"cn=%[ssl_c_s_dn(CN)] v=%[ssl_c_version]\"
"
        ),
        origin,
    );
    let pki = Pki::with_server_certs("capture");
    let client_ca = Ca::new("Client CA");
    let intermediate = client_ca.issue(&["unused"], false, false).0;
    let (c, k) = client_ca.issue(&["alice"], true, false);
    // The client sends its certificate and one more above it, for `ssl_c_chain_der`.
    let alice = (
        pki.write("alice.pem", &(c + &intermediate)),
        pki.write("alice.key", &k),
    );
    pki.write("client-ca.pem", &client_ca.cert.pem());
    let cfg = |port: u16| {
        format!(
            "global
    tune.ssl.capture-buffer-size 128
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {default} crt {certs} ca-file {client_ca} verify optional
    http-request return status 200 content-type text/plain lf-string \"hex=%[ssl_fc_cipherlist_hex] str=%[ssl_fc_cipherlist_str] bin=%[ssl_fc_cipherlist_bin,hex] xxh=%[ssl_fc_cipherlist_xxh] f=%[ssl_f_sha1,hex] c=%[ssl_c_sha1,hex] chain=%[ssl_c_chain_der,hex]\" if {{ path /hello }}
    default_backend app
backend app
    server s 127.0.0.1:{origin} ssl verify none crt {client1}
",
            default = pki.path("default.pem"),
            certs = pki.path("certs"),
            client_ca = pki.path("client-ca.pem"),
        )
    };
    let cacert = pki.path("ca.pem");
    let drive = |port: u16| -> Vec<String> {
        let resolve = format!("a.example:{port}:127.0.0.1");
        let hello = format!("https://a.example:{port}/hello");
        let through = format!("https://a.example:{port}/through");
        let base = ["--cacert", cacert.as_str(), "--resolve", resolve.as_str()];
        let mut with_cert = base.to_vec();
        with_cert.extend([
            "--cert",
            alice.0.as_str(),
            "--key",
            alice.1.as_str(),
            &hello,
        ]);
        let mut plain = base.to_vec();
        plain.push(&through);
        vec![curl_tls(&with_cert).0, curl_tls(&plain).0]
    };
    let (ours, theirs) = both(cfg, drive);
    assert!(ours[0].contains("str=TLS_AES_"), "{ours:?}");
    assert!(ours[0].contains(" chain="), "{ours:?}");
    assert!(ours[1].starts_with("cn=client1 v=1"), "{ours:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}

/// `ca-verify-file` CAs verify client certificates but are not named to clients in the
/// certificate request; `ca-file` ones are both. The same answers and names as haproxy.
#[test]
fn ca_verify_file_verifies_without_naming_its_cas() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("verify-file");
    pki.ca("Named CA", "named.pem");
    let hidden = pki.ca("Hidden CA", "hidden.pem");
    let bob = pki.client_cert(&hidden, "bob", false);
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {default} crt {certs} ca-file {named} ca-verify-file {hidden} verify required
    http-request return status 200 content-type text/plain lf-string \"cn=%[ssl_c_s_dn(CN)] verify=%[ssl_c_verify]\"
",
            default = pki.path("default.pem"),
            certs = pki.path("certs"),
            named = pki.path("named.pem"),
            hidden = pki.path("hidden.pem"),
        )
    };
    let cacert = pki.path("ca.pem");
    let drive = |port: u16| -> (String, Vec<String>) {
        let resolve = format!("a.example:{port}:127.0.0.1");
        let url = format!("https://a.example:{port}/");
        let answer = curl_tls(&[
            "--cacert",
            &cacert,
            "--resolve",
            &resolve,
            "--cert",
            &bob.0,
            "--key",
            &bob.1,
            &url,
        ])
        .0;
        let out = s_client(port, &["-servername", "a.example"]);
        // The CA names listed under "Acceptable client certificate CA names".
        let names = out
            .split("Acceptable client certificate CA names")
            .nth(1)
            .unwrap_or("")
            .lines()
            .skip(1)
            .take_while(|l| l.contains("CN"))
            .map(str::to_string)
            .collect();
        (answer, names)
    };
    let (ours, theirs) = both(cfg, drive);
    assert!(ours.0.starts_with("cn=bob verify=0"), "{ours:?}");
    assert_eq!(ours.1.len(), 1, "{ours:?}");
    assert!(ours.1[0].contains("Named CA"), "{ours:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
}
