//! `timeout <event> <time>` in proxy sections, and the pre-2.1 forms (`clitimeout`, `srvtimeout`,
//! `contimeout`) HAProxy now refuses with their replacement.

use super::build::{tight, Builder, Stmt};
use super::model::*;
use super::values::{parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

const TIMEOUTS: [&str; 11] = [
    "client",
    "server",
    "connect",
    "check",
    "queue",
    "http-keep-alive",
    "http-request",
    "tunnel",
    "tarpit",
    "client-fin",
    "server-fin",
];

/// The pre-2.1 timeout keywords, written alone or after `timeout`, and their replacements.
const LEGACY_TIMEOUTS: [(&str, &str); 3] = [
    ("clitimeout", "client"),
    ("srvtimeout", "server"),
    ("contimeout", "connect"),
];

/// Reports a legacy timeout keyword at word `at`; false when the word is not one.
pub(super) fn legacy_timeout(b: &mut Builder, stmt: &Stmt, at: usize) -> bool {
    let name = stmt.word(at);
    let Some((old, new)) = LEGACY_TIMEOUTS.iter().find(|(o, _)| *o == name) else {
        return false;
    };
    b.push(
        Diagnostic::new("E209", format!("the '{old}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {new}'."))
            .at(stmt.span(at))
            .replace_with(stmt.span(at), Some(&format!("timeout {new}"))),
    );
    true
}

pub(super) fn timeout(b: &mut Builder, index: usize, stmt: &Stmt) {
    let name = stmt.word(1);
    if legacy_timeout(b, stmt, 1) {
        return;
    }
    if !TIMEOUTS.contains(&name) {
        b.push(
            Diagnostic::new(
                "E209",
                format!(
                    "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"
                ),
            )
            .at(stmt.span(1))
            .label("unknown timeout")
            .replace_with(
                stmt.span(1),
                crate::registry::best_match(name, TIMEOUTS.iter().copied()),
            ),
        );
        return;
    }
    let value = stmt.word(2);
    if value.is_empty() {
        b.push(
            Diagnostic::new(
                "E210",
                format!("'timeout {name}' expects an integer value (in milliseconds)"),
            )
            .at(stmt.span(2)),
        );
        return;
    }
    let ms = match parse_time(value, TimeUnit::Ms) {
        Ok(d) => {
            if let Some(junk) = d.trailing_junk {
                warn_time_junk(b, stmt, 2, junk);
            }
            d.value
        }
        Err(TimeError::Overflow) => {
            b.push(Diagnostic::new("E210", format!("timer overflow in argument '{value}' to 'timeout {name}' (maximum value is 2147483647 ms or ~24.8 days)")).at(stmt.span(2)));
            return;
        }
        Err(TimeError::Underflow) => {
            b.push(Diagnostic::new("E210", format!("timer underflow in argument '{value}' to 'timeout {name}' (minimum non-null value is 1 ms)")).at(stmt.span(2)));
            return;
        }
        Err(TimeError::Char(i)) => {
            let c = value[i..].chars().next().unwrap_or(' ');
            b.push(
                Diagnostic::new(
                    "E210",
                    format!("unexpected character '{c}' in 'timeout {name}'"),
                )
                .at(stmt.span(2)),
            );
            return;
        }
    };
    if !stmt.word(3).is_empty() {
        b.push(
            Diagnostic::new(
                "E211",
                format!(
                    "'timeout {name}' : unexpected extra argument '{}' after value '{value}'.",
                    stmt.word(3)
                ),
            )
            .at(stmt.span_from(3)),
        );
        return;
    }
    let p = &b.config.proxies[index];
    let fe_only = matches!(name, "client" | "client-fin");
    let be_only = matches!(
        name,
        "server" | "connect" | "check" | "queue" | "tunnel" | "server-fin"
    );
    if (fe_only && !p.kind.has_frontend()) || (be_only && !p.kind.has_backend()) {
        let msg = format!(
            "'timeout {name}' will be ignored because {} '{}' has no {} capability",
            p.kind.type_str(),
            p.name_str(),
            if be_only { "backend" } else { "frontend" }
        );
        b.push(
            Diagnostic::new("W212", msg)
                .at(stmt.whole())
                .severity(Severity::Warning),
        );
        return;
    }
    let timeouts = &mut b.config.proxies[index].timeouts;
    timeouts.push((name.into(), Spanned::new(ms, stmt.span(2))));
}

/// HAProxy accepts `5sec` with a warning: only the first unit letter counts.
pub(super) fn warn_time_junk(b: &mut Builder, stmt: &Stmt, i: usize, junk: usize) {
    b.push(
        tight(Diagnostic::new(
            "W213",
            time_junk_message(stmt.word(i), junk),
        ))
        .at(stmt.span(i))
        .severity(Severity::Warning)
        .form(HaproxyForm::Bare),
    );
}

/// HAProxy's time parser's warning about the characters from `junk` on in `value`.
pub(super) fn time_junk_message(value: &str, junk: usize) -> String {
    let c = value
        .get(junk..)
        .and_then(|r| r.chars().next())
        .unwrap_or(' ');
    format!("unexpected character '{c}' after the timer value '{value}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.")
}

/// A time value at word `at`, read as HAProxy's time parser reads it for `target` (how its
/// messages name the setting: `stats refresh interval`, `<timeout mail>`), in `unit`: what
/// it cannot read is refused (E210), trailing characters after a unit are warned about.
pub(super) fn timer(
    b: &mut Builder,
    stmt: &Stmt,
    at: usize,
    unit: TimeUnit,
    target: &str,
) -> Option<u32> {
    match time_refusal(stmt.word(at), unit, target, None) {
        Ok(d) => {
            if let Some(junk) = d.trailing_junk {
                warn_time_junk(b, stmt, at, junk);
            }
            Some(d.value)
        }
        Err(message) => {
            b.push(
                Diagnostic::new("E210", message)
                    .at(stmt.span(at))
                    .label("not a time HAProxy reads")
                    .form(HaproxyForm::ParsingTight),
            );
            None
        }
    }
}

/// `value` read as HAProxy's time parser reads it in `unit`, or its refusal for `target` (how
/// the messages name the setting); `max` is the largest value the overflow message names, when
/// the setting names its own instead of the unit's.
pub(super) fn time_refusal(
    value: &str,
    unit: TimeUnit,
    target: &str,
    max: Option<&str>,
) -> Result<super::values::Duration, String> {
    let (unit_max, least) = match unit {
        TimeUnit::S => ("2147483647 s (~68 years)", "1 s"),
        TimeUnit::Ms => ("2147483647 ms (~24.8 days)", "1 ms"),
        TimeUnit::Us => ("2147483647 us (~35.8 min)", "1 us"),
    };
    let max = max.unwrap_or(unit_max);
    parse_time(value, unit).map_err(|e| match e {
        TimeError::Overflow => {
            format!("timer overflow in argument <{value}> to {target}, maximum value is {max}.")
        }
        TimeError::Underflow => format!(
            "timer underflow in argument <{value}> to {target}, minimum non-null value is {least}."
        ),
        TimeError::Char(i) => {
            let c = value.get(i..).and_then(|r| r.chars().next());
            let c = c.map(String::from).unwrap_or_default();
            format!("unexpected character '{c}' in argument to {target}.")
        }
    })
}
