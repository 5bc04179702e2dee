//! The Runtime API's TLS file commands over a real socket: a certificate, a CA file and a
//! crt-list changed at run time are served and used by new handshakes after `commit` and not
//! before (checked with `openssl s_client` and curl), and the answers of the commands Debian's
//! haproxy 2.6 has are compared with its own, byte for byte.

use crate::api::ask;
use crate::harness::{curl, free_port, wait_until, Haproxy, Proxy, DEFAULTS};
use crate::tls::{curl_tls, have, s_client, Ca, Pki};
use std::path::Path;

/// The certificates of the test, and a configuration using them on four `bind … ssl` lines:
/// a plain certificate, client verification against `ca.pem`, a crt-list, and a CRL.
struct Setup {
    pki: Pki,
    ca: Ca,
    other_ca: Ca,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let pki = Pki::new(tag);
        let ca = Ca::new("Api Test CA");
        let other_ca = Ca::new("Second Api CA");
        let (c, k) = ca.issue(&["old.example"], false, false);
        pki.write("site.pem", &(c + &k));
        let (c, k) = ca.issue(&["verify.example"], false, false);
        pki.write("site2.pem", &(c + &k));
        let (c, k) = ca.issue(&["listed.example"], false, false);
        pki.write("listed.pem", &(c + &k));
        pki.write(
            "list.txt",
            &format!("{} listed.example\n", pki.path("listed.pem")),
        );
        pki.write("ca.pem", &ca.cert.pem());
        let crl = rcgen::CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2026, 1, 1),
            next_update: rcgen::date_time_ymd(2036, 1, 1),
            crl_number: rcgen::SerialNumber::from(7u64),
            issuing_distribution_point: None,
            revoked_certs: vec![rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(&[0x77, 0x01]),
                revocation_time: rcgen::date_time_ymd(2026, 2, 3),
                reason_code: None,
                invalidity_date: None,
            }],
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        }
        .signed_by(&ca.cert, &ca.key)
        .unwrap();
        pki.write("crl.pem", &crl.pem().unwrap());
        Setup { pki, ca, other_ca }
    }

    fn path(&self, name: &str) -> String {
        self.pki.path(name)
    }

    fn config(&self, sock: &Path, ports: [u16; 4]) -> String {
        let p = |n: &str| self.path(n);
        format!(
            "global
    stats socket {} level admin
{DEFAULTS}
frontend tls
    bind 127.0.0.1:{} ssl crt {}
    bind 127.0.0.1:{} ssl crt {} ca-file {} verify required
    bind 127.0.0.1:{} ssl crt-list {}
    bind 127.0.0.1:{} ssl crt {} ca-file {} crl-file {} verify optional
    http-request return status 200 content-type text/plain string ok
",
            sock.display(),
            ports[0],
            p("site.pem"),
            ports[1],
            p("site2.pem"),
            p("ca.pem"),
            ports[2],
            p("list.txt"),
            ports[3],
            p("site2.pem"),
            p("ca.pem"),
            p("crl.pem"),
        )
    }
}

fn ports() -> [u16; 4] {
    [free_port(), free_port(), free_port(), free_port()]
}

/// The subject line `openssl s_client` prints of the certificate it was served.
fn served_subject(port: u16, sni: &str) -> String {
    let out = s_client(port, &["-servername", sni]);
    out.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_else(|| panic!("no certificate served: {out}"))
        .to_string()
}

/// A request with a client certificate: the status, or what curl said when the handshake failed.
fn with_client_cert(port: u16, cert: &str, key: &str) -> String {
    let (out, err) = curl_tls(&[
        "-k",
        "--cert",
        cert,
        "--key",
        key,
        &format!("https://127.0.0.1:{port}/"),
    ]);
    if out.ends_with(" 1.1") && out.contains("\n200 ") {
        "200".into()
    } else {
        format!("refused: {out} {err}")
    }
}

#[test]
fn committed_certificates_and_cas_are_used_by_new_handshakes_only_after_commit() {
    if !have("openssl", &["version"]) || !have("curl", &["--version"]) {
        return;
    }
    let s = Setup::new("api-live");
    let sock = Path::new(&s.path("admin.sock")).to_path_buf();
    let ports = ports();
    let proxy = Proxy::start(&s.config(&sock, ports), ports[3]);
    let site = s.path("site.pem");

    // A new certificate for the first listener: served after the commit, not before.
    assert!(served_subject(ports[0], "x").contains("old.example"));
    let (c, k) = s.ca.issue(&["new.example"], false, false);
    let answer = ask(&sock, &format!("set ssl cert {site} <<\n{c}{k}\n"));
    assert_eq!(
        answer,
        format!("Transaction created for certificate {site}!\n\n")
    );
    assert!(served_subject(ports[0], "x").contains("old.example"));
    assert_eq!(
        ask(&sock, &format!("commit ssl cert {site}\n")),
        format!("Committing {site}.\nSuccess!\n\n"),
        "{}",
        proxy.stderr()
    );
    for _ in 0..3 {
        assert!(served_subject(ports[0], "x").contains("new.example"));
    }
    let detail = ask(&sock, &format!("show ssl cert {site}\n"));
    assert!(detail.contains("Status: Used\n"), "{detail}");
    assert!(detail.contains("Subject: /CN=new.example\n"), "{detail}");

    // `add ssl ca-file`: a client of the second CA is refused until the CA is appended and
    // committed; clients of the first CA still get in.
    let (c1, k1) = s.ca.issue(&["client-one"], true, false);
    let (c2, k2) = s.other_ca.issue(&["client-two"], true, false);
    let files = [
        s.pki.write("c1.pem", &c1),
        s.pki.write("c1.key", &k1),
        s.pki.write("c2.pem", &c2),
        s.pki.write("c2.key", &k2),
    ];
    assert_eq!(with_client_cert(ports[1], &files[0], &files[1]), "200");
    assert!(with_client_cert(ports[1], &files[2], &files[3]).starts_with("refused"));
    let ca = s.path("ca.pem");
    let answer = ask(
        &sock,
        &format!("add ssl ca-file {ca} <<\n{}\n", s.other_ca.cert.pem()),
    );
    assert_eq!(answer, format!("transaction created for CA {ca}!\n\n"));
    let listing = ask(&sock, "show ssl ca-file\n");
    assert!(
        listing.starts_with(&format!(
            "# transaction\n*{ca} - 2 certificate(s)\n# filename\n{ca} - 1 certificate(s)\n"
        )),
        "{listing}"
    );
    assert!(with_client_cert(ports[1], &files[2], &files[3]).starts_with("refused"));
    assert_eq!(
        ask(&sock, &format!("commit ssl ca-file {ca}\n")),
        format!("Committing {ca}..\nSuccess!\n\n")
    );
    assert_eq!(with_client_cert(ports[1], &files[2], &files[3]), "200");
    assert_eq!(with_client_cert(ports[1], &files[0], &files[1]), "200");
    assert!(ask(&sock, &format!("show ssl ca-file {ca}:2\n")).contains("Certificate #2:\n"));

    // A certificate made at run time and added to the crt-list answers its name.
    let extra = s.path("extra.pem");
    let list = s.path("list.txt");
    assert!(!served_subject(ports[2], "extra.example").contains("extra.example"));
    let (c, k) = s.ca.issue(&["extra.example"], false, false);
    let answers = ask(
        &sock,
        &format!(
            "new ssl cert {extra}\nset ssl cert {extra} <<\n{c}{k}\ncommit ssl cert {extra}\nadd ssl crt-list {list} {extra}\n"
        ),
    );
    assert!(
        answers.ends_with(&format!(
            "Inserting certificate '{extra}' in crt-list '{list}'.\nSuccess!\n\n"
        )),
        "{answers}"
    );
    assert!(served_subject(ports[2], "extra.example").contains("extra.example"));
    assert!(served_subject(ports[2], "listed.example").contains("listed.example"));

    // A broken commit keeps what is in force.
    let answer = ask(
        &sock,
        &format!(
            "set ssl cert {site} <<\n{}{}\ncommit ssl cert {site}\n",
            c,
            s.other_key()
        ),
    );
    assert!(answer.contains("Failed!\n"), "{answer}");
    assert!(served_subject(ports[0], "x").contains("new.example"));

    // Levels: an operator may look, not change.
    assert!(ask(&sock, "operator; show ssl cert\n").contains("# filename\n"));
    assert_eq!(
        ask(&sock, &format!("operator; abort ssl cert {site}\n")),
        "\nPermission denied\n\n"
    );
}

impl Setup {
    /// A private key that matches no certificate of the test.
    fn other_key(&self) -> String {
        rcgen::KeyPair::generate().unwrap().serialize_pem()
    }
}

#[test]
fn ssl_command_answers_equal_haproxys() {
    if !Haproxy::installed() || !have("openssl", &["version"]) {
        return;
    }
    let s = Setup::new("api-same");
    let ours_sock = Path::new(&s.path("hapee.sock")).to_path_buf();
    let theirs_sock = Path::new(&s.path("haproxy.sock")).to_path_buf();
    let ours_ports = ports();
    let theirs_ports = ports();
    let _proxy = Proxy::start(&s.config(&ours_sock, ours_ports), ours_ports[3]);
    let _haproxy = Haproxy::start_with(
        &s.config(&theirs_sock, theirs_ports),
        theirs_ports[3],
        &["-db"],
    );
    // haproxy binds its UNIX sockets after its TCP ones (and renames them into place).
    assert!(
        wait_until(std::time::Duration::from_secs(20), || theirs_sock.exists()),
        "haproxy's stats socket never came"
    );
    let site = s.path("site.pem");
    let ca = s.path("ca.pem");
    let crl = s.path("crl.pem");
    let list = s.path("list.txt");
    let extra = s.path("extra.pem");
    let (c, k) =
        s.ca.issue(&["renewed.example", "www.renewed.example"], false, false);
    let renewed = format!("{c}{k}");
    let (c, k) = s.ca.issue(&["extra.example"], false, false);
    let extra_pem = format!("{c}{k}");
    let both_cas = format!("{}{}", s.ca.cert.pem(), s.other_ca.cert.pem());
    let script = [
        "show ssl cert".to_string(),
        format!("show ssl cert {site}"),
        format!("show ssl ca-file {ca}"),
        format!("show ssl ca-file {ca}:1"),
        format!("show ssl ca-file {ca}:2"),
        "show ssl crl-file".into(),
        format!("show ssl crl-file {crl}"),
        "show ssl crt-list".into(),
        format!("show ssl crt-list -n {list}"),
        format!("show ssl crt-list {list}"),
        format!("show ssl cert {}", s.path("none.pem")),
        format!("commit ssl cert {site}"),
        format!("abort ssl cert {site}"),
        format!("set ssl cert {} <<\n{renewed}", s.path("none.pem")),
        format!("set ssl cert {site} <<\ngarbage"),
        format!("set ssl cert {site} <<\n{renewed}"),
        format!("set ssl cert {site} <<\n{renewed}"),
        "show ssl cert".into(),
        format!("show ssl cert *{site}"),
        format!("commit ssl cert {extra}"),
        format!("abort ssl cert {extra}"),
        format!("commit ssl cert {site}"),
        format!("show ssl cert {site}"),
        format!("set ssl ca-file {ca} <<\ngarbage"),
        format!("set ssl ca-file {ca} <<\n{both_cas}"),
        format!("show ssl ca-file *{ca}"),
        format!("commit ssl ca-file {ca}"),
        format!("show ssl ca-file {ca}"),
        format!(
            "set ssl crl-file {crl} <<\n{}",
            std::fs::read_to_string(&crl).unwrap()
        ),
        format!("abort ssl crl-file {crl}"),
        format!("new ssl cert {extra}"),
        format!("new ssl cert {extra}"),
        format!("show ssl cert {extra}"),
        format!("add ssl crt-list {list} {extra}"),
        format!("set ssl cert {extra} <<\n{extra_pem}"),
        format!("commit ssl cert {extra}"),
        format!("add ssl crt-list {list} {extra}"),
        format!("add ssl crt-list {list} {extra}"),
        format!("show ssl crt-list -n {list}"),
        format!("del ssl crt-list {list} {extra}"),
        format!("del ssl crt-list {list} {extra}:3"),
        format!("del ssl cert {extra}"),
        format!("del ssl crt-list {list} {extra}"),
        format!("show ssl crt-list {list}"),
        format!("del ssl cert {extra}"),
        format!("del ssl cert {extra}"),
        format!("del ssl cert {site}"),
        format!("new ssl ca-file {}", s.path("new-ca.pem")),
        format!("del ssl ca-file {ca}"),
        format!("del ssl ca-file {}", s.path("new-ca.pem")),
        format!("del ssl crl-file {crl}"),
    ];
    for command in script {
        // A payload ends at an empty line; every command is sent on a connection of its own.
        let input = if command.contains("<<\n") {
            format!("{}\n\n", command.trim_end())
        } else {
            format!("{command}\n")
        };
        let ours = ask(&ours_sock, &input);
        let theirs = ask(&theirs_sock, &input);
        let first_line = command.lines().next().unwrap_or("");
        assert_eq!(ours, theirs, "answers differ for `{first_line}`");
    }
}

/// A server's CA file changed at run time: a server whose certificate the old CA file cannot
/// verify gets traffic once the new content is committed, on hapee as on haproxy. HAProxy
/// links a server to its CA file only when the server has a client certificate (`crt`: its
/// certificate instance carries the link), so the comparison gives the server one; hapee
/// rebuilds a server's TLS whenever it read the file, with or without `crt`.
#[test]
fn a_committed_ca_file_is_used_by_servers_verifying_with_it() {
    if !have("curl", &["--version"]) {
        return;
    }
    let s = Setup::new("api-server-ca");
    // The servers' CA file starts with the other CA only: site2.pem cannot be verified.
    let servers_ca = s.pki.write("servers-ca.pem", &s.other_ca.cert.pem());
    let (c, k) = s.ca.issue(&["proxy-client"], true, false);
    let client = s.pki.write("proxy-client.pem", &(c + &k));
    let config = |sock: &Path, origin: u16, front: u16, crt: bool| {
        let crt = if crt {
            format!(" crt {client}")
        } else {
            String::new()
        };
        format!(
            "global
    stats socket {} level admin
{DEFAULTS}
frontend origin
    bind 127.0.0.1:{origin} ssl crt {}
    http-request return status 200 content-type text/plain string verified-origin
frontend front
    bind 127.0.0.1:{front}
    default_backend tls_servers
backend tls_servers
    server s1 127.0.0.1:{origin} ssl verify required ca-file {servers_ca} sni str(verify.example){crt}
",
            sock.display(),
            s.path("site2.pem"),
        )
    };
    let run = |sock: &Path, front: u16| -> Vec<u16> {
        let get = || curl(&[&format!("http://127.0.0.1:{front}/")]).0;
        let before = get();
        let both = format!("{}{}", s.other_ca.cert.pem(), s.ca.cert.pem());
        let answer = ask(
            sock,
            &format!(
                "set ssl ca-file {servers_ca} <<\n{both}\n\ncommit ssl ca-file {servers_ca}\n"
            ),
        );
        assert!(answer.contains("Success!"), "{answer}");
        vec![before, get(), get()]
    };
    let reset = || s.pki.write("servers-ca.pem", &s.other_ca.cert.pem());
    let mut ours = Vec::new();
    for crt in [false, true] {
        reset();
        let (origin, front) = (free_port(), free_port());
        let sock = Path::new(&s.path(&format!("hapee-{crt}.sock"))).to_path_buf();
        let proxy = Proxy::start(&config(&sock, origin, front, crt), front);
        ours = run(&sock, front);
        assert_eq!(ours, [503, 200, 200], "crt {crt}: {}", proxy.stderr());
    }
    if Haproxy::installed() {
        reset();
        let (origin, front) = (free_port(), free_port());
        let sock = Path::new(&s.path("haproxy.sock")).to_path_buf();
        let _haproxy = Haproxy::start_with(&config(&sock, origin, front, true), front, &["-db"]);
        assert_eq!(run(&sock, front), ours, "haproxy answered otherwise");
    }
}
