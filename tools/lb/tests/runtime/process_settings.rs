//! The global section's process settings, side by side with Debian's haproxy: the environment
//! (`setenv` and friends), the root and user the process serves as (`chroot`, `user`,
//! `group`), the host name in syslog headers (`log-send-hostname`), the CLI anonymizer's
//! default key (`anonkey`) and the process-wide rate limits (`maxconnrate`, `maxsessrate`).

use super::harness::*;
use super::idle_pools::ask;
use std::net::UdpSocket;
use std::time::Duration;

const TIMEOUTS: &str = "timeout client 5s\n    timeout server 5s\n    timeout connect 5s";

#[test]
fn setenv_family_shapes_the_environment_the_process_serves_with() {
    // Set before the proxy starts: `presetenv` keeps it, `unsetenv` removes it.
    std::env::set_var("HAPEE_T_KEPT", "from-outside");
    std::env::set_var("HAPEE_T_GONE", "from-outside");
    let cfg = |port: u16| {
        format!(
            "global
    setenv HAPEE_T_SET one
    setenv HAPEE_T_SET two
    presetenv HAPEE_T_KEPT preset
    presetenv HAPEE_T_NEW preset
    unsetenv HAPEE_T_GONE
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"%[env(HAPEE_T_SET)] %[env(HAPEE_T_KEPT)] %[env(HAPEE_T_NEW)] [%[env(HAPEE_T_GONE)]]\"
"
        )
    };
    let (mine, theirs) = both(cfg, |port| curl(&[&format!("http://127.0.0.1:{port}/")]));
    assert_eq!(mine, (200, "two from-outside preset []".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// Root, user and group of the serving process, from `/proc`.
fn confinement(pid: u32) -> (String, String, String) {
    let root = std::fs::read_link(format!("/proc/{pid}/root"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_string()
    };
    (root, field("Uid:"), field("Gid:"))
}

#[test]
fn chroot_user_and_group_are_taken_once_the_sockets_are_bound() {
    if !nix_is_root() {
        eprintln!("not running as root: chroot and setuid cannot be tried; skipping");
        return;
    }
    let jail = Scratch::dir(&format!("hapee-jail-{}", std::process::id()));
    let cfg = |port: u16| {
        format!(
            "global
    chroot {}
    user nobody
    group nogroup
    stats socket ipv4@127.0.0.1:{} level admin
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string served
",
            jail.display(),
            port + 1
        )
    };
    let (mine, theirs) = both_reading(2, cfg, |port, side| {
        let answer = curl(&[&format!("http://127.0.0.1:{port}/")]);
        let cli = ask(port + 1, "show info").contains("Name: ");
        (answer, cli, confinement(side.pid()))
    });
    let expected = (
        (200, "served".to_string()),
        true,
        (jail.display().to_string(), "65534".into(), "65534".into()),
    );
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, expected);
    }
    let _ = std::fs::remove_dir(&jail);
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// The header of the first syslog message `socket` receives, without its time and process
/// id: `<134> [host ]tag` (RFC3164) or `<134>1 host tag - -` (RFC5424).
fn header_of(socket: &UdpSocket) -> String {
    let mut buf = [0u8; 2048];
    let n = socket.recv(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let head = text.split(": Connect from").next().unwrap_or_default();
    let words: Vec<&str> = head.split_whitespace().collect();
    let Some(first) = words.first() else {
        return text;
    };
    if first.ends_with(">1") {
        // `<pri>1 time host tag pid - - message`
        let kept: Vec<&str> = [
            &words[..1],
            words.get(2..4).unwrap_or(&[]),
            words.get(5..7).unwrap_or(&[]),
        ]
        .concat();
        kept.join(" ")
    } else {
        // `<pri>Mmm dd hh:mm:ss [host ]tag[pid]`
        let pri = first.split('>').next().unwrap_or_default();
        let rest: Vec<&str> = words
            .iter()
            .skip(3)
            .map(|w| w.split('[').next().unwrap_or(w))
            .collect();
        format!("{pri}> {}", rest.join(" "))
    }
}

#[test]
fn log_send_hostname_puts_the_host_in_syslog_headers() {
    for setting in ["", "    log-send-hostname lb1.example\n"] {
        let fixture = || {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            for s in [&a, &b] {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            }
            (a, b)
        };
        let cfg = |port: u16, (a, b): &(UdpSocket, UdpSocket)| {
            format!(
                "global
{setting}    log {} local0
    log {} format rfc5424 local0
defaults
    mode http
    log global
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
",
                a.local_addr().unwrap(),
                b.local_addr().unwrap()
            )
        };
        let (mine, theirs) = both_with(fixture, cfg, |port, (a, b)| {
            let _ = curl(&[&format!("http://127.0.0.1:{port}/")]);
            (header_of(a), header_of(b))
        });
        let expected = if setting.is_empty() {
            ("<134> haproxy", "<134>1 - haproxy - -")
        } else {
            (
                "<134> lb1.example haproxy",
                "<134>1 lb1.example haproxy - -",
            )
        };
        assert_eq!((mine.0.as_str(), mine.1.as_str()), expected);
        if let Some(theirs) = theirs {
            assert_eq!(mine, theirs);
        }
    }
}

/// A proxy answering 200 on `port` with an admin CLI on `port + 1` and `global` (lines
/// indented as the section's) in its global section.
fn answering_with_cli(global: &str, port: u16) -> String {
    format!(
        "global
    {global}
    stats socket ipv4@127.0.0.1:{} level admin
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
",
        port + 1
    )
}

#[test]
fn rate_limits_start_as_configured() {
    let cfg = |port: u16| answering_with_cli("maxconnrate 500\n    maxsessrate 300", port);
    let (mine, theirs) = both_reading(2, cfg, |port, _| {
        let info = ask(port + 1, "show info");
        let field = |name: &str| {
            info.lines()
                .find(|l| l.starts_with(&format!("{name}:")))
                .map(|l| l.to_string())
                .unwrap_or_default()
        };
        (field("ConnRateLimit"), field("SessRateLimit"))
    });
    assert_eq!(mine.0, "ConnRateLimit: 500");
    assert_eq!(mine.1, "SessRateLimit: 300");
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// `anonkey` is new in 2.7 (Debian's 2.6 refuses it), so hapee runs alone here.
#[test]
fn anonkey_is_the_key_set_anon_on_uses_when_given_none() {
    let port = free_ports(2);
    let proxy = Proxy::start(&answering_with_cli("anonkey 4242", port), port);
    let out = ask(port + 1, "set anon on; show anon");
    assert!(
        out.contains("Anonymized mode enabled") && out.contains("4242"),
        "{out:?}"
    );
    drop(proxy);
}

/// The status line a request with `headers` header lines (besides `Host`) gets.
fn status_with_headers(port: u16, headers: usize) -> String {
    use std::io::{BufRead, Write};
    let mut head = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..headers {
        head.push_str(&format!("X-H{i}: v\r\n"));
    }
    head.push_str("\r\n");
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut line = String::new();
    let _ = std::io::BufReader::new(s).read_line(&mut line);
    line.trim_end().to_string()
}

#[test]
fn tune_http_maxhdr_bounds_the_header_lines_of_a_request() {
    let cfg = |port: u16| {
        format!(
            "global
    tune.http.maxhdr 10
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
"
        )
    };
    // With `Host`: 9 lines pass, 10 do not.
    let (mine, theirs) = both(cfg, |port| {
        (status_with_headers(port, 8), status_with_headers(port, 9))
    });
    assert_eq!(
        mine,
        (
            "HTTP/1.1 200 OK".to_string(),
            "HTTP/1.1 400 Bad request".to_string()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// CPU time (user and system, in clock ticks) process `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime and stime are the 14th and 15th fields of the whole line.
    fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0)
}

#[test]
fn busy_polling_keeps_an_idle_worker_spinning_and_no_busy_polling_undoes_it() {
    let cfg = |busy: &'static str| {
        move |port: u16| {
            format!(
                "global
    nbthread 1
    busy-polling
{busy}{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200
"
            )
        }
    };
    // A spinning worker takes CPU however loaded the machine: 20 ticks (100 a second) come,
    // the wait ending as soon as they have.
    let spins = |port: u16, side: &Side| {
        assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
        let before = cpu_ticks(side.pid());
        wait_until(Duration::from_secs(60), || {
            cpu_ticks(side.pid()).saturating_sub(before) >= 20
        })
    };
    // A sleeping one takes next to none over 3 s of idling.
    let idle_cpu = |port: u16, side: &Side| {
        assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
        let before = cpu_ticks(side.pid());
        std::thread::sleep(Duration::from_secs(3));
        cpu_ticks(side.pid()).saturating_sub(before)
    };
    let (busy, theirs_busy) = both_reading(1, cfg(""), spins);
    let (quiet, theirs_quiet) = both_reading(1, cfg("    no busy-polling\n"), idle_cpu);
    assert!(busy, "busy-polling: not 20 ticks of CPU in 60 s");
    assert!(quiet < 10, "no busy-polling used {quiet} ticks");
    if let (Some(b), Some(q)) = (theirs_busy, theirs_quiet) {
        assert!(b && q < 10, "haproxy: {b} and {q} ticks");
    }
}
