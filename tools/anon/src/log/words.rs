//! Which words of a line of unknown meaning may stay. A proxy, a server, a user or a table can be
//! named anything, `s1` or `db` as well as `web-01`: a word is kept only when it is known to name
//! nothing, that is a word of HAProxy's own log messages (event lines, check reasons, connection
//! errors, the system errors it quotes), a number with its unit, a termination-state flag or a
//! TLS version or cipher. Every other word is replaced by the token `hapee-anon config` gives
//! that name.

/// The words HAProxy's log messages are made of, lowercase and sorted (binary search): English
/// glue, event and check vocabulary, protocols, methods, placeholders (`<NOSRV>`) and the
/// products and systems user agents name (`Mozilla/5.0 (X11; Linux x86_64)`), months and days.
const VOCABULARY: &[&str] = &[
    "a",
    "abort",
    "aborted",
    "about",
    "accept",
    "accepted",
    "access",
    "action",
    "active",
    "address",
    "administratively",
    "after",
    "again",
    "agent",
    "alert",
    "all",
    "allocate",
    "alpn",
    "already",
    "also",
    "an",
    "and",
    "android",
    "answer",
    "any",
    "applet",
    "applewebkit",
    "apr",
    "are",
    "as",
    "assign",
    "at",
    "attack",
    "attempt",
    "aug",
    "available",
    "back",
    "backend",
    "backup",
    "bad",
    "badreq",
    "been",
    "before",
    "between",
    "bind",
    "bingbot",
    "body",
    "bot",
    "broken",
    "buffer",
    "buffers",
    "busy",
    "but",
    "by",
    "ca",
    "can",
    "cannot",
    "certificate",
    "chain",
    "changed",
    "check",
    "checks",
    "chrome",
    "cli",
    "client",
    "client-initiated",
    "close",
    "closed",
    "closing",
    "code",
    "compatible",
    "conditionally",
    "configured",
    "conn",
    "connect",
    "connection",
    "connections",
    "conns",
    "content",
    "could",
    "cpu",
    "cumulated",
    "curl",
    "cve",
    "data",
    "dec",
    "delete",
    "denied",
    "deny",
    "did",
    "different",
    "disabled",
    "dns",
    "does",
    "down",
    "drain",
    "draining",
    "due",
    "dumping",
    "duration",
    "during",
    "early",
    "edg",
    "edge",
    "empty",
    "enabled",
    "enter",
    "entering",
    "enters",
    "error",
    "errors",
    "established",
    "exhausted",
    "exiting",
    "expect",
    "expected",
    "expired",
    "fail",
    "failed",
    "failure",
    "family",
    "fd",
    "fds",
    "feb",
    "files",
    "find",
    "firefox",
    "for",
    "forced",
    "fri",
    "from",
    "frontend",
    "gecko",
    "general",
    "get",
    "go-http-client",
    "going",
    "googlebot",
    "got",
    "grace",
    "h1",
    "h2",
    "h3",
    "handshake",
    "hard",
    "hard-stop",
    "hard-stopped",
    "has",
    "have",
    "head",
    "header",
    "health",
    "heartbeat",
    "host",
    "http",
    "http-check",
    "https",
    "in",
    "info",
    "ini",
    "initializing",
    "intel",
    "internal",
    "into",
    "invalid",
    "ip",
    "ipad",
    "iphone",
    "ipv4",
    "ipv6",
    "is",
    "it",
    "its",
    "jan",
    "jul",
    "jun",
    "keep-alive",
    "khtml",
    "l4con",
    "l4ok",
    "l4tout",
    "l6ok",
    "l6rsp",
    "l6tout",
    "l7ok",
    "l7okc",
    "l7rsp",
    "l7sts",
    "l7tout",
    "layer4",
    "layer6",
    "layer7",
    "leaving",
    "left",
    "like",
    "limit",
    "linux",
    "local",
    "lost",
    "lua",
    "mac",
    "macintosh",
    "magic",
    "maint",
    "maintenance",
    "many",
    "mar",
    "match",
    "matched",
    "maxconn",
    "may",
    "memory",
    "mobile",
    "mode",
    "mon",
    "mozilla",
    "ms",
    "netscaler",
    "network",
    "no",
    "nolb",
    "normal",
    "nosrv",
    "not",
    "nov",
    "now",
    "nt",
    "number",
    "nx",
    "oct",
    "of",
    "ok",
    "okhttp",
    "on",
    "open",
    "opera",
    "operation",
    "options",
    "or",
    "os",
    "out",
    "passed",
    "patch",
    "pause",
    "pausing",
    "peer",
    "peers",
    "period",
    "permission",
    "pipe",
    "port",
    "post",
    "presented",
    "problem",
    "proceeding",
    "procerr",
    "process",
    "processing",
    "procok",
    "proctout",
    "progress",
    "protocol",
    "proxy",
    "put",
    "python-requests",
    "queue",
    "quic",
    "range",
    "reached",
    "read",
    "ready",
    "reason",
    "received",
    "refused",
    "regular",
    "rejected",
    "remaining",
    "renegotiation",
    "reported",
    "requested",
    "requeued",
    "reset",
    "resisted",
    "resolution",
    "resource",
    "response",
    "resumed",
    "resuming",
    "retries",
    "returned",
    "route",
    "rule",
    "ruleset",
    "running",
    "safari",
    "sat",
    "scheduling",
    "send",
    "sep",
    "server",
    "servers",
    "session",
    "sessions",
    "sighup",
    "sockerr",
    "socket",
    "sockets",
    "socks4",
    "soft",
    "soft-stop",
    "some",
    "source",
    "ssl",
    "started",
    "starting",
    "states",
    "stats",
    "status",
    "step",
    "stop",
    "stopped",
    "stopping",
    "succeeded",
    "success",
    "successful",
    "sun",
    "system",
    "tasks",
    "tcp",
    "tcp-check",
    "tcpchk",
    "temporarily",
    "terminated",
    "thanks",
    "the",
    "this",
    "thu",
    "timed",
    "timeout",
    "tls",
    "to",
    "too",
    "trace",
    "truncated",
    "trusted",
    "tue",
    "ubuntu",
    "udp",
    "unavailable",
    "unexpected",
    "unhandled",
    "unknown",
    "unreachable",
    "up",
    "valid",
    "verified",
    "version",
    "via",
    "waiting",
    "was",
    "wed",
    "weight",
    "wget",
    "when",
    "while",
    "will",
    "win64",
    "windows",
    "with",
    "wow64",
    "write",
    "wrong",
    "x11",
    "x64",
    "x86_64",
];

/// Words kept only as HAProxy writes them (`cumulated conns: FE: 0, BE: 3`): `fe` and `be` are
/// the names many configurations give their proxies.
const UPPERCASE_ONLY: &[&str] = &["BE", "FE"];

fn in_vocabulary(t: &str) -> bool {
    if UPPERCASE_ONLY.contains(&t) {
        return true;
    }
    if t.len() > 16 {
        return false;
    }
    let mut low = [0u8; 16];
    for (d, s) in low.iter_mut().zip(t.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    let low = &low[..t.len()];
    VOCABULARY
        .binary_search_by(|w| w.as_bytes().cmp(low))
        .is_ok()
}

/// A number, with a unit or a sign (`0ms`, `-1`, `12.5%`, `64kB`).
fn is_number(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let digits = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    digits > 0
        && t.as_bytes()[0].is_ascii_digit()
        && matches!(
            &t[digits..],
            "" | "ms" | "us" | "s" | "m" | "h" | "d" | "%" | "k" | "kB" | "M" | "MB" | "G" | "GB"
        )
}

/// A termination state or persistence-cookie flag (`SD--`, `LR--`, `--NI`, `----`).
fn is_flags(t: &str) -> bool {
    t.len() == 4 && t.contains('-') && t.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

/// A TLS version (`TLSv1.3`, `SSLv3`) or cipher (`TLS_AES_256_GCM_SHA384`,
/// `ECDHE-RSA-AES128-GCM-SHA256`).
fn is_tls(t: &str) -> bool {
    let version = ["TLSv", "SSLv", "DTLSv"].iter().any(|p| {
        t.strip_prefix(p)
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    });
    let cipher = t.len() >= 10
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && ["AES", "CHACHA20", "CAMELLIA", "SHA"]
            .iter()
            .any(|alg| t.contains(alg));
    version || cipher
}

/// A byte HAProxy escaped in a logged string (`<3C>` prints as `3C` between its brackets).
fn is_escaped_byte(t: &str) -> bool {
    t.len() == 2 && t.as_bytes()[0].is_ascii_digit() && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True when `t`, a token of a line of unknown meaning, may name something: it holds a letter
/// and is none of the words known to name nothing.
pub(crate) fn could_be_name(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_alphabetic() || !b.is_ascii())
        && !(in_vocabulary(t) || is_number(t) || is_flags(t) || is_tls(t) || is_escaped_byte(t))
}

/// The words after which a proxy's name comes (`Proxy fe started.`, `backend be has no server
/// available!`); after `server`, a `proxy/server` pair does.
pub(crate) fn names_follow(word: &str, next: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphabetic());
    ["proxy", "frontend", "backend", "listen"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
        || (w.eq_ignore_ascii_case("server") && next.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_is_sorted_lowercase_and_short() {
        assert!(VOCABULARY.windows(2).all(|w| w[0] < w[1]));
        assert!(VOCABULARY
            .iter()
            .all(|w| w.len() <= 16 && !w.bytes().any(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn names_of_any_length_are_names_and_haproxy_words_are_not() {
        for name in [
            "s1", "db", "bob", "al", "x", "web-01", "api_v2", "Müller", "3f9a", "fe", "be",
        ] {
            assert!(could_be_name(name), "{name}");
        }
        for word in [
            "Server",
            "DOWN",
            "Layer4",
            "0ms",
            "-1",
            "12.5%",
            "SD--",
            "----",
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384",
            "3C",
            "NOSRV",
            "HTTP",
            "1.1",
            "tcp-check",
            "FE",
            "Dec",
        ] {
            assert!(!could_be_name(word), "{word}");
        }
    }
}
