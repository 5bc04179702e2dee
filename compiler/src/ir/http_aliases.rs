//! Log-format aliases that only exist in HTTP mode (`%HP`, `%r`, `%Ta`, `%tr`…): HAProxy refuses
//! them when it compiles the strings of a proxy whose mode is something else. The mode is
//! known only once the section is read (and a defaults section's strings are compiled for each
//! proxy that inherits them), so this is a post-parse check on each proxy's effective strings.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::expr::logformat::{self, Item};

/// The strings compiled with the proxy's mode: the keyword, HAProxy's name for it in its
/// message, and whether a proxy without a frontend compiles it (backends ignore log formats).
const STRINGS: &[(&str, &str, bool)] = &[
    ("log-format", "log-format", false),
    ("log-format-sd", "log-format-sd", false),
    ("error-log-format", "error-log-format", false),
    ("unique-id-format", "unique-id", true),
];

/// Whether [`check`] reads a proxy's statements of `keyword` (a consuming build keeps them).
pub(super) fn reads_keyword(keyword: &str) -> bool {
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
        // The last line of a keyword replaces the earlier ones (the defaults' come first).
        let Some(line) = p
            .directives
            .iter()
            .rev()
            .find(|l| l.keyword == keyword && l.prefix.is_none())
        else {
            continue;
        };
        let Some(text) = line.args.first() else {
            continue;
        };
        // A string that does not parse is reported as such when it is read.
        let Ok(lf) = logformat::parse(text) else {
            continue;
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

/// The first alias of `lf` that HAProxy reserves for HTTP mode (it stops at the first).
fn first_http_alias(lf: &logformat::LogFormat) -> Option<&str> {
    lf.items.iter().find_map(|item| match item {
        Item::Alias { name, .. } if logformat::http_only(name) => Some(name.as_str()),
        _ => None,
    })
}
