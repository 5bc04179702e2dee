//! The argument grammar of the directives whose arguments come in a fixed order: each
//! argument's placeholder and what it is (the LSP's signature help shows these while the
//! arguments are typed). A directive not listed here has free-form or option-list arguments.

/// One argument of a directive's usage.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct UsageArg {
    /// The placeholder as the usage line writes it: `<name>`, `[<param>*]`.
    pub label: &'static str,
    pub doc: &'static str,
}

/// A directive's usage: the words that name it, then its arguments in order. With `repeats`,
/// the last argument stands for every word from its position on.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Usage {
    /// The first word of the line (`timeout`, `server`).
    pub keyword: &'static str,
    pub args: &'static [UsageArg],
    pub repeats: bool,
}

const fn a(label: &'static str, doc: &'static str) -> UsageArg {
    UsageArg { label, doc }
}

const fn once(keyword: &'static str, args: &'static [UsageArg]) -> Usage {
    Usage {
        keyword,
        args,
        repeats: false,
    }
}

const fn then_many(keyword: &'static str, args: &'static [UsageArg]) -> Usage {
    Usage {
        keyword,
        args,
        repeats: true,
    }
}

const CONDITION: UsageArg = a(
    "[{if|unless} <condition>]",
    "Applies only when the ACL condition holds (or does not).",
);

/// Usages by first word.
pub static USAGES: &[Usage] = &[
    then_many(
        "acl",
        &[
            a("<aclname>", "The name conditions refer to this ACL by."),
            a("<criterion>", "The sample fetch (or ACL keyword) tested."),
            a(
                "[flags] [operator] <value>*",
                "Matching flags (-i, -m method, -f file), then the values matched.",
            ),
        ],
    ),
    then_many(
        "balance",
        &[
            a(
                "<algorithm>",
                "How a server is chosen: roundrobin, leastconn, source, uri, hdr(name), ...",
            ),
            a("[<arguments>]", "Arguments of the algorithm, if it takes some."),
        ],
    ),
    then_many(
        "bind",
        &[
            a(
                "[<address>]:<port_range>",
                "Where to listen: an address (or none for all) and a port or range; a comma joins several.",
            ),
            a("[<param>*]", "Bind options (ssl, crt, alpn, accept-proxy, ...)."),
        ],
    ),
    once(
        "default_backend",
        &[a(
            "<backend>",
            "The backend used when no use_backend rule matches.",
        )],
    ),
    then_many(
        "default-server",
        &[a(
            "[<param>*]",
            "Server options every later server of the section starts with.",
        )],
    ),
    once(
        "errorfile",
        &[
            a("<code>", "The HTTP status code the file replaces."),
            a(
                "<file>",
                "A file holding the complete HTTP response, headers included.",
            ),
        ],
    ),
    once(
        "fullconn",
        &[a(
            "<conns>",
            "The backend's load at which dynamic server limits reach their maxconn.",
        )],
    ),
    then_many(
        "log",
        &[
            a(
                "<target>",
                "Where logs go: an address, a unix socket, stdout, stderr, ring@name, or 'global'.",
            ),
            a(
                "[len <length>] [format <format>] [sample <ranges>:<size>]",
                "Line length, syslog format and sampling, each optional.",
            ),
            a("<facility>", "The syslog facility (local0 ... local7, daemon, ...)."),
            a(
                "[<level> [<minlevel>]]",
                "The most verbose level sent, and the least verbose one.",
            ),
        ],
    ),
    once(
        "maxconn",
        &[a("<conns>", "The most concurrent connections accepted.")],
    ),
    once("mode", &[a("<mode>", "tcp, http or log.")]),
    once(
        "option",
        &[a("<option>", "The option to enable (or disable, after 'no').")],
    ),
    once(
        "retries",
        &[a(
            "<value>",
            "How many times a failed connection to a server is tried again.",
        )],
    ),
    then_many(
        "server",
        &[
            a("<name>", "The server's name, for logs, stats and use-server."),
            a(
                "<address>[:[port]]",
                "Its address (IP or host name) and port; a port with + or - is an offset.",
            ),
            a(
                "[<param>*]",
                "Server options (check, weight, maxconn, ssl, backup, ...).",
            ),
        ],
    ),
    then_many(
        "stick-table",
        &[
            a("type <type>", "The key: ip, ipv6, integer, string [len <n>] or binary [len <n>]."),
            a("size <size>", "The most entries kept (with k, m or g)."),
            a(
                "[expire <expire>] [nopurge] [peers <peersect>] [store <data_type>]*",
                "Entry lifetime, purge policy, peers to share with and counters stored.",
            ),
        ],
    ),
    once(
        "timeout",
        &[
            a(
                "<name>",
                "Which timeout: client, server, connect, http-request, queue, tunnel, ...",
            ),
            a("<timeout>", "The delay, in milliseconds unless a unit follows (5s, 1m)."),
        ],
    ),
    then_many(
        "use_backend",
        &[
            a("<backend>", "The backend to use (a log-format string may name it)."),
            CONDITION,
        ],
    ),
    then_many(
        "use-server",
        &[a("<server>", "The server of this backend to use."), CONDITION],
    ),
];

/// The usage of the directive whose first word is `keyword`.
pub fn usage_of(keyword: &str) -> Option<&'static Usage> {
    USAGES.iter().find(|u| u.keyword == keyword)
}
