//! The word lists of [`super::words::KEYWORD_WORDS`] and the fixed values of bind and server
//! options: each word with its one-line doc, how many value words follow it and, when they
//! come from a fixed list, the values.

use super::values::{one_of, v, with_value};
use super::ValueDef;

pub(super) static BALANCE_URI: &[ValueDef] = &[
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

pub(super) static BALANCE_URL_PARAM: &[ValueDef] = &[with_value(
    "check_post",
    1,
    "Also looks for the parameter in a POST body, up to <max> bytes: check_post <max>.",
)];

pub(super) static BALANCE_HDR: &[ValueDef] = &[v(
    "use_domain_only",
    "Hashes only the domain part of the header's value (Host: www.example.com → example).",
)];

pub(super) static HASH_TYPE: &[ValueDef] = &[
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

pub(super) static HTTP_REUSE: &[ValueDef] = &[
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

pub(super) static SERVER_STATE_FROM_FILE: &[ValueDef] = &[
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

pub(super) static COMPRESSION: &[ValueDef] = &[
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

pub(super) static HOLD: &[ValueDef] = &[
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

pub(super) static MYSQL_CHECK: &[ValueDef] = &[
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

pub(super) static PGSQL_CHECK: &[ValueDef] = &[with_value(
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

pub(super) static RETURN: &[ValueDef] = &{
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

pub(super) static DENY: &[ValueDef] = &{
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

pub(super) static AUTH: &[ValueDef] = &[with_value(
    "realm",
    1,
    "The realm the browser shows when it asks for credentials: realm <text>.",
)];

pub(super) static COMPRESSION_ALGOS: &[ValueDef] = &[
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

pub(super) static RETRY_ON: &[ValueDef] = &[
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

pub(super) static FORWARDFOR: &[ValueDef] = &[
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

pub(super) static ORIGINALTO: &[ValueDef] = &[
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

pub(super) static HTTPLOG: &[ValueDef] = &[v(
    "clf",
    "Logs in the Common Log Format web servers write, instead of HAProxy's own.",
)];

pub(super) static CAPTURE: &[ValueDef] = &[with_value(
    "len",
    1,
    "How many bytes of the value the log keeps: len <n>.",
)];

pub(super) static USERLIST_USER: &[ValueDef] = &[
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

pub(super) static USERLIST_GROUP: &[ValueDef] = &[with_value(
    "users",
    1,
    "The group's users, separated by commas: users <u1,u2>.",
)];

pub(super) static FILTERS: &[ValueDef] = &[
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

pub(super) static FILTER_TRACE: &[ValueDef] = &[
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

pub(super) static FILTER_SPOE: &[ValueDef] = &[
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

pub(super) static FILTER_BWLIM: &[ValueDef] = &[
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

pub(super) static HTTP_METHODS: &[ValueDef] = &[
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

pub(super) static HTTP_VERSIONS: &[ValueDef] = &[
    v("HTTP/1.0", "HTTP/1.0 (the default of health checks)."),
    v("HTTP/1.1", "HTTP/1.1: servers then expect a Host header."),
];

pub(super) static CHECK_COMMENT: &[ValueDef] = &[with_value(
    "comment",
    1,
    "The text a failing check reports for this step: comment <text>.",
)];

pub(super) static HTTP_CHECK_SEND: &[ValueDef] = &[
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

pub(super) static CHECK_CONNECT: &[ValueDef] = &[
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

pub(super) static CHECK_OK_STATUS: &[ValueDef] = &[
    v("L7OK", "Layer 7 check passed."),
    v("L7OKC", "Layer 7 check passed, with a conditional answer."),
    v("L6OK", "Layer 6 (TLS) check passed."),
    v("L4OK", "Layer 4 (connection) check passed."),
];

pub(super) static CHECK_ERROR_STATUS: &[ValueDef] = &[
    v("L7RSP", "Layer 7: an invalid response."),
    v("L7STS", "Layer 7: a bad status."),
    v("L7OKC", "Layer 7: a conditional answer."),
    v("L6RSP", "Layer 6: an invalid response."),
    v("L4CON", "Layer 4: the connection failed."),
];

pub(super) static CHECK_TIMEOUT_STATUS: &[ValueDef] = &[
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

pub(super) static HTTP_CHECK_EXPECT: &[ValueDef] = &{
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

pub(super) static TCP_CHECK_EXPECT: &[ValueDef] = &{
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

pub(super) static CLI_LEVELS: &[ValueDef] = &[
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

pub(super) static SEVERITY_OUTPUT: &[ValueDef] = &[
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

pub(super) static EXPOSE_FD: &[ValueDef] = &[v(
    "listeners",
    "The socket may hand the listening sockets to a new process (seamless reloads).",
)];

pub(super) static TLS_VERSIONS: &[ValueDef] = &[
    v("SSLv3", "SSL 3.0 (insecure)."),
    v("TLSv1.0", "TLS 1.0."),
    v("TLSv1.1", "TLS 1.1."),
    v("TLSv1.2", "TLS 1.2."),
    v("TLSv1.3", "TLS 1.3."),
];

pub(super) static VERIFY: &[ValueDef] = &[
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

pub(super) static RESOLVE_PREFER: &[ValueDef] = &[
    v(
        "ipv4",
        "Uses an IPv4 address when DNS returns both families.",
    ),
    v(
        "ipv6",
        "Uses an IPv6 address when DNS returns both families (the default).",
    ),
];

pub(super) static INIT_ADDR: &[ValueDef] = &[
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

pub(super) static WS: &[ValueDef] = &[
    v(
        "auto",
        "HTTP/1.1, or HTTP/2 when the server's ALPN or proto says h2 (the default).",
    ),
    v("h1", "WebSocket requests always go over HTTP/1.1."),
    v("h2", "WebSocket requests always go over HTTP/2 (RFC 8441)."),
];

pub(super) static OBSERVE: &[ValueDef] = &[
    v("layer4", "Counts failed connections as errors."),
    v(
        "layer7",
        "Counts failed connections and bad HTTP answers (5xx but 501/505) as errors.",
    ),
];

pub(super) static ON_ERROR: &[ValueDef] = &[
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

pub(super) static ON_MARKED_DOWN: &[ValueDef] = &[v(
    "shutdown-sessions",
    "Closes the server's sessions when it goes down.",
)];

pub(super) static ON_MARKED_UP: &[ValueDef] = &[v(
    "shutdown-backup-sessions",
    "Closes the backup servers' sessions when this server comes up.",
)];

pub(super) static LOG_PROTO: &[ValueDef] = &[
    v("legacy", "One message per line (the default)."),
    v(
        "octet-count",
        "Each message prefixed with its length (RFC 6587), for TCP syslog.",
    ),
];

/// Bind and server options whose value is chosen from a fixed list.
pub(super) static OPTION_CHOICES: &[(&str, &[ValueDef])] = &[
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
