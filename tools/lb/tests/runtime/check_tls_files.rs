//! `hapee-lb -c` on the TLS files and values HAProxy 2.7 checks while it reads a bind line, side
//! by side with HAProxy 2.7.0's `-c`: a `crt-list`'s lines (their certificate, their options
//! between brackets, their names, the file's last line feed), `crt` files and directories,
//! `ca-file`/`crl-file`, `ssl-min-ver`/`ssl-max-ver` values and the `curves`/`ecdhe` lists
//! OpenSSL rejects. The same output (process ids aside) and the same exit code.

use crate::harness::haproxy_27;
use crate::tls::Pki;
use std::process::{Command, Output};

/// The files the cases name: a certificate with its key, a CA, a key alone, and directories
/// of certificates (good ones, one without its key, one of something else).
fn files(tag: &str) -> Pki {
    let pki = Pki::new(tag);
    let ca = pki.ca("Hapee Check CA", "ca.pem");
    let (cert, key) = ca.issue(&["a.example"], false, false);
    pki.write("site.pem", &(cert.clone() + &key));
    pki.write("key.pem", &key);
    for dir in ["good", "keyless", "junk"] {
        std::fs::create_dir_all(pki.path(dir)).unwrap();
    }
    pki.write("good/a.pem", &(cert.clone() + &key));
    pki.write("good/a.pem.key", &key);
    pki.write("good/.hidden", "not read");
    pki.write("keyless/a.pem", &cert);
    pki.write("junk/notes.txt", "hello\n");
    pki
}

/// What `-c` printed and its exit code: every line but the notices, process ids left out.
fn report(out: &Output) -> (Vec<String>, Option<i32>) {
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| match (l.find('('), l.find(") : ")) {
            (Some(open), Some(close)) if l.starts_with('[') => {
                format!("{}{}", l[..open].trim_end(), &l[close + 1..])
            }
            _ => l.to_string(),
        })
        .collect();
    (lines, out.status.code())
}

fn check(program: &std::path::Path, cfg: &str) -> (Vec<String>, Option<i32>) {
    // From `/`: a relative path means the same to both.
    let out = Command::new(program)
        .args(["-c", "-f", cfg])
        .current_dir("/")
        .output()
        .unwrap();
    report(&out)
}

/// Checks each case's configuration with hapee-lb, and with HAProxy 2.7.0 when it is there:
/// hapee's first alert must hold the case's text (`{dir}` the files' folder, `{cfg}` the
/// configuration; empty: the configuration is valid) and both outputs must be the same.
fn same_verdicts(pki: &Pki, cases: &[(String, String)]) {
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    let theirs = haproxy_27();
    let dir = pki.path("");
    let dir = dir.trim_end_matches('/');
    for (i, (cfg_text, wanted)) in cases.iter().enumerate() {
        let cfg = pki.write(&format!("case{i}.cfg"), &cfg_text.replace("{dir}", dir));
        let wanted = wanted.replace("{dir}", dir).replace("{cfg}", &cfg);
        let (lines, code) = check(&ours, &cfg);
        if wanted.is_empty() {
            assert_eq!(code, Some(0), "{cfg_text}\n{lines:#?}");
        } else {
            assert_eq!(code, Some(1), "{cfg_text}\n{lines:#?}");
            assert!(
                lines.first().is_some_and(|l| l.contains(&wanted)),
                "{cfg_text}\nwanted: {wanted}\n{lines:#?}"
            );
        }
        if let Some(theirs) = &theirs {
            assert_eq!(check(theirs, &cfg), (lines, code), "{cfg_text}");
        }
    }
}

/// A configuration whose TLS listener has `bind_options`, after the `global` lines.
fn config(global: &str, bind_options: &str) -> String {
    format!(
        "global\n{global}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:18443 ssl {bind_options}\n    default_backend b\n\
         backend b\n    server s 127.0.0.1:18080\n"
    )
}

#[test]
fn crt_list_lines_are_checked_as_haproxy_27_checks_them() {
    let pki = files("check-crtlist");
    let context =
        "parsing [{cfg}:9] : 'bind 127.0.0.1:18443' in section 'frontend' : 'crt-list' : ";
    let cases: Vec<(&str, String)> = vec![
        (
            "# the default one\n\n{dir}/site.pem [alpn h2 npn h2 ssl-min-ver TLSv1.2 verify optional ca-file {dir}/ca.pem] a.example !b.example *.c.example\n{dir}/site.pem [alpn h2\n{dir}/site.pem skipped [no-ca-names] # names\n",
            String::new(),
        ),
        (
            "{dir}/missing.pem\n",
            format!("{context}unable to stat SSL certificate from file '{{dir}}/missing.pem' : No such file or directory."),
        ),
        ("{dir}/site.pem [foo bar]\n", format!("{context}parsing [{{dir}}/list.txt:1]: unknown ssl keyword foo")),
        ("{dir}/site.pem [alpn]\n", format!("{context}parsing [{{dir}}/list.txt:1]: ssl args out of '[]' for alpn")),
        ("[alpn h2] {dir}/site.pem\n", format!("{context}parsing [{{dir}}/list.txt:1]: file must start with a cert")),
        ("{dir}/site.pem alpn h2]\n", format!("{context}parsing [{{dir}}/list.txt:1]: missing '['")),
        ("{dir}/site.pem [alpn h2]]\n", format!("{context}parsing [{{dir}}/list.txt:1]: too many ']'")),
        ("{dir}/site.pem [[alpn h2]\n", format!("{context}parsing [{{dir}}/list.txt:1]: too many '['")),
        (
            "{dir}/site.pem a.example\n{dir}/site.pem",
            format!("{context}parsing [{{dir}}/list.txt:2]: Missing LF on last line, file might have been truncated at position"),
        ),
        (
            "{dir}/site.pem a.example\n{dir}/site.pem [verify none foo]\n",
            format!("{context}parsing [{{dir}}/list.txt:2]: unknown ssl keyword foo"),
        ),
        ("{dir}/site.pem [ssl-min-ver TLSv9]\n", format!("{context}'TLSv9' : unknown ssl/tls version")),
        (
            "{dir}/site.pem [verify maybe]\n",
            format!("{context}'verify' : unknown verify method 'maybe', only 'none', 'optional', and 'required' are supported"),
        ),
        (
            "{dir}/site.pem [ca-file {dir}/nope.pem]\n",
            "Couldn't open the ca-file '{dir}/nope.pem' (No such file or directory).".into(),
        ),
        (
            "{dir}/site.pem [crl-file {dir}/key.pem]\n",
            "Couldn't open the ca-file '{dir}/key.pem' (no certificate or crl found).".into(),
        ),
        (
            "{dir}/site.pem [ciphers BOGUS]\n",
            "Proxy 'f': unable to set SSL cipher list to 'BOGUS' for bind '127.0.0.1:18443' at [{cfg}:9].".into(),
        ),
        (
            "{dir}/site.pem [curves X25519:BOGUS]\n",
            "Proxy 'f': unable to set SSL curves list to 'X25519:BOGUS' for bind '127.0.0.1:18443' at [{cfg}:9].".into(),
        ),
        (
            "{dir}/site.pem [ecdhe BOGUS]\n",
            "Proxy 'f': unable to set elliptic named curve to 'BOGUS' for bind '127.0.0.1:18443' at [{cfg}:9].".into(),
        ),
    ];
    let mut configs = Vec::new();
    for (i, (list, wanted)) in cases.into_iter().enumerate() {
        let dir = pki.path("");
        let name = format!("list{i}.txt");
        pki.write(&name, &list.replace("{dir}", dir.trim_end_matches('/')));
        let wanted = wanted.replace("list.txt", &name);
        configs.push((config("", &format!("crt-list {{dir}}/{name}")), wanted));
    }
    same_verdicts(&pki, &configs);
}

#[test]
fn a_crt_list_is_opened_where_it_is_written_not_under_crt_base() {
    let pki = files("check-crtlist-base");
    pki.write("list.txt", &format!("{}\n", pki.path("site.pem")));
    same_verdicts(
        &pki,
        &[(
            config("    crt-base {dir}", "crt-list list.txt"),
            "'crt-list' : cannot open file 'list.txt' : No such file or directory".into(),
        )],
    );
}

#[test]
fn tls_files_and_values_of_bind_lines_are_checked_as_haproxy_27_checks_them() {
    let pki = files("check-bind-tls");
    let context = "parsing [{cfg}:9] : 'bind 127.0.0.1:18443' in section 'frontend' : ";
    let site = "crt {dir}/site.pem";
    let cases: Vec<(String, String, String)> = vec![
        (String::new(), "crt {dir}/good ca-file {dir}/ca.pem crl-file {dir}/ca.pem curves P-256 ecdhe BOGUS".to_string(), String::new()),
        (String::new(), format!("{site} ca-file {{dir}}/nope.pem"), "Couldn't open the ca-file '{dir}/nope.pem' (No such file or directory).".into()),
        (String::new(), format!("{site} ca-file {{dir}}/key.pem"), "Couldn't open the ca-file '{dir}/key.pem' (no certificate or crl found).".into()),
        (String::new(), "crt {dir}/nothing".into(), format!("{context}unable to stat SSL certificate from file '{{dir}}/nothing' : No such file or directory.")),
        (String::new(), "crt {dir}/keyless".into(), format!("{context}No Private Key found in '{{dir}}/keyless/a.pem.key'.")),
        (String::new(), "crt {dir}/junk".into(), format!("{context}unable to load certificate from file '{{dir}}/junk/notes.txt': no start line.")),
        (String::new(), "crt {dir}/key.pem".into(), format!("{context}unable to load certificate from file '{{dir}}/key.pem': no start line.")),
        (String::new(), format!("{site} ssl-min-ver TLSv9"), format!("{context}'TLSv9' : unknown ssl/tls version")),
        (String::new(), format!("{site} ssl-max-ver tlsv1.2"), format!("{context}'tlsv1.2' : unknown ssl/tls version")),
        (String::new(), format!("{site} curves x25519:P-256:secp384r1:ffdhe2048"), String::new()),
        (String::new(), format!("{site} curves X25519:p-256"), "Proxy 'f': unable to set SSL curves list to 'X25519:p-256' for bind '127.0.0.1:18443' at [{cfg}:9].".into()),
        (String::new(), format!("{site} ecdhe secp112r1"), "Proxy 'f': unable to set elliptic named curve to 'secp112r1' for bind '127.0.0.1:18443' at [{cfg}:9].".into()),
        ("    ssl-default-bind-curves nope".into(), site.into(), "Proxy 'f': unable to set SSL curves list to 'nope' for bind '127.0.0.1:18443' at [{cfg}:9].".into()),
    ];
    let cases: Vec<(String, String)> = cases
        .into_iter()
        .map(|(global, bind, wanted)| (config(&global, &bind), wanted))
        .collect();
    same_verdicts(&pki, &cases);
}

#[test]
fn a_crt_list_error_points_into_the_crt_list_file() {
    let pki = files("check-crtlist-place");
    let list = pki.write(
        "list.txt",
        &format!(
            "{0} a.example\n{0} [alpn h2 verify maybe] b.example\n",
            pki.path("site.pem")
        ),
    );
    let cfg = pki.write("place.cfg", &config("", &format!("crt-list {list}")));
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["check", "--format", "json", &cfg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let d = &v[0];
    assert_eq!(d["code"], "E412", "{v:#}");
    assert_eq!(
        (d["file"].as_str(), d["start"]["line"].as_u64()),
        (Some(cfg.as_str()), Some(9))
    );
    let place = &d["related"][0];
    assert_eq!(place["file"].as_str(), Some(list.as_str()), "{v:#}");
    let column = pki.path("site.pem").len() + "[alpn h2 verify ".len() + 2;
    assert_eq!(
        (
            place["start"]["line"].as_u64(),
            place["start"]["column"].as_u64()
        ),
        (Some(2), Some(column as u64)),
        "{v:#}"
    );
}

/// A server line's CA or CRL file: HAProxy's store alert takes the line's place and the
/// server's name (a `default-server` line has none), and the option's error after it is printed
/// without them. An option that failed before it on a line hides it, as HAProxy leaves the line
/// there.
#[test]
fn ca_files_of_server_lines_are_reported_as_haproxy_27_reports_them() {
    let pki = files("check-server-ca");
    let server = |line: &str| {
        format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:18443\n    default_backend b\n\
             backend b\n    {line}\n    server s2 127.0.0.1:18081 ssl ca-file {{dir}}/nope.pem\n"
        )
    };
    let cases = vec![
        (
            server("server s 127.0.0.1:18080 ssl crl-file {dir}/key.pem"),
            "[{cfg}:10] : 'server b/s' : Couldn't open the ca-file '{dir}/key.pem' (no certificate or crl found).".to_string(),
        ),
        (
            server("default-server ca-file {dir}/nope.pem"),
            "[{cfg}:10] : Couldn't open the ca-file '{dir}/nope.pem' (No such file or directory).".to_string(),
        ),
        (
            server("server s 127.0.0.1:99999 ssl ca-file {dir}/nope.pem"),
            "[{cfg}:10] : 'server b/s' : invalid port '99999'".to_string(),
        ),
        (
            config("", "crt {dir}/nothing ca-file {dir}/nope.pem"),
            "unable to stat SSL certificate from file '{dir}/nothing'".to_string(),
        ),
    ];
    same_verdicts(&pki, &cases);
    // The option's error follows the store's alert, without place (haproxy_27 compares the
    // rest when it is there).
    let cfg = pki.write(
        "order.cfg",
        &cases[0]
            .0
            .replace("{dir}", pki.path("").trim_end_matches('/')),
    );
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    let (lines, _) = check(&ours, &cfg);
    assert_eq!(
        lines.get(1).map(String::as_str),
        Some(
            format!(
                "[ALERT] : config : 'crl-file' : unable to load {}key.pem.",
                pki.path("")
            )
            .as_str()
        ),
        "{lines:#?}"
    );
}
