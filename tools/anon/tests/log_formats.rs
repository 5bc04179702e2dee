//! `hapee-anon log --config`: logs written by Debian's haproxy from a configuration with a JSON
//! `log-format`, a custom one, an `error-log-format` and `option httplog` are anonymized field
//! by field, with the tokens `hapee-anon config` gives the same names.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn have_haproxy() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is missing (CI installs Debian's haproxy package)"
        );
        eprintln!("skipped: haproxy is not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "haproxy did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn anon(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hapee-anon"))
        .args(args)
        .output()
        .expect("run hapee-anon");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The token the anonymized configuration gives the section `keyword name` of the original
/// (same line number).
fn token_of(original: &str, anonymized: &str, line_start: &str) -> String {
    let i = original
        .lines()
        .position(|l| l.trim_start().starts_with(line_start))
        .unwrap_or_else(|| panic!("no '{line_start}' line"));
    let words: Vec<&str> = anonymized
        .lines()
        .nth(i)
        .unwrap()
        .split_whitespace()
        .collect();
    words[1].to_string()
}

#[test]
fn logs_of_each_frontend_format_are_anonymized_field_by_field() {
    if !have_haproxy() {
        return;
    }
    let (json_port, custom_port, origin_port) = (free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("hapee-anon-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = format!(
        r#"global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend json_fe
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
    let cfg_path = dir.join("haproxy.cfg");
    std::fs::write(&cfg_path, &cfg).unwrap();
    let log_path = dir.join("haproxy.log");
    let mut haproxy = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&cfg_path)
        .stdout(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy");
    for port in [json_port, custom_port, origin_port] {
        wait_for(port);
    }
    let url = "/account/profile?user=alice.smith@mail.example&token=s3cr3tvalue";
    for port in [json_port, custom_port, json_port] {
        let out = Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "10",
                "-H",
                "Host: shop.customer-one.example",
            ])
            .arg(format!("http://127.0.0.1:{port}{url}"))
            .output()
            .expect("curl is installed");
        assert_eq!(out.stdout, b"ok");
    }
    // A request haproxy cannot parse: a line of the error-log-format.
    let mut s = TcpStream::connect(("127.0.0.1", json_port)).unwrap();
    s.write_all(b"GARBAGE\r\n\r\n").unwrap();
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut sink);
    // The 3 proxied requests logged by their frontends (the origin logs them too; the
    // readiness probes above are logged as bad requests or connection errors).
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&log_path)
        .unwrap()
        .matches("app_pool")
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "haproxy logged too little");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = haproxy.kill();
    let _ = haproxy.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let cfg_arg = cfg_path.to_str().unwrap();
    let out = anon(&[
        "log",
        "--key",
        "k1",
        "--config",
        cfg_arg,
        log_path.to_str().unwrap(),
    ]);
    // Every line kept, in order.
    assert_eq!(out.lines().count(), log.lines().count(), "{out}");
    for secret in [
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
    ] {
        assert!(!out.contains(secret), "'{secret}' left in:\n{out}");
    }
    // The same tokens as the anonymized configuration.
    let anon_cfg = anon(&["config", "--key", "k1", cfg_arg]);
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
    let other = anon(&[
        "log",
        "--key",
        "k2",
        "--config",
        cfg_arg,
        log_path.to_str().unwrap(),
    ]);
    assert!(!other.contains(&backend));
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

#[test]
fn lines_no_format_describes_keep_no_host_address_email_or_name() {
    let dir = std::env::temp_dir().join(format!("hapee-anon-fallback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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
         Server be_app/plain is UP (10.0.0.8:80), reported by ops@corp.example.com\n",
    )
    .unwrap();
    for with_config in [true, false] {
        let mut args = vec!["log", "--key", "k"];
        if with_config {
            args.extend(["--config", cfg.to_str().unwrap()]);
        }
        args.push(log.to_str().unwrap());
        let out = anon(&args);
        assert_eq!(out.lines().count(), 2);
        for secret in [
            "app.node-1.internal",
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
