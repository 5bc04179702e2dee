//! Per-proxy HTTP settings that act on every request outside the rules: `unique-id-format`,
//! `unique-id-header`, `option originalto` and `option http-restrict-req-hdr-names`.

use super::lower::{self, ForwardFor};
use crate::ir::DirectiveLine;
use serde::Serialize;

/// What `option http-restrict-req-hdr-names` does with a request header whose name has a
/// character other than a letter, a digit or `-`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderNames {
    /// Keeps it (the default).
    #[default]
    Preserve,
    /// Removes it.
    Delete,
    /// Refuses the request with a 403.
    Reject,
}

/// Whether the lines say what to do with such names (`option http-restrict-req-hdr-names`):
/// without it, a backend that runs a FastCGI application deletes them, as HAProxy does.
pub fn names_option_set(lines: &[DirectiveLine]) -> bool {
    lines.iter().any(|d| {
        d.keyword == "option"
            && d.args.first().map(|a| a.as_str()) == Some("http-restrict-req-hdr-names")
    })
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpOptions {
    pub unique_id_format: Option<String>,
    pub unique_id_header: Option<String>,
    pub originalto: Option<ForwardFor>,
    pub restrict_header_names: HeaderNames,
}

impl HttpOptions {
    pub fn of(lines: &[DirectiveLine]) -> HttpOptions {
        let mut restrict_header_names = HeaderNames::Preserve;
        for d in lines.iter().filter(|d| d.keyword == "option") {
            if d.args.first().map(|a| a.as_str()) != Some("http-restrict-req-hdr-names") {
                continue;
            }
            restrict_header_names = match d.args.get(1).map(|a| a.as_str()) {
                Some("delete") if d.prefix.is_none() => HeaderNames::Delete,
                Some("reject") if d.prefix.is_none() => HeaderNames::Reject,
                _ => HeaderNames::Preserve,
            };
        }
        HttpOptions {
            unique_id_format: lower::directive_text(lines, "unique-id-format"),
            unique_id_header: lower::directive_text(lines, "unique-id-header"),
            originalto: lower::originalto(lines),
            restrict_header_names,
        }
    }
}
