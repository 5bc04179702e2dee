//! Configurations shaped like the public corpus's, with the real clients their users run
//! (curl, nghttp), each one beside Debian's haproxy where it runs: the cases where hapee
//! answered a client differently.

use crate::harness::*;
use crate::tls::{curl_tls, have, Pki};
use std::time::Duration;

/// The corpus's mutual-TLS shape: an ACL on the client certificate's common name written
/// `ssl_c_s_dn(cn)` (the entry's name in lower case), and the name passed on in a header.
fn mtls_config(port: u16, pki: &Pki) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {} ca-file {} verify required
    acl tls_client_cn_allowed ssl_c_s_dn(cn) -m reg ^alice\\.example\\.com$
    http-request deny if !tls_client_cn_allowed
    http-request return status 200 content-type text/plain lf-string \"cn=%[ssl_c_s_dn(cn)] CN=%[ssl_c_s_dn(CN)] last=%[ssl_c_s_dn(Cn,-1)] issuer-cn=%[ssl_c_i_dn(cn)]\"
",
        pki.path("default.pem"),
        pki.path("client-ca.pem"),
    )
}

#[test]
fn a_distinguished_name_entry_is_found_whatever_the_case_of_its_name() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("sweep-dn");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    let alice = pki.client_cert(&client_ca, "alice.example.com", false);
    let bob = pki.client_cert(&client_ca, "bob.example.com", false);
    let ask = |port: u16, (cert, key): &(String, String)| {
        let url = format!("https://127.0.0.1:{port}/");
        curl_tls(&["-k", "--cert", cert, "--key", key, &url]).0
    };
    let mut sides = vec![];
    let port = free_port();
    let _p = Proxy::start(&mtls_config(port, &pki), port);
    sides.push(("hapee", port));
    let _h = Haproxy::installed().then(|| {
        let port = free_port();
        let h = Haproxy::start(&mtls_config(port, &pki), port);
        sides.push(("haproxy", port));
        h
    });
    for (side, port) in sides {
        let out = ask(port, &alice);
        assert!(
            out.starts_with(
                "cn=alice.example.com CN=alice.example.com last=alice.example.com issuer-cn=Client CA\n200"
            ),
            "{side}: {out}"
        );
        let out = ask(port, &bob);
        assert!(out.ends_with("403 1.1"), "{side}: {out}");
    }
}

/// The body curl wrote with `--raw` (chunk sizes and trailers as they came), after the head.
fn raw_answer(port: u16, extra: &[&str]) -> String {
    let url = format!("http://127.0.0.1:{port}/");
    let out = std::process::Command::new("curl")
        .args(["-s", "--raw", "-i", "--max-time", "10"])
        .args(extra)
        .arg(&url)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
}

#[test]
fn a_servers_trailers_reach_an_http1_client_with_their_trailer_field() {
    if !have("curl", &["--version"]) {
        return;
    }
    // A gRPC-web or chunked-digest style answer: the trailer fields are announced in
    // `Trailer` and sent after the last chunk.
    let server = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\nX-Unannounced: 1\r\n\r\n",
        Duration::ZERO,
        Duration::from_millis(100),
    );
    let cfg = |port| format!("{DEFAULTS}{}", fe_to_app(port, "", server));
    let mut sides = vec![];
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    sides.push(("hapee", port));
    let _h = Haproxy::installed().then(|| {
        let port = free_port();
        let h = Haproxy::start(&cfg(port), port);
        sides.push(("haproxy", port));
        h
    });
    for (side, port) in sides {
        // Whether or not the client said it takes trailers (curl says nothing by default).
        for extra in [&[][..], &["-H", "TE: trailers"][..]] {
            let out = raw_answer(port, extra);
            assert!(out.contains("\r\ntrailer: x-checksum\r\n"), "{side}: {out}");
            assert!(
                out.ends_with(
                    "\r\n5\r\nhello\r\n0\r\nx-checksum: 5d41402a\r\nx-unannounced: 1\r\n\r\n"
                ),
                "{side} {extra:?}: {out:?}"
            );
        }
    }
}

/// The corpus's client-certificate log shape, `{%[ssl_c_verify],%{+Q}[ssl_c_s_dn],…}`, with
/// the fetches that give no sample over a clear connection and an empty variable.
fn cert_log_config(port: u16, tls_port: u16, pki: &Pki) -> String {
    format!(
        "global
    log stdout format raw local0
{DEFAULTS}    log global
frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{tls_port} ssl crt {}
    log-format \"{{%[ssl_c_verify],%{{+Q}}[ssl_c_s_dn],%{{+Q}}[ssl_c_i_dn]}} used=%[ssl_c_used] crt=%[ssl_fc_has_crt] fc=%[ssl_fc] sni=%{{+Q}}[ssl_fc_sni] empty=%[var(txn.e)] qempty=%{{+Q}}[var(txn.e)] none=%{{+Q}}[var(txn.none)] %{{+Q}}r\"
    http-request set-var(txn.e) str()
    http-request return status 200
",
        pki.path("default.pem"),
    )
}

#[test]
fn absent_and_empty_samples_log_as_haproxy_logs_them() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("sweep-log");
    let lines = |port: u16, tls_port: u16, log: &dyn Fn() -> String| {
        let (out, err) = curl_tls(&["-k", &format!("http://127.0.0.1:{port}/clear")]);
        assert!(out.ends_with("200 1.1"), "{out}{err}");
        let (out, err) = curl_tls(&["-k", &format!("https://127.0.0.1:{tls_port}/tls")]);
        assert!(out.ends_with("200 1.1"), "{out}{err}");
        assert!(
            wait_until(Duration::from_secs(10), || log().lines().count() >= 2),
            "{}",
            log()
        );
        log()
            .lines()
            .take(2)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let port = free_ports(2);
    let p = Proxy::start(&cert_log_config(port, port + 1, &pki), port);
    let hapee = lines(port, port + 1, &|| p.stdout());
    assert_eq!(
        hapee,
        [
            "{-,\"\",\"\"} used=- crt=- fc=0 sni=\"\" empty=- qempty=\"\" none=\"\" \"GET /clear HTTP/1.1\"",
            "{0,\"\",\"\"} used=0 crt=0 fc=1 sni=\"\" empty=- qempty=\"\" none=\"\" \"GET /tls HTTP/1.1\"",
        ]
    );
    if Haproxy::installed() {
        let port = free_ports(2);
        let h = Haproxy::start(&cert_log_config(port, port + 1, &pki), port);
        assert_eq!(lines(port, port + 1, &|| h.stdout()), hapee);
    }
}

#[test]
fn an_http2_upload_expecting_100_continue_gets_it() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let body = "x".repeat(200_000);
    let file = Scratch::file(&format!("hapee-sweep-up-{}", std::process::id()));
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", file.display());
    let upload = |port: u16| {
        let out = std::process::Command::new("curl")
            .args(["-sv", "--max-time", "20", "--http2-prior-knowledge"])
            .args(["-H", "Expect: 100-continue", "--data-binary", &data])
            .arg(format!("http://127.0.0.1:{port}/up"))
            .output()
            .expect("curl runs");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (String::from_utf8_lossy(&out.stdout).into_owned(), err)
    };
    let cfg = |port| {
        format!(
            "{DEFAULTS}{}",
            fe_to_app(port, "", o.addr)
                .replace(&format!("{port}\n"), &format!("{port} proto h2\n"))
        )
    };
    let mut sides = vec![];
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    sides.push(("hapee", port));
    let _h = Haproxy::installed().then(|| {
        let port = free_port();
        let h = Haproxy::start(&cfg(port), port);
        sides.push(("haproxy", port));
        h
    });
    for (side, port) in sides {
        let (out, err) = upload(port);
        // The interim answer comes before the final one, so curl sends the body at once
        // rather than after its wait for it.
        let interim = err.find("< HTTP/2 100");
        let last = err.find("< HTTP/2 200");
        assert!(interim.is_some() && interim < last, "{side}: {err}");
        assert!(
            out.contains(&format!("body={body}\n")),
            "{side}: {}",
            out.len()
        );
    }
    let _ = std::fs::remove_file(&file);
}

/// The alert OpenSSL's `s_client` reports for a handshake the listener refuses.
fn alert_number(port: u16, args: &[&str]) -> String {
    let out = crate::tls::s_client(port, args);
    out.split("SSL alert number ")
        .nth(1)
        .map(|n| n.split_whitespace().next().unwrap_or("").to_string())
        .unwrap_or_else(|| format!("no alert in: {out}"))
}

#[test]
fn refused_handshakes_get_openssls_alerts() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("sweep-alerts");
    pki.ca("Client CA", "client-ca.pem");
    let cfg = |port: u16| mtls_config(port, &pki);
    let alerts = |port: u16| {
        [
            // TLS 1.2 without the certificate `verify required` asks for: handshake_failure
            // (TLS 1.2 has no certificate_required).
            alert_number(port, &["-tls1_2"]),
            // A TLS 1.1 (and 1.0) hello, below what the listener takes: protocol_version.
            alert_number(port, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
            alert_number(port, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]),
        ]
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let mine = alerts(port);
    assert_eq!(mine, ["40", "70", "70"], "{}", p.stderr());
    if Haproxy::installed() {
        let port = free_port();
        let _h = Haproxy::start(&cfg(port), port);
        assert_eq!(alerts(port), mine);
    }
}
