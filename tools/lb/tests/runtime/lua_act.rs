//! HAProxy's `act` table (`testdata/lua/act.lua`): its codes, and what an action returning
//! each does to the rules: `act.STOP` skips the rest of the list, `act.DENY` denies the
//! request (403) or the TCP connection, ends a response's rules, `act.ERROR` ends with an internal
//! error, `act.CONTINUE` and nothing go on; side by side with Debian's haproxy, with the logs.

use super::harness::{both_sides, curl, raw, Origin, LOGGED_DEFAULTS};
use std::time::Duration;

fn script() -> String {
    super::lua_public::script("act.lua")
}

#[test]
fn action_return_codes_end_the_rules_as_in_haproxy() {
    let cfg = |port: u16, origin: &Origin| {
        LOGGED_DEFAULTS.replacen(
            "global\n",
            &format!("global\n    lua-load {}\n", script()),
            1,
        ) + &format!(
            "    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request set-var(txn.res) req.hdr(x-res)\n    http-request use-service lua.codes if {{ path /codes }}\n    use_backend app if {{ var(txn.res) -m found }}\n    http-request lua.verdict STOP if {{ path /STOP }}\n    http-request lua.verdict CONTINUE if {{ path /CONTINUE }}\n    http-request lua.verdict DENY if {{ path /DENY }}\n    http-request lua.verdict ERROR if {{ path /ERROR }}\n    http-request deny deny_status 410 if {{ path /STOP }} || {{ path /CONTINUE }}\n    http-response lua.verdict DENY if {{ var(txn.res) -m str DENY }}\n    http-response lua.verdict STOP if {{ var(txn.res) -m str STOP }}\n    http-response lua.verdict CONTINUE if {{ var(txn.res) -m str CONTINUE }}\n    http-response set-header x-after yes\n    http-request return status 200 content-type text/plain string ok if !{{ var(txn.res) -m found }}\nbackend app\n    server o {}\nfrontend tcp\n    mode tcp\n    bind 127.0.0.1:{}\n    option tcplog\n    tcp-request inspect-delay 1s\n    tcp-request content lua.verdict DENY\n    default_backend none\nbackend none\n    mode tcp\n    server s 127.0.0.1:1\n",
            origin.addr,
            port + 1
        )
    };
    let drive = |port: u16| {
        let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
        let mut answers: Vec<(u16, String)> = ["/codes", "/STOP", "/CONTINUE", "/DENY", "/ERROR"]
            .iter()
            .map(|p| curl(&[&url(p)]))
            .collect();
        for res in ["DENY", "STOP", "CONTINUE"] {
            let (code, head) = curl(&[
                "-s",
                "-D",
                "-",
                "-o",
                "/dev/null",
                "-H",
                &format!("x-res: {res}"),
                &url("/x"),
            ]);
            let after = head.to_ascii_lowercase().contains("x-after: yes");
            answers.push((code, after.to_string()));
        }
        // The TCP connection is closed without a byte.
        answers.push((0, raw(port + 1, b"hello", Duration::from_secs(2))));
        answers
    };
    let keep = |l: &str| l.contains(" fe ") || l.contains(" tcp ");
    let ((ours, our_log), theirs) = both_sides(
        2,
        || Origin::start("app"),
        cfg,
        |port, _, side| {
            let answers = drive(port);
            let select = |out: &str| -> Vec<String> {
                out.lines()
                    .filter(|l| keep(l))
                    .map(str::to_string)
                    .collect()
            };
            (answers, side.selected(select, 9))
        },
    );
    assert_eq!(
        ours[0],
        (
            200,
            "CONTINUE=0 STOP=1 YIELD=2 ERROR=3 DONE=4 DENY=5 ABORT=6 INVALID=7 function".into()
        )
    );
    // Past the deny rule and the answers: no backend takes it.
    assert_eq!(ours[1].0, 503);
    assert_eq!(ours[2].0, 410);
    assert_eq!(ours[3].0, 403);
    assert_eq!(ours[4].0, 500);
    // A response's rules end there; the response goes out (HAProxy 2.6 and 2.7.0 alike).
    assert_eq!(ours[5], (200, "false".into()));
    assert_eq!(ours[6], (200, "false".into()));
    assert_eq!(ours[7], (200, "true".into()));
    assert_eq!(ours[8], (0, String::new()));
    // Status and termination state of each line.
    let fields = |log: &[String]| -> Vec<String> {
        let mut f: Vec<String> = log
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let at = |i: usize| f.get(i).copied().unwrap_or("");
                if l.contains(" tcp ") {
                    format!("tcp {} {}", at(3), at(6))
                } else {
                    format!(
                        "{} {} {}",
                        at(5),
                        at(9),
                        f.get(12..).map(|r| r.join(" ")).unwrap_or_default()
                    )
                }
            })
            .collect();
        f.sort();
        f
    };
    assert!(
        fields(&our_log).contains(&"403 PR-- \"GET /DENY HTTP/1.1\"".to_string()),
        "{our_log:#?}"
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
        assert_eq!(fields(&our_log), fields(&their_log), "the logs differ");
    }
}
