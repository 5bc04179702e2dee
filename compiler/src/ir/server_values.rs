//! Values of server options HAProxy refuses while it reads a `server` or `default-server`
//! line: times, counts and weights out of range, and words it does not know. Each refusal is
//! HAProxy's message for the option; the caller puts the server's context before it and the
//! period HAProxy adds after it.

use super::values::{parse_time, TimeError, TimeUnit};

/// HAProxy's refusal of `value` for server option `option` of the server `id` (`(null)` for
/// a line that names no server yet), or `None` when it takes it (or the value is empty).
pub(super) fn refusal(option: &str, value: &str, id: &str) -> Option<String> {
    // An empty value (a quoted variable that is not set) is the missing-value checks' case.
    if value.is_empty() {
        return None;
    }
    let atol = super::values::atol;
    let char_at = |i: usize| value.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
    match option {
        "inter" | "fastinter" | "downinter" | "agent-inter" => match parse_time(value, TimeUnit::Ms) {
            Ok(d) if d.value == 0 => Some(format!(
                "invalid value 0 for argument '{option}' of server {id}."
            )),
            // HAProxy names every one of the four 'agent-inter' here.
            Err(TimeError::Char(i)) => Some(format!(
                "unexpected character '{}' in 'agent-inter' argument of server {id}.",
                char_at(i)
            )),
            _ => None,
        },
        "slowstart" => match parse_time(value, TimeUnit::Ms) {
            Err(TimeError::Char(i)) => Some(format!(
                "unexpected character '{}' in 'slowstart' argument of server {id}.",
                char_at(i)
            )),
            _ => None,
        },
        "pool-purge-delay" => match parse_time(value, TimeUnit::Ms) {
            Err(TimeError::Char(i)) => Some(format!(
                "unexpected character '{}' in argument to <pool-purge-delay>.",
                char_at(i)
            )),
            _ => None,
        },
        "observe" if !matches!(value, "none" | "layer4" | "layer7") => Some(format!(
            "'observe' expects one of 'none', 'layer4', 'layer7' but got '{value}'"
        )),
        "on-error" if !matches!(value, "fastinter" | "fail-check" | "sudden-death" | "mark-down") => {
            Some(format!(
                "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{value}'"
            ))
        }
        "error-limit" if atol(value) < 1 => Some("error-limit has to be > 0.".to_string()),
        "rise" | "fall" if atol(value) < 1 => Some(format!("'{option}' has to be > 0.")),
        "weight" if !(0..=256).contains(&atol(value)) => Some(format!(
            "weight of server {id} is not within 0 and 256 ({}).",
            atol(value)
        )),
        "resolve-prefer" if !matches!(value, "ipv4" | "ipv6") => {
            Some("'resolve-prefer' expects either ipv4 or ipv6 as argument.".to_string())
        }
        "init-addr" => value
            .split(',')
            .find(|m| !matches!(*m, "libc" | "last" | "none") && m.parse::<std::net::IpAddr>().is_err())
            .map(|m| {
                format!("'init-addr' : unknown init-addr method '{m}', supported methods are 'libc', 'last', 'none'.")
            }),
        "ws" if !matches!(value, "auto" | "h1" | "h2") => {
            Some("'ws' has to be 'auto', 'h1' or 'h2'".to_string())
        }
        "log-proto" if !matches!(value, "legacy" | "octet-count") => Some(format!(
            "'log-proto' expects one of 'legacy' or 'octet-count' but got '{value}'"
        )),
        "verify" if !matches!(value, "none" | "required") => Some(format!(
            "'verify' : unknown verify method '{value}', only 'none' and 'required' are supported"
        )),
        "ssl-min-ver" | "ssl-max-ver"
            if !matches!(value, "SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3") =>
        {
            Some(format!("'{value}' : unknown ssl/tls version"))
        }
        "proxy-v2-options" => value
            .split(',')
            .find(|o| {
                !matches!(
                    *o,
                    "ssl" | "cert-cn" | "ssl-cipher" | "cert-sig" | "cert-key" | "authority"
                        | "crc32c" | "unique-id"
                )
            })
            .map(|o| format!("'{o}' : proxy v2 option not implemented")),
        _ => None,
    }
}
