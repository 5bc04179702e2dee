//! Log-format aliases that only exist in HTTP mode (`%HP`, `%r`, `%Ta`, `%tr`…): HAProxy refuses
//! them when it compiles the strings of a proxy whose mode is something else. The mode is
//! known only once the section is read (and a defaults section's strings are compiled for each
//! proxy that inherits them), so this is a post-parse check on each proxy's effective strings.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::expr::logformat::{self, Item};
use crate::source::Span;

/// The strings compiled with the proxy's mode, in HAProxy's order: the keyword, HAProxy's
/// name for it in its message, and whether a proxy without a frontend compiles it (backends
/// ignore log formats).
const STRINGS: &[(&str, &str, bool)] = &[
    ("log-format", "log-format", false),
    ("log-format-sd", "log-format-sd", false),
    ("unique-id-format", "unique-id", true),
    ("error-log-format", "error-log-format", false),
];

/// Whether [`check`] or [`tcp_fallback`] reads a proxy's statements of `keyword` (a
/// consuming build keeps them): the strings, and the `option` lines that choose a log format
/// (`option` and its first argument; `ignored` and `log_formats` read no other option line).
pub(super) fn reads_keyword(keyword: &str, first_arg: &str) -> bool {
    if keyword == "option" {
        return matches!(first_arg, "httplog" | "httpslog" | "tcplog");
    }
    STRINGS.iter().any(|&(k, _, _)| k == keyword)
}

pub(super) fn check(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.effective_mode() == Mode::Http {
        return;
    }
    for &(keyword, what, in_backends) in STRINGS {
        if !in_backends && !p.kind.has_frontend() {
            continue;
        }
        // The last line of a keyword replaces the earlier ones.
        let Some(line) = p.last_line(keyword) else {
            continue;
        };
        let Some(text) = line.args.first() else {
            continue;
        };
        // HAProxy reads the string field by field and stops at its first error: an HTTP
        // alias before a field that does not parse is what it reports (a string that fails
        // earlier is reported as such when it is read).
        let lf = match logformat::parse(text) {
            Ok(lf) => lf,
            Err(e) => match parsed_before(text, e.at) {
                Some(lf) => lf,
                None => continue,
            },
        };
        if let Some(name) = first_http_alias(&lf) {
            out.push(
                Diagnostic::new(
                    "E511",
                    format!("failed to parse {what} : format variable '{name}' is reserved for HTTP mode."),
                )
                .at(line.span)
                .label(format!("'%{name}' needs 'mode http'"))
                .help(format!(
                    "this proxy is in '{}' mode, where there is no HTTP request to read: remove '%{name}' or set 'mode http'",
                    p.effective_mode().as_str()
                ))
                .form(HaproxyForm::PostParse),
            );
        }
    }
}

/// The fields of `text` before its error at `at` (those HAProxy compiled before it stopped).
fn parsed_before(text: &str, at: usize) -> Option<logformat::LogFormat> {
    let mut cut = at.min(text.len());
    loop {
        cut = text.get(..cut)?.rfind('%')?;
        if let Ok(lf) = logformat::parse(&text[..cut]) {
            return Some(lf);
        }
    }
}

/// The first alias of `lf` that HAProxy reserves for HTTP mode (it stops at the first).
fn first_http_alias(lf: &logformat::LogFormat) -> Option<&str> {
    lf.items.iter().find_map(|item| match item {
        Item::Alias { name, .. } if logformat::http_only(name) => Some(name.as_str()),
        _ => None,
    })
}

/// What HAProxy checks of a proxy that is not in HTTP mode before it compiles its log
/// formats: the HTTP fields its rules' strings made its log line wait for (W256), then an
/// HTTP log option (W257, the TCP format is used instead). Both are located at the last line
/// that set the proxy's format location: its log format or option (a defaults section's
/// first), or a rule whose parser records its own line there.
pub(super) fn tcp_fallback(p: &Proxy, acls: &super::layer6::AclNames, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.effective_mode() == Mode::Http || p.kind == ProxyKind::Defaults {
        return;
    }
    let order = |s: Span| (s.file.0, s.start);
    let mut located: Option<Span> = None;
    let locate = |s: Span, at: &mut Option<Span>| {
        if at.is_none_or(|a| order(a) <= order(s)) {
            *at = Some(s);
        }
    };
    let mut option = None;
    for d in p.directives.iter().filter(|d| d.prefix.is_none()) {
        let first = d.args.first().map(|a| a.as_str());
        match (d.keyword.as_str(), first) {
            ("log-format", _) => option = None,
            ("option", Some(o @ ("httplog" | "httpslog" | "tcplog"))) => {
                option = (o != "tcplog").then_some(o);
            }
            _ => continue,
        }
        locate(d.span, &mut located);
    }
    // HTTP fetches seen so far: an expression is an HTTP request field once one was.
    let mut http_needed = false;
    let mut waits_http = false;
    let predefined = super::layer6::http_predefined;
    for rule in &p.rules {
        let (strings, records_line) = rule_strings(rule);
        for text in strings {
            let Ok(lf) = logformat::parse(text) else {
                continue;
            };
            for item in &lf.items {
                match item {
                    Item::Alias { name, .. } if name == "ST" || name == "rt" => waits_http = true,
                    Item::Expr { expr, .. } => {
                        http_needed |= crate::registry::capabilities::reads_http(&expr.fetch.name);
                        waits_http |= http_needed;
                    }
                    _ => {}
                }
            }
        }
        if records_line {
            locate(rule.span, &mut located);
        }
        // A condition read after the rule's strings marks the proxy as reading HTTP for the
        // strings of the rules after it.
        if !http_needed && !rule.condition.is_empty() {
            let http = crate::registry::capabilities::HTTP;
            http_needed = acls.condition_reads(&rule.condition, http, &predefined);
        }
    }
    let (kind, name) = (p.kind.type_str(), p.name_str());
    let Some(at) = located else {
        return;
    };
    if waits_http {
        out.push(
            Diagnostic::new(
                "W256",
                format!("HTTP log/header format not usable with {kind} '{name}' (needs 'mode http')."),
            )
            .at(at)
            .label("the proxy's format location")
            .help("a rule of this proxy writes '%ST', '%rt' or an HTTP sample, which a proxy that is not in 'mode http' does not have")
            .form(HaproxyForm::Parsing),
        );
    }
    if let Some(option) = option.filter(|_| p.kind.has_frontend()) {
        out.push(
            Diagnostic::new(
                "W257",
                format!("'option {option}' not usable with {kind} '{name}' (needs 'mode http'). Falling back to 'option tcplog'."),
            )
            .at(at)
            .label("the proxy's format location")
            .help("write 'option tcplog' for TCP proxies, or set 'mode http'")
            .form(HaproxyForm::Parsing),
        );
    }
}

/// The format strings of a rule's arguments, and whether its parser records the rule's line
/// as the proxy's format location (HAProxy's header, map, variable and reply parsers do; the
/// request-line and redirect ones do not).
fn rule_strings(rule: &RuleDecl) -> (Vec<&str>, bool) {
    let arg = |i: usize| rule.args.get(i).map(|a| a.value.as_str());
    let action = rule.action.value.as_str();
    let mut strings: Vec<&str> = Vec::new();
    let records = match action {
        "set-header" | "add-header" | "early-hint" => {
            strings.extend(arg(1));
            true
        }
        "replace-header" | "replace-value" => {
            strings.extend(arg(2));
            true
        }
        "set-method" | "set-path" | "set-pathq" | "set-query" | "set-uri" => {
            strings.extend(arg(0));
            false
        }
        "replace-uri" | "replace-path" | "replace-pathq" => {
            strings.extend(arg(1));
            false
        }
        "redirect" => {
            if matches!(arg(0), Some("location" | "prefix" | "scheme")) {
                strings.extend(arg(1));
            }
            false
        }
        "return" | "deny" | "tarpit" => {
            let mut records = false;
            let mut i = 0;
            while let Some(word) = arg(i) {
                match word {
                    "hdr" => {
                        strings.extend(arg(i + 2));
                        records = true;
                        i += 3;
                    }
                    "lf-string" => {
                        strings.extend(arg(i + 1));
                        records = true;
                        i += 2;
                    }
                    "lf-file" => {
                        records = true;
                        i += 2;
                    }
                    _ => i += 1,
                }
            }
            records
        }
        a if a.starts_with("set-var-fmt(") => {
            strings.extend(arg(0));
            true
        }
        a if ["set-map(", "add-acl(", "del-acl(", "del-map("]
            .iter()
            .any(|p| a.starts_with(p)) =>
        {
            strings.extend(arg(0));
            strings.extend(arg(1));
            true
        }
        _ => false,
    };
    (strings, records)
}
