//! QUIC listeners (`quic4@`, `quic6@`) as HAProxy 2.7 checks them: they imply `ssl`, serve HTTP
//! only, need `cluster-secret` for `quic-force-retry`, and take a known congestion control
//! algorithm; the `tune.quic.*` values must be positive integers or times. Plus the lints
//! HAProxy does not make: an ALPN list without `h3`, and Retry keys that change at each start.

use super::model::*;
use super::values::{parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

fn is_quic(b: &Bind) -> bool {
    b.address
        .value
        .split(',')
        .any(|a| a.starts_with("quic4@") || a.starts_with("quic6@"))
}

/// The value after option `name` on a bind line, if the option is there.
fn option_value<'a>(b: &'a Bind, name: &str) -> Option<Option<&'a Spanned<Text>>> {
    let i = b.options.iter().position(|o| o.value == name)?;
    Some(b.options.get(i + 1))
}

pub(super) fn check(config: &Config, out: &mut Vec<Diagnostic>) {
    let secret = config
        .global
        .directives
        .iter()
        .any(|d| d.keyword == "cluster-secret");
    tunes(config, out);
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        for b in p.binds.iter().filter(|b| is_quic(b)) {
            let section = p.kind.section_keyword();
            if !b.ssl {
                out.push(
                    Diagnostic::new(
                        "W260",
                        format!(
                            "'bind {}' in section '{section}' : QUIC protocol detected, enabling ssl. Use 'ssl' to shut this warning.",
                            b.address.value
                        ),
                    )
                    .at(b.address.span)
                    .label("QUIC is always TLS")
                    .help("add 'ssl' to the bind line"),
                );
            }
            if !secret && b.options.iter().any(|o| o.value == "quic-force-retry") {
                out.push(
                    Diagnostic::new(
                        "E260",
                        "QUIC listener with quic-force-retry requires global cluster-secret to be set.",
                    )
                    .form(HaproxyForm::Bare)
                    .at(b.span)
                    .help("set 'cluster-secret <secret>' in the global section"),
                );
            }
            if let Some(value) = option_value(b, "quic-cc-algo") {
                let problem = match value.map(|v| v.value.as_str()) {
                    None | Some("") => Some("missing control congestion algorithm"),
                    Some("cubic" | "newreno") => None,
                    Some(_) => Some("unknown control congestion algorithm"),
                };
                if let Some(problem) = problem {
                    out.push(
                        Diagnostic::new(
                            "E262",
                            format!(
                                "'bind {}' in section '{section}' : 'quic-cc-algo' : {problem}",
                                b.address.value
                            ),
                        )
                        .at(value.map_or(b.span, |v| v.span))
                        .help("use 'cubic' or 'newreno'"),
                    );
                }
            }
        }
    }
}

/// `tune.quic.*` settings: times, or integers of at least 1.
fn tunes(config: &Config, out: &mut Vec<Diagnostic>) {
    for d in &config.global.directives {
        let name = d.keyword.as_str();
        let value = d.args.first().map_or("", |a| a.as_str());
        let message = match name {
            "tune.quic.frontend.max-idle-timeout" | "tune.quic.backend.max-idle-timeou" => {
                match parse_time(value, TimeUnit::Ms) {
                    // HAProxy 2.7 registers the backend keyword one letter short, and its
                    // parser then knows no such setting: every valid use is refused. (No 2.7
                    // server speaks QUIC either.)
                    Ok(_) if name == "tune.quic.backend.max-idle-timeou" => Some(format!(
                        "'{name}' keyword not unhandled (please report this bug)."
                    )),
                    Ok(_) => None,
                    Err(TimeError::Overflow) => Some(format!(
                        "timer overflow in argument '{value}' to '{name}' (maximum value is 2147483647 ms or ~24.8 days)"
                    )),
                    Err(TimeError::Underflow) => Some(format!(
                        "timer underflow in argument '{value}' to '{name}' (minimum non-null value is 1 ms)"
                    )),
                    Err(TimeError::Char(at)) => Some(format!(
                        "unexpected character '{}' in '{name}'",
                        value.get(at..).and_then(|r| r.chars().next()).unwrap_or(' ')
                    )),
                }
            }
            "tune.quic.frontend.conn-tx-buffers.limit"
            | "tune.quic.frontend.max-streams-bidi"
            | "tune.quic.retry-threshold"
            | "tune.quic.max-frame-loss" => {
                // HAProxy reads the number with atoi(): leading digits, anything after ignored.
                (super::values::atol(value) < 1)
                    .then(|| format!("'{name}' expects a positive integer."))
            }
            "tune.quic.socket-owner" => (!matches!(value, "listener" | "connection"))
                .then(|| format!("'{name}' expects 'listener' or 'connection'.")),
            _ => None,
        };
        if let Some(message) = message {
            out.push(
                Diagnostic::new("E263", message)
                    .at(d.span)
                    .label("invalid QUIC setting"),
            );
        }
    }
}

/// Lints: a QUIC bind whose ALPN list lacks `h3` (clients then fail the handshake), and QUIC
/// listeners without `cluster-secret` (their Retry tokens and stateless resets are keyed anew
/// at each start, so a reload breaks the clients' connections).
pub fn lints(config: &Config, out: &mut Vec<Diagnostic>) {
    let secret = config
        .global
        .directives
        .iter()
        .any(|d| d.keyword == "cluster-secret");
    let mut first_quic = None;
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        for b in p.binds.iter().filter(|b| is_quic(b)) {
            first_quic.get_or_insert(b.span);
            if let Some(Some(alpn)) = option_value(b, "alpn") {
                if !alpn.value.split(',').any(|p| p == "h3") {
                    out.push(
                        Diagnostic::new(
                            "L020",
                            format!(
                                "QUIC bind '{}' does not offer 'h3' in its ALPN list: HTTP/3 clients cannot connect",
                                b.address.value
                            ),
                        )
                        .at(alpn.span)
                        .help("write 'alpn h3'"),
                    );
                }
            }
        }
    }
    if let (Some(span), false) = (first_quic, secret) {
        out.push(
            Diagnostic::new(
                "L021",
                "QUIC listeners without 'cluster-secret': Retry tokens and stateless resets use a random key at each start",
            )
            .at(span)
            .help("set 'cluster-secret <secret>' in the global section, the same on every node"),
        );
    }
}
