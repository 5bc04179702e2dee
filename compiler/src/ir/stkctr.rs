//! How many sticky counters a session has, and the rules that name one: `track-sc<n>`,
//! `sc-inc-gpc(<idx>,<n>)`, `sc-inc-gpc0|1(<n>)`, `sc-add-gpc(<idx>,<n>)`,
//! `sc-set-gpt(<idx>,<n>)` and `sc-set-gpt0(<n>)`.
//!
//! HAProxy 2.7 has a fixed number of counters (its `MAX_SESS_STKCTR` build constant, 3);
//! HAProxy 2.8 made it a setting, `tune.stick-counters`, which hapee accepts. A rule naming a
//! counter at or above the number is rejected with HAProxy's words: those of 2.7 when the
//! number is the built-in one, those of 2.8 (which name the setting) once a configuration
//! sets it. The `sc_*(<n>)` fetches are not checked: HAProxy lets them find nothing.

use super::build::{Builder, Stmt};
use crate::diagnostic::Diagnostic;
use crate::registry::RuleSet;
use crate::source::Span;

/// The number of counters when nothing sets it.
pub const DEFAULT: u32 = 3;

/// `tune.stick-counters <n>`: read as C's `strtol`, so an empty word is 0 and a word with
/// anything after the digits is refused.
pub(super) fn global_statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    let (keyword, word) = (stmt.word(at), stmt.word(at + 1));
    let err = match strtol(word) {
        None => format!("{keyword}: '{word}' is an invalid number"),
        Some(n) if n < 0 => {
            format!("{keyword}: the number of stick-counters may not be negative (was {n})")
        }
        Some(n) => {
            b.config.global.stick_counters = Some(n.min(i64::from(u32::MAX)) as u32);
            return;
        }
    };
    b.push(
        Diagnostic::new("E235", err)
            .at(stmt.span(at + 1))
            .label("not a number of counters"),
    );
}

/// C's `strtol(text, &end, 10)` where `*end` must be the end of the text. Converting nothing
/// leaves the end at the start, which only an empty text survives, as 0.
fn strtol(text: &str) -> Option<i64> {
    let number = crate::cnum::strtol(text, 10);
    (number.end == text.len()).then_some(number.value)
}

/// Checks the counter number named by rule action `action` against the number of counters.
pub(super) fn rule_action(b: &mut Builder, index: usize, set: RuleSet, action: &str, span: Span) {
    if matches!(set, RuleSet::HttpCheck | RuleSet::TcpCheck) {
        return;
    }
    let (limit, set_by_tune) = match b.config.global.stick_counters {
        Some(n) => (n, true),
        None => (DEFAULT, false),
    };
    let Some(err) = action_error(action, limit, set_by_tune) else {
        return;
    };
    let http = matches!(
        set,
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse
    );
    let message = if http {
        let proxy = &b.config.proxies[index];
        format!(
            "error detected in {} '{}' while parsing '{} {action}' rule : {err}.",
            proxy.kind.type_str(),
            proxy.name_str(),
            set.keyword()
        )
    } else if action.starts_with("track-sc") {
        format!("'{} {action}' : {err}", set.keyword())
    } else {
        err
    };
    b.push(
        Diagnostic::new("E235", message)
            .at(span)
            .label("no such sticky counter"),
    );
}

/// HAProxy's complaint about the counter named by `action`, if any.
fn action_error(action: &str, limit: u32, set_by_tune: bool) -> Option<String> {
    let max = i64::from(limit) - 1;
    if let Some(num) = action.strip_prefix("track-sc") {
        // `track-sc` alone is the separate-number form, read from the arguments.
        if num.is_empty() {
            return None;
        }
        let digits = num.bytes().take_while(u8::is_ascii_digit).count();
        if digits < num.len() {
            return Some(format!("Wrong track-sc number '{num}'"));
        }
        let n: u64 = num.parse().unwrap_or(u64::MAX);
        return (n >= u64::from(limit)).then(|| match (set_by_tune, limit) {
            (true, 0) => format!(
                "{n} track-sc number not usable, stick-counters are disabled by tune.stick-counters"
            ),
            (true, _) => {
                format!("{n} track-sc number exceeding {max} (tune.stick-counters-1) value")
            }
            (false, _) => format!("{n} track-sc number exceeding {max} (MAX_SESS_STKCTR-1) value"),
        });
    }
    let name = action.split('(').next().unwrap_or(action);
    let family = match name {
        "sc-inc-gpc" | "sc-add-gpc" | "sc-set-gpt" => Family::Indexed,
        "sc-inc-gpc0" | "sc-inc-gpc1" => Family::Unnamed,
        "sc-set-gpt0" => Family::Named,
        _ => return None,
    };
    if set_by_tune && limit == 0 {
        return Some(format!(
            "Cannot use '{action}', stick-counters are disabled via tune.stick-counters"
        ));
    }
    let inner = action[name.len()..]
        .strip_prefix('(')
        .and_then(|a| a.strip_suffix(')'));
    let sc = match family {
        Family::Indexed => inner.and_then(|a| a.split_once(',')).map(|(_, sc)| sc),
        Family::Unnamed | Family::Named => inner,
    }?;
    // A malformed number is left to the action's own parsing; a negative one passes in HAProxy.
    let n: i64 = sc.trim_start().parse().ok()?;
    if n < i64::from(limit) {
        return None;
    }
    let tail = if set_by_tune {
        " (tune.stick-counters)"
    } else {
        ""
    };
    Some(match family {
        Family::Unnamed => {
            format!("invalid stick table track ID. The max allowed ID is {max}{tail}")
        }
        Family::Indexed | Family::Named => {
            format!("invalid stick table track ID '{action}'. The max allowed ID is {max}{tail}")
        }
    })
}

/// How an action writes its counter, which decides HAProxy's wording.
enum Family {
    /// `sc-inc-gpc(<idx>,<n>)` and the like: the message names the action.
    Indexed,
    /// `sc-inc-gpc0(<n>)`, `sc-inc-gpc1(<n>)`: the message names nothing.
    Unnamed,
    /// `sc-set-gpt0(<n>)`: the message names the action.
    Named,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_limit_and_who_set_it() {
        assert_eq!(
            action_error("track-sc3", 3, false).as_deref(),
            Some("3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value")
        );
        assert_eq!(action_error("track-sc2", 3, false), None);
        assert_eq!(action_error("track-sc7", 8, true), None);
        assert_eq!(
            action_error("track-sc8", 8, true).as_deref(),
            Some("8 track-sc number exceeding 7 (tune.stick-counters-1) value")
        );
        assert_eq!(
            action_error("track-sc0", 0, true).as_deref(),
            Some(
                "0 track-sc number not usable, stick-counters are disabled by tune.stick-counters"
            )
        );
        assert_eq!(
            action_error("track-sc0x", 3, false).as_deref(),
            Some("Wrong track-sc number '0x'")
        );
        assert_eq!(
            action_error("sc-inc-gpc(1,3)", 3, false).as_deref(),
            Some("invalid stick table track ID 'sc-inc-gpc(1,3)'. The max allowed ID is 2")
        );
        assert_eq!(
            action_error("sc-inc-gpc0(4)", 3, false).as_deref(),
            Some("invalid stick table track ID. The max allowed ID is 2")
        );
        assert_eq!(
            action_error("sc-set-gpt0(9)", 8, true).as_deref(),
            Some("invalid stick table track ID 'sc-set-gpt0(9)'. The max allowed ID is 7 (tune.stick-counters)")
        );
        assert_eq!(action_error("sc-inc-gpc0", 3, false), None);
        assert_eq!(action_error("sc-set-gpt(0,5)", 8, true), None);
        assert_eq!(
            action_error("sc-set-gpt(0,1)", 0, true).as_deref(),
            Some(
                "Cannot use 'sc-set-gpt(0,1)', stick-counters are disabled via tune.stick-counters"
            )
        );
    }

    #[test]
    fn counts_read_as_strtol() {
        assert_eq!(strtol(""), Some(0));
        assert_eq!(strtol("8"), Some(8));
        assert_eq!(strtol(" +8"), Some(8));
        assert_eq!(strtol("-1"), Some(-1));
        assert_eq!(strtol("8x"), None);
        assert_eq!(strtol("-"), None);
    }
}
