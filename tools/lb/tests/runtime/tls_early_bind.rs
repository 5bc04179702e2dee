//! TLS 1.3 early data from clients (`bind … ssl allow-0rtt`) and the TLS 1.2 master secret
//! (`ssl_fc_session_key`, `ssl_bc_session_key`), with `openssl s_client` and `s_server`, side by
//! side with Debian's haproxy: the same early data answer, the same request at the origin and
//! the same log fields; the same master secret as the client's key log file.

use crate::harness::*;
use crate::tls::{have, server_pki, Ca, Pki};
use std::process::{Command, Stdio};

/// `openssl s_client` with `args`, `input` on its standard input: all it printed.
fn s_client(port: u16, args: &[&str], input: &[u8]) -> String {
    let mut command = Command::new("openssl");
    command
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-ign_eof",
        ])
        .args(args);
    let out = output_with_input(&mut command, input);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A frontend logging what a request knows of early data: `ssl_fc_has_early` at logging and
/// in the rules, the `Early-Data` header in the rules; a non-GET request waits for the
/// handshake.
fn early_config(port: u16, origin: std::net::SocketAddr, crt: &str) -> String {
    format!(
        "{LOGGED_DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt} allow-0rtt
    bind 127.0.0.1:{} ssl crt {crt}
    log-format \"%ft %ST %r has_early=%[ssl_fc_has_early] in_rules=%[var(txn.early)] hdr=%[var(txn.hdr)] %sslv\"
    http-request wait-for-handshake if !METH_GET
    http-request set-var(txn.early) ssl_fc_has_early
    http-request set-var(txn.hdr) req.hdr(early-data)
    default_backend be
backend be
    server s1 {origin}
",
        port + 1
    )
}

/// A first session saved, then resumed with a request in early data: per bind (with and
/// without `allow-0rtt`), what s_client says of its early data, and what the origin saw.
fn early_exchange(port: u16, pki: &Pki) -> Vec<String> {
    const REQUEST: &[u8] = b"GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let request = pki.write("early-request", std::str::from_utf8(REQUEST).unwrap());
    let mut facts = Vec::new();
    for p in [port, port + 1] {
        let sess = pki.path(&format!("sess-{p}"));
        // The first session is saved; its request goes after the handshake.
        let text = s_client(
            p,
            &["-tls1_3", "-sess_out", &sess],
            b"GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(text.contains("path=/first"), "{text}");
        // Without `allow-0rtt` the session forbids early data: the client sends its request
        // once the handshake is over.
        let after = if p == port { &b""[..] } else { REQUEST };
        let text = s_client(
            p,
            &["-tls1_3", "-sess_in", &sess, "-early_data", &request],
            after,
        );
        let early = text
            .lines()
            .find(|l| l.starts_with("Early data was"))
            .unwrap_or("no early data line")
            .to_string();
        let max = text
            .lines()
            .find(|l| l.contains("Max Early Data"))
            .map(str::trim)
            .unwrap_or("no max")
            .to_string();
        facts.push(format!(
            "bind {}: {early}; {max}; reused={}; served={}; early-data header at origin={}",
            p - port,
            text.contains("Reused, TLSv1.3"),
            text.contains("path=/early"),
            text.contains("hdr:early-data")
        ));
    }
    facts
}

/// The log lines of the requests, without their frontend's name decoration differences.
fn request_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" GET "))
        .map(String::from)
        .collect()
}

#[test]
fn early_data_on_a_bind_with_allow_0rtt_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("early-bind");
    server_pki(&pki, &Ca::new("Early CA"));
    let crt = pki.path("default.pem");
    let origin = Origin::start("app");
    let ((ours, log), theirs) = both_reading(
        2,
        |p| early_config(p, origin.addr, &crt),
        |p, side| {
            let answers = early_exchange(p, &pki);
            (answers, side.stdout_when(|l| request_lines(l).len() >= 4))
        },
    );
    // With allow-0rtt the resumed session's early data is taken and its request served;
    // without, the session allows none and the request goes after the handshake. As much early data as HAProxy allows (a buffer
    // less its rewrite room).
    assert_eq!(
        ours,
        [
            "bind 0: Early data was accepted; Max Early Data: 15360; reused=true; served=true; early-data header at origin=false",
            "bind 1: Early data was not sent; Max Early Data: 0; reused=true; served=true; early-data header at origin=false",
        ],
        "{log}"
    );
    let lines = request_lines(&log);
    // The request read from early data is served once the handshake is over: no Early-Data
    // header, ssl_fc_has_early false, as Debian's haproxy does with the same client.
    assert!(
        lines.contains(&"fe~ 200 GET /early HTTP/1.1 has_early=0 in_rules=0 hdr=- TLSv1.3".into()),
        "{lines:?}"
    );
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
    assert_eq!(lines, request_lines(&their_log));
}

/// A frontend answering the client connection's master secret.
fn key_config(port: u16, crt: &str) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt}
    http-request return status 200 content-type text/plain lf-string \"key=%[ssl_fc_session_key,hex] v=%sslv\\n\"
"
    )
}

/// One `GET /` by s_client in `version` with a key log file: (what the proxy answered, the
/// key log's lines without its comments, as `(label, client random, secret)` in uppercase).
fn s_client_with_key_log(
    port: u16,
    pki: &Pki,
    version: &str,
) -> (String, Vec<(String, String, String)>) {
    let keylog = pki.path(&format!("keylog-{port}{version}"));
    let _ = std::fs::remove_file(&keylog);
    let request = pki.write("key-request", "GET / HTTP/1.0\r\n\r\n");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{port} {version} -keylogfile {keylog} -ign_eof -quiet < {request}"
        ))
        .output()
        .unwrap();
    let logged = std::fs::read_to_string(&keylog)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split(' ');
            Some((
                words.next()?.to_string(),
                words.next()?.to_uppercase(),
                words.next()?.to_uppercase(),
            ))
        })
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), logged)
}

/// s_client in `version` with a key log file: (the key the proxy answered, the secret of the
/// key log's `CLIENT_RANDOM` line, uppercase).
fn key_exchange(port: u16, pki: &Pki, version: &str) -> (String, String) {
    let (text, logged) = s_client_with_key_log(port, pki, version);
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("key="))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("no answer: {text}"))
        .to_string();
    let secret = logged
        .into_iter()
        .find(|(label, _, _)| label == "CLIENT_RANDOM")
        .map(|(_, _, secret)| secret)
        .unwrap_or_default();
    (key, secret)
}

#[test]
fn tls12_session_key_is_the_master_secret_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("session-key");
    server_pki(&pki, &Ca::new("Key CA"));
    let crt = pki.path("default.pem");
    let (((key, logged), (key13, _)), theirs) = both(
        |p| key_config(p, &crt),
        |p| {
            (
                key_exchange(p, &pki, "-tls1_2"),
                key_exchange(p, &pki, "-tls1_3"),
            )
        },
    );
    assert_eq!(key.len(), 96, "{key}");
    assert_eq!(key, logged);
    // TLS 1.3: OpenSSL's answer is the resumption key of the last ticket sent, which rustls
    // keeps to itself: no sample.
    assert_eq!(key13, "");
    let Some(((their_key, their_logged), (their_key13, _))) = theirs else {
        return;
    };
    assert_eq!(their_key, their_logged);
    assert_eq!(their_key.len(), key.len());
    // 48 bytes (TLS_AES_256_GCM_SHA384's hash size).
    assert_eq!(their_key13.len(), 96, "{their_key13}");
}

#[test]
fn tls12_server_session_key_is_the_master_secret() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("bc-session-key");
    server_pki(&pki, &Ca::new("Server Key CA"));
    let crt = pki.path("default.pem");
    let keylog = pki.path("server-keylog");
    let origin_port = free_port();
    // A TLS 1.2 origin that logs its sessions' master secrets.
    let mut origin = Command::new("openssl")
        .args(["s_server", "-tls1_2", "-www", "-accept"])
        .arg(origin_port.to_string())
        .args(["-cert", &crt, "-keylogfile", &keylog, "-quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    assert!(wait_until(std::time::Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", origin_port)).is_ok()
    }));
    let port = free_port();
    let proxy = Proxy::start(
        &format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    http-response set-header x-bc-key %[ssl_bc_session_key,hex]
    http-response set-header x-bc-randoms %[ssl_bc_client_random,hex]/%[ssl_bc_server_random,hex]
    default_backend be
backend be
    server s1 127.0.0.1:{origin_port} ssl verify none
"
        ),
        port,
    );
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("curl runs");
    drop(proxy);
    let _ = origin.kill();
    let _ = origin.wait();
    let headers = String::from_utf8_lossy(&out.stdout).into_owned();
    let key = headers
        .lines()
        .find_map(|l| l.strip_prefix("x-bc-key: "))
        .unwrap_or_else(|| panic!("no key header: {headers}"))
        .trim()
        .to_string();
    let lines: Vec<(String, String)> = std::fs::read_to_string(&keylog)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("CLIENT_RANDOM "))
        .filter_map(|l| l.split_once(' '))
        .map(|(random, secret)| (random.to_uppercase(), secret.to_uppercase()))
        .collect();
    assert_eq!(key.len(), 96, "{headers}");
    assert!(
        lines.iter().any(|(_, secret)| *secret == key),
        "{key} not in {lines:?}"
    );
    // The hellos' randoms of the same connection: the client's is the key log's.
    let randoms = headers
        .lines()
        .find_map(|l| l.strip_prefix("x-bc-randoms: "))
        .unwrap_or_else(|| panic!("no randoms header: {headers}"))
        .trim()
        .to_string();
    let (client, server) = randoms.split_once('/').unwrap_or_default();
    assert!(
        lines
            .iter()
            .any(|(random, secret)| random == client && *secret == key),
        "{randoms} {lines:?}"
    );
    assert_eq!(server.len(), 64, "{randoms}");
}

/// `ssl_fc_client_random` is the ClientHello's random (the client's key log names it on every
/// line) and `ssl_fc_server_random` the ServerHello's, in TLS 1.2 and 1.3, as in HAProxy.
#[test]
fn hello_randoms_are_the_handshakes_as_haproxy() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("randoms");
    server_pki(&pki, &Ca::new("Random CA"));
    let crt = pki.path("default.pem");
    let config = |port: u16| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port} ssl crt {crt}
    http-request return status 200 content-type text/plain lf-string \"cr=%[ssl_fc_client_random,hex] sr=%[ssl_fc_server_random,hex]\\n\"
"
        )
    };
    // (client random answered, server random answered, the key log's client random)
    let exchange = |port: u16, version: &str| -> (String, String, String) {
        let (text, logged) = s_client_with_key_log(port, &pki, version);
        let line = text
            .lines()
            .find(|l| l.starts_with("cr="))
            .unwrap_or_else(|| panic!("no answer: {text}"));
        let field = |name: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(name))
                .unwrap_or("")
                .to_string()
        };
        let client_random = logged
            .into_iter()
            .next()
            .map(|(_, random, _)| random)
            .unwrap_or_default();
        (field("cr="), field("sr="), client_random)
    };
    let check = |(client, server, logged): &(String, String, String)| {
        assert_eq!(client.len(), 64, "{client}");
        assert_eq!(client, logged);
        assert_eq!(server.len(), 64, "{server}");
        assert_ne!(server, client);
    };
    let (mine, theirs) = both(config, |p| [exchange(p, "-tls1_2"), exchange(p, "-tls1_3")]);
    mine.iter().for_each(check);
    let Some(theirs) = theirs else {
        return;
    };
    theirs.iter().for_each(check);
}
