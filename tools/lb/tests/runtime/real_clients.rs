//! Real clients against `hapee-lb run` and HAProxy 2.7.0 on the same configuration, for the
//! cases where hapee answered them differently: the order of the header lines an HTTP/2
//! client's request reaches an HTTP/1 server with (curl), and a TLS client offering none of
//! the listener's ALPN protocols (`openssl s_client -alpn`), and the response headers of a
//! compressed answer (`curl --compressed`).

use crate::harness::*;
use crate::tls::{have, Ca, Pki};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server that keeps the head of every request it gets, as sent, and answers each with
/// `reply` (by default `200` and a short body), closing the connection after it.
struct HeadRecorder {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HeadRecorder {
    fn start() -> HeadRecorder {
        HeadRecorder::answering(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
        )
    }

    fn answering(reply: &'static [u8]) -> HeadRecorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = heads.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(&conn);
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    kept.lock().unwrap().push(head);
                    let _ = (&conn).write_all(reply);
                });
            }
        });
        HeadRecorder { addr, heads }
    }

    /// The `n`-th head once it has come (waited for, at most 10 s).
    fn head(&self, n: usize) -> String {
        let came = wait_until(Duration::from_secs(10), || {
            self.heads.lock().unwrap().len() > n
        });
        assert!(
            came,
            "the server got {} heads",
            self.heads.lock().unwrap().len()
        );
        self.heads.lock().unwrap()[n].clone()
    }
}

/// The field names of a request head, in order, without the request line.
fn field_names(head: &str) -> Vec<String> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect()
}

fn to_server(port: u16, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request set-header X-Added yes\n    default_backend app\nbackend app\n    server s1 {server}\n"
    )
}

/// What the server is sent for `curl --http2-prior-knowledge` with the headers `extra`.
fn h2_request_head(port: u16, server: &HeadRecorder, n: usize, extra: &[&str]) -> String {
    let mut args = vec!["--http2-prior-knowledge"];
    for h in extra {
        args.extend(["-H", h]);
    }
    let url = format!("http://127.0.0.1:{port}/h2?x=1");
    args.push(&url);
    let (code, body) = curl(&args);
    assert_eq!((code, body.as_str()), (200, "ok\n"), "{body}");
    server.head(n)
}

#[test]
fn an_http2_request_reaches_an_http1_server_with_host_first() {
    let server = HeadRecorder::start();
    let port = free_port();
    let _p = Proxy::start(&to_server(port, server.addr), port);
    let head = h2_request_head(port, &server, 0, &["X-Client: 1"]);
    assert!(head.starts_with("GET /h2?x=1 HTTP/1.1\r\n"), "{head}");
    let names = field_names(&head);
    assert_eq!(
        names,
        ["host", "user-agent", "accept", "x-client", "x-added"],
        "{head}"
    );
    assert!(
        head.contains(&format!("host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    // HAProxy 2.7 writes the authority's Host in the same place.
    let theirs = HeadRecorder::start();
    if let Some((head, _)) = with_haproxy_27(
        |port| to_server(port, theirs.addr),
        |port| h2_request_head(port, &theirs, 0, &["X-Client: 1"]),
    ) {
        assert_eq!(field_names(&head), names, "{head}");
    }
}

/// A listener with `alpn h2,http/1.1` and a certificate for a.example.
fn alpn_config(port: u16, pem: &str, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port} ssl crt {pem} alpn h2,http/1.1\n    http-request return status 200 content-type text/plain lf-string \"alpn=[%[ssl_fc_alpn]]\\n\"\n    default_backend app\nbackend app\n    server s1 {server}\n"
    )
}

/// `openssl s_client` offering `alpn`, sending one HTTP/1.1 request once the handshake is
/// done: what it printed (the session, then the response).
fn s_client(port: u16, alpn: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "a.example", "-alpn", alpn, "-ign_eof"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"GET /a HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    drop(stdin);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let _ = child.wait();
    out + &err
}

#[test]
fn a_tls_client_offering_none_of_the_listeners_alpn_protocols_is_served_without_alpn() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::new("alpn-none");
    let (cert, key) = Ca::new("Hapee Test CA").issue(&["a.example"], false, false);
    let pem = pki.write("site.pem", &(cert + &key));
    let unused = Origin::start("o");
    let check = |out: &str, side: &str| {
        assert!(out.contains("No ALPN negotiated"), "{side}: {out}");
        assert!(
            !out.contains("alert no application protocol"),
            "{side}: {out}"
        );
        assert!(out.contains("HTTP/1.1 200"), "{side}: {out}");
        assert!(out.contains("alpn=[]"), "{side}: {out}");
    };
    let port = free_port();
    let p = Proxy::start(&alpn_config(port, &pem, unused.addr), port);
    check(&s_client(port, "spdy/3,foo"), "hapee");
    // A client offering one of them still gets it.
    let out = s_client(port, "foo,http/1.1");
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    assert!(out.contains("alpn=[http/1.1]"), "{out}");
    drop(p);
    if let Some((out, _)) = with_haproxy_27(
        |port| alpn_config(port, &pem, unused.addr),
        |port| s_client(port, "spdy/3,foo"),
    ) {
        check(&out, "haproxy 2.7");
    }
}

/// An answer with its length before other fields, as many servers write it.
const LENGTH_FIRST: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\nContent-Type: text/plain\r\nX-After: 1\r\nConnection: close\r\n\r\n";

/// The response head lines `curl --compressed` gets through a compressing frontend, from a
/// server answering [`LENGTH_FIRST`] and 2000 bytes.
fn compressed_head(port: u16) -> Vec<String> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-S",
            "--max-time",
            "20",
            "--compressed",
            "-D",
            "-",
            "-o",
            "/dev/null",
        ])
        .arg(format!("http://127.0.0.1:{port}/c"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| name != "date")
        .collect()
}

fn compressing(port: u16, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    compression algo gzip\n    compression type text/plain\n    default_backend app\nbackend app\n    server s1 {server}\n"
    )
}

fn body_server() -> HeadRecorder {
    let reply: Vec<u8> = [LENGTH_FIRST, &[b'x'; 2000][..]].concat();
    HeadRecorder::answering(Box::leak(reply.into_boxed_slice()))
}

#[test]
fn a_compressed_answer_keeps_its_fields_in_place_and_says_chunked_before_vary() {
    let server = body_server();
    let port = free_port();
    let p = Proxy::start(&compressing(port, server.addr), port);
    let names = compressed_head(port);
    assert_eq!(
        names,
        [
            "content-type",
            "x-after",
            "transfer-encoding",
            "vary",
            "content-encoding"
        ],
        "{}",
        p.stderr()
    );
    drop(p);
    let theirs = body_server();
    if let Some((head, _)) = with_haproxy_27(|port| compressing(port, theirs.addr), compressed_head)
    {
        assert_eq!(head, names);
    }
}

/// `curl -T` uploading 200 kB at 20 kB/s, given up after a second: the client goes while its
/// body is being forwarded.
fn give_up_upload(port: u16) {
    let file = Scratch::file(&format!("hapee-upload-{}-{port}", std::process::id()));
    std::fs::write(&file, vec![b'u'; 200_000]).unwrap();
    let out = Command::new("curl")
        .args(["-s", "--limit-rate", "20k", "--max-time", "1", "-T"])
        .arg(&*file)
        .arg(format!("http://127.0.0.1:{port}/upload"))
        .output()
        .expect("curl runs");
    // curl's code 28: the transfer timed out, nothing was answered.
    assert_eq!(out.status.code(), Some(28), "{out:?}");
}

fn upload_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("/upload"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_client_gone_during_its_upload_is_logged_without_a_status_as_cd() {
    let server = silent_server();
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog\n{}",
            fe_to_app(port, "", server)
        )
    };
    let (mine, debian) = both_reading(1, cfg, |port, side| {
        give_up_upload(port);
        side.selected(upload_lines, 1)
    });
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        mine[0].contains(" app/s1 ") && mine[0].contains(" -1 0 - - CD-- "),
        "{}",
        mine[0]
    );
    // HAProxy 2.6 and 2.7 log the same: no status, no byte sent back, `CD`.
    if let Some(theirs) = debian {
        assert!(
            theirs.iter().any(|l| l.contains(" -1 0 - - CD-- ")),
            "{theirs:?}"
        );
    }
    if let Some(((), log)) = with_haproxy_27(cfg, give_up_upload) {
        let theirs = upload_lines(&log);
        assert!(
            theirs.iter().any(|l| l.contains(" -1 0 - - CD-- ")),
            "{theirs:?}"
        );
    }
}
