//! Side by side with Debian's haproxy, a logger that cannot be sent to: `log <path>` is
//! always a datagram socket's address (log.c), so a path with no socket behind it is never
//! written as a file; the first failed send of the process is reported once on standard
//! error, the logger numbered among those of its list that take the message.

use crate::harness::*;
use std::net::UdpSocket;
use std::time::Duration;

#[test]
fn a_logger_path_without_a_socket_is_reported_once_and_never_written() {
    let fixture = || {
        let syslog = UdpSocket::bind("127.0.0.1:0").unwrap();
        syslog
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let dir = Scratch::dir(&format!(
            "hapee-log-fail-{}-{}",
            std::process::id(),
            syslog.local_addr().unwrap().port()
        ));
        (syslog, dir, Origin::start("o"))
    };
    let cfg = |port: u16, (syslog, dir, origin): &(UdpSocket, Scratch, Origin)| {
        format!(
            "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    option httplog
    log {} local0 info
    log {} local0 info
    log {}/missing local0 info
    default_backend app
backend app
    server s1 {}
",
            syslog.local_addr().unwrap(),
            syslog.local_addr().unwrap(),
            dir.display(),
            origin.addr
        )
    };
    let (mine, theirs) = both_sides(1, fixture, cfg, |port, (syslog, dir, _), side| {
        let alert = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.contains("failed in logger"))
                .map(|l| l.split(" : ").nth(1).unwrap_or("").to_string())
                .collect()
        };
        for _ in 0..2 {
            let answer = raw(
                port,
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                Duration::from_secs(5),
            );
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            // Both lines reach the working loggers: the failing one was tried by then.
            let mut buf = [0u8; 2048];
            for _ in 0..2 {
                syslog.recv(&mut buf).expect("a log line");
            }
        }
        assert!(
            wait_until(Duration::from_secs(5), || !alert(&side.stderr()).is_empty()),
            "{}",
            side.stderr()
        );
        let written = std::fs::read_dir(dir).unwrap().count();
        (alert(&side.stderr()), written)
    });
    assert_eq!(
        mine,
        (
            vec![
                "sendmsg()/writev() failed in logger #3: No such file or directory (errno=2)"
                    .to_string()
            ],
            0
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
