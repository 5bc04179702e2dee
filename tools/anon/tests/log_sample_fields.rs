//! `hapee-anon log --config` on the shapes real configurations log with: a JSON `log-format`
//! holding the request's headers and URI through the `json` converter (escaped `\/` and
//! `\r\n`), a `key=value` format with variables, and the lines Debian's haproxy writes for a
//! request it could not parse (`<BADREQ>` in the method and version fields), which are still
//! read by their frontend's format.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

#[test]
fn escaped_header_blocks_and_unparsed_requests_keep_nothing() {
    if !have_haproxy() {
        return;
    }
    let (json_port, kv_port, origin_port) = (free_port(), free_port(), free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-samples-{}", std::process::id()));
    let cfg = format!(
        r#"{STDOUT_LOG_GLOBAL}{HTTP_LOG_DEFAULTS}frontend json_fe
    bind 127.0.0.1:{json_port}
    http-request set-var(txn.req_hdrs) req.hdrs
    log-format '{{"host":"%H","network":{{"client_ip":"%ci"}},"request":{{"method":"%HM","uri":"%[capture.req.uri,json(utf8s)]","protocol":"%HV","headers":"%[var(txn.req_hdrs),json(utf8s)]"}},"response":{{"status_code":%ST}}}}'
    default_backend web.pool.example
frontend kv_fe
    bind 127.0.0.1:{kv_port}
    http-request set-var(txn.real_ip) req.hdr(x-real-ip)
    http-request set-var(txn.ua) req.fhdr(user-agent)
    http-request set-var(txn.sid) req.cook(sid)
    unique-id-format %{{+X}}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    log-format "backend_name=%b client_ip=%ci frontend_name=%f frontend_transport=%ft method=%HM path=%{{+Q,+E}}HP query=%{{+Q,+E}}HQ real_ip=%[var(txn.real_ip)] ua=%{{+Q}}[var(txn.ua)] cookie=%[var(txn.sid)] id=%ID server_name=%s status_code=%ST termination_state=%ts version=%HV"
    default_backend web.pool.example
backend web.pool.example
    server node-1.dc1.example.com 127.0.0.1:{origin_port}
frontend origin
    bind 127.0.0.1:{origin_port}
    http-request return status 200 content-type text/plain string ok
"#
    );
    let traffic = || {
        let url = "/account/profile?user=alice.smith@mail.example&token=s3cr3tvalue";
        for port in [json_port, kv_port] {
            curl_ok(
                &[
                    "-H",
                    "Host: shop.customer-one.example",
                    "-H",
                    "X-Real-IP: 203.0.113.77",
                    "-H",
                    "Referer: https://ref.partner.example/x?q=hidden",
                    // Quotes HAProxy logs unescaped inside a quoted field.
                    "-H",
                    r#"User-Agent: Mozilla/5.0 "bob@corp.example" (x)"#,
                    "-H",
                    "Cookie: sid=Zk9sd0a1b2c3",
                ],
                &format!("http://127.0.0.1:{port}{url}"),
            );
            // A request haproxy cannot parse: logged by the same format, with `<BADREQ>`.
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GARBAGE\r\n\r\n").unwrap();
            let _ = s.read_to_end(&mut Vec::new());
        }
    };
    let complete =
        |log: &str| log.matches("<BADREQ>").count() >= 2 && log.matches("200").count() >= 2;
    let log = haproxy_log(
        &dir,
        &cfg,
        &[json_port, kv_port, origin_port],
        traffic,
        complete,
    );
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "203.0.113.77",
            "json_fe",
            "kv_fe",
            "web.pool.example",
            "node-1.dc1",
            "shop.customer-one",
            "ref.partner",
            "hidden",
            "alice.smith",
            "mail.example",
            "corp.example",
            "s3cr3tvalue",
            "Zk9sd0a1b2c3",
            // The unique id's hexadecimal client address.
            "7F000001",
            "account",
            "profile",
        ],
    );
    let anon_cfg = anonymized_config(&dir, "k1");
    let kv_fe = token_of(&cfg, &anon_cfg, "frontend kv_fe");
    let mut badreq = 0;
    for line in out.lines().filter(|l| !l.starts_with("Connect from")) {
        if line.starts_with('{') {
            // Still JSON, escapes and all; the machine's name replaced in unparsed lines too.
            let v: serde_json::Value = serde_json::from_str(line).expect(line);
            assert_ne!(v["host"], host.trim(), "{line}");
            let headers = v["request"]["headers"].as_str().unwrap();
            if v["request"]["method"] == "<BADREQ>" {
                badreq += 1;
                continue;
            }
            assert!(
                headers.starts_with("host: ") && headers.ends_with("\r\n\r\n"),
                "{line}"
            );
            assert!(headers.contains("\r\nx-real-ip: 10."), "{line}");
            let uri = v["request"]["uri"].as_str().unwrap();
            assert!(uri.starts_with('/') && uri.contains("?user="), "{line}");
            assert!(line.contains(r#""uri":"\/"#), "escapes kept: {line}");
        } else {
            // Every key of the format kept: the line was read by the format, not scrubbed.
            for key in [
                "frontend_transport=",
                "ua=",
                "termination_state=",
                "status_code=",
            ] {
                assert!(line.contains(key), "{line}");
            }
            assert!(line.contains(&format!("frontend_name={kv_fe} ")), "{line}");
            badreq += usize::from(line.contains("method=<BADREQ>"));
        }
    }
    // Two sent here, and the readiness probes' empty connections.
    assert!(badreq >= 2, "{out}");
}
