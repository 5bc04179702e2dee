//! Warnings about rules written in an order HAProxy does not follow: rules of each kind run in
//! a fixed sequence whatever their place in the section (W252), and an unconditional final
//! `http-request`/`http-response`/`http-after-response` action makes the following ones of
//! its set dead (W253), as does any unconditional `stats http-request` rule for the ones after
//! it. Messages are HAProxy 2.7's (src/cfgparse-listen.c).

use super::build::{Builder, Stmt};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// Rule kinds in the order a request meets them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    TcpConnection,
    TcpSession,
    TcpContent,
    MonitorFail,
    HttpRequest,
    Redirect,
    UseBackend,
    UseServer,
}

const KINDS: [Kind; 8] = [
    Kind::TcpConnection,
    Kind::TcpSession,
    Kind::TcpContent,
    Kind::MonitorFail,
    Kind::HttpRequest,
    Kind::Redirect,
    Kind::UseBackend,
    Kind::UseServer,
];

impl Kind {
    /// How HAProxy's message names a rule of this kind already written.
    fn written(self) -> &'static str {
        match self {
            Kind::TcpConnection => "a 'tcp-request connection'",
            Kind::TcpSession => "a 'tcp-request session'",
            Kind::TcpContent => "a 'tcp-request content'",
            Kind::MonitorFail => "a 'monitor fail'",
            Kind::HttpRequest => "an 'http-request'",
            Kind::Redirect => "a 'redirect'",
            Kind::UseBackend => "a 'use_backend'",
            Kind::UseServer => "a 'use-server'",
        }
    }
}

/// What one proxy section has written so far.
#[derive(Clone, Debug, Default)]
pub struct RuleOrder {
    /// Kinds seen, one bit each in `Kind` order.
    seen: u8,
    /// Per rule set (`http-request`, `http-response`, `http-after-response`, `stats
    /// http-request`): the last rule was final (any `stats` rule is) and unconditional.
    final_last: [bool; 4],
}

/// The statement's rule kind, and the name HAProxy's message gives it.
fn kind_of(first: &str, second: &str) -> Option<(Kind, &'static str)> {
    Some(match (first, second) {
        ("tcp-request", "connection") => (Kind::TcpConnection, "tcp-request"),
        ("tcp-request", "session") => (Kind::TcpSession, "tcp-request"),
        ("tcp-request", "content") => (Kind::TcpContent, "tcp-request"),
        ("monitor", "fail") => (Kind::MonitorFail, "monitor fail"),
        ("http-request", _) => (Kind::HttpRequest, "http-request"),
        ("redirect", _) => (Kind::Redirect, "redirect"),
        ("use_backend", _) => (Kind::UseBackend, "use_backend"),
        ("use-server", _) => (Kind::UseServer, "use-server"),
        _ => return None,
    })
}

/// Whether an HTTP rule's action ends its rule set: allow, deny, tarpit, auth, return, and
/// redirect unless it may do nothing (`ignore-empty`).
fn is_final(stmt: &Stmt, at: usize) -> bool {
    match stmt.word(at + 1) {
        "allow" | "deny" | "tarpit" | "auth" | "return" => true,
        "redirect" => !(at + 2..stmt.len()).any(|i| stmt.word(i) == "ignore-empty"),
        _ => false,
    }
}

fn has_condition(stmt: &Stmt, at: usize) -> bool {
    (at + 1..stmt.len()).any(|i| matches!(stmt.word(i), "if" | "unless"))
}

/// Checks one statement of proxy section `index` against those before it.
pub(super) fn check(b: &mut Builder, index: usize, stmt: &Stmt, at: usize) {
    let (first, second) = (stmt.word(at), stmt.word(at + 1));
    let set = match (first, second) {
        ("http-request", _) => Some(0),
        ("http-response", _) => Some(1),
        ("http-after-response", _) => Some(2),
        ("stats", "http-request") => Some(3),
        _ => None,
    };
    if let Some(set) = set {
        if b.config.proxies[index].rule_order.final_last[set] {
            let msg = if set == 3 {
                "previous 'stats' action has no condition attached, further entries are NOOP."
                    .to_string()
            } else {
                format!(
                    "previous '{}' action is final and has no condition attached, further entries are NOOP.",
                    first
                )
            };
            b.push(
                Diagnostic::new("W253", msg)
                    .at(stmt.whole())
                    .severity(Severity::Warning)
                    .form(HaproxyForm::ParsingTight),
            );
        }
        b.config.proxies[index].rule_order.final_last[set] =
            (set == 3 || is_final(stmt, at)) && !has_condition(stmt, at);
    }
    let Some((kind, name)) = kind_of(first, second) else {
        return;
    };
    let seen = b.config.proxies[index].rule_order.seen;
    if let Some(later) = KINDS
        .iter()
        .filter(|&&k| k > kind)
        .find(|&&k| seen & (1 << k as u8) != 0)
    {
        let msg = format!(
            "a '{name}' rule placed after {} rule will still be processed before.",
            later.written()
        );
        b.push(
            Diagnostic::new("W252", msg)
                .at(stmt.whole())
                .severity(Severity::Warning),
        );
    }
    b.config.proxies[index].rule_order.seen |= 1 << kind as u8;
}
