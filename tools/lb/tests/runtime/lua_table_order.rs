//! The tables HAProxy hands to scripts are built as HAProxy builds them: an empty table, then
//! each key in HAProxy's order (the proxies as they were declared, a proxy's servers as they
//! were declared, an object's fields in its order, a head's names as its lines come). Lua
//! seeds its string hash at random in each state, so the order `pairs()` walks such a table
//! in changes from run to run under HAProxy too; but where colliding keys land also depends
//! on the order they went in and on the table's growth, so a table built the same way walks
//! the same way under the same seed. The script checks just that, whatever the seed: each
//! table walks as one it builds itself by HAProxy's steps. Side by side with Debian's haproxy
//! and HAProxy 2.7.0.

use crate::harness::*;

/// The proxy sections of the configuration, interleaved, with their capabilities.
const SECTIONS: [(&str, &str); 12] = [
    ("web", "frontend"),
    ("app", "backend"),
    ("both1", "listen"),
    ("api", "frontend"),
    ("static", "backend"),
    ("both2", "listen"),
    ("admin", "frontend"),
    ("b4", "backend"),
    ("b5", "backend"),
    ("f5", "frontend"),
    ("both3", "listen"),
    ("b6", "backend"),
];

const CHECKS: &str = r#"
local function walk(t)
  local o = {}
  for k in pairs(t) do o[#o + 1] = tostring(k) end
  return table.concat(o, " ")
end
-- A table built by HAProxy's steps: empty, then each key in turn.
local function built(keys)
  local r = {}
  for _, k in ipairs(keys) do r[k] = true end
  return r
end
core.register_action("order", { "http-req" }, function(txn)
  local out = {}
  local function check(label, t, keys)
    local a, b = walk(t), walk(built(keys))
    out[#out + 1] = label .. (a == b and " same" or (" differs: " .. a .. " | " .. b))
  end
  local all, fes, bes = {}, {}, {}
  for _, p in ipairs(SECTIONS) do
    all[#all + 1] = p[1]
    if p[2] ~= "backend" then fes[#fes + 1] = p[1] end
    if p[2] ~= "frontend" then bes[#bes + 1] = p[1] end
  end
  check("proxies", core.proxies, all)
  check("frontends", core.frontends, fes)
  check("backends", core.backends, bes)
  check("proxy", core.backends["app"], { 0, "name", "uuid", "servers", "listeners" })
  check("servers", core.backends["app"].servers, SERVERS)
  check("server", core.backends["app"].servers["s07"], { 0, "name", "puid" })
  check("txn", txn, { 0, "f", "sf", "c", "sc", "req", "res", "http" })
  local h = txn.http:req_get_headers()
  check("headers", h, NAMES)
  check("values", h["x-dup"], { 0, 1, 2 })
  txn:set_var("txn.verdict", table.concat(out, ","))
end)
"#;

/// The request's header lines: many names (so that keys collide in any seed), one of them
/// three times, not together.
fn header_lines() -> Vec<(String, String)> {
    let mut lines = vec![("Host".to_string(), "h".to_string())];
    for i in 0..24 {
        lines.push((format!("X-H{i:02}"), i.to_string()));
        if i % 10 == 3 {
            lines.push(("X-Dup".to_string(), i.to_string()));
        }
    }
    lines
}

fn lua_list(items: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = items.map(|s| format!("{s:?}")).collect();
    format!("{{ {} }}", quoted.join(", "))
}

fn script() -> String {
    let sections: Vec<String> = SECTIONS
        .iter()
        .map(|(n, k)| format!("{{ {n:?}, {k:?} }}"))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for (n, _) in header_lines() {
        let n = n.to_ascii_lowercase();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    format!(
        "local SECTIONS = {{ {} }}\nlocal SERVERS = {}\nlocal NAMES = {}\n{CHECKS}",
        sections.join(", "),
        lua_list((1..=20).map(|i| format!("s{i:02}"))),
        lua_list(names.into_iter()),
    )
}

fn config(port: u16, script: &std::path::Path) -> String {
    let mut cfg = format!(
        "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n",
        script.display()
    );
    // Only `web` listens: the other frontends are there for the lists.
    for (name, kind) in SECTIONS {
        cfg.push_str(&format!("{kind} {name}\n"));
        if name == "web" {
            cfg.push_str(&format!("    bind 127.0.0.1:{port}\n    http-request lua.order\n    http-request return status 200 content-type text/plain lf-string \"%[var(txn.verdict)]\"\n"));
        }
        if name == "app" {
            for s in 1..=20 {
                cfg.push_str(&format!("    server s{s:02} 127.0.0.1:{}\n", 9 + s));
            }
        }
    }
    cfg
}

#[test]
fn lua_tables_walk_as_haproxy_builds_them() {
    let dir = Scratch::dir(&format!("hapee-lua-table-order-{}", std::process::id()));
    let file = dir.join("order.lua");
    std::fs::write(&file, script()).unwrap();
    // HTTP/1.0, closed after the answer without a Connection line (HAProxy's parser drops a
    // `Connection: close` from the head scripts see).
    let mut request = "GET / HTTP/1.0\r\n".to_string();
    for (n, v) in header_lines() {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let verdict = |port: u16| {
        let answer = send_and_read(port, request.as_bytes());
        answer
            .split_once("\r\n\r\n")
            .map_or(answer.clone(), |(_, b)| b.to_string())
    };
    let expected = "proxies same,frontends same,backends same,proxy same,servers same,server same,txn same,headers same,values same";
    let (mine, theirs) = both(|port| config(port, &file), verdict);
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, expected, "Debian's haproxy");
    }
    if let Some((theirs, _)) = with_haproxy_27(|port| config(port, &file), verdict) {
        assert_eq!(theirs, expected, "HAProxy 2.7.0");
    }
}
