//! Global TLS settings seen by real TLS clients, side by side with Debian's haproxy:
//! `tune.ssl.hard-maxrecord` (the largest record sent, as `openssl s_client -msg` sees it),
//! `ssl-skip-self-issued-ca` (the chain `openssl s_client -showcerts` is sent) and
//! `ssl-load-extra-files` (whether a certificate's key is looked for beside it).

use super::global_tunes::largest_record;
use super::harness::*;
use super::tls::{have, s_client, Ca, Pki};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULTS: &str = "defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
";

/// A listener on `cert` answering 200 with `body` (a file), under the global lines `global`.
fn tls_config(global: &str, cert: &str, body: &str, port: u16) -> String {
    format!(
        "global
{global}
{DEFAULTS}frontend f
    bind 127.0.0.1:{port} ssl crt {cert}
    http-request return status 200 content-type text/plain file {body}
"
    )
}

/// `tune.ssl.hard-maxrecord 1000`: no record carries more than 1000 bytes of the answer.
#[test]
fn hard_maxrecord_caps_every_record() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("hardmaxrecord");
    let body = pki.write("body.txt", &"0123456789".repeat(600));
    let cert = pki.path("default.pem");
    let cfg = |port: u16| tls_config("    tune.ssl.hard-maxrecord 1000", &cert, &body, port);
    let (mine, theirs) = both(cfg, largest_record);
    // 1000 bytes of plaintext, its content type and the 16-byte AEAD tag.
    assert_eq!(mine, 1017);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The certificates `openssl s_client -showcerts` was sent, by subject line.
fn chain_sent(port: u16) -> Vec<String> {
    s_client(port, &["-showcerts", "-servername", "chain.example"])
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.split_once(' ')
                .is_some_and(|(n, rest)| n.parse::<u8>().is_ok() && rest.starts_with("s:"))
        })
        .map(str::to_string)
        .collect()
}

/// A PEM file holding the leaf, its key and the root CA that signed it: the root is sent
/// along unless `ssl-skip-self-issued-ca`.
#[test]
fn ssl_skip_self_issued_ca_leaves_the_root_out_of_the_chain() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("selfissued");
    let ca = Ca::new("Hapee Root");
    let (leaf, key) = ca.issue(&["chain.example"], false, false);
    let cert = pki.write("chain.pem", &(leaf + &key + &ca.cert.pem()));
    let body = pki.write("body.txt", "ok");
    let cfg = |global: &'static str| {
        let (cert, body) = (cert.clone(), body.clone());
        move |port: u16| tls_config(global, &cert, &body, port)
    };
    let (sent, theirs_sent) = both(cfg("    log stdout format raw local0"), chain_sent);
    let (skipped, theirs_skipped) = both(cfg("    ssl-skip-self-issued-ca"), chain_sent);
    assert_eq!((sent.len(), skipped.len()), (2, 1), "{sent:?} {skipped:?}");
    assert!(skipped[0].contains("chain.example"), "{skipped:?}");
    if let (Some(a), Some(b)) = (theirs_sent, theirs_skipped) {
        assert_eq!((a, b), (sent, skipped));
    }
}

/// Whether `command` exits with a failure within 10 s (one still running is killed).
fn fails(command: &mut Command) -> bool {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return !status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// A certificate whose key is in `wild.pem.key` beside it: loaded with `ssl-load-extra-files
/// key` (as by default), refused at start with `none`, which looks for no file beside it.
#[test]
fn ssl_load_extra_files_decides_whether_the_key_file_is_read() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("extrafiles");
    let cert = pki.path("certs/wild.pem");
    let body = pki.write("body.txt", "ok");
    let served = |port: u16| {
        s_client(port, &["-servername", "b.example"])
            .lines()
            .any(|l| l.contains("CN = *.b.example") || l.contains("CN=*.b.example"))
    };
    let keyed = |port: u16| tls_config("    ssl-load-extra-files key", &cert, &body, port);
    let (mine, theirs) = both(keyed, served);
    assert!(mine);
    if let Some(theirs) = theirs {
        assert!(theirs);
    }
    let none = pki.write(
        "none.cfg",
        &tls_config("    ssl-load-extra-files none", &cert, &body, free_port()),
    );
    assert!(fails(
        Command::new(env!("CARGO_BIN_EXE_hapee-lb")).args(["run", "-f", &none])
    ));
    if Haproxy::installed() {
        assert!(fails(Command::new("haproxy").args(["-c", "-f", &none])));
    }
}
