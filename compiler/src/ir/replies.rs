//! The replies of `return`, `deny` and `tarpit` rules, checked as HAProxy checks them when it
//! reads the rule: a status within 200-599, one payload at most, a content type for a payload,
//! no payload on 204/304, and with the proxy's own pages only a status it has a page for.

use super::values::atol;
use crate::plan::errors::STATUSES;

/// HAProxy's complaint about a rule's reply words (`args`, its condition left out), if any.
/// `deny` and `tarpit` read `deny_status <code>` alone as the status of the proxy's page.
pub(super) fn problem(action: &str, args: &[&str], default_status: i64) -> Option<String> {
    let words: Vec<&str> = match (action, args) {
        ("return", _) => args.to_vec(),
        (_, []) => vec!["default-errorfiles"],
        (_, ["deny_status", code]) => vec!["status", code, "default-errorfiles"],
        (_, ["deny_status", rest @ ..]) => std::iter::once("status")
            .chain(rest.iter().copied())
            .collect(),
        _ => args.to_vec(),
    };
    check(&words, default_status).err()
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
    /// `lf-string`, `lf-file`: whether it is non-empty.
    Format(bool),
}

fn check(words: &[&str], default_status: i64) -> Result<(), String> {
    let mut status = default_status;
    let mut content_type = false;
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
        let Some(value) = value.filter(|_| takes_value) else {
            if word == "default-errorfiles" {
                payload = Payload::Page;
                i += 1;
                continue;
            }
            if word == "hdr" {
                i += 3;
                continue;
            }
            // A missing value is reported by the rule's other checks.
            return Ok(());
        };
        match word {
            "status" => {
                status = atol(value);
                if !(200..=599).contains(&status) {
                    return Err(format!("Unexpected status code '{status}'"));
                }
            }
            "content-type" => content_type = true,
            "errorfiles" => payload = Payload::Page,
            "errorfile" => payload = Payload::Message,
            "string" => payload = Payload::Raw(value.len()),
            "lf-string" => payload = Payload::Format(!value.is_empty()),
            // An unreadable file is reported as a missing file elsewhere.
            "file" => payload = Payload::Raw(file_len(value)),
            "lf-file" => payload = Payload::Format(file_len(value) > 0),
            _ => {}
        }
        i += 2;
    }
    let no_body = |len_or_set: bool| (status == 204 || status == 304) && len_or_set;
    match payload {
        Payload::Page if !STATUSES.iter().any(|&s| i64::from(s) == status) => Err(format!(
            "status code '{status}' not handled by default with '{}' argument.",
            payload_word.unwrap_or("default-errorfiles")
        )),
        Payload::Raw(len) if no_body(len > 0) => {
            Err(format!("No body expected for {status} responses"))
        }
        Payload::Raw(len) if len > 0 && !content_type => {
            Err("a content type must be defined when non-empty payload is configured".into())
        }
        Payload::Format(set) if no_body(set) => {
            Err(format!("No body expected for {status} responses"))
        }
        Payload::Format(true) if !content_type => {
            Err("a content type must be defined with a log-format payload".into())
        }
        _ => Ok(()),
    }
}

fn file_len(path: &str) -> usize {
    std::fs::metadata(path).map_or(0, |m| m.len() as usize)
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
}
