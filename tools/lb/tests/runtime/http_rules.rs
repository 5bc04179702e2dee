//! Routing and rules: ACLs, use_backend (static and dynamic), http-request and http-response
//! actions, forwardfor, errors and errorfile.

use crate::harness::*;

fn config(port: u16, app: &Origin, api: &Origin, dir: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    option forwardfor
    acl is_api path_beg /api
    acl internal src 10.0.0.0/8
    http-request deny deny_status 429 if {{ path /limited }}
    http-request deny if {{ path_beg /admin }} !internal
    http-request return status 200 content-type text/plain string pong if {{ path /ping }}
    http-request redirect prefix https://example.com code 301 if {{ path_beg /old }}
    http-request redirect scheme https if {{ hdr(host) -i secure.example }}
    http-request set-header X-Route %[path,lower]
    http-request add-header X-Host-Only %[req.hdr(host),host_only]
    http-request del-header X-Secret
    http-request set-path /rewritten if {{ path /rewrite-me }}
    http-request set-var(txn.who) str(tester)
    http-response set-header X-Served-By hapee
    http-response set-header X-Who %[var(txn.who)]
    use_backend %[req.hdr(x-backend)] if {{ req.hdr(x-backend) -m found }}
    use_backend api if is_api
    default_backend app
backend app
    server s1 {app}
backend api
    server a1 {api}
backend empty
    errorfile 503 {dir}/503.http
    http-error status 403 content-type text/plain string \"no entry\"
    http-request deny if {{ path /forbidden }}
    server gone 127.0.0.1:1 disabled
",
        app = app.addr,
        api = api.addr,
    )
}

#[test]
fn routing_rules_and_rewrites() {
    let app = Origin::start("app");
    let api = Origin::start("api");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-err-{port}"));
    std::fs::write(
        dir.join("503.http"),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nsorry :(\n",
    )
    .unwrap();
    let _p = Proxy::start(&config(port, &app, &api, dir.to_str().unwrap()), port);
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");

    let (code, body) = curl(&[
        &url("/Some/Path"),
        "-H",
        "X-Secret: s3cr3t",
        "-H",
        "Host: www.example.com:8443",
    ]);
    assert_eq!(code, 200);
    assert!(body.contains("name=app"), "{body}");
    assert!(body.contains("hdr:x-route=/some/path"), "{body}");
    assert!(body.contains("hdr:x-host-only=www.example.com"), "{body}");
    assert!(body.contains("hdr:x-forwarded-for=127.0.0.1"), "{body}");
    assert!(!body.contains("s3cr3t"), "{body}");

    let (code, body) = curl(&[&url("/api/v1")]);
    assert_eq!((code, body.contains("name=api")), (200, true), "{body}");
    let (code, body) = curl(&[&url("/x"), "-H", "X-Backend: api"]);
    assert_eq!((code, body.contains("name=api")), (200, true), "{body}");

    let (code, body) = curl(&[&url("/admin/panel")]);
    assert_eq!(code, 403);
    assert_eq!(body, "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n");
    assert_eq!(curl(&[&url("/limited")]).0, 429);
    assert_eq!(curl(&[&url("/ping")]), (200, "pong".to_string()));

    let (code, headers) = curl(&["-D", "-", "-o", "/dev/null", &url("/old/page?q=1")]);
    assert_eq!(code, 301);
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("location: https://example.com/old/page?q=1"),
        "{headers}"
    );
    let (code, headers) = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "Host: secure.example",
        &url("/a"),
    ]);
    assert_eq!(code, 302);
    assert!(
        headers.contains("location: https://secure.example/a"),
        "{headers}"
    );

    let (_, body) = curl(&[&url("/rewrite-me?x=1")]);
    assert!(body.contains("path=/rewritten\nquery=x=1"), "{body}");
    let (_, headers) = curl(&["-D", "-", "-o", "/dev/null", &url("/")]);
    assert!(headers.contains("x-served-by: hapee"), "{headers}");
    assert!(headers.contains("x-who: tester"), "{headers}");

    let (code, body) = curl(&[&url("/"), "-H", "X-Backend: empty"]);
    assert_eq!((code, body.as_str()), (503, "sorry :(\n"));
    let (code, body) = curl(&[&url("/forbidden"), "-H", "X-Backend: empty"]);
    assert_eq!((code, body.as_str()), (403, "no entry"));
}

#[test]
fn buffered_request_bodies_can_be_matched() {
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
{}",
        fe_to_app(
            port,
            "    option http-buffer-request
    http-request deny deny_status 400 if { req.body -m sub forbidden }
    http-request set-header X-Body-Len %[req.body_len]
",
            o.addr
        )
    );
    let _p = Proxy::start(&cfg, port);
    let url = format!("http://127.0.0.1:{port}/post");
    let (code, body) = curl(&["--data-binary", "hello there", &url]);
    assert_eq!(code, 200);
    assert!(
        body.contains("hdr:x-body-len=11") && body.contains("body=hello there"),
        "{body}"
    );
    assert_eq!(curl(&["--data-binary", "a forbidden word", &url]).0, 400);
}

#[test]
fn conditions_on_samples_gone_at_their_rule_never_match() {
    // As in HAProxy, a request header or path no longer exists for response rules (the
    // method does), and a response sample does not exist yet for request rules.
    let o = Origin::start("o");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}
{}",
        fe_to_app(
            port,
            "    http-request set-header X-Too-Early yes if { status 200 }
    http-response set-header X-Path-Seen yes if { path_beg /admin }
    http-response set-header X-Not-Path-Seen yes if !{ path_beg /admin }
    http-response set-header X-Method-Seen yes if { method GET }
",
            o.addr
        )
    );
    let _p = Proxy::start(&cfg, port);
    let (code, out) = curl(&["-i", &format!("http://127.0.0.1:{port}/admin/x")]);
    assert_eq!(code, 200, "{out}");
    let head = out.to_ascii_lowercase();
    assert!(!head.contains("x-path-seen"), "{out}");
    // The ACL does not match, so its negation does.
    assert!(head.contains("x-not-path-seen: yes"), "{out}");
    assert!(head.contains("x-method-seen: yes"), "{out}");
    // The origin echoes request headers it got as hdr:<name>; the request rule never matched.
    assert!(!head.contains("x-too-early"), "{out}");
}

/// `http-after-response` rules see every response: the server's (after `http-response`), and
/// the proxy's own denials and returns; backend rules run before the frontend's.
#[test]
fn after_response_rules_see_server_and_proxy_responses() {
    let app = Origin::start("app");
    let port = free_port();
    let config = format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request deny if {{ path /denied }}
    http-request set-var(txn.ping) str(yes) if {{ path /ping }}
    http-request return status 200 content-type text/plain string pong if {{ path /ping }}
    http-response set-header X-Order response
    http-after-response set-header X-After fe
    http-after-response add-header X-Order fe-after
    http-after-response set-status 299 if {{ status 200 }} {{ var(txn.ping) -m found }}
    default_backend app
backend app
    http-after-response set-header X-Backend-After app
    server s1 {app}
",
        app = app.addr,
    );
    let _p = Proxy::start(&config, port);
    let head = |path: &str| {
        raw(
            port,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            std::time::Duration::from_secs(5),
        )
        .to_ascii_lowercase()
    };
    let served = head("/");
    assert!(served.starts_with("http/1.1 200"), "{served}");
    assert!(served.contains("x-after: fe\r\n"), "{served}");
    assert!(served.contains("x-backend-after: app\r\n"), "{served}");
    let order = served.find("x-order: response").expect(&served);
    assert!(served[order..].contains("x-order: fe-after"), "{served}");

    let denied = head("/denied");
    assert!(denied.starts_with("http/1.1 403"), "{denied}");
    assert!(denied.contains("x-after: fe\r\n"), "{denied}");
    assert!(!denied.contains("x-backend-after"), "{denied}");

    let ping = head("/ping");
    assert!(ping.starts_with("http/1.1 299"), "{ping}");
    assert!(ping.contains("x-after: fe\r\n"), "{ping}");
}

/// `del-header` compares names as its `-m` says (`str`, `beg`, `end`, `sub`, `reg`; case aside),
/// and a `del-header` or `replace-header` naming a header no message can carry (`^Server:.*`)
/// changes nothing: hapee ignored `-m`, and refused to start on such a name (U001). Side by
/// side with Debian's haproxy.
#[test]
fn del_header_matching_methods_and_names_no_header_has() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 hdr x-powered-by php hdr x-debug-one 1 hdr X-Debug-Two 2 hdr x-keep k hdr x-tail-end e hdr x-mid-sub-x s
    http-after-response del-header ^Server:.*
    http-after-response replace-header X-Keep: (.*) \\1x
    http-after-response del-header X-DEBUG -m beg
    http-after-response del-header powered-by$ -m reg
    http-after-response del-header -END -m end
    http-after-response del-header MID-SUB -m sub
"
        )
    };
    let names = |port: u16| -> Vec<String> {
        let (code, out) = curl(&["-i", &format!("http://127.0.0.1:{port}/")]);
        assert_eq!(code, 200);
        let mut names: Vec<String> = out
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_ascii_lowercase()))
            .filter(|n| n.starts_with("x-"))
            .collect();
        names.sort();
        names
    };
    let (mine, theirs) = both(cfg, names);
    assert_eq!(mine, vec!["x-keep".to_string()]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `dom` and `dir` match whole words of the sample: for `dom` a ':' ends a word too (a Host
/// with its port still matches its domain), for `dir` it does not; the delimiters at the
/// pattern's ends are left out, and a pattern of delimiters only (`path_dir /`) matches
/// nothing. Side by side with Debian's haproxy.
#[test]
fn dom_and_dir_match_whole_words_as_haproxy_does() {
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 203 if {{ path_dir / }}
    http-request return status 201 if {{ hdr_dom(host) -i .example.com }}
    http-request return status 202 if {{ path_dir /api/ }}
    http-request return status 205 if {{ path_dir a }}
    http-request return status 299
"
        )
    };
    let statuses = |port: u16| -> Vec<String> {
        [
            ("www.example.com:8443", "/x"),
            ("example.com", "/"),
            ("EXAMPLE.com:80", "/y"),
            ("myexample.com:80", "/api"),
            ("h", "/v1/api?x=1"),
            ("h", "/a:b"),
            ("h", "/z/a"),
            ("h", "/"),
        ]
        .iter()
        .map(|(host, path)| {
            let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            let answer = send_and_read(port, req.as_bytes());
            // The status code of the answer's first line.
            answer.split(' ').nth(1).unwrap_or_default().to_string()
        })
        .collect()
    };
    let (mine, theirs) = both(cfg, statuses);
    let expected = ["201", "201", "201", "202", "202", "299", "205", "299"];
    assert_eq!(mine, expected, "hapee");
    if let Some(theirs) = theirs {
        assert_eq!(theirs, expected, "haproxy");
    }
}
