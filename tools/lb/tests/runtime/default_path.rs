//! `default-path`: relative file paths (a certificate, an error page) start from the
//! directory it names, for `run` (side by side with Debian's haproxy) and for `check`'s
//! environment checks alike.

use crate::harness::*;
use crate::tls::{curl_tls, Pki};
use std::process::Command;

/// A TLS frontend whose certificate and 503 page are named relatively, under `global`.
fn config(global: &str, port: u16) -> String {
    format!(
        "global
    {global}
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
    errorfile 503 pages/503.http
frontend f
    bind 127.0.0.1:{port} ssl crt default.pem
    default_backend empty
backend empty
"
    )
}

fn files(tag: &str) -> Pki {
    let pki = Pki::with_server_certs(tag);
    std::fs::create_dir_all(pki.path("pages")).unwrap();
    pki.write(
        "pages/503.http",
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nfrom-page",
    );
    pki
}

#[test]
fn run_loads_relative_files_from_the_default_path() {
    let pki = files("default-path-run");
    let dir = pki.path("");
    let cfg = |port: u16| config(&format!("default-path origin {dir}"), port);
    let (mine, theirs) = both(cfg, |port| {
        curl_tls(&["-k", &format!("https://127.0.0.1:{port}/")]).0
    });
    assert_eq!(mine, "from-page\n503 1.1");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// `hapee-lb check` on `cfg` written into `dir`, run from the system's temporary directory:
/// its exit code and what it printed.
fn check_from_elsewhere(dir: &str, cfg: &str) -> (i32, String) {
    let file = format!("{dir}/h.cfg");
    std::fs::write(&file, cfg).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["check", "-f", &file])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn check_resolves_relative_files_from_the_default_path() {
    let pki = files("default-path-check");
    let dir = pki.path("");
    let dir = dir.trim_end_matches('/');
    // `config`: the directory of the configuration file.
    let (code, out) = check_from_elsewhere(dir, &config("default-path config", 18551));
    assert_eq!(code, 0, "{out}");
    // `current` (the default): the working directory, where the files are not.
    let (code, out) = check_from_elsewhere(dir, &config("default-path current", 18551));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("default.pem"), "{out}");
    // `parent`: one directory up, where they are not either.
    let (code, _) = check_from_elsewhere(dir, &config("default-path parent", 18551));
    assert_ne!(code, 0);
}
