//! TLS terminated in TCP mode (`mode tcp` with `bind … ssl`), and the lines HAProxy writes for
//! connections that fail their handshake, with and without `error-log-format`, compared with
//! Debian's haproxy on the same configuration.

use crate::harness::{both_reading, Scratch, DEFAULTS};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// A self-signed certificate and its key in one PEM, made with rcgen.
fn certificate(dir: &std::path::Path) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["a.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let path = dir.join("site.pem");
    std::fs::write(&path, cert.pem() + &key.serialize_pem()).unwrap();
    path.display().to_string()
}

/// A server echoing one read back with a prefix, then closing.
fn echo_server() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 256];
            let n = c.read(&mut buf).unwrap_or(0);
            let _ = c.write_all(&[b"echo:", &buf[..n]].concat());
        }
    });
    addr
}

/// `openssl s_client` sending `input`; what came back after the handshake.
fn s_client(port: u16, input: &str) -> String {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    // s_client ends the session on EOF, so stdin stays open until the server side closes
    // (the echo server closes after its answer), or at worst for 20 s.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        drop(stdin);
    });
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.wait();
    out
}

/// Sends `bytes` on a plain connection and closes it.
fn send_and_close(port: u16, bytes: &[u8]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.read_to_end(&mut sink);
}

/// The lines of failed handshakes, without the client address and date (which differ from
/// run to run), and without the start probe's (the harness's connection, closed at once, on
/// the first listener): only what `drive` did is compared.
fn without_client_and_date(log: &str) -> Vec<String> {
    let re = regex::Regex::new(r"^127\.0\.0\.1:\d+ \[[^\]]+\] ").unwrap();
    log.lines()
        .filter(|l| l.contains("SSL handshake"))
        .map(|l| re.replace(l, "").into_owned())
        .filter(|l| l != "tcpfe/1: Connection closed during SSL handshake")
        .collect()
}

#[test]
fn tls_in_tcp_mode_and_handshake_failures_are_logged_as_haproxy_does() {
    if !crate::harness::have_tool("openssl", "version") {
        return;
    }
    let dir = Scratch::dir(&format!("hapee-tls-tcp-{}", std::process::id()));
    let pem = certificate(&dir);
    let echo = echo_server();
    let cfg = |port: u16| {
        let (second, third, fourth) = (port + 1, port + 2, port + 3);
        format!(
            "{DEFAULTS}frontend tcpfe
    mode tcp
    log stdout format raw local0
    option tcplog
    bind 127.0.0.1:{port} ssl crt {pem}
    bind 127.0.0.1:{second} ssl crt {pem} name named
    tcp-request content reject if !{{ ssl_fc }}
    default_backend echo
frontend errfmt
    log stdout format raw local0
    option log-separate-errors
    error-log-format \"ERROR %ft %[fc_err]:%[fc_err_str] %[ssl_fc_err,and(4095)]:%[ssl_fc_err_str]\"
    bind 127.0.0.1:{third} ssl crt {pem}
    http-request return status 200
backend echo
    mode tcp
    server s {echo}
frontend clear
    mode tcp
    bind 127.0.0.1:{fourth}
    default_backend over_tls
backend over_tls
    mode tcp
    server own_tls_port 127.0.0.1:{port} ssl verify none
"
        )
    };
    let drive = |port: u16| -> (String, String) {
        let answer = s_client(port, "hello\n");
        // In clear to the fourth port, over TLS from there (`server … ssl`) to the first.
        let mut clear = TcpStream::connect(("127.0.0.1", port + 3)).unwrap();
        clear.write_all(b"in clear\n").unwrap();
        let _ = clear.set_read_timeout(Some(Duration::from_secs(5)));
        let mut relayed = String::new();
        let _ = clear.read_to_string(&mut relayed);
        // Plain HTTP on a TLS port, and a connection closed before any byte.
        send_and_close(port + 1, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        send_and_close(port + 1, b"");
        send_and_close(port + 2, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        (answer, relayed)
    };
    // Four consecutive ports for the four listeners, all reserved: another test given one of
    // them would share it with this proxy (SO_REUSEPORT) and send it its own connections.
    let ((ours, our_lines), theirs) = both_reading(4, cfg, |port, side| {
        let answers = drive(port);
        // The two failures on the named listener and the one on errfmt.
        (answers, side.selected(without_client_and_date, 3))
    });
    assert_eq!(ours, ("echo:hello\n".into(), "echo:in clear\n".into()));
    assert!(
        our_lines.contains(&"tcpfe/named: SSL handshake failure".to_string()),
        "{our_lines:?}"
    );
    assert!(
        our_lines.contains(
            &"ERROR errfmt~ 34:SSL handshake failure 156:error:0A00009C:SSL routines::http request"
                .to_string()
        ),
        "{our_lines:?}"
    );
    let Some((theirs, mut real)) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
    let mut mine = our_lines;
    mine.sort();
    real.sort();
    assert_eq!(mine, real);
}

/// A TLS client connection to `port` trusting `pem`'s certificate (made for `a.example`), its
/// handshake done.
fn tls_connect(port: u16, pem: &str) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("a.example").unwrap();
    let mut conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    rustls::StreamOwned::new(conn, sock)
}

#[test]
fn a_tls_stream_without_a_server_closes_after_the_handshake_without_reading_on() {
    let dir = Scratch::dir(&format!("hapee-tls-noserver-{}", std::process::id()));
    let pem = certificate(&dir);
    let cfg = |port: u16| {
        format!(
            "{}frontend fe
    mode tcp
    bind 127.0.0.1:{port} ssl crt {pem}
",
            DEFAULTS
        )
    };
    let drive = |port: u16| {
        let mut tls = tls_connect(port, &pem);
        // The stream ends at once: the proxy's close_notify, then its close.
        let mut out = Vec::new();
        let end = tls
            .read_to_end(&mut out)
            .map_or_else(|e| format!("{:?}", e.kind()), |n| format!("closed {n}"));
        // What the client sends now meets a closed socket, which answers with a reset; a
        // proxy still reading to drain the connection would take it quietly.
        let _ = tls.sock.write_all(&[b'x'; 200]);
        std::thread::sleep(Duration::from_millis(300));
        let again = tls.sock.write_all(&[b'x'; 200]).map_err(|e| e.kind());
        (end, again)
    };
    let (ours, theirs) = crate::harness::both(cfg, drive);
    assert_eq!(ours.0, "closed 0");
    assert!(ours.1.is_err(), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}
