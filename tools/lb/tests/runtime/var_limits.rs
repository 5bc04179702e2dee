//! `tune.vars.*-max-size`: each scope's variables may take so many bytes (an entry of 80
//! bytes plus a text's length); a set that does not fit is refused and the variable stays
//! unset. Compared with Debian's haproxy.

use crate::harness::*;

const HEAD: &str = "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
";

/// Requests `paths` over one connection: each response's status and `x-` headers.
fn over_one_connection(port: u16, paths: &[&str]) -> Vec<String> {
    let urls: Vec<String> = paths
        .iter()
        .map(|p| format!("http://127.0.0.1:{port}{p}"))
        .collect();
    let mut args = vec!["-i"];
    args.extend(urls.iter().map(String::as_str));
    let (_, text) = curl(&args);
    text.split("HTTP/1.1 ")
        .filter(|r| !r.is_empty())
        .map(|r| {
            let mut seen: Vec<String> = r
                .lines()
                .filter(|l| l.to_ascii_lowercase().starts_with("x-"))
                .map(|l| l.trim().to_ascii_lowercase())
                .collect();
            seen.sort();
            format!("{} {}", &r[..3], seen.join(" | "))
        })
        .collect()
}

#[test]
fn a_stream_holds_its_request_and_transaction_variables_to_their_limits() {
    let cfg = |port: u16| {
        format!(
            "global
    tune.vars.reqres-max-size 90
    tune.vars.txn-max-size 200
{HEAD}frontend fe
    bind 127.0.0.1:{port}
    # 80 + 10 bytes: the request scope is full.
    http-request set-var(req.a) str(0123456789)
    http-request set-var(req.b) int(1)
    # The transaction's 200 hold the request's 90 and another 90, not a third entry.
    http-request set-var(txn.a) str(abcdefghij)
    http-request set-var(txn.b) int(2)
    http-request return status 200 hdr x-req-a \"%[var(req.a)]\" hdr x-req-b \"%[var(req.b)]\" hdr x-txn-a \"%[var(txn.a)]\" hdr x-txn-b \"%[var(txn.b)]\"
"
        )
    };
    let (mine, theirs) = both(cfg, |port| over_one_connection(port, &["/", "/"]));
    let expected = "200 x-req-a: 0123456789 | x-txn-a: abcdefghij";
    // The second request starts from nothing again.
    assert_eq!(mine, [expected, expected]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

#[test]
fn a_session_counts_its_variables_over_its_requests() {
    let cfg = |port: u16| {
        format!(
            "global
    tune.vars.sess-max-size 200
{HEAD}frontend fe
    bind 127.0.0.1:{port}
    http-request set-var(sess.a) str(0123456789) if {{ path /a }}
    http-request set-var(sess.b) str(0123456789) if {{ path /b }}
    http-request set-var(sess.c) str(0123456789) if {{ path /c }}
    # A transaction's variables count for its session too.
    http-request set-var(txn.t) str(t) if {{ path /t }}
    http-request return status 200 hdr x-a \"%[var(sess.a)]\" hdr x-b \"%[var(sess.b)]\" hdr x-c \"%[var(sess.c)]\" hdr x-t \"%[var(txn.t)]\"
"
        )
    };
    let drive = |port| {
        let mut seen = over_one_connection(port, &["/a", "/b", "/t", "/c"]);
        // A new session has room again.
        seen.extend(over_one_connection(port, &["/c", "/t"]));
        seen
    };
    let (mine, theirs) = both(cfg, drive);
    let two = "200 x-a: 0123456789 | x-b: 0123456789";
    assert_eq!(
        mine,
        [
            "200 x-a: 0123456789",
            two,
            two,
            two,
            "200 x-c: 0123456789",
            "200 x-c: 0123456789 | x-t: t",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

#[test]
fn the_process_counts_every_variable_and_gets_a_streams_back_when_it_ends() {
    let cfg = |port: u16| {
        format!(
            "global
    tune.vars.global-max-size 260
    set-var proc.p str(0123456789)
{HEAD}frontend fe
    bind 127.0.0.1:{port}
    # 90 for proc.p, 80 for the entry of proc.q (made at start, as the configuration names
    # it) and 90 for txn.a: txn.b's entry does not fit, proc.q's integer needs no more room.
    http-request set-var(txn.a) str(abcdefghij)
    http-request set-var(txn.b) str(bcd)
    http-request set-var(proc.q) int(1)
    http-request return status 200 hdr x-p \"%[var(proc.p)]\" hdr x-a \"%[var(txn.a)]\" hdr x-b \"%[var(txn.b)]\" hdr x-q \"%[var(proc.q)]\"
"
        )
    };
    let drive = |port| {
        let mut seen = over_one_connection(port, &["/", "/"]);
        seen.extend(over_one_connection(port, &["/"]));
        seen
    };
    let (mine, theirs) = both(cfg, drive);
    // Each request has room for txn.a again: the previous one gave its bytes back.
    let expected = "200 x-a: abcdefghij | x-p: 0123456789 | x-q: 1";
    assert_eq!(mine, [expected, expected, expected]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
