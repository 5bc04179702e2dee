//! Cookie persistence (`cookie` insert/rewrite/prefix, `indirect`, `nocache`, `dynamic`,
//! `force-persist`/`ignore-persist`, `option persist`) and the monitor URI, side by side with
//! Debian's haproxy: the same answers, the same `Set-Cookie` headers, the same `%tsc`.

use super::harness::{both_reading, raw, raw_server, Origin};
use std::net::SocketAddr;
use std::time::Duration;

struct Servers {
    a: SocketAddr,
    b: SocketAddr,
    /// Sets `SRV=app` (the cookie of the rewrite backend).
    sets_srv: SocketAddr,
    /// Sets `JSESSIONID=xyz` (the application cookie of the prefix backend).
    sets_session: SocketAddr,
    /// Answers with an `ETag`: a response a cache may keep.
    cacheable: SocketAddr,
}

fn config(port: u16, s: &Servers) -> String {
    format!(
        "global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format \"%ci %ft %b/%s %ST %tsc %{{+Q}}r\"
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    monitor-uri /lb-health
    monitor fail if {{ req.hdr(x-fail) -m found }}
    use_backend rw if {{ path_beg /rw }}
    use_backend pfx if {{ path_beg /pfx }}
    use_backend pfxset if {{ path_beg /pset }}
    use_backend dyn if {{ path_beg /dyn }}
    use_backend keep if {{ path_beg /keep }}
    use_backend nc if {{ path_beg /nc }}
    use_backend idle if {{ path_beg /idle }}
    default_backend ins
backend ins
    balance first
    cookie SRV insert indirect nocache httponly secure domain .example.com attr SameSite=Lax
    ignore-persist if {{ path_beg /ins/ignore }}
    server a {a} cookie ca
    server b {b} cookie cb
    server c 127.0.0.1:9 cookie cc disabled
backend keep
    option persist
    retries 1
    cookie SRV insert
    force-persist if {{ path_beg /keep/force }}
    server a {a} cookie ka
    server c 127.0.0.1:9 cookie kc disabled
backend rw
    cookie SRV rewrite
    server a {sets_srv} cookie ra
backend pfx
    cookie JSESSIONID prefix
    server a {a} cookie pa
backend pfxset
    cookie JSESSIONID prefix
    server a {sets_session} cookie pa
backend idle
    cookie SRV insert indirect maxidle 30m maxlife 1d
    server a {a} cookie ia
backend nc
    cookie SRV insert nocache
    server a {cacheable} cookie na
backend dyn
    cookie DYN insert dynamic
    dynamic-cookie-key s3cr3t
    server a {a}
",
        a = s.a,
        b = s.b,
        sets_srv = s.sets_srv,
        sets_session = s.sets_session,
        cacheable = s.cacheable,
    )
}

/// Requests with the cookies they carry (and a header that fails the monitor).
const REQUESTS: &[(&str, &str)] = &[
    ("/ins/1", ""),
    ("/ins/2", "Cookie: SRV=cb; other=1\r\n"),
    ("/ins/3", "Cookie: first=0; SRV=zz\r\n"),
    ("/ins/4", "Cookie: SRV=\r\n"),
    ("/ins/5", "Cookie: SRV=cc\r\n"),
    ("/ins/ignore", "Cookie: SRV=cb\r\n"),
    ("/keep/1", "Cookie: SRV=ka\r\n"),
    ("/keep/2", "Cookie: SRV=kc\r\n"),
    ("/rw/1", ""),
    ("/rw/2", "Cookie: SRV=ra\r\n"),
    ("/pfx/1", "Cookie: a=1; JSESSIONID=pa~abc\r\n"),
    ("/pfx/2", "Cookie: JSESSIONID=zz~abc\r\n"),
    ("/pset/1", ""),
    ("/dyn/1", ""),
    ("/nc/1", ""),
    // Dates from 1970: unused for too long.
    ("/idle/1", "Cookie: SRV=ia|AAAAB\r\n"),
    ("/idle/2", "Cookie: SRV=ia|AAAAB|AAAAB\r\n"),
    ("/idle/3", ""),
    ("/lb-health", ""),
    ("/lb-health", "x-fail: 1\r\n"),
];

/// What the client sees that the cookies decide: the status, the `Set-Cookie` and
/// `Cache-Control` headers, the server's name and the cookies it was sent.
fn answer(port: u16, path: &str, extra: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\n{extra}Connection: close\r\n\r\n");
    let out = raw(port, request.as_bytes(), Duration::from_secs(5));
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.split("\r\n");
    let mut kept = vec![lines.next().unwrap_or("").to_string()];
    // Sorted: the order of different header names is no part of the behaviour.
    let mut headers: Vec<String> = lines
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("set-cookie:") || l.starts_with("cache-control:")
        })
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap_or((l, ""));
            format!("{}: {}", n.to_ascii_lowercase(), mask_dates(v.trim()))
        })
        .collect();
    headers.sort();
    kept.extend(headers);
    kept.extend(
        body.lines()
            .filter(|l| l.starts_with("name=") || l.starts_with("hdr:cookie="))
            .map(String::from),
    );
    kept.join("\n")
}

/// Cookie dates (`|` and five base64 characters) as `|DATE`: they follow the clock.
fn mask_dates(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('|') {
        out.push_str(&rest[..i]);
        out.push_str("|DATE");
        rest = rest.get(i + 6..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn answers(port: u16) -> Vec<String> {
    REQUESTS.iter().map(|(p, e)| answer(port, p, e)).collect()
}

fn log_lines(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        // The start-up probe's empty connection is no request of the test.
        .filter(|l| l.contains(" fe ") && !l.contains("<BADREQ>"))
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
        .collect();
    lines.sort();
    lines
}

fn servers(a: &Origin, b: &Origin) -> Servers {
    Servers {
        a: a.addr,
        b: b.addr,
        sets_srv: raw_server(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: SRV=app; Path=/\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            Duration::ZERO,
            Duration::ZERO,
        ),
        sets_session: raw_server(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=xyz; Path=/app\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            Duration::ZERO,
            Duration::ZERO,
        ),
        cacheable: raw_server(
            b"HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            Duration::ZERO,
            Duration::ZERO,
        ),
    }
}

#[test]
fn persistence_cookies_and_monitor_uri_are_haproxys() {
    let (a, b) = (Origin::start("a"), Origin::start("b"));
    let s = servers(&a, &b);
    // Monitor requests are not logged.
    let logged = REQUESTS.len() - 2;
    let ((mine, my_log), theirs) = both_reading(
        1,
        |port| config(port, &s),
        |port, side| {
            let got = answers(port);
            (got, side.selected(log_lines, logged))
        },
    );
    let expect = |path: &str, what: &str| {
        let i = REQUESTS.iter().position(|(p, _)| *p == path).unwrap();
        assert!(mine[i].contains(what), "{path}: {what} not in\n{}", mine[i]);
    };
    expect(
        "/ins/1",
        "set-cookie: SRV=ca; path=/; domain=.example.com; HttpOnly; Secure; SameSite=Lax\nname=a",
    );
    // indirect: the server never sees its cookie; a valid one is not set again.
    expect("/ins/2", "HTTP/1.1 200 OK\nname=b\nhdr:cookie=other=1");
    expect("/ins/3", "hdr:cookie=first=0");
    expect("/ins/5", "set-cookie: SRV=ca");
    expect("/keep/1", "HTTP/1.1 200 OK\nname=a");
    expect("/rw/1", "set-cookie: SRV=ra; Path=/");
    expect("/pfx/1", "hdr:cookie=a=1; JSESSIONID=abc");
    expect("/pset/1", "set-cookie: JSESSIONID=pa~xyz; Path=/app");
    expect("/dyn/1", "set-cookie: DYN=");
    // nocache: a response a shared cache could keep is made private.
    expect(
        "/nc/1",
        "cache-control: private\nset-cookie: SRV=na; path=/",
    );
    expect("/idle/1", "set-cookie: SRV=ia|DATE|DATE; path=/");
    let health = REQUESTS.len() - 2;
    assert!(
        mine[health].starts_with("HTTP/1.1 200 OK"),
        "{}",
        mine[health]
    );
    assert!(
        mine[health + 1].starts_with("HTTP/1.1 503"),
        "{}",
        mine[health + 1]
    );
    assert_eq!(
        my_log.len(),
        logged,
        "monitor requests are not logged:\n{my_log:?}"
    );
    for what in ["ins/b 200 --VN ", "idle/a 200 --EI ", "idle/a 200 --OI "] {
        assert!(
            my_log.iter().any(|l| l.contains(what)),
            "{what}: {my_log:?}"
        );
    }
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    for (i, (path, _)) in REQUESTS.iter().enumerate() {
        assert_eq!(theirs[i], mine[i], "{path}");
    }
    assert_eq!(their_log, my_log);
}
