//! A frontend's capture slots, in declaration order: `capture request|response header`,
//! `declare capture request|response len`, and the slots that `http-request capture` and
//! `tcp-request content capture` rules with `len` make for themselves. `%hr`/`%hs` print them
//! in this order, and `capture.req.hdr(n)`/`capture.res.hdr(n)` and the `id` of capture rules
//! count in it.

use crate::ir::values::atol;
use crate::ir::DirectiveLine;
use crate::plan::Rule;
use serde::Serialize;

/// One capture slot: a header's (named) or one that rules fill (no name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capture {
    /// The header captured, lower case; empty for a slot that rules fill.
    pub name: String,
    /// The most characters kept.
    pub len: usize,
    /// Made by `declare capture`: unlike a header capture or a capture rule's own slot, it
    /// does not hold back a log line written at the request (HAProxy's `LW_REQHDR`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub declared: bool,
}

/// Whether a rule line's words (after `http-request`/`tcp-request`) are a capture rule that
/// makes its own slot (`capture <sample> len <n>`); answers the length.
fn rule_slot(keyword: &str, args: &[&str]) -> Option<usize> {
    let words = match keyword {
        "http-request" => args,
        "tcp-request" if args.first() == Some(&"content") => &args[1..],
        _ => return None,
    };
    if words.first() != Some(&"capture") {
        return None;
    }
    let at = words.iter().position(|w| *w == "len")?;
    Some(atol(words.get(at + 1)?).max(0) as usize)
}

/// The request slots, the response slots, and the request slot of each capture rule that
/// makes its own, in rule order.
pub fn slots(lines: &[DirectiveLine]) -> (Vec<Capture>, Vec<Capture>, Vec<usize>) {
    let mut req = Vec::new();
    let mut res = Vec::new();
    let mut rule_slots = Vec::new();
    for d in lines.iter().filter(|d| d.prefix.is_none()) {
        let a: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        let (dir, capture) = match (d.keyword.as_str(), &a[..]) {
            ("capture", [dir, "header", name, "len", len, ..]) => (
                *dir,
                Capture {
                    name: name.to_ascii_lowercase(),
                    len: atol(len).max(0) as usize,
                    declared: false,
                },
            ),
            ("declare", ["capture", dir, "len", len, ..]) => (
                *dir,
                Capture {
                    name: String::new(),
                    len: atol(len).max(0) as usize,
                    declared: true,
                },
            ),
            (keyword, args) => match rule_slot(keyword, args) {
                Some(len) => {
                    rule_slots.push(req.len());
                    (
                        "request",
                        Capture {
                            name: String::new(),
                            len,
                            declared: false,
                        },
                    )
                }
                None => continue,
            },
        };
        match dir {
            "request" => req.push(capture),
            "response" => res.push(capture),
            _ => {}
        }
    }
    (req, res, rule_slots)
}

/// The longest cookie capture HAProxy keeps: `tune.http.cookielen <n>` (the global lines
/// given) makes it `n`; without it (or with a value HAProxy reads as none), 63 bytes. A longer
/// `len` is cut to it.
pub fn cookie_capture_max(global: &[DirectiveLine]) -> usize {
    // HAProxy sizes its cookie pool at `n + 1` bytes, 64 when that is 0, and keeps one for
    // the NUL.
    let pool = super::lower::last_arg(global, "tune.http.cookielen").map_or(0, |v| atol(&v) + 1);
    let pool = if pool == 0 { 64 } else { pool };
    usize::try_from(pool - 1).unwrap_or(0)
}

/// `capture cookie <name> len <n>`: the last one counts, its length at most `max`
/// ([`cookie_capture_max`]).
pub fn cookie(lines: &[DirectiveLine], max: usize) -> Option<Capture> {
    lines
        .iter()
        .rev()
        .filter(|d| d.prefix.is_none() && d.keyword == "capture")
        .filter_map(|d| {
            let a: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
            match a[..] {
                ["cookie", name, "len", len, ..] => Some(Capture {
                    name: name.to_string(),
                    len: (atol(len).max(0) as usize).min(max),
                    declared: false,
                }),
                _ => None,
            }
        })
        .next()
}

/// Gives each capture rule that makes its own slot (`len <n>`) the slot `slots` found for it,
/// as `id <slot>`: the runtime knows capture rules by slot only.
pub fn number_rules(mut rules: Vec<Rule>, rule_slots: &[usize]) -> Vec<Rule> {
    let mut next = rule_slots.iter();
    for rule in rules.iter_mut().filter(|r| r.action == "capture") {
        let Some(at) = rule.args.iter().position(|a| a == "len") else {
            continue;
        };
        let Some(slot) = next.next() else { break };
        rule.args.truncate(at);
        rule.args.push("id".to_string());
        rule.args.push(slot.to_string());
    }
    rules
}
