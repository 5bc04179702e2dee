//! The words of `tcp-check` and `http-check` rules (`connect`, `send`…, `expect`, `comment`,
//! and `http-check disable-on-404|send-state`), read as HAProxy 2.7 reads them while parsing:
//! each option with its value, a first `connect` after nothing but comments and variable
//! actions, the expect rule's single pattern, its status names, its `!` negation, then its
//! log-format strings, status codes, hex strings and regular expressions. HAProxy stops
//! reading a line at its first empty word, and refuses the line at its first problem.

use super::build::{Builder, Stmt};
use super::model::*;
use crate::address::Rules;
use crate::diagnostic::Diagnostic;

/// Why a line is refused: a message to give (after `'<keyword> <action>' : `) about the word
/// at an index, or a diagnostic already given (an expression's or a log-format string's).
pub(super) enum Refusal {
    Say(String, usize),
    Given,
}

pub(super) fn say<T>(message: String, at: usize) -> Result<T, Refusal> {
    Err(Refusal::Say(message, at))
}

/// Checks the words of a check rule whose action is at `at`; false once the line is refused.
pub(super) fn words(b: &mut Builder, index: usize, set: RuleSet, stmt: &Stmt, at: usize) -> bool {
    let action = stmt.word(at);
    let http = set == RuleSet::HttpCheck;
    let result = match action {
        "disable-on-404" | "send-state" if http => {
            if stmt.word(at + 1).is_empty() {
                return true;
            }
            let message = format!(
                "'http-check' cannot handle unexpected argument '{}'.",
                stmt.word(at + 1)
            );
            push(b, message, stmt.span(at + 1));
            return false;
        }
        "connect" => connect(b, index, set, stmt, at),
        "send" | "send-binary" | "send-lf" | "send-binary-lf" if !http => send(b, index, stmt, at),
        "expect" => super::check_expect::expect(b, index, set, stmt, at),
        "comment" if stmt.word(at + 1).is_empty() => {
            say("expects a string as argument".to_string(), at)
        }
        _ => Ok(()),
    };
    let result = result.and_then(|()| match http {
        true => http_step(b, index, action, at),
        false => Ok(()),
    });
    match result {
        Ok(()) => true,
        Err(Refusal::Given) => false,
        Err(Refusal::Say(message, place)) => {
            let message = format!("'{} {action}' : {message}.", stmt.word(0));
            push(b, message, stmt.span(place));
            false
        }
    }
}

fn push(b: &mut Builder, message: String, span: crate::source::Span) {
    b.push(
        Diagnostic::new("E256", message)
            .at(span)
            .label("not a check rule argument HAProxy takes"),
    );
}

/// Where an `http-check connect`, `send` or `expect` may come once the proxy's check is
/// `option httpchk` (its own or its defaults section's): a send after a connect, an expect
/// after a send or an expect, a connect after an expect, the first one anywhere (comments and
/// variable actions do not count). HAProxy numbers the steps from the proxy's first rule.
fn http_step(b: &Builder, index: usize, action: &str, at: usize) -> Result<(), Refusal> {
    let p = &b.config.proxies[index];
    let check = p
        .options
        .iter()
        .rev()
        .find(|(name, on)| on.value && super::extcheck::CHECK_OPTIONS.contains(&name.as_str()));
    if check.is_none_or(|(name, _)| name != "httpchk") {
        return Ok(());
    }
    let own: Vec<&str> = p
        .rules
        .iter()
        .filter(|r| r.set == RuleSet::HttpCheck)
        .map(|r| r.action.value.as_str())
        .filter(|a| !matches!(*a, "disable-on-404" | "send-state"))
        .collect();
    let step = own.len() + 1;
    let last = own
        .iter()
        .rev()
        .find(|a| !(**a == "comment" || a.starts_with("set-var") || a.starts_with("unset-var")));
    let Some(&last) = last else {
        return Ok(());
    };
    let missing = match action {
        "send" if last != "connect" => "connect",
        "expect" if !matches!(last, "send" | "expect") => "send",
        "connect" if last != "expect" => "expect",
        _ => return Ok(()),
    };
    let message =
        format!("unable to add http-check {action} rule at step {step} (missing {missing} rule).");
    say(message, at)
}

/// The index of the first empty word from `from` on (HAProxy reads a rule's options up to it).
pub(super) fn until_empty(stmt: &Stmt, from: usize) -> usize {
    (from..stmt.len())
        .find(|&i| stmt.word(i).is_empty())
        .unwrap_or(stmt.len())
        .max(from)
}

/// C's `read_uint`: the digits `text` starts with as a wrapping 32-bit number, and how many.
pub(super) fn read_uint(text: &str) -> (u32, usize) {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let value = text.bytes().take(digits).fold(0u32, |v, c| {
        v.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
    });
    (value, digits)
}

fn connect(
    b: &mut Builder,
    index: usize,
    set: RuleSet,
    stmt: &Stmt,
    at: usize,
) -> Result<(), Refusal> {
    // Before a connect step, only comments and variable actions (and the request `option
    // httpchk` writes, which is not a rule line).
    let first_ok = b.config.proxies[index]
        .rules
        .iter()
        .filter(|r| r.set == set)
        .filter(|r| !matches!(r.action.value.as_str(), "disable-on-404" | "send-state"))
        .take_while(|r| r.action.value != "connect")
        .all(|r| {
            let a = r.action.value.as_str();
            a == "comment" || a.starts_with("set-var") || a.starts_with("unset-var")
        });
    if !first_ok {
        let message = "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset".to_string();
        return say(message, at);
    }
    let end = until_empty(stmt, at + 1);
    let mut i = at + 1;
    while i < end {
        let word = stmt.word(i);
        let value = stmt.word(i + 1);
        match word {
            "default" | "send-proxy" | "via-socks4" | "linger" | "ssl" => {}
            "addr" => {
                if value.is_empty() {
                    return say(format!("'{word}' expects <ipv4|ipv6> as argument."), i);
                }
                if let Err(e) = crate::address::parse_written(value, b.env, Rules::USESRC) {
                    let end = if crate::address::message_ends_line(&e) {
                        ""
                    } else {
                        ".."
                    };
                    let message = format!("'{} connect' : '{word}' : {e}{end}", set.keyword());
                    b.push(
                        Diagnostic::new("E227", message)
                            .at(stmt.span(i + 1))
                            .label("not a check address"),
                    );
                    return Err(Refusal::Given);
                }
                i += 1;
            }
            "port" => {
                if value.is_empty() {
                    let message = format!(
                        "'{word}' expects a port number or a sample expression as argument."
                    );
                    return say(message, i);
                }
                i += 1;
                let (port, digits) = read_uint(value);
                if digits < value.len() {
                    let what = format!(
                        "'{} connect' : error detected while parsing port expression : ",
                        set.keyword()
                    );
                    expression(b, index, stmt, i, &what)?;
                } else if !(1..=65535).contains(&port) {
                    let message = format!("expects a valid TCP port (from range 1 to 65535) or a sample expression, got {value}.");
                    return say(message, i);
                }
            }
            "proto" => {
                if value.is_empty() {
                    return say(format!("'{word}' expects a MUX protocol as argument."), i);
                }
                let wanted = if set == RuleSet::HttpCheck {
                    Mode::Http
                } else {
                    Mode::Tcp
                };
                match super::mux::mode_of(value) {
                    None => {
                        return say(format!("'{word}' : unknown MUX protocol '{value}'."), i + 1)
                    }
                    Some(mode) if mode != wanted => {
                        let message = format!(
                            "'{word}' : invalid MUX protocol '{value}' for {}",
                            set.keyword()
                        );
                        return say(message, i + 1);
                    }
                    Some(_) => {}
                }
                i += 1;
            }
            "comment" | "sni" => {
                if value.is_empty() {
                    return say(format!("'{word}' expects a string as argument."), i);
                }
                i += 1;
            }
            "alpn" => {
                if value.is_empty() {
                    let message =
                        format!("'{word}' : missing the comma-delimited ALPN protocol suite");
                    return say(message, i);
                }
                if let Some(name) = value.split(',').find(|n| n.len() > 255) {
                    return say(
                        format!("'{word}' : ALPN protocol name too long : '{name}'"),
                        i + 1,
                    );
                }
                i += 1;
            }
            _ => {
                let message = format!("expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '{word}' as argument.");
                return say(message, i);
            }
        }
        i += 1;
    }
    Ok(())
}

/// A sample expression a check rule evaluates (`connect port`, `expect status-code`): it must
/// parse, and its fetch must work in a health check. Errors come after `what`; HAProxy words a
/// fetch that does not work there with one more space.
pub(super) fn expression(
    b: &mut Builder,
    index: usize,
    stmt: &Stmt,
    i: usize,
    what: &str,
) -> Result<(), Refusal> {
    let word = stmt.spanned(i);
    let context = RefContext::HttpRequest;
    if crate::expr::sample::parse(&word.value, false).is_err() {
        super::exprs::sample_arg_at(b, index, &word, context, (what, "."), None);
        return Err(Refusal::Given);
    }
    let places = super::rules::rule_places(RuleSet::TcpCheck, false, true);
    let wrap = (&*format!("{what} "), ".");
    let at = Some((places, word.value.as_str()));
    if super::exprs::sample_arg_at(b, index, &word, context, wrap, at) {
        Ok(())
    } else {
        Err(Refusal::Given)
    }
}

fn send(b: &mut Builder, index: usize, stmt: &Stmt, at: usize) -> Result<(), Refusal> {
    let action = stmt.word(at);
    let data = stmt.word(at + 1);
    if data.is_empty() {
        let what = if action == "send-binary" {
            "binary string"
        } else {
            "string"
        };
        return say(format!("'{what}' expects a {action} as argument"), at);
    }
    let end = until_empty(stmt, at + 2);
    let mut i = at + 2;
    while i < end {
        let word = stmt.word(i);
        if word != "comment" {
            return say(
                format!("expects 'comment' but got '{word}' as argument."),
                i,
            );
        }
        if stmt.word(i + 1).is_empty() {
            return say(format!("'{word}' expects a string as argument."), i);
        }
        i += 2;
    }
    match action {
        "send-binary" => match binary(data) {
            Err(e) => say(format!("'{data}' invalid binary string ({e})"), at + 1),
            Ok(()) => Ok(()),
        },
        "send-lf" | "send-binary-lf" => format_string(
            b,
            index,
            stmt,
            at + 1,
            &format!("'tcp-check {action}' : '{data}'"),
        ),
        _ => Ok(()),
    }
}

/// A log-format string evaluated in a health check, refused after `what`.
pub(super) fn format_string(
    b: &mut Builder,
    index: usize,
    stmt: &Stmt,
    i: usize,
    what: &str,
) -> Result<(), Refusal> {
    let before = b.diags.len();
    let word = stmt.spanned(i);
    let places = super::rules::rule_places(RuleSet::TcpCheck, false, true);
    let prefix = format!("{what} invalid log-format string (");
    super::exprs::log_format_wrapped(
        b,
        index,
        &word,
        RefContext::HttpRequest,
        (&prefix, ")."),
        places,
    );
    if b.diags[before..].iter().any(Diagnostic::is_error) {
        return Err(Refusal::Given);
    }
    Ok(())
}

/// HAProxy's `parse_binary`: pairs of hex digits.
pub(super) fn binary(text: &str) -> Result<(), String> {
    if text.len() % 2 == 1 {
        return Err("an even number of hex digit is expected".into());
    }
    match text.chars().find(|c| !c.is_ascii_hexdigit()) {
        Some(c) => Err(format!("an hex digit is expected (found '{c}')")),
        None => Ok(()),
    }
}
