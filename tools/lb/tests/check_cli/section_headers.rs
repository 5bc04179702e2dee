//! The header lines of the sections that are not proxies, and the `id` of proxies, servers and
//! listeners, as HAProxy 2.7.0 refuses them: each case's first message is written here, and
//! when a 2.7.0 build is there (`HAPEE_HAPROXY_27`, default `/tmp/haproxy-2.7.0/haproxy`) its
//! whole `-c` output and exit code must be ours.

use super::write_cfg;
use std::process::Command;

/// The proxies every case starts with (the backend `b` on line 9, its server on line 10).
const PROXIES: &str = "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind :18080
    default_backend b
backend b
    server s1 127.0.0.1:8000
";

/// HAProxy 2.7.0's binary, when it was built on this machine.
fn haproxy_27() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("HAPEE_HAPROXY_27").map_or_else(
        || "/tmp/haproxy-2.7.0/haproxy".into(),
        std::path::PathBuf::from,
    );
    path.is_file().then_some(path)
}

/// `-c`'s exit code and its lines after the version notices, without the process ids and with
/// the file's path as `{f}`.
fn check(cmd: &std::path::Path, cfg: &std::path::Path) -> (Option<i32>, Vec<String>) {
    let out = Command::new(cmd)
        .args(["-c", "-f"])
        .arg(cfg)
        .output()
        .expect("run -c");
    let path = cfg.display().to_string();
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&out.stdout).lines())
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| match l.split_once(") : ") {
            Some((level, rest)) => format!(
                "{} {}",
                level.split_whitespace().next().unwrap_or(""),
                rest.replace(&path, "{f}")
            ),
            None => l.replace(&path, "{f}"),
        })
        .collect();
    (out.status.code(), lines)
}

/// Each case: the sections after [`PROXIES`], and the first line of `-c` (`[LEVEL] rest`).
pub(super) fn same_as_haproxy(stem: &str, cases: &[(&str, &str)]) {
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    let theirs = haproxy_27();
    for (i, (sections, first)) in cases.iter().enumerate() {
        let cfg = write_cfg(&format!("{stem}-{i}.cfg"), &format!("{PROXIES}{sections}"));
        let (code, lines) = check(&ours, &cfg);
        assert_eq!(
            lines.first().map(String::as_str),
            Some(*first),
            "{sections}\n{lines:#?}"
        );
        if let Some(theirs) = &theirs {
            assert_eq!(check(theirs, &cfg), (code, lines), "{sections}");
        }
    }
}

#[test]
fn section_headers_without_a_name_or_with_more_words() {
    same_as_haproxy(
        "headers",
        &[
            ("peers\n", "[ALERT] config : parsing [{f}:11] : missing name for peers section."),
            ("peers p x\n", "[ALERT] config : parsing [{f}:11] : 'peers' cannot handle unexpected argument 'x'."),
            ("peers a/b\n", "[ALERT] config : parsing [{f}:11] : character '/' is not permitted in 'peers' name 'a/b'."),
            ("mailers\n", "[ALERT] config : parsing [{f}:11] : missing name for mailers section."),
            ("resolvers r!\n", "[ALERT] config : parsing [{f}:11] : character '!' is not permitted in 'resolvers' name 'r!'."),
            ("log-forward\n", "[ALERT] config : parsing [{f}:11] : missing name for ip-forward section."),
            ("log-forward l x\n", "[ALERT] config : parsing [{f}:11] : 'log-forward' cannot handle unexpected argument 'x'."),
            ("cache\n  total-max-size 4\n", "[ALERT] config : parsing [{f}:11] : 'cache' expects a <name> argument"),
            ("cache c\n  max-age 10\n", "[ALERT] config : Size not specified for cache 'c'"),
            ("http-errors h*\n", "[ALERT] config : parsing [{f}:11] : character '*' is not permitted in 'http-errors' name 'h*'."),
            ("userlist\n", "[ALERT] config : parsing [{f}:11]: 'userlist' expects <name> as arguments."),
            ("userlist u x\n", "[ALERT] config : parsing [{f}:11] : 'userlist' cannot handle unexpected argument 'x'."),
            ("program p x\n  command /bin/true\n", "[ALERT] config : parsing [{f}:11] : 'program' cannot handle unexpected argument 'x'."),
            // A refused ring's settings are refused one by one.
            (
                "ring r@\n  size 32768\n  format raw\n  server s 127.0.0.1:6514\n",
                "[ALERT] config : parsing [{f}:11] : invalid ring name 'r@' (character '@' is not permitted).",
            ),
        ],
    );
}

#[test]
fn section_names_taken_twice() {
    same_as_haproxy(
        "names",
        &[
            ("peers p\npeers p\n", "[ALERT] config : Parsing [{f}:12]: peers section 'p' has the same name as another peers section declared at {f}:11."),
            (
                "resolvers r\n  nameserver n 127.0.0.1:53\nresolvers r\n",
                "[ALERT] config : Parsing [{f}:13]: resolvers 'r' has same name as another resolvers (declared at {f}:11).",
            ),
            ("http-errors h\nhttp-errors h\n", "[ALERT] config : parsing [{f}:12]: http-errors section 'h' already exists (declared at {f}:11)."),
            ("ring stdout\n  size 32768\n", "[ALERT] config : parsing [{f}:11] : sink named 'stdout' already exists."),
            (
                "cache c\n  total-max-size 4\ncache c\n  total-max-size 4\n",
                "[ALERT] config : parsing [{f}:13]: Duplicate cache name 'c'.",
            ),
            (
                "cache a_cache_name_longer_than_thirty_two_bytes\n  total-max-size 4\n",
                "[WARNING] config : parsing [{f}:11]: cache name is limited to 32 characters, truncate to 'a_cache_name_longer_than_thirty_'.",
            ),
            ("userlist u\nuserlist u\n", "[WARNING] config : parsing [{f}:12]: ignoring duplicated userlist 'u'."),
            (
                "log-forward b\n  dgram-bind 127.0.0.1:18514\n  log stderr format raw local0\n",
                "[ALERT] config : Parsing [{f}:11]: log forward section 'b' has the same name as backend 'b' declared at {f}:9.",
            ),
            (
                "log-forward z\n  dgram-bind 127.0.0.1:18514\n  log stderr format raw local0\nbackend z\n",
                "[ALERT] config : Parsing [{f}:14]: backend 'z' has the same name as log forward section 'z' declared at {f}:11.",
            ),
            // A log-forward section HAProxy refused takes no name.
            ("log-forward z x\nbackend z\n", "[ALERT] config : parsing [{f}:11] : 'log-forward' cannot handle unexpected argument 'x'."),
            // A listen section is compared with the frontends before it only.
            ("backend x\nlisten x\n  bind :18083\n", "Configuration file is valid"),
            ("listen x\n  bind :18083\nbackend x\n", "[ALERT] config : Parsing [{f}:13]: backend 'x' has the same name as proxy 'x' declared at {f}:11."),
        ],
    );
}

#[test]
fn ids_taken_twice() {
    same_as_haproxy(
        "ids",
        &[
            ("backend b2\n  id 5\nbackend b3\n  id 5\n", "[ALERT] config : parsing [{f}:14]: backend b3 reuses same custom id as backend b2 (declared at {f}:11)."),
            (
                "backend b2\n  server a 127.0.0.1:1 id 3\n  server c 127.0.0.1:2 id 3\n",
                "[ALERT] config : [{f}:13] : 'server b2/c' : 'id' : custom id 3 already used at {f}:12 ('server a').",
            ),
            // A template's first server takes its id.
            (
                "backend b2\n  server-template t 1-3 127.0.0.1:1 id 3\n  server c 127.0.0.1:2 id 3\n",
                "[ALERT] config : [{f}:13] : 'server b2/c' : 'id' : custom id 3 already used at {f}:12 ('server t1').",
            ),
            (
                "frontend f2\n  bind :18081 id 4\n  bind :18082 id 4\n",
                "[ALERT] config : parsing [{f}:13] : 'bind :18082' in section 'frontend' : 'id' : custom id 4 already used at {f}:12 ('bind :18081')",
            ),
            (
                "frontend f2\n  bind :18081,:18082 id 4\n",
                "[ALERT] config : parsing [{f}:12] : 'bind :18081,:18082' in section 'frontend' : 'id' can only be used with a single socket",
            ),
            // The servers a template makes are compared by name.
            (
                "backend b2\n  server-template srv 1-3 127.0.0.1:1\n  server srv2 127.0.0.1:2\n",
                "[ALERT] config : parsing [{f}:13] : backend 'b2', another server named 'srv2' was already defined at line 12, please use distinct names.",
            ),
            ("defaults\n  id 9\nbackend b3\n  id 9\n", "[ALERT] config : parsing [{f}:12]: 'id' not allowed in 'defaults' section."),
        ],
    );
}
