//! `expect` rules over the bytes a server sent: string, binary and regex patterns, log-format
//! patterns, and the protocol checks' own reply parsers (MySQL, LDAP, SPOP).

use super::engine::{named_status, render_info, Environment, Outcome, Session};
use crate::api::health::CheckStatus;
use hapee_compiler::plan::checks::{CheckKind, Custom, ExpectRule, Matcher};

pub enum Eval {
    /// More bytes are needed.
    Wait,
    /// The rule passed: next rule.
    Continue,
    /// The check ends here, failed or passed.
    Stop(Outcome),
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes as HAProxy dumps them for `rbinary`: upper-case hex digits.
fn hex_dump(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

fn regex_match(pattern: &str, data: &[u8]) -> bool {
    regex::bytes::Regex::new(pattern).is_ok_and(|r| r.is_match(data))
}

/// How an expect rule is named in messages of failed steps.
pub fn describe(e: &ExpectRule) -> String {
    match &e.matcher {
        Matcher::String(s) => format!("expect string '{s}'"),
        Matcher::Binary(b) => format!("expect binary '{}'", hex_dump(b)),
        Matcher::Rstring(_) => "expect regex".into(),
        Matcher::Rbinary(_) => "expect binary regex".into(),
        Matcher::StringLf(_) => "expect log-format string".into(),
        Matcher::BinaryLf(_) => "expect log-format binary".into(),
        Matcher::Status(_) => "expect HTTP status codes".into(),
        Matcher::Rstatus(_) => "expect HTTP status regex".into(),
        Matcher::Header(_) => "expect HTTP header pattern".into(),
        Matcher::Body(s) => format!("expect HTTP body content '{s}'"),
        Matcher::Rbody(_) => "expect HTTP body regex".into(),
        Matcher::BodyLf(_) => "expect log-format HTTP body".into(),
        Matcher::Custom(_) => "expect custom function".into(),
    }
}

/// Evaluates `rule` (at `index`) over what was received.
pub fn evaluate(s: &mut Session, index: usize, rule: &ExpectRule, env: &dyn Environment) -> Eval {
    let last_read = s.closed;
    if s.kind() == CheckKind::Http {
        return super::http::evaluate(s, index, rule, env);
    }
    if let Matcher::Custom(c) = rule.matcher {
        return custom(s, index, rule, c, env);
    }
    let data = &s.received;
    if !last_read {
        let literal = match &rule.matcher {
            Matcher::String(p) => p.len(),
            Matcher::Binary(b) => b.len(),
            _ => 0,
        };
        if data.len() < literal || rule.min_recv.is_some_and(|m| data.len() < m) {
            return Eval::Wait;
        }
    }
    let error_status =
        named_status(rule.error_status.as_deref()).unwrap_or(CheckStatus::L7Response);
    let matched = match &rule.matcher {
        Matcher::String(p) => find(data, p.as_bytes()),
        Matcher::Binary(b) => find(data, b),
        Matcher::Rstring(re) => regex_match(re, data),
        Matcher::Rbinary(re) => regex_match(re, hex_dump(data).as_bytes()),
        Matcher::StringLf(f) | Matcher::BinaryLf(f) => {
            let text = env.render(f, s);
            if text.is_empty() {
                return fail_reply(s, index, rule, EMPTY_LOG_FORMAT, env);
            }
            let pattern =
                if matches!(rule.matcher, Matcher::BinaryLf(_)) {
                    match hapee_compiler::plan::checks::hex(&text) {
                        Some(b) => b,
                        None => return fail_reply(
                            s,
                            index,
                            rule,
                            "Failed to parse hexastring resulting of eval of a log-format string",
                            env,
                        ),
                    }
                } else {
                    text.into_bytes()
                };
            if data.len() < pattern.len() && !last_read {
                return Eval::Wait;
            }
            find(data, &pattern)
        }
        // HTTP matchers outside an HTTP check never match.
        _ => false,
    };
    if !matched && !last_read && rule.min_recv.is_none() {
        return Eval::Wait;
    }
    if matched != rule.negate {
        return Eval::Continue;
    }
    fail(s, index, rule, error_status, matched, None, env)
}

/// A failed expect: its status, code and info text, as HAProxy builds them: the given
/// description, else the rule's `on-error`, else (plain tcp-checks only) what did not match;
/// then the rule's comment; the code from `status-code`.
#[allow(clippy::too_many_arguments)]
pub fn fail(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    status: CheckStatus,
    matched: bool,
    desc: Option<&str>,
    env: &dyn Environment,
) -> Eval {
    let mut info = String::new();
    let mut generic = false;
    if let Some(d) = desc.filter(|d| !d.is_empty()) {
        info.push_str(d);
    } else if let Some(on_error) = &rule.on_error {
        info = render_info(on_error, s, env);
    } else if s.kind() == CheckKind::TcpCheck {
        generic = true;
    }
    if generic {
        info.push_str(if matched {
            "TCPCHK matched unwanted content"
        } else {
            "TCPCHK did not match content"
        });
        let step = s.step_id(index);
        match &rule.matcher {
            Matcher::Status(_) => info.push_str(&format!("(status codes) at step {step}")),
            Matcher::String(p) | Matcher::Body(p) => {
                info.push_str(&format!(" '{p}' at step {step}"))
            }
            Matcher::Binary(_) => info.push_str(&format!(" (binary) at step {step}")),
            Matcher::Rstring(_) | Matcher::Rstatus(_) | Matcher::Rbody(_) => {
                info.push_str(&format!(" (regex) at step {step}"))
            }
            Matcher::Rbinary(_) => info.push_str(&format!(" (binary regex) at step {step}")),
            Matcher::StringLf(_) | Matcher::BodyLf(_) => {
                info.push_str(&format!(" (log-format string) at step {step}"))
            }
            Matcher::BinaryLf(_) => info.push_str(&format!(" (log-format binary) at step {step}")),
            Matcher::Custom(_) => info.push_str(&format!(" (custom function) at step {step}")),
            Matcher::Header(_) => info.push_str(&format!(" (header pattern) at step {step}")),
        }
    }
    if let Some(c) = &rule.comment {
        info.push_str(" comment: ");
        info.push_str(c);
    }
    if let Some(code) = &rule.status_code {
        if let Ok(c) = render_info(code, s, env).trim().parse() {
            s.code = c;
        }
    }
    Eval::Stop(Outcome {
        status,
        code: s.code,
        info,
    })
}

/// A reply that fails for `reason`, with L7RSP whatever the rule's `error-status` says.
pub fn fail_reply(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    reason: &str,
    env: &dyn Environment,
) -> Eval {
    fail(
        s,
        index,
        rule,
        CheckStatus::L7Response,
        false,
        Some(reason),
        env,
    )
}

/// Why a log-format pattern fails when it renders nothing.
pub const EMPTY_LOG_FORMAT: &str = "log-format string evaluated to an empty string";

/// The rule is the last one doing I/O: a protocol's parser then decides the check itself.
fn is_last(s: &Session, index: usize) -> bool {
    s.rules()[index + 1..]
        .iter()
        .all(hapee_compiler::plan::checks::is_bookkeeping)
}

fn passed(s: &Session, rule: &ExpectRule, info: impl Into<String>) -> Eval {
    Eval::Stop(Outcome {
        status: named_status(rule.ok_status.as_deref()).unwrap_or(CheckStatus::L7Ok),
        code: s.code,
        info: info.into(),
    })
}

fn custom(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    which: Custom,
    env: &dyn Environment,
) -> Eval {
    match which {
        Custom::MysqlHandshake => mysql_packet(s, index, rule, 0, env),
        Custom::MysqlOk => {
            let first = s.received.get(..3).map_or(0, |h| {
                usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16
            });
            mysql_packet(s, index, rule, 4 + first, env)
        }
        Custom::LdapBindResponse => ldap_bind_response(s, index, rule, env),
        Custom::SpopHello => spop_agent_hello(s, index, rule, env),
    }
}

/// One MySQL packet at `offset`: an error packet fails the check with the server's message;
/// the last packet passes it with the server version from the handshake.
fn mysql_packet(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    offset: usize,
    env: &dyn Environment,
) -> Eval {
    let data = &s.received;
    let short = |s: &mut Session| {
        if s.closed {
            fail(s, index, rule, CheckStatus::L7Response, false, None, env)
        } else {
            Eval::Wait
        }
    };
    if data.len() < offset + 4 {
        return short(s);
    }
    let len = usize::from(data[offset])
        | usize::from(data[offset + 1]) << 8
        | usize::from(data[offset + 2]) << 16;
    if data.len() < offset + len + 4 {
        return short(s);
    }
    if data.get(offset + 4) == Some(&0xff) {
        s.code = u32::from(data[offset + 5]) | u32::from(data[offset + 6]) << 8;
        let desc = String::from_utf8_lossy(&data[(offset + 7).min(data.len())..]).into_owned();
        return fail(
            s,
            index,
            rule,
            CheckStatus::L7Status,
            false,
            Some(&desc),
            env,
        );
    }
    if !is_last(s, index) {
        return Eval::Continue;
    }
    // The handshake's server version: a NUL-terminated string at byte 5.
    let version = data
        .get(5..)
        .map(|v| v.split(|b| *b == 0).next().unwrap_or(v))
        .unwrap_or(&[]);
    let version = String::from_utf8_lossy(version).into_owned();
    passed(s, rule, version)
}

/// The LDAPv3 bindResponse: resultCode 0 passes.
fn ldap_bind_response(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    env: &dyn Environment,
) -> Eval {
    const NOT_LDAP: &str = "Not LDAPv3 protocol";
    let data = s.received.clone();
    let too_short = |s: &mut Session| {
        if s.closed {
            fail(s, index, rule, CheckStatus::L7Response, false, None, env)
        } else {
            Eval::Wait
        }
    };
    let Some(&size) = data.get(1) else {
        return too_short(s);
    };
    let mut at = 2;
    let msglen = if size & 0x80 != 0 {
        let n = usize::from(size & 0x7f);
        if data.len() < 1 + n {
            return too_short(s);
        }
        let bytes = |k: usize| {
            data.get(2..2 + k)
                .map(|b| b.iter().fold(0usize, |a, x| a << 8 | usize::from(*x)))
        };
        let len = match n {
            4 => bytes(4),
            2 => bytes(2),
            _ => return fail_reply(s, index, rule, NOT_LDAP, env),
        };
        at += n;
        let Some(len) = len else { return too_short(s) };
        len
    } else {
        usize::from(size)
    };
    if data.len() < at + msglen {
        return too_short(s);
    }
    if data.get(at..at + 4) != Some(&[0x02, 0x01, 0x01, 0x61][..]) {
        return fail_reply(s, index, rule, NOT_LDAP, env);
    }
    at += 4;
    let skip = data.get(at).map_or(0, |b| {
        if b & 0x80 != 0 {
            usize::from(b & 0x7f)
        } else {
            0
        }
    });
    at += 1 + skip;
    if data.get(at..at + 2) != Some(&[0x0a, 0x01][..]) {
        return fail_reply(s, index, rule, NOT_LDAP, env);
    }
    at += 2;
    s.code = u32::from(data.get(at).copied().unwrap_or(0xff));
    if s.code != 0 {
        return fail(
            s,
            index,
            rule,
            CheckStatus::L7Status,
            false,
            Some("See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"),
            env,
        );
    }
    passed(s, rule, "Success")
}

/// The SPOP AGENT-HELLO frame answering the healthcheck hello.
fn spop_agent_hello(
    s: &mut Session,
    index: usize,
    rule: &ExpectRule,
    env: &dyn Environment,
) -> Eval {
    let data = s.received.clone();
    let size = data
        .get(..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if !s.closed && data.len() < 4 + size {
        return Eval::Wait;
    }
    let frame = data.get(4..(4 + size).min(data.len())).unwrap_or(&[]);
    let problem = match super::spop::agent_hello(frame) {
        Ok(()) => return passed(s, rule, "SPOA server is ok"),
        Err(problem) => problem,
    };
    fail_reply(s, index, rule, &problem, env)
}
