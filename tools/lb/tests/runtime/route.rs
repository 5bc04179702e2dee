//! `hapee-lb route` against `hapee-lb run`: for the same requests, the backend, server and
//! headers `route` predicts offline are those a test origin sees through the running proxy,
//! and its deny, redirect and return are what the proxy answers. Covers `use_backend` with a
//! map (a name no backend has sends the request to the default backend, as HAProxy does), `http-request` rules in the frontend and the
//! backend (headers, variables, paths), `tcp-request connection` rules on the source address,
//! TLS with the server name (SNI), and hash balancing (uri, hdr, url_param, source), request bodies (read by `option http-buffer-request` or at `wait-for-body`) and the stick-table reads `route` names as what it cannot know offline.

use super::harness::{curl, free_port, Origin, Proxy, Scratch};
use super::tls::{have, Ca, Pki};
use std::process::Command;

fn route(cfg: &std::path::Path, request: &str, headers: &[&str]) -> serde_json::Value {
    route_with(cfg, &["--src", "127.0.0.1"], request, headers)
}

fn route_with(
    cfg: &std::path::Path,
    options: &[&str],
    request: &str,
    headers: &[&str],
) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hapee-lb"));
    cmd.args(["route", "--format", "json"])
        .args(options)
        .arg("-f")
        .arg(cfg)
        .arg(request);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.output().expect("run hapee-lb route");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("route prints JSON")
}

/// What an origin saw: its name, the path and the headers.
struct AtOrigin {
    server: String,
    path: String,
    headers: Vec<(String, String)>,
}

/// Sends the request with curl (`curl_args` before the URL) and reads what the origin saw.
fn through_run(curl_args: &[&str], headers: &[&str], url: &str) -> AtOrigin {
    let mut args: Vec<&str> = curl_args.to_vec();
    for h in headers {
        args.extend(["-H", h]);
    }
    args.push(url);
    let (status, body) = curl(&args);
    assert_eq!(status, 200, "{url}: {body}");
    let (server, headers) = seen(&body);
    let path = body
        .lines()
        .find_map(|l| l.strip_prefix("path="))
        .unwrap_or("")
        .to_string();
    AtOrigin {
        server,
        path,
        headers,
    }
}

/// The server, path and headers `route` predicted are those the origin saw.
fn assert_same(predicted: &serde_json::Value, seen: &AtOrigin) {
    assert_eq!(predicted["verdict"], "continue", "{predicted}");
    assert_eq!(
        predicted["server"]["name"],
        seen.server.as_str(),
        "{predicted}"
    );
    let uri = predicted["request"]["uri"].as_str().unwrap();
    assert_eq!(
        uri.split('?').next(),
        Some(seen.path.as_str()),
        "{predicted}"
    );
    for pair in predicted["request"]["headers"].as_array().unwrap() {
        let (n, v) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        assert!(
            seen.headers.iter().any(|(an, av)| an == n && av == v),
            "{n}: {v} predicted, origin saw {:?}",
            seen.headers
        );
    }
}

/// `name=…` and the `hdr:name=value` lines an origin wrote back.
fn seen(body: &str) -> (String, Vec<(String, String)>) {
    let name = body
        .lines()
        .find_map(|l| l.strip_prefix("name="))
        .unwrap_or("")
        .to_string();
    let headers = body
        .lines()
        .filter_map(|l| l.strip_prefix("hdr:"))
        .filter_map(|l| l.split_once('='))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    (name, headers)
}

#[test]
fn route_predicts_what_run_does() {
    let origins: Vec<Origin> = ["api", "shop", "dflt", "p1", "p2"]
        .iter()
        .map(|n| Origin::start(n))
        .collect();
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-route-{}-{port}", std::process::id()));
    let map = dir.join("hosts.map");
    std::fs::write(&map, "api.example.com be_api\nshop.example.com be_shop\n").unwrap();
    let config = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   acl is_admin path_beg /admin\n\
         \x20   http-request deny if is_admin\n\
         \x20   http-request redirect location /new code 301 if {{ path /old }}\n\
         \x20   http-request return status 200 content-type text/plain string pong if {{ path /ping }}\n\
         \x20   http-request set-header X-Route-Test yes\n\
         \x20   http-request del-header X-Secret\n\
         \x20   http-request add-header X-Api 1 if {{ hdr(host) -i api.example.com }}\n\
         \x20   use_backend pool if {{ path_beg /pool }}\n\
         \x20   use_backend %[req.hdr(host),lower,map({},be_default)]\n\
         backend be_api\n    server api {}\n\
         backend be_shop\n    server shop {}\n\
         backend be_default\n    server dflt {}\n\
         backend pool\n    balance hdr(x-user)\n    http-request set-header X-Pool yes\n\
         \x20   server p1 {}\n    server p2 {}\n",
        map.display(),
        origins[0].addr,
        origins[1].addr,
        origins[2].addr,
        origins[3].addr,
        origins[4].addr,
    );
    let _proxy = Proxy::start(&config, port);
    let cfg = _proxy.dir.join("haproxy.cfg");
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let cases: [(&str, &[&str]); 6] = [
        ("/users/7", &["Host: api.example.com", "X-Secret: s3"]),
        ("/cart", &["Host: SHOP.example.com"]),
        ("/", &["Host: other.example.org"]),
        ("/pool/a", &["Host: x", "X-User: alice"]),
        ("/pool/b", &["Host: x", "X-User: bob"]),
        ("/pool/c", &["Host: x", "X-User: carol"]),
    ];
    let mut pool_servers = std::collections::BTreeSet::new();
    for (path, headers) in cases {
        let predicted = route(&cfg, &format!("GET {path}"), headers);
        assert_eq!(predicted["verdict"], "continue", "{predicted}");
        let mut args: Vec<String> = Vec::new();
        for h in headers {
            args.push("-H".into());
            args.push(h.to_string());
        }
        args.push(url(path));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, body) = curl(&argv);
        assert_eq!(status, 200, "{body}");
        let (server, at_origin) = seen(&body);
        if path.starts_with("/pool") {
            pool_servers.insert(server.clone());
        }
        assert_eq!(
            predicted["server"]["name"], server,
            "server for {path}: {predicted}"
        );
        // Every header route says leaves for the server arrives there, with its value.
        for pair in predicted["request"]["headers"].as_array().unwrap() {
            let (n, v) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            assert!(
                at_origin.iter().any(|(an, av)| an == n && av == v),
                "{n}: {v} predicted for {path}, origin saw {at_origin:?}"
            );
        }
        // And nothing route says was removed.
        assert!(
            !at_origin.iter().any(|(n, _)| n == "x-secret"),
            "{at_origin:?}"
        );
    }
    // The hash spread the users over both servers: the balance decision was compared, not a
    // lone server.
    assert_eq!(pool_servers.len(), 2, "{pool_servers:?}");
    // Final actions: what route announces is what the proxy answers.
    let deny = route(&cfg, "GET /admin/x", &["Host: x"]);
    assert_eq!(deny["verdict"], "deny 403");
    assert!(deny["backend"].is_null());
    assert_eq!(curl(&[&url("/admin/x")]).0, 403);
    let redirect = route(&cfg, "GET /old", &["Host: x"]);
    assert_eq!(redirect["verdict"], "redirect 301 /new");
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
        ])
        .arg(url("/old"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("301 http://127.0.0.1:{port}/new")
    );
    let ret = route(&cfg, "GET /ping", &["Host: x"]);
    assert_eq!(ret["verdict"], "return 200");
    assert_eq!(curl(&[&url("/ping")]), (200, "pong".to_string()));
    // The rules each say whether their condition held.
    let rules = deny["rules"].as_array().unwrap();
    assert_eq!(rules[0]["rule"], "http-request deny if is_admin");
    assert_eq!(rules[0]["matched"], true);
    assert_eq!(rules[0]["stopped"], "deny 403");
    let place = rules[0]["at"].as_str().unwrap();
    assert!(place.ends_with("haproxy.cfg:9:5"), "{place}");
    let api = route(
        &cfg,
        "GET /users/7",
        &["Host: api.example.com", "X-Secret: s3"],
    );
    let del = api["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "http-request del-header X-Secret")
        .cloned()
        .unwrap();
    assert_eq!(del["headers"][0]["name"], "x-secret");
    assert!(del["headers"][0]["value"].is_null());
    assert_eq!(api["backend"], "be_api");
}

#[test]
fn route_explains_in_words_and_reports_errors_with_their_place() {
    let dir = Scratch::dir(&format!("hapee-route-words-{}", std::process::id()));
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:8080\n    acl api path_beg /api\n    use_backend be_api if api\n    default_backend be_web\n\
         backend be_api\n    server a1 127.0.0.1:9001\nbackend be_web\n    balance source\n    server w1 127.0.0.1:9002\n    server w2 127.0.0.1:9003\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .arg("route")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["-f", cfg.to_str().unwrap(), "GET /index.html"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[ no  ] use_backend be_api if api"), "{text}");
    assert!(text.contains("[default] backend be_web"), "{text}");
    assert!(text.contains("by balance source (hash key 0x"), "{text}");
    // Each line the request went through is named as `check` names places.
    for line in [
        "[ no  ] use_backend be_api if api  (",
        "[default] backend be_web  (",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(text.contains("haproxy.cfg:9:5)\n"), "{text}");
    assert!(text.contains("haproxy.cfg:10:21)\n"), "{text}");
    // What the runtime lacks is named, with its place, since the answer may then differ.
    let with_rdp = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("balance source\n", "balance source\n    grace 1s\n");
    std::fs::write(&cfg, with_rdp).unwrap();
    let out = run(&["-f", cfg.to_str().unwrap(), "--format", "json", "GET /"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // JSON holds what the words say: the places, the client, the default backend taking it.
    assert_eq!(v["client"], "192.0.2.1:40000", "{v}");
    let at = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
    assert!(
        at(&v["use_backend"][0]["at"]).ends_with("haproxy.cfg:9:5"),
        "{v}"
    );
    assert_eq!(v["default_backend"]["name"], "be_web", "{v}");
    assert!(
        at(&v["default_backend"]["at"]).ends_with("haproxy.cfg:10:21"),
        "{v}"
    );
    let missing = v["not_replayed"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{v}");
    assert!(
        missing[0]["at"]
            .as_str()
            .unwrap()
            .ends_with("haproxy.cfg:15:5"),
        "{v}"
    );
    assert!(
        missing[0]["what"]
            .as_str()
            .unwrap()
            .contains("'grace' in a backend section"),
        "{v}"
    );
    // A map the configuration names but this machine lacks: said as such, not as a feature
    // the runtime lacks.
    std::fs::write(
        &cfg,
        "defaults\n    mode http\nfrontend fe\n    bind :80\n    use_backend %[req.hdr(host),map(/nonexistent/hosts.map,be)]\nbackend be\n    server s 127.0.0.1:9\n",
    )
    .unwrap();
    let out = run(&["-f", cfg.to_str().unwrap(), "GET /"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not load") && err.contains("/nonexistent/hosts.map"),
        "{err}"
    );
    assert!(!err.contains("does not support"), "{err}");
    std::fs::write(&cfg, "frontend fe\n    bind :80\n    use_backend nowhere\n").unwrap();
    let out = run(&["-f", cfg.to_str().unwrap(), "GET /"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("haproxy.cfg:3:"), "{err}");
}

#[test]
fn route_follows_variables_fallthrough_connection_rules_and_sni_as_run_does() {
    if !have("curl", &["--version"]) {
        return;
    }
    let origins: Vec<Origin> = ["shop", "gold", "secure", "web", "r1", "r2"]
        .iter()
        .map(|n| Origin::start(n))
        .collect();
    let (port, tls_port) = (free_port(), free_port());
    let pki = Pki::new("route");
    let ca = Ca::new("Hapee Route CA");
    let (c, k) = ca.issue(&["secure.example", "other.example"], false, false);
    let pem = pki.write("site.pem", &(c + &k));
    let map = pki.write(
        "hosts.map",
        "shop.example be_shop\nghost.example be_ghost\n",
    );
    let config = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    bind 127.0.0.1:{tls_port} ssl crt {pem}\n\
         \x20   tcp-request connection reject if {{ src 127.0.0.2 }}\n\
         \x20   http-request set-var(txn.tier) req.hdr(x-tier),lower\n\
         \x20   http-request set-header X-Tier %[var(txn.tier)] if {{ var(txn.tier) -m found }}\n\
         \x20   http-request set-path /api%[path] if {{ path_beg /v1/ }}\n\
         \x20   use_backend %[req.hdr(host),lower,map({map})] if !{{ ssl_fc }} {{ req.hdr(host),lower,map({map}) -m found }}\n\
         \x20   use_backend be_secure if {{ ssl_fc_sni -i secure.example }}\n\
         \x20   use_backend be_gold if {{ var(txn.tier) -m str gold }}\n\
         \x20   use_backend be_rr if {{ path_beg /rr }}\n\
         \x20   default_backend be_web\n\
         backend be_shop\n    server shop {}\n\
         backend be_gold\n    http-request set-header X-Gold 1\n    server gold {}\n\
         backend be_secure\n    server secure {}\n\
         backend be_web\n    option http-restrict-req-hdr-names delete\n    server web {}\n\
         backend be_rr\n    server r1 {}\n    server r2 {}\n",
        origins[0].addr, origins[1].addr, origins[2].addr, origins[3].addr, origins[4].addr,
        origins[5].addr,
    );
    let proxy = Proxy::start(&config, port);
    let cfg = proxy.dir.join("haproxy.cfg");
    let plain = format!("http://127.0.0.1:{port}");
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "/v1/items",
            &["Host: nowhere.example", "X-Tier: GOLD"],
            "gold",
        ),
        // The map names a backend that does not exist: the default backend takes the request
        // and the later rules are not tried.
        ("/v1/items", &["Host: ghost.example", "X-Tier: GOLD"], "web"),
        ("/cart", &["Host: shop.example"], "shop"),
        // The backend drops header names with an underscore after its rules.
        ("/", &["Host: nowhere.example", "X_Bad: 1"], "web"),
    ];
    for (path, headers, server) in cases {
        let predicted = route(&cfg, &format!("GET {path}"), headers);
        let seen = through_run(&[], headers, &format!("{plain}{path}"));
        assert_eq!(seen.server, server);
        assert_same(&predicted, &seen);
        let names = |list: &[(String, String)]| list.iter().any(|(n, _)| n == "x_bad");
        let predicted_names: Vec<(String, String)> = predicted["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        assert!(
            !names(&seen.headers) && !names(&predicted_names),
            "{predicted}"
        );
    }
    let ghost = route(
        &cfg,
        "GET /v1/items",
        &["Host: ghost.example", "X-Tier: GOLD"],
    );
    let tried = ghost["use_backend"].as_array().unwrap();
    assert_eq!(tried.len(), 1, "{ghost}");
    assert_eq!(tried[0]["name"], "be_ghost", "{ghost}");
    assert_eq!(tried[0]["chosen"], false);
    assert_eq!(ghost["backend"], "be_web", "{ghost}");
    let gold = route(
        &cfg,
        "GET /v1/items",
        &["Host: nowhere.example", "X-Tier: GOLD"],
    );
    let tried = gold["use_backend"].as_array().unwrap();
    assert_eq!(tried[0]["matched"], false, "{gold}");
    assert_eq!(tried[2]["chosen"], true, "{gold}");
    assert_eq!(gold["request"]["uri"], "/api/v1/items");
    // In words, in the order things run: the frontend's rules, its switch, the backend's rules.
    let in_words = |host: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
            .args(["route", "-f"])
            .arg(&cfg)
            .args(["GET /v1/items", "-H", host, "-H", "X-Tier: GOLD"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ghost = in_words("Host: ghost.example");
    assert!(
        ghost.contains("name 'be_ghost': no such backend: the default backend takes it")
            && ghost.contains("→ backend be_web"),
        "{ghost}"
    );
    let text = in_words("Host: nowhere.example");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("no '{needle}' in:\n{text}"))
    };
    assert!(at("header x-tier: gold") < at("[match] use_backend be_gold"));
    assert!(at("[match] use_backend be_gold") < at("backend be_gold\n"));
    assert!(at("backend be_gold\n") < at("header x-gold: 1"));
    assert!(text.contains("→ backend be_gold, server gold"), "{text}");
    // TLS: the server name decides, as it does for curl's handshake.
    for (sni, server) in [("secure.example", "secure"), ("other.example", "web")] {
        let host = format!("Host: {sni}");
        let predicted = route_with(&cfg, &["--sni", sni], "GET /x", &[&host]);
        let resolve = format!("{sni}:{tls_port}:127.0.0.1");
        let seen = through_run(
            &["-k", "--resolve", &resolve],
            &[&host],
            &format!("https://{sni}:{tls_port}/x"),
        );
        assert_eq!(seen.server, server);
        assert_same(&predicted, &seen);
    }
    // Round robin: the request does not settle the server; route names the first request's
    // pick, which is run's first, and the rotation's other server takes the next.
    let rr = route(&cfg, "GET /rr", &["Host: x"]);
    assert_eq!(rr["server"]["settled"], false, "{rr}");
    assert_eq!(rr["server"]["candidates"], serde_json::json!(["r1", "r2"]));
    let first = through_run(&[], &["Host: x"], &format!("{plain}/rr"));
    assert_same(&rr, &first);
    let second = through_run(&[], &["Host: x"], &format!("{plain}/rr"));
    assert_ne!(second.server, first.server);
    // The connection rule refuses a source address before any request.
    let refused = route_with(
        &cfg,
        &["--src", "127.0.0.2"],
        "GET /",
        &["Host: shop.example"],
    );
    assert_eq!(refused["verdict"], "reject", "{refused}");
    assert_eq!(
        refused["rules"][0]["rule"],
        "tcp-request connection reject if { src 127.0.0.2 }"
    );
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "--interface", "127.0.0.2"])
        .arg(format!("{plain}/"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "run let 127.0.0.2 through: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let _ = std::fs::remove_dir_all(pki.path(""));
}

/// `tcp-request content` rules (they run before the `http-request` ones in HTTP mode, in the
/// frontend and in the backend), maps matched by prefix and by regex, a dynamic name no backend
/// has (the default backend takes it, as HAProxy's does), hash balancing on the URI, a header
/// and a query parameter, and `use-server` with a fixed name or one rendered from the request:
/// `route` predicts what `run` does.
#[test]
fn route_replays_content_rules_maps_and_hash_balancing_as_run_does() {
    if !have("curl", &["--version"]) {
        return;
    }
    let names = ["a1", "a2", "a3", "h1", "h2", "h3", "u1", "u2", "dflt"];
    let origins: Vec<Origin> = names.iter().map(|n| Origin::start(n)).collect();
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-route-maps-{}", std::process::id()));
    let paths = dir.join("paths.map");
    std::fs::write(&paths, "/api/v1 be_api\n/old be_gone\n").unwrap();
    let hosts = dir.join("hosts.map");
    std::fs::write(&hosts, "^shop\\.[a-z]+\\.example$ be_hdr\n").unwrap();
    let (paths, hosts) = (paths.display(), hosts.display());
    let addr = |i: usize| origins[i].addr.to_string();
    let config = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   tcp-request inspect-delay 1s\n\
         \x20   tcp-request content set-var(txn.lane) str(fast)\n\
         \x20   tcp-request content reject if {{ src 127.0.0.3 }}\n\
         \x20   http-request set-header X-Lane %[var(txn.lane)]\n\
         \x20   http-request redirect scheme https code 301 if {{ hdr(host) -i secure.example }}\n\
         \x20   use_backend %[path,map_beg({paths})] if {{ path,map_beg({paths}) -m found }}\n\
         \x20   use_backend %[req.hdr(host),lower,map_reg({hosts})] if {{ req.hdr(host),lower,map_reg({hosts}) -m found }}\n\
         \x20   use_backend be_param if {{ path_beg /param }}\n\
         \x20   default_backend be_default\n\
         backend be_api\n    balance uri\n    server a1 {}\n    server a2 {}\n    server a3 {}\n\
         backend be_hdr\n    balance hdr(x-user)\n    server h1 {}\n    server h2 {}\n    server h3 {}\n\
         backend be_param\n    balance url_param uid\n\
         \x20   tcp-request content set-var(txn.pin) str(u2) if {{ path_beg /param/pin }}\n\
         \x20   use-server %[req.hdr(x-srv)] if {{ req.hdr(x-srv) -m found }}\n\
         \x20   use-server u2 if {{ var(txn.pin) -m str u2 }}\n\
         \x20   server u1 {}\n    server u2 {}\n\
         backend be_default\n    server dflt {}\n",
        addr(0),
        addr(1),
        addr(2),
        addr(3),
        addr(4),
        addr(5),
        addr(6),
        addr(7),
        addr(8),
    );
    let proxy = Proxy::start(&config, port);
    let cfg = proxy.dir.join("haproxy.cfg");
    let plain = format!("http://127.0.0.1:{port}");
    let cases: &[(&str, &[&str])] = &[
        ("/api/v1/users?id=3", &["Host: x"]),
        ("/api/v1/orders", &["Host: x"]),
        ("/api/v1/a/b/c", &["Host: x"]),
        // The map names a backend no configuration has: the default one, no later rule.
        ("/old/page", &["Host: shop.blue.example", "X-User: alice"]),
        ("/shop", &["Host: SHOP.blue.example", "X-User: alice"]),
        ("/shop", &["Host: shop.red.example", "X-User: bob"]),
        ("/shop", &["Host: shop.red.example", "X-User: carol"]),
        ("/param?uid=17", &["Host: x"]),
        ("/param?x=1&uid=alice", &["Host: x"]),
        ("/param/pin?uid=17", &["Host: x"]),
        // A server named by a header; a name no server has ends the use-server rules (the
        // pin after it is not tried) and the balancing decides.
        ("/param/pin?uid=17", &["Host: x", "X-Srv: u1"]),
        ("/param/pin?uid=17", &["Host: x", "X-Srv: ghost"]),
        ("/elsewhere", &["Host: x"]),
    ];
    for (path, headers) in cases {
        let predicted = route(&cfg, &format!("GET {path}"), headers);
        assert_eq!(predicted["server"]["settled"], true, "{predicted}");
        let seen = through_run(&[], headers, &format!("{plain}{path}"));
        assert_same(&predicted, &seen);
        // The variable the content rule set reached the header rule.
        assert!(
            seen.headers
                .iter()
                .any(|(n, v)| n == "x-lane" && v == "fast"),
            "{path}: {:?}",
            seen.headers
        );
    }
    let old = route(&cfg, "GET /old/page", &["Host: shop.blue.example"]);
    assert_eq!(old["backend"], "be_default", "{old}");
    let pinned = route(&cfg, "GET /param/pin?uid=17", &["Host: x"]);
    assert_eq!(pinned["server"]["name"], "u2", "{pinned}");
    assert_eq!(pinned["server"]["use_server"], true, "{pinned}");
    let named = route(&cfg, "GET /param/pin?uid=17", &["Host: x", "X-Srv: u1"]);
    assert_eq!(named["server"]["name"], "u1", "{named}");
    assert_eq!(named["server"]["use_server"], true, "{named}");
    let ghost = route(&cfg, "GET /param/pin?uid=17", &["Host: x", "X-Srv: ghost"]);
    assert_eq!(ghost["server"]["use_server"], false, "{ghost}");
    // The content rule is listed with the others, before them.
    let first = &route(&cfg, "GET /elsewhere", &["Host: x"])["rules"][0];
    assert_eq!(
        first["rule"], "tcp-request content set-var(txn.lane) str(fast)",
        "{first}"
    );
    // A content rule's reject, for the source it names.
    let refused = route_with(&cfg, &["--src", "127.0.0.3"], "GET /", &["Host: x"]);
    assert_eq!(refused["verdict"], "reject", "{refused}");
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "--interface", "127.0.0.3"])
        .arg(format!("{plain}/"))
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "run answered 127.0.0.3: {out:?}");
    // The redirect `route` predicts is run's.
    let redirect = route(&cfg, "GET /x?q=1", &["Host: secure.example"]);
    let (status, _) = curl(&[
        "-H",
        "Host: secure.example",
        "-o",
        "/dev/null",
        &format!("{plain}/x?q=1"),
    ]);
    assert_eq!(
        redirect["verdict"],
        format!("redirect {status} https://secure.example/x?q=1")
    );
}

#[test]
fn route_replays_bodies_source_hashing_and_names_table_reads_as_run_does() {
    if !have("curl", &["--version"]) {
        return;
    }
    let names = ["j1", "j2", "s1", "s2", "s3", "w1", "dflt"];
    let origins: Vec<Origin> = names.iter().map(|n| Origin::start(n)).collect();
    let (port, waits) = (free_port(), free_port());
    let addr = |i: usize| origins[i].addr.to_string();
    // `fe` reads bodies before its rules; `fe_wait` waits for them at a rule.
    let config = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    option http-buffer-request\n\
         \x20   stick-table type ip size 1k expire 1m store http_req_cnt\n\
         \x20   acl flood sc_http_req_cnt(0) gt 100000\n\
         \x20   http-request track-sc0 src\n\
         \x20   http-request deny if flood\n\
         \x20   http-request set-header X-Kind json if {{ req.body -m sub \"kind\\\":\\\"json\" }}\n\
         \x20   use_backend be_json if {{ req.body -m sub \"kind\\\":\\\"json\" }}\n\
         \x20   use_backend be_src if {{ path_beg /src }}\n\
         \x20   default_backend be_default\n\
         frontend fe_wait\n    bind 127.0.0.1:{waits}\n\
         \x20   http-request set-header X-Before %[req.body_len]\n\
         \x20   http-request wait-for-body time 2s\n\
         \x20   http-request set-header X-After %[req.body_len]\n\
         \x20   use_backend be_json if {{ req.body -m sub \"kind\\\":\\\"json\" }}\n\
         \x20   default_backend be_wait\n\
         backend be_json\n    balance uri\n    server j1 {}\n    server j2 {}\n\
         backend be_src\n    balance source\n    server s1 {}\n    server s2 {}\n    server s3 {}\n\
         backend be_wait\n    server w1 {}\n\
         backend be_default\n    server dflt {}\n",
        addr(0),
        addr(1),
        addr(2),
        addr(3),
        addr(4),
        addr(5),
        addr(6),
    );
    let proxy = Proxy::start(&config, port);
    let cfg = proxy.dir.join("haproxy.cfg");
    let json_body = "{\"kind\":\"json\",\"n\":1}";
    // Bodies: read before the rules, and where wait-for-body waits for them.
    for (fe_port, frontend, path, body) in [
        (port, "fe", "/orders", json_body),
        (port, "fe", "/orders", "kind=form"),
        (waits, "fe_wait", "/upload", json_body),
        (waits, "fe_wait", "/upload", "plain text"),
    ] {
        let predicted = route_with(
            &cfg,
            &["--src", "127.0.0.1", "--frontend", frontend, "-d", body],
            &format!("POST {path}"),
            &["Host: x"],
        );
        assert_eq!(predicted["body_bytes"], body.len(), "{predicted}");
        let seen = through_run(
            &["-d", body],
            &["Host: x"],
            &format!("http://127.0.0.1:{fe_port}{path}"),
        );
        assert_same(&predicted, &seen);
    }
    let waited = route_with(
        &cfg,
        &["--frontend", "fe_wait", "-d", json_body],
        "POST /upload",
        &["Host: x"],
    );
    assert_eq!(waited["backend"], "be_json", "{waited}");
    let headers = waited["request"]["headers"].to_string();
    assert!(
        headers.contains("[\"x-after\",\"21\"]") && headers.contains("[\"x-before\",\"0\"]"),
        "{headers}"
    );
    // Source hashing, from two client addresses.
    for src in ["127.0.0.1", "127.0.0.2"] {
        let predicted = route_with(&cfg, &["--src", src], "GET /src/a", &["Host: x"]);
        assert_eq!(predicted["server"]["settled"], true, "{predicted}");
        let seen = through_run(
            &["--interface", src],
            &["Host: x"],
            &format!("http://127.0.0.1:{port}/src/a"),
        );
        assert_same(&predicted, &seen);
    }
    // The stick-table read is named with its place: offline it sees this request alone.
    let reads = &route(&cfg, "GET /", &["Host: x"])["table_reads"];
    assert_eq!(reads[0]["reads"], "sc_http_req_cnt", "{reads}");
    assert!(
        reads[0]["at"]
            .as_str()
            .unwrap()
            .ends_with("haproxy.cfg:10:15"),
        "{reads}"
    );
    assert_eq!(reads.as_array().unwrap().len(), 1, "{reads}");
    let human = Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["route", "-f"])
        .arg(&cfg)
        .arg("GET /")
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("note: stick tables start empty offline")
            && human.contains("  sc_http_req_cnt  ("),
        "{human}"
    );
}
