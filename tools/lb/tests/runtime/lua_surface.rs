//! The Lua API's surface against HAProxy 2.7's (`testdata/lua/surface27.lua`): every class,
//! function, field and constant HAProxy 2.7.0 registers, checked where a script meets it (a
//! filter, an HTTP action, an HTTP and a TCP service, the global classes and the objects they
//! make). HAProxy 2.7.0 misses none (checked by hand), nor does Debian's haproxy, beside
//! which the test runs; hapee misses only what the README says it leaves out.

use super::harness::{both_reading, curl, DEFAULTS};
use std::io::Read;
use std::path::PathBuf;

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/surface27.lua");
    p.canonicalize().unwrap().display().to_string()
}

/// What the script answers over HTTP and over TCP, as one text.
fn ask(port: u16) -> String {
    let (status, http) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    let mut tcp = String::new();
    let _ = std::net::TcpStream::connect(("127.0.0.1", port + 1))
        .and_then(|mut s| s.read_to_string(&mut tcp));
    format!("{status}\n{http}{tcp}")
}

/// What hapee misses of HAProxy 2.7's names, each named in the README's list of what is left
/// out on purpose; the rest of each line empty.
const HAPEE_MISSES: &str = "200
filter=
action=Reply.body:string/nil Reply.headers:table/nil Reply.reason:string/nil Reply.status:number/nil
applet=
globals=CertCache.set:function/nil _G.CertCache:table/nil
objects=Listener.get_stats:function/nil Proxy.stop:function/nil
tcp=
";

#[test]
fn every_name_haproxy_27_registers_is_there() {
    let dir = std::env::temp_dir().join(format!("hapee-lua-surface-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("m.map");
    std::fs::write(&map, "a 1\n").unwrap();
    let pre = dir.join("pre.lua");
    std::fs::write(
        &pre,
        format!("MAP_FILE = {:?}\n", map.display().to_string()),
    )
    .unwrap();
    let file = script();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.surface\n    http-request lua.surface\n    http-request use-service lua.surface\nfrontend tcp\n    mode tcp\n    bind 127.0.0.1:{}\n    tcp-request content use-service lua.surface_tcp\nbackend app\n    server s1 127.0.0.1:1\nbackend table\n    stick-table type ip size 10\n",
            pre.display(),
            port + 1
        )
    };
    let (ours, theirs) = both_reading(2, cfg, |port, _| ask(port));
    assert_eq!(ours, HAPEE_MISSES);
    // Debian's haproxy (2.6) has every one of them too.
    if let Some(theirs) = theirs {
        let none = "200\nfilter=\naction=\napplet=\nglobals=\nobjects=\ntcp=\n";
        assert_eq!(theirs, none, "haproxy misses names");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What some of those names do (`testdata/lua/api27.lua`), side by side with Debian's haproxy:
/// `Regex.new` answers whether the pattern compiled, then the regex (its flag says case
/// sensitive), `match` its captures in a table empty without a match; the `Map` match methods
/// carry HAProxy's numbers; the HTTP date parsers read their forms; a service's private value
/// is its stream's (what the action set, then its own); a `TXN`'s queue priority is what `prio_class`/`prio_offset` read, limited.
#[test]
fn api_27_names_behave_as_in_haproxy() {
    let file = super::lua_public::script("api27.lua");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {file}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request lua.api27\n    http-request use-service lua.api27\n"
        )
    };
    let (ours, theirs) =
        super::harness::both(cfg, |port| curl(&[&format!("http://127.0.0.1:{port}/")]));
    let expected = "regex true table true true {ABB,BB}
nomatch false {}
cs false true
bad true
methods 0 2 6 7 8 9 10 11 12 13
dates 784111777 784111777 784111777 784111777 nil 784111777 784111777 nil nil
priv from-txn
priv {1,2}
prio 2047 -12
";
    assert_eq!(ours, (200, expected.to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
