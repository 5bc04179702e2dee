//! The replies a proxy makes itself, as configured: the `return`/`deny` rules' replies, the
//! `http-error` lines, and the per-status pages of a proxy (`errorfile`, `errorloc*`,
//! `errorfiles`) and of `http-errors` sections. Rendering them is `super::reply`'s work.

use crate::logfmt::Format;
use crate::sample::Unsupported;
use bytes::Bytes;
use hapee_compiler::bytestr;
use hapee_compiler::plan::errors::{ErrorPage, ErrorSection, ErrorSource};
use std::collections::HashMap;
use std::sync::Arc;

/// A reply built by `return` (and `deny`/`http-error` with their reply arguments).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ReplyBody,
    /// `hdr <name> <fmt>`: headers whose values are log-format strings (an empty value
    /// leaves the header out).
    pub headers: Vec<(String, Arc<Format>)>,
    /// Made by `deny`: the transaction ends as denied (`PR`), not as processed locally (`LR`).
    pub denial: bool,
}

#[derive(Debug, Clone)]
pub enum ReplyBody {
    /// No payload: the status with an empty body (`content-length: 0`).
    Empty,
    /// `string` or `file`: sent as it is.
    Text(Bytes),
    /// `lf-string` or `lf-file`: rendered per transaction.
    Format(Arc<Format>),
    /// `errorfile <file>`: a whole raw HTTP response; an empty one closes the connection
    /// without an answer.
    Message(Bytes),
    /// `default-errorfiles` (and a `deny` with no reply of its own): the proxy's page for
    /// the status.
    ProxyPage,
    /// `errorfiles <name>`: that `http-errors` section's page for the status (none: an
    /// empty reply).
    Section(String),
}

/// A proxy's own page for one status.
#[derive(Debug, Clone)]
pub enum Page {
    /// A whole raw HTTP response (an `errorfile`); empty: close without an answer.
    Message(Bytes),
    /// A reply made of parts (`http-error`).
    Reply(Arc<Reply>),
}

/// A proxy's pages by status.
pub type ErrorFiles = HashMap<u16, Page>;

/// The `http-errors` sections' pages, by section name.
pub type ErrorSections = HashMap<String, HashMap<u16, Bytes>>;

fn read(path: &str, what: &str) -> Result<Bytes, Unsupported> {
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|e| Unsupported(format!("{what} '{path}': {e}")))
}

/// Parses the reply words of a rule or an `http-error` line (`status`, `content-type`,
/// `string`, `lf-string`, `file`, `lf-file`, `errorfile`, `errorfiles`, `default-errorfiles`,
/// `hdr`), stopping at the first word that is none of them. With no payload word the reply
/// is empty.
pub fn parse(args: &[String], default_status: u16) -> Result<Reply, Unsupported> {
    let mut r = Reply {
        status: default_status,
        content_type: None,
        body: ReplyBody::Empty,
        headers: Vec::new(),
        denial: false,
    };
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).map_or("", String::as_str);
        match args[i].as_str() {
            "status" => r.status = v.parse().unwrap_or(default_status),
            "content-type" => r.content_type = Some(v.to_string()),
            "string" => r.body = ReplyBody::Text(Bytes::from(bytestr::into_bytes(v.to_string()))),
            "lf-string" => r.body = ReplyBody::Format(Arc::new(Format::parse(v)?)),
            "file" => r.body = ReplyBody::Text(read(v, "reply file")?),
            "lf-file" => {
                let text = String::from_utf8_lossy(&read(v, "reply file")?).into_owned();
                r.body = ReplyBody::Format(Arc::new(Format::parse(&text)?));
            }
            "errorfile" => r.body = ReplyBody::Message(read(v, "errorfile")?),
            "errorfiles" => r.body = ReplyBody::Section(v.to_string()),
            "default-errorfiles" => {
                r.body = ReplyBody::ProxyPage;
                i += 1;
                continue;
            }
            "hdr" => {
                let value = args.get(i + 2).map_or("", String::as_str);
                // HAProxy computes these itself and ignores them here.
                if !["content-length", "transfer-encoding", "content-type"]
                    .iter()
                    .any(|h| v.eq_ignore_ascii_case(h))
                {
                    r.headers
                        .push((v.to_string(), Arc::new(Format::parse(value)?)));
                }
                i += 3;
                continue;
            }
            _ => break,
        }
        i += 2;
    }
    // A page from files keeps its own head: the content type and headers are ignored.
    if matches!(
        r.body,
        ReplyBody::Message(_) | ReplyBody::ProxyPage | ReplyBody::Section(_)
    ) {
        r.content_type = None;
        r.headers.clear();
    }
    Ok(r)
}

/// Parses the arguments of `deny` (and `tarpit`): alone or with only `deny_status`, the
/// proxy's page for the status; otherwise a reply, `deny_status` standing for `status`.
pub fn parse_deny(args: &[String], default_status: u16) -> Result<Reply, Unsupported> {
    let mut words: Vec<String> = args.to_vec();
    let bare = match words.first().map(String::as_str) {
        None => true,
        Some("deny_status") => words.len() <= 2,
        Some(_) => false,
    };
    if let Some(first) = words.first_mut().filter(|w| *w == "deny_status") {
        *first = "status".to_string();
    }
    if bare {
        words.push("default-errorfiles".to_string());
    }
    Ok(Reply {
        denial: true,
        ..parse(&words, default_status)?
    })
}

/// The `http-errors` sections' pages, read from their files.
pub fn load_sections(sections: &[ErrorSection]) -> Result<ErrorSections, Unsupported> {
    let mut out = ErrorSections::new();
    for s in sections {
        let mut pages = HashMap::new();
        for (status, file) in &s.files {
            pages.insert(*status, read(file, "errorfile")?);
        }
        out.insert(s.name.clone(), pages);
    }
    Ok(out)
}

/// The raw response of `errorloc*`: a redirect to `url`.
fn location(code: u16, url: &str) -> Bytes {
    let reason = if code == 303 { "See Other" } else { "Found" };
    Bytes::from(format!(
        "HTTP/1.1 {code} {reason}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: {url}\r\n\r\n"
    ))
}

/// A proxy's pages, read from their files.
pub fn load_pages(pages: &[ErrorPage]) -> Result<ErrorFiles, Unsupported> {
    let mut out = ErrorFiles::new();
    for p in pages {
        let page = match &p.source {
            ErrorSource::File(file) => Page::Message(read(file, "errorfile")?),
            ErrorSource::Location { code, url } => Page::Message(location(*code, url)),
            ErrorSource::Reply(words) => {
                let r = parse(words, p.status)?;
                match r.body {
                    ReplyBody::Message(raw) => Page::Message(raw),
                    _ => Page::Reply(Arc::new(r)),
                }
            }
        };
        out.insert(p.status, page);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn deny_alone_or_with_a_status_uses_the_proxy_page() {
        let r = parse_deny(&words("deny_status 400"), 403).unwrap();
        assert_eq!(r.status, 400);
        assert!(matches!(r.body, ReplyBody::ProxyPage));
        let r = parse_deny(&[], 403).unwrap();
        assert_eq!(r.status, 403);
        assert!(matches!(r.body, ReplyBody::ProxyPage));
        let r = parse_deny(&words("deny_status 404 errorfiles e1"), 403).unwrap();
        assert_eq!(r.status, 404);
        assert!(matches!(r.body, ReplyBody::Section(ref n) if n == "e1"));
    }

    #[test]
    fn a_reply_stops_at_its_last_word_and_drops_computed_headers() {
        let r = parse(
            &words("status 500 hdr x-a %[path] hdr content-length 3 content-type text/plain string hi if"),
            200,
        )
        .unwrap();
        assert_eq!(r.status, 500);
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.content_type.as_deref(), Some("text/plain"));
        assert!(matches!(r.body, ReplyBody::Text(ref t) if t == "hi"));
        let r = parse(&words("status 404"), 200).unwrap();
        assert!(matches!(r.body, ReplyBody::Empty));
    }
}
