//! `http-request early-hint <name> <fmt>`: a `103 Early Hints` response sent to the client
//! ahead of the final one, over HTTP/1.1 and HTTP/2 (never to an HTTP/1.0 client). The
//! headers of consecutive unconditional `early-hint` rules go in one 103; a rule of another
//! kind, a conditional one or the end of the rules sends it, as HAProxy groups them.

use crate::rules::{Action, CompiledRule};
use crate::txn::Txn;
use hapee_compiler::registry::RuleSet;
use hyper::header::HeaderName;

/// Adds the header of the rule at `index` to the transaction's pending 103, and sends that
/// when the next rule of `set` does not carry on with it.
pub fn run(
    rules: &[CompiledRule],
    set: RuleSet,
    index: usize,
    name: &HeaderName,
    value: String,
    txn: &mut Txn,
) {
    let Some(rare) = txn.rare.as_deref_mut() else {
        return;
    };
    let Some(interim) = rare.interim.as_ref() else {
        return;
    };
    if let Ok(value) = super::header_values::from_text(&value) {
        rare.early_hints.append(name.clone(), value);
    }
    let carries_on = rules[index + 1..]
        .iter()
        .find(|r| r.set == set)
        .is_some_and(|r| matches!(r.action, Action::EarlyHint(..)) && r.condition.is_always());
    if !carries_on {
        let headers = std::mem::take(&mut rare.early_hints);
        interim.send(hyper::StatusCode::EARLY_HINTS, headers);
    }
}

/// Whether any rule of `rules` is an `early-hint` (its connections then get a way to send
/// interim responses).
pub fn used(rules: &[CompiledRule]) -> bool {
    rules
        .iter()
        .any(|r| matches!(r.action, Action::EarlyHint(..)))
}
