//! `hapee-anon log --config` on JSON log formats whose values HAProxy quotes itself
//! (`"r":%{+Q}r`, `"h":%{+Q}hr`, `%{+Q}[sample]`) or escapes (`"ua":"%{+E}[…]"`): written by
//! Debian's haproxy, every line stays valid JSON, each field is read by its format (a path gets
//! the same tokens in `%HP` as in `%HU`), and nothing identifying is left.

mod common;

use common::*;

#[test]
fn json_values_quoted_by_haproxy_are_read_field_by_field() {
    if !have_haproxy() {
        return;
    }
    let [quoted, escaped, origin] = [0; 3].map(|_| free_port());
    let dir = ScratchDir::new(&format!("hapee-anon-qjson-{}", std::process::id()));
    let origin_fe = origin_frontend(origin);
    let cfg = format!(
        r#"{STDOUT_LOG_GLOBAL}{HTTP_LOG_DEFAULTS}frontend quoted_fe
    bind 127.0.0.1:{quoted}
    capture request header User-Agent len 128
    capture request header Host len 64
    http-request set-var(txn.user) req.hdr(x-user)
    log-format '{{"c":%{{+Q}}ci,"r":%{{+Q}}r,"u":%{{+Q}}HU,"p":%{{+Q}}HP,"q":%{{+Q}}HQ,"usr":%{{+Q}}[var(txn.user)],"b":%{{+Q}}b,"s":%{{+Q}}s,"f":%{{+Q}}f,"h":%{{+Q}}hr,"st":%ST}}'
    default_backend pool.east
frontend escaped_fe
    bind 127.0.0.1:{escaped}
    capture request header User-Agent len 128
    log-format '{{"c":"%{{+E}}ci","r":"%{{+E}}r","ua":"%{{+E}}[capture.req.hdr(0)]","b":"%{{+E}}b","s":"%{{+E}}s","f":"%{{+E}}f"}}'
    default_backend pool.east
backend pool.east
    server web-01.dc1.corp.example 127.0.0.1:{origin}
{origin_fe}"#
    );
    let traffic = || {
        for (port, agent) in [
            (quoted, "Mozilla/5.0 (X11; Linux x86_64) bob@corp.example"),
            (escaped, "Mozilla/5.0 (X11; \"bob\"@corp.example) {x|y}"),
        ] {
            curl_ok(
                &[
                    "-g",
                    "-H",
                    "Host: shop.customer-one.example",
                    "-H",
                    &format!("User-Agent: {agent}"),
                    "-H",
                    "X-User: carol.jones",
                ],
                &format!(
                    "http://127.0.0.1:{port}/account/john.doe?user=alice.smith@mail.example&token=s3cr3tvalue"
                ),
            );
        }
    };
    let complete = |log: &str| log.matches("pool.east").count() >= 2;
    let log = haproxy_log(&dir, &cfg, &[quoted, escaped, origin], traffic, complete);
    // The readiness probes are logged too, as bad requests (HAProxy then writes `"h":,`).
    let log: String = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("haproxy.log"), &log).unwrap();
    let out = anonymized(&dir, "k1");
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    assert_gone(
        &out,
        &[
            "127.0.0.1",
            "quoted_fe",
            "escaped_fe",
            "pool.east",
            "web-01",
            "corp.example",
            "customer-one",
            "carol",
            "alice.smith",
            "s3cr3tvalue",
            "account",
            "john.doe",
            "bob",
        ],
    );
    // Every line HAProxy wrote as valid JSON stays valid JSON.
    for (before, after) in log.lines().zip(out.lines()) {
        if serde_json::from_str::<serde_json::Value>(before).is_ok() {
            serde_json::from_str::<serde_json::Value>(after).expect(after);
        }
    }
    let anon_cfg = anonymized_config(&dir, "k1");
    let backend = token_of(&cfg, &anon_cfg, "backend pool.east");
    let server = token_of(&cfg, &anon_cfg, "server web-01");
    // The two proxied requests.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .zip(out.lines())
        .filter(|(before, _)| before.contains("pool.east"))
        .map(|(_, l)| serde_json::from_str(l).expect(l))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (v, fe) in lines
        .iter()
        .zip(["frontend quoted_fe", "frontend escaped_fe"])
    {
        assert_eq!(v["b"], backend.as_str(), "{v}");
        assert_eq!(v["s"], server.as_str(), "{v}");
        assert_eq!(v["f"], token_of(&cfg, &anon_cfg, fe).as_str(), "{v}");
        let request = v["r"].as_str().unwrap();
        assert!(request.starts_with("GET /") && request.ends_with(" HTTP/1.1"));
        assert!(request.contains("?user=") && request.contains("&token="));
    }
    // Read by its format: the path has the same tokens in each field, the capture block keeps
    // its braces and its two captures.
    let q = &lines[0];
    let uri = q["u"].as_str().unwrap();
    assert_eq!(
        uri,
        format!("{}{}", q["p"].as_str().unwrap(), q["q"].as_str().unwrap())
    );
    assert!(q["r"].as_str().unwrap().contains(uri), "{q}");
    let captures = q["h"].as_str().unwrap();
    assert!(
        captures.starts_with('{') && captures.ends_with('}') && captures.matches('|').count() == 1,
        "{q}"
    );
    assert_eq!(q["st"], 200);
    // The escaped quotes of the User-Agent stay escaped.
    let ua = lines[1]["ua"].as_str().unwrap();
    assert!(
        ua.starts_with("Mozilla/5.0 (X11; \"") && ua.ends_with('}'),
        "{ua}"
    );
}
