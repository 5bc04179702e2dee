//! A server connection that runs out of `timeout connect` ends the stream with `sC` (a
//! server-side timeout while connecting), one the server refuses with `SC`, side by side with
//! Debian's haproxy. The TLS handshake with a server counts as part of the connect: a server
//! that accepts and never answers the ClientHello times out (hapee flagged it `SC`, which a
//! reg-test's TLS server talking cleartext showed).

use super::harness::*;
use std::time::Duration;

/// The termination flags of an `option httplog` line: the word after the two cookie fields.
fn flags(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(3)
        .find(|w| w[0] == "-" && w[1] == "-" && w[2].len() == 4)
        .map_or_else(|| format!("no flags in {line:?}"), |w| w[2].to_string())
}

#[test]
fn a_connect_that_times_out_is_sc_and_a_refused_one_sc() {
    // Accepts, reads the ClientHello and says nothing for longer than the test.
    let silent = raw_server(b"", Duration::from_secs(30), Duration::from_secs(1));
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog
    retries 0
    timeout connect 300ms
frontend fe
    bind 127.0.0.1:{port}
    use_backend refused if {{ path /refused }}
    default_backend silent
backend silent
    server s {silent} ssl verify none
backend refused
    server s {refused}
"
        )
    };
    let ((statuses, lines), theirs) = logged_side_by_side(
        cfg,
        |port| ["/silent", "/refused"].map(|p| curl(&[&format!("http://127.0.0.1:{port}{p}")]).0),
        |l| l.contains(" fe "),
        2,
    );
    assert_eq!(statuses, [503, 503]);
    let mine: Vec<String> = lines.iter().map(|l| flags(l)).collect();
    assert_eq!(mine, ["sC--", "SC--"], "{lines:?}");
    if let Some((their_statuses, their_lines)) = theirs {
        assert_eq!(their_statuses, statuses);
        let theirs: Vec<String> = their_lines.iter().map(|l| flags(l)).collect();
        assert_eq!(theirs, mine, "{their_lines:?}");
    }
}

/// The figures of a `%b %rc %Tt` line: the backend, the retries, the total time.
fn retried(line: &str) -> Option<(String, i64, i64)> {
    let mut w = line.split_whitespace().skip_while(|w| *w != "R");
    w.next()?;
    let be = w.next()?.to_string();
    Some((be, w.next()?.parse().ok()?, w.next()?.parse().ok()?))
}

#[test]
fn a_connect_failing_before_it_goes_out_is_retried_at_once_and_a_refused_one_after_a_pause() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let absent = std::env::temp_dir().join(format!("hapee-no-such-{}.sock", std::process::id()));
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    retries 3
    timeout connect 500ms
frontend fe
    bind 127.0.0.1:{port}
    log-format \"R %b %rc %Tt\"
    use_backend unix if {{ path /unix }}
    use_backend source if {{ path /source }}
    default_backend refused
backend unix
    server s {}
backend source
    server s {refused} source 192.0.2.1
backend refused
    server s {refused}
",
            absent.display()
        )
    };
    let drive = |port: u16| {
        ["/unix", "/source", "/refused"].map(|p| curl(&[&format!("http://127.0.0.1:{port}{p}")]).0)
    };
    let ((statuses, lines), theirs) = logged_side_by_side(cfg, drive, |l| l.starts_with("R "), 3);
    assert_eq!(statuses, [503, 503, 503]);
    let check = |lines: &[String]| {
        let got: Vec<_> = lines.iter().filter_map(|l| retried(l)).collect();
        assert_eq!(got.len(), 3, "{lines:?}");
        // No free socket, no source address: each of the three retries goes at once.
        for (be, rc, tt) in &got[..2] {
            assert_eq!(*rc, 3, "{be}: {lines:?}");
            assert!(*tt < 500, "{be} retried after pauses: {lines:?}");
        }
        // Refused by the network: each retry waits `timeout connect` (under a second) first.
        let (be, rc, tt) = &got[2];
        assert_eq!((be.as_str(), *rc), ("refused", 3), "{lines:?}");
        assert!(*tt >= 1500, "{lines:?}");
    };
    check(&lines);
    if let Some((their_statuses, their_lines)) = theirs {
        assert_eq!(their_statuses, statuses);
        check(&their_lines);
    }
}

/// `%sc` counts the streams connecting to the server, as HAProxy counts a stream on its
/// server from the connect on: a request logged while another's TLS handshake still waits
/// counts that one; the last one logged counts none.
#[test]
fn a_stream_counts_on_its_server_while_it_connects() {
    let silent = raw_server(b"", Duration::from_secs(30), Duration::from_secs(1));
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    retries 0
    timeout connect 1s
frontend fe
    bind 127.0.0.1:{port}
    log-format \"C %HP sc=%sc\"
    default_backend silent
backend silent
    server s {silent} ssl verify none
"
        )
    };
    let drive = |port: u16| {
        let first =
            std::thread::spawn(move || curl(&[&format!("http://127.0.0.1:{port}/first")]).0);
        std::thread::sleep(Duration::from_millis(500));
        let second = curl(&[&format!("http://127.0.0.1:{port}/second")]).0;
        [first.join().unwrap(), second]
    };
    let ((statuses, mut lines), theirs) =
        logged_side_by_side(cfg, drive, |l| l.starts_with("C "), 2);
    assert_eq!(statuses, [503, 503]);
    lines.sort();
    assert_eq!(lines, ["C /first sc=1", "C /second sc=0"]);
    if let Some((their_statuses, mut their_lines)) = theirs {
        assert_eq!(their_statuses, statuses);
        their_lines.sort();
        assert_eq!(their_lines, lines);
    }
}
