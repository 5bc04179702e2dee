//! TLS termination and HTTP/2 from clients, with real clients (curl, `openssl s_client`) and
//! certificates made here with rcgen: SNI selection, ALPN, client certificates with
//! `crt-ignore-err`, the TLS fetches and log fields, prior-knowledge h2c.

use crate::harness::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;

/// Whether `tool` can be run; outside CI a missing tool skips the test, in CI it fails.
pub(crate) fn have(tool: &str, probe: &[&str]) -> bool {
    if Command::new(tool).args(probe).output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{tool} is required in CI (.ci/run installs it)"
    );
    eprintln!("{tool} not installed: skipping");
    false
}

/// A CA able to sign certificates, and its PEM.
pub(crate) struct Ca {
    pub(crate) cert: rcgen::Certificate,
    pub(crate) key: KeyPair,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.distinguished_name
            .push(DnType::OrganizationName, "Hapee Tests");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A leaf certificate for `names` (CN = the first), `(cert PEM, key PEM)`.
    pub(crate) fn issue(&self, names: &[&str], client: bool, expired: bool) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, names[0]);
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x1a, 0x2b]));
        if client {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The files of one test: a CA, server certificates, client certificates.
pub(crate) struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub(crate) fn new(tag: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("hapee-tls-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        Pki { dir }
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.join(name), text).unwrap();
        self.path(name)
    }
}

pub(crate) fn curl_tls(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-S",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code} %{http_version}",
        ])
        .args(args)
        .output()
        .expect("curl runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn s_client(port: u16, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A server PKI: `default.pem` (cert+key in one file), `certs/wild.pem` with its key in
/// `certs/wild.pem.key`, and the CA in `ca.pem`.
pub(crate) fn server_pki(pki: &Pki, ca: &Ca) {
    let (c, k) = ca.issue(&["default.example"], false, false);
    pki.write("default.pem", &(c + &k));
    let (c, k) = ca.issue(&["*.b.example", "b.example"], false, false);
    pki.write("certs/wild.pem", &c);
    pki.write("certs/wild.pem.key", &k);
    let (c, k) = ca.issue(&["a.example"], false, false);
    pki.write("certs/a.pem", &(c + &k));
    pki.write("ca.pem", &ca.cert.pem());
}

#[test]
fn sni_picks_certificates_alpn_negotiates_h2_and_fetches_see_the_handshake() {
    if !have("curl", &["--version"]) || !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("sni");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
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
    let pki = Pki::new("strict");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
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

#[test]
fn client_certificates_are_verified_and_ignored_errors_stay_visible() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::new("mtls");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
    let client_ca = Ca::new("Client CA");
    pki.write("client-ca.pem", &client_ca.cert.pem());
    let (c, k) = client_ca.issue(&["alice"], true, false);
    let good = (pki.write("alice.pem", &c), pki.write("alice.key", &k));
    let (c, k) = client_ca.issue(&["old"], true, true);
    let expired = (pki.write("old.pem", &c), pki.write("old.key", &k));
    let stranger_ca = Ca::new("Unknown CA");
    let (c, k) = stranger_ca.issue(&["mallory"], true, false);
    let stranger = (pki.write("mallory.pem", &c), pki.write("mallory.key", &k));
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
fn prior_knowledge_h2c_and_redirect_to_https() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let (h2c, clear, quiet) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global
    tune.h2.max-concurrent-streams 7
    tune.h2.initial-window-size 32768
{DEFAULTS}frontend fe
    bind 127.0.0.1:{h2c} proto h2
    default_backend app
frontend quiet
    bind 127.0.0.1:{quiet} proto h2
    timeout client 300ms
    default_backend app
frontend clear
    bind 127.0.0.1:{clear}
    http-request redirect scheme https unless {{ ssl_fc }}
    default_backend app
backend app
    server s1 {}
",
        o.addr
    );
    let p = Proxy::start(&cfg, h2c);
    let (out, err) = curl_tls(&[
        "--http2-prior-knowledge",
        &format!("http://127.0.0.1:{h2c}/x"),
    ]);
    assert!(
        out.ends_with("200 2") && out.contains("path=/x"),
        "{out}{err}"
    );
    // Several streams on one connection, in parallel (curl 7.88 cannot reuse a
    // prior-knowledge connection, with HAProxy either).
    if have("nghttp", &["--version"]) {
        let out = Command::new("nghttp")
            .args(["-n", "-s"])
            .args((0..5).map(|i| format!("http://127.0.0.1:{h2c}/s{i}")))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches(" 200 ").count(), 5, "{text}");
        // The tune.h2 settings are what the proxy announces.
        let out = Command::new("nghttp")
            .args(["-nv", &format!("http://127.0.0.1:{h2c}/")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7"),
            "{text}"
        );
        assert!(
            text.contains("SETTINGS_INITIAL_WINDOW_SIZE(0x04):32768"),
            "{text}"
        );
    }
    let (out, _) = curl_tls(&["-i", &format!("http://127.0.0.1:{clear}/secure/page")]);
    assert!(
        out.contains(&format!("location: https://127.0.0.1:{clear}/secure/page")),
        "{out}"
    );
    assert!(out.ends_with("302 1.1"), "{out}");
    // A connection silent for `timeout client` is sent GOAWAY and closed.
    let frames = h2_frames_until_closed(quiet, || {});
    assert!(frames.contains(&0x7), "frame types {frames:?}");
    // A graceful stop sends GOAWAY to an open HTTP/2 connection, then closes it.
    let frames = h2_frames_until_closed(h2c, || p.signal("USR1"));
    assert!(frames.contains(&0x7), "frame types {frames:?}");
}

/// A listener without `proto h2` serves HTTP/2 to a client that starts with its preface (prior
/// knowledge), as HAProxy's HTTP/1 side upgrades; `option disable-h2-upgrade` refuses it; an
/// HTTP/1 request on the same listener stays HTTP/1. Side by side with haproxy.
#[test]
fn http2_prior_knowledge_on_a_listener_without_proto_h2() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}frontend plain
    bind 127.0.0.1:{port}
    default_backend app
frontend strict
    bind 127.0.0.1:{}
    option disable-h2-upgrade
    default_backend app
backend app
    server s1 {}
",
            port + 1,
            o.addr
        )
    };
    let drive = |port: u16| {
        let url = |p: u16| format!("http://127.0.0.1:{p}/pk");
        let h2 = curl_tls(&["--http2-prior-knowledge", &url(port)]).0;
        let h1 = curl_tls(&[&url(port)]).0;
        let refused = curl_tls(&["--http2-prior-knowledge", &url(port + 1)]).0;
        let tail = |s: &str| s.rsplit('\n').next().unwrap_or("").to_string();
        (
            tail(&h2),
            tail(&h1),
            tail(&refused),
            h2.contains("path=/pk"),
        )
    };
    let port = free_ports(2);
    let p = Proxy::start(&cfg(port), port);
    let ours = drive(port);
    drop(p);
    assert_eq!(ours.0, "200 2", "{ours:?}");
    assert_eq!(ours.1, "200 1.1", "{ours:?}");
    assert!(
        ours.2.starts_with("000") || ours.2.starts_with("400"),
        "{ours:?}"
    );
    assert!(ours.3, "{ours:?}");
    if let Some((theirs, _)) = with_haproxy_until(2, cfg, drive, |_| true) {
        assert_eq!(ours, theirs, "hapee vs haproxy");
    }
}

/// Opens an HTTP/2 connection (preface and empty SETTINGS), runs `then`, and answers the
/// types of the frames the proxy sent until it closed the connection.
fn h2_frames_until_closed(port: u16, then: impl FnOnce()) -> Vec<u8> {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    then();
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 9 <= got.len() {
        let len = (usize::from(got[at]) << 16)
            | (usize::from(got[at + 1]) << 8)
            | usize::from(got[at + 2]);
        frames.push(got[at + 3]);
        at += 9 + len;
    }
    frames
}

#[test]
fn same_statuses_logs_and_client_certificate_fields_as_haproxy() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::new("side");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
    let client_ca = Ca::new("Client CA");
    pki.write("client-ca.pem", &client_ca.cert.pem());
    let (c, k) = client_ca.issue(&["old"], true, true);
    let expired = (pki.write("old.pem", &c), pki.write("old.key", &k));
    let (c, k) = client_ca.issue(&["alice"], true, false);
    let good = (pki.write("alice.pem", &c), pki.write("alice.key", &k));
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
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = drive(port);
    assert!(ours[2].contains("used=1 err=10 ca=0 verify=10"), "{ours:?}");
    let lines = |log: &str| -> Vec<Vec<String>> {
        log.lines()
            .filter(|l| l.contains("GET "))
            .map(|l| {
                let port_free = regex::Regex::new(r":\d{4,5}/").unwrap().replace(l, ":P/");
                crate::tcp_logs_lifecycle::stable_fields(&port_free)
            })
            .collect()
    };
    // Every request that reached HTTP is logged once its connection ends.
    let requests = ours.iter().filter(|a| !a.is_empty()).count();
    let our_log = p.stdout_when(|l| lines(l).len() >= requests);
    let Some((theirs, their_log)) = crate::harness::with_haproxy_until(1, cfg, drive, |l| {
        lines(l).len() >= lines(&our_log).len()
    }) else {
        return;
    };
    assert_eq!(ours, theirs);
    assert_eq!(lines(&our_log), lines(&their_log), "{our_log}\n{their_log}");
}

#[test]
fn servers_over_tls_verify_their_certificate_and_get_the_sni() {
    if !have("curl", &["--version"]) {
        return;
    }
    let pki = Pki::new("srv");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
    let other_ca = Ca::new("Other CA");
    pki.write("other-ca.pem", &other_ca.cert.pem());
    let client_ca = Ca::new("Client CA");
    pki.write("client-ca.pem", &client_ca.cert.pem());
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

/// With `tune.ssl.capture-buffer-size`, the ClientHello's cipher list is kept and named as
/// HAProxy names it; certificate hashes and chains read as in HAProxy; and a server line
/// presents an X.509 v1 client certificate (rustls' WebPKI refuses those, OpenSSL does not).
#[test]
fn client_hello_capture_certificate_hashes_and_v1_client_certificates_as_haproxy() {
    if !have("curl", &["--version"]) || !crate::harness::Haproxy::installed() {
        return;
    }
    let (Some(common), Some(ca_auth), Some(client1)) = (
        crate::harness::corpus_path("ssl/common.pem"),
        crate::harness::corpus_path("ssl/ca-auth.crt"),
        crate::harness::corpus_path("ssl/client1.pem"),
    ) else {
        return;
    };
    // The origin is Debian's haproxy, requiring a client certificate signed by `ca-auth.crt`
    // (`client1.pem` is a version 1 certificate).
    let origin = free_port();
    let _origin = crate::harness::Haproxy::start(
        &format!(
            "{DEFAULTS}frontend origin
    bind 127.0.0.1:{origin} ssl crt {common} ca-file {ca_auth} verify required
    http-request return status 200 content-type text/plain lf-string \"cn=%[ssl_c_s_dn(CN)] v=%[ssl_c_version]\"
"
        ),
        origin,
    );
    let pki = Pki::new("capture");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
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
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    let ours = drive(port);
    assert!(ours[0].contains("str=TLS_AES_"), "{ours:?}");
    assert!(ours[0].contains(" chain="), "{ours:?}");
    assert!(ours[1].starts_with("cn=client1 v=1"), "{ours:?}");
    let Some((theirs, _)) = crate::harness::with_haproxy(cfg, drive) else {
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
    let pki = Pki::new("verify-file");
    let ca = Ca::new("Hapee Test CA");
    server_pki(&pki, &ca);
    let named = Ca::new("Named CA");
    let hidden = Ca::new("Hidden CA");
    pki.write("named.pem", &named.cert.pem());
    pki.write("hidden.pem", &hidden.cert.pem());
    let (c, k) = hidden.issue(&["bob"], true, false);
    let bob = (pki.write("bob.pem", &c), pki.write("bob.key", &k));
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
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    let ours = drive(port);
    assert!(ours.0.starts_with("cn=bob verify=0"), "{ours:?}");
    assert_eq!(ours.1.len(), 1, "{ours:?}");
    assert!(ours.1[0].contains("Named CA"), "{ours:?}");
    let Some((theirs, _)) = crate::harness::with_haproxy(cfg, drive) else {
        return;
    };
    assert_eq!(ours, theirs);
}
