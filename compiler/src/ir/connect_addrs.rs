//! The addresses a proxy connects from or through, read as HAProxy reads them: a proxy's or a
//! server's `source` (and its `usesrc`), a server's `socks4` proxy and a `tcp-check connect
//! addr`. Each takes a port of its own kind: `source` on a server a range too, `socks4` one
//! that must be there; none takes a `+`/`-` offset.

use super::build::{Builder, Stmt};
use crate::address::Rules;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::source::Span;

/// A server's own `source`: an optional port or port range to bind to.
const SERVER_SOURCE: Rules = Rules {
    port_range: true,
    ..Rules::USESRC
};

/// A server's `socks4` proxy: its port is required.
const SOCKS4: Rules = Rules {
    port_mandatory: true,
    ..Rules::USESRC
};

/// Reads the server option at word `i` of `stmt` when it names an address (`source`,
/// `usesrc`, `socks4`) and reports what HAProxy refuses in it, `context` naming the server.
/// `source` goes on with its own `usesrc <address>` and `interface <name>` pairs. Returns how
/// many words past the option's value it read, or `None` when it failed (HAProxy then reads no
/// further option of the line).
pub(super) fn server_option(
    b: &mut Builder,
    stmt: &Stmt,
    i: usize,
    context: &str,
) -> Option<usize> {
    let opt = stmt.word(i);
    if !address(b, opt, stmt.word(i + 1), stmt.span(i + 1), context) {
        return None;
    }
    let mut next = i + 2;
    while opt == "source" && matches!(stmt.word(next), "usesrc" | "interface") {
        if stmt.word(next + 1).is_empty() {
            break;
        }
        let (word, value) = (stmt.word(next), stmt.word(next + 1));
        if word == "usesrc" && !address(b, word, value, stmt.span(next + 1), context) {
            return None;
        }
        next += 2;
    }
    Some(next - (i + 2))
}

/// Checks the address `value` of server option `opt`; false when HAProxy refuses it.
fn address(b: &mut Builder, opt: &str, value: &str, span: Span, context: &str) -> bool {
    let rules = match opt {
        "source" => SERVER_SOURCE,
        "socks4" => SOCKS4,
        // `client`, `clientip` and `hdr_ip(…)` are words; anything else is an address.
        "usesrc" if !matches!(value, "client" | "clientip") && !value.starts_with("hdr_ip(") => {
            Rules::USESRC
        }
        _ => return true,
    };
    if value.is_empty() {
        return true;
    }
    let Err(e) = crate::address::parse_written(value, b.env, rules) else {
        return true;
    };
    if opt == "usesrc" {
        // `usesrc` prints its own alert, without a period; the server line's parser then adds
        // that the option failed, without a place.
        b.push(
            Diagnostic::new("E227", format!("{context}'usesrc {value}' : {e}"))
                .at(span)
                .label("not a source address")
                .help("write 'client', 'clientip', 'hdr_ip(<name>)' or an address with an optional port")
                .form(HaproxyForm::FileLine),
        );
        b.push(
            Diagnostic::new("E227", "error encountered while processing 'usesrc'.")
                .at(span)
                .form(HaproxyForm::Bare),
        );
    } else {
        b.push(
            Diagnostic::new("E227", format!("{context}'{opt} {value}' : {e}."))
                .at(span)
                .label(if opt == "socks4" {
                    "not a SOCKS4 proxy address"
                } else {
                    "not a source address"
                })
                .form(HaproxyForm::FileLine),
        );
    }
    false
}

/// A proxy's `source <address> [usesrc <address>|client|clientip|hdr_ip(<name>[,<occ>])]
/// [interface <name>]` line: the address takes an optional port, neither a range nor an
/// offset; the first problem ends the line.
pub(super) fn proxy_source(b: &mut Builder, stmt: &Stmt, at: usize) {
    let words = |b: &mut Builder, i: usize, message: &str| {
        b.push(
            Diagnostic::new("E521", message.to_string())
                .at(stmt.span(i))
                .label("not a 'source' setting HAProxy takes"),
        );
    };
    let value = stmt.word(at + 1);
    if value.is_empty() {
        let message = "'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>.";
        return words(b, at, message);
    }
    if let Err(e) = crate::address::parse_written(value, b.env, Rules::USESRC) {
        b.push(
            Diagnostic::new("E227", format!("'source {value}' : {e}"))
                .at(stmt.span(at + 1))
                .label("not a source address"),
        );
        return;
    }
    let mut i = at + 2;
    while !stmt.word(i).is_empty() {
        let value = stmt.word(i + 1);
        match stmt.word(i) {
            "usesrc" if value.is_empty() => {
                let message =
                    "'usesrc' expects <addr>[:<port>], 'client', or 'clientip' as argument.";
                return words(b, i, message);
            }
            "usesrc" if matches!(value, "client" | "clientip") || value.starts_with("hdr_ip(") => {}
            "usesrc" => {
                if let Err(e) = crate::address::parse_written(value, b.env, Rules::USESRC) {
                    b.push(
                        Diagnostic::new("E227", format!("'usesrc {value}' : {e}"))
                            .at(stmt.span(i + 1))
                            .label("not a source address"),
                    );
                    return;
                }
            }
            "interface" if value.is_empty() => {
                return words(b, i, "'source' : missing interface name.");
            }
            "interface" => {}
            _ => {
                let message = "'source' only supports optional keywords 'interface' and 'usesrc'.";
                return words(b, i, message);
            }
        }
        i += 2;
    }
}
