//! Public HAProxy Lua scripts that hapee did not write, run unchanged (`testdata/lua/SOURCES.md`
//! names each repository and commit), through real sockets with curl, and side by side with
//! Debian's haproxy running the same script and configuration where it is installed.
//!
//! Third-party code is not committed here: these tests read the scripts from the folder
//! `HAPEE_PUBLIC_LUA` names (laid out as SOURCES.md lists them), and are ignored unless asked
//! for (`cargo test … lua_public -- --ignored`), so a run without the scripts shows them as not run. The
//! `script` helper serves the scripts this repository wrote, under `testdata/lua`.

use super::harness::{
    curl, free_port, raw_server, with_haproxy, with_haproxy_until, Origin, Proxy, Scratch, DEFAULTS,
};
use std::path::PathBuf;
use std::time::Duration;

/// The absolute path of `testdata/lua/<path>`.
pub(crate) fn script(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/lua")
        .join(path);
    p.canonicalize().unwrap().display().to_string()
}

/// The folder of the public scripts that `HAPEE_PUBLIC_LUA` names.
fn public_scripts() -> PathBuf {
    std::env::var_os("HAPEE_PUBLIC_LUA")
        .map(PathBuf::from)
        .expect("HAPEE_PUBLIC_LUA names the folder of public scripts (testdata/lua/SOURCES.md)")
}

/// The absolute path of `<dir>/<path>`.
fn public(dir: &std::path::Path, path: &str) -> String {
    dir.join(path).canonicalize().unwrap().display().to_string()
}

/// curl with the response head: (status, lower-cased header lines `name: value`, body).
fn fetch(args: &[&str]) -> (u16, Vec<String>, String) {
    let mut all = vec!["-i"];
    all.extend_from_slice(args);
    let (code, text) = curl(&all);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let headers = head
        .lines()
        .skip(1)
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap_or((l, ""));
            format!("{}: {}", n.trim().to_ascii_lowercase(), v.trim())
        })
        .collect();
    (code, headers, body.to_string())
}

fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("{name}: ");
    headers.iter().find_map(|h| h.strip_prefix(prefix.as_str()))
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// haproxytech/haproxy-lua-cors: one action name registered for `http-req` (with three
/// arguments) and for `http-res` (with none), `txn:set_priv`, and a preflight answered with
/// `txn:reply()`/`txn:done()`.
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn haproxytech_cors_answers_preflights_and_tags_responses() {
    let dir = public_scripts();
    let origin = Origin::start("api");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n{DEFAULTS}frontend api\n    bind 127.0.0.1:{port}\n    http-request lua.cors \"GET,PUT,POST\" \"example.com,.trusted.org\" \"X-Custom-Header\"\n    http-response lua.cors\n    default_backend be\nbackend be\n    server s1 {}\n",
            public(&dir, "cors/cors.lua"),
            origin.addr
        )
    };
    let ask = |port: u16| {
        let simple = fetch(&["-H", "Origin: http://example.com", &url(port, "/data")]);
        let sub = fetch(&["-H", "Origin: https://api.trusted.org", &url(port, "/data")]);
        let refused = fetch(&["-H", "Origin: http://evil.example.net", &url(port, "/data")]);
        let preflight = fetch(&[
            "-X",
            "OPTIONS",
            "-H",
            "Origin: http://example.com",
            &url(port, "/data"),
        ]);
        let pick = |r: &(u16, Vec<String>, String)| {
            let mut names: Vec<String> =
                r.1.iter()
                    .filter(|h| h.starts_with("access-control-") || h.starts_with("vary"))
                    .cloned()
                    .collect();
            names.sort();
            (r.0, names)
        };
        [pick(&simple), pick(&sub), pick(&refused), pick(&preflight)]
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    assert_eq!(ours[0].0, 200, "{}", p.stderr());
    assert_eq!(
        ours[0].1,
        [
            "access-control-allow-origin: http://example.com",
            "vary: Accept-Encoding,Origin"
        ]
    );
    assert_eq!(
        ours[1].1,
        [
            "access-control-allow-origin: https://api.trusted.org",
            "vary: Accept-Encoding,Origin"
        ]
    );
    assert!(ours[2].1.is_empty(), "{:?}", ours[2]);
    assert_eq!(ours[3].0, 204);
    assert!(ours[3]
        .1
        .contains(&"access-control-allow-methods: GET,PUT,POST".to_string()));
    assert!(ours[3]
        .1
        .contains(&"access-control-max-age: 600".to_string()));
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// TimWolla/haproxy-auth-request with haproxytech/haproxy-lua-http (which requires a `json`
/// module: rxi/json.lua stands in for Debian's lua-json its CI installs): an action with arguments
/// that reads `core.backends`, a server's `get_stats()`/`get_addr()`, and asks the auth
/// server with a `core.tcp()` cosocket (connect, send, `receive("*l")`).
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn timwolla_auth_request_allows_and_denies_through_a_cosocket() {
    let dir = public_scripts();
    let app = Origin::start("app");
    let auth = Origin::start("auth");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-prepend-path {}/?/http.lua\n    lua-prepend-path {}/json/?.lua\n    lua-load {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    acl ok path_beg /ok\n    http-request lua.auth-request auth_backend /status/204 if ok\n    http-request lua.auth-request auth_backend /status/403 if !ok\n    http-request set-header x-auth-code %[var(txn.auth_response_code)]\n    http-request deny if ! {{ var(txn.auth_response_successful) -m bool }}\n    default_backend app\nbackend app\n    server s1 {}\nbackend auth_backend\n    server auth {}\n",
            public(&dir, "auth-request"),
            public(&dir, "auth-request"),
            public(&dir, "auth-request/auth-request.lua"),
            app.addr,
            auth.addr
        )
    };
    let ask = |port: u16| {
        let allowed = curl(&[&url(port, "/ok/page")]);
        let denied = curl(&[&url(port, "/no/page")]);
        (allowed, denied.0)
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ((code, body), denied) = ask(port);
    assert_eq!(code, 200, "{}", p.stderr());
    assert!(body.contains("name=app"), "{body}");
    assert!(body.contains("hdr:x-auth-code=204"), "{body}");
    assert_eq!(denied, 403);
    // The auth server saw the HEAD requests the script made.
    assert_eq!(auth.hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    if let Some(((theirs, their_denied), _)) = with_haproxy(cfg, ask) {
        assert_eq!((theirs.0, their_denied), (200, 403));
        assert!(theirs.1.contains("hdr:x-auth-code=204"), "{}", theirs.1);
    }
}

/// janeczku/haproxy-acme-validation-plugin: an HTTP service (`use-service`) reading token
/// files with `io.open`, its `register_init` function, and `applet.sf:src()`. The webroot is
/// set by a second file, as a deployment configures the unchanged script.
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn janeczku_acme_http01_serves_tokens_from_the_webroot() {
    let dir = public_scripts();
    let root = Scratch::dir(&format!("hapee-acme-{}", std::process::id()));
    let challenges = root.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenges).unwrap();
    std::fs::write(challenges.join("tok-123_ABC"), "tok-123_ABC.keyauth").unwrap();
    let conf = root.join("acme-conf.lua");
    std::fs::write(
        &conf,
        format!("acme.conf.non_chroot_webroot = \"{}\"\n", root.display()),
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    lua-load {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    acl url_acme_http01 path_beg /.well-known/acme-challenge/\n    http-request use-service lua.acme-http01 if METH_GET url_acme_http01\n    http-request deny\n",
            public(&dir, "acme-http01/acme-http01-webroot.lua"),
            conf.display()
        )
    };
    let ask = |port: u16| {
        [
            fetch(&[&url(port, "/.well-known/acme-challenge/tok-123_ABC")]),
            fetch(&[&url(port, "/.well-known/acme-challenge/missing")]),
            fetch(&[&url(port, "/.well-known/acme-challenge/")]),
        ]
        .map(|(code, headers, body)| (code, header(&headers, "server").map(String::from), body))
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    let server = Some("haproxy/acme-http01-authenticator".to_string());
    assert_eq!(
        ours[0],
        (200, server.clone(), "tok-123_ABC.keyauth\n".into()),
        "{}",
        p.stderr()
    );
    assert_eq!(
        ours[1],
        (404, server.clone(), "resource not found\n".into())
    );
    assert_eq!(ours[2], (400, server, "bad request\n".into()));
    crate::harness::wait_until(Duration::from_secs(10), || {
        p.stderr().contains("[acme] served http-01 token")
    });
    let err = p.stderr();
    assert!(err.contains("[acme] http-01 plugin v0.1.1"), "{err}");
    assert!(
        err.contains("[acme] served http-01 token: tok-123_ABC (client-ip: 127.0.0.1)"),
        "{err}"
    );
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// haproxytechblog/haproxy-lua-samples `urlencode.lua` (a converter in `set-var`) and
/// `magic8ball.lua` (an HTTP service), with the samples' own configuration lines.
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn haproxy_lua_samples_converter_and_service() {
    let dir = public_scripts();
    let origin = Origin::start("servers");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    lua-load {}\n{DEFAULTS}frontend fe_main\n    bind 127.0.0.1:{port}\n    http-request use-service lua.magic8ball if {{ path /magic }}\n    http-request set-var(req.company) str(\"Vinyl & Rare Music\"),lua.urlencode\n    http-request redirect prefix http://%[req.hdr(Host)]/%[var(req.company)] if {{ var(req.company) -m found }} {{ path / }}\n    default_backend be_servers\nbackend be_servers\n    server server1 {}\n",
            public(&dir, "haproxy-lua-samples/urlencode.lua"),
            public(&dir, "haproxy-lua-samples/magic8ball.lua"),
            origin.addr
        )
    };
    let ask = |port: u16| {
        let (code, headers, _) = fetch(&["-H", "Host: shop.test", &url(port, "/")]);
        let redirect = (code, header(&headers, "location").map(String::from));
        let (code, headers, body) = fetch(&[&url(port, "/magic")]);
        let answers = [
            "Reply hazy",
            "Yes - definitely",
            "Don't count on it",
            "Outlook good",
            "Very doubtful",
        ];
        let answered = answers
            .iter()
            .any(|a| body.contains(&format!("<body>{a}</body>")));
        let magic = (
            code,
            header(&headers, "content-type").map(String::from),
            answered,
        );
        (redirect, magic)
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    assert_eq!(
        ours.0,
        (
            302,
            Some("http://shop.test/Vinyl+%26+Rare+Music/".to_string())
        ),
        "{}",
        p.stderr()
    );
    assert_eq!(ours.1, (200, Some("text/html".into()), true));
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}

/// haproxytechblog/haproxy-lua-samples `least_sessions.lua`: a fetch in `use_backend` that
/// walks `core.backends` and sums each UP server's `scur` from `get_stats()`. While one
/// backend holds a slow request, the next goes to the other.
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn haproxy_lua_samples_fetch_routes_to_the_least_busy_backend() {
    let dir = public_scripts();
    let dc1 = Origin::start("dc1");
    let dc2 = Origin::start("dc2");
    let port = free_port();
    let cfg = format!(
        "global\n    lua-load {}\n{DEFAULTS}frontend www\n    bind 127.0.0.1:{port}\n    use_backend %[lua.leastsess_backend]\nbackend www_dc1\n    server server1 {} check inter 200ms\nbackend www_dc2\n    server server1 {} check inter 200ms\n",
        public(&dir, "haproxy-lua-samples/least_sessions.lua"),
        dc1.addr,
        dc2.addr
    );
    let p = Proxy::start(&cfg, port);
    std::thread::sleep(Duration::from_millis(600));
    let u = url(port, "/slow/3000");
    let slow = std::thread::spawn(move || curl(&[&u]));
    std::thread::sleep(Duration::from_millis(800));
    let (code, fast) = curl(&[&url(port, "/fast")]);
    assert_eq!(code, 200, "{}", p.stderr());
    let (code, slow) = slow.join().unwrap();
    assert_eq!(code, 200);
    let name = |b: &str| b.lines().next().unwrap_or("").to_string();
    assert_ne!(name(&slow), name(&fast), "both went to one backend");
}

/// haproxytechblog/haproxy-lua-samples `ipchecker.lua`: an action with two arguments asks a
/// checker over a `core.tcp()` cosocket (`settimeout`, `receive("*l")`, `receive("*a")`) and
/// sets `req.blocked`; `log_work.lua`, a task logging at debug level.
#[test]
#[ignore = "needs the public scripts: set HAPEE_PUBLIC_LUA (testdata/lua/SOURCES.md)"]
fn haproxy_lua_samples_cosocket_action_and_task() {
    let dir = public_scripts();
    let allow = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nallow",
        Duration::ZERO,
        Duration::ZERO,
    );
    let deny = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndeny",
        Duration::ZERO,
        Duration::ZERO,
    );
    let origin = Origin::start("app");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    lua-load {}\n    log stdout format raw local0 debug\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    log global\n    http-request lua.checkip {} {} if {{ path_beg /a }}\n    http-request lua.checkip {} {} if !{{ path_beg /a }}\n    http-request deny if {{ var(req.blocked) -m bool }}\n    default_backend app\nbackend app\n    server s1 {}\n",
            public(&dir, "haproxy-lua-samples/ipchecker.lua"),
            public(&dir, "haproxy-lua-samples/log_work.lua"),
            allow.ip(),
            allow.port(),
            deny.ip(),
            deny.port(),
            origin.addr
        )
    };
    let ask = |port: u16| (curl(&[&url(port, "/a")]).0, curl(&[&url(port, "/b")]).0);
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    assert_eq!(ask(port), (200, 403), "{}", p.stderr());
    let worked = |l: &str| l.contains("Doing some task work!");
    assert!(worked(&p.stdout_when(worked)), "{}", p.stdout());
    if let Some((theirs, log)) = with_haproxy_until(1, cfg, ask, worked) {
        assert_eq!(theirs, (200, 403));
        assert!(log.contains("Doing some task work!"), "{log}");
    }
}
