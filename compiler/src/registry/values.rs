//! The fixed values some directives take, each with a one-line doc (completion and hover).

/// A value a directive accepts.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ValueDef {
    pub name: &'static str,
    pub doc: &'static str,
    /// How many words after it are its value (`len 64`: 1).
    pub takes: u8,
    /// The values its first value word is chosen from, when they are a fixed list (`level
    /// admin`); empty when the value is free.
    pub choices: &'static [ValueDef],
}

/// A word standing alone.
pub(crate) const fn v(name: &'static str, doc: &'static str) -> ValueDef {
    ValueDef {
        name,
        doc,
        takes: 0,
        choices: &[],
    }
}

/// A word followed by `takes` words of free value.
pub(crate) const fn with_value(name: &'static str, takes: u8, doc: &'static str) -> ValueDef {
    ValueDef {
        name,
        doc,
        takes,
        choices: &[],
    }
}

/// A word followed by one value chosen from `choices`.
pub(crate) const fn one_of(
    name: &'static str,
    choices: &'static [ValueDef],
    doc: &'static str,
) -> ValueDef {
    ValueDef {
        name,
        doc,
        takes: 1,
        choices,
    }
}

/// `balance` algorithms (the words written before any argument).
pub static BALANCE_ALGORITHMS: &[ValueDef] = &[
    v(
        "roundrobin",
        "Each server in turn, by weight; weights can change at run time.",
    ),
    v(
        "static-rr",
        "Each server in turn, by weight; weights are fixed, with no server limit.",
    ),
    v(
        "leastconn",
        "The server with the fewest active connections (long sessions).",
    ),
    v(
        "first",
        "The first server with a free connection slot, by id (to pack load).",
    ),
    v(
        "source",
        "A hash of the client's address: the same client reaches the same server.",
    ),
    v(
        "uri",
        "A hash of the URI (or its path with path-only): caches keep their hit ratio.",
    ),
    v(
        "url_param",
        "A hash of a query-string (or POST) parameter's value.",
    ),
    v("hdr", "A hash of a request header's value: hdr(<name>)."),
    v(
        "random",
        "A random server by weight; random(<draws>) keeps the least loaded of N draws.",
    ),
    v(
        "rdp-cookie",
        "A hash of the RDP cookie: rdp-cookie(<name>).",
    ),
    v("hash", "A hash of any sample expression: hash <expr>."),
];

/// `mode` values of proxy sections.
pub static MODES: &[ValueDef] = &[
    v(
        "http",
        "Full HTTP processing: HTTP rules, routing on request contents, HTTP logs.",
    ),
    v(
        "tcp",
        "Plain TCP relaying: layer-4 rules only (the default).",
    ),
];

/// The forms of a redirect (`redirect` and the `redirect` rule action): each is followed by the
/// destination.
pub static REDIRECT_TYPES: &[ValueDef] = &[
    v(
        "location",
        "Sends the client to the given URL as written: location <url>.",
    ),
    v(
        "prefix",
        "Sends the client to the given prefix followed by the request's URI (a prefix of / keeps the request's own path).",
    ),
    v(
        "scheme",
        "Sends the client to the same host and URI with another scheme: scheme https.",
    ),
];

/// The options a redirect takes after its destination.
pub static REDIRECT_OPTIONS: &[ValueDef] = &[
    v(
        "code",
        "The status of the redirect: 301, 302 (the default), 303, 307 or 308.",
    ),
    v(
        "set-cookie",
        "Also sets a cookie on the client: set-cookie NAME[=value] (path=/).",
    ),
    v(
        "clear-cookie",
        "Also removes a cookie from the client: clear-cookie NAME (Max-Age=0).",
    ),
    v(
        "drop-query",
        "With prefix or scheme: the request's query string is left out of the new URL.",
    ),
    v(
        "append-slash",
        "With drop-query: a / is added to the path when it does not end with one.",
    ),
    v(
        "ignore-empty",
        "With location: the rule does nothing when the location renders empty.",
    ),
];

/// The status codes a redirect's `code` accepts.
pub static REDIRECT_CODES: &[ValueDef] = &[
    v(
        "301",
        "Moved Permanently: clients may cache it; a POST may come back as a GET.",
    ),
    v(
        "302",
        "Found (the default): a temporary move; a POST may come back as a GET.",
    ),
    v(
        "303",
        "See Other: the client fetches the new URL with GET (after a form POST).",
    ),
    v(
        "307",
        "Temporary Redirect: the client repeats the same method and body.",
    ),
    v(
        "308",
        "Permanent Redirect: cacheable, and the client repeats the same method and body.",
    ),
];

/// The flags of an ACL, written between its criterion and its patterns.
pub static ACL_FLAGS: &[ValueDef] = &[
    v(
        "-i",
        "Case-insensitive: the patterns match whatever the case of the sample.",
    ),
    v(
        "-f",
        "Reads patterns from a file, one per line: -f <file> (may be repeated).",
    ),
    v(
        "-m",
        "The match method to use instead of the criterion's own: -m <method>.",
    ),
    v(
        "-n",
        "No DNS: host names among address patterns are not resolved.",
    ),
    v(
        "-M",
        "Reads the -f files as maps: the first word of each line is the pattern.",
    ),
    v(
        "-u",
        "Gives the pattern list a unique id, to change it through the runtime API: -u <id>.",
    ),
    v(
        "--",
        "Ends the flags: the next word is a pattern even if it starts with '-'.",
    ),
];

/// The ACL flags followed by a value of their own.
pub const ACL_FLAGS_WITH_VALUE: [&str; 3] = ["-f", "-m", "-u"];

/// The operators that may come before the numbers of an ACL whose patterns are integers (or
/// dotted versions): each applies to the numbers after it, up to the next operator.
pub static ACL_INT_OPERATORS: &[ValueDef] = &[
    v(
        "eq",
        "Equal: the sample equals each number after it (the default).",
    ),
    v(
        "ge",
        "Greater than or equal: the sample is at least the number after it.",
    ),
    v(
        "gt",
        "Greater than: the sample is above the number after it.",
    ),
    v(
        "le",
        "Less than or equal: the sample is at most the number after it.",
    ),
    v("lt", "Less than: the sample is below the number after it."),
];

/// The match methods of `-m`.
pub static MATCH_METHODS: &[ValueDef] = &[
    v(
        "found",
        "Matches when the sample exists, whatever its value (takes no pattern).",
    ),
    v(
        "bool",
        "Matches when the sample is true or a non-zero integer (takes no pattern).",
    ),
    v(
        "int",
        "Integer patterns, exact or ranges (10, 1:100, ge 10).",
    ),
    v("ip", "IPv4 or IPv6 addresses and networks (10.0.0.0/8)."),
    v(
        "bin",
        "Hexadecimal patterns compared with the binary sample.",
    ),
    v(
        "len",
        "Integer patterns (or ranges) compared with the sample's length.",
    ),
    v("str", "The sample equals the pattern."),
    v("beg", "The sample begins with the pattern."),
    v("sub", "The sample contains the pattern."),
    v(
        "dir",
        "A slash-delimited part of the sample equals the pattern.",
    ),
    v(
        "dom",
        "A dot-delimited part of the sample equals the pattern.",
    ),
    v("end", "The sample ends with the pattern."),
    v("reg", "The sample matches the regular expression."),
];

/// The words of a `log` line after its target: `global`, the options, the syslog formats,
/// facilities and levels.
pub static LOG_WORDS: &[ValueDef] = &[
    v(
        "global",
        "Logs where the global section's log lines say (log global).",
    ),
    v(
        "stdout",
        "Target: the process's standard output (containers).",
    ),
    v("stderr", "Target: the process's standard error."),
    with_value(
        "len",
        1,
        "The longest line sent, in bytes: len <n> (default 1024).",
    ),
    one_of(
        "format",
        LOG_FORMATS,
        "The syslog header: rfc3164 (default), rfc5424, short, priority, timed, iso, local or raw.",
    ),
    with_value(
        "sample",
        1,
        "Sends only some lines: sample <ranges>:<size> (1:2 is every other line).",
    ),
    v("kern", "Facility kern."),
    v("user", "Facility user."),
    v("mail", "Facility mail."),
    v("daemon", "Facility daemon."),
    v("auth", "Facility auth."),
    v("syslog", "Facility syslog."),
    v("lpr", "Facility lpr."),
    v("news", "Facility news."),
    v("uucp", "Facility uucp."),
    v("cron", "Facility cron."),
    v("auth2", "Facility auth2."),
    v("ftp", "Facility ftp."),
    v("ntp", "Facility ntp."),
    v("audit", "Facility audit."),
    v(
        "alert",
        "Facility alert; as a level, action must be taken at once.",
    ),
    v("cron2", "Facility cron2."),
    v(
        "local0",
        "Facility local0, the one syslog daemons leave to applications.",
    ),
    v(
        "local1",
        "Facility local1, the one syslog daemons leave to applications.",
    ),
    v(
        "local2",
        "Facility local2, the one syslog daemons leave to applications.",
    ),
    v(
        "local3",
        "Facility local3, the one syslog daemons leave to applications.",
    ),
    v(
        "local4",
        "Facility local4, the one syslog daemons leave to applications.",
    ),
    v(
        "local5",
        "Facility local5, the one syslog daemons leave to applications.",
    ),
    v(
        "local6",
        "Facility local6, the one syslog daemons leave to applications.",
    ),
    v(
        "local7",
        "Facility local7, the one syslog daemons leave to applications.",
    ),
    v("emerg", "Level: the system is unusable (the most severe)."),
    v("crit", "Level: critical conditions."),
    v(
        "err",
        "Level: errors (a server with no server left to use).",
    ),
    v("warning", "Level: warnings (a server going down)."),
    v(
        "notice",
        "Level: normal but significant events (a proxy started).",
    ),
    v(
        "info",
        "Level: informational (traffic logs; the default for them).",
    ),
    v("debug", "Level: debug messages (the least severe)."),
];

/// The syslog header formats of `log … format`.
pub static LOG_FORMATS: &[ValueDef] = &[
    v("rfc3164", "Format: BSD syslog header (the default)."),
    v(
        "rfc5424",
        "Format: structured syslog header, with log-format-sd's data.",
    ),
    v("short", "Format: the <PRI> only, for systemd's journal."),
    v("priority", "Format: the <PRI> only, then the message."),
    v("timed", "Format: <PRI> and an RFC3339 timestamp."),
    v("iso", "Format: an RFC3339 timestamp, no <PRI>."),
    v("local", "Format: the RFC3164 header without the host name."),
    v(
        "raw",
        "Format: the message alone, no header (stdout and files).",
    ),
];

/// The options of the `cookie` directive, after the cookie's name.
pub static COOKIE_OPTIONS: &[ValueDef] = &[
    v(
        "rewrite",
        "The server sets the cookie; its value is replaced with the server's id.",
    ),
    v(
        "insert",
        "The proxy adds the cookie to responses, naming the server chosen.",
    ),
    v(
        "prefix",
        "The server's id is put before the value of the application's own cookie.",
    ),
    v(
        "indirect",
        "The cookie is not sent again to a client that already has the right one, nor passed to servers.",
    ),
    v(
        "nocache",
        "Responses setting the cookie are marked not cacheable.",
    ),
    v(
        "postonly",
        "The cookie is inserted only in answers to POST requests.",
    ),
    v(
        "preserve",
        "A cookie the server sets itself is left as it is.",
    ),
    v("httponly", "The inserted cookie carries HttpOnly."),
    v(
        "secure",
        "The inserted cookie carries Secure (sent over HTTPS only).",
    ),
    with_value(
        "domain",
        1,
        "The Domain of the inserted cookie: domain <name>.",
    ),
    with_value(
        "maxidle",
        1,
        "How long a cookie stays valid without being seen: maxidle <time>.",
    ),
    with_value(
        "maxlife",
        1,
        "How long a cookie stays valid after it was first set: maxlife <time>.",
    ),
    v(
        "dynamic",
        "Server cookie values derived from dynamic-cookie-key and the server's address.",
    ),
    with_value(
        "attr",
        1,
        "Any other attribute for the inserted cookie: attr <text>.",
    ),
];

/// The options of a `stick-table` line.
pub static STICK_TABLE_OPTIONS: &[ValueDef] = &[
    one_of(
        "type",
        STICK_TABLE_KEY_TYPES,
        "The key's type: ip, ipv6, integer, string [len <n>] or binary [len <n>].",
    ),
    with_value(
        "len",
        1,
        "The key length in bytes for string and binary keys.",
    ),
    with_value(
        "size",
        1,
        "The most entries the table holds: size <n>[k|m|g].",
    ),
    with_value(
        "expire",
        1,
        "How long an entry lives after its last update: expire <time>.",
    ),
    v(
        "nopurge",
        "A full table refuses new entries instead of dropping the oldest.",
    ),
    with_value(
        "peers",
        1,
        "Shares the table with the peers of a peers section: peers <name>.",
    ),
    one_of(
        "srvkey",
        STICK_TABLE_SERVER_KEYS,
        "What a stored server is remembered by: srvkey name or srvkey addr.",
    ),
    with_value(
        "write-to",
        1,
        "Also writes every update to another table: write-to <table>.",
    ),
    with_value(
        "store",
        1,
        "The counters kept per entry: store conn_cnt,http_req_rate(10s),gpc0…",
    ),
];

/// The key types of `stick-table type`.
pub static STICK_TABLE_KEY_TYPES: &[ValueDef] = &[
    v("ip", "Key type: IPv4 addresses."),
    v("ipv6", "Key type: IPv6 addresses (IPv4 ones are mapped)."),
    v("integer", "Key type: 32-bit integers."),
    v("string", "Key type: strings, cut at len bytes."),
    v("binary", "Key type: binary blocks of len bytes."),
];

/// What `stick-table srvkey` remembers a server by.
pub static STICK_TABLE_SERVER_KEYS: &[ValueDef] = &[
    v("name", "The server's name (the default)."),
    v(
        "addr",
        "The server's address and port, for peers whose server names differ.",
    ),
];
