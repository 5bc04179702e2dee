use super::*;

fn globals() -> TlsGlobals {
    TlsGlobals::of(&[], false)
}

#[test]
fn versions_follow_min_max_and_flags() {
    let t = globals().bind(&["ssl", "crt", "a.pem", "ssl-min-ver", "TLSv1.2"]);
    assert_eq!(t.versions, ["TLSv1.2", "TLSv1.3"]);
    let t = globals().bind(&["ssl", "no-tlsv13"]);
    assert_eq!(t.versions, ["TLSv1.2"]);
    let t = globals().bind(&["ssl", "force-tlsv13", "ecdhe", "prime256v1"]);
    assert_eq!(t.versions, ["TLSv1.3"]);
    assert_eq!(t.curves.as_deref(), Some("prime256v1"));
    assert_eq!(t.crts, Vec::<String>::new());
    assert!(t.generate.is_none());
}

#[test]
fn crt_list_line_options_override_the_bind_line() {
    let mut g = globals();
    g.ca_base = Some("/ca".into());
    let t = g.bind(&["ssl", "alpn", "h2", "no-tlsv13", "verify", "none"]);
    let l = t
        .with_line(&[
            "alpn",
            "http/1.1",
            "verify",
            "required",
            "ca-file",
            "c.pem",
            "ssl-min-ver",
            "TLSv1.2",
            "ssl-max-ver",
            "TLSv1.3",
        ])
        .unwrap();
    assert_eq!(l.alpn, ["http/1.1"]);
    assert_eq!(l.verify, Verify::Required);
    assert_eq!(l.ca_file.as_deref(), Some("/ca/c.pem"));
    // `no-tlsv13` on the bind line still holds.
    assert_eq!(l.versions, ["TLSv1.2"]);
    let t = g.bind(&["ssl"]);
    let l = t.with_line(&["ssl-min-ver", "TLSv1.3"]).unwrap();
    assert_eq!(l.versions, ["TLSv1.3"]);
    assert_eq!(
        t.with_line(&["no-tlsv13"]).unwrap_err(),
        "unknown ssl keyword no-tlsv13"
    );
    assert!(t.with_line(&["alpn"]).unwrap_err().contains("out of '[]'"));
    assert!(t.with_line(&["verify", "maybe"]).is_err());
}

#[test]
fn generated_certificates_take_their_ca_under_ca_base() {
    let mut g = globals();
    g.ca_base = Some("/etc/ca".into());
    let t = g.bind(&[
        "crt",
        "a.pem",
        "generate-certificates",
        "ca-sign-file",
        "ca.pem",
        "ca-sign-pass",
        "x",
    ]);
    let gen = t.generate.expect("generation enabled");
    assert_eq!(gen.ca_sign_file.as_deref(), Some("/etc/ca/ca.pem"));
    assert_eq!(gen.ca_sign_pass.as_deref(), Some("x"));
    assert_eq!(gen.cache_size, 1000);
}

#[test]
fn ignore_lists_take_names_ids_and_all() {
    assert_eq!(
        IgnoredErrors::parse("crt-ignore-err", "X509_V_ERR_CERT_HAS_EXPIRED,20"),
        Ok(IgnoredErrors::Codes(vec![10, 20]))
    );
    assert_eq!(
        IgnoredErrors::parse("ca-ignore-err", "all"),
        Ok(IgnoredErrors::All)
    );
    assert_eq!(
        IgnoredErrors::parse("ca-ignore-err", "95"),
        Err("'ca-ignore-err' : ID '95' out of range (1..94) in error IDs list '95'".into())
    );
    assert!(IgnoredErrors::parse("ca-ignore-err", "X509_NOPE")
        .unwrap_err()
        .contains("unknown"));
}

#[test]
fn global_settings_reach_the_plan() {
    let c = crate::testkit::compile_text(
        "t.cfg",
        "global\n    crt-base /certs\n    ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets\n    ssl-default-bind-ciphers ECDHE+AESGCM\n    tune.ssl.cachesize 7\n    tune.ssl.capture-buffer-size 96\n    tune.h2.max-concurrent-streams 9\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind :8443 ssl crt site.pem\n",
        false,
    );
    let plan = crate::plan::build(&c.config, 1);
    let t = plan.listeners[0]
        .tls_settings
        .as_ref()
        .expect("a TLS listener");
    assert_eq!(t.crts, ["/certs/site.pem"]);
    assert_eq!(t.versions, ["TLSv1.3"]);
    assert!(!t.tickets);
    assert_eq!(t.ciphers.as_deref(), Some("ECDHE+AESGCM"));
    assert_eq!(t.cache_size, 7);
    assert_eq!(t.capture_size, 96);
    assert_eq!(plan.global.h2.max_concurrent_streams, 9);
}

#[test]
fn server_lines_start_from_the_global_server_defaults() {
    let c = crate::testkit::compile_text(
        "t.cfg",
        "global\n    ssl-server-verify none\n    ssl-default-server-options no-tlsv12 no-ssl-reuse\n    ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend be\n    server a 127.0.0.1:1 ssl\n    server b 127.0.0.1:2 ssl verify required ca-file ca.pem force-tlsv12 ciphers ECDHE-RSA-AES128-GCM-SHA256\n",
        false,
    );
    let plan = crate::plan::build(&c.config, 1);
    let servers = &plan.backends[0].servers;
    let a = servers[0].tls.as_ref().expect("TLS server");
    assert!(a.verify_none, "{a:?}");
    assert!(!a.reuse, "{a:?}");
    assert_eq!(a.versions, ["TLSv1.3"]);
    assert_eq!(a.ciphersuites.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    let b = servers[1].tls.as_ref().expect("TLS server");
    assert!(!b.verify_none);
    assert_eq!(b.versions, ["TLSv1.2"]);
    assert_eq!(b.ciphers.as_deref(), Some("ECDHE-RSA-AES128-GCM-SHA256"));
}

#[test]
fn bases_apply_to_relative_paths() {
    let mut g = globals();
    g.crt_base = Some("/etc/certs/".into());
    g.ca_base = Some("/etc/ca".into());
    let t = g.bind(&["crt", "site.pem", "crt", "/abs.pem", "ca-file", "ca.pem"]);
    assert_eq!(t.crts, ["/etc/certs/site.pem", "/abs.pem"]);
    assert_eq!(t.ca_file.as_deref(), Some("/etc/ca/ca.pem"));
}
