//! The cipher-string verdicts `check` gives (HAProxy refuses to start when OpenSSL rejects a
//! `ciphers`/`ciphersuites` list) compared with OpenSSL's own: `openssl ciphers` sets the list
//! on a context exactly as HAProxy does and fails when OpenSSL rejects it.

use hapee_compiler::registry::openssl::{accepts_cipher_list, accepts_ciphersuites};
use std::process::Command;

/// Whether `openssl ciphers [-ciphersuites S] L` succeeds; `None` when openssl is not installed
/// (a failure under `CI=true`, where `.ci/run` installs it).
fn openssl_accepts(args: &[&str]) -> Option<bool> {
    match Command::new("openssl").arg("ciphers").args(args).output() {
        Ok(out) => Some(out.status.success()),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "openssl is not installed, and CI=true requires it (see .ci/run)"
            );
            eprintln!("skipped: openssl is not installed");
            None
        }
    }
}

#[test]
fn cipher_lists_get_openssls_verdict() {
    let lists = [
        "HIGH",
        "ECDHE+AESGCM:!aNULL",
        "HIGH!aNULL",
        "NOPE:ECDHE-RSA-AES128-GCM-SHA256",
        "NOPE:ALSO-NOPE",
        "FOO:+BAR:!ALL:HIGH",
        "HIGH:@BOGUS",
        "HIGH:*",
        "HIGH:!",
        "HIGH::",
        "ECDHE+NOPE:HIGH",
        "HIGH:-ALL",
        "-ALL:HIGH",
        "HIGH:-ALL:AES",
        "HIGH:!ALL:AES",
        "eNULL",
        "COMPLEMENTOFALL:!eNULL",
        "HIGH:+AES",
        "+AES",
        "kRSA+AESGCM",
        "AES128+AES256",
        "HIGH:@SECLEVEL=10",
        "HIGH@STRENGTH",
        "@STRENGTH",
        "DEFAULT",
        "DEFAULTX",
        "NOPE:DEFAULT",
        "DEFAULT:!ALL",
        "DEFAULT!ALL",
        "SUITEB128",
        "TLS_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ecdhe-rsa-aes128-gcm-sha256",
        "kEECDH+aRSA ,AES128;X",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
        "EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH",
        "RC4-SHA:DES-CBC3-SHA",
        "ALL:é",
    ];
    for list in lists {
        let Some(expected) = openssl_accepts(&["--", list]) else {
            return;
        };
        assert_eq!(accepts_cipher_list(list), expected, "ciphers {list:?}");
    }
}

#[test]
fn ciphersuites_get_openssls_verdict() {
    for list in [
        "TLS_AES_128_GCM_SHA256",
        "BOGUS",
        "BOGUS:TLS_AES_256_GCM_SHA384",
        " TLS_AES_128_CCM_8_SHA256 ",
        "tls_aes_128_gcm_sha256",
        "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ] {
        let Some(expected) = openssl_accepts(&["-ciphersuites", list, "ALL"]) else {
            return;
        };
        assert_eq!(
            accepts_ciphersuites(list),
            expected,
            "ciphersuites {list:?}"
        );
    }
}
