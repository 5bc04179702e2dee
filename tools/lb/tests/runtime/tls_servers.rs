//! `server … ssl`: the server's certificate verified against `ca-file` and `verifyhost`, the SNI
//! sent, a client certificate presented, and health checks over TLS.

use crate::harness::*;
use crate::tls::{curl_tls, have, Pki};

#[test]
fn servers_over_tls_verify_their_certificate_and_get_the_sni() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::with_server_certs("srv");
    pki.ca("Other CA", "other-ca.pem");
    let client_ca = pki.ca("Client CA", "client-ca.pem");
    let (c, k) = client_ca.issue(&["proxy"], true, false);
    pki.write("proxy.pem", &(c + &k));
    let (front, origin) = (free_port(), free_port());
    let cfg = format!(
        "{DEFAULTS}frontend origin
    bind 127.0.0.1:{origin} ssl crt {default} crt {certs} ca-file {client_ca} verify optional
    http-request return status 200 content-type text/plain lf-string \"sni=%[ssl_fc_sni] client=%[ssl_c_s_dn(CN)] path=%[path] v=%[ssl_fc_protocol]\"
frontend fe
    bind 127.0.0.1:{front}
    use_backend %[path,field(2,/)]
backend good
    server s 127.0.0.1:{origin} ssl verify required ca-file {ca} sni str(a.example) crt {proxy}
backend nosni
    default-server ssl verify required ca-file {ca}
    server s 127.0.0.1:{origin}
backend wrongca
    server s 127.0.0.1:{origin} ssl verify required ca-file {other} sni str(a.example)
backend wronghost
    server s 127.0.0.1:{origin} ssl verify required ca-file {ca} verifyhost b.example
backend snifirst
    server s 127.0.0.1:{origin} ssl verify required ca-file {ca} sni str(a.example) verifyhost b.example
backend none
    server s 127.0.0.1:{origin} ssl verify none sni req.hdr(x-name) ssl-max-ver TLSv1.2
backend checked
    option httpchk GET /health
    # Checks every 200 ms, each given time enough for a handshake on a loaded machine (a
    # timeout would take the good server down).
    timeout check 10s
    server up 127.0.0.1:{origin} ssl verify required ca-file {ca} check-sni a.example sni str(a.example) check inter 200 fall 1 rise 1
    server down 127.0.0.1:{origin} ssl verify required ca-file {other} check-sni a.example sni str(a.example) check inter 200 fall 1 rise 1
",
        default = pki.path("default.pem"),
        certs = pki.path("certs"),
        client_ca = pki.path("client-ca.pem"),
        ca = pki.path("ca.pem"),
        other = pki.path("other-ca.pem"),
        proxy = pki.path("proxy.pem"),
    );
    let p = Proxy::start(&cfg, front);
    let get = |path: &str, extra: &[&str]| {
        let url = format!("http://127.0.0.1:{front}{path}");
        let mut args = extra.to_vec();
        args.push(&url);
        curl_tls(&args).0
    };
    let out = get("/good/x", &[]);
    assert!(
        out.starts_with("sni=a.example client=proxy path=/good/x v=TLSv1.3"),
        "{out}"
    );
    assert!(out.ends_with("200 1.1"), "{out}");
    // Without an SNI only the chain is checked (the default certificate comes back).
    let out = get("/nosni/y", &[]);
    assert!(out.starts_with("sni= client= path=/nosni/y"), "{out}");
    assert!(get("/wrongca/z", &[]).ends_with("503 1.1"));
    assert!(get("/wronghost/z", &[]).ends_with("503 1.1"));
    // As HAProxy checks it: the SNI sent is the name checked, `verifyhost` only without one.
    assert!(get("/snifirst/z", &[]).ends_with("200 1.1"));
    let out = get("/none/w", &["-H", "x-name: x.b.example"]);
    assert!(
        out.starts_with("sni=x.b.example client= path=/none/w v=TLSv1.2"),
        "{out}"
    );
    // Health checks over TLS (implied by `ssl` on the server's own port): the server whose
    // certificate does not verify goes down, the other serves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !p.stderr().contains("Server checked/down is DOWN")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = p.stderr();
    assert!(
        log.contains("Server checked/down is DOWN, reason: Layer6"),
        "{log}"
    );
    assert!(!log.contains("Server checked/up is DOWN"), "{log}");
    for _ in 0..3 {
        assert!(get("/checked/c", &[]).ends_with("200 1.1"));
    }
}
