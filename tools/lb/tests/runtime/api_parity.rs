//! Runtime API commands answered as HAProxy 2.7.0 answers them, side by side over unix
//! sockets: `show stat`'s arguments (domain, a proxy/type/server filter read with `atoi`,
//! options anywhere after it), map and ACL versions (`prepare`, `add @<ver>`, `commit`) and
//! `add map`'s payload with traffic that sees each change, `expert-mode` and
//! `experimental-mode`, `set maxconn global` within the hard limit, `set rate-limit`, and the
//! check columns of a server put in maintenance.

use crate::api::ask;
use crate::harness::*;
use std::time::Duration;

/// One proxy's side of a comparison: its directory (sockets, map and ACL files) and ports.
struct Side {
    /// Its map and ACL files' folder, dropped after the proxy that reads them.
    dir: Scratch,
    port: u16,
}

impl Side {
    fn admin(&self, input: &str) -> String {
        ask(&self.dir.join("admin.sock"), input)
    }

    fn oper(&self, input: &str) -> String {
        ask(&self.dir.join("oper.sock"), input)
    }

    fn map(&self) -> String {
        self.dir.join("hosts.map").display().to_string()
    }

    fn acl(&self) -> String {
        self.dir.join("blocked.acl").display().to_string()
    }

    fn get(&self, path: &str) -> (u16, String) {
        curl(&[&format!("http://127.0.0.1:{}{path}", self.port)])
    }

    /// The CSV row of `px/sv` in `show stat`, by column name.
    fn row(&self, px: &str, sv: &str) -> std::collections::HashMap<String, String> {
        crate::api::stat_row(&self.admin("show stat\n"), px, sv)
    }

    /// Waits until the checked server on a closed port is reported down.
    fn wait_down(&self) {
        let down = wait_until(Duration::from_secs(10), || {
            self.row("app", "s1")["status"] == "DOWN"
        });
        assert!(down, "app/s1 never went down");
    }
}

/// A frontend answering `/m/...` from a map and refusing the sources of an ACL file, a
/// backend with a checked server on a port nothing listens on and an unchecked one, and a
/// statistics page.
fn config(side: &Side, origin: &str) -> String {
    let d = side.dir.display();
    let port = side.port;
    format!(
        "global
    maxconn 300
    stats socket {d}/admin.sock level admin
    stats socket {d}/oper.sock level operator
{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    http-request deny if {{ src -f {d}/blocked.acl }}
    http-request return status 200 content-type text/plain lf-string \"%[path,map({d}/hosts.map,none)]\" if {{ path_beg /m/ }}
    default_backend app
backend app
    server s1 127.0.0.1:{closed} check inter 200
    server s2 {origin}
listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /
",
        stats = port + 1,
        closed = port + 2
    )
}

/// Runs `drive` against hapee, then against HAProxy 2.7.0 when it is there, each on the
/// configuration above with fresh map and ACL files.
fn both_27<T>(name: &str, drive: impl Fn(&Side) -> T) -> (T, Option<T>) {
    let origin = Origin::start("s2");
    let side = |who: &str| {
        let port = free_ports(3);
        let dir = Scratch::dir(&format!(
            "hapee-apip-{name}-{who}-{}-{port}",
            std::process::id()
        ));
        std::fs::write(dir.join("hosts.map"), "/m/a alpha\n/m/b beta\n").unwrap();
        std::fs::write(dir.join("blocked.acl"), "10.99.0.0/16\n").unwrap();
        Side { dir, port }
    };
    let mine = {
        let s = side("hapee");
        let _proxy = Proxy::start(&config(&s, &origin.addr.to_string()), s.port);
        drive(&s)
    };
    let theirs = haproxy_27().map(|program| {
        let s = side("haproxy");
        let _haproxy = Haproxy::start_program(
            &program,
            &config(&s, &origin.addr.to_string()),
            s.port,
            &["-db"],
        );
        drive(&s)
    });
    (mine, theirs)
}

/// What a `show stat` answer comes to for a comparison: each row's proxy, name and status
/// (the figures differ from one process to the other), a CSV header's first field names,
/// or the answer itself.
fn stat_summary(answer: &str) -> String {
    if answer.starts_with("# pxname,") {
        let rows: Vec<String> = answer
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{}/{} {}", f[0], f[1], f[17])
            })
            .collect();
        return rows.join("; ");
    }
    answer.lines().next().unwrap_or("").to_string()
}

#[test]
fn show_stat_reads_its_arguments_as_haproxy_27() {
    let commands = [
        "show stat domain nope",
        "show stat domain resolvers",
        "show stat 0 -1 -1",
        "show stat nope -1 -1",
        // Three words after `stat`: a filter, whatever they are.
        "show stat typed app 4 -1",
        "show stat app 4 -1 up",
        "show stat 3x 4 -1",
        "show stat +3 4 -1 junk up",
        "show stat -1 2 -1 no-maint",
        "show stat -1 3 -1 up",
        "show stat domain proxy app 4 2",
        // Two words: options, ignored.
        "show stat 2 4",
        "show stat stats 1 0",
    ];
    let (mine, theirs) = both_27("stat", |side| {
        side.wait_down();
        // Two pages from the statistics page, which its own listen section serves.
        let page = curl(&[&format!("http://127.0.0.1:{}/", side.port + 1)]);
        assert_eq!(page.0, 200);
        let _ = curl(&[&format!("http://127.0.0.1:{}/;csv", side.port + 1)]);
        let mut out: Vec<String> = commands
            .iter()
            .map(|c| format!("{c} => {}", stat_summary(&side.admin(&format!("{c}\n")))))
            .collect();
        let fe = side.row("stats", "FRONTEND");
        let be = side.row("stats", "BACKEND");
        out.push(format!(
            "stats page: fe req_tot={} intercepted={} be stot={} status={} same bytes in={}",
            fe["req_tot"],
            fe["intercepted"],
            be["stot"],
            be["status"],
            fe["bin"] == be["bin"]
        ));
        out
    });
    let expected_mine = [
        "show stat domain nope => Invalid statistics domain.",
        "show stat 0 -1 -1 => No such proxy.",
        "show stat nope -1 -1 => No such proxy.",
        "show stat typed app 4 -1 => No such proxy.",
        "show stat app 4 -1 up => app/s2 no check",
    ];
    for line in expected_mine {
        assert!(mine.iter().any(|m| m == line), "{line} not in {mine:#?}");
    }
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// A `show map|acl` listing's line for `file`, from its versions on (the part before names
/// where the configuration uses it, which hapee words differently).
fn listing_versions(answer: &str, file: &str) -> String {
    answer
        .lines()
        .find(|l| l.contains(&format!("({file})")))
        .and_then(|l| l.find("curr_ver=").map(|at| l[at..].to_string()))
        .unwrap_or_else(|| format!("no line for {file} in {answer:?}"))
}

/// An answer with the entry ids (`0x...`, addresses under HAProxy) taken out.
fn without_ids(answer: &str) -> String {
    answer
        .lines()
        .map(|l| match l.split_once(' ') {
            Some((id, rest)) if id.starts_with("0x") => format!("ID {rest}"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn map_and_acl_versions_and_payloads_as_haproxy_27() {
    let (mine, theirs) = both_27("maps", |side| {
        let (m, a) = (side.map(), side.acl());
        let mut log: Vec<String> = Vec::new();
        let say = |input: String| {
            let answer = side.admin(&input);
            format!("{input:?} => {}", without_ids(&answer))
        };
        log.push(say(format!("prepare map {m}\n")));
        log.push(say(format!("prepare map {m}\n")));
        log.push(say(format!("add map @1 {m} /m/x ex\n")));
        log.push(say(format!("add map @5 {m} /m/x ex\n")));
        log.push(say(format!("add map @2 {m} /m/c gamma\n")));
        log.push(say(format!("show map @1 {m}\n")));
        log.push(say(format!("show map @2 {m}\n")));
        log.push(say(format!("show map {m}\n")));
        let listing = side.admin("show map\n");
        log.push(listing_versions(&listing, &m));
        // Not in force yet.
        log.push(format!(
            "/m/c {:?} /m/a {:?}",
            side.get("/m/c"),
            side.get("/m/a")
        ));
        log.push(say(format!("commit map @5 {m}\n")));
        log.push(say(format!("commit map {m}\n")));
        log.push(say("commit map @2\n".into()));
        log.push(say(format!("commit map @2 {m}\n")));
        log.push(format!(
            "/m/c {:?} /m/a {:?}",
            side.get("/m/c"),
            side.get("/m/a")
        ));
        log.push(listing_versions(&side.admin("show map\n"), &m));
        // Payloads: a line each, blanks before the value kept out of it; a key without
        // a value stops there; a line without a blank runs into the next one's key.
        log.push(say(format!(
            "add map {m} <<\n/m/p1 v1\n/m/p2 \t v2 two\n\n"
        )));
        log.push(say(format!("add map {m} <<\n/m/p3 v3\nbad\n\n")));
        log.push(say(format!("add map {m} <<\n/m/k1\n/m/k2 v2\n\n")));
        log.push(say("add map <<\n/m/p4 v4\n\n".into()));
        log.push(say(format!("add map {m} /m/q <<\n/m/p5 v5\n\n")));
        log.push(say(format!("add map {m} /m/q\n")));
        log.push(say(format!("show map {m}\n")));
        log.push(format!(
            "/m/p2 {:?} /m/p5 {:?}",
            side.get("/m/p2"),
            side.get("/m/p5")
        ));
        // An ACL version: the traffic is refused once it is in force.
        log.push(say(format!("prepare acl {a}\n")));
        log.push(say(format!("add acl @2 {a} 1.2.3.4\n")));
        log.push(say(format!("add acl @1 {a} 127.0.0.0/8\n")));
        log.push(say(format!("add acl {a}\n")));
        log.push(say(format!("show acl @1 {a}\n")));
        log.push(format!("before commit {}", side.get("/m/c").0));
        log.push(say(format!("commit acl @1 {a}\n")));
        log.push(format!("after commit {}", side.get("/m/c").0));
        log.push(listing_versions(&side.admin("show acl\n"), &a));
        log.push(say(format!("show acl {a}\n")));
        // Unknown references, and `clear` of a version or of the one in force.
        log.push(say("prepare map\n".into()));
        log.push(say(format!("prepare map {m}.nope\n")));
        log.push(say(format!("clear map @9 {m}\n")));
        log.push(say(format!("clear map @2 {m}\n")));
        log.push(say("clear map @2\n".into()));
        log.push(format!("/m/c {:?}", side.get("/m/c")));
        log.push(listing_versions(&side.admin("show map\n"), &m));
        log
    });
    // The dir differs from side to side: compare with it written the same.
    let unify = |lines: Vec<String>, dir: &str| -> Vec<String> {
        lines.into_iter().map(|l| l.replace(dir, "DIR")).collect()
    };
    let find = |lines: &[String], what: &str| lines.iter().any(|l| l.contains(what));
    assert!(find(&mine, "New version created: 2"), "{mine:#?}");
    assert!(
        find(&mine, "/m/c (200, \"gamma\") /m/a (200, \"none\")"),
        "{mine:#?}"
    );
    assert!(find(&mine, "after commit 403"), "{mine:#?}");
    if let Some(theirs) = theirs {
        let dir_of = |lines: &[String]| -> String {
            let first = &lines[0];
            let start = first.find('/').unwrap();
            let end = first.find("/hosts.map").unwrap();
            first[start..end].to_string()
        };
        let (md, td) = (dir_of(&mine), dir_of(&theirs));
        assert_eq!(unify(mine, &md), unify(theirs, &td));
    }
}

#[test]
fn session_modes_and_process_limits_as_haproxy_27() {
    let (mine, theirs) = both_27("modes", |side| {
        let info = |names: &[&str]| -> String {
            let text = side.admin("show info\n");
            names
                .iter()
                .map(|n| {
                    text.lines()
                        .find(|l| l.starts_with(&format!("{n}: ")))
                        .unwrap_or("missing")
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut log = Vec::new();
        // The modes belong to the session: one connection, commands chained.
        log.push(side.admin(
            "expert-mode; expert-mode on; expert-mode; experimental-mode; experimental-mode on; experimental-mode; expert-mode off; expert-mode; experimental-mode yes; experimental-mode\n",
        ));
        log.push(side.admin("expert-mode\n"));
        log.push(side.oper("expert-mode on\n"));
        log.push(format!(
            "listed: {}",
            side.admin("help\n").contains("expert-mode")
        ));
        log.push(side.admin("set maxconn global\n"));
        log.push(side.admin("set maxconn global 301\n"));
        log.push(side.oper("set maxconn global 10\n"));
        log.push(side.admin("set maxconn global 100\n"));
        log.push(info(&["Maxconn", "Hard_maxconn"]));
        log.push(side.admin("set maxconn global -5\n"));
        log.push(info(&["Maxconn", "Hard_maxconn"]));
        log.push(side.admin("set maxconn global 42abc\n"));
        log.push(info(&["Maxconn"]));
        log.push(side.admin("set maxconn global abc\n"));
        log.push(info(&["Maxconn"]));
        log.push(side.admin("set rate-limit foo global 1\n"));
        log.push(side.admin("set rate-limit connections global\n"));
        log.push(side.admin("set rate-limit sessions global -1\n"));
        log.push(side.admin("set rate-limit connections global 7x\n"));
        log.push(side.admin("set rate-limit sessions global 9\n"));
        log.push(side.admin("set rate-limit http-compression global 10\n"));
        log.push(info(&[
            "ConnRateLimit",
            "SessRateLimit",
            "CompressBpsRateLim",
        ]));
        log
    });
    assert_eq!(mine[0], "expert-mode is OFF\n\n\nexpert-mode is ON\n\nexperimental-mode is OFF\n\n\nexperimental-mode is ON\n\n\nexpert-mode is OFF\n\n\nexperimental-mode is OFF\n\n");
    assert!(
        mine.contains(&"Maxconn: 100, Hard_maxconn: 300".to_string()),
        "{mine:#?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// While the server is held down by a failing check, with a few failures behind it.
#[test]
fn a_server_in_maintenance_shows_its_check_as_haproxy_27() {
    let columns = [
        "status",
        "chkfail",
        "chkdown",
        "check_status",
        "check_code",
        "check_desc",
        "check_rise",
        "check_fall",
        "check_health",
        "last_chk",
    ];
    let (mine, theirs) = both_27("maint", |side| {
        side.wait_down();
        // A few failed checks more while down: 2.7 counts none of them in chkfail.
        std::thread::sleep(Duration::from_millis(1200));
        let mut log = Vec::new();
        // How long ago things happened is compared where seconds have passed on both sides.
        let mut look = |when: &str, times: bool| {
            // Read between two checks of the dead server (one every 200 ms): a check in
            // progress shows as `* L4CON` with no `last_chk` yet, on both sides alike.
            let mut row = side.row("app", "s1");
            for _ in 0..50 {
                if !row["check_status"].starts_with("* ") {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
                row = side.row("app", "s1");
            }
            let shown: Vec<String> = columns.iter().map(|c| format!("{c}={}", row[*c])).collect();
            let lastchg: u64 = row["lastchg"].parse().unwrap();
            let downtime: u64 = row["downtime"].parse().unwrap_or(0);
            let times = match times {
                true => format!(" lastchg>=1:{} downtime>=1:{}", lastchg >= 1, downtime >= 1),
                false => String::new(),
            };
            log.push(format!("{when}: {}{times}", shown.join(" ")));
            let state = side.admin("show servers state app\n");
            for line in state
                .lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(' '))
            {
                let f: Vec<&str> = line.split(' ').collect();
                // The check state without its "in progress" bit (1), which depends on when
                // the line is read: a check of the dead server runs every 200 ms.
                let check_state = f[13].parse::<u32>().map_or(-1, |v| i64::from(v & !1));
                // name, op state, admin state, check health, check state
                log.push(format!(
                    "{when}: state {} {} {} {} {check_state}",
                    f[3], f[5], f[6], f[12]
                ));
            }
        };
        look("down", true);
        assert_eq!(side.admin("disable server app/s1\n"), "\n");
        look("maint", true);
        assert_eq!(side.admin("enable server app/s1\n"), "\n");
        side.wait_down();
        look("back", false);
        log
    });
    assert!(
        mine.iter()
            .any(|l| l.starts_with("maint: status=MAINT chkfail=1 chkdown=1 check_status= ")),
        "{mine:#?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
