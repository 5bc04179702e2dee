//! What the TLS tests share: certificates made here with rcgen (a CA, the leaves it signs, a
//! test's files), and the real clients they are checked with (curl, `openssl s_client`).

use crate::harness::Scratch;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
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
    dir: Scratch,
}

impl Pki {
    pub(crate) fn new(tag: &str) -> Pki {
        let name = format!("hapee-tls-{}-{tag}", std::process::id());
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
        let dir = Scratch::dir(&name);
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

    /// [`Pki::new`] holding the server files of [`server_pki`], signed by a CA of its own.
    pub(crate) fn with_server_certs(tag: &str) -> Pki {
        let pki = Pki::new(tag);
        server_pki(&pki, &Ca::new("Hapee Test CA"));
        pki
    }

    /// A new CA named `name`, its certificate written to `file`.
    pub(crate) fn ca(&self, name: &str, file: &str) -> Ca {
        let ca = Ca::new(name);
        self.write(file, &ca.cert.pem());
        ca
    }

    /// A client certificate for `name` signed by `ca` (expired if asked), written to
    /// `<name>.pem` and its key to `<name>.key`: their paths.
    pub(crate) fn client_cert(&self, ca: &Ca, name: &str, expired: bool) -> (String, String) {
        let (c, k) = ca.issue(&[name], true, expired);
        (
            self.write(&format!("{name}.pem"), &c),
            self.write(&format!("{name}.key"), &k),
        )
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

/// `openssl s_client` sending one HTTP/1.0 request: all it printed.
pub(crate) fn s_client_request(port: u16, args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n");
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
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
