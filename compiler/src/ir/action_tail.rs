//! The words a rule's action takes before its condition. HAProxy's action parsers each read
//! their own arguments and stop; the rule parser then wants `if`, `unless` or the end of the
//! line, and refuses anything else: `http-request deny junk` or `tcp-request content accept
//! junk` are errors, not ignored words.

use super::model::*;

/// Where in `args` (the words between the action and its condition) the first word the
/// action does not take sits, if any: the word HAProxy refuses. `None` also when hapee cannot
/// tell (Lua actions take what their script registered; `redirect` and the request-line
/// actions refuse extra words with messages of their own).
pub(super) fn leftover(name: &str, args: &[Spanned<Text>]) -> Option<usize> {
    let word = |i: usize| args.get(i).map_or("", |w| w.value.as_str());
    let taken = match base_name(name) {
        "silent-drop" => {
            if word(0) == "rst-ttl" {
                2
            } else {
                0
            }
        }
        "allow" | "accept" | "reject" | "wait-for-handshake" | "disable-l7-retry" | "close"
        | "unset-var" | "sc-inc-gpc" | "sc-inc-gpc0" | "sc-inc-gpc1" => 0,
        "set-var"
        | "set-var-fmt"
        | "sc-set-gpt"
        | "sc-set-gpt0"
        | "set-log-level"
        | "set-nice"
        | "set-tos"
        | "set-mark"
        | "set-priority-class"
        | "set-priority-offset"
        | "set-src"
        | "set-dst"
        | "set-src-port"
        | "set-dst-port"
        | "cache-use"
        | "cache-store"
        | "use-service"
        | "do-resolve"
        | "strict-mode"
        | "del-map"
        | "add-acl"
        | "del-acl"
        | "expect-proxy"
        | "expect-netscaler-cip" => 1,
        "set-header" | "add-header" | "early-hint" | "set-map" | "set-timeout"
        | "send-spoe-group" => 2,
        "replace-header" | "replace-value" | "capture" => 3,
        "set-status" => {
            if word(1) == "reason" && !word(2).is_empty() {
                3
            } else {
                1
            }
        }
        "auth" => {
            if word(0) == "realm" {
                2
            } else {
                0
            }
        }
        "del-header" => {
            if word(1) == "-m" {
                3
            } else {
                1
            }
        }
        "track-sc" | "track-sc0" | "track-sc1" | "track-sc2" => {
            if word(1) == "table" {
                3
            } else {
                1
            }
        }
        "switch-mode" => {
            if word(1) == "proto" {
                3
            } else {
                1
            }
        }
        "deny" | "tarpit" if word(0) == "deny_status" && word(2).is_empty() => 2,
        "deny" | "tarpit" | "return" => reply_words(args),
        "wait-for-body" => keyword_pairs(args, &["time", "at-least"]),
        "set-bandwidth-limit" => {
            1 + keyword_pairs(&args[args.len().min(1)..], &["limit", "period"])
        }
        _ => return None,
    };
    // The action's own check says what is missing; only a word too many is looked at here.
    (args.len() > taken).then_some(taken)
}

/// The action's name without its parenthesized argument (`set-var(txn.x)`, `sc-inc-gpc(0,1)`,
/// `set-map(file)`).
fn base_name(name: &str) -> &str {
    name.split_once('(').map_or(name, |(base, _)| base)
}

/// The words of an HTTP reply's options (`deny`, `tarpit`, `return`): each option with its
/// value(s), up to the first word that is none of them (`deny_status` read as `status`).
fn reply_words(args: &[Spanned<Text>]) -> usize {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let values = match w.value.as_str() {
            "status" | "deny_status" | "content-type" | "errorfiles" | "errorfile" | "file"
            | "string" | "lf-file" | "lf-string" => 1,
            "default-errorfiles" => 0,
            "hdr" => 2,
            _ => break,
        };
        i += 1 + values;
    }
    i.min(args.len())
}

/// The words of `keyword value` pairs from `keywords`, up to the first other word.
fn keyword_pairs(args: &[Spanned<Text>], keywords: &[&str]) -> usize {
    let mut i = 0;
    while args
        .get(i)
        .is_some_and(|w| keywords.contains(&w.value.as_str()))
    {
        i += 2;
    }
    i.min(args.len())
}

/// HAProxy's message for the word `found` left after `action`'s arguments, per rule set.
pub(super) fn message(set: RuleSet, action: &str, found: &str, kind: &str, proxy: &str) -> String {
    match set {
        RuleSet::HttpRequest | RuleSet::HttpResponse | RuleSet::HttpAfterResponse => format!(
            "'{} {action}' expects either 'if' or 'unless' followed by a condition but found '{found}'.",
            set.keyword()
        ),
        _ => format!(
            "'{} {action}' only accepts 'if' or 'unless', in {kind} '{proxy}' (got '{found}')",
            set.keyword()
        ),
    }
}
