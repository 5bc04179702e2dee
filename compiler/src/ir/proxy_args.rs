//! Proxy keywords whose one value HAProxy requires, refused without it, in HAProxy's words
//! (`description` is not among them: HAProxy stops reading the file there).

use super::build::{Builder, Stmt};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// Each keyword, HAProxy's message when its value is missing, and the message's form.
const NEEDS_VALUE: &[(&str, &str, HaproxyForm)] = &[
    (
        "dynamic-cookie-key",
        "'dynamic-cookie-key' expects <secret_key> as argument.",
        HaproxyForm::Parsing,
    ),
    (
        "fullconn",
        "'fullconn' expects an integer argument.",
        HaproxyForm::Parsing,
    ),
    (
        "retries",
        "'retries' expects an integer argument (dispatch counts for one).",
        HaproxyForm::Parsing,
    ),
    (
        "unique-id-header",
        "unique-id-header expects an argument.",
        HaproxyForm::Parsing,
    ),
    (
        "log-tag",
        "'log-tag' expects a tag for use in syslog.",
        HaproxyForm::Parsing,
    ),
    (
        "http-send-name-header",
        "'http-send-name-header' requires a header string.",
        HaproxyForm::Parsing,
    ),
];

/// Refuses the line when its keyword (`stmt.word(0)`) has no value; true if it did.
pub(super) fn missing_value(b: &mut Builder, stmt: &Stmt) -> bool {
    let keyword = stmt.word(0);
    let Some((_, message, form)) = NEEDS_VALUE.iter().find(|(k, _, _)| *k == keyword) else {
        return false;
    };
    if !stmt.word(1).is_empty() {
        return false;
    }
    b.push(
        Diagnostic::new("E297", *message)
            .at(stmt.span(0))
            .label("value missing")
            .form(*form),
    );
    true
}
