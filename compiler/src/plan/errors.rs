//! The pages a proxy answers with when it answers itself (400, 403, 503, …): `errorfile`,
//! `errorloc`/`errorloc302`/`errorloc303`, `errorfiles <http-errors section> [codes]` and
//! `http-error`, resolved into one page per status as HAProxy resolves them: the defaults
//! section's lines first, then the proxy's, in order, a later line replacing an earlier one.

use crate::ir::values::atol;
use crate::ir::{Config, DirectiveLine};
use crate::registry::SectionKind;
use serde::Serialize;

/// The statuses HAProxy has a page for; a page for any other status cannot be configured.
pub const STATUSES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
];

/// Where the page of one status comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ErrorSource {
    /// A file holding a whole raw HTTP response (an empty file: the connection closes
    /// without an answer).
    File(String),
    /// A redirect to a URL with the status 302 or 303 (`errorloc*`).
    Location { code: u16, url: String },
    /// An `http-error` line's reply, as its words after `http-error` (the runtime parses them
    /// as it parses the replies of `return` rules).
    Reply(Vec<String>),
}

/// The page a proxy answers with for one status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorPage {
    pub status: u16,
    pub source: ErrorSource,
}

/// An `http-errors` section: its name and its page files by status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorSection {
    pub name: String,
    pub files: Vec<(u16, String)>,
}

/// Every `http-errors` section of the configuration.
pub fn sections(config: &Config) -> Vec<ErrorSection> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::HttpErrors)
        .map(|s| {
            let mut files: Vec<(u16, String)> = Vec::new();
            for line in s.lines.iter().filter(|l| l.keyword == "errorfile") {
                if let (Some(code), Some(file)) = (line.args.first(), line.args.get(1)) {
                    let code = atol(code) as u16;
                    files.retain(|(c, _)| *c != code);
                    files.push((code, file.to_string()));
                }
            }
            ErrorSection {
                name: s.name.as_ref().map_or("", |n| n.value.as_str()).to_string(),
                files,
            }
        })
        .collect()
}

/// The value after `key` in a word list.
fn after<'a>(words: &'a [&'a str], key: &str) -> Option<&'a str> {
    let at = words.iter().position(|w| *w == key)?;
    words.get(at + 1).copied()
}

/// A proxy's pages, one per status, from its lines (those of its defaults section first).
pub fn pages(lines: &[DirectiveLine], sections: &[ErrorSection]) -> Vec<ErrorPage> {
    let mut pages: Vec<ErrorPage> = Vec::new();
    let mut set = |status: u16, source: Option<ErrorSource>| {
        pages.retain(|p| p.status != status);
        if let Some(source) = source {
            pages.push(ErrorPage { status, source });
        }
    };
    let section = |name: &str| sections.iter().find(|s| s.name == name);
    for d in lines.iter().filter(|d| d.prefix.is_none()) {
        let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
        match d.keyword.as_str() {
            "errorfile" => {
                if let (Some(code), Some(file)) = (args.first(), args.get(1)) {
                    set(atol(code) as u16, Some(ErrorSource::File(file.to_string())));
                }
            }
            "errorloc" | "errorloc302" | "errorloc303" => {
                if let (Some(code), Some(url)) = (args.first(), args.get(1)) {
                    let redirect = if d.keyword == "errorloc303" { 303 } else { 302 };
                    set(
                        atol(code) as u16,
                        Some(ErrorSource::Location {
                            code: redirect,
                            url: url.to_string(),
                        }),
                    );
                }
            }
            "errorfiles" => {
                let Some(s) = args.first().and_then(|n| section(n)) else {
                    continue;
                };
                let only: Vec<u16> = args[1..].iter().map(|c| atol(c) as u16).collect();
                for (code, file) in &s.files {
                    if only.is_empty() || only.contains(code) {
                        set(*code, Some(ErrorSource::File(file.clone())));
                    }
                }
            }
            "http-error" => {
                let Some(status) = after(&args, "status").map(|s| atol(s) as u16) else {
                    continue;
                };
                if let Some(name) = after(&args, "errorfiles") {
                    // Only when the section has a page for the status.
                    if let Some((_, file)) =
                        section(name).and_then(|s| s.files.iter().find(|(c, _)| *c == status))
                    {
                        set(status, Some(ErrorSource::File(file.clone())));
                    }
                } else if args.contains(&"default-errorfiles") {
                    set(status, None);
                } else if let Some(file) = after(&args, "errorfile") {
                    set(status, Some(ErrorSource::File(file.to_string())));
                } else {
                    let words = args.iter().map(|a| a.to_string()).collect();
                    set(status, Some(ErrorSource::Reply(words)));
                }
            }
            _ => {}
        }
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn later_lines_replace_earlier_ones_and_errorfiles_takes_only_the_codes_named() {
        let sections = vec![
            ErrorSection {
                name: "e1".into(),
                files: vec![(400, "e1-400".into()), (500, "e1-500".into())],
            },
            ErrorSection {
                name: "e3".into(),
                files: vec![(400, "e3-400".into())],
            },
        ];
        let lines: Vec<_> = [
            "errorfiles e1",
            "errorfile 403 d-403",
            "errorfile 500 p-500",
            "errorfiles e1 500",
            "errorfiles e3 400",
            "errorloc303 404 http://x/",
            "http-error status 403 default-errorfiles",
            "http-error status 200 content-type text/plain string ok",
            "http-error status 408 errorfiles e1",
        ]
        .iter()
        .map(|l| line(l))
        .collect();
        let pages = pages(&lines, &sections);
        let of = |s: u16| pages.iter().find(|p| p.status == s).map(|p| &p.source);
        assert_eq!(of(400), Some(&ErrorSource::File("e3-400".into())));
        assert_eq!(of(500), Some(&ErrorSource::File("e1-500".into())));
        assert_eq!(of(403), None);
        assert_eq!(of(408), None, "e1 has no 408: nothing changes");
        assert_eq!(
            of(404),
            Some(&ErrorSource::Location {
                code: 303,
                url: "http://x/".into()
            })
        );
        assert!(matches!(of(200), Some(ErrorSource::Reply(w)) if w.contains(&"ok".to_string())));
    }
}
