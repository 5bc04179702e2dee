//! The replies of `return`, `deny` and `tarpit` rules, checked as HAProxy checks them when it
//! reads the rule: a status within 200-599, one payload at most, a content type for a payload,
//! no payload on 204/304, and with the proxy's own pages only a status it has a page for.

use super::build::Builder;
use super::model::{FileKind, Spanned, Text};
use super::values::atol;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::plan::errors::STATUSES;

/// What HAProxy makes of a reply's words, read in order as it reads them.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Reply {
    /// Its complaint, if any (the reply is refused).
    pub error: Option<String>,
    /// A file the reply opens: the index of its path in the words, and whether it is a whole
    /// response (`errorfile`, whose error HAProxy ends with a period) or a payload (`file`,
    /// `lf-file`). A file that does not open ends the reading there.
    pub file: Option<(usize, bool)>,
    /// Its warnings, each with the index of the word it is about.
    pub warnings: Vec<(usize, String)>,
}

/// HAProxy's verdict on a rule's reply words (`args`, its condition left out).
/// `deny` and `tarpit` read `deny_status <code>` alone as the status of the proxy's page.
/// `opens` gives the length of a file named by the reply, if it can be opened.
pub(super) fn read(
    action: &str,
    args: &[&str],
    default_status: i64,
    opens: &dyn Fn(&str) -> Option<usize>,
) -> Reply {
    let words: Vec<&str> = match (action, args) {
        ("return", _) => args.to_vec(),
        (_, []) => vec!["default-errorfiles"],
        (_, ["deny_status", code]) => vec!["status", code, "default-errorfiles"],
        (_, ["deny_status", rest @ ..]) => std::iter::once("status")
            .chain(rest.iter().copied())
            .collect(),
        _ => args.to_vec(),
    };
    let mut reply = Reply::default();
    reply.error = check(&words, default_status, opens, &mut reply).err();
    reply
}

/// Reads a reply's words (`args`, after the action or `http-error`) as HAProxy does and
/// records what it finds but its error, which it returns: the file it opens (its error, if it
/// does not open, is worded `<prefix>error opening file '<path>'<suffix>`, with a period of
/// its own for an `errorfile`) and the warnings.
pub(super) fn record(
    b: &mut Builder,
    action: &str,
    args: &[Spanned<Text>],
    default_status: i64,
    (prefix, suffix): (String, &str),
) -> Option<String> {
    let words: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    // Under `--no-env` a file that does not open reads as empty.
    let opens = |path: &str| match b.file_len(path) {
        None if !b.files_checked => Some(0),
        len => len.map(|len| len as usize),
    };
    let reply = read(action, &words, default_status, &opens);
    if let Some(path) = reply
        .file
        .and_then(|(at, whole)| Some((args.get(at)?, whole)))
    {
        let keyword = if path.1 { "errorfile" } else { "file" };
        b.file_ref(FileKind::ReplyFile, keyword, path.0.clone());
        if let Some(r) = b.config.files.last_mut() {
            r.wording = Some((prefix, suffix.to_string()));
        }
    }
    if b.warnings {
        let line = args.first().map(|w| w.span);
        for (at, message) in reply.warnings {
            let Some(span) = args.get(at).map(|w| w.span).or(line) else {
                continue;
            };
            b.push(
                Diagnostic::new("W116", message)
                    .at(span)
                    .label("ignored")
                    .severity(Severity::Warning)
                    .form(HaproxyForm::Parsing),
            );
        }
    }
    reply.error
}

/// HAProxy's complaint about a rule's reply words, if any (files taken as readable).
#[cfg(test)]
fn problem(action: &str, args: &[&str], default_status: i64) -> Option<String> {
    read(action, args, default_status, &|p| {
        std::fs::metadata(p).ok().map(|m| m.len() as usize)
    })
    .error
}

/// What the payload words set.
enum Payload {
    None,
    /// `errorfiles` or `default-errorfiles`: a page chosen by status.
    Page,
    /// `errorfile <file>`: a whole response of its own.
    Message,
    /// `string`, `file`: its length.
    Raw(usize),
    /// `lf-string`, `lf-file`: a log-format string.
    Format,
}

fn check(
    words: &[&str],
    default_status: i64,
    opens: &dyn Fn(&str) -> Option<usize>,
    reply: &mut Reply,
) -> Result<(), String> {
    let mut status = default_status;
    // The last content type given, with the index of its value.
    let mut content_type: Option<(usize, &str)> = None;
    // Where the first `hdr` kept is.
    let mut headers: Option<usize> = None;
    let mut payload = Payload::None;
    let mut payload_word: Option<&str> = None;
    let mut i = 0;
    while let Some(&word) = words.get(i) {
        let value = words.get(i + 1).copied();
        let takes_value = matches!(
            word,
            "status"
                | "content-type"
                | "errorfiles"
                | "errorfile"
                | "file"
                | "string"
                | "lf-file"
                | "lf-string"
        );
        if !takes_value && !matches!(word, "default-errorfiles" | "hdr") {
            break;
        }
        if matches!(
            word,
            "errorfiles"
                | "default-errorfiles"
                | "errorfile"
                | "file"
                | "string"
                | "lf-file"
                | "lf-string"
        ) {
            if let Some(first) = payload_word {
                return Err(format!(
                    "unexpected '{word}' argument, '{first}' already defined"
                ));
            }
            payload_word = Some(word);
        }
        let Some(value) = value.filter(|v| takes_value && !v.is_empty()) else {
            if word == "default-errorfiles" {
                payload = Payload::Page;
                i += 1;
                continue;
            }
            if word == "hdr" {
                // These three are the reply's own business: HAProxy drops them at once.
                let name = words.get(i + 1).copied().unwrap_or_default();
                if ["content-length", "transfer-encoding", "content-type"]
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(name))
                    && words.get(i + 2).is_some_and(|v| !v.is_empty())
                {
                    reply.warnings.push((
                        i + 1,
                        format!("header '{name}' always ignored by the http reply."),
                    ));
                } else {
                    headers = headers.or(Some(i));
                }
                i += 3;
                continue;
            }
            // A missing value is reported by the rule's other checks.
            return Ok(());
        };
        let mut file_len = 0;
        if matches!(word, "errorfile" | "file" | "lf-file") {
            reply.file = Some((i + 1, word == "errorfile"));
            match opens(value) {
                Some(len) => file_len = len,
                // HAProxy's error for the file is the environment checks' to report.
                None => return Ok(()),
            }
        }
        match word {
            "status" => {
                status = atol(value);
                if !(200..=599).contains(&status) {
                    return Err(format!("Unexpected status code '{status}'"));
                }
            }
            "content-type" => content_type = Some((i + 1, value)),
            "errorfiles" => payload = Payload::Page,
            "errorfile" => payload = Payload::Message,
            "string" => payload = Payload::Raw(value.len()),
            "lf-string" | "lf-file" => payload = Payload::Format,
            "file" => payload = Payload::Raw(file_len),
            _ => {}
        }
        i += 2;
    }
    let no_body = |len_or_set: bool| (status == 204 || status == 304) && len_or_set;
    // The warnings of the whole reply come after those of its words: they point at the
    // content type (else the first header), or at the last word warned about.
    let end_at = (content_type.map(|(at, _)| at))
        .or(headers)
        .unwrap_or(0)
        .max(reply.warnings.last().map_or(0, |w| w.0));
    let mut ignored = |why: &str| {
        if let Some((_, ctype)) = content_type {
            reply.warnings.push((
                end_at,
                format!("content-type '{ctype}' ignored by the http reply {why}."),
            ));
        }
    };
    match payload {
        Payload::None => ignored("because neither errorfile nor payload defined"),
        Payload::Page if !STATUSES.iter().any(|&s| i64::from(s) == status) => {
            return Err(format!(
                "status code '{status}' not handled by default with '{}' argument.",
                payload_word.unwrap_or("default-errorfiles")
            ))
        }
        // HAProxy's own spelling.
        Payload::Page | Payload::Message => {
            ignored("when used with an erorrfile");
            if headers.is_some() {
                reply.warnings.push((
                    end_at,
                    "hdr parameters ignored by the http reply when used with an erorrfile.".into(),
                ));
            }
        }
        Payload::Raw(len) if no_body(len > 0) => {
            return Err(format!("No body expected for {status} responses"))
        }
        Payload::Raw(len) if len > 0 && content_type.is_none() => {
            return Err(
                "a content type must be defined when non-empty payload is configured".into(),
            )
        }
        Payload::Raw(0) => ignored("when used with an empty payload"),
        Payload::Format if no_body(true) => {
            return Err(format!("No body expected for {status} responses"))
        }
        Payload::Format if content_type.is_none() => {
            return Err("a content type must be defined with a log-format payload".into())
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(action: &str, words: &str, default: i64) -> Option<String> {
        let args: Vec<&str> = words.split_whitespace().collect();
        problem(action, &args, default)
    }

    #[test]
    fn replies_are_refused_where_haproxy_refuses_them() {
        assert_eq!(
            p("return", "status 99", 200).as_deref(),
            Some("Unexpected status code '99'")
        );
        assert_eq!(
            p("return", "string x", 200).as_deref(),
            Some("a content type must be defined when non-empty payload is configured")
        );
        assert_eq!(
            p("return", "status 204 content-type t/p string x", 200).as_deref(),
            Some("No body expected for 204 responses")
        );
        assert_eq!(
            p("deny", "deny_status 451", 403).as_deref(),
            Some("status code '451' not handled by default with 'default-errorfiles' argument.")
        );
        assert_eq!(
            p("return", "status 451 errorfiles myerrs", 200).as_deref(),
            Some("status code '451' not handled by default with 'errorfiles' argument.")
        );
        assert_eq!(
            p("return", "string x file /etc/hostname", 200).as_deref(),
            Some("unexpected 'file' argument, 'string' already defined")
        );
        assert_eq!(
            p("return", "status 200 lf-string %[path]", 200).as_deref(),
            Some("a content type must be defined with a log-format payload")
        );
        // Accepted: a page HAProxy has, a full reply with deny_status, an empty string.
        for (action, words) in [
            ("deny", ""),
            ("deny", "deny_status 429"),
            (
                "deny",
                "deny_status 451 content-type text/plain string gone",
            ),
            ("tarpit", "deny_status 500"),
            ("return", ""),
            ("return", "status 404"),
            ("return", "status 451 errorfile /nonexistent"),
            (
                "return",
                "status 200 content-type text/plain string hi hdr x-a b",
            ),
            ("return", "status 304"),
        ] {
            assert_eq!(p(action, words, 403), None, "{action} {words}");
        }
    }

    #[test]
    fn a_reply_reads_its_file_and_warns_as_haproxy_does() {
        let words = |w: &'static str| w.split_whitespace().collect::<Vec<_>>();
        // A file that does not open ends the reading: no later error, no warning.
        let missing = read("return", &words("file /x string y"), 200, &|_| None);
        assert_eq!((missing.file, missing.error), (Some((1, false)), None));
        let page = read(
            "return",
            &words("content-type t/p errorfile /p hdr a b"),
            200,
            &|_| Some(10),
        );
        assert_eq!(page.file, Some((3, true)));
        assert_eq!(
            page.warnings,
            [
                (
                    1,
                    "content-type 't/p' ignored by the http reply when used with an erorrfile."
                        .to_string()
                ),
                (
                    1,
                    "hdr parameters ignored by the http reply when used with an erorrfile."
                        .to_string()
                ),
            ]
        );
        // A header the reply sets itself is dropped as it is read; the content type of an
        // empty file is warned about after it.
        let empty = read(
            "return",
            &words("content-type t/p hdr Content-Length 2 file /e"),
            200,
            &|_| Some(0),
        );
        assert_eq!(
            empty.warnings,
            [
                (
                    3,
                    "header 'Content-Length' always ignored by the http reply.".to_string()
                ),
                (
                    3,
                    "content-type 't/p' ignored by the http reply when used with an empty payload."
                        .to_string()
                ),
            ]
        );
        assert_eq!(
            read("return", &words("status 204 lf-file /e"), 200, &|_| Some(0))
                .error
                .as_deref(),
            Some("No body expected for 204 responses")
        );
    }
}
