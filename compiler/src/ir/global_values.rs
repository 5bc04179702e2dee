//! Values of global settings HAProxy refuses as it reads them: times and numbers out of their
//! range, words it does not know, names with characters it does not take, settings written
//! without the value they need (those a number completes are [`super::global`]'s).

use super::build::{Builder, Stmt};
use super::values::TimeUnit;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

/// Checks the value of the global setting at word `at`.
pub(super) fn check(b: &mut Builder, stmt: &Stmt, at: usize) {
    let keyword = stmt.word(at);
    let value = stmt.word(at + 1);
    let range = |low: i64, high: i64| {
        let n = super::values::atol(value);
        value.is_empty() || n < low || n > high
    };
    let (message, form, word) = match keyword {
        "tune.idletimer" => match idle_timer(value) {
            Some(message) => message,
            None => return,
        },
        "tune.comp.maxlevel" if range(1, 9) => (
            format!("'{keyword}' expects a numeric value between 1 and 9"),
            HaproxyForm::Parsing,
            1,
        ),
        "tune.http.maxhdr" if range(1, 32767) => (
            format!("'{keyword}' expects a numeric value between 1 and 32767"),
            HaproxyForm::Parsing,
            1,
        ),
        "ssl-server-verify" if !matches!(value, "none" | "required") => (
            format!("'{keyword}' expects 'none' or 'required' as argument."),
            HaproxyForm::Parsing,
            1,
        ),
        "description" if value.is_empty() => (
            format!("'{keyword}' expects a string argument."),
            HaproxyForm::ParsingTight,
            0,
        ),
        "node" if !node_name(value) => (
            format!("'{keyword}' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."),
            HaproxyForm::ParsingTight,
            1,
        ),
        "log-tag" if value.is_empty() => (
            format!("'{keyword}' expects a tag for use in syslog."),
            HaproxyForm::Parsing,
            0,
        ),
        "spread-checks" if range(0, 50) => (
            "'spread-checks' needs a positive value in range 0..50.".to_string(),
            HaproxyForm::ParsingTight,
            1,
        ),
        "setenv" | "presetenv" if stmt.word(at + 2).is_empty() => (
            format!("'{keyword}' expects a name and a value."),
            HaproxyForm::ParsingTight,
            0,
        ),
        "unsetenv" if value.is_empty() => (
            format!("'{keyword}' expects at least one variable name."),
            HaproxyForm::ParsingTight,
            0,
        ),
        "localpeer" if value.is_empty() => (
            format!("'{keyword}' expects a name as an argument."),
            HaproxyForm::Parsing,
            0,
        ),
        "localpeer" => {
            local_peer_after_peers(b, stmt, at);
            return;
        }
        "unix-bind" => match unix_bind(stmt, at) {
            Some((message, word)) => (message, HaproxyForm::Parsing, word),
            None => return,
        },
        _ => return,
    };
    b.push(
        Diagnostic::new("E539", message)
            .at(stmt.span(at + word))
            .label("refused by HAProxy")
            .form(form),
    );
}

/// `tune.idletimer <time>`: at most 65535 ms; HAProxy's own wording for each refusal.
fn idle_timer(value: &str) -> Option<(String, HaproxyForm, usize)> {
    let range = "'tune.idletimer' expects a timer value between 0 and 65535 ms.";
    if value.is_empty() {
        return Some((range.to_string(), HaproxyForm::Parsing, 0));
    }
    let target = "<tune.idletimer>";
    match super::timeouts::time_refusal(value, TimeUnit::Ms, target, Some("65535 ms")) {
        Ok(d) if d.value > 65535 => Some((range.to_string(), HaproxyForm::Parsing, 1)),
        Ok(_) => None,
        Err(message) => Some((message, HaproxyForm::ParsingTight, 1)),
    }
}

/// A node name: letters, digits, `.`, `-` and `_`, at least one.
fn node_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `unix-bind` options: `prefix <path>`, `mode`, `uid`, `gid`, `user`, `group` with a value.
fn unix_bind(stmt: &Stmt, at: usize) -> Option<(String, usize)> {
    let mut i = at + 1;
    while !stmt.word(i).is_empty() {
        match stmt.word(i) {
            "prefix" if stmt.word(i + 1).is_empty() => {
                return Some((
                    "unix_bind 'prefix' expects a path as an argument.".to_string(),
                    i - at,
                ))
            }
            "prefix" | "mode" | "uid" | "gid" | "user" | "group" => i += 2,
            _ => {
                return Some((
                    "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.".to_string(),
                    i - at,
                ))
            }
        }
    }
    None
}

/// `localpeer` once a peers section is read: HAProxy ignores it, with a warning.
fn local_peer_after_peers(b: &mut Builder, stmt: &Stmt, at: usize) {
    let after = b
        .config
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Peers);
    let Some(peers) = after.map(|s| s.header) else {
        return;
    };
    b.push(
        Diagnostic::new(
            "W539",
            format!(
                "'{}' ignored since it is used after 'peers' section.",
                stmt.word(at)
            ),
        )
        .severity(Severity::Warning)
        .at(stmt.span(at))
        .label("ignored: a peers section was read before")
        .with_secondary(peers, "the peers section read first")
        .help("move 'localpeer' to a global section before the peers sections")
        .form(HaproxyForm::Parsing),
    );
}
