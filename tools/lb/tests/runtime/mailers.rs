//! Email alerts over SMTP to a real mail server (aiosmtpd, from PyPI) that writes down each
//! mail it receives, compared with the mail Debian's haproxy sends on the same configuration.

use super::harness::{free_port, Haproxy, Proxy, Scratch, DEFAULTS};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Writes each received mail as `HELO`, envelope and content, separated by a line of `=`.
const SERVER: &str = r#"
import sys, time
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Keep:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a") as f:
            f.write("HELO " + str(session.host_name) + "\n")
            f.write("FROM " + envelope.mail_from + "\n")
            f.write("TO " + ",".join(envelope.rcpt_tos) + "\n")
            f.write(envelope.content.decode("utf8", "replace").replace("\r\n", "\n"))
            f.write("\n=====\n")
        return "250 Message accepted for delivery"
c = Controller(Keep(), hostname="127.0.0.1", port=port)
c.start()
while True:
    time.sleep(1)
"#;

struct Smtp {
    child: Child,
    port: u16,
    out: std::path::PathBuf,
    /// The server's script and the mails it wrote, removed after the server stops.
    _dir: Scratch,
}

impl Smtp {
    /// `None` (skipping) without aiosmtpd, except under `CI=true`.
    fn start() -> Option<Smtp> {
        let have = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd is not installed, and CI=true requires it (see .ci/run)"
            );
            eprintln!("aiosmtpd is not installed: skipping this test");
            return None;
        }
        let port = free_port();
        let dir = Scratch::dir(&format!("hapee-smtp-{}-{port}", std::process::id()));
        let script = dir.join("smtp.py");
        std::fs::write(&script, SERVER).unwrap();
        let out = dir.join("mails.txt");
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Smtp {
            child,
            port,
            out,
            _dir: dir,
        })
    }

    /// The mails received so far, waiting up to 10 s for at least `n`.
    fn mails(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let mails: Vec<String> = text
                .split("\n=====\n")
                .filter(|m| !m.trim().is_empty())
                .map(String::from)
                .collect();
            if mails.len() >= n || Instant::now() > deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `extra` lines go before the server line (`email-alert level`, `option log-health-checks`).
fn config(port: u16, smtp: u16, dead: u16, extra: &str) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be1
backend be1
    email-alert mailers mymailers
    email-alert from from@domain.tld
    email-alert to to@domain.tld
    email-alert myhostname lb.example
{extra}    server srv1 127.0.0.1:{dead} check inter 200ms rise 1 fall 1
mailers mymailers
    mailer smtp1 127.0.0.1:{smtp}
"
    )
}

/// A mail with what changes from run to run masked: the date and the check's duration.
fn masked(mail: &str) -> String {
    let duration = regex::Regex::new(r"check duration: \d+ms").unwrap();
    mail.lines()
        .map(|l| {
            if l.starts_with("Date: ") {
                "Date: (masked)".to_string()
            } else {
                duration.replace_all(l, "check duration: Nms").into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_server_going_down_is_mailed_as_haproxy_mails_it() {
    let Some(smtp) = Smtp::start() else { return };
    let dead = free_port();
    let port = free_port();
    let proxy = Proxy::start(&config(port, smtp.port, dead, ""), port);
    let mails = smtp.mails(1);
    // The default level (alert) mails the state change only, not each check result.
    std::thread::sleep(Duration::from_millis(600));
    let mails_later = smtp.mails(1);
    drop(proxy);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails_later.len(), 1, "{mails_later:?}");
    let ours = masked(&mails[0]);
    for line in [
        "HELO lb.example",
        "FROM from@domain.tld",
        "TO to@domain.tld",
        "From: from@domain.tld",
        "To: to@domain.tld",
        "Subject: [HAProxy Alert] Server be1/srv1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue",
    ] {
        assert!(ours.lines().any(|l| l == line), "{line:?} not in:\n{ours}");
    }
    let date = mails[0]
        .lines()
        .find_map(|l| l.strip_prefix("Date: "))
        .unwrap_or("");
    assert!(
        regex::Regex::new(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4} \(.+\)$")
            .unwrap()
            .is_match(date),
        "{date}"
    );
    if !Haproxy::installed() {
        return;
    }
    let Some(smtp2) = Smtp::start() else { return };
    let hport = free_port();
    let mut h = Haproxy::start(&config(hport, smtp2.port, dead, ""), hport);
    let theirs = smtp2.mails(1);
    h.stop();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(ours, masked(&theirs[0]));
}

#[test]
fn level_info_also_mails_each_check_result() {
    let Some(smtp) = Smtp::start() else { return };
    let dead = free_port();
    let port = free_port();
    let _proxy = Proxy::start(
        &config(
            port,
            smtp.port,
            dead,
            "    email-alert level info\n    option log-health-checks\n",
        ),
        port,
    );
    let mails = smtp.mails(2);
    let subjects: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: [HAProxy Alert] "))
                .map(String::from)
        })
        .collect();
    assert!(
        subjects[0].starts_with(
            "Health check for server be1/srv1 failed, reason: Layer4 connection problem"
        ),
        "{subjects:?}"
    );
    // The result was told on its own: the state change leaves it out, as in HAProxy.
    assert_eq!(
        subjects[1],
        "Server be1/srv1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue",
        "{subjects:?}"
    );
}

/// The subjects of the mails received so far (waiting up to 10 s for `n`), then of those
/// received within a further half second: none more is expected.
fn subjects(smtp: &Smtp, n: usize) -> Vec<String> {
    smtp.mails(n);
    std::thread::sleep(Duration::from_millis(500));
    smtp.mails(n)
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: [HAProxy Alert] "))
                .map(String::from)
        })
        .collect()
}

/// What the Runtime API changes is mailed as HAProxy mails it: a server going down, coming
/// up and entering drain are; maintenance, its end and the stopping state are not.
#[test]
fn runtime_api_changes_are_mailed_as_haproxy_mails_them() {
    let config = |port: u16, smtp: u16, dir: &std::path::Path| {
        format!(
            "global
    stats socket {}/api.sock level admin
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be1
backend be1
    email-alert mailers mymailers
    email-alert from from@domain.tld
    email-alert to to@domain.tld
    email-alert level notice
    server srv1 127.0.0.1:{}
    server srv2 127.0.0.1:{}
mailers mymailers
    mailer smtp1 127.0.0.1:{smtp}
",
            dir.display(),
            free_port(),
            free_port()
        )
    };
    let drive = |dir: &std::path::Path| {
        let sock = dir.join("api.sock");
        super::harness::wait_until(Duration::from_secs(10), || sock.exists());
        for command in [
            "set server be1/srv1 state drain",
            "set server be1/srv1 state maint",
            "set server be1/srv1 state ready",
            "set server be1/srv1 health down",
            "set server be1/srv1 health up",
            "set server be1/srv1 health stopping",
        ] {
            let answer = super::api::ask(&sock, &format!("{command}\n"));
            assert!(answer.trim().is_empty(), "{command}: {answer}");
        }
    };
    let Some(smtp) = Smtp::start() else { return };
    let dir = Scratch::dir(&format!("hapee-mail-api-{}", std::process::id()));
    let port = free_port();
    let proxy = Proxy::start(&config(port, smtp.port, &dir), port);
    drive(&dir);
    let ours = subjects(&smtp, 3);
    drop(proxy);
    let online = "0 sessions requeued, 0 total in queue";
    assert_eq!(
        ours,
        [
            format!("Server be1/srv1 enters drain state. 1 active and 0 backup servers online. {online}"),
            "Server be1/srv1 is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue".to_string(),
            format!("Server be1/srv1 is UP, changed from CLI. 2 active and 0 backup servers online. {online}"),
        ]
    );
    if !Haproxy::installed() {
        return;
    }
    let Some(smtp) = Smtp::start() else { return };
    let dir = Scratch::dir(&format!("hapee-mail-api-h-{}", std::process::id()));
    let port = free_port();
    let mut h = Haproxy::start(&config(port, smtp.port, &dir), port);
    drive(&dir);
    let theirs = subjects(&smtp, 3);
    h.stop();
    assert_eq!(ours, theirs, "hapee / haproxy");
}
