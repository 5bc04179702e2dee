//! Proxy keywords whose values HAProxy requires, refused without them, in HAProxy's words
//! (`description` is not among them: HAProxy stops reading the file there), and the error page
//! lines (`errorfile`, `errorloc*`), whose status must be one HAProxy has a page for.

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

/// Checks an error page line (`errorfile`, `errorloc`, `errorloc302`, `errorloc303`) of a proxy
/// or, with `in_section`, an `errorfile` of an `http-errors` section: both arguments present and
/// a status HAProxy keeps a page for. HAProxy reads the status as `atol` does and checks it
/// before it opens the file, so an `errorfile`'s file is the environment's to check only once
/// both are right.
pub(super) fn error_page(b: &mut Builder, stmt: &Stmt, in_section: bool) {
    let keyword = stmt.word(0);
    if stmt.word(1).is_empty() || stmt.word(2).is_empty() {
        let what = if keyword == "errorfile" {
            "file"
        } else {
            "url"
        };
        // The section's parser writes no space before its colon.
        let sep = if in_section { ":" } else { " :" };
        let message = format!("{keyword}{sep} expects <status_code> and <{what}> as arguments.");
        b.push(
            Diagnostic::new("E292", message)
                .at(stmt.whole())
                .label("status or page missing"),
        );
        return;
    }
    let status = super::values::atol(stmt.word(1));
    if !crate::plan::errors::STATUSES
        .iter()
        .any(|&s| i64::from(s) == status)
    {
        b.push(
            Diagnostic::new(
                "E292",
                format!("{keyword} : status code '{status}' not handled."),
            )
            .at(stmt.span(1))
            .label("no page for this status"),
        );
        return;
    }
    if keyword == "errorfile" {
        b.file_ref(
            crate::ir::model::FileKind::ErrorFile,
            "errorfile",
            stmt.spanned(2),
        );
    }
}
