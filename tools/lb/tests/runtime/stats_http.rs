//! Statistics over HTTP: the Prometheus exporter (against Debian's haproxy and promtool when
//! installed) and the stats page (CSV and JSON exports, the admin form).

use crate::api::{stat_row, tool};
use crate::harness::{
    both, both_reading, curl, free_port, output_with_input, send_and_read, Origin, Proxy, Scratch,
    DEFAULTS,
};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The configuration of the exporter tests, for hapee and for Debian's haproxy alike.
fn exporter_config(port: u16, origin: std::net::SocketAddr) -> String {
    format!(
        "global
    stats socket ipv4@127.0.0.1:{} level admin
{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend app

backend app
    server s1 {origin}
",
        free_port()
    )
}

/// Metric family names of an exposition (its `# TYPE` lines).
fn families(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect()
}

#[test]
fn prometheus_exporter_speaks_haproxys_metrics() {
    let origin = Origin::start("a");
    let port = free_port();
    let _proxy = Proxy::start(&exporter_config(port, origin.addr), port);
    let url = |q: &str| format!("http://127.0.0.1:{port}/metrics{q}");
    for _ in 0..3 {
        assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
    }
    let (code, text) = curl(&[&url("")]);
    assert_eq!(code, 200);
    assert!(text.contains("\nhaproxy_process_nbthread "), "{text}");
    assert!(
        text.contains("\nhaproxy_backend_http_requests_total{proxy=\"app\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE haproxy_frontend_http_responses_total counter\n"));
    assert!(
        text.contains("\nhaproxy_frontend_http_responses_total{proxy=\"web\",code=\"2xx\"} 3\n")
    );
    assert!(text.contains("\nhaproxy_server_status{proxy=\"app\",server=\"s1\",state=\"UP\"} 1\n"));
    assert!(text.contains(
        "# HELP haproxy_frontend_current_sessions Number of current sessions on the frontend, backend or server\n"
    ));
    // Scopes.
    let (_, servers) = curl(&[&url("?scope=server")]);
    assert!(servers
        .lines()
        .filter(|l| !l.starts_with('#'))
        .all(|l| l.starts_with("haproxy_server_")));
    let (_, two) = curl(&[&url("?scope=frontend&scope=backend")]);
    let f = families(&two);
    assert!(f.iter().any(|n| n.starts_with("haproxy_frontend_")));
    assert!(f.iter().any(|n| n.starts_with("haproxy_backend_")));
    assert!(!f
        .iter()
        .any(|n| n.starts_with("haproxy_process_") || n.starts_with("haproxy_server_")));
    assert_eq!(curl(&[&url("?scope=nonsense")]).0, 400);
    // promtool parses it; its only complaint is the one HAProxy's own names earn.
    if tool("promtool", &["--version"]) {
        let out = output_with_input(
            Command::new("promtool").args(["check", "metrics"]),
            text.as_bytes(),
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(
            out.status.code(),
            Some(1),
            "promtool cannot parse it: {said}"
        );
        for complaint in said.lines() {
            assert!(
                complaint.starts_with("haproxy_process_failed_resolutions counter metrics should have \"_total\" suffix"),
                "{said}"
            );
        }
    }
    // The same families as Debian's haproxy for the same configuration, but for the two
    // columns 2.6.12 backported after 2.7.0 and a check duration not measured yet.
    if tool("haproxy", &["-v"]) {
        let hport = free_port();
        let dir = Scratch::dir(&format!("hapee-promex-{hport}"));
        std::fs::write(dir.join("h.cfg"), exporter_config(hport, origin.addr)).unwrap();
        let mut haproxy = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(dir.join("h.cfg"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", hport)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "haproxy did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let (_, theirs) = curl(&[&format!("http://127.0.0.1:{hport}/metrics")]);
        let _ = haproxy.kill();
        let _ = haproxy.wait();
        let mut expected = families(&theirs);
        for later in [
            "haproxy_backend_agg_server_status",
            "haproxy_backend_agg_check_status",
        ] {
            expected.remove(later);
        }
        let ours = families(&text);
        let missing: Vec<_> = expected.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, extra {extra:?}"
        );
    }
}

#[test]
fn stats_page_exports_and_admin_form() {
    let origins = [Origin::start("a"), Origin::start("b")];
    let port = free_port();
    let page_port = free_port();
    let config = format!(
        "{DEFAULTS}
frontend web
    bind 127.0.0.1:{port}
    default_backend app

backend app
    server s1 {}
    server s2 {}

listen stats
    bind 127.0.0.1:{page_port}
    stats enable
    stats uri /admin/stats
    stats realm Ops
    stats auth ops:s3cret
    stats refresh 7s
    stats admin if TRUE
    stats hide-version
    stats show-node edge-1
    stats scope app
    stats scope web
",
        origins[0].addr, origins[1].addr
    );
    let _proxy = Proxy::start(&config, page_port);
    let page = |extra: &str| format!("http://127.0.0.1:{page_port}/admin/stats{extra}");
    // Authentication.
    let out = Command::new("curl")
        .args(["-s", "-i", &page("")])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.contains("www-authenticate: Basic realm=\"Ops\""),
        "{head}"
    );
    assert_eq!(curl(&["-u", "ops:wrong", &page("")]).0, 401);
    // The HTML page: both proxies in scope, not the stats one; no version; the node name.
    let out = Command::new("curl")
        .args(["-s", "-i", "-u", "ops:s3cret", &page("")])
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(html.starts_with("HTTP/1.1 200"), "{html}");
    assert!(html.contains("\nrefresh: 7\r\n"), "{html}");
    assert!(html.contains("<title>Statistics Report for HAProxy on edge-1</title>"));
    assert!(html.contains("<a name=\"web\">web</a>") && html.contains("<a name=\"app\">app</a>"));
    assert!(
        !html.contains("<a name=\"stats\">"),
        "stats scope lets only app and web through"
    );
    assert!(!html.contains("version 2.7.0"), "hide-version");
    assert!(html.contains("<th>Status</th><th>LastChk</th>"));
    assert!(html.contains("<input type=\"checkbox\" name=\"s\" value=\"s1\">"));
    // Exports.
    let (code, csv) = curl(&["-u", "ops:s3cret", &page(";csv")]);
    assert_eq!(code, 200);
    assert!(csv.starts_with("# pxname,svname,"), "{csv}");
    assert!(csv.contains("\napp,s2,"));
    let (_, json) = curl(&["-u", "ops:s3cret", &page(";json")]);
    let parsed: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert!(parsed.as_array().unwrap().len() >= 4);
    // The admin form: s1 into maintenance, then traffic skips it.
    let be_id = stat_row(&csv, "app", "BACKEND")["iid"].clone();
    let out = Command::new("curl")
        .args([
            "-s",
            "-i",
            "-u",
            "ops:s3cret",
            "--data",
            &format!("b=%23{be_id}&s=s1&action=maint"),
            &page(""),
        ])
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(
        answer.contains("location: /admin/stats;st=DONE"),
        "{answer}"
    );
    for _ in 0..4 {
        let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        assert_eq!(code, 200);
        assert!(body.contains("name=b"), "{body}");
    }
    let (_, csv) = curl(&["-u", "ops:s3cret", &page(";csv")]);
    assert_eq!(stat_row(&csv, "app", "s1")["status"], "MAINT");
}

/// A `frontend` with `stats uri` and no backend answers with its own page (HAProxy makes a
/// frontend without a backend its own), logged as `<STATS>`; what no page takes gets 503.
#[test]
fn a_frontend_without_backend_serves_its_own_stats_page_as_haproxy_does() {
    let config = |port: u16| {
        format!(
            "global
    log stdout format raw local0
{DEFAULTS}
    log global
    option httplog
frontend stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /stats
    stats auth admin:admin
    stats admin if TRUE
"
        )
    };
    let drive = |port: u16| {
        let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
        let code = |args: &[&str]| curl(args).0;
        let (csv_code, csv) = curl(&["-u", "admin:admin", &url("/stats;csv")]);
        let frontend_row = csv.lines().any(|l| l.starts_with("stats,FRONTEND,"));
        (
            code(&["-u", "admin:admin", &url("/stats")]),
            code(&[&url("/stats")]),
            csv_code,
            frontend_row,
            code(&[&url("/other")]),
        )
    };
    let ((mine, log), theirs) = both_reading(1, config, |port, side| {
        let answers = drive(port);
        (
            answers,
            side.stdout_when(|l| l.contains("\"GET /other HTTP/1.1\"")),
        )
    });
    assert_eq!(mine, (200, 401, 200, true, 503));
    // The page is an applet: no queue, connect or response time (0, never -1). Its `Tq` and
    // `Ta` are measured, and a loaded machine may wake the proxy between the client's connect
    // and its request, or in the middle of the page: any number of milliseconds.
    let page = regex::Regex::new(r" stats stats/<STATS> \d+/0/0/0/\d+ 200 ").unwrap();
    assert!(log.lines().any(|l| page.is_match(l)), "{log}");
    if let Some((theirs, _)) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The frontend's own stats page is looked for before its backend is chosen: with a
/// `default_backend`, the page's URI still gets the page, logged `fe fe/<STATS>`, and the rest
/// goes to the backend.
#[test]
fn a_frontend_stats_page_is_served_before_its_default_backend() {
    let origin = Origin::start("app");
    let config = |port: u16| {
        format!(
            "global
    log stdout format raw local0
{DEFAULTS}
    log global
    option httplog
frontend fe
    bind 127.0.0.1:{port}
    stats enable
    stats uri /st
    default_backend app
backend app
    server s1 {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
        let (page_code, page) = curl(&[&url("/st")]);
        let (other_code, other) = curl(&[&url("/other")]);
        (
            page_code,
            page.contains("Statistics Report"),
            other_code,
            other.contains("name=app"),
        )
    };
    let ((mine, log), theirs) = both_reading(1, config, |port, side| {
        let answers = drive(port);
        (
            answers,
            side.stdout_when(|l| l.contains("\"GET /other HTTP/1.1\"")),
        )
    });
    assert_eq!(mine, (200, true, 200, true));
    assert!(
        log.lines()
            .any(|l| l.contains(" fe fe/<STATS> ") && l.contains("\"GET /st HTTP/1.1\"")),
        "{log}"
    );
    if let Some((theirs, their_log)) = theirs {
        assert_eq!(theirs, mine);
        assert!(their_log.contains(" fe fe/<STATS> "), "{their_log}");
    }
}

/// `stats http-request` rules decide who sees the page, the first whose condition holds: `deny`
/// answers 403, `allow` shows the page, `auth` asks for credentials in its realm (the page's
/// default one without `realm`); with no rule holding, the page is shown.
#[test]
fn stats_http_request_rules_allow_deny_and_ask_as_haproxy_does() {
    let config = |port: u16| {
        format!(
            "userlist admins
    user admin insecure-password secret
{DEFAULTS}
listen ops
    bind 127.0.0.1:{port}
    acl is_admin http_auth(admins)
    acl trusted req.hdr(x-trusted) -m found
    stats enable
    stats uri /st
    stats http-request deny if {{ path_end /deny }}
    stats http-request allow if trusted
    stats http-request auth realm Ops unless is_admin
listen plain
    bind 127.0.0.1:{}
    stats enable
    stats uri /st
    stats http-request auth
",
            port + 1
        )
    };
    let drive = |port: u16| {
        let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
        let realm = |(code, text): (u16, String)| {
            let asked = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
                .map(|l| l.trim_end().to_string());
            (code, asked)
        };
        (
            curl(&[&url(port, "/st/deny"), "-u", "admin:secret"]).0,
            curl(&["-H", "x-trusted: 1", &url(port, "/st")]).0,
            realm(curl(&["-i", &url(port, "/st")])),
            curl(&["-u", "admin:secret", &url(port, "/st")]).0,
            realm(curl(&["-i", &url(port + 1, "/st")])),
        )
    };
    let (mine, theirs) = both_reading(2, config, |port, _| drive(port));
    let asked = |realm: &str| Some(format!("www-authenticate: Basic realm=\"{realm}\""));
    assert_eq!(
        mine,
        (
            403,
            200,
            (401, asked("Ops")),
            200,
            (401, asked("HAProxy Statistics"))
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `stats uri /` is compared with the target's path as written: an absolute target without
/// a path (`GET http://a`) has none, so it goes to the server as HAProxy sends it, while
/// `GET http://a/` and `GET /` get the page.
#[test]
fn an_absolute_target_without_path_is_not_the_stats_page() {
    let origin = Origin::start("app");
    let config = |port: u16| {
        format!(
            "{DEFAULTS}
listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /
    server s1 {}
",
            origin.addr
        )
    };
    let drive = |port: u16| {
        let ask = |target: &str| {
            let answer = send_and_read(
                port,
                format!("GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes(),
            );
            (
                answer.split(' ').nth(1).unwrap_or_default().to_string(),
                answer.contains("Statistics Report"),
                answer.contains("name=app"),
            )
        };
        (ask("http://a"), ask("http://a/"), ask("/"))
    };
    let (mine, theirs) = both(config, drive);
    let page = ("200".to_string(), true, false);
    assert_eq!(mine, (("200".to_string(), false, true), page.clone(), page));
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The exporter URL-decodes its query's names and values as HAProxy's does: a bad `%`
/// escape anywhere in the query, or a second `=` in a value, is answered 400 (parameters it
/// does not know included); an escaped `scope` name is read as `scope`. Side by side with
/// Debian's haproxy.
#[test]
fn prometheus_exporter_refuses_a_query_it_cannot_decode() {
    let origin = Origin::start("a");
    let cfg = |port: u16| exporter_config(port, origin.addr);
    let drive = |port: u16| {
        [
            "?x=%41&y=%zz",
            "?%zz",
            "?a=b=c",
            "?x=%41",
            "?sc%6Fpe=server",
            "?sc%6Fpe=bogus",
        ]
        .map(|q| {
            let (code, text) = curl(&[&format!("http://127.0.0.1:{port}/metrics{q}")]);
            let global = text.contains("\nhaproxy_process_nbthread ");
            format!("{q} {code} {global}")
        })
    };
    let (mine, theirs) = both(cfg, drive);
    assert_eq!(
        mine,
        [
            "?x=%41&y=%zz 400 false",
            "?%zz 400 false",
            "?a=b=c 400 false",
            "?x=%41 200 true",
            "?sc%6Fpe=server 200 false",
            "?sc%6Fpe=bogus 400 false",
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// The admin form's status word, as HAProxy reads the form from its last parameter: an
/// unknown backend or action is `ERRP` at once, a form without backend, action or server
/// (empty, other words only) is `NONE`, a server the backend lacks changes nothing (`ERRP`),
/// a server changed is `DONE`. Side by side with Debian's haproxy.
#[test]
fn the_admin_form_answers_haproxys_status_words() {
    let config = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    stats enable
    stats uri /
    stats admin if TRUE
backend app
    server s1 127.0.0.1:9
    server s2 127.0.0.1:9
"
        )
    };
    let forms = [
        "",
        "xyz",
        "a=1&b=2",
        "s=s1&action=maint",
        "b=app&s=zz&action=maint",
        "b=app&s=s1&action=bogus",
        "b=nope&s=s1&action=maint",
        "s=s2&b=app&action=drain",
        "b=app&s=s1&s=zz&action=ready",
    ];
    let drive = |port: u16| {
        forms
            .iter()
            .map(|form| {
                let answer = send_and_read(
                    port,
                    format!(
                        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
                        form.len()
                    )
                    .as_bytes(),
                );
                answer
                    .lines()
                    .find_map(|l| {
                        l.get(..10)
                            .filter(|p| p.eq_ignore_ascii_case("location: "))
                            .map(|_| l[10..].trim().to_string())
                    })
                    .unwrap_or(answer)
            })
            .collect::<Vec<_>>()
    };
    let (mine, theirs) = both(config, drive);
    let words = [
        "NONE", "NONE", "ERRP", "NONE", "ERRP", "ERRP", "ERRP", "DONE", "PART",
    ];
    let expected: Vec<String> = words.iter().map(|w| format!("/;st={w}")).collect();
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
