//! The fixed values some directives take, each with a one-line doc (completion and hover).

/// A value a directive accepts.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ValueDef {
    pub name: &'static str,
    pub doc: &'static str,
}

const fn v(name: &'static str, doc: &'static str) -> ValueDef {
    ValueDef { name, doc }
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

/// Which table holds the values of `directive`, if its values are a fixed list.
pub fn values_of(directive: &str) -> Option<&'static [ValueDef]> {
    match directive {
        "balance" => Some(BALANCE_ALGORITHMS),
        "mode" => Some(MODES),
        _ => None,
    }
}

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
