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
