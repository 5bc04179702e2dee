//! `--check-leaks`: the values of the input that must not appear in the output.

use crate::keyed::looks_like_hostname;
use hapee_compiler::check::Compilation;
use std::process::ExitCode;

/// Whether `needle` appears in `haystack` as a whole token (not inside a longer word).
pub fn contains_token(haystack: &str, needle: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Names, addresses and host names a configuration defines or uses.
pub fn config_secrets(c: &Compilation) -> Vec<String> {
    let mut out = Vec::new();
    for p in &c.config.proxies {
        if let Some(n) = &p.name {
            out.push(n.value.to_string());
        }
        for s in &p.servers {
            out.push(s.name.value.to_string());
            if let Some(a) = &s.address {
                out.push(
                    a.value
                        .rsplit_once(':')
                        .map_or(a.value.to_string(), |(h, _)| h.to_string()),
                );
            }
        }
    }
    out.retain(|s| s.len() > 3 && !is_common_word(s));
    out.sort();
    out.dedup();
    out
}

fn is_common_word(s: &str) -> bool {
    matches!(s, "http" | "tcp" | "check" | "127.0.0.1" | "localhost") || s.starts_with("${")
}

/// Addresses, host names and emails of one log line.
pub fn log_secrets(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || "{}|\"[]/?&=".contains(c))
        .map(|t| t.trim_end_matches([',', ';']))
        .filter_map(|t| {
            let host = t
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                .map_or(t, |(h, _)| h);
            (host.parse::<std::net::IpAddr>().is_ok()
                || looks_like_hostname(host)
                || host.contains('@'))
            .then(|| host.to_string())
        })
        .collect()
}

/// Exit status of a `--check-leaks` run: 1 and the list when anything leaked.
pub fn verdict(mut leaked: Vec<String>) -> ExitCode {
    leaked.sort();
    leaked.dedup();
    if leaked.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "hapee-anon: {} value(s) of the input survive in the output:",
        leaked.len()
    );
    for l in &leaked {
        eprintln!("  {l}");
    }
    ExitCode::from(1)
}
