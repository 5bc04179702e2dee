//! The signals a master and its workers take, side by side with Debian's haproxy (built with
//! systemd support): `-Ws` tells a fake `NOTIFY_SOCKET` when it is ready, reloading (SIGHUP
//! and SIGUSR2 both reload), failed to reload, and stopping; SIGTTOU and SIGTTIN sent to the
//! master pause and resume the workers' listeners; SIGTERM ends it with HAProxy's lines.
//! A process serving on its own dumps its servers' states on SIGHUP, beside HAProxy 2.7.0.

use crate::harness::*;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn config(port: u16) -> String {
    format!(
        "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-request return status 200 content-type text/plain string ok\n"
    )
}

fn kill(child: &Child, sig: &str) {
    Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
}

/// What one program did: the datagrams after each step (the last of each step first: the
/// one systemd acts on), whether its port took connections after SIGTTOU and after SIGTTIN,
/// its exit status and its standard error.
struct Run {
    notes: Vec<Vec<String>>,
    paused_refuses: bool,
    resumed_answers: bool,
    status: Option<i32>,
    stderr: String,
}

/// The datagrams that arrive within `wait` of the first (or nothing after 30 s).
fn datagrams(sock: &UnixDatagram, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    while let Ok(n) = sock.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        sock.set_read_timeout(Some(wait)).unwrap();
    }
    out
}

fn answers(port: u16) -> bool {
    curl(&["-m", "5", &format!("http://127.0.0.1:{port}/")]).0 == 200
}

/// Runs `program -Ws` through start, SIGHUP, a broken SIGUSR2, SIGTTOU, SIGTTIN and SIGTERM.
fn run(program: &std::ffi::OsStr, dir: &std::path::Path) -> Run {
    let port = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let notify = dir.join("notify.sock");
    let _ = std::fs::remove_file(&notify);
    let sock = UnixDatagram::bind(&notify).unwrap();
    let cfg = dir.join("s.cfg");
    std::fs::write(&cfg, config(port)).unwrap();
    let err = dir.join("err.log");
    let mut master = Command::new(program)
        .args(["-Ws", "-f"])
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &notify)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let settle = Duration::from_millis(1500);
    let mut notes = vec![datagrams(&sock, settle)];
    assert!(answers(port));
    kill(&master, "HUP");
    notes.push(datagrams(&sock, settle));
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{good}    bogus-keyword here\n")).unwrap();
    kill(&master, "USR2");
    notes.push(datagrams(&sock, settle));
    std::fs::write(&cfg, good).unwrap();
    assert!(answers(port), "the worker serves after a failed reload");
    kill(&master, "TTOU");
    let paused_refuses = wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    kill(&master, "TTIN");
    let resumed_answers = wait_until(Duration::from_secs(10), || answers(port));
    kill(&master, "TERM");
    notes.push(datagrams(&sock, Duration::from_millis(300)));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = master.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = master.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for n in &mut notes {
        n.reverse();
    }
    Run {
        notes,
        paused_refuses,
        resumed_answers,
        status,
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// The keys of a datagram (`READY`, `MAINPID`, …), without `STATUS` (HAProxy 2.7 adds it).
fn keys(datagram: &str) -> Vec<&str> {
    datagram
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| *k != "STATUS")
        .collect()
}

/// The master's lines of `stderr` (those of process `pid`), pids and paths set aside.
fn master_lines(stderr: &str) -> Vec<String> {
    let pid = |l: &str| {
        l.split(" : ")
            .next()
            .map(|h| h.split_whitespace().last().unwrap_or("").to_string())
    };
    let first = stderr.lines().next().and_then(pid).unwrap_or_default();
    stderr
        .lines()
        .filter(|l| pid(l).as_deref() == Some(first.as_str()))
        .map(|l| {
            let text = l.split_once(" : ").map_or(l, |(_, t)| t);
            let text: String = text
                .split(' ')
                .map(|w| {
                    if w.trim_matches(['(', ')'])
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                        && w.len() > 2
                    {
                        "N"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let level = l.split_whitespace().next().unwrap_or("");
            match text.split_once(" is ") {
                Some((what, _)) if what == "haproxy version" || what == "path to executable" => {
                    format!("{level} {what}")
                }
                _ => format!("{level} {text}"),
            }
        })
        .collect()
}

#[test]
fn ws_master_notifies_reloads_on_sighup_and_passes_pause_and_resume_as_haproxy() {
    let dir = Scratch::dir(&format!("hapee-sig-{}", std::process::id()));
    // The same folder for both: the configuration's path is in the alerts.
    let ours = run(&hapee_lb(), &dir);
    let pid = ours.stderr.lines().next().and_then(|l| {
        l.split(" : ")
            .next()?
            .split_whitespace()
            .last()?
            .trim_matches(['(', ')'])
            .parse::<u32>()
            .ok()
    });
    let pid = pid.unwrap_or_else(|| panic!("no master line: {}", ours.stderr));
    // HAProxy 2.7's datagrams, exactly (the last of each step first).
    let ready = format!("READY=1\nMAINPID={pid}\nSTATUS=Ready.\n");
    let reloading = "RELOADING=1\nSTATUS=Reloading Configuration.\n".to_string();
    assert_eq!(ours.notes[0], vec![ready.clone()]);
    assert_eq!(
        ours.notes[1],
        vec![ready, reloading.clone()],
        "SIGHUP reloads"
    );
    assert_eq!(
        ours.notes[2],
        vec!["READY=1\nSTATUS=Reload failed!\n".to_string(), reloading]
    );
    assert_eq!(ours.notes[3], vec!["STOPPING=1\n".to_string()]);
    assert!(ours.paused_refuses, "SIGTTOU pauses: {}", ours.stderr);
    assert!(ours.resumed_answers, "SIGTTIN resumes: {}", ours.stderr);
    assert!(
        ours.stderr.contains("Paused frontend fe.\n"),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr.contains("Resumed frontend fe.\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours.status, Some(0), "{}", ours.stderr);
    if !Haproxy::installed() {
        return;
    }
    let theirs = run(std::ffi::OsStr::new("haproxy"), &dir);
    // Debian's 2.6 sends no STATUS and some notifications twice; what systemd acts on, the
    // last datagram of each step, carries the same keys.
    for (step, (a, b)) in ours.notes.iter().zip(&theirs.notes).enumerate() {
        fn last(n: &[String]) -> Vec<&str> {
            n.first().map(|d| keys(d)).unwrap_or_default()
        }
        let (mut a, mut b) = (last(a), last(b));
        // 2.6 re-executes after a failed reload too, and says its pid again.
        if step == 2 {
            b.retain(|k| *k != "MAINPID");
            a.retain(|k| *k != "MAINPID");
        }
        assert_eq!(a, b, "step {step}: {:?} / {:?}", ours.notes, theirs.notes);
    }
    assert_eq!(
        (theirs.paused_refuses, theirs.resumed_answers),
        (true, true)
    );
    assert_eq!(theirs.status, ours.status);
    // The configuration's own errors are the checker's words (compared with HAProxy's by
    // the checker's tests); every line of the master's life is compared here.
    let lifecycle = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| !l.starts_with("[ALERT]") || l.contains(" worker "))
            .collect()
    };
    let (a, b) = (
        lifecycle(master_lines(&ours.stderr)),
        lifecycle(master_lines(&theirs.stderr)),
    );
    assert_eq!(
        a, b,
        "the master's lines (hapee first):\n{}\n--\n{}",
        ours.stderr, theirs.stderr
    );
}

/// A process serving on its own (no master) beside HAProxy 2.7.0: SIGHUP writes every
/// proxy's and server's state, SIGTTOU pauses the listeners (connections refused) and
/// SIGTTIN resumes them, with the same warnings in the same order.
#[test]
fn standalone_sighup_dumps_states_and_ttou_ttin_pause_and_resume_as_haproxy_27() {
    let origin = Origin::start("o");
    let run = |program: &std::ffi::OsStr, first_args: &[&str], name: &str| {
        let port = free_ports(2);
        let dir = Scratch::dir(&format!("hapee-hup-{}-{name}", std::process::id()));
        let cfg = dir.join("h.cfg");
        let o = origin.addr;
        std::fs::write(
            &cfg,
            format!(
                "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
                 frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
                 backend be\n    server s1 {o}\n    server s2 {o} backup\n\
                 listen li\n    bind 127.0.0.1:{}\n    server s3 {o} disabled\n\
                 backend empty\n",
                port + 1
            ),
        )
        .unwrap();
        let err = dir.join("err.log");
        let mut child = Command::new(program)
            .args(first_args)
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let stderr = || std::fs::read_to_string(&err).unwrap_or_default();
        // Refused attempts count nowhere: the counts below see one request.
        assert!(wait_until(Duration::from_secs(30), || answers(port)));
        let (code, _) = curl(&["-m", "5", &format!("http://127.0.0.1:{}/", port + 1)]);
        assert_eq!(code, 503);
        kill(&child, "HUP");
        assert!(wait_until(Duration::from_secs(10), || stderr().contains("Proxy empty")));
        kill(&child, "TTOU");
        let refused = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_err();
        let paused = wait_until(Duration::from_secs(10), || {
            refused(port) && refused(port + 1)
        });
        kill(&child, "TTIN");
        let resumed = wait_until(Duration::from_secs(10), || answers(port));
        kill(&child, "USR1");
        let exited = wait_until(Duration::from_secs(30), || {
            child.try_wait().unwrap().is_some()
        });
        if !exited {
            let _ = child.kill();
        }
        // Read before the folder (and the log in it) goes.
        let lines = stderr_lines(&stderr());
        (paused, resumed, exited, lines)
    };
    let ours = run(&hapee_lb(), &["run"], "hapee");
    let text = ours.3.join("\n");
    assert!(ours.0, "SIGTTOU pauses: {text}");
    assert!(ours.1, "SIGTTIN resumes: {text}");
    assert!(ours.2, "SIGUSR1 stops: {text}");
    let expected = [
        "[WARNING] SIGHUP received, dumping servers states.",
        "[WARNING] SIGHUP: Proxy fe has no servers. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 1+0.",
        "[WARNING] SIGHUP: Server be/s1 is UP. Conn: 0 act, 0 pend, 1 tot.",
        "[WARNING] SIGHUP: Server be/s2 is UP. Conn: 0 act, 0 pend, 0 tot.",
        "[WARNING] SIGHUP: Proxy be has 1 active servers and 1 backup servers available. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+1.",
        "[WARNING] SIGHUP: Server li/s3 is DOWN. Conn: 0 act, 0 pend, 0 tot.",
        "[WARNING] SIGHUP: Proxy li has no server available ! Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 1+1.",
        "[WARNING] SIGHUP: Proxy empty has no servers. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0.",
        "[WARNING] Paused frontend fe.",
        "[WARNING] Paused proxy li.",
        "[WARNING] Resumed frontend fe.",
        "[WARNING] Resumed proxy li.",
    ];
    assert_eq!(ours.3, expected, "{text}");
    let Some(haproxy) = haproxy_27() else { return };
    let theirs = run(haproxy.as_os_str(), &[], "haproxy");
    assert_eq!((theirs.0, theirs.1, theirs.2), (true, true, true));
    assert_eq!(ours.3, theirs.3, "hapee first");
}

/// The warning lines of a serving process's standard error, pids set aside, without what
/// hapee leaves out: HAProxy's internal `<HTTPCLIENT>` proxy and the stop's per-proxy lines.
fn stderr_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| !l.contains("<HTTPCLIENT>") && !l.contains(" stopped (cumulated conns"))
        .map(|l| match l.split_once(" : ") {
            Some((head, text)) => {
                format!("{} {text}", head.split_whitespace().next().unwrap_or(""))
            }
            None => l.to_string(),
        })
        .collect()
}
