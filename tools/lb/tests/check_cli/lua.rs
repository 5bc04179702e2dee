//! Lua scripts loaded by `check`: the names they register, the fetches and converters rules use.

use super::*;

#[test]
fn lua_scripts_are_loaded_and_their_names_checked_like_haproxy_c() {
    // The scripts stay until the test is done with them.
    let scripts = std::cell::RefCell::new(Vec::new());
    let lua = |name: &str, text: &str| {
        let script = write_cfg(name, text);
        let path = script.display().to_string();
        scripts.borrow_mut().push(script);
        path
    };
    let good = lua(
        "ok.lua",
        "local args = table.pack(...)\nassert(args[1] == 'a1')\ncore.register_action('hello', {'http-req'}, function(txn) end)\n",
    );
    let syntax = lua(
        "syntax.lua",
        "core.register_action('x', {'http-req'}, function(t)\n  local = 1\nend)\n",
    );
    let failing = lua("failing.lua", "error('at load')\n");
    let cases = [
        (
            format!("global\n    lua-load {syntax}\n"),
            format!("config : parsing [CFG:2] : error in Lua file '{syntax}': {syntax}:2: <name> expected near '='"),
        ),
        (
            format!("global\n    lua-load {failing}\n"),
            format!("config : parsing [CFG:2] : Lua runtime error: {failing}:1: at load"),
        ),
        (
            format!("global\n    lua-load {good} a1\n{}    http-request use-service lua.nosvc\n", VALID.replace("    default_backend be\n", "")),
            "config : parsing [CFG:14] : error detected in backend 'be' while parsing 'http-request use-service' rule : 'lua.nosvc' unknown service name..".to_string(),
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let cfg = write_cfg(&format!("lua{i}.cfg"), text);
        let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
        assert_exit(&out, 1);
        let expected = expected.replace("CFG", cfg.to_str().unwrap());
        assert_eq!(alerts(&out), std::slice::from_ref(&expected));
        // Debian's haproxy (Lua 5.3) says the same where both know the case; its 2.6 has no
        // `lua-load` arguments, so the third case differs there.
        if i < 2 && haproxy_installed() {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(alerts(&theirs), [expected]);
        }
    }
    // A `lua.<name>` action the scripts did not register.
    let text = format!("global\n    lua-load {good} a1\n{VALID}");
    let text = text.replace(
        "    default_backend be\n",
        "    http-request lua.helo\n    default_backend be\n",
    );
    let cfg = write_cfg("lua-action.cfg", &text);
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let found = alerts(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("'lua.hello', but got 'lua.helo'. Did you mean 'lua.hello' maybe ?"),
        "{found:?}"
    );
    // Registered names pass.
    let cfg = write_cfg("lua-ok.cfg", &text.replace("lua.helo", "lua.hello"));
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_exit(&out, 0);
}

#[test]
fn unregistered_lua_fetches_and_converters_fail_as_in_haproxy_c() {
    // Names computed at run time: only running the script (not reading it) tells them.
    let script = write_cfg(
        "samples.lua",
        "for _, n in ipairs({ 'twice' }) do core.register_fetches(n, function(txn, s) return s .. s end) end\n\
         local c = 'rev'\ncore.register_converters(c, function(s) return s:reverse() end)\n",
    );
    let lines = [
        ("    http-request set-header X-Ok %[lua.twice(a),lua.rev]\n", None),
        ("    acl ok lua.twice(a),lua.rev -m str aa\n    http-request deny if ok\n", None),
        (
            "    http-request set-header X-F %[lua.thrice(a)]\n",
            Some("error detected in backend 'be' while parsing 'http-request set-header' rule : failed to parse sample expression <lua.thrice(a)]> : unknown fetch method 'lua.thrice'."),
        ),
        (
            "    http-request set-var(txn.c) str(a),lua.unrev\n",
            Some("error detected in backend 'be' while parsing 'http-request set-var(txn.c)' rule : unknown converter 'lua.unrev'."),
        ),
        (
            "    acl bad lua.thrice(a) -m str x\n",
            Some("error detected while parsing ACL 'bad' : unknown fetch method 'lua.thrice' in ACL expression 'lua.thrice(a)'."),
        ),
        (
            "    http-request deny if { str(a),lua.unrev -m str x }\n",
            Some("error detected while parsing an 'http-request deny' condition : unknown converter 'lua.unrev' in ACL expression 'str(a),lua.unrev'."),
        ),
    ];
    let haproxy = haproxy_installed();
    for (i, (line, expected)) in lines.iter().enumerate() {
        let text = format!("global\n    lua-load {}\n{VALID}{line}", script.display());
        let cfg = write_cfg(&format!("lua-samples{i}.cfg"), &text);
        let cfg = cfg.to_str().unwrap();
        let out = run(&["-c", "-f", cfg]);
        let ours = alerts(&out);
        match expected {
            None => assert_eq!(out.status.code(), Some(0), "{ours:?}"),
            Some(message) => {
                assert_eq!(out.status.code(), Some(1));
                assert_eq!(ours, [format!("config : parsing [{cfg}:15] : {message}")]);
            }
        }
        // Debian's haproxy (2.6, Lua 5.3) gives the same verdict and line.
        if haproxy {
            let theirs = Command::new("haproxy")
                .args(["-c", "-f", cfg])
                .output()
                .unwrap();
            assert_eq!(theirs.status.code(), out.status.code(), "{ours:?}");
            assert_eq!(alerts(&theirs), ours);
        }
    }
}

/// A configuration large enough to be built on several threads: an unregistered `lua.<name>`
/// is refused wherever it stands, not only in the bodies the first thread builds.
#[test]
fn unregistered_lua_fetches_are_found_by_every_thread_of_a_large_build() {
    let script = write_cfg(
        "parallel.lua",
        "core.register_fetches('yes', function(txn) return 'y' end)\n",
    );
    let mut text = format!(
        "global\n    lua-load {}\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend f\n    bind 127.0.0.1:18080\n    default_backend b0\n",
        script.display()
    );
    let mut wrong = Vec::new();
    for i in 0..2000 {
        let fetch = if i % 100 == 7 { "nope" } else { "yes" };
        text.push_str(&format!(
            "backend b{i}\n    http-request set-header X %[lua.{fetch}]\n"
        ));
        if fetch == "nope" {
            wrong.push(text.lines().count());
        }
        for h in ["Y", "Z", "W"] {
            text.push_str(&format!("    http-request set-header {h} {i}\n"));
        }
        text.push_str(&format!("    server s{i} 127.0.0.1:{}\n", 10000 + i));
    }
    // Above the compiler's threshold for building proxy bodies on several threads (8,192 lines).
    assert!(
        text.lines().count() > 10_000,
        "large enough for a parallel build"
    );
    let cfg = write_cfg("lua-parallel.cfg", &text);
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--format", "json", "-f", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let errors: Vec<u64> = found
        .as_array()
        .expect("a list of diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["start"]["line"].as_u64())
        .collect();
    for line in &wrong {
        assert!(
            errors.contains(&(*line as u64)),
            "line {line} missing in {errors:?}"
        );
    }
    // HAProxy stops at an HTTP rule it cannot parse, and so does `-c`: only the first is told.
    let out = run(&["-c", "-f", cfg]);
    assert_eq!(out.status.code(), Some(1));
    let ours = alerts(&out);
    let first = format!("config : parsing [{cfg}:{}] : ", wrong[0]);
    assert!(ours[0].starts_with(&first), "{first} not first in {ours:?}");
    assert!(
        !ours
            .iter()
            .any(|a| a.contains(&format!("[{cfg}:{}]", wrong[1]))),
        "{ours:?}"
    );
}

/// A rule HAProxy cannot read (its `lua.<name>` action is registered by no script) takes no
/// place among the rules: only the rules after `use_backend` it did read are warned about (and
/// it stops reading at the unknown action).
#[test]
fn an_unregistered_lua_action_is_not_warned_about_its_place() {
    let script = write_cfg(
        "placed.lua",
        "core.register_action('known', {'http-req'}, function(txn) end)\n",
    );
    let text = format!(
        "global\n    lua-load {}\n{}",
        script.display(),
        VALID.replace(
            "    default_backend be\n",
            "    use_backend be if { path_beg /a }\n    http-request lua.known\n    http-request lua.unknown\n    default_backend be\n",
        )
    );
    let cfg = write_cfg("lua-placed.cfg", &text);
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let placed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("placed after a 'use_backend' rule"))
        .collect();
    let line = |n: &str| text.lines().position(|l| l.contains(n)).unwrap() + 1;
    assert_eq!(placed.len(), 1, "{stderr}");
    assert!(
        placed[0].contains(&format!(":{}] ", line("lua.known"))),
        "{stderr}"
    );
    assert!(stderr.contains("but got 'lua.unknown'"), "{stderr}");
}
