//! `hapee-anon log --config` on logs as syslog carries them (HAProxy's own headers, with or
//! without a host name, RFC5424's structured data) and on custom formats with quoted capture
//! lists and the machine's host name: every line kept, nothing identifying left, tokens as
//! `hapee-anon config` gives them.

mod common;

use common::*;

/// A `log` line without `format` sends an RFC3164 header with no host name unless
/// `log-send-hostname` is set (`<134>Dec  5 13:49:22 haproxy[123]: `): the message behind it is
/// read by its frontend's format all the same, so captured cookies and headers go, and the
/// tokens are `config`'s.
#[test]
fn rfc3164_lines_without_a_host_name_are_read_by_their_format() {
    if !have_haproxy() {
        return;
    }
    let [web, custom, origin] = [0; 3].map(|_| free_port());
    // The syslog server: every datagram is a line.
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let syslog_port = syslog.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = syslog.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            let mut log = sink.lock().unwrap();
            log.push_str(text.trim_end_matches('\n'));
            log.push('\n');
        }
    });
    let dir = ScratchDir::new(&format!("hapee-anon-3164-{}", std::process::id()));
    let origin_fe = origin_frontend(origin);
    let cfg = format!(
        r#"global
    log 127.0.0.1:{syslog_port} local0
{HTTP_LOG_DEFAULTS}frontend web_fe
    bind 127.0.0.1:{web}
    option httplog
    log global
    log 127.0.0.1:{syslog_port} format rfc5424 local1
    http-request set-var(txn.host) req.hdr(host)
    log-format-sd "[meta@32473 client=\"%ci\" host=\"%[var(txn.host)]\" srv=\"%s\"]"
    capture request header Host len 64
    capture request header User-Agent len 128
    capture cookie session len 32
    default_backend be_shop.acme-corp.io
frontend custom_fe
    bind 127.0.0.1:{custom}
    http-request set-var(txn.sess) req.cook(session)
    log-format "%ci:%cp [%tr] %ft %b/%s %ST %B sess=%[var(txn.sess)] %{{+Q}}r"
    default_backend be_shop.acme-corp.io
backend be_shop.acme-corp.io
    server web1.shop.acme-corp.io 127.0.0.1:{origin}
{origin_fe}"#
    );
    let traffic = || {
        for port in [web, custom] {
            curl_ok(
                &[
                    "-H",
                    "Host: shop.acme-corp.com",
                    "-A",
                    "Mozilla/5.0 (alice-laptop.corp.acme.com)",
                    "-b",
                    "session=SeSsIoN9f8e7d6c",
                ],
                &format!("http://127.0.0.1:{port}/login?email=alice.jones@example.org"),
            );
        }
    };
    let complete = |_: &str| {
        let log = received.lock().unwrap();
        log.matches("be_shop.acme-corp.io/").count() >= 3
    };
    haproxy_log(&dir, &cfg, &[web, custom, origin], traffic, complete);
    let log = received.lock().unwrap().clone();
    std::fs::write(dir.join("haproxy.log"), &log).unwrap();
    // `<PRI>Mmm dd hh:mm:ss haproxy[PID]: `: the tag follows the timestamp (the RFC5424
    // line has its own header, with the structured data).
    assert!(
        log.contains(r#"[meta@32473 client="127.0.0.1" host="shop.acme-corp.com""#),
        "{log}"
    );
    let host_less = |l: &str| {
        l.contains(">1 ")
            || l.split_once('>')
                .is_some_and(|(_, rest)| rest.get(16..).is_some_and(|t| t.starts_with("haproxy[")))
    };
    assert!(log.lines().all(host_less), "{log}");
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "web_fe",
            "custom_fe",
            "acme",
            "SeSsIoN9f8e7d6c",
            "alice",
            "example.org",
            "login",
        ],
    );
    // The structured data keeps its shape, its values replaced.
    assert!(out.contains("[meta@32473 client=\"10."), "{out}");
    let anon_cfg = anonymized_config(&dir, "k1");
    let token = |line: &str| token_of(&cfg, &anon_cfg, line);
    let names = format!("{}/{}", token("backend be_shop"), token("server web1.shop"));
    // web_fe logs to both targets.
    for (fe, lines) in [("frontend web_fe", 2), ("frontend custom_fe", 1)] {
        let at = format!(" {} {names} ", token(fe));
        assert_eq!(out.matches(&at).count(), lines, "{at} in {out}");
    }
}

/// `%{+Q}hrl` writes each capture quoted (`"a" "b c"`), `%H` the machine's host name, `%HP`
/// the path alone, and a sample may hold spaces: each is read as its field, so the path loses
/// its segments as in `%HU`, the host name gets its token and the captures theirs.
#[test]
fn quoted_capture_lists_host_names_paths_and_samples_with_spaces() {
    if !have_haproxy() {
        return;
    }
    let [web, origin] = [0; 2].map(|_| free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-hrl-{}", std::process::id()));
    let origin_fe = origin_frontend(origin);
    let cfg = format!(
        r#"{STDOUT_LOG_GLOBAL}{HTTP_LOG_DEFAULTS}frontend list_fe
    bind 127.0.0.1:{web}
    capture request header Host len 64
    capture request header X-Real-IP len 64
    capture response header Content-Type len 64
    http-request set-var(txn.ua) req.fhdr(user-agent)
    log-format "%ci %ft %b/%s %ST %{{+Q}}hrl %{{+Q}}hsl %{{+Q}}HP %{{+Q}}HQ %[var(txn.ua)] %H end"
    default_backend be_shop.acme-corp.io
backend be_shop.acme-corp.io
    server web1.shop.acme-corp.io 127.0.0.1:{origin}
{origin_fe}"#
    );
    let traffic = || {
        curl_ok(
            &[
                "-H",
                "Host: shop.acme-corp.com",
                "-H",
                "X-Real-IP: 198.51.100.23",
                "-A",
                "Mozilla/5.0 (ceo-macbook.acme-corp.com)",
            ],
            &format!("http://127.0.0.1:{web}/secure/frank/page?user=frank@example.com"),
        );
    };
    let complete = |log: &str| log.contains(" end\n");
    let log = haproxy_log(&dir, &cfg, &[web, origin], traffic, complete);
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "list_fe",
            "acme",
            "198.51.100.23",
            "secure",
            "frank",
            "example.com",
        ],
    );
    // The request's line (the readiness probe's is a bad request's, also read by the format).
    let line = out
        .lines()
        .find(|l| l.ends_with(" end") && l.contains(" 200 "))
        .unwrap();
    let probe = out.lines().find(|l| l.contains("<BADREQ>")).unwrap();
    assert!(probe.ends_with(".example.invalid end"), "{probe}");
    let anon_cfg = anonymized_config(&dir, "k1");
    let names = format!(
        " {} {}/{} 200 ",
        token_of(&cfg, &anon_cfg, "frontend list_fe"),
        token_of(&cfg, &anon_cfg, "backend be_shop"),
        token_of(&cfg, &anon_cfg, "server web1.shop")
    );
    assert!(line.contains(&names), "{names} in {line}");
    // Two quoted request captures, one response capture, the path's segments replaced.
    let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert_eq!(quoted.len(), 5, "{line}");
    assert!(quoted[0].ends_with(".example.invalid"), "{line}");
    assert!(quoted[1].starts_with("10."), "{line}");
    assert!(!quoted[2].is_empty(), "{line}");
    assert!(
        quoted[3].starts_with("/p") && quoted[3].matches('/').count() == 3,
        "{line}"
    );
    // The user agent keeps its words; the machine's name is a host name token.
    let words: Vec<&str> = line.split(' ').collect();
    let host = words[words.len() - 2];
    assert!(
        host.starts_with('h') && host.ends_with(".example.invalid"),
        "{line}"
    );
    assert!(line.contains(" Mozilla/5.0 (h"), "{line}");
}
