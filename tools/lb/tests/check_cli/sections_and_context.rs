//! Rules found by the public corpus's fourteenth batch, each checked against the lines HAProxy
//! 2.7.0 prints for the same file: unknown keywords of a userlist, mailer addresses, pattern
//! files named twice, a global `set-var`'s map file, and the place a peers line leaves behind.

use super::{run, write_cfg};

/// `-c`'s `[ALERT]` lines for `text`, the pid and the file's path replaced by `PID` and `{f}`.
pub(super) fn alerts(name: &str, text: &str) -> Vec<String> {
    let cfg = write_cfg(name, text);
    let out = run(&["-c", "-f", cfg.to_str().unwrap()]);
    let path = cfg.display().to_string();
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .map(|l| {
            let (_, rest) = l.split_once(") : ").unwrap_or(("", l));
            format!("[ALERT] {}", rest.replace(&path, "{f}"))
        })
        .collect()
}

/// A userlist names the keywords it does not know 'users', without a space before the colon;
/// `bind-process`, `nbproc` and the 1.x proxy keywords are unknown there, and in a mailers
/// section, not "removed".
#[test]
fn userlist_and_mailers_take_removed_keywords_for_unknown_ones() {
    let text = "userlist L1\n  group G1\n  bind-process odd\n  nbproc 2\n  reqadd X-A:\\ b\n\n\
                mailers m\n  reqadd X-A:\\ b\n\nfrontend f\n  bind :8000\n  mode http\n  timeout client 1s\n";
    assert_eq!(
        alerts("users-words.cfg", text),
        [
            "[ALERT] config : parsing [{f}:3]: unknown keyword 'bind-process' in 'users' section",
            "[ALERT] config : parsing [{f}:4]: unknown keyword 'nbproc' in 'users' section",
            "[ALERT] config : parsing [{f}:5]: unknown keyword 'reqadd' in 'users' section",
            "[ALERT] config : parsing [{f}:8] : unknown keyword 'reqadd' in 'mailers' section",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A mailer's address is read with its line: its port is mandatory and a host name must
/// resolve then ('.invalid' names never do).
#[test]
fn mailer_addresses_are_read_with_their_line() {
    let text = "mailers m\n  mailer smtp mail.hapee-test.invalid:1025\n  mailer s2 127.0.0.1\n  \
                mailer s3\n  mailer s4 127.0.0.1:25\n\nfrontend f\n  bind :8000\n  mode http\n  timeout client 1s\n";
    assert_eq!(
        alerts("mailers.cfg", text),
        [
            "[ALERT] config : parsing [{f}:2] : 'mailer smtp' : invalid address: 'mail.hapee-test.invalid' in 'mail.hapee-test.invalid:1025'",
            "[ALERT] config : parsing [{f}:3] : 'mailer s2' : missing port specification in '127.0.0.1'",
            "[ALERT] config : parsing [{f}:4] : 'mailer' expects <name> and <addr>[:<port>] as arguments.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A pattern file HAProxy fails to open stays known: named again, it is not opened again. A
/// dynamic `use_backend` name is compiled once the file is read, so the file its condition
/// names is opened first, while the line is read: its error is the line's, reported before
/// the missing line feed at the end stops the checks.
#[test]
fn a_pattern_file_is_opened_first_by_the_line_read_first() {
    let text = "frontend f\n  bind :8000\n  mode tcp\n  timeout client 1s\n  \
                use_backend %[src,map_str(/nonexistent/be.map)] if { src,map_str(/nonexistent/be.map) -m found }\n\n\
                backend b\n  timeout server 1s\n  timeout connect 1s\n  server s 127.0.0.1:1";
    assert_eq!(
        alerts("pattern-once.cfg", text),
        [
            "[ALERT] config : parsing [{f}:5] : error detected while parsing switching rule : invalid args in converter 'map_str' : failed to open pattern file </nonexistent/be.map> in ACL expression 'src,map_str(/nonexistent/be.map)'.",
            "[ALERT] config : parsing [{f}:10]: Missing LF on last line, file might have been truncated at position 23.",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A global `set-var` expression is evaluated as it is read: its map files are opened then.
#[test]
fn a_global_set_var_opens_its_map_files() {
    let text = "global\n  set-var proc.limit str(a),map_str(/nonexistent/limits.map,30)\n\n\
                frontend f\n  bind :8000\n  mode http\n  timeout client 1s\n";
    assert_eq!(
        alerts("set-var-map.cfg", text),
        [
            "[ALERT] config : parsing [{f}:2] : invalid args in converter 'map_str' : failed to open pattern file </nonexistent/limits.map>",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// A remote peer's line without an address leaves HAProxy's message context set: the next
/// message carries that line's place first, unless another server line is read before it.
#[test]
fn a_peer_without_address_leaves_its_place_to_the_next_message() {
    let text = "peers p\n  peer a\n  peer b 127.0.0.1:10001\n  server c\n  frobnicate\n\n\
                frontend f\n  bind :8000\n  mode http\n  timeout client 1s\n  bar\n";
    assert_eq!(
        alerts("peer-context.cfg", text),
        [
            "[ALERT] config : [{f}:4] : parsing [{f}:5] : unknown keyword 'frobnicate' in 'peers' section",
            "[ALERT] config : parsing [{f}:11] : unknown keyword 'bar' in 'frontend' section",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
    // A server line read after it clears the place.
    let cleared = "peers p\n  server c\n\nbackend b\n  server s1 127.0.0.1:1\n  frobnicate\n";
    assert_eq!(
        alerts("peer-context-cleared.cfg", cleared),
        [
            "[ALERT] config : parsing [{f}:6] : unknown keyword 'frobnicate' in 'backend' section",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

/// `bind-process` is known (as removed) in proxies and as `stats bind-process` in global only;
/// a close keyword is suggested by the global and proxy parsers alone.
#[test]
fn bind_process_outside_proxies_and_suggestions_outside_them() {
    let text = "global\n  bind-process 1\n  stats bind-process 1\nfrontend f\n  bind :8000\n  \
                mode http\n  timeout client 1s\n  stats bind-process 1\nresolvers r\n  bind-process 1\n\
                cache c\n  total-max-size 4\n  bind-process 1\n";
    assert_eq!(
        alerts("bind-process-places.cfg", text),
        [
            "[ALERT] config : parsing [{f}:2] : unknown keyword 'bind-process' in 'global' section",
            "[ALERT] config : parsing [{f}:3] : 'stats' is not supported anymore.",
            "[ALERT] config : parsing [{f}:8]: unknown stats parameter 'bind-process', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.",
            "[ALERT] config : parsing [{f}:10] : unknown keyword 'bind-process' in 'resolvers' section",
            "[ALERT] config : parsing [{f}:13] : unknown keyword 'bind-process' in 'cache' section",
            "[ALERT] config : Error(s) found in configuration file : {f}",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}
