//! The words keywords take after their own (`option forwardfor except <net> if-none`, `filter
//! bwlim-in <name> default-limit <size>`, `http-check send meth GET`), each with its doc, how
//! many value words follow it and, when they are a fixed list, the values themselves; and the
//! fixed values of bind and server options (`level admin`, `resolve-prefer ipv4`). Hover and
//! completion read a line through [`word_slot`]; the check parsers read the same word lists.

use super::values::{
    one_of, v, with_value, BALANCE_ALGORITHMS, COOKIE_OPTIONS, LOG_WORDS, MODES,
    STICK_TABLE_OPTIONS,
};
use super::{SectionKind, ValueDef};

/// The words that follow a keyword.
#[derive(Clone, Copy, Debug)]
pub struct KeywordWords {
    /// The line's first words (`option forwardfor`, `filter bwlim-in`); a word written with
    /// arguments (`hdr(host)`) is matched by its name.
    pub keyword: &'static str,
    /// The one section the keyword means this in (a userlist's `user`, not the global one).
    pub section: Option<SectionKind>,
    /// Words between the keyword and its words (a name: `cookie <name>`, `capture request
    /// header <name>`).
    pub skip: u8,
    /// Only one word follows (an algorithm, a mode), not a list of options.
    pub single: bool,
    pub words: &'static [ValueDef],
}

const fn kw(keyword: &'static str, skip: u8, words: &'static [ValueDef]) -> KeywordWords {
    KeywordWords {
        keyword,
        section: None,
        skip,
        single: false,
        words,
    }
}

const fn single(keyword: &'static str, words: &'static [ValueDef]) -> KeywordWords {
    KeywordWords {
        single: true,
        ..kw(keyword, 0, words)
    }
}

const fn in_section(
    section: SectionKind,
    keyword: &'static str,
    skip: u8,
    words: &'static [ValueDef],
) -> KeywordWords {
    KeywordWords {
        section: Some(section),
        ..kw(keyword, skip, words)
    }
}

/// Every keyword whose following words come from a fixed list.
pub static KEYWORD_WORDS: &[KeywordWords] = &[
    single("balance", BALANCE_ALGORITHMS),
    kw("balance uri", 0, BALANCE_URI),
    kw("balance url_param", 1, BALANCE_URL_PARAM),
    kw("balance hdr", 0, BALANCE_HDR),
    single("mode", MODES),
    kw("hash-type", 0, HASH_TYPE),
    single("http-reuse", HTTP_REUSE),
    single("load-server-state-from-file", SERVER_STATE_FROM_FILE),
    single("compression", COMPRESSION),
    kw("compression algo", 0, COMPRESSION_ALGOS),
    in_section(SectionKind::Resolvers, "hold", 0, HOLD),
    kw("option mysql-check", 0, MYSQL_CHECK),
    kw("option pgsql-check", 0, PGSQL_CHECK),
    kw("http-request return", 0, RETURN),
    kw("http-response return", 0, RETURN),
    kw("http-request deny", 0, DENY),
    kw("http-response deny", 0, DENY),
    kw("http-request tarpit", 0, DENY),
    kw("http-request auth", 0, AUTH),
    kw("retry-on", 0, RETRY_ON),
    kw("log", 0, LOG_WORDS),
    kw("cookie", 1, COOKIE_OPTIONS),
    kw("stick-table", 0, STICK_TABLE_OPTIONS),
    in_section(SectionKind::Peers, "table", 1, STICK_TABLE_OPTIONS),
    kw("option forwardfor", 0, FORWARDFOR),
    kw("option originalto", 0, ORIGINALTO),
    kw("option httplog", 0, HTTPLOG),
    kw("capture request header", 1, CAPTURE),
    kw("capture response header", 1, CAPTURE),
    kw("capture cookie", 1, CAPTURE),
    in_section(SectionKind::Userlist, "user", 1, USERLIST_USER),
    in_section(SectionKind::Userlist, "group", 1, USERLIST_GROUP),
    single("filter", FILTERS),
    kw("filter trace", 0, FILTER_TRACE),
    kw("filter spoe", 0, FILTER_SPOE),
    kw("filter bwlim-in", 1, FILTER_BWLIM),
    kw("filter bwlim-out", 1, FILTER_BWLIM),
    kw("http-check send", 0, HTTP_CHECK_SEND),
    kw("http-check connect", 0, CHECK_CONNECT),
    kw("tcp-check connect", 0, CHECK_CONNECT),
    kw("http-check expect", 0, HTTP_CHECK_EXPECT),
    kw("tcp-check expect", 0, TCP_CHECK_EXPECT),
    kw("tcp-check send", 1, CHECK_COMMENT),
    kw("tcp-check send-lf", 1, CHECK_COMMENT),
    kw("tcp-check send-binary", 1, CHECK_COMMENT),
    kw("tcp-check send-binary-lf", 1, CHECK_COMMENT),
];

/// Where a word of a line stands among its keyword's words.
#[derive(Clone, Copy, Debug)]
pub enum WordSlot {
    /// One of the keyword's words goes here (it may be typed already).
    Word(&'static KeywordWords),
    /// The value of `word`; `first` says whether it is the first of its value words (the one
    /// [`ValueDef::choices`] lists).
    Value {
        word: &'static ValueDef,
        first: bool,
    },
}

/// A word's name without its arguments: `hdr(host)` → `hdr`.
fn bare(word: &str) -> &str {
    word.split('(').next().unwrap_or(word)
}

/// The keywords of [`KEYWORD_WORDS`] that `words` start with, in `section`.
fn keywords_of<'a>(
    section: Option<SectionKind>,
    words: &'a [&'a str],
) -> impl Iterator<Item = &'static KeywordWords> + 'a {
    KEYWORD_WORDS
        .iter()
        .filter(move |k| k.section.is_none() || k.section == section)
        .filter(move |k| {
            let n = k.keyword.split(' ').count();
            n <= words.len()
                && k.keyword
                    .split(' ')
                    .zip(words)
                    .all(|(want, have)| want == bare(have))
        })
}

/// What word `at` of a line of `section` is (it may be one past the last, the word being
/// typed), when it follows a keyword of [`KEYWORD_WORDS`]: the longest keyword it comes after
/// says (`balance uri`'s words after `balance uri`, the algorithms after `balance`).
pub fn word_slot(section: Option<SectionKind>, words: &[&str], at: usize) -> Option<WordSlot> {
    // `no option x` and `default option x` take the words of `option x`.
    let (words, at) = match words {
        ["no" | "default", "option", ..] => (&words[1..], at.checked_sub(1)?),
        _ => (words, at),
    };
    // The condition of a rule (`if …`, `unless …`) is not the keyword's words.
    if words[..at.min(words.len())]
        .iter()
        .chain(words.get(at))
        .any(|w| matches!(*w, "if" | "unless"))
    {
        return None;
    }
    let mut keywords: Vec<_> = keywords_of(section, words).collect();
    keywords.sort_by_key(|k| std::cmp::Reverse(k.keyword.len()));
    let k = keywords
        .into_iter()
        .find(|k| k.keyword.split(' ').count() + k.skip as usize <= at)?;
    let start = k.keyword.split(' ').count() + k.skip as usize;
    list_slot(k.words, words, start, at, k.single).map(|slot| match slot {
        ListSlot::Word => WordSlot::Word(k),
        ListSlot::Value { word, first } => WordSlot::Value { word, first },
    })
}

/// Where a word stands in a list of options (with their values) starting at word `start`.
#[derive(Clone, Copy, Debug)]
pub enum ListSlot {
    Word,
    Value {
        word: &'static ValueDef,
        first: bool,
    },
}

/// What word `at` of `words` is when the words from `start` on are options of `table`, each
/// followed by its value words; with `single`, only one word follows. Words the table does
/// not hold (addresses, names) count as standing alone.
pub fn list_slot(
    table: &'static [ValueDef],
    words: &[&str],
    start: usize,
    at: usize,
    single: bool,
) -> Option<ListSlot> {
    if at < start || (single && at > start) {
        return None;
    }
    let mut j = start;
    while j < at {
        let takes = table
            .iter()
            .find(|w| w.name == bare(words[j]))
            .map_or(0, |w| w.takes as usize);
        if takes > 0 && at <= j + takes {
            let word = table.iter().find(|w| w.name == bare(words[j]))?;
            return Some(ListSlot::Value {
                word,
                first: at == j + 1,
            });
        }
        j += 1 + takes;
    }
    (j == at).then_some(ListSlot::Word)
}

/// The fixed values of a bind or server option (`level`, `verify`, `resolve-prefer`…), when
/// its value is chosen from a list.
pub fn option_choices(option: &str) -> Option<&'static [ValueDef]> {
    OPTION_CHOICES
        .iter()
        .find(|(name, _)| *name == option)
        .map(|&(_, choices)| choices)
}

/// The word `name` of `table`.
pub fn find_word(table: &'static [ValueDef], name: &str) -> Option<&'static ValueDef> {
    table.iter().find(|w| w.name == bare(name))
}

/// Whether `word` is one of the words the keyword `keyword` takes.
pub fn is_word_of(keyword: &str, word: &str) -> bool {
    KEYWORD_WORDS
        .iter()
        .find(|k| k.keyword == keyword)
        .is_some_and(|k| find_word(k.words, word).is_some())
}

static BALANCE_URI: &[ValueDef] = &[
    with_value(
        "depth",
        1,
        "Hashes only the first <n> directories of the path: depth <n>.",
    ),
    with_value(
        "len",
        1,
        "Hashes only the first <n> characters of the URI: len <n>.",
    ),
    v(
        "whole",
        "Hashes the whole URI, query string included (by default it stops at '?').",
    ),
    v(
        "path-only",
        "Hashes the path alone, without the scheme and authority an absolute URI carries.",
    ),
];

static BALANCE_URL_PARAM: &[ValueDef] = &[with_value(
    "check_post",
    1,
    "Also looks for the parameter in a POST body, up to <max> bytes: check_post <max>.",
)];

static BALANCE_HDR: &[ValueDef] = &[v(
    "use_domain_only",
    "Hashes only the domain part of the header's value (Host: www.example.com → example).",
)];

static HASH_TYPE: &[ValueDef] = &[
    v(
        "map-based",
        "Method: a static table of servers; weights can't change at run time, minimal CPU.",
    ),
    v(
        "consistent",
        "Method: a hash ring; a server going down or up moves only its own share of keys.",
    ),
    v("sdbm", "Function: the sdbm hash (the default)."),
    v("djb2", "Function: the djb2 hash."),
    v(
        "wt6",
        "Function: the wt6 hash, cheap and well spread on short keys.",
    ),
    v("crc32", "Function: CRC32."),
    v(
        "avalanche",
        "Modifier: mixes the hash's bits again, for keys whose hashes cluster.",
    ),
];

static HTTP_REUSE: &[ValueDef] = &[
    v("never", "Idle server connections are never shared between requests."),
    v(
        "safe",
        "A client's first request gets a connection of its own; later ones may reuse idle ones (the default).",
    ),
    v(
        "aggressive",
        "A first request may reuse a connection that has already been reused once.",
    ),
    v("always", "Every request may reuse any idle server connection."),
];

static SERVER_STATE_FROM_FILE: &[ValueDef] = &[
    v(
        "global",
        "Reads the file named by server-state-file in the global section.",
    ),
    v(
        "local",
        "Reads the file named by this proxy's server-state-file-name.",
    ),
    v("none", "Loads no server state (the default)."),
];

static COMPRESSION: &[ValueDef] = &[
    v(
        "algo",
        "The compression algorithms offered, in order of preference: algo gzip deflate….",
    ),
    v(
        "type",
        "The response content types compressed: type text/html text/plain….",
    ),
    v(
        "offload",
        "Servers get no Accept-Encoding: the proxy compresses in their place.",
    ),
];

static HOLD: &[ValueDef] = &[
    with_value(
        "nx",
        1,
        "How long a name the DNS says does not exist keeps its last address: nx <time>.",
    ),
    with_value(
        "other",
        1,
        "How long an address is kept after another DNS error: other <time>.",
    ),
    with_value(
        "refused",
        1,
        "How long an address is kept after the DNS refused the query: refused <time>.",
    ),
    with_value(
        "timeout",
        1,
        "How long an address is kept when the DNS does not answer: timeout <time>.",
    ),
    with_value(
        "valid",
        1,
        "How long a valid answer is used before resolving again: valid <time>.",
    ),
    with_value(
        "obsolete",
        1,
        "How long an address the DNS no longer returns is kept: obsolete <time>.",
    ),
];

static MYSQL_CHECK: &[ValueDef] = &[
    with_value(
        "user",
        1,
        "The MySQL user the check logs in as (no password): user <name>.",
    ),
    v(
        "post-41",
        "Speaks the protocol of MySQL 4.1 and later (with user).",
    ),
];

static PGSQL_CHECK: &[ValueDef] = &[with_value(
    "user",
    1,
    "The PostgreSQL user the check's start-up message names: user <name>.",
)];

/// The answer options of `return`, and of `deny` and `tarpit`, which take them too.
macro_rules! answer_options {
    () => {
        [
            with_value(
                "content-type",
                1,
                "The Content-Type of the answer's body: content-type <type>.",
            ),
            with_value("string", 1, "The answer's body, as written: string <text>."),
            with_value(
                "lf-string",
                1,
                "The answer's body as a log-format string: lf-string <fmt>.",
            ),
            with_value(
                "file",
                1,
                "The answer's body read from a file: file <path>.",
            ),
            with_value(
                "lf-file",
                1,
                "The answer's body read from a file, as a log-format string: lf-file <path>.",
            ),
            with_value(
                "errorfile",
                1,
                "The whole answer (head and body) read from a file: errorfile <path>.",
            ),
            with_value(
                "errorfiles",
                1,
                "The answer from an http-errors section, for its status: errorfiles <name>.",
            ),
            v(
                "default-errorfiles",
                "The answer the proxy's errorfile lines give for its status.",
            ),
            with_value(
                "hdr",
                2,
                "A header of the answer (log-format value): hdr <name> <fmt>.",
            ),
        ]
    };
}

static RETURN: &[ValueDef] = &{
    let o = answer_options!();
    [
        with_value(
            "status",
            1,
            "The answer's status: status <code> (200 by default).",
        ),
        o[0],
        o[1],
        o[2],
        o[3],
        o[4],
        o[5],
        o[6],
        o[7],
        o[8],
    ]
};

static DENY: &[ValueDef] = &{
    let o = answer_options!();
    [
        with_value(
            "deny_status",
            1,
            "The answer's status instead of 403: deny_status <code>.",
        ),
        o[0],
        o[1],
        o[2],
        o[3],
        o[4],
        o[5],
        o[6],
        o[7],
        o[8],
    ]
};

static AUTH: &[ValueDef] = &[with_value(
    "realm",
    1,
    "The realm the browser shows when it asks for credentials: realm <text>.",
)];

static COMPRESSION_ALGOS: &[ValueDef] = &[
    v(
        "identity",
        "No compression (for tests: the response goes through the compression path unchanged).",
    ),
    v("gzip", "gzip, announced as Content-Encoding: gzip."),
    v(
        "deflate",
        "zlib-wrapped deflate, Content-Encoding: deflate.",
    ),
    v(
        "raw-deflate",
        "Raw deflate without the zlib wrapper, for clients that expect it under 'deflate'.",
    ),
];

static RETRY_ON: &[ValueDef] = &[
    v("none", "Never retries."),
    v(
        "conn-failure",
        "Retries when the connection to the server fails (the default).",
    ),
    v(
        "empty-response",
        "Retries when the server closes without answering.",
    ),
    v(
        "junk-response",
        "Retries when the server answers something that is not HTTP.",
    ),
    v(
        "response-timeout",
        "Retries when the server does not answer within timeout server.",
    ),
    v(
        "0rtt-rejected",
        "Retries a request sent as TLS early data that the server refused.",
    ),
    v(
        "all-retryable-errors",
        "conn-failure, empty-response, junk-response, response-timeout, 0rtt-rejected and the statuses 500, 502, 503 and 504.",
    ),
];

static FORWARDFOR: &[ValueDef] = &[
    with_value(
        "except",
        1,
        "Adds no header for clients in this network: except <network>.",
    ),
    with_value(
        "header",
        1,
        "The header's name instead of X-Forwarded-For: header <name>.",
    ),
    v(
        "if-none",
        "Adds the header only when the request does not carry one already.",
    ),
];

static ORIGINALTO: &[ValueDef] = &[
    with_value(
        "except",
        1,
        "Adds no header when the destination is in this network: except <network>.",
    ),
    with_value(
        "header",
        1,
        "The header's name instead of X-Original-To: header <name>.",
    ),
];

static HTTPLOG: &[ValueDef] = &[v(
    "clf",
    "Logs in the Common Log Format web servers write, instead of HAProxy's own.",
)];

static CAPTURE: &[ValueDef] = &[with_value(
    "len",
    1,
    "How many bytes of the value the log keeps: len <n>.",
)];

static USERLIST_USER: &[ValueDef] = &[
    with_value(
        "password",
        1,
        "The user's password as a crypt(3) hash ($5$…, $6$…): password <hash>.",
    ),
    with_value(
        "insecure-password",
        1,
        "The user's password in clear text: insecure-password <text>.",
    ),
    with_value(
        "groups",
        1,
        "The groups the user belongs to, separated by commas: groups <g1,g2>.",
    ),
];

static USERLIST_GROUP: &[ValueDef] = &[with_value(
    "users",
    1,
    "The group's users, separated by commas: users <u1,u2>.",
)];

static FILTERS: &[ValueDef] = &[
    v(
        "compression",
        "Compresses responses as the compression directives say.",
    ),
    v(
        "cache",
        "Serves and stores responses in a cache section: filter cache <name>.",
    ),
    v(
        "spoe",
        "Sends streams to an SPOE agent: filter spoe [engine <name>] config <file>.",
    ),
    v(
        "bwlim-in",
        "Limits the bandwidth of uploads: filter bwlim-in <name> ….",
    ),
    v(
        "bwlim-out",
        "Limits the bandwidth of downloads: filter bwlim-out <name> ….",
    ),
    v(
        "trace",
        "Logs every filter callback of the stream, for debugging filters.",
    ),
    v(
        "fcgi-app",
        "Sends requests to a FastCGI application: filter fcgi-app <name>.",
    ),
    v(
        "opentracing",
        "Sends spans to an OpenTracing tracer (a build option).",
    ),
];

static FILTER_TRACE: &[ValueDef] = &[
    with_value("name", 1, "The name the trace messages carry: name <text>."),
    v(
        "quiet",
        "Traces nothing until enabled through the runtime API.",
    ),
    v(
        "random-parsing",
        "Parses the message in random-sized pieces, to test other filters.",
    ),
    v(
        "random-forwarding",
        "Forwards the data in random-sized pieces, to test other filters.",
    ),
    v("hexdump", "Dumps the forwarded data in hexadecimal."),
];

static FILTER_SPOE: &[ValueDef] = &[
    with_value(
        "engine",
        1,
        "The SPOE engine (a [section] of the config file) to use: engine <name>.",
    ),
    with_value(
        "config",
        1,
        "The file describing the SPOE agents and messages: config <file>.",
    ),
];

static FILTER_BWLIM: &[ValueDef] = &[
    with_value(
        "key",
        1,
        "Shares the limit among the streams with the same key (an expression): key <expr>.",
    ),
    with_value(
        "table",
        1,
        "The stick table that holds the shared limit's counters: table <table>.",
    ),
    with_value(
        "limit",
        1,
        "The shared limit, in bytes per period: limit <size>.",
    ),
    with_value(
        "default-limit",
        1,
        "The limit of each stream, in bytes per period: default-limit <size>.",
    ),
    with_value(
        "default-period",
        1,
        "The period of a stream's limit: default-period <time>.",
    ),
    with_value(
        "min-size",
        1,
        "The smallest amount of data sent at once: min-size <size>.",
    ),
];

static HTTP_METHODS: &[ValueDef] = &[
    v("GET", "Reads the resource."),
    v("HEAD", "Reads the headers of the resource only."),
    v(
        "OPTIONS",
        "Asks what the server supports (the default of health checks).",
    ),
    v("POST", "Sends data to the resource."),
    v("PUT", "Replaces the resource."),
    v("DELETE", "Removes the resource."),
];

static HTTP_VERSIONS: &[ValueDef] = &[
    v("HTTP/1.0", "HTTP/1.0 (the default of health checks)."),
    v("HTTP/1.1", "HTTP/1.1: servers then expect a Host header."),
];

static CHECK_COMMENT: &[ValueDef] = &[with_value(
    "comment",
    1,
    "The text a failing check reports for this step: comment <text>.",
)];

static HTTP_CHECK_SEND: &[ValueDef] = &[
    one_of(
        "meth",
        HTTP_METHODS,
        "The check request's method: meth <method> (OPTIONS by default).",
    ),
    with_value(
        "uri",
        1,
        "The check request's URI: uri <uri> (/ by default).",
    ),
    with_value(
        "uri-lf",
        1,
        "The check request's URI as a log-format string: uri-lf <fmt>.",
    ),
    one_of(
        "ver",
        HTTP_VERSIONS,
        "The check request's HTTP version: ver <version>.",
    ),
    with_value(
        "hdr",
        2,
        "A header of the check request: hdr <name> <value> (log-format value).",
    ),
    with_value("body", 1, "The check request's body: body <text>."),
    with_value(
        "body-lf",
        1,
        "The check request's body as a log-format string: body-lf <fmt>.",
    ),
    CHECK_COMMENT[0],
];

static CHECK_CONNECT: &[ValueDef] = &[
    v(
        "default",
        "Uses the server's own check settings (port, address, TLS, PROXY protocol).",
    ),
    with_value(
        "port",
        1,
        "The port to connect to instead of the server's: port <port>.",
    ),
    with_value(
        "addr",
        1,
        "The address to connect to instead of the server's: addr <ip>.",
    ),
    v("send-proxy", "Sends a PROXY protocol header first."),
    v("via-socks4", "Connects through the server's SOCKS4 proxy."),
    v("ssl", "Connects with TLS."),
    with_value("sni", 1, "The TLS server name to send: sni <name>."),
    with_value(
        "alpn",
        1,
        "The ALPN protocols to offer over TLS: alpn <list>.",
    ),
    with_value(
        "proto",
        1,
        "The multiplexer to use on the connection (h1, h2, fcgi): proto <name>.",
    ),
    v(
        "linger",
        "Closes the connection cleanly instead of with a reset.",
    ),
    CHECK_COMMENT[0],
];

static CHECK_OK_STATUS: &[ValueDef] = &[
    v("L7OK", "Layer 7 check passed."),
    v("L7OKC", "Layer 7 check passed, with a conditional answer."),
    v("L6OK", "Layer 6 (TLS) check passed."),
    v("L4OK", "Layer 4 (connection) check passed."),
];

static CHECK_ERROR_STATUS: &[ValueDef] = &[
    v("L7RSP", "Layer 7: an invalid response."),
    v("L7STS", "Layer 7: a bad status."),
    v("L7OKC", "Layer 7: a conditional answer."),
    v("L6RSP", "Layer 6: an invalid response."),
    v("L4CON", "Layer 4: the connection failed."),
];

static CHECK_TIMEOUT_STATUS: &[ValueDef] = &[
    v("L7TOUT", "Layer 7: the response timed out."),
    v("L6TOUT", "Layer 6: the TLS handshake timed out."),
    v("L4TOUT", "Layer 4: the connection timed out."),
];

/// The options `expect` takes before its matcher, in both check kinds.
macro_rules! expect_options {
    () => {
        [
            with_value(
                "min-recv",
                1,
                "Waits for at least <n> bytes before matching: min-recv <n>.",
            ),
            one_of(
                "ok-status",
                CHECK_OK_STATUS,
                "The check's status when it matches: ok-status <st>.",
            ),
            one_of(
                "error-status",
                CHECK_ERROR_STATUS,
                "The check's status when it does not match: error-status <st>.",
            ),
            one_of(
                "tout-status",
                CHECK_TIMEOUT_STATUS,
                "The check's status when the response times out: tout-status <st>.",
            ),
            with_value(
                "on-success",
                1,
                "The text reported when it matches (log-format): on-success <fmt>.",
            ),
            with_value(
                "on-error",
                1,
                "The text reported when it does not match (log-format): on-error <fmt>.",
            ),
            with_value(
                "status-code",
                1,
                "The code reported to agents and logs (an expression): status-code <expr>.",
            ),
            CHECK_COMMENT[0],
            v("!", "Negates the match that follows."),
        ]
    };
}

static HTTP_CHECK_EXPECT: &[ValueDef] = &{
    let o = expect_options!();
    [
        o[0],
        o[1],
        o[2],
        o[3],
        o[4],
        o[5],
        o[6],
        o[7],
        o[8],
        with_value(
            "status",
            1,
            "Matches the response status against a list or ranges of codes: status 200,300-399.",
        ),
        with_value(
            "rstatus",
            1,
            "Matches the response status against a regular expression.",
        ),
        v(
            "hdr",
            "Matches a response header: hdr name <name> [value <value>] (-m str|beg|end|sub|reg).",
        ),
        v(
            "fhdr",
            "Like hdr, on the header's full value, commas included.",
        ),
        with_value(
            "string",
            1,
            "Matches a string contained in the response body.",
        ),
        with_value(
            "rstring",
            1,
            "Matches a regular expression against the response body.",
        ),
        with_value(
            "string-lf",
            1,
            "Matches a log-format string contained in the response body.",
        ),
    ]
};

static TCP_CHECK_EXPECT: &[ValueDef] = &{
    let o = expect_options!();
    [
        o[0],
        o[1],
        o[2],
        o[3],
        o[4],
        o[5],
        o[6],
        o[7],
        o[8],
        with_value("string", 1, "Matches a string contained in the response."),
        with_value(
            "rstring",
            1,
            "Matches a regular expression against the response.",
        ),
        with_value(
            "binary",
            1,
            "Matches hexadecimal bytes contained in the response.",
        ),
        with_value(
            "rbinary",
            1,
            "Matches a regular expression against the response written in hexadecimal.",
        ),
        with_value(
            "string-lf",
            1,
            "Matches a log-format string contained in the response.",
        ),
        with_value(
            "binary-lf",
            1,
            "Matches a log-format expression giving hexadecimal bytes.",
        ),
    ]
};

static CLI_LEVELS: &[ValueDef] = &[
    v(
        "user",
        "Read-only commands that show no sensitive data.",
    ),
    v(
        "operator",
        "Reads everything and may make non-sensitive changes such as clearing max counters (the default).",
    ),
    v(
        "admin",
        "Every command is allowed, clearing all counters and changing servers' state included.",
    ),
];

static SEVERITY_OUTPUT: &[ValueDef] = &[
    v("none", "Messages carry no severity (the default)."),
    v(
        "number",
        "Messages start with their syslog severity as a number.",
    ),
    v(
        "string",
        "Messages start with their syslog severity's name.",
    ),
];

static EXPOSE_FD: &[ValueDef] = &[v(
    "listeners",
    "The socket may hand the listening sockets to a new process (seamless reloads).",
)];

static TLS_VERSIONS: &[ValueDef] = &[
    v("SSLv3", "SSL 3.0 (insecure)."),
    v("TLSv1.0", "TLS 1.0."),
    v("TLSv1.1", "TLS 1.1."),
    v("TLSv1.2", "TLS 1.2."),
    v("TLSv1.3", "TLS 1.3."),
];

static VERIFY: &[ValueDef] = &[
    v("none", "The peer's certificate is not verified."),
    v(
        "optional",
        "A certificate the peer presents is verified; none is also accepted (bind only).",
    ),
    v(
        "required",
        "The peer's certificate must be present and valid.",
    ),
];

static RESOLVE_PREFER: &[ValueDef] = &[
    v(
        "ipv4",
        "Uses an IPv4 address when DNS returns both families.",
    ),
    v(
        "ipv6",
        "Uses an IPv6 address when DNS returns both families (the default).",
    ),
];

static INIT_ADDR: &[ValueDef] = &[
    v(
        "last",
        "The address the server had before the reload (server-state file).",
    ),
    v(
        "libc",
        "Resolves the name with the system's resolver (last,libc is the default).",
    ),
    v(
        "none",
        "Starts without an address, in maintenance, until the resolvers find one.",
    ),
];

static WS: &[ValueDef] = &[
    v(
        "auto",
        "HTTP/1.1, or HTTP/2 when the server's ALPN or proto says h2 (the default).",
    ),
    v("h1", "WebSocket requests always go over HTTP/1.1."),
    v("h2", "WebSocket requests always go over HTTP/2 (RFC 8441)."),
];

static OBSERVE: &[ValueDef] = &[
    v("layer4", "Counts failed connections as errors."),
    v(
        "layer7",
        "Counts failed connections and bad HTTP answers (5xx but 501/505) as errors.",
    ),
];

static ON_ERROR: &[ValueDef] = &[
    v("fastinter", "Checks again at fastinter's pace."),
    v(
        "fail-check",
        "Counts one failed check and checks at fastinter's pace (the default).",
    ),
    v(
        "sudden-death",
        "Counts failed checks so that one more failure marks the server down.",
    ),
    v("mark-down", "Marks the server down at once."),
];

static ON_MARKED_DOWN: &[ValueDef] = &[v(
    "shutdown-sessions",
    "Closes the server's sessions when it goes down.",
)];

static ON_MARKED_UP: &[ValueDef] = &[v(
    "shutdown-backup-sessions",
    "Closes the backup servers' sessions when this server comes up.",
)];

static LOG_PROTO: &[ValueDef] = &[
    v("legacy", "One message per line (the default)."),
    v(
        "octet-count",
        "Each message prefixed with its length (RFC 6587), for TCP syslog.",
    ),
];

/// Bind and server options whose value is chosen from a fixed list.
static OPTION_CHOICES: &[(&str, &[ValueDef])] = &[
    ("level", CLI_LEVELS),
    ("severity-output", SEVERITY_OUTPUT),
    ("expose-fd", EXPOSE_FD),
    ("ssl-min-ver", TLS_VERSIONS),
    ("ssl-max-ver", TLS_VERSIONS),
    ("verify", VERIFY),
    ("resolve-prefer", RESOLVE_PREFER),
    ("init-addr", INIT_ADDR),
    ("ws", WS),
    ("observe", OBSERVE),
    ("on-error", ON_ERROR),
    ("on-marked-down", ON_MARKED_DOWN),
    ("on-marked-up", ON_MARKED_UP),
    ("log-proto", LOG_PROTO),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<&str> {
        line.split_whitespace().collect()
    }

    fn word_at(line: &str, at: usize) -> Option<WordSlot> {
        word_slot(Some(SectionKind::Backend), &words(line), at)
    }

    #[test]
    fn options_and_values() {
        let l = "option forwardfor except 127.0.0.0/8 header X-Client if-none";
        assert!(
            matches!(word_at(l, 2), Some(WordSlot::Word(k)) if k.keyword == "option forwardfor")
        );
        assert!(
            matches!(word_at(l, 3), Some(WordSlot::Value { word, first: true }) if word.name == "except")
        );
        assert!(matches!(word_at(l, 6), Some(WordSlot::Word(_))));
        assert!(matches!(
            word_at(&format!("no {l}"), 3),
            Some(WordSlot::Word(_))
        ));
        // The longest keyword: `balance uri`'s words, not the algorithms.
        let l = "balance uri depth 3 whole";
        assert!(matches!(word_at(l, 1), Some(WordSlot::Word(k)) if k.keyword == "balance"));
        assert!(matches!(word_at(l, 2), Some(WordSlot::Word(k)) if k.keyword == "balance uri"));
        assert!(matches!(word_at("balance roundrobin x", 2), None));
        assert!(
            matches!(word_at("balance hdr(host) use_domain_only", 2), Some(WordSlot::Word(k)) if k.keyword == "balance hdr")
        );
        // A rule's condition is not the action's words.
        let l = "http-request return status 200 string x if { path /x }";
        assert!(matches!(word_at(l, 4), Some(WordSlot::Word(_))));
        assert!(word_at(l, 8).is_none() && word_at(l, 10).is_none() && word_at(l, 11).is_none());
        // `http-check send hdr <name> <value>`: both words are the header's.
        let l = "http-check send meth GET hdr Host x ver HTTP/1.1";
        assert!(
            matches!(word_at(l, 3), Some(WordSlot::Value { word, first: true }) if !word.choices.is_empty())
        );
        assert!(matches!(
            word_at(l, 6),
            Some(WordSlot::Value { first: false, .. })
        ));
        assert!(matches!(word_at(l, 7), Some(WordSlot::Word(_))));
        // A userlist's user, not the global one.
        let l = "user alice password x groups admins";
        assert!(word_slot(Some(SectionKind::Global), &words(l), 2).is_none());
        assert!(word_slot(Some(SectionKind::Userlist), &words(l), 2).is_some());
        assert!(is_word_of("http-check send", "uri-lf"));
        assert!(option_choices("level").is_some_and(|c| c.iter().any(|v| v.name == "admin")));
    }
}
