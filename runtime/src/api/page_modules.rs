//! The stats page's "Extra modules" columns (`stats show-modules`). HAProxy 2.7.0 built with
//! OpenSSL and without QUIC (Debian's build too) registers three statistics modules for
//! proxies, in this order: `ssl`, `h2`, `h1`. Each row gets one cell per module; a module that
//! applies to the row's kind shows its name, with its counters in a hover table, and the others
//! leave the cell empty. A counter hapee does not keep shows an empty value, as HAProxy shows a
//! field it did not fill, so a blank is never mistaken for a counted zero.

use super::counters::Counter;
use super::stat::{Kind, Row};
use crate::state::Shared;
use std::fmt::Write;

/// One statistics module: its name, the row kinds it applies to, and its counters (their
/// description on the page, and the frontend counter hapee keeps for it, if any).
struct Module {
    name: &'static str,
    kinds: &'static [Kind],
    fields: &'static [(&'static str, Option<Counter>)],
}

const MODULES: &[Module] = &[
    Module {
        name: "ssl",
        kinds: &[Kind::Frontend, Kind::Listener, Kind::Backend, Kind::Server],
        fields: &[
            ("Total number of ssl sessions established", None),
            ("Total number of ssl sessions reused", None),
            ("Total number of failed handshake", None),
        ],
    },
    Module {
        name: "h2",
        kinds: &[Kind::Frontend, Kind::Backend],
        fields: &[
            ("Total number of received HEADERS frames", None),
            ("Total number of received DATA frames", None),
            ("Total number of received SETTINGS frames", None),
            ("Total number of received RST_STREAM frames", None),
            ("Total number of received GOAWAY frames", None),
            ("Total number of connection protocol errors", None),
            ("Total number of stream protocol errors", None),
            ("Total number of RST_STREAM sent on detected error", None),
            ("Total number of GOAWAY sent on detected error", None),
            ("Count of currently open connections", None),
            ("Count of currently open streams", None),
            ("Total number of connections", Some(Counter::H2Connections)),
            ("Total number of streams", None),
        ],
    },
    Module {
        name: "h1",
        kinds: &[Kind::Frontend, Kind::Backend],
        fields: &[
            ("Count of currently open connections", None),
            ("Count of currently open streams", None),
            ("Total number of connections", Some(Counter::H1Connections)),
            ("Total number of streams", None),
            ("Total number of bytes received", None),
            // HAProxy's own spelling, missing space included.
            ("Total number of bytes send", None),
            ("Total number of bytes received using kernel splicing", None),
            ("Total number of bytes sendusing kernel splicing", None),
        ],
    },
];

/// The first header row's group cell over the modules' columns.
pub fn group_heading(out: &mut String) {
    let _ = write!(out, "<th colspan={}>Extra modules</th>", MODULES.len());
}

/// The second header row's cells: one per module, by name.
pub fn headings(out: &mut String) {
    for m in MODULES {
        let _ = write!(out, "<th>{}</th>", m.name);
    }
}

/// A row's module cells. Only a frontend's counters are kept (its client connections by
/// protocol); every other value is left blank.
pub fn cells(out: &mut String, shared: &Shared, row: &Row) {
    let frontend = (row.kind == Kind::Frontend)
        .then(|| {
            let name = row.values[0].text();
            shared.frontend_by_name(&name)
        })
        .flatten();
    for m in MODULES {
        out.push_str("<td>");
        if m.kinds.contains(&row.kind) {
            let _ = write!(out, "<u>{}<div class=tips><table class=det>", m.name);
            for (desc, counter) in m.fields {
                let value = counter
                    .zip(frontend)
                    .map(|(c, f)| f.counters.get(c).to_string())
                    .unwrap_or_default();
                let _ = write!(out, "<tr><th>{desc}</th><td>{value}</td></tr>");
            }
            out.push_str("</table></div></u>");
        }
        out.push_str("</td>");
    }
}
