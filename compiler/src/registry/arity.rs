//! How many arguments the keywords that HAProxy 2.7 counts may take: a word beyond them is an
//! error ("'<keyword>' cannot handle unexpected argument '<word>'."). The data follows the
//! `alertif_too_many_args` calls of src/cfgparse-global.c, src/cfgparse-listen.c and
//! src/tcpcheck.c of HAProxy v2.7.0; keywords whose parsers count their arguments otherwise are
//! not listed.

/// One counted keyword: its first word, the second word that selects it (`None` when the
/// first word alone does), how many words name it in the message (`index`: 0 names the first
/// word only, 1 the first two), and how many arguments may follow the named words.
#[derive(Clone, Copy, Debug)]
pub struct Arity {
    pub keyword: &'static str,
    pub sub: Option<&'static str>,
    pub index: usize,
    pub max: usize,
}

const fn kw(keyword: &'static str, max: usize) -> Arity {
    Arity {
        keyword,
        sub: None,
        index: 0,
        max,
    }
}

const fn sub(keyword: &'static str, sub: &'static str, index: usize, max: usize) -> Arity {
    Arity {
        keyword,
        sub: Some(sub),
        index,
        max,
    }
}

/// Counted keywords of the `global` section, sorted by keyword.
pub const GLOBAL: &[Arity] = &[
    kw("busy-polling", 0),
    kw("chroot", 1),
    kw("cluster-secret", 1),
    kw("daemon", 0),
    kw("external-check", 0),
    kw("fd-hard-limit", 1),
    kw("gid", 1),
    kw("group", 1),
    // Counted by their own parsers (too_many_args), with the same message.
    kw("h1-accept-payload-with-any-method", 0),
    kw("h1-case-adjust", 2),
    kw("h1-case-adjust-file", 1),
    kw("h2-workaround-bogus-websocket-clients", 0),
    kw("insecure-fork-wanted", 0),
    kw("insecure-setuid-wanted", 0),
    kw("localpeer", 1),
    kw("log-tag", 1),
    kw("master-worker", 1),
    kw("max-spread-checks", 1),
    kw("maxcompcpuusage", 1),
    kw("maxcomprate", 1),
    kw("maxconn", 1),
    kw("maxconnrate", 1),
    kw("maxpipes", 1),
    kw("maxsessrate", 1),
    kw("maxsslrate", 1),
    kw("maxzlibmem", 1),
    kw("node", 1),
    kw("noepoll", 0),
    kw("noevports", 0),
    kw("nogetaddrinfo", 0),
    kw("nokqueue", 0),
    kw("nopoll", 0),
    kw("noreuseport", 0),
    kw("nosplice", 0),
    kw("pidfile", 1),
    kw("quick-exit", 0),
    kw("quiet", 0),
    kw("set-dumpable", 0),
    kw("setenv", 3),
    kw("spread-checks", 1),
    kw("ssl-server-verify", 1),
    kw("strict-limits", 0),
    kw("tune.buffers.limit", 1),
    kw("tune.buffers.reserve", 1),
    kw("tune.bufsize", 1),
    kw("tune.comp.maxlevel", 1),
    // Counted by their own parsers (too_many_args), with the same message.
    kw("tune.fd.edge-triggered", 1),
    kw("tune.http.cookielen", 1),
    kw("tune.http.logurilen", 1),
    kw("tune.http.maxhdr", 1),
    kw("tune.idletimer", 1),
    kw("tune.maxaccept", 1),
    kw("tune.maxpollevents", 1),
    kw("tune.maxrewrite", 1),
    kw("tune.pipesize", 1),
    kw("tune.rcvbuf.client", 1),
    kw("tune.rcvbuf.server", 1),
    kw("tune.recv_enough", 1),
    kw("tune.runqueue-depth", 1),
    kw("tune.sndbuf.client", 1),
    kw("tune.sndbuf.server", 1),
    kw("tune.ssl.force-private-cache", 0),
    kw("tune.zlib.memlevel", 1),
    kw("tune.zlib.windowsize", 1),
    kw("uid", 1),
    kw("ulimit-n", 1),
    kw("user", 1),
    kw("zero-warning", 0),
];

/// Counted keywords of proxy sections (defaults, frontend, backend, listen), sorted by keyword.
pub const PROXY: &[Arity] = &[
    kw("backlog", 1),
    sub("capture", "cookie", 1, 4),
    sub("capture", "request", 1, 4),
    sub("capture", "response", 1, 4),
    kw("default_backend", 1),
    kw("disabled", 0),
    kw("dispatch", 1),
    kw("enabled", 0),
    kw("fullconn", 1),
    sub("http-reuse", "aggressive", 1, 0),
    sub("http-reuse", "always", 1, 0),
    sub("http-reuse", "never", 1, 0),
    sub("http-reuse", "safe", 1, 0),
    kw("id", 1),
    kw("maxconn", 1),
    kw("mode", 1),
    kw("monitor-uri", 1),
    sub("option", "http-restrict-req-hdr-names", 0, 2),
    sub("option", "httpchk", 1, 3),
    sub("option", "httplog", 1, 1),
    sub("option", "mysql-check", 1, 3),
    sub("option", "pgsql-check", 1, 2),
    sub("option", "smtpchk", 1, 2),
    kw("retries", 1),
    kw("server-state-file-name", 1),
    kw("transparent", 0),
];

/// The options whose own parsers take no argument (their statement is named by its first two
/// words in the message, as for [`FLAG_OPTIONS`]).
pub const NO_ARGUMENT_OPTIONS: &[&str] = &[
    "http-keep-alive",
    "http-server-close",
    "httpclose",
    "ldap-check",
    "redis-check",
    "spop-check",
    "ssl-hello-chk",
    "tcp-check",
    "tcpka",
    "tcplog",
];

/// The options HAProxy reads from its flag tables (`cfg_opts`, `cfg_opts2`): none takes an
/// argument.
pub const FLAG_OPTIONS: &[&str] = &[
    "abortonclose",
    "allbackups",
    "checkcache",
    "clitcpka",
    "contstats",
    "dontlognull",
    "http-buffer-request",
    "http-ignore-probes",
    "idle-close-on-response",
    "prefer-last-server",
    "logasap",
    "nolinger",
    "persist",
    "srvtcpka",
    "transparent",
    "splice-request",
    "splice-response",
    "splice-auto",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "dontlog-normal",
    "log-separate-errors",
    "log-health-checks",
    "socket-stats",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "independent-streams",
    "http-use-proxy-header",
    "http-pretend-keepalive",
    "http-no-delay",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "disable-h2-upgrade",
];

/// The count that applies to the keyword `first` (with `second` after it) of a global
/// (`global == true`) or proxy section.
pub fn arity(global: bool, first: &str, second: &str) -> Option<Arity> {
    arity_with(global, first, || second)
}

/// [`arity`] with the second word read only when a row of `first` (or `option`) needs it.
fn arity_with<'a>(global: bool, first: &str, second: impl Fn() -> &'a str) -> Option<Arity> {
    // Every line comes here and most keywords are not counted: one look-up of the first word
    // finds its rows (a keyword's rows are one run of the sorted table), no text is scanned.
    let rows = super::first_word(first).map_or(&[][..], |w| {
        if global {
            w.global_arity
        } else {
            w.proxy_arity
        }
    });
    if let Some(a) = rows.iter().find(|a| a.sub.is_none_or(|s| s == second())) {
        return Some(*a);
    }
    // The option lists are scanned only for an `option` line: every `server` line comes here.
    let no_argument = || {
        let second = second();
        FLAG_OPTIONS.contains(&second) || NO_ARGUMENT_OPTIONS.contains(&second)
    };
    (!global && first == "option" && no_argument()).then_some(sub("option", "", 1, 0))
}

/// The word HAProxy refuses in a statement whose words (after any `no`/`default` prefix) are
/// `word(0)`, `word(1)`, … (empty past the end): its position, with the keyword named in the
/// message; `None` when the count is right or not known.
pub fn unexpected<'a>(global: bool, word: impl Fn(usize) -> &'a str) -> Option<(usize, String)> {
    let a = arity_with(global, word(0), || word(1))?;
    let extra = a.index + a.max + 1;
    if word(extra).is_empty() {
        return None;
    }
    let named: Vec<&str> = (0..=a.index).map(&word).collect();
    Some((extra, named.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unexpected(global: bool, words: &[&'static str]) -> Option<(usize, String)> {
        super::unexpected(global, |i| words.get(i).copied().unwrap_or(""))
    }

    #[test]
    fn tables_are_sorted() {
        for t in [GLOBAL, PROXY] {
            assert!(t.windows(2).all(|w| w[0].keyword <= w[1].keyword));
        }
    }

    #[test]
    fn counts_like_haproxy() {
        assert_eq!(
            unexpected(false, &["default_backend", "b", "if", "TRUE"]),
            Some((2, "default_backend".into()))
        );
        assert_eq!(unexpected(false, &["default_backend", "b"]), None);
        assert_eq!(
            unexpected(false, &["option", "dontlognull", "x"]),
            Some((2, "option dontlognull".into()))
        );
        assert_eq!(
            unexpected(
                false,
                &["option", "http-restrict-req-hdr-names", "preserve", "x"]
            ),
            Some((3, "option".into()))
        );
        assert_eq!(
            unexpected(false, &["option", "httplog", "clf", "x"]),
            Some((3, "option httplog".into()))
        );
        assert_eq!(
            unexpected(false, &["option", "tcplog", "x"]),
            Some((2, "option tcplog".into()))
        );
        assert_eq!(unexpected(false, &["option", "forwardfor", "x"]), None);
        assert_eq!(
            unexpected(true, &["maxconn", "1", "2"]),
            Some((2, "maxconn".into()))
        );
        assert_eq!(unexpected(true, &["nbthread", "1", "2"]), None);
    }
}
