//! Global settings HAProxy takes once: a later line, once the setting holds a value, is
//! reported at the alert level ("already specified. Continuing.") and ignored, without failing
//! the check.

use super::build::{Builder, Stmt};
use super::values::atol;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// How a line gives its setting a value (HAProxy tests the value, not the line: `maxconn 0`
/// leaves the setting free for a later line).
#[derive(Clone, Copy)]
enum Value {
    /// A number read with `atol`, set when not 0.
    Number,
    /// `uid`/`gid`: a whole integer, set when not 0.
    Id,
    /// `user`/`group`: an account name; only root's account has the id 0.
    Account,
    /// A word, set by any non-empty one.
    Word,
    /// Set by the line itself, with or without a word (`log-send-hostname`).
    Always,
}

/// Each keyword HAProxy takes once, how a line sets its value, and HAProxy's message when it
/// comes again (`None`: "'<keyword>' already specified. Continuing.").
const SETTINGS: &[(&str, Value, Option<&str>)] = &[
    ("tune.runqueue-depth", Value::Number, None),
    ("tune.maxpollevents", Value::Number, None),
    ("tune.maxaccept", Value::Number, None),
    ("tune.rcvbuf.client", Value::Number, None),
    ("tune.rcvbuf.server", Value::Number, None),
    ("tune.sndbuf.client", Value::Number, None),
    ("tune.sndbuf.server", Value::Number, None),
    ("maxconn", Value::Number, None),
    ("maxconnrate", Value::Number, None),
    ("maxsessrate", Value::Number, None),
    ("maxsslrate", Value::Number, None),
    ("maxpipes", Value::Number, None),
    ("fd-hard-limit", Value::Number, None),
    ("ulimit-n", Value::Number, None),
    (
        "spread-checks",
        Value::Number,
        Some("spread-checks already specified. Continuing."),
    ),
    ("cluster-secret", Value::Word, None),
    ("chroot", Value::Word, None),
    ("pidfile", Value::Word, None),
    ("server-state-base", Value::Word, None),
    ("server-state-file", Value::Word, None),
    ("log-send-hostname", Value::Always, None),
    (
        "uid",
        Value::Id,
        Some("user/uid already specified. Continuing."),
    ),
    (
        "user",
        Value::Account,
        Some("user/uid already specified. Continuing."),
    ),
    (
        "gid",
        Value::Id,
        Some("group/gid already specified. Continuing."),
    ),
    (
        "group",
        Value::Account,
        Some("gid/group was already specified. Continuing."),
    ),
];

fn sets(value: Value, word: &str) -> bool {
    match value {
        Value::Number => atol(word) != 0,
        Value::Id => word.parse::<i64>().is_ok_and(|n| n != 0),
        Value::Account => !word.is_empty() && word != "root",
        Value::Word => !word.is_empty(),
        Value::Always => true,
    }
}

/// True when the global statement repeats a setting that already holds a value: it is then
/// reported and must be ignored. Otherwise records whether this line gives the setting one.
pub(super) fn repeated(b: &mut Builder, stmt: &Stmt, at: usize) -> bool {
    let keyword = stmt.word(at);
    let Some(&(name, value, message)) = SETTINGS.iter().find(|(k, _, _)| *k == keyword) else {
        return false;
    };
    // `uid` and `user` set the same id, as do `gid` and `group`.
    let slot = match name {
        "user" => "uid",
        "group" => "gid",
        _ => name,
    };
    if let Some(&first) = b.global_once.get(slot) {
        let (text, form) = match message {
            Some(text) if keyword == "spread-checks" => {
                (text.to_string(), HaproxyForm::ParsingTight)
            }
            Some(text) => (text.to_string(), HaproxyForm::Parsing),
            None => (
                format!("'{keyword}' already specified. Continuing."),
                HaproxyForm::Parsing,
            ),
        };
        let mut d = Diagnostic::new("W114", text)
            .at(stmt.whole())
            .label("ignored")
            .with_secondary(first, "the value HAProxy keeps")
            .form(form);
        // HAProxy prints this at the alert level, and the check still passes.
        d.haproxy_level = Some(Severity::Error);
        b.push(d);
        return true;
    }
    if sets(value, stmt.word(at + 1)) {
        b.global_once.insert(slot, stmt.whole());
    }
    false
}
