//! The words of a redirect rule (`redirect …` and `http-request|http-response redirect …`), read
//! as HAProxy 2.7 reads them before the rule's condition: `location`, `prefix`, `scheme`,
//! `set-cookie`, `clear-cookie` and `code` each take a value (a code among 301, 302, 303, 307
//! and 308), `drop-query`, `append-slash` and `ignore-empty` none. Once the condition is read,
//! a rule without a type is refused, and a response rule whose type is not `location`.

use super::build::{Builder, Stmt};
use super::exprs;
use super::model::*;
use crate::diagnostic::Diagnostic;

/// The first word error from `from` up to the condition: its message and the word's index.
fn word_error(stmt: &Stmt, from: usize) -> Option<(String, usize)> {
    let mut i = from;
    while !stmt.word(i).is_empty() {
        let word = stmt.word(i);
        match word {
            "location" | "prefix" | "scheme" | "set-cookie" | "clear-cookie" | "code" => {
                let value = stmt.word(i + 1);
                if value.is_empty() {
                    return Some((format!("missing argument for '{word}'"), i));
                }
                let code = crate::cnum::atol(value);
                if word == "code" && !matches!(code, 301..=303 | 307 | 308) {
                    let message = format!("'{word}': unsupported HTTP code '{value}' (must be one of 301, 302, 303, 307 or 308)");
                    return Some((message, i + 1));
                }
                i += 1;
            }
            "drop-query" | "append-slash" | "ignore-empty" => {}
            "if" | "unless" => return None,
            _ => {
                let message = format!("expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{word}')");
                return Some((message, i));
            }
        }
        i += 1;
    }
    None
}

/// The type the rule's words from `from` give it (the last one written), if any.
fn redirect_type<'a>(stmt: &Stmt<'a>, from: usize) -> Option<&'a str> {
    let mut found = None;
    let mut i = from;
    while !matches!(stmt.word(i), "" | "if" | "unless") {
        match stmt.word(i) {
            t @ ("location" | "prefix" | "scheme") => {
                found = Some(t);
                i += 1;
            }
            "set-cookie" | "clear-cookie" | "code" => i += 1,
            _ => {}
        }
        i += 1;
    }
    found
}

fn push(b: &mut Builder, what: &str, message: String, span: crate::source::Span) {
    b.push(
        Diagnostic::new("E520", format!("{what} : {message}."))
            .at(span)
            .label("not a redirect HAProxy takes"),
    );
}

/// Checks the words before the condition; false once the line is refused. `what` starts the
/// message ("error detected in backend 'b' while parsing 'http-request redirect' rule").
pub(super) fn words(b: &mut Builder, stmt: &Stmt, from: usize, what: &str) -> bool {
    match word_error(stmt, from) {
        Some((message, at)) => {
            push(b, what, message, stmt.span(at));
            false
        }
        None => true,
    }
}

/// Checks the rule's type once its condition is read (`response`: an `http-response` rule).
pub(super) fn kind(b: &mut Builder, stmt: &Stmt, from: usize, what: &str, response: bool) {
    let message = match redirect_type(stmt, from) {
        None => "redirection type expected ('prefix', 'location', or 'scheme')",
        Some(t) if response && t != "location" => "response only supports redirect type 'location'",
        Some(_) => return,
    };
    push(
        b,
        what,
        message.to_string(),
        stmt.span(from.saturating_sub(1)),
    );
}

/// A proxy's `redirect` line. Its destination is taken as it is written (HAProxy parses it as
/// a log-format string only in `http-request redirect`).
pub(super) fn directive(b: &mut Builder, index: usize, stmt: &Stmt) {
    let p = &b.config.proxies[index];
    let what = format!(
        "error detected in {} '{}' while parsing redirect rule",
        p.kind.type_str(),
        p.name_str()
    );
    if !words(b, stmt, 1, &what) {
        return;
    }
    let (args, cond) = super::rules::split_condition(stmt, 1);
    let before = b.diags.len();
    let parsed = exprs::condition(b, index, &cond, &exprs::CondSite::Redirect("redirect rule"));
    if !b.diags[before..].iter().any(Diagnostic::is_error) {
        kind(b, stmt, 1, &what, false);
    }
    let place = super::places::Place::HttpRequest;
    super::places::check(b, index, &cond, parsed.as_ref(), place);
    b.config.proxies[index].redirects.push(RuleDecl {
        set: RuleSet::HttpRequest,
        action: stmt.spanned(0),
        args,
        condition: cond,
        span: stmt.whole(),
    });
}
