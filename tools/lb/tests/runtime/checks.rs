//! Health checks of every kind against servers speaking each protocol's wire format, with
//! the reports compared to Debian's haproxy on the same configuration.

use super::harness::{
    both_reading, both_with, free_port, wait_until, Haproxy, Origin, Proxy, Scratch,
    LOGGED_DEFAULTS,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// One step of a scripted server: what it says, or waiting for the client to say something.
#[derive(Clone)]
enum Say {
    Send(&'static [u8]),
    Recv,
}

/// A server that plays `script` on every connection, then closes it.
fn scripted(script: Vec<Say>) -> SocketAddr {
    scripted_then(script.clone(), 0, script)
}

/// A server that plays `first` on its first `times` connections, and `then` on the others.
fn scripted_then(first: Vec<Say>, times: usize, then: Vec<Say>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let script = if n < times { &first } else { &then }.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                for step in script {
                    let ok = match step {
                        Say::Send(bytes) => conn.write_all(bytes).is_ok(),
                        Say::Recv => conn.read(&mut buf).is_ok_and(|n| n > 0),
                    };
                    if !ok {
                        return;
                    }
                }
                // Let the checker read everything before the close.
                std::thread::sleep(Duration::from_millis(50));
            });
        }
    });
    addr
}

/// Backend `be` with `option log-health-checks` and the lines of `backend`.
fn config(port: u16, backend: &str) -> String {
    config_with(
        port,
        &format!("backend be\n    option log-health-checks\n{backend}"),
    )
}

/// A TCP frontend on `port` that sends to `be`, which `sections` declares.
fn config_with(port: u16, sections: &str) -> String {
    format!(
        "global
    nbthread 1
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend fe
    bind 127.0.0.1:{port}
    # The start-up probe would otherwise be a session on the dead server, counted (or not,
    # depending on timing) by the DOWN report's 'sessions active'.
    tcp-request connection reject
    default_backend be
{sections}"
    )
}

/// The report lines of checks and state changes, without what differs from run to run
/// (process id, durations).
fn reports(stderr: &str) -> Vec<String> {
    let re = regex::Regex::new(r"check duration: \d+ms").unwrap();
    stderr
        .lines()
        .filter_map(|l| l.split_once(") : ").map(|(_, r)| r))
        .filter(|l| l.contains("check for") || l.starts_with("Server be/"))
        .map(|l| {
            re.replace_all(l.trim_end_matches('.'), "check duration: Nms")
                .into_owned()
        })
        .collect()
}

/// The reports of hapee, then of haproxy when it is installed, on `backend`: each once it has
/// reported `count` lines (or after 20 s).
fn both_reports(backend: &str, count: usize) -> (Vec<String>, Option<Vec<String>>) {
    both_reading(
        1,
        |port| config(port, backend),
        |_, side| {
            wait_until(Duration::from_secs(20), || {
                reports(&side.stderr()).len() >= count
            });
            reports(&side.stderr())
        },
    )
}

/// Runs `backend` in both, checks hapee's first report, and that haproxy's is the same.
fn same_first_report(backend: &str, expected: &str) {
    let (ours, theirs) = both_reports(backend, 1);
    assert_eq!(ours.first().map(String::as_str), Some(expected), "{ours:?}");
    if let Some(theirs) = theirs {
        assert_eq!(
            ours.first(),
            theirs.first(),
            "hapee {ours:?} / haproxy {theirs:?}"
        );
    }
}

/// [`same_first_report`] for a backend whose server is checked by `option <option>`.
fn same_option_first_report(option: &str, server: impl std::fmt::Display, expected: &str) {
    same_first_report(
        &format!("    option {option}\n    server srv {server} check inter 200ms rise 1 fall 1\n"),
        expected,
    );
}

#[test]
fn tcp_check_send_expect_and_its_failure_message() {
    let server = scripted(vec![Say::Recv, Say::Send(b"hello world\n")]);
    same_first_report(
        &format!(
            "    option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string hello
    server srv {server} check inter 200ms rise 1 fall 1
"
        ),
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP",
    );
    same_first_report(
        &format!(
            "    option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG comment pong
    server srv {server} check inter 200ms rise 1 fall 1
"
        ),
        "Health check for server be/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content '+PONG' at step 2 comment: pong\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn tcp_check_connect_ports_in_sequence() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed = free_port();
    same_first_report(
        &format!(
            "    option tcp-check
    tcp-check connect port {open_port}
    tcp-check connect port {closed}
    server srv 127.0.0.1:{open_port} check inter 200ms rise 1 fall 1
"
        ),
        &format!("Health check for server be/srv failed, reason: Layer4 connection problem, info: \"Connection refused at step 2 of tcp-check (connect port {closed})\", check duration: Nms, status: 0/1 DOWN"),
    );
}

#[test]
fn redis_check() {
    let good = scripted(vec![Say::Recv, Say::Send(b"+PONG\r\n")]);
    same_option_first_report(
        "redis-check",
        good,
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Redis server is ok\", check duration: Nms, status: 1/1 UP",
    );
    let bad = scripted(vec![Say::Recv, Say::Send(b"-ERR not ready\r\n")]);
    same_option_first_report(
        "redis-check",
        bad,
        "Health check for server be/srv failed, reason: Layer7 wrong status, code: 0, info: \"-ERR not ready\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn smtp_check_with_ehlo() {
    let server = scripted(vec![
        Say::Send(b"220 mail.example ESMTP\r\n"),
        Say::Recv,
        Say::Send(b"250-mail.example\r\n250 SIZE 1000\r\n"),
        Say::Recv,
        Say::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    same_option_first_report(
        "smtpchk EHLO domain.tld",
        server,
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 221, info: \"2.0.0 Bye\", check duration: Nms, status: 1/1 UP",
    );
    let refusing = scripted(vec![Say::Send(b"554 no service\r\n")]);
    same_option_first_report(
        "smtpchk",
        refusing,
        "Health check for server be/srv failed, reason: Layer7 wrong status, code: 554, info: \"no service\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn mysql_check_with_a_user() {
    // A handshake (protocol 10, version "5.7.0"), then an OK packet.
    let server = scripted(vec![
        Say::Send(b"\x0b\x00\x00\x00\x0a5.7.0\x00\x01\x00\x00\x00"),
        Say::Recv,
        Say::Send(b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"),
    ]);
    same_option_first_report(
        "mysql-check user haproxy",
        server,
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"5.7.0\", check duration: Nms, status: 1/1 UP",
    );
    let denied = scripted(vec![
        Say::Send(b"\x0b\x00\x00\x00\x0a5.7.0\x00\x01\x00\x00\x00"),
        Say::Recv,
        Say::Send(b"\x0d\x00\x00\x02\xff\x15\x04#28000denied"),
    ]);
    same_option_first_report(
        "mysql-check user haproxy",
        denied,
        "Health check for server be/srv failed, reason: Layer7 wrong status, code: 1045, info: \"#28000denied\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn pgsql_check() {
    // AuthenticationOk.
    let server = scripted(vec![
        Say::Recv,
        Say::Send(b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
    ]);
    same_option_first_report(
        "pgsql-check user postgres",
        server,
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"PostgreSQL server is ok\", check duration: Nms, status: 1/1 UP",
    );
}

#[test]
fn ldap_check() {
    // bindResponse, resultCode success.
    let server = scripted(vec![
        Say::Recv,
        Say::Send(b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"),
    ]);
    same_option_first_report(
        "ldap-check",
        server,
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Success\", check duration: Nms, status: 1/1 UP",
    );
    let refused = scripted(vec![
        Say::Recv,
        Say::Send(b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00"),
    ]);
    same_option_first_report(
        "ldap-check",
        refused,
        "Health check for server be/srv failed, reason: Layer7 wrong status, code: 49, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn ssl_hello_check() {
    // A TLS server answers an SSLv3 hello with a handshake or an alert record.
    let alerting = scripted(vec![Say::Recv, Say::Send(b"\x15\x03\x01\x00\x02\x02\x28")]);
    same_option_first_report(
        "ssl-hello-chk",
        alerting,
        "Health check for server be/srv succeeded, reason: Layer6 check passed, check duration: Nms, status: 1/1 UP",
    );
    let plain = scripted(vec![Say::Recv, Say::Send(b"HTTP/1.0 400 Bad\r\n\r\n")]);
    same_option_first_report(
        "ssl-hello-chk",
        plain,
        "Health check for server be/srv failed, reason: Layer6 invalid response, check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn http_check_rules() {
    let origin = Origin::start("o");
    same_first_report(
        &format!(
            "    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host example
    http-check expect status 200
    http-check expect string health
    server srv {} check inter 200ms rise 1 fall 1
",
            origin.addr
        ),
        "Health check for server be/srv succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP",
    );
    same_first_report(
        &format!(
            "    option httpchk GET /nothing-here
    http-check expect ! rstatus ^5
    http-check expect string never-there
    server srv {} check inter 200ms rise 1 fall 1
",
            origin.addr
        ),
        "Health check for server be/srv failed, reason: Layer7 invalid response, info: \"HTTP content check did not match\", check duration: Nms, status: 0/1 DOWN",
    );
}

#[test]
fn agent_check_takes_a_server_down_with_its_reason() {
    let agent = scripted(vec![Say::Recv, Say::Send(b"down # maintenance window\n")]);
    let backend = format!(
        "    server srv 127.0.0.1:{} agent-check agent-port {} agent-send hello\\n agent-inter 200ms\n",
        free_port(),
        agent.port()
    );
    let expected = [
        "Agent check for server be/srv failed, reason: Layer7 wrong status, code: 0, info: \"via agent : down (maintenance window)\", check duration: Nms, status: 0/1 DOWN",
    ];
    let (ours, theirs) = both_reports(&backend, 2);
    assert_eq!(
        ours.first().map(String::as_str),
        Some(expected[0]),
        "{ours:?}"
    );
    assert_eq!(
        ours.get(1).map(String::as_str),
        Some("Server be/srv is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue"),
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// Without `option log-health-checks` the state change line carries the agent's reason, and
/// a backup server is named `Backup Server`. An active server going down with only a backup
/// left, and a backup coming up with no active server, add ` Running on backup.`; an
/// agent's `up` on a server already up says nothing.
#[test]
fn agent_state_changes_name_the_reason_and_backup_servers_as_haproxy_does() {
    // Each side gets its own agents: the one that says `down` first counts its connections.
    let agents = || {
        let says_down = vec![Say::Recv, Say::Send(b"down # maintenance window\n")];
        let says_up = vec![Say::Recv, Say::Send(b"up\n")];
        let down = scripted(says_down.clone());
        let up = scripted(says_up.clone());
        let down_then_up = scripted_then(says_down, 1, says_up);
        (down, up, down_then_up)
    };
    let agent = |at: SocketAddr| {
        format!(
            "agent-check agent-port {} agent-send hi\\n agent-inter 200ms",
            at.port()
        )
    };
    let backends = |(down, up, down_then_up): &(SocketAddr, SocketAddr, SocketAddr)| {
        format!(
            "backend be
    server srv 127.0.0.1:{} {}
    server bk 127.0.0.1:{} backup {}
backend be2
    server only 127.0.0.1:{} backup {}
",
            free_port(),
            agent(*down),
            free_port(),
            agent(*up),
            free_port(),
            agent(*down_then_up),
        )
    };
    let changes = |stderr: &str| -> Vec<String> {
        let re = regex::Regex::new(r"check duration: \d+ms").unwrap();
        let mut lines: Vec<String> = stderr
            .lines()
            .filter_map(|l| l.split_once(") : ").map(|(_, r)| r))
            .filter(|l| l.contains("Server be"))
            .map(|l| re.replace_all(l, "check duration: Nms").into_owned())
            .collect();
        // The two agents answer in either order.
        lines.sort();
        lines
    };
    let (ours, theirs) = super::harness::both_sides(
        1,
        agents,
        |port, agents| config_with(port, &backends(agents)),
        |_, _, side| {
            wait_until(Duration::from_secs(20), || {
                changes(&side.stderr()).len() >= 3
            });
            // Time for a wrong third line (the backup's `up`) to show.
            std::thread::sleep(Duration::from_millis(600));
            changes(&side.stderr())
        },
    );
    let reason = "reason: Layer7 wrong status, code: 0, info: \"via agent : down (maintenance window)\", check duration: Nms";
    assert_eq!(
        ours,
        [
            format!("Backup Server be2/only is DOWN, {reason}. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."),
            "Backup Server be2/only is UP, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration: Nms. 0 active and 1 backup servers online. Running on backup. 0 sessions requeued, 0 total in queue.".to_string(),
            format!("Server be/srv is DOWN, {reason}. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue."),
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// The agent columns of `show stat` (agent_status … agent_health, last_agt) after an agent
/// said `down`, beside haproxy's; the duration is a number on both, its value left out.
#[test]
fn agent_check_columns_in_show_stat() {
    let agent = scripted(vec![Say::Recv, Say::Send(b"down # maintenance window\n")]);
    let dir = Scratch::dir(&format!("hapee-agent-stat-{}", std::process::id()));
    let columns = [
        "agent_status",
        "agent_code",
        "agent_desc",
        "last_agt",
        "agent_rise",
        "agent_fall",
        "agent_health",
        "status",
    ];
    let run = |start: &dyn Fn(&str, u16) -> Box<dyn std::any::Any>, name: &str| {
        let sock = dir.join(format!("{name}.sock"));
        let backend = format!(
            "    server srv 127.0.0.1:{} agent-check agent-port {} agent-send hello\\n agent-inter 200ms\n",
            free_port(),
            agent.port()
        );
        let port = free_port();
        let cfg = config(port, &backend).replacen(
            "global\n",
            &format!("global\n    stats socket {} level admin\n", sock.display()),
            1,
        );
        let _running = start(&cfg, port);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let csv = super::api::ask(&sock, "show stat\n");
            let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
            let row = csv
                .lines()
                .find(|l| l.starts_with("be,srv,"))
                .unwrap_or("")
                .to_string();
            let fields: Vec<&str> = row.split(',').collect();
            let field = |c: &str| {
                let i = header.iter().position(|h| h.trim_start_matches("# ") == c);
                i.and_then(|i| fields.get(i))
                    .map_or(String::new(), |v| v.to_string())
            };
            // Settled: the agent's verdict applied to the server, and no agent check in
            // progress (both proxies mark one with `* `, and applies the verdict to the status
            // a moment after the health).
            let settled = field("agent_health") == "0"
                && field("status") == "DOWN (agent)"
                && !field("agent_status").starts_with('*');
            if settled || Instant::now() > deadline {
                assert!(
                    field("agent_duration").parse::<u64>().is_ok(),
                    "{name}: agent_duration {:?}",
                    field("agent_duration")
                );
                return columns.map(|c| format!("{c}={}", field(c)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let ours = run(
        &|cfg, port| Box::new(Proxy::start(cfg, port)) as Box<dyn std::any::Any>,
        "hapee",
    );
    assert_eq!(
        ours,
        [
            "agent_status=L7STS",
            "agent_code=0",
            "agent_desc=Layer7 wrong status",
            "last_agt=via agent : down (maintenance window)",
            "agent_rise=1",
            "agent_fall=1",
            "agent_health=0",
            "status=DOWN (agent)",
        ]
    );
    if Haproxy::installed() {
        let theirs = run(
            &|cfg, port| {
                Box::new(Haproxy::start_with(cfg, port, &["-db"])) as Box<dyn std::any::Any>
            },
            "haproxy",
        );
        assert_eq!(ours, theirs);
    }
}

/// While a probe waits for its answer, `show stat` marks the check's status `* ` (HAProxy's
/// "check in progress"), and drops the mark once the result is in.
#[test]
fn a_probe_under_way_is_marked_in_show_stat() {
    // A server that accepts and never answers: every HTTP probe waits for `timeout check`
    // (3 s, so that a loaded machine still reads `show stat` during the first).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    let cfg = |port: u16| {
        let backend = format!(
            "    option httpchk\n    timeout check 3s\n    server srv {silent_addr} check inter 1s\n"
        );
        let sock = std::env::temp_dir().join(format!("hapee-probing-{port}.sock"));
        let _ = std::fs::remove_file(&sock);
        config(port, &backend).replacen(
            "global\n",
            &format!("global\n    stats socket {} level admin\n", sock.display()),
            1,
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, _| {
        let sock = Scratch::file(&format!("hapee-probing-{port}.sock"));
        let status = || {
            wait_until(Duration::from_secs(5), || sock.exists());
            super::api::stat_row(&super::api::ask(&sock, "show stat\n"), "be", "srv")
                ["check_status"]
                .clone()
        };
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        // Under way first (the first probe waits), then a timed-out result without the mark.
        for want_mark in [true, false] {
            loop {
                let now = status();
                if now.starts_with("* ") == want_mark || Instant::now() > deadline {
                    seen.push(now);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        seen
    });
    assert_eq!(ours, ["* INI", "L7TOUT"]);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// `show stat`'s `last_chk` is the last check's info text, as HAProxy fills it (check.c's
/// `set_server_check_status`): why a connection failed, the reason phrase of a wrong HTTP
/// status, nothing for a check that passed.
#[test]
fn last_chk_says_what_the_last_check_found() {
    let healthy = Origin::start("ok");
    let sick = Origin::start("sick");
    sick.sick.store(true, std::sync::atomic::Ordering::SeqCst);
    // A port nobody listens on: the check's connection is refused.
    let refused = free_port();
    let servers = [
        ("ok", healthy.addr.to_string()),
        ("sick", sick.addr.to_string()),
        ("refused", format!("127.0.0.1:{refused}")),
    ];
    let cfg = |port: u16| {
        let sock = std::env::temp_dir().join(format!("hapee-last-chk-{port}.sock"));
        let _ = std::fs::remove_file(&sock);
        let mut backend = "    option httpchk GET /health\n".to_string();
        for (name, addr) in &servers {
            backend.push_str(&format!("    server {name} {addr} check inter 200ms\n"));
        }
        backend.push_str("backend tcp\n");
        for (name, addr) in &servers[..1] {
            backend.push_str(&format!("    server {name} {addr} check inter 200ms\n"));
        }
        config(port, &backend).replacen(
            "global\n",
            &format!("global\n    stats socket {} level admin\n", sock.display()),
            1,
        )
    };
    let rows = [
        ("be", "ok"),
        ("be", "sick"),
        ("be", "refused"),
        ("tcp", "ok"),
    ];
    let (ours, theirs) = both_reading(1, cfg, |port, _| {
        let sock = Scratch::file(&format!("hapee-last-chk-{port}.sock"));
        wait_until(Duration::from_secs(5), || sock.exists());
        let read = || {
            let csv = super::api::ask(&sock, "show stat\n");
            rows.map(|(px, sv)| {
                let row = super::api::stat_row(&csv, px, sv);
                format!("{px}/{sv} {} {}", row["check_status"], row["last_chk"])
            })
        };
        // Each check has a result, and none is under way (its text is cleared meanwhile).
        let mut seen = read();
        wait_until(Duration::from_secs(10), || {
            seen = read();
            seen.iter()
                .all(|r| !r.contains(" INI") && !r.contains(" * "))
        });
        seen
    });
    assert_eq!(
        ours,
        [
            "be/ok L7OK ",
            "be/sick L7STS Service Unavailable",
            "be/refused L4CON Connection refused",
            "tcp/ok L4OK ",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// A TCP server that keeps the first bytes of its first connection.
pub(super) struct FirstBytes {
    pub(super) addr: SocketAddr,
    pub(super) got: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl FirstBytes {
    pub(super) fn start() -> FirstBytes {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = got.clone();
        std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 200];
            let n = s.read(&mut buf).unwrap_or(0);
            keep.lock().unwrap().extend_from_slice(&buf[..n]);
        });
        FirstBytes { addr, got }
    }
}

/// `check-send-proxy`: a health check opens with a PROXY header naming its own connection,
/// though the server's traffic has none.
#[test]
fn check_send_proxy_opens_checks_with_a_proxy_header() {
    let cfg = |port: u16, server: &FirstBytes| {
        format!(
            "{LOGGED_DEFAULTS}frontend f
    bind 127.0.0.1:{port}
    default_backend b
backend b
    timeout check 1s
    server s {} check check-send-proxy inter 300
",
            server.addr
        )
    };
    let (mine, theirs) = both_with(FirstBytes::start, cfg, |_, server| {
        wait_until(Duration::from_secs(5), || {
            !server.got.lock().unwrap().is_empty()
        });
        let text = String::from_utf8_lossy(&server.got.lock().unwrap()).to_string();
        // The check's own source port changes from run to run.
        let words: Vec<&str> = text.split_whitespace().collect();
        let to_server = words.get(5) == Some(&server.addr.port().to_string().as_str());
        (
            words.get(..4).map(|w| w.join(" ")),
            to_server,
            text.ends_with("\r\n"),
        )
    });
    assert_eq!(
        mine,
        (
            Some("PROXY TCP4 127.0.0.1 127.0.0.1".to_string()),
            true,
            true
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// A server that sends back the first bytes it reads on each connection, then closes it.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                if let Ok(n) = std::io::Read::read(&mut conn, &mut buf) {
                    let _ = conn.write_all(&buf[..n]);
                }
            });
        }
    });
    addr
}

/// `tune.vars.check-max-size`: a check variable takes its entry (80 bytes, HAProxy's
/// `struct var`) and its value's bytes; past the limit it is left without a value, and what
/// the check sends with it shows so, side by side with haproxy.
#[test]
fn check_variables_are_held_to_check_max_size() {
    let server = echo_server();
    let backend = format!(
        "    option tcp-check
    tcp-check set-var(check.word) str(0123456789abcdefghij)
    tcp-check send-lf v=%[var(check.word)]\\n
    tcp-check expect string v=0123
    server srv {server} check inter 200ms rise 1 fall 1
"
    );
    let run = |limit: u32| {
        both_reading(
            1,
            |port| {
                config(port, &backend).replacen(
                    "nbthread 1\n",
                    &format!("nbthread 1\n    tune.vars.check-max-size {limit}\n"),
                    1,
                )
            },
            |_, side| {
                wait_until(Duration::from_secs(20), || {
                    !reports(&side.stderr()).is_empty()
                });
                reports(&side.stderr()).first().cloned().unwrap_or_default()
            },
        )
    };
    // 80 + 20 bytes fit in 100; in 99 the entry is made but not the value.
    let (fits, theirs_fits) = run(100);
    assert!(fits.contains("succeeded"), "{fits}");
    let (short, theirs_short) = run(99);
    assert!(
        short.contains("failed") && short.contains("TCPCHK did not match content 'v=0123'"),
        "{short}"
    );
    if let (Some(a), Some(b)) = (theirs_fits, theirs_short) {
        assert_eq!((a, b), (fits, short));
    }
}
