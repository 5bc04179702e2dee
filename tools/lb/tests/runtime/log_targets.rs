//! A `log` target that is a path is a UNIX datagram socket, whatever is there: the proxy starts
//! and each message fails to go, which it says once, side by side with Debian's haproxy. hapee
//! wrote such messages to a file, and refused to start where a folder was in the way (a public
//! configuration's `log /var/run/log`, a folder on this machine).

use super::harness::*;
use std::time::Duration;

#[test]
fn a_log_path_that_is_no_socket_fails_each_message_and_says_so_once() {
    let folder = Scratch::dir(&format!("hapee-log-folder-{}", std::process::id()));
    let cfg = |port: u16| {
        format!(
            "global
    log {} local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200
",
            folder.display()
        )
    };
    let failed = |err: &str| -> Vec<String> {
        err.lines()
            .filter(|l| l.contains("sendmsg()/writev() failed"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, rest)| rest).to_string())
            .collect()
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        for _ in 0..2 {
            assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
        }
        wait_until(Duration::from_secs(10), || {
            !failed(&side.stderr()).is_empty()
        });
        failed(&side.stderr())
    });
    let _ = std::fs::remove_dir(&folder);
    assert_eq!(
        mine,
        // Linux refuses a datagram sent to a path that is not a socket.
        vec!["sendmsg()/writev() failed in logger #1: Connection refused (errno=111)".to_string()]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
