//! TCP mode, logs (stdout, UDP syslog, and field-by-field against Debian's haproxy when it is
//! installed), thread groups, graceful stop, and refusing what the runtime lacks.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

/// A TCP echo server (upper-cases what it receives).
fn echo_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n].to_ascii_uppercase()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn tcp_mode_proxies_bytes_and_applies_connection_rules() {
    let echo = echo_server();
    let port = free_port();
    let denied = free_port();
    let cfg = format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tcp_in
    bind 127.0.0.1:{port}
    default_backend echo
frontend tcp_denied
    bind 127.0.0.1:{denied}
    tcp-request connection reject if {{ src 127.0.0.0/8 }}
    default_backend echo
backend echo
    server e {echo}
"
    );
    let p = Proxy::start(&cfg, port);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"PING");
    drop(s);
    let mut d = TcpStream::connect(("127.0.0.1", denied)).unwrap();
    d.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = d.write_all(b"x");
    assert!(
        matches!(d.read(&mut [0u8; 8]), Ok(0) | Err(_)),
        "rejected connections are closed"
    );
    let re = regex::Regex::new(
        r"127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] tcp_in echo/e \d+/\d+/\d+ 4 -- \d+/\d+/\d+/\d+/0 0/0",
    )
    .unwrap();
    let log = p.stdout_when(|l| re.is_match(l));
    assert!(re.is_match(&log), "tcplog line: {log}");
}

pub(crate) fn http_config(port: u16, origin: &Origin, log: &str) -> String {
    format!(
        "global
    {log}
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
{}",
        fe_to_app(
            port,
            "    capture request header Host len 32
    capture request header User-Agent len 16
",
            origin.addr
        )
    )
}

#[test]
fn httplog_to_udp_syslog() {
    let o = Origin::start("o");
    let port = free_port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let cfg = http_config(
        port,
        &o,
        &format!("log {} local0", udp.local_addr().unwrap()),
    );
    let _p = Proxy::start(&cfg, port);
    // An empty connection is logged too, as a `<BADREQ>` line.
    empty_connection(port);
    let (code, _) = curl(&[
        "-A",
        "test-agent/1.0",
        "-H",
        "Host: shop.example",
        &format!("http://127.0.0.1:{port}/cart?id=1"),
    ]);
    assert_eq!(code, 200);
    let mut buf = [0u8; 2048];
    let mut lines = Vec::new();
    let request = |l: &&String| l.contains("app/s1");
    let empty = |l: &&String| l.contains("fe fe/<NOSRV>") && l.ends_with("\"<BADREQ>\"");
    while !(lines.iter().any(|l| request(&l)) && lines.iter().any(|l| empty(&l))) {
        let n = udp.recv(&mut buf).unwrap();
        lines.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    let line = lines.iter().find(request).unwrap();
    let re = regex::Regex::new(concat!(
        r"^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: ",
        r"127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe app/s1 ",
        r"\d+/\d+/\d+/\d+/\d+ 200 \d+ - - ---- \d+/\d+/\d+/\d+/0 0/0 ",
        r#"\{shop\.example\|test-agent/1\.0\} "GET /cart\?id=1 HTTP/1\.1"$"#
    ))
    .unwrap();
    assert!(re.is_match(line), "{line}");
}

/// The fields of an httplog line that do not depend on timing or ports.
/// HAProxy's lines and hapee's for the same traffic agree on every stable field.
pub(crate) fn assert_same_stable_fields(theirs: &[String], mine: &[String]) {
    assert_eq!(
        theirs.iter().map(|l| stable_fields(l)).collect::<Vec<_>>(),
        mine.iter().map(|l| stable_fields(l)).collect::<Vec<_>>()
    );
}

pub(crate) fn stable_fields(line: &str) -> Vec<String> {
    let fields: Vec<&str> = line.split(' ').collect();
    // ci:cp [date] ft b/s timers status bytes CC CS tsc counters queues {captures} "request";
    // the timers are compared by which of them were reached (-1 or not).
    let mut out = vec![fields[0].split(':').next().unwrap_or("").to_string()];
    let mut counters_seen = false;
    for (i, f) in fields[2..].iter().enumerate() {
        if i > 2 && !counters_seen && is_counters(f) {
            counters_seen = true;
            out.push(without_concurrency(f));
        } else if i == 2 {
            out.push(
                f.split('/')
                    .map(|t| if t == "-1" { "-1" } else { "t" })
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        } else {
            out.push(f.to_string());
        }
    }
    out
}

/// Whether a log field is the `actconn/feconn/beconn/srv_conn/retries` group.
fn is_counters(field: &str) -> bool {
    let parts: Vec<&str> = field.split('/').collect();
    parts.len() == 5
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.trim_start_matches('+')
                    .bytes()
                    .all(|b| b.is_ascii_digit())
        })
}

/// The counters group with its four concurrency counts blanked: they count connections still
/// open at the moment of the log, which depends on when earlier closes (a readiness probe, the
/// previous request) are seen, not on what either proxy did with this one. Retries stay.
fn without_concurrency(counters: &str) -> String {
    let retries = counters.rsplit('/').next().unwrap_or("");
    format!("n/n/n/n/{retries}")
}

/// Sends the start of a request head and nothing more; answers what the proxy sent back.
fn unfinished_head(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).to_string()
}

#[test]
fn a_late_request_head_is_answered_and_logged_408_as_haproxy_does() {
    let o = Origin::start("o");
    let cfg = |port| {
        http_config(port, &o, "log stdout format raw local0").replace(
            "timeout server 5s",
            "timeout server 5s\n    timeout http-request 400ms",
        )
    };
    let late = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains(" 408 "))
            .map(|l| l.to_string())
            .collect()
    };
    let ((answer, mine), theirs) = both_reading(1, cfg, |port, side| {
        let answer = unfinished_head(port);
        (answer, side.selected(late, 1))
    });
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Time-out\r\n")
            && answer.ends_with("<h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"),
        "{answer}"
    );
    assert_eq!(mine.len(), 1, "{mine:?}");
    let re = regex::Regex::new(
        r#" fe fe/<NOSRV> -1/-1/-1/-1/(\d+) 408 0 - - cR-- \d+/\d+/0/0/0 0/0 (\{\|\} )?"<BADREQ>"$"#,
    )
    .unwrap();
    let total: u64 = re
        .captures(&mine[0])
        .unwrap_or_else(|| panic!("{}", mine[0]))[1]
        .parse()
        .unwrap();
    assert!(
        (400..2000).contains(&total),
        "Tt counts from the accept: {}",
        mine[0]
    );
    let Some((their_answer, real)) = theirs else {
        return;
    };
    assert_eq!(answer.len(), their_answer.len(), "{their_answer}");
    assert_same_stable_fields(&real, &mine);
}

#[test]
fn requests_the_proxy_ends_itself_log_their_termination_states_as_haproxy_does() {
    let o = Origin::start("o");
    let junk = raw_server(b"garbage\r\n\r\n", Duration::ZERO, Duration::ZERO);
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
    timeout tarpit 300ms
frontend fe
    bind 127.0.0.1:{port}
    http-request deny deny_status 429 content-type text/plain string nope if {{ path_beg /deny }}
    http-request tarpit if {{ path_beg /tarpit }}
    http-request redirect location /elsewhere if {{ path_beg /redirect }}
    http-request return status 200 content-type text/plain string hi if {{ path_beg /return }}
    http-request reject if {{ path_beg /reject }}
    use_backend junk if {{ path_beg /junk }}
    default_backend app
backend app
    server s1 {}
backend junk
    server j1 {junk}
",
            o.addr
        )
    };
    let paths = [
        "/deny",
        "/tarpit",
        "/redirect",
        "/return",
        "/junk",
        "/reject",
    ];
    let send = |port: u16| -> Vec<u16> {
        paths
            .iter()
            .map(|path| curl(&[&format!("http://127.0.0.1:{port}{path}")]).0)
            .collect()
    };
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains(" fe ") && !l.contains("<BADREQ>"))
            .map(|l| l.to_string())
            .collect()
    };
    let ((codes, mine), theirs) = both_reading(1, cfg, |port, side| {
        let codes = send(port);
        (codes, side.selected(lines, 6))
    });
    // The rejected request gets no answer at all (curl: empty reply).
    assert_eq!(codes, [429, 500, 302, 200, 502, 0]);
    let terms: Vec<&str> = mine
        .iter()
        .map(|l| l.split(' ').nth(9).unwrap_or(""))
        .collect();
    assert_eq!(
        terms,
        ["PR--", "PT--", "LR--", "LR--", "PH--", "PR--"],
        "{mine:#?}"
    );
    // The tarpit's wait (at least its 300 ms; more on a loaded machine) is logged as queue
    // time, with no request time.
    let timers: Vec<&str> = mine[1].split(' ').nth(4).unwrap_or("").split('/').collect();
    let waited: u64 = timers.get(1).and_then(|t| t.parse().ok()).unwrap_or(0);
    assert!(timers[0] == "-1" && waited >= 300, "{}", mine[1]);
    assert!(mine[4].contains(" 502 "), "{}", mine[4]);
    // `reject` closes without an answer: no status, no bytes, no request time.
    assert!(mine[5].contains(" -1/-1/-1/-1/"), "{}", mine[5]);
    assert!(mine[5].contains(" -1 0 - - PR-- "), "{}", mine[5]);
    let Some((their_codes, real)) = theirs else {
        return;
    };
    assert_eq!(their_codes, codes);
    assert_same_stable_fields(&real, &mine);
}

/// `http-request reject` over HTTP/2 (prior knowledge): the stream gets no answer (hapee
/// resets it, HAProxy ends the connection), the next connection is served, and the log line
/// is the same as HAProxy's: no status, no bytes, `PR--`.
#[test]
fn a_rejected_http2_request_gets_no_answer() {
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}frontend fe
    option httplog
    bind 127.0.0.1:{port} proto h2
    http-request reject if {{ path_beg /reject }}
    http-request return status 200 content-type text/plain string ok
"
        )
    };
    let send = |port: u16| -> Vec<u16> {
        ["/reject", "/fine"]
            .iter()
            .map(|path| {
                curl(&[
                    "--http2-prior-knowledge",
                    &format!("http://127.0.0.1:{port}{path}"),
                ])
                .0
            })
            .collect()
    };
    // The request's URI names the port, which differs between the two runs.
    let port_free = regex::Regex::new(r"//127\.0\.0\.1:\d+/").unwrap();
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains(" fe ") && l.contains("HTTP/2.0"))
            .map(|l| port_free.replace(l, "//127.0.0.1:P/").into_owned())
            .collect()
    };
    let ((codes, mine), theirs) = both_reading(1, cfg, |port, side| {
        let codes = send(port);
        (codes, side.selected(lines, 2))
    });
    assert_eq!(codes, [0, 200]);
    assert!(mine[0].contains(" -1/-1/-1/-1/"), "{}", mine[0]);
    assert!(mine[0].contains(" -1 0 - - PR-- "), "{}", mine[0]);
    let Some((their_codes, real)) = theirs else {
        return;
    };
    assert_eq!(their_codes, codes);
    assert_same_stable_fields(&real, &mine);
}

#[test]
fn a_request_whose_client_leaves_is_logged_as_haproxy_logs_it_under_abortonclose() {
    // The server never answers; it counts the requests it got, so that the client leaves
    // once its request is with the server (a fixed wait may pass before the proxy has even
    // read it, on a loaded machine).
    let got = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = listener.local_addr().unwrap();
    let counted = got.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(2));
            });
        }
    });
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
    option abortonclose
{}",
            fe_to_app(port, "", slow)
        )
    };
    let leave = |port: u16| {
        let before = got.load(std::sync::atomic::Ordering::SeqCst);
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap();
        let forwarded = wait_until(Duration::from_secs(20), || {
            got.load(std::sync::atomic::Ordering::SeqCst) > before
        });
        assert!(forwarded, "the request never reached the server");
    };
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("/wait"))
            .map(|l| l.to_string())
            .collect()
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        leave(port);
        side.selected(lines, 1)
    });
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        mine[0].contains(" app/s1 ") && mine[0].contains(" 400 ") && mine[0].contains(" CH-- "),
        "{}",
        mine[0]
    );
    let Some(real) = theirs else {
        return;
    };
    assert_same_stable_fields(&real, &mine);
}

#[test]
fn httplog_fields_match_haproxy() {
    if !Haproxy::installed() {
        return;
    }
    let o = Origin::start("o");
    // An empty connection is logged too, as `<BADREQ>`; its timer and termination fields
    // depend on when its close is seen, so only its presence is compared.
    let split = |text: &str| -> (usize, Vec<Vec<String>>) {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(" fe ")).collect();
        let probes = lines.iter().filter(|l| l.contains("<BADREQ>")).count();
        let requests = lines
            .iter()
            .filter(|l| !l.contains("<BADREQ>"))
            .map(|l| stable_fields(l))
            .collect();
        (probes, requests)
    };
    let ((mine_probes, mine), theirs) = both_reading(
        1,
        |port| http_config(port, &o, "log stdout format raw local0"),
        |port, side| {
            empty_connection(port);
            for path in ["/a?x=1", "/status/404", "/status/503"] {
                curl(&[
                    "-A",
                    "agent",
                    "-H",
                    "Host: h.example",
                    &format!("http://127.0.0.1:{port}{path}"),
                ]);
            }
            split(&side.stdout_when(|l| {
                let (probes, requests) = split(l);
                probes >= 1 && requests.len() >= 3
            }))
        },
    );
    let Some((real_probes, real)) = theirs else {
        return;
    };
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert_eq!(mine, real);
    assert_eq!((mine_probes, real_probes), (1, 1));
}

#[test]
fn thread_groups_and_graceful_stop() {
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "global
    nbthread 4
    thread-groups 2
{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port} thread 2/1-2
    default_backend app
backend app
    server s1 {}
",
        o.addr
    );
    let mut p = Proxy::start(&cfg, port);
    assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
    // A slow request in flight survives SIGUSR1; new connections are refused afterwards.
    let slow = std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/slow/800")]).0);
    // In flight once the origin has it (it answers 800 ms later): a fixed wait may pass before
    // curl has even connected on a loaded machine, and the stop then refuses it.
    assert!(
        wait_until(Duration::from_secs(20), || o
            .hits
            .load(std::sync::atomic::Ordering::SeqCst)
            == 2),
        "the slow request never reached the origin"
    );
    p.signal("USR1");
    assert_eq!(slow.join().unwrap(), 200);
    let mut exited = false;
    for _ in 0..100 {
        if let Ok(Some(_)) = p.child.try_wait() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(exited, "the proxy exits once in-flight work is done");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn cpu_map_binds_worker_threads_to_their_cpus() {
    let o = Origin::start("o");
    let port = free_port();
    // CPU 0 exists on every machine; thread 2 keeps its group's set, narrowed to its own.
    let cfg = format!(
        "global
    nbthread 3
    cpu-map 1/all 0
    cpu-map 1/2 0 1023
    cpu-map auto:1/3 0
{DEFAULTS}
{}",
        fe_to_app(port, "", o.addr)
    );
    let p = Proxy::start(&cfg, port);
    assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
    let mut bound = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{}/task", p.child.id())).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap();
        if !name.starts_with("hapee-worker") {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string();
        bound.push((name.trim().to_string(), cpus));
    }
    bound.sort();
    assert_eq!(
        bound,
        [
            ("hapee-worker-1".to_string(), "0".to_string()),
            ("hapee-worker-2".to_string(), "0".to_string()),
            ("hapee-worker-3".to_string(), "0".to_string()),
        ]
    );
}

#[test]
fn run_refuses_errors_and_unsupported_keywords_with_locations() {
    let dir = Scratch::dir(&format!("hapee-refuse-{}", std::process::id()));
    let cfg = dir.join("u.cfg");
    std::fs::write(
        &cfg,
        "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:1\n    tcp-request connection expect-netscaler-cip layer4\n    default_backend b\nbackend b\n    http-request set-var(txn.x) ssl_fc_unique_id\n    server s 127.0.0.1:2 npn http/1.1\n    grace 1s\nresolvers dns\n    nameserver n 127.0.0.1:53\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .arg("run")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    // A rule the runtime runs is not reported.
    assert!(!err.contains("expect-netscaler-cip"), "{err}");
    assert!(
        err.contains(
            "error[U001]: not supported by the hapee runtime yet: sample fetch 'ssl_fc_unique_id'"
        ) && err.contains("u.cfg:11:5")
            && err.contains("u.cfg:13:5")
            && err.contains("'grace' in a backend section"),
        "{err}"
    );
    assert!(
        err.contains("u.cfg:12:5") && err.contains("server option 'npn' (rustls has no"),
        "{err}"
    );
    // `check` reports the same uses as warnings and still accepts the configuration.
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .arg("check")
        .arg("--no-env")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("warning[U001]").count(), 3, "{err}");
    std::fs::write(&cfg, "frontend fe\n    bind 127.0.0.1:1 process 1\n").unwrap();
    let tables = dir.join("c.cfg");
    std::fs::write(&tables, "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nlisten l\n    bind 127.0.0.1:1\n    grace 1s\n    server s 127.0.0.1:2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .arg("run")
        .arg("-f")
        .arg(&tables)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("'grace' in a listen section"));
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not starting"));
}

#[test]
fn client_fin_closes_a_half_closed_tunnel() {
    // A server that greets and closes at once.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let _ = s.write_all(b"bye");
        }
    });
    let port = free_port();
    let cfg = format!(
        "global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 20s
    timeout server 20s
    timeout client-fin 300ms
listen l
    bind 127.0.0.1:{port}
    server s {server}
"
    );
    let p = Proxy::start(&cfg, port);
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert_eq!(got, b"bye");
    // The client keeps its half open and says nothing: the session must end after client-fin
    // (and be logged), not after the 20 s client timeout.
    // (This client's line is picked by its port.)
    let me = c.local_addr().unwrap().port();
    let re =
        regex::Regex::new(&format!(r"^127\.0\.0\.1:{me} .* l/s -?\d+/-?\d+/(\d+) 3 ")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let line = |out: &str| out.lines().find(|l| re.is_match(l)).map(String::from);
    while line(&p.stdout()).is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = p.stdout();
    let mine = line(&out).expect("session ended and was logged");
    let total: u64 = re.captures(&mine).unwrap()[1].parse().unwrap();
    assert!((250..3000).contains(&total), "Tt = {total} ms: {out}");
    drop(c);
}

#[test]
fn daemon_mode_writes_the_pidfile_and_sigterm_stops_at_once() {
    let o = Origin::start("o");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-daemon-{port}"));
    let cfg = dir.join("d.cfg");
    std::fs::write(
        &cfg,
        format!("{DEFAULTS}\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\nbackend app\n    server s {}\n", o.addr),
    )
    .unwrap();
    let pidfile = dir.join("hapee.pid");
    // HAProxy's command line: -D detaches and returns, -p records the daemon's pid.
    let status = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["-D", "-p"])
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .status()
        .unwrap();
    assert!(status.success());
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("zombie")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGTERM did not stop the daemon"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The listening sockets go with the process.
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still listening after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
