//! `hapee-anon log --config`: logs written by Debian's haproxy from a configuration with a JSON
//! `log-format`, a custom one, an `error-log-format` and `option httplog` are anonymized field
//! by field, with the tokens `hapee-anon config` gives the same names.

mod common;

use common::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};

#[test]
fn logs_of_each_frontend_format_are_anonymized_field_by_field() {
    if !have_haproxy() {
        return;
    }
    let (json_port, custom_port, origin_port) = (free_port(), free_port(), free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-fmt-{}", std::process::id()));
    let cfg = format!(
        r#"{STDOUT_LOG_GLOBAL}{HTTP_LOG_DEFAULTS}frontend json_fe
    bind 127.0.0.1:{json_port}
    capture request header Host len 64
    log-format '{{"client":"%ci","port":%cp,"frontend":"%ft","backend":"%b","server":"%s","status":%ST,"bytes":%B,"request":%{{+Q}}r,"host":"%hr"}}'
    error-log-format '{{"error":"%[fc_err_str]","client":"%ci","frontend":"%ft"}}'
    default_backend app_pool
frontend custom_fe
    bind 127.0.0.1:{custom_port}
    capture request header Host len 64
    log-format "%ci:%cp %ft %b/%s %ST %B %{{+Q}}HP query=%HQ host=%hr %Tt"
    default_backend app_pool
backend app_pool
    server app.node-1.internal 127.0.0.1:{origin_port}
    server app.node-2.internal 127.0.0.1:{origin_port}
frontend origin_fe
    bind 127.0.0.1:{origin_port}
    option httplog
    http-request return status 200 content-type text/plain string ok
"#
    );
    let traffic = || {
        let url = "/account/profile?user=alice.smith@mail.example&token=s3cr3tvalue";
        for port in [json_port, custom_port, json_port] {
            curl_ok(
                &["-H", "Host: shop.customer-one.example"],
                &format!("http://127.0.0.1:{port}{url}"),
            );
        }
        // A request haproxy cannot parse: a line of the error-log-format.
        let mut s = TcpStream::connect(("127.0.0.1", json_port)).unwrap();
        s.write_all(b"GARBAGE\r\n\r\n").unwrap();
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut sink);
    };
    // The 3 proxied requests logged by their frontends (the origin logs them too; the
    // readiness probes are logged as bad requests or connection errors).
    let complete = |log: &str| log.matches("app_pool").count() >= 3;
    let ports = [json_port, custom_port, origin_port];
    let log = haproxy_log(&dir, &cfg, &ports, traffic, complete);
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "json_fe",
            "custom_fe",
            "origin_fe",
            "app_pool",
            "app.node-1.internal",
            "app.node-2.internal",
            "shop.customer-one.example",
            "alice.smith",
            "mail.example",
            "s3cr3tvalue",
            "account",
            "profile",
        ],
    );
    // The same tokens as the anonymized configuration.
    let anon_cfg = anonymized_config(&dir, "k1");
    let backend = token_of(&cfg, &anon_cfg, "backend app_pool");
    let json_fe = token_of(&cfg, &anon_cfg, "frontend json_fe");
    let custom_fe = token_of(&cfg, &anon_cfg, "frontend custom_fe");
    let origin_fe = token_of(&cfg, &anon_cfg, "frontend origin_fe");
    let servers: Vec<String> = ["server app.node-1", "server app.node-2"]
        .iter()
        .map(|s| token_of(&cfg, &anon_cfg, s))
        .collect();
    let (mut json_lines, mut custom_lines, mut origin_lines) = (0, 0, 0);
    for line in out.lines() {
        if line.starts_with('{') {
            // JSON lines stay JSON, with each field replaced by its kind of token.
            let v: serde_json::Value = serde_json::from_str(line).expect(line);
            assert_eq!(v["frontend"], json_fe.as_str(), "{line}");
            if v.get("error").is_none() {
                json_lines += 1;
                assert_eq!(v["backend"], backend.as_str());
                assert!(servers.contains(&v["server"].as_str().unwrap().to_string()));
                assert_eq!(v["status"], 200);
                let request = v["request"].as_str().unwrap();
                assert!(request.starts_with("GET /") && request.ends_with(" HTTP/1.1"));
                assert!(request.contains("?user=") && request.contains("&token="));
            }
        } else if line.contains(&format!(" {custom_fe} ")) {
            if !line.contains("<BADREQ>") {
                custom_lines += 1;
                assert!(line.contains(&format!(" {backend}/")), "{line}");
                assert!(
                    line.contains(" 200 ") && line.contains(" query=?user="),
                    "{line}"
                );
            }
        } else {
            // httplog lines of the origin.
            assert!(
                line.contains(&format!(" {origin_fe} {origin_fe}/<NOSRV> ")),
                "{line}"
            );
            assert!(line.ends_with('"'), "{line}");
            if !line.contains("<BADREQ>") {
                origin_lines += 1;
                assert!(
                    line.contains(" \"GET /") && line.ends_with(" HTTP/1.1\""),
                    "{line}"
                );
            }
        }
        let client = line
            .split(['"', ':', ' '])
            .find(|w| w.parse::<std::net::Ipv4Addr>().is_ok());
        assert!(
            client.is_some(),
            "client address kept as an address: {line}"
        );
    }
    assert_eq!((json_lines, custom_lines, origin_lines), (2, 1, 3));
    // The output is keyed: another key, other tokens.
    let other = anonymized(&dir, "k2");
    assert!(!other.contains(&backend));
}

#[test]
fn lines_no_format_describes_keep_no_host_address_email_or_name() {
    let dir = ScratchDir::new(&format!("hapee-anon-fallback-{}", std::process::id()));
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        "defaults\n    mode http\nbackend be_app\n    server app.node-1.internal 10.0.0.7:80\n    server plain 10.0.0.8:80\n",
    )
    .unwrap();
    let log = dir.join("events.log");
    std::fs::write(
        &log,
        "Server be_app/app.node-1.internal is DOWN, reason: Layer4 timeout, check duration: 2001ms. 0 active servers left.\n\
         Server be_app/plain is UP (10.0.0.8:80), reported by ops@corp.example.com\n\
         backend be_app lost db_replica.corp.example:5432 ([2001:db8::7]:443, 2001:db8::8)\n",
    )
    .unwrap();
    for with_config in [true, false] {
        let mut args = vec!["log", "--key", "k"];
        if with_config {
            args.extend(["--config", cfg.to_str().unwrap()]);
        }
        args.push(log.to_str().unwrap());
        let out = anon(&args);
        assert_eq!(out.lines().count(), 3);
        for secret in [
            "app.node-1.internal",
            "db_replica",
            "corp.example",
            "2001:db8::7",
            "2001:db8::8",
            "10.0.0.8",
            "ops@corp",
            "corp.example.com",
        ] {
            assert!(
                !out.contains(secret),
                "'{secret}' left (config: {with_config}): {out}"
            );
        }
        if with_config {
            for name in ["be_app/", "/plain "] {
                assert!(!out.contains(name), "'{name}' left: {out}");
            }
        }
        assert!(out.contains(" is DOWN, reason: Layer4 timeout"), "{out}");
    }
}

#[test]
fn inherited_formats_clf_tcplog_samples_and_syslog_headers_are_anonymized() {
    if !have_haproxy() {
        return;
    }
    let [inherited, clf, syslog, tcp, origin] = [0; 5].map(|_| free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-inherit-{}", std::process::id()));
    let captures = "    capture request header X-User len 64\n    capture request header Host len 64\n    capture request header User-Agent len 128\n    capture cookie sid len 32\n";
    let origin_fe = origin_frontend(origin);
    let cfg = format!(
        r#"global
    log stdout format raw local0
    log-send-hostname corp-lb-01.example
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc user=%[capture.req.hdr(0)] sid=%{{+Q}}CC tok=%[var(txn.token)] q=%HQ ua=%[capture.req.hdr(2)] %{{+Q}}r"
    error-log-format "%ci:%cp [%t] %ft conn-error %[fc_err_str]"
frontend inherited_fe
    bind 127.0.0.1:{inherited}
{captures}    http-request set-var(txn.token) url_param(token)
    default_backend app_pool
frontend clf_fe
    bind 127.0.0.1:{clf}
{captures}    option httplog clf
    default_backend app_pool
frontend sys_fe
    bind 127.0.0.1:{syslog}
{captures}    no log
    log stdout format rfc5424 local0
    log stdout format rfc3164 local1
    log-format '{{"c":"%ci","h":"%[capture.req.hdr(1)]","u":"%HU","q":"%HQ","s":"%s"}}'
    default_backend app_pool
frontend tcp_fe
    mode tcp
    bind 127.0.0.1:{tcp}
    option tcplog
    default_backend tcp_pool
backend tcp_pool
    mode tcp
    server db.primary.corp.example 127.0.0.1:{origin}
backend app_pool
    server app.node-1.internal 127.0.0.1:{origin}
{origin_fe}"#
    );
    let traffic = || {
        for port in [inherited, clf, syslog, tcp] {
            curl_ok(
                &[
                    "-H",
                    "Host: shop.customer.example",
                    "-H",
                    "X-User: alice.smith@mail.example",
                    "-b",
                    "sid=abcdef0123",
                    // Spaces in an unquoted field, and the text that follows it (" ") inside it.
                    "-A",
                    "Mozilla/5.0 (X11; Linux x86_64) ops@corp.example Firefox/118.0",
                ],
                &format!("http://127.0.0.1:{port}/account/x?user=bob.jones&token=s3cr3tvalue"),
            );
        }
        // A connection closed before any request: a line of the inherited error-log-format.
        drop(TcpStream::connect(("127.0.0.1", inherited)).unwrap());
    };
    // A line per frontend (two for the one with two syslog targets), four of the origin, and
    // error lines for the connections without a request (the readiness probes', the test's;
    // the probe of the TCP frontend is a TCP session of its own).
    let complete = |log: &str| {
        let count = |needle: &str| log.matches(needle).count();
        count("inherited_fe app_pool/") == 1
            && count("\"clf_fe\"") == 1
            && count("{\"c\":") == 2
            && count("tcp_fe tcp_pool/") == 2
            && count("origin_fe origin_fe/") == 4
            && count("inherited_fe conn-error") >= 2
    };
    let log = haproxy_log(
        &dir,
        &cfg,
        &[inherited, clf, syslog, tcp, origin],
        traffic,
        complete,
    );
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "corp-lb-01",
            "inherited_fe",
            "clf_fe",
            "sys_fe",
            "tcp_fe",
            "origin_fe",
            "app_pool",
            "tcp_pool",
            "app.node-1.internal",
            "db.primary.corp.example",
            "shop.customer",
            "alice",
            "mail.example",
            "abcdef0123",
            "s3cr3tvalue",
            "bob.jones",
            "account",
            "ops@",
            "corp.example",
        ],
    );
    let anon_cfg = anonymized_config(&dir, "k1");
    let token = |line: &str| token_of(&cfg, &anon_cfg, line);
    let (app_pool, tcp_pool) = (token("backend app_pool"), token("backend tcp_pool"));
    let (app_server, db_server) = (token("server app.node-1"), token("server db.primary"));
    let lines: Vec<&str> = out.lines().collect();
    let with = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    // The inherited custom format: names, the user's email, the cookie and the token.
    let inherited_fe = token("frontend inherited_fe");
    let custom = format!(" {inherited_fe} {app_pool}/{app_server} ");
    assert_eq!(with(&custom), 1, "{out}");
    let line = lines.iter().find(|l| l.contains(&custom)).unwrap();
    let email = line
        .split(" user=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap();
    assert!(email.contains('@'), "{line}");
    assert!(
        line.contains(" ua=Mozilla/5.0 (X11; Linux x86_64) "),
        "{line}"
    );
    assert!(
        line.contains(" q=?user=") && line.contains("&token="),
        "{line}"
    );
    // The inherited error-log-format: the error string describes, it is kept.
    assert!(
        with(&format!(" {inherited_fe} conn-error Success")) >= 2,
        "{out}"
    );
    // CLF with its quoted names.
    let clf_fe = token("frontend clf_fe");
    assert_eq!(
        with(&format!("\"{clf_fe}\" \"{app_pool}\" \"{app_server}\"")),
        1,
        "{out}"
    );
    // The same email, the same token, whichever field carried it.
    assert_eq!(with(&format!("\"{email}\"")), 1, "{out}");
    // tcplog.
    let tcp_fe = token("frontend tcp_fe");
    assert_eq!(
        with(&format!(" {tcp_fe} {tcp_pool}/{db_server} ")),
        2,
        "{out}"
    );
    // The JSON format under both syslog headers: the header's host name is replaced too.
    let json: Vec<&&str> = lines.iter().filter(|l| l.contains("{\"c\":")).collect();
    assert_eq!(json.len(), 2, "{out}");
    for line in json {
        let body = &line[line.find('{').unwrap()..];
        let v: serde_json::Value = serde_json::from_str(body).expect(line);
        assert_eq!(v["s"], app_server.as_str(), "{line}");
        assert!(v["u"].as_str().unwrap().contains("?user="), "{line}");
    }
}

/// A JSON format opened by a global `%{+json}o` flag (HAProxy writes no separator before the
/// first field), `%[expr]` fields, IPv6 clients, captures with braces and pipes, and dotted
/// backend and server names: every line kept, nothing identifying left, tokens as `config`'s.
#[test]
fn json_with_global_flags_ipv6_clients_expressions_and_dotted_names() {
    if !have_haproxy() {
        return;
    }
    let ipv6 = TcpListener::bind("[::1]:0").is_ok();
    let [json, expr, origin] = [0; 3].map(|_| free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-json6-{}", std::process::id()));
    let v6 = |port: u16| {
        if ipv6 {
            format!("    bind [::1]:{port}\n")
        } else {
            String::new()
        }
    };
    let origin_fe = origin_frontend(origin);
    let cfg = format!(
        r#"{STDOUT_LOG_GLOBAL}{HTTP_LOG_DEFAULTS}frontend json_fe
    bind 127.0.0.1:{json}
{json6}    capture request header User-Agent len 128
    log-format '%{{+json}}o   {{"client":"%ci","uri":"%HU","q":"%HQ","ua":"%[capture.req.hdr(0)]","srv":"%s","be":"%b","r":"%r"}}'
    default_backend pool.east
frontend expr_fe
    bind 127.0.0.1:{expr}
{expr6}    capture request header X-Forwarded-For len 64
    http-request set-var(txn.host) req.hdr(host)
    http-request set-var(txn.query) query
    http-request set-var(txn.user) req.hdr(x-user)
    log-format "%[src]  %[var(txn.host)] %[var(txn.query)] %[var(txn.user)] %[src,ipmask(24)] %hr %b/%s"
    default_backend pool.east
backend pool.east
    server web-01.dc1.corp.example 127.0.0.1:{origin}
{origin_fe}"#,
        json6 = v6(json),
        expr6 = v6(expr),
    );
    let hosts: &[&str] = if ipv6 {
        &["127.0.0.1", "[::1]"]
    } else {
        &["127.0.0.1"]
    };
    let requests = 2 * hosts.len();
    let traffic = || {
        for host in hosts {
            for port in [json, expr] {
                curl_ok(
                    &[
                        "-g",
                        "-H",
                        "Host: shop.customer-one.example",
                        "-H",
                        "User-Agent: Mozilla/5.0 (X11; bob@corp.example) {x|y}",
                        "-H",
                        "X-Forwarded-For: 203.0.113.77, 2001:db8::1",
                        "-H",
                        "X-User: carol.jones",
                    ],
                    &format!(
                        "http://{host}:{port}/account/john.doe?user=alice.smith@mail.example&token=s3cr3tvalue"
                    ),
                );
            }
        }
    };
    let complete = |log: &str| {
        log.matches("\"be\":\"pool.east\"").count() == hosts.len()
            && log.matches(" pool.east/").count() == hosts.len()
    };
    let log = haproxy_log(&dir, &cfg, &[json, expr, origin], traffic, complete);
    assert_eq!(log.matches("pool.east").count(), requests, "{log}");
    let out = anonymized(&dir, "json6-key");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "::1",
            "shop.customer-one",
            "bob@corp",
            "203.0.113",
            "2001:db8",
            "carol.jones",
            "john.doe",
            "alice.smith",
            "mail.example",
            "s3cr3tvalue",
            "pool.east",
            "web-01",
            "corp.example",
        ],
    );
    let anon_cfg = anonymized_config(&dir, "json6-key");
    let backend = token_of(&cfg, &anon_cfg, "backend pool.east");
    let server = token_of(&cfg, &anon_cfg, "server web-01.dc1.corp.example");
    let json_lines: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        // The readiness probe's connection is logged too, without a request.
        .filter(|v: &serde_json::Value| v["r"] != "<BADREQ>")
        .collect();
    assert_eq!(json_lines.len(), hosts.len(), "{out}");
    for v in &json_lines {
        assert_eq!(v["be"], backend.as_str(), "{v}");
        assert_eq!(v["srv"], server.as_str(), "{v}");
        assert!(v["q"].as_str().unwrap().starts_with("?user="), "{v}");
    }
    let names = format!(" {backend}/{server}");
    assert_eq!(out.matches(&names).count(), hosts.len(), "{out}");
}
