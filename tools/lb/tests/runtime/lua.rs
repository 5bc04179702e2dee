//! Lua scripts (`lua-load`, `lua-load-per-thread`): hapee's own test script
//! (`testdata/lua/basics.lua`) and HAProxy's reg-test scripts, through real sockets, side by
//! side with Debian's haproxy (Lua 5.3) where it runs them too.

use super::harness::{curl, free_port, wait_until, with_haproxy, Proxy, Scratch, DEFAULTS};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

fn script(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/lua")
        .join(name);
    p.canonicalize().unwrap().display().to_string()
}

/// HAProxy's reg-test script `name` (in the shared corpus), or `None` (a failure under CI)
/// when the corpus is not there.
fn corpus_script(name: &str) -> Option<String> {
    crate::harness::corpus_path(&format!("lua/{name}"))
}

/// A configuration loading `load` (a whole `lua-load…` line) with `global` lines, and one
/// frontend on `port` with `rules`, logging to stdout.
fn config(port: u16, load: &str, global: &str, rules: &str) -> String {
    format!(
        "global\n    {load}\n{global}    log stdout format raw local0\n{DEFAULTS}    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n{rules}"
    )
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

#[test]
fn arguments_reach_the_script_through_table_pack_and_an_action_feeds_a_service() {
    let port = free_port();
    let load = format!("lua-load {} hello world", script("basics.lua"));
    let rules = "    http-request lua.tag -x\n    http-request use-service lua.hello\n";
    let p = Proxy::start(&config(port, &load, "", rules), port);
    let (code, body) = curl(&["-H", "x-who: bob", &url(port, "/p")]);
    assert_eq!(code, 200, "{}", p.stderr());
    assert_eq!(
        body,
        "greeting=hello nargs=2 who=bob-x tagged=yes path=/p count=1\n"
    );
    let (_, body) = curl(&[&url(port, "/q")]);
    assert_eq!(
        body,
        "greeting=hello nargs=2 who=nobody-x tagged=yes path=/q count=2\n"
    );
    // The service is logged in place of the server, as HAProxy logs it, with no queue,
    // connect or response time (an applet's 0). `Tq` is measured: a loaded machine may wake
    // the proxy between curl's connect and its request.
    let service = regex::Regex::new(r" fe fe/<lua\.hello> \d+/0/0/0/").unwrap();
    assert!(
        service.is_match(&p.stdout_when(|l| service.is_match(l))),
        "{}",
        p.stdout()
    );
    // The shared state's task ran once (on the first thread, which may have served nothing
    // yet: it is waited for).
    let started = |p: &Proxy| p.stderr().matches("task started in state 0").count();
    wait_until(Duration::from_secs(10), || started(&p) > 0);
    assert_eq!(started(&p), 1, "{}", p.stderr());
}

#[test]
fn a_sleeping_action_lets_the_thread_serve_other_requests() {
    let port = free_port();
    let load = format!("lua-load {}", script("basics.lua"));
    let rules = "    http-request lua.nap\n    http-request use-service lua.hello\n";
    let p = Proxy::start(&config(port, &load, "    nbthread 1\n", rules), port);
    let (tx, rx) = mpsc::channel();
    let u = url(port, "/slow");
    let slow = std::thread::spawn(move || {
        let r = curl(&["-H", "x-nap: 3000", &u]);
        tx.send(()).unwrap();
        r
    });
    std::thread::sleep(Duration::from_millis(300));
    // One worker thread, and it answers while the first request's script sleeps.
    let (code, body) = curl(&[&url(port, "/fast")]);
    assert_eq!(code, 200, "{}", p.stderr());
    assert!(body.contains("path=/fast"));
    assert!(
        rx.try_recv().is_err(),
        "the sleeping request ended before the other one was served"
    );
    let (code, body) = slow.join().unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("path=/slow"));
}

#[test]
fn a_script_error_is_logged_as_haproxy_logs_it_and_the_rules_go_on() {
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("basics.lua"));
        let rules = "    http-request lua.boom\n    http-request use-service lua.hello\n";
        config(port, &load, "", rules)
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let (code, body) = curl(&[&url(port, "/")]);
    // HAProxy reports the failed action and goes on with the next rule.
    assert_eq!(code, 200, "{}", p.stderr());
    assert!(body.starts_with("greeting=none nargs=0"));
    let failed = |l: &str| l.contains("Lua function");
    p.stdout_when(failed);
    let file = script("basics.lua");
    let expected = format!(
        "Lua function 'boom': [state-id 0] runtime error: {file}:20: attempt to index a nil \
         value (local 't') from {file}:20: in function line 18."
    );
    assert!(
        p.stderr().contains(&format!(") : {expected}")),
        "{}",
        p.stderr()
    );
    let ours: Vec<String> = p
        .stdout()
        .lines()
        .filter(|l| l.starts_with("Lua function"))
        .map(String::from)
        .collect();
    assert_eq!(ours, std::slice::from_ref(&expected));
    let Some(((code, _), log)) =
        crate::harness::with_haproxy_until(1, cfg, |port| curl(&[&url(port, "/")]), failed)
    else {
        return;
    };
    assert_eq!(code, 200);
    let theirs: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("Lua function"))
        .collect();
    assert_eq!(theirs, [expected.as_str()]);
}

#[test]
fn an_endless_loop_is_stopped_by_the_timeout_while_other_requests_are_served() {
    let port = free_port();
    let load = format!("lua-load {}", script("basics.lua"));
    let global =
        "    nbthread 1\n    tune.lua.session-timeout 3s\n    tune.lua.forced-yield 1000\n";
    let rules =
        "    http-request lua.spin if { path /spin }\n    http-request use-service lua.hello\n";
    // Under load the loop's 3 s of run time take longer on the clock: the client's own
    // timeout is kept out of the way.
    let cfg = config(port, &load, global, rules).replace("timeout client 5s", "timeout client 30s");
    let p = Proxy::start(&cfg, port);
    let (tx, rx) = mpsc::channel();
    let u = url(port, "/spin");
    let spinning = std::thread::spawn(move || {
        let r = curl(&[&u]);
        tx.send(()).unwrap();
        r
    });
    std::thread::sleep(Duration::from_millis(300));
    let (code, _) = curl(&[&url(port, "/other")]);
    assert_eq!(code, 200);
    assert!(
        rx.try_recv().is_err(),
        "the loop ended before the other request was served"
    );
    let (code, body) = spinning.join().unwrap();
    assert_eq!(code, 200, "{}", p.stderr());
    assert!(body.contains("path=/spin"));
    let file = script("basics.lua");
    assert!(
        p.stderr().contains(&format!(
            "Lua function 'spin': [state-id 0] runtime error: execution timeout from {file}:24: in function line 23."
        )),
        "{}",
        p.stderr()
    );
}

/// A coroutine the count hook yields stops inside the script's function: resumed, that
/// function must find its stack as it left it. (mlua cut it back to empty: the action then
/// failed or panicked on its next call, a few times in a hundred with a hook every 20
/// instructions.)
#[test]
fn actions_yielded_by_the_forced_yield_resume_intact() {
    let port = free_port();
    let load = format!("lua-load {}", script("forced_yield.lua"));
    let global = "    nbthread 1\n    tune.lua.forced-yield 20\n";
    let rules = "    http-request lua.agent\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.agent)]\\n\"\n";
    let p = Proxy::start(&config(port, &load, global, rules), port);
    const REQUESTS: usize = 50;
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let agent = format!("agent-{i}");
            let urls = vec![url(port, "/"); REQUESTS];
            std::thread::spawn(move || {
                let mut args = vec!["-A", &agent];
                args.extend(urls.iter().map(String::as_str));
                let (_, out) = curl(&args);
                out.matches(&format!("{agent}\n")).count()
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap(), REQUESTS, "{}", p.stderr());
    }
    assert!(!p.stderr().contains("Lua function"), "{}", p.stderr());
}

#[test]
fn memory_is_capped_by_maxmem_and_the_proxy_goes_on() {
    let port = free_port();
    let load = format!("lua-load {}", script("basics.lua"));
    // The loop fills 16 MB in well under a second, but its run time is counted on the clock
    // (as HAProxy counts it): on a loaded machine the default 4 s could run out first.
    let global = "    tune.lua.maxmem 16\n    tune.lua.session-timeout 60s\n";
    let rules =
        "    http-request lua.hog if { path /hog }\n    http-request use-service lua.hello\n";
    let p = Proxy::start(&config(port, &load, global, rules), port);
    let (code, _) = curl(&[&url(port, "/hog")]);
    assert_eq!(code, 200, "{}", p.stderr());
    assert!(
        p.stderr()
            .contains("Lua function 'hog': out of memory error."),
        "{}",
        p.stderr()
    );
    let (code, body) = curl(&[&url(port, "/after")]);
    assert_eq!(code, 200);
    assert!(body.contains("path=/after"));
}

/// `(thread, count)` of the `hello` service's answers.
fn counts(port: u16, n: usize) -> Vec<(String, u32)> {
    (0..n)
        .map(|_| {
            let (_, body) = curl(&[&url(port, "/")]);
            let field = |k: &str| {
                body.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .unwrap_or("")
                    .to_string()
            };
            (field("greeting="), field("count=").parse().unwrap_or(0))
        })
        .collect()
}

#[test]
fn per_thread_states_count_apart_and_the_shared_state_counts_for_all() {
    // The greeting (first argument) is the same everywhere; only the counters differ.
    let port = free_port();
    let load = format!("lua-load {} g", script("basics.lua"));
    let rules = "    http-request use-service lua.hello\n";
    let p = Proxy::start(&config(port, &load, "    nbthread 2\n", rules), port);
    let seen = counts(port, 12);
    let shared: Vec<u32> = seen.iter().map(|s| s.1).collect();
    assert_eq!(shared, (1..=12).collect::<Vec<_>>(), "{}", p.stderr());
    drop(p);

    let port = free_port();
    let load = format!("lua-load-per-thread {} g", script("basics.lua"));
    let p = Proxy::start(&config(port, &load, "    nbthread 2\n", rules), port);
    let seen = counts(port, 12);
    // Each state counts its own requests: every count is the number of requests its
    // thread served so far, so the counts are two interleaved runs 1, 2, 3, …
    let mut runs: Vec<u32> = Vec::new();
    for (_, c) in &seen {
        match runs.iter().position(|last| last + 1 == *c) {
            Some(i) => runs[i] = *c,
            None => {
                assert_eq!(*c, 1, "count {c} follows none of {runs:?}: {seen:?}");
                runs.push(1);
            }
        }
    }
    assert!(runs.len() <= 2, "{seen:?}");
    assert_eq!(runs.iter().sum::<u32>(), 12, "{seen:?}");
    assert_eq!(p.stderr().matches("task started in state").count(), 2);
}

#[test]
fn script_fetches_and_converters_work_in_sample_expressions() {
    let port = free_port();
    let load = format!("lua-load {}", script("basics.lua"));
    let rules =
        "    http-request return content-type text/plain lf-string \"%[lua.twice(ab),lua.rev]\"\n";
    let p = Proxy::start(&config(port, &load, "", rules), port);
    assert_eq!(
        curl(&[&url(port, "/")]),
        (200, "baba".to_string()),
        "stderr: {}\nstdout: {}",
        p.stderr(),
        p.stdout()
    );
}

#[test]
fn a_reply_given_to_txn_done_ends_the_transaction_as_in_haproxy() {
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("basics.lua"));
        let rules = "    http-request lua.stop\n    http-request use-service lua.hello\n";
        config(port, &load, "", rules)
    };
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    let ask = |port: u16| curl(&["-i", &url(port, "/")]);
    let (code, ours) = ask(port);
    assert_eq!(code, 403);
    assert!(ours.starts_with("HTTP/1.1 403 Go Away\r\n"), "{ours}");
    assert!(ours.contains("x-why: lua\r\n"));
    assert!(ours.ends_with("\r\n\r\nstopped by lua\n"));
    let Some(((code, theirs), _)) = with_haproxy(cfg, ask) else {
        return;
    };
    assert_eq!(code, 403);
    let head = |r: &str| {
        let mut lines: Vec<String> = r
            .lines()
            .take_while(|l| !l.is_empty())
            .map(|l| l.to_ascii_lowercase())
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(head(&ours), head(&theirs));
}

#[test]
fn pcall_hands_scripts_the_plain_error_strings_haproxy_gives() {
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("pcall.lua"));
        config(port, &load, "", "    http-request use-service lua.pcall\n")
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let (code, ours) = curl(&[&url(port, "/")]);
    assert_eq!(code, 200, "{}", p.stderr());
    let file = script("pcall.lua");
    let expected = format!(
        "false [x]\n\
         false <table>\n\
         false [bad argument #1 to '?' (number expected, got string)]\n\
         false ['set_map': unknown map file '/nonexistent.map']\n\
         false [bad argument #1 to '?' (string expected, got no value)]\n\
         false [bad argument #1 to '?' (string expected, got no value)]\n\
         false [{file}:18: attempt to index a nil value (field 'nope')]\n\
         handled: bad argument #1 to '?' (number expected, got string)\n\
         false [{file}:20: 'info' needs 1 arguments]\n\
         handled: {file}:21: bad argument #1 to 'msleep' (number expected, got string)\n"
    );
    assert_eq!(ours, expected);
    // Debian's haproxy (Lua 5.3) hands the script the same strings.
    let Some(((_, theirs), _)) = with_haproxy(cfg, |port| curl(&[&url(port, "/")])) else {
        return;
    };
    assert_eq!(theirs, expected);
}

#[test]
fn a_service_reads_the_request_body() {
    let port = free_port();
    let load = format!("lua-load {}", script("basics.lua"));
    let rules = "    http-request use-service lua.echo\n";
    let _p = Proxy::start(&config(port, &load, "", rules), port);
    assert_eq!(
        curl(&["--data-binary", "hello body", &url(port, "/")]),
        (200, "POST hello body".to_string())
    );
}

/// HAProxy's reg-test `lua/h_txn_get_priv`: an `http-response` action keeps private data in
/// the transaction and sets the status from it; a backend's service answers.
#[test]
fn haproxy_regtest_h_txn_get_priv_runs_unchanged() {
    let Some(file) = corpus_script("h_txn_get_priv.lua") else {
        return;
    };
    let cfg = move |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe1\n    bind 127.0.0.1:{port}\n    default_backend b1\n    http-response lua.bug\nbackend b1\n    http-request use-service lua.fakeserv\n"
        )
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ask = |port: u16| (curl(&[&url(port, "/")]).0, curl(&[&url(port, "/")]).0);
    let ours = ask(port);
    assert_eq!(ours, (201, 201), "{}", p.stderr());
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs);
    }
}

/// HAProxy's reg-test `lua/set_var`: a service sets and reads variables (`applet:set_var`).
#[test]
fn haproxy_regtest_set_var_runs_unchanged() {
    let Some(file) = corpus_script("set_var.lua") else {
        return;
    };
    let cfg = move |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe1\n    bind 127.0.0.1:{port}\n    http-request use-service lua.set_var\n"
        )
    };
    let port = free_port();
    let _p = Proxy::start(&cfg(port), port);
    let ask = |port: u16| {
        let (code, out) = curl(&["-i", "-H", "var: txn.fe1_foo", &url(port, "/")]);
        let echo = out
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("echo:"))
            .map(|l| l.trim().to_string());
        (code, echo)
    };
    let ours = ask(port);
    assert_eq!(ours, (202, Some("echo: value".to_string())));
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs);
    }
}

/// HAProxy's reg-test `lua/bad_http_clt_req_duration`: a service that sleeps, then answers
/// an empty response.
#[test]
fn haproxy_regtest_sleeping_service_runs_unchanged() {
    let Some(file) = corpus_script("bad_http_clt_req_duration.lua") else {
        return;
    };
    let port = free_port();
    let cfg = format!(
        "global\n    lua-load {file}\n{DEFAULTS}frontend f1\n    bind 127.0.0.1:{port}\n    default_backend b1\nbackend b1\n    http-request use-service lua.foo.http\n"
    );
    let p = Proxy::start(&cfg, port);
    assert_eq!(
        curl(&[&url(port, "/")]),
        (200, String::new()),
        "{}",
        p.stderr()
    );
}

/// TCP services: HAProxy's reg-test `foo.tcp` (which writes an HTTP response itself) and
/// `basics.lua`'s `shout`, which reads a line and sends it back in capitals.
#[test]
fn tcp_services_speak_to_the_client_connection() {
    let port = free_port();
    let mut load = format!("lua-load {}", script("basics.lua"));
    let corpus = corpus_script("bad_http_clt_req_duration.lua");
    if let Some(file) = &corpus {
        load.push_str(&format!("\n    lua-load {file}"));
    }
    let shout = free_port();
    let cfg = format!(
        "global\n    {load}\n{DEFAULTS}frontend f2\n    mode tcp\n    bind 127.0.0.1:{port}\n    tcp-request content use-service lua.{}\nfrontend f3\n    mode tcp\n    bind 127.0.0.1:{shout}\n    tcp-request content use-service lua.shout\n",
        if corpus.is_some() { "foo.tcp" } else { "shout" }
    );
    let p = Proxy::start(&cfg, port);
    let answer = super::harness::raw(shout, b"hello tcp\n", Duration::from_secs(5));
    assert_eq!(answer, "HELLO TCP\n", "{}", p.stderr());
    if corpus.is_some() {
        assert_eq!(
            curl(&[&url(port, "/")]),
            (200, String::new()),
            "{}",
            p.stderr()
        );
    }
}

/// What a client got from one request: curl's exit code, the response head's lines (status
/// line first, headers sorted) and the body as curl decoded it.
fn fetched(port: u16, path: &str) -> (i32, Vec<String>, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-i", "--max-time", "10", &url(port, path)])
        .output()
        .expect("curl is installed (see .ci/run)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines: Vec<String> = head.lines().map(String::from).collect();
    lines[1..].sort();
    (out.status.code().unwrap_or(-1), lines, body.to_string())
}

/// A service's log line without what varies from run to run (client port, date, timers):
/// server, status, bytes, termination state and request.
fn service_fields(line: &str) -> String {
    let f: Vec<&str> = line.split_whitespace().collect();
    [f[3], f[5], f[6], f[9], &f[12..].join(" ")].join(" ")
}

#[test]
fn a_service_failing_or_timing_out_mid_body_is_cut_off_as_in_haproxy() {
    let paths = [
        "/fail_mid",
        "/fail_mid_length",
        "/fail_after_sleep",
        "/loop_mid",
        "/ok_chunked",
        "/ok_length",
    ];
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("streaming.lua"));
        let rules: String = paths
            .iter()
            .map(|p| {
                format!(
                    "    http-request use-service lua.{} if {{ path {p} }}\n",
                    &p[1..]
                )
            })
            .collect();
        config(port, &load, "    tune.lua.service-timeout 300\n", &rules)
    };
    let drive = |port: u16| -> Vec<_> { paths.iter().map(|p| fetched(port, p)).collect() };
    let keep = |l: &str| l.contains("<lua.");
    let ((ours, our_log), theirs) = crate::harness::logged_side_by_side(cfg, drive, keep, 10);
    let both = "first part\nsecond part\n";
    // Spelled out, so that the test holds without haproxy too: after the head, the client
    // keeps what was sent and the connection is cut (curl: 18, partial transfer); a body of no
    // given length goes chunked, and unterminated when cut.
    let chunked = "transfer-encoding: chunked".to_string();
    assert_eq!((ours[0].0, ours[0].2.as_str()), (18, both));
    assert!(ours[0].1.contains(&chunked), "{:?}", ours[0]);
    assert_eq!((ours[1].0, ours[1].2.as_str()), (18, "first part\n"));
    assert!(ours[1].1.contains(&"content-length: 100".to_string()));
    assert_eq!((ours[2].0, ours[2].2.as_str()), (18, both));
    assert_eq!((ours[3].0, ours[3].2.as_str()), (18, "first part\n"));
    assert_eq!((ours[4].0, ours[4].2.as_str()), (0, both));
    assert!(ours[4].1.contains(&chunked), "{:?}", ours[4]);
    assert_eq!((ours[5].0, ours[5].2.as_str()), (0, both));
    for (path, got) in paths.iter().zip(&ours) {
        assert_eq!(got.1[0], "HTTP/1.1 200 OK", "{path}");
    }
    let mut ours_logged: Vec<String> = our_log
        .iter()
        .map(|l| match l.starts_with("Lua applet") {
            true => l.clone(),
            false => service_fields(l),
        })
        .collect();
    ours_logged.sort();
    // The failures are logged as HAProxy logs them, and the responses with the status and
    // bytes the script gave, `LR`.
    let file = script("streaming.lua");
    for expected in [
        format!(
            "Lua applet http '<lua.fail_mid>': [state-id 0] runtime error: {file}:13: failed \
             mid-body from [C]: in global 'error', {file}:13: in function line 10."
        ),
        format!(
            "Lua applet http '<lua.loop_mid>': [state-id 0] runtime error: execution timeout \
             from {file}:27: in function line 25."
        ),
        "fe/<lua.fail_mid> 200 103 LR-- \"GET /fail_mid HTTP/1.1\"".to_string(),
        "fe/<lua.loop_mid> 200 91 LR-- \"GET /loop_mid HTTP/1.1\"".to_string(),
    ] {
        assert!(
            ours_logged.contains(&expected),
            "{expected}\n{ours_logged:#?}"
        );
    }
    let Some((theirs, their_log)) = theirs else {
        return;
    };
    assert_eq!(ours, theirs);
    // haproxy reports a service's timeout in one of two ways: from its instruction hook (a
    // runtime error with where it was) or as it resumes the yielded service (`execution
    // timeout.` alone); which one depends on timing, and a loaded machine gave the second.
    // Ours is checked above; theirs is taken in either form.
    let resumed_timeout = "Lua applet http '<lua.loop_mid>': execution timeout.";
    let hooked_timeout = format!(
        "Lua applet http '<lua.loop_mid>': [state-id 0] runtime error: execution timeout \
         from {file}:27: in function line 25."
    );
    let mut theirs_logged: Vec<String> = their_log
        .iter()
        .map(|l| match l.starts_with("Lua applet") {
            true if l == resumed_timeout => hooked_timeout.clone(),
            true => l.clone(),
            false => service_fields(l),
        })
        .collect();
    theirs_logged.sort();
    assert_eq!(ours_logged, theirs_logged);
}

/// Reads `stream` until `until` says what was read is enough, or a read fails (its timeout
/// passed, the connection closed): what was read.
fn read_until(stream: &mut std::net::TcpStream, until: impl Fn(&str) -> bool) -> String {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !until(&String::from_utf8_lossy(&got)) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).to_string()
}

#[test]
fn a_service_body_reaches_the_client_as_the_script_sends_it() {
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("streaming.lua"));
        let rules = "    http-request use-service lua.wait_for_release if { path /wait }\n    \
                     http-request use-service lua.release if { path /release }\n";
        config(port, &load, "", rules)
    };
    // The service sends its first part, then waits for `/release` (4 s at most) before its
    // second: a client that reads the first part within 3 s got it while the script waited.
    let drive = |port: u16| -> (String, String) {
        use std::io::Write;
        let mut stream = crate::harness::connect(("127.0.0.1", port));
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        stream
            .write_all(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let first = read_until(&mut stream, |s| s.contains("first part\n"));
        let (code, body) = curl(&[&url(port, "/release")]);
        assert_eq!((code, body.as_str()), (200, "released\n"));
        let rest = read_until(&mut stream, |s| s.ends_with("\r\n0\r\n\r\n"));
        (first, rest)
    };
    let check = |who: &str, (first, rest): &(String, String)| {
        assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{who}: {first:?}");
        assert!(first.contains("first part\n"), "{who}: {first:?}");
        assert!(!first.contains("second part"), "{who}: {first:?}");
        assert!(
            rest.contains("second part\n") && rest.ends_with("\r\n0\r\n\r\n"),
            "{who}: {rest:?}"
        );
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    check("hapee", &drive(port));
    drop(p);
    if let Some((theirs, _)) = with_haproxy(cfg, drive) {
        check("haproxy", &theirs);
    }
}

#[test]
fn a_service_sending_a_large_body_waits_for_the_client_to_read() {
    const PIECES: usize = 1024;
    const PIECE: usize = 65536;
    let cfg = |port: u16| {
        let load = format!("lua-load {}", script("streaming.lua"));
        let rules = "    http-request use-service lua.big if { path /big }\n    \
                     http-request use-service lua.progress if { path /progress }\n";
        config(port, &load, "", rules)
    };
    let progress = |port: u16| -> usize {
        let (code, body) = curl(&[&url(port, "/progress")]);
        assert_eq!(code, 200, "{body}");
        body.trim().parse().unwrap()
    };
    // The client takes the head and then reads nothing: the script must stop sending once
    // the buffers on the way are full (a few MB, far from the whole 64 MB), and finish once
    // the client reads the rest.
    let drive = |port: u16| -> (usize, usize, usize) {
        use std::io::{Read, Write};
        let mut stream = crate::harness::connect(("127.0.0.1", port));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(stream.read(&mut byte).unwrap(), 1, "the head ended early");
            head.push(byte[0]);
        }
        // Held back: the count stops moving short of the end (it is read until it has not
        // moved for three readings in a row).
        let mut seen = (progress(port), 0);
        while seen.0 < PIECES && seen.1 < 3 {
            std::thread::sleep(Duration::from_millis(300));
            let now = progress(port);
            seen = if now == seen.0 {
                (now, seen.1 + 1)
            } else {
                (now, 0)
            };
        }
        let held = seen.0;
        let mut body = 0;
        let mut buf = vec![0u8; 1 << 16];
        while body < PIECES * PIECE {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => body += n,
            }
        }
        // The script ends once it has sent its last piece (perhaps after the client has it).
        wait_until(Duration::from_secs(10), || progress(port) == PIECES);
        (held, body, progress(port))
    };
    let check = |who: &str, (held, body, done): (usize, usize, usize)| {
        assert!(
            held < PIECES / 2,
            "{who}: {held} pieces sent to a client reading nothing"
        );
        assert_eq!((body, done), (PIECES * PIECE, PIECES), "{who}");
    };
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    check("hapee", drive(port));
    drop(p);
    if let Some((theirs, _)) = with_haproxy(cfg, drive) {
        check("haproxy", theirs);
    }
}

/// A `TXN` object is shaped as HAProxy's: a table holding its userdata at `[0]`, its fetches,
/// HTTP and channel objects as fields, its methods found through its metatable (called with
/// the table as `self`), and fields a script adds readable for the rest of the call.
#[test]
fn the_txn_object_is_a_table_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-txn-shape-{}", std::process::id()));
    let file = dir.join("shape.lua");
    std::fs::write(
        &file,
        r#"
core.register_action("shape", { "http-req" }, function(txn)
  txn.mine = "kept"
  local parts = { type(txn), type(txn[0]), txn.mine, txn.sf:req_hdr("x-a"),
    tostring(txn.req ~= nil), tostring(txn.http ~= nil), tostring(txn:get_priv()) }
  txn:set_var("txn.shape", table.concat(parts, ","))
end)
"#,
    )
    .unwrap();
    let file = file.display().to_string();
    let cfg = move |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request lua.shape\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.shape)]\"\n"
        )
    };
    let ask = |port: u16| curl(&["-H", "x-a: one", &url(port, "/")]);
    let port = free_port();
    let p = Proxy::start(&cfg(port), port);
    let ours = ask(port);
    assert_eq!(
        ours,
        (200, "table,userdata,kept,one,true,true,nil".to_string()),
        "{}",
        p.stderr()
    );
    if let Some((theirs, _)) = with_haproxy(cfg, ask) {
        assert_eq!(ours, theirs);
    }
}
