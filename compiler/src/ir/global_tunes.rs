//! Values of the compression, soft-stop and poller settings of the global section, refused in
//! HAProxy 2.7's words (E291): `maxcompcpuusage`, `tune.zlib.memlevel`,
//! `tune.zlib.windowsize`, `close-spread-time`, `tune.fd.edge-triggered`, the sizes of
//! `tune.vars.*-max-size`, and the `h1-case-adjust <from> <to>` pairs.

use super::build::{Builder, Stmt};
use super::values::{atol, parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// Checks one global statement whose keyword is at `at` (nothing for other keywords).
pub(super) fn statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    let keyword = stmt.word(at);
    let value = stmt.word(at + 1);
    let message = match keyword {
        // HAProxy keeps 100 minus the value in an unsigned number: below 0 or above 100
        // wraps past 100. A value that is not a number reads as 0.
        "maxcompcpuusage" if !value.is_empty() => {
            let usage = atol(value);
            (!(0..=100).contains(&usage))
                .then(|| format!("'{keyword}' expects an integer argument between 0 and 100."))
        }
        "tune.zlib.memlevel" => (value.is_empty() || !(1..=9).contains(&atol(value)))
            .then(|| format!("'{keyword}' expects a numeric value between 1 and 9.")),
        "tune.zlib.windowsize" => (value.is_empty() || !(8..=15).contains(&atol(value)))
            .then(|| format!("'{keyword}' expects a numeric value between 8 and 15.")),
        "close-spread-time" => close_spread_time(keyword, value),
        "tune.fd.edge-triggered" => (!matches!(value, "on" | "off"))
            .then(|| format!("'{keyword}' expects either 'on' or 'off' but got '{value}'.")),
        "tune.vars.global-max-size"
        | "tune.vars.proc-max-size"
        | "tune.vars.sess-max-size"
        | "tune.vars.txn-max-size"
        | "tune.vars.reqres-max-size"
        | "tune.vars.check-max-size" => (!strtol_rest(value).is_empty())
            .then(|| format!("{keyword}: '{value}' is an invalid size")),
        "h1-case-adjust" => h1_case_adjust(b, keyword, value, stmt.word(at + 2)),
        "h1-case-adjust-file" => value
            .is_empty()
            .then(|| format!("'{keyword}' expects <file> as argument.")),
        _ => return,
    };
    if let Some(message) = message {
        let span = if value.is_empty() {
            stmt.span(at)
        } else {
            stmt.span(at + 1)
        };
        b.push(
            Diagnostic::new("E291", message)
                .at(span)
                .label("invalid value")
                .form(HaproxyForm::Parsing),
        );
    }
}

/// `h1-case-adjust <from> <to>`: both names, then [`case_adjust_pair`] against the pairs
/// before it (the statement itself is already among the global directives).
fn h1_case_adjust(b: &Builder, keyword: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() || to.is_empty() {
        return Some(format!("'{keyword}' expects <from> and <to> as argument."));
    }
    let earlier = case_adjust_froms(&b.config.global.directives);
    let count = earlier.iter().filter(|f| **f == from).count();
    // The statement's own pair is counted once when it is valid.
    case_adjust_pair(from, to, |f| f == from && count > 1)
}

/// The `<from>` names of the valid `h1-case-adjust` lines among `directives`, in order.
pub(crate) fn case_adjust_froms(directives: &[super::DirectiveLine]) -> Vec<&str> {
    directives
        .iter()
        .filter(|d| d.prefix.is_none() && d.keyword == "h1-case-adjust")
        .filter_map(|d| match d.args.as_slice() {
            [f, t, ..] if f.eq_ignore_ascii_case(t.as_str()) => Some(f.as_str()),
            _ => None,
        })
        .collect()
}

/// One header-case pair as HAProxy adds it, from a configuration line or a line of the
/// `h1-case-adjust-file`: `<to>` present, the same name as `<from>` but for case, and `<from>`
/// not already known (case-sensitive). HAProxy's words, spelling included.
pub(crate) fn case_adjust_pair(
    from: &str,
    to: &str,
    known: impl Fn(&str) -> bool,
) -> Option<String> {
    if to.is_empty() {
        return Some("expect <to>".into());
    }
    if !from.eq_ignore_ascii_case(to) {
        return Some("<from> and <to> must not differ execpt the case".into());
    }
    known(from).then(|| format!("duplicate entry '{from}'"))
}

/// What C's `strtol` leaves unread of `text`: all of it when no number starts it (an empty
/// text leaves nothing).
fn strtol_rest(text: &str) -> &str {
    let t = text.trim_start();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        text
    } else {
        &unsigned[digits..]
    }
}

/// `close-spread-time <time>|infinite`.
fn close_spread_time(keyword: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return Some(format!("'{keyword}' expects <time> as argument."));
    }
    if value == "infinite" {
        return None;
    }
    match parse_time(value, TimeUnit::Ms) {
        Ok(_) => None,
        Err(TimeError::Overflow) => Some(format!(
            "timer overflow in argument '{value}' to '{keyword}' (maximum value is 2147483647 ms or ~24.8 days)"
        )),
        Err(TimeError::Underflow) => Some(format!(
            "timer underflow in argument '{value}' to '{keyword}' (minimum non-null value is 1 ms)"
        )),
        Err(TimeError::Char(i)) => Some(format!(
            "unexpected character '{}' in argument to <{keyword}>.",
            value[i..].chars().next().unwrap_or(' ')
        )),
    }
}
