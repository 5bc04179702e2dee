//! Value checks of common proxy directives whose arguments HAProxy validates at parse time:
//! `balance`, `hash-type`, `http-reuse`, `retry-on`.

use super::build::{Builder, Stmt};
use crate::diagnostic::Diagnostic;

const RETRY_ON: [&str; 17] = [
    "conn-failure",
    "empty-response",
    "response-timeout",
    "401",
    "403",
    "404",
    "408",
    "425",
    "500",
    "501",
    "502",
    "503",
    "504",
    "0rtt-rejected",
    "junk-response",
    "all-retryable-errors",
    "none",
];

fn err(b: &mut Builder, code: &'static str, span: crate::source::Span, message: String) {
    b.push(Diagnostic::new(code, message).at(span));
}

/// Compression algorithms of the reference build (zlib, no libslz).
const COMPRESSION_ALGOS: [&str; 4] = ["identity", "gzip", "deflate", "raw-deflate"];

/// `compression algo|type|offload …`, with HAProxy's messages.
pub(super) fn compression(b: &mut Builder, stmt: &Stmt, in_defaults: bool) {
    let fail = |b: &mut Builder, i: usize, msg: String| err(b, "E219", stmt.span(i), msg);
    match stmt.word(1) {
        "algo" => {
            if stmt.word(2).is_empty() {
                // HAProxy embeds the location in this one message, and prefixes it once more.
                let at = b.location(stmt.span(0));
                return fail(
                    b,
                    1,
                    format!("parsing [{at}] : 'compression' expects <algorithm>."),
                );
            }
            if let Some(i) = (2..stmt.len()).find(|&i| !COMPRESSION_ALGOS.contains(&stmt.word(i))) {
                fail(
                    b,
                    i,
                    format!(
                        "'compression' : '{}' is not a supported algorithm.",
                        stmt.word(i)
                    ),
                );
            }
        }
        "type" if stmt.word(2).is_empty() => fail(b, 1, "'compression' expects <type>.".into()),
        "type" => {}
        "offload" if in_defaults => b.push(
            Diagnostic::new(
                "W228",
                "'compression' : 'offload' ignored in 'defaults' section.",
            )
            .at(stmt.span(1)),
        ),
        "offload" => {}
        _ => fail(
            b,
            1,
            "'compression' expects 'algo', 'type' or 'offload'".into(),
        ),
    }
}

/// `balance <algorithm> [arguments]`, with HAProxy's messages prefixed by `balance `.
pub(super) fn balance(b: &mut Builder, stmt: &Stmt) {
    let algo = stmt.word(1);
    let fail = |b: &mut Builder, i: usize, msg: String| {
        err(b, "E214", stmt.span(i), format!("balance {msg}"))
    };
    match algo {
        "roundrobin" | "static-rr" | "first" | "leastconn" | "source" => {}
        "" => {}
        _ if algo.starts_with("random") => {
            if let Some(inner) = algo.strip_prefix("random(") {
                match inner.split_once(')') {
                    None => fail(b, 1, "random : missing closing parenthesis.".into()),
                    Some((n, rest)) if !rest.is_empty() => {
                        let c = rest.chars().next().unwrap_or(' ');
                        let _ = n;
                        fail(
                            b,
                            1,
                            format!("random : unexpected character '{c}' after argument."),
                        );
                    }
                    Some((n, _)) if super::values::atol(n) < 1 => {
                        fail(b, 1, "random : number of draws must be at least 1.".into())
                    }
                    _ => {}
                }
            }
        }
        "uri" => {
            let mut i = 2;
            while i < stmt.len() {
                match stmt.word(i) {
                    "len" | "depth" => {
                        let v = stmt.word(i + 1);
                        if super::values::atol(v) <= 0 || v.is_empty() {
                            fail(
                                b,
                                i + 1,
                                format!(
                                    "uri : '{}' expects a positive integer (got '{v}').",
                                    stmt.word(i)
                                ),
                            );
                            return;
                        }
                        i += 2;
                    }
                    "whole" | "path-only" => i += 1,
                    other => {
                        fail(b, i, format!("uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."));
                        return;
                    }
                }
            }
        }
        "url_param" => {
            if stmt.word(2).is_empty() {
                fail(b, 1, "url_param requires an URL parameter name.".into());
            } else if !stmt.word(3).is_empty() && stmt.word(3) != "check_post" {
                fail(
                    b,
                    3,
                    format!(
                        "url_param only accepts 'check_post' modifier (got '{}').",
                        stmt.word(3)
                    ),
                );
            }
        }
        "hash" => {
            if stmt.word(2).is_empty() {
                fail(b, 1, "hash requires a sample expression.".into());
            } else if !stmt.word(3).is_empty() {
                fail(
                    b,
                    3,
                    format!("hash takes no other argument (got '{}').", stmt.word(3)),
                );
            }
        }
        _ if algo.starts_with("hdr(") => {
            if algo.len() <= 5 || !algo.ends_with(')') {
                fail(b, 1, "hdr requires an http header field name.".into());
            } else if !stmt.word(2).is_empty() && stmt.word(2) != "use_domain_only" {
                fail(
                    b,
                    2,
                    format!(
                        "{algo} only accepts 'use_domain_only' modifier (got '{}').",
                        stmt.word(2)
                    ),
                );
            }
        }
        _ if algo.starts_with("rdp-cookie") => {
            if algo.starts_with("rdp-cookie(") && algo.len() <= "rdp-cookie()".len() {
                fail(b, 1, "rdp-cookie : missing cookie name.".into());
            }
        }
        _ => {
            // A misspelled algorithm gets a "did you mean" fix (`hdr` needs its header name).
            let names = crate::registry::BALANCE_ALGORITHMS
                .iter()
                .map(|v| v.name)
                .filter(|n| *n != "hdr");
            b.push(
                Diagnostic::new(
                    "E214",
                    "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.",
                )
                .at(stmt.span(1))
                .replace_with(stmt.span(1), crate::registry::best_match(algo, names)),
            );
        }
    }
}

pub(super) fn hash_type(b: &mut Builder, stmt: &Stmt) {
    match stmt.word(1) {
        "consistent" | "map-based" => {}
        "avalanche" => {
            return err(
                b,
                "E215",
                stmt.span(1),
                "experimental feature 'hash-type avalanche' is not supported anymore, please use 'hash-type map-based sdbm avalanche' instead.".into(),
            )
        }
        _ => return err(b, "E215", stmt.span(1), "'hash-type' only supports 'consistent' and 'map-based'.".into()),
    }
    if !stmt.word(2).is_empty() && !["sdbm", "djb2", "wt6", "crc32", "none"].contains(&stmt.word(2))
    {
        return err(
            b,
            "E215",
            stmt.span(2),
            "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.".into(),
        );
    }
    if !stmt.word(3).is_empty() && stmt.word(3) != "avalanche" {
        err(
            b,
            "E215",
            stmt.span(3),
            "'hash-type' only supports 'avalanche' as a modifier for hash functions.".into(),
        );
    }
}

pub(super) fn http_reuse(b: &mut Builder, stmt: &Stmt) -> bool {
    if ["never", "safe", "aggressive", "always"].contains(&stmt.word(1)) {
        return true;
    }
    err(
        b,
        "E216",
        stmt.span(1),
        "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.".into(),
    );
    false
}

/// `load-server-state-from-file global|local|none`; returns whether the line is valid.
pub(super) fn server_state_source(b: &mut Builder, stmt: &Stmt) -> bool {
    let source = stmt.word(1);
    if ["global", "local", "none"].contains(&source) {
        return true;
    }
    let at = if source.is_empty() {
        stmt.span(0)
    } else {
        stmt.span(1)
    };
    err(
        b,
        "E212",
        at,
        format!(
            "'load-server-state-from-file' expects 'global', 'local' or 'none'. Got '{source}'"
        ),
    );
    false
}

/// Returns whether the line is valid (HAProxy then records it).
pub(super) fn retry_on(b: &mut Builder, stmt: &Stmt, has_backend: bool) -> bool {
    if stmt.word(1).is_empty() {
        err(
            b,
            "E217",
            stmt.span(1),
            "'retry-on' needs at least one keyword to specify when to retry".into(),
        );
        return false;
    }
    if !has_backend {
        err(
            b,
            "E217",
            stmt.span(0),
            "'retry-on' only available in backend or listen section".into(),
        );
        return false;
    }
    for i in 1..stmt.len() {
        let w = stmt.word(i);
        if w == "none" && (i != 1 || stmt.len() > 2) {
            err(
                b,
                "E217",
                stmt.span(i),
                "'retry-on' 'none' keyworld only usable alone".into(),
            );
            return false;
        }
        if !RETRY_ON.contains(&w) {
            err(
                b,
                "E217",
                stmt.span(i),
                format!("'retry-on': unknown keyword '{w}'"),
            );
            return false;
        }
    }
    true
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
pub(super) const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];
const LOG_FORMATS: [&str; 8] = [
    "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw",
];

/// `log global`, `no log`, or `log <target> [len <n>] [format <f>] [sample <r>:<s>] <facility> [<level> [<minlevel>]]`.
/// `in_global` selects the global section's wording. Returns whether a log target was added.
pub(super) fn log(b: &mut Builder, stmt: &Stmt, in_global: bool) -> bool {
    let prefixed = stmt.word(0) == "no";
    let at = usize::from(prefixed || stmt.word(0) == "default");
    let fail = |b: &mut Builder, i: usize, msg: String| {
        err(b, "E218", stmt.span(i), format!("log : {msg}"))
    };
    if prefixed {
        if !stmt.word(at + 1).is_empty() {
            fail(b, at + 1, "'no log' does not expect arguments".into());
        }
        return false;
    }
    if stmt.word(1) == "global" && stmt.word(2).is_empty() {
        if in_global {
            fail(
                b,
                1,
                "'global' is not supported for a global syslog server".into(),
            );
            return false;
        }
        return true;
    }
    if stmt.word(1).is_empty() || stmt.word(2).is_empty() {
        let more = if in_global { "" } else { "or global" };
        fail(
            b,
            1,
            format!("expects <address> and <facility> {more} as arguments"),
        );
        return false;
    }
    let mut i = 2;
    if stmt.word(i) == "len" {
        let n = super::values::atol(stmt.word(i + 1));
        if !(80..=65535).contains(&n) {
            fail(
                b,
                i + 1,
                format!(
                    "invalid log length '{}', must be between 80 and 65535",
                    stmt.word(i + 1)
                ),
            );
            return false;
        }
        i += 2;
    }
    if stmt.word(i) == "format" {
        if !LOG_FORMATS.contains(&stmt.word(i + 1)) {
            fail(
                b,
                i + 1,
                format!("unknown log format '{}'", stmt.word(i + 1)),
            );
            return false;
        }
        i += 2;
    }
    if stmt.word(i) == "sample" {
        if !stmt.word(i + 1).contains(':') {
            fail(b, i + 1, "Missing sample size".into());
            return false;
        }
        i += 2;
    }
    if !FACILITIES.contains(&stmt.word(i)) {
        fail(b, i, format!("unknown log facility '{}'", stmt.word(i)));
        return false;
    }
    i += 1;
    for what in ["optional log level", "optional minimum log level"] {
        if stmt.word(i).is_empty() {
            break;
        }
        if !LEVELS.contains(&stmt.word(i)) {
            fail(b, i, format!("unknown {what} '{}'", stmt.word(i)));
            return false;
        }
        i += 1;
    }
    if !stmt.word(i).is_empty() {
        fail(
            b,
            i,
            format!("cannot handle unexpected argument '{}'", stmt.word(i)),
        );
        return false;
    }
    // The address is read last, as HAProxy does; `stdout`, `stderr` and rings are not addresses.
    let target = stmt.word(1);
    if !matches!(target, "stdout" | "stderr") && !target.starts_with("ring@") {
        if let Err(e) = crate::address::parse_written(target, b.env, crate::address::Rules::LOG) {
            fail(b, 1, e);
            return false;
        }
    }
    true
}
