//! The words of an `http-check send` rule, read as HAProxy reads them while parsing: each of
//! `meth`, `uri`, `uri-lf`, `ver`, `body`, `body-lf` and `comment` takes a non-empty value,
//! `hdr` a name and a non-empty value (one `Host` at most), and any other word is refused. The
//! first problem stops the line.

use super::build::{Builder, Stmt};
use crate::diagnostic::Diagnostic;

/// Checks the words after `http-check send` (`at` is the index of `send`).
pub(super) fn words(b: &mut Builder, stmt: &Stmt, at: usize) {
    let mut host: Option<&str> = None;
    let mut i = at + 1;
    while i < stmt.len() {
        let word = stmt.word(i);
        let (message, place) = match word {
            "meth" | "uri" | "uri-lf" | "ver" | "body" | "body-lf" | "comment" => {
                if !stmt.word(i + 1).is_empty() {
                    i += 2;
                    continue;
                }
                (format!("'{word}' expects a string as argument.."), i)
            }
            "hdr" => {
                let (name, value) = (stmt.word(i + 1), stmt.word(i + 2));
                if name.is_empty() || value.is_empty() {
                    (format!("'{word}' expects <name> and <value> as arguments."), i)
                } else if !name.eq_ignore_ascii_case("host") {
                    i += 3;
                    continue;
                } else if let Some(previous) = host {
                    let message = format!(
                        "'{name}' header already defined (previous value is '{previous}')."
                    );
                    (message, i + 1)
                } else {
                    host = Some(value);
                    i += 3;
                    continue;
                }
            }
            _ => (
                format!("expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{word}' as argument.."),
                i,
            ),
        };
        b.push(
            Diagnostic::new("E299", format!("'http-check send' : {message}"))
                .at(stmt.span(place))
                .label("not an 'http-check send' argument HAProxy takes"),
        );
        return;
    }
}
