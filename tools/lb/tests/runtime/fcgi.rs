//! FastCGI to a real PHP-FPM (Debian's `php-fpm`): an `fcgi-app` section in front of a
//! backend's `proto fcgi` server (by `use-fcgi-app` or `filter fcgi-app`), the same
//! configuration run by Debian's haproxy beside it,
//! and the PHP script's view of the request (script file name, path info, headers, body)
//! compared between the two.

use super::harness::{both, both_reading, curl, free_port, wait_until, Proxy, Scratch};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"<?php
if (isset($_GET["status"])) { http_response_code(418); }
header("X-Script: echo");
$body = file_get_contents("php://input");
foreach (["SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED", "REQUEST_URI",
          "QUERY_STRING", "REQUEST_METHOD", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME",
          "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "GATEWAY_INTERFACE", "DOCUMENT_ROOT",
          "HTTP_X_TEST", "HTTP_X_UNDER", "HTTP_AUTHORIZATION", "HTTP_X_PASSED", "MY_PARAM"] as $k) {
    echo $k, "=", $_SERVER[$k] ?? "(unset)", "\n";
}
echo "BODY_LENGTH=", strlen($body), "\n";
echo "BODY_START=", substr($body, 0, 20), "\n";
if (isset($_GET["err"])) { error_log("hello from php"); }
if (isset($_GET["big"])) { echo str_repeat("0123456789", intval($_GET["big"])), "\n"; }
"#;

/// A PHP-FPM master with a few workers on a loopback port, serving `dir`.
struct Fpm {
    child: Child,
    port: u16,
    dir: Scratch,
}

impl Fpm {
    /// Two workers; `None` (skipping the test) when php-fpm is not installed, except under
    /// `CI=true`.
    fn start() -> Option<Fpm> {
        Fpm::start_with(2)
    }

    /// `children` workers (each serves one connection at a time, for as long as it lasts).
    fn start_with(children: u32) -> Option<Fpm> {
        let binary = std::fs::read_dir("/usr/sbin")
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("php-fpm"))
            });
        let Some(binary) = binary else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "php-fpm is not installed, and CI=true requires it (see .ci/run)"
            );
            eprintln!("php-fpm is not installed: skipping this test");
            return None;
        };
        let port = free_port();
        let dir = Scratch::dir(&format!("hapee-fpm-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("echo.php"), SCRIPT).unwrap();
        std::fs::write(dir.join("sub/index.php"), SCRIPT).unwrap();
        // Workers run as nobody when the tests run as root: they must be able to read.
        for p in [dir.to_path_buf(), dir.join("sub")] {
            let _ = Command::new("chmod").arg("a+rx").arg(p).status();
        }
        let conf = dir.join("fpm.conf");
        std::fs::write(
            &conf,
            format!(
                "[global]\nerror_log = {d}/fpm.log\ndaemonize = no\npid = {d}/fpm.pid\n\
                 [www]\nlisten = 127.0.0.1:{port}\npm = static\npm.max_children = {children}\n\
                 user = nobody\ngroup = nogroup\ncatch_workers_output = yes\n",
                d = dir.display()
            ),
        )
        .unwrap();
        // A process group of its own, so that its workers are stopped with it.
        use std::os::unix::process::CommandExt;
        let child = Command::new(binary)
            .process_group(0)
            .args(["-F", "-n", "-R", "-y"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start php-fpm");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "php-fpm did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Fpm { child, port, dir })
    }
}

impl Drop for Fpm {
    /// The whole process group, master and workers (killing the master alone would leave its
    /// workers running).
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// How the backend usually declares its application.
const USE_FCGI_APP: &str = "    use-fcgi-app app";

/// A frontend and a backend whose `declaration` lines give it the application `app` (a cache
/// `c` is there for them to name).
fn config(port: u16, fpm: u16, docroot: &Path, declaration: &str) -> String {
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend php
backend php
{declaration}
    server s1 127.0.0.1:{fpm} proto fcgi
fcgi-app app
    docroot {docroot}
    index index.php
    path-info ^(/.+\\.php)(/.*)?$
    set-param MY_PARAM %[req.hdr(x-test)]-set if {{ req.hdr(x-test) -m found }}
    pass-header X-Passed
    log-stderr stdout format raw daemon
cache c
    total-max-size 1
",
        docroot = docroot.display()
    )
}

/// The requests both proxies answer: (status, body with the proxy's port masked).
fn drive(port: u16) -> Vec<(u16, String)> {
    let base = format!("http://127.0.0.1:{port}");
    // A 200 kB body, from a file (too long for a command line).
    let big_body = Scratch::file(&format!("hapee-fcgi-body-{}-{port}", std::process::id()));
    std::fs::write(&big_body, "x".repeat(200_000)).unwrap();
    let requests: Vec<Vec<String>> = vec![
        vec![
            "-H".into(),
            "X-Test: abc".into(),
            "-H".into(),
            "Authorization: Basic dTpw".into(),
            "-H".into(),
            "X-Passed: yes".into(),
            "-H".into(),
            "X_Under: sneaky".into(),
            "--data".into(),
            "posted body".into(),
            format!("{base}/echo.php/extra/p%61th?a=1&b=2"),
        ],
        vec![format!("{base}/sub/?status=1")],
        vec![format!("{base}/echo.php?err=1")],
        vec![
            "--data-binary".into(),
            format!("@{}", big_body.display()),
            format!("{base}/echo.php"),
        ],
        vec![format!("{base}/echo.php?big=30000")],
    ];
    requests
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (status, body) = curl(&args);
            (status, body.replace(&port.to_string(), "PORT"))
        })
        .collect()
}

#[test]
fn php_fpm_behind_an_fcgi_app_answers_as_behind_haproxy() {
    let Some(fpm) = Fpm::start() else { return };
    // What PHP writes on its error stream is logged by `log-stderr`.
    let php = "hello from php";
    let ((ours, stdout, stderr), theirs) = both_reading(
        1,
        |port| config(port, fpm.port, &fpm.dir, USE_FCGI_APP),
        |port, side| {
            let answers = drive(port);
            wait_until(Duration::from_secs(10), || {
                side.stdout().contains(php) || side.stderr().contains(php)
            });
            (answers, side.stdout(), side.stderr())
        },
    );
    let (status, body) = &ours[0];
    assert_eq!(*status, 200, "{body}\n{stderr}");
    for line in [
        format!("SCRIPT_FILENAME={}/echo.php", fpm.dir.display()),
        "SCRIPT_NAME=/echo.php".to_string(),
        "PATH_INFO=/extra/path".to_string(),
        format!("PATH_TRANSLATED={}/extra/path", fpm.dir.display()),
        "QUERY_STRING=a=1&b=2".to_string(),
        "REQUEST_METHOD=POST".to_string(),
        "HTTP_X_TEST=abc".to_string(),
        // Names with other characters than letters, digits and `-` are deleted by default
        // before a FastCGI application (`X_Under` would read as `X-Under`).
        "HTTP_X_UNDER=(unset)".to_string(),
        // Credentials are hidden from the application unless passed.
        "HTTP_AUTHORIZATION=(unset)".to_string(),
        "HTTP_X_PASSED=yes".to_string(),
        "MY_PARAM=abc-set".to_string(),
        "BODY_LENGTH=11".to_string(),
        "BODY_START=posted body".to_string(),
    ] {
        assert!(body.lines().any(|l| l == line), "{line} not in:\n{body}");
    }
    // `index` completes a path that ends in a slash; the script's status comes through.
    assert_eq!(ours[1].0, 418, "{}", ours[1].1);
    assert!(ours[1].1.contains(&format!(
        "SCRIPT_FILENAME={}/sub/index.php",
        fpm.dir.display()
    )));
    // A 200 kB request body and a 300 kB answer cross many FastCGI records.
    assert!(ours[3].1.contains("BODY_LENGTH=200000"), "{}", ours[3].1);
    assert!(ours[4].1.contains(&"0123456789".repeat(30_000)));
    assert!(stdout.contains(php), "stdout: {stdout}");
    // Debian's haproxy on the same configuration: the same answers.
    let Some((theirs, logged, their_stderr)) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
    assert!(
        logged.contains(php) || their_stderr.contains(php),
        "{logged}"
    );
}

#[test]
fn an_explicit_fcgi_app_filter_serves_as_use_fcgi_app_does() {
    let Some(fpm) = Fpm::start() else { return };
    let answers = |declaration: &str| {
        let port = free_port();
        let proxy = Proxy::start(&config(port, fpm.port, &fpm.dir, declaration), port);
        let answers = drive(port);
        (answers, proxy.stderr())
    };
    let (usual, errors) = answers(USE_FCGI_APP);
    assert_eq!(usual[0].0, 200, "{}\n{errors}", usual[0].1);
    assert!(usual[0].1.contains("MY_PARAM=abc-set"), "{}", usual[0].1);
    // Declared by a `filter` line: alone, and in its place between a cache and compression.
    let explicit = "    filter fcgi-app app";
    let chained = "    filter cache c\n    filter fcgi-app app\n    filter compression\n    \
                   compression algo gzip\n    compression type text/html";
    for declaration in [explicit, chained] {
        let (answered, errors) = answers(declaration);
        assert_eq!(answered, usual, "{declaration}\n{errors}");
    }
    // Debian's haproxy answers the same through both.
    for declaration in [explicit, chained] {
        let (ours, theirs) = both(|port| config(port, fpm.port, &fpm.dir, declaration), drive);
        assert_eq!(ours, usual, "{declaration}");
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{declaration}");
        }
    }
}

#[test]
fn fastcgi_answers_are_compressed_as_haproxy_compresses_them() {
    let Some(fpm) = Fpm::start() else { return };
    // PHP's answer has no length of its own: FastCGI's records delimit it.
    let declaration = "    filter fcgi-app app\n    filter compression\n    \
                       compression algo gzip\n    compression type text/html";
    let fetch = |port: u16| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-D",
                "-",
                "--compressed",
                "-H",
                "Accept-Encoding: gzip",
            ])
            .arg(format!("http://127.0.0.1:{port}/echo.php?big=500"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let encoding = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-encoding")
                .then(|| value.trim().to_string())
        });
        // curl decoded it: the script's output, whole.
        (encoding, body.contains(&"0123456789".repeat(500)))
    };
    let (ours, theirs) = both(|port| config(port, fpm.port, &fpm.dir, declaration), fetch);
    assert_eq!(ours, (Some("gzip".to_string()), true));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn response_headers_are_those_haproxy_gives() {
    let Some(fpm) = Fpm::start() else { return };
    let head = |port: u16| {
        let out = Command::new("curl")
            .args(["-s", "-D", "-", "-o", "/dev/null"])
            .arg(format!("http://127.0.0.1:{port}/echo.php?status=1"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        let mut names: Vec<String> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
            .collect();
        names.sort();
        (text.lines().next().unwrap_or("").trim().to_string(), names)
    };
    let (ours, theirs) = both(|port| config(port, fpm.port, &fpm.dir, USE_FCGI_APP), head);
    // PHP sends `Status: 418` without a reason: none is made up.
    assert_eq!(ours.0, "http/1.1 418");
    assert!(ours.1.contains(&"date".to_string()), "{ours:?}");
    assert!(ours.1.contains(&"content-length".to_string()), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn a_server_that_does_not_speak_fastcgi_gets_a_502() {
    use super::harness::raw_server;
    // An HTTP answer where FastCGI records are expected: its first byte is no record version.
    let junk = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        Duration::ZERO,
        Duration::from_millis(500),
    );
    // A record header announcing more content than ever comes, then a close.
    let cut = raw_server(
        b"\x01\x06\x00\x01\x01\x00\x00\x00Content-type: text/plain\r\n\r\nhal",
        Duration::ZERO,
        Duration::ZERO,
    );
    let port = free_port();
    let cfg = format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    use_backend cut if {{ path /cut }}
    default_backend junk
backend junk
    use-fcgi-app app
    server s1 {junk} proto fcgi
backend cut
    use-fcgi-app app
    server s1 {cut} proto fcgi
fcgi-app app
    docroot /srv
"
    );
    let proxy = Proxy::start(&cfg, port);
    let (status, _) = curl(&[&format!("http://127.0.0.1:{port}/x.php")]);
    assert_eq!(status, 502, "{}", proxy.stderr());
    let (status, _) = curl(&[&format!("http://127.0.0.1:{port}/cut")]);
    assert_eq!(status, 502, "{}", proxy.stderr());
    // The proxy is still there for the next request.
    let (status, _) = curl(&[&format!("http://127.0.0.1:{port}/y.php")]);
    assert_eq!(status, 502);
}

/// A TCP relay in front of PHP-FPM that counts the connections it accepts: the FastCGI
/// connections a proxy opened. (PHP-FPM's own `accepted conn` counts requests.) It also
/// notes the type of each connection's first record.
struct Relay {
    port: u16,
    accepted: Arc<AtomicUsize>,
    first_kinds: Arc<std::sync::Mutex<Vec<u8>>>,
}

fn counting_relay(fpm: u16) -> Relay {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    fn pipe(mut from: TcpStream, mut to: TcpStream) {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let first_kinds = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counted, kinds) = (accepted.clone(), first_kinds.clone());
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let Ok(mut server) = TcpStream::connect(("127.0.0.1", fpm)) else {
                continue;
            };
            // The first record's header goes through once read whole.
            let mut header = [0u8; 8];
            if client.read_exact(&mut header).is_err() || server.write_all(&header).is_err() {
                continue;
            }
            kinds.lock().unwrap().push(header[1]);
            if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                pipe(c, s);
                pipe(server, client);
            }
        }
    });
    Relay {
        port,
        accepted,
        first_kinds,
    }
}

/// A backend of FastCGI connections per `reuse` (`http-reuse`, then server options) and
/// `app` (`fcgi-app` options).
fn pool_config(port: u16, fpm: u16, docroot: &Path, reuse: (&str, &str), app: &str) -> String {
    let (reuse, server) = reuse;
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend php
backend php
    http-reuse {reuse}
    use-fcgi-app app
    server s1 127.0.0.1:{fpm} proto fcgi {server}
fcgi-app app
    docroot {}
{app}
",
        docroot.display()
    )
}

/// New FastCGI connections for: five requests on one client connection, then four clients
/// with one request each.
fn connections_opened(port: u16, accepted: &AtomicUsize) -> (usize, usize) {
    let url = format!("http://127.0.0.1:{port}/echo.php");
    let before = accepted.load(Ordering::SeqCst);
    let (code, body) = curl(&[&url, &url, &url, &url, &url]);
    assert_eq!(code, 200, "{body}");
    let kept_alive = accepted.load(Ordering::SeqCst) - before;
    let before = accepted.load(Ordering::SeqCst);
    for _ in 0..4 {
        assert_eq!(curl(&[&url]).0, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    (kept_alive, accepted.load(Ordering::SeqCst) - before)
}

#[test]
fn fastcgi_connections_are_kept_and_reused_as_haproxy_does() {
    let Some(fpm) = Fpm::start_with(6) else {
        return;
    };
    let cases = [
        // keep-conn (the default): a session's later requests reuse its connection, and
        // under `safe` each new client's first request opens one.
        (("safe", ""), "", (1, 4)),
        // FastCGI connections count as safe: `aggressive` lets first requests take them.
        (("aggressive", ""), "", (1, 0)),
        // Without keep-conn the application closes each connection after its request.
        (("aggressive", ""), "    no option keep-conn", (5, 4)),
        // `max-reuse 1`: a connection carries two requests, then closes.
        (("aggressive", "max-reuse 1"), "", (3, 2)),
        // `get-values`: each new connection asks PHP-FPM first, which says it does not
        // multiplex; connections are used as without it.
        (("aggressive", ""), "    option get-values", (1, 0)),
        (
            ("aggressive", ""),
            "    option get-values\n    option mpxs-conns\n    option max-reqs 10",
            (1, 0),
        ),
    ];
    for (reuse, app, expected) in cases {
        let Relay {
            port: relay,
            accepted,
            first_kinds,
        } = counting_relay(fpm.port);
        let ((ours, first, errors), theirs) = both_reading(
            1,
            |port| pool_config(port, relay, &fpm.dir, reuse, app),
            |port, side| {
                let opened = connections_opened(port, &accepted);
                let kinds = std::mem::take(&mut *first_kinds.lock().unwrap());
                (opened, kinds, side.stderr())
            },
        );
        assert_eq!(ours, expected, "{reuse:?} {app}: {errors}");
        // A connection's first record: GET_VALUES (9) with `get-values`, else BEGIN_REQUEST.
        let asked = if app.contains("get-values") { 9 } else { 1 };
        assert!(
            !first.is_empty() && first.iter().all(|&k| k == asked),
            "{first:?}"
        );
        if let Some((their_opened, theirs, _)) = theirs {
            assert_eq!(their_opened, ours, "haproxy differs");
            assert!(theirs.iter().all(|&k| k == asked), "haproxy: {theirs:?}");
        }
    }
}
