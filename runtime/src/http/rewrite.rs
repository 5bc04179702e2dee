//! Request URI rewrites: `set-pathq`, `replace-path`, `replace-pathq` and `replace-uri`. A
//! `replace-*` rule matches its regex against the part, and when it matches the whole part
//! becomes the rendered replacement with `\N` standing for the regex's groups (and `\xHH` for a
//! byte), as HAProxy replaces.

use crate::logfmt::Format;
use crate::sample::Unsupported;
use crate::txn::{RequestView, Txn};

/// The part of the request target a rewrite acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The path, without the query string.
    Path,
    /// The path with its query string.
    PathQuery,
    /// The whole target as written.
    Uri,
}

/// A compiled URI rewrite.
#[derive(Debug)]
pub struct UriRewrite {
    part: Part,
    /// `None`: the part is set to the rendered format.
    regex: Option<regex::Regex>,
    format: Format,
}

impl UriRewrite {
    /// `set-pathq <fmt>`.
    pub fn set(part: Part, format: &str) -> Result<UriRewrite, Unsupported> {
        Ok(UriRewrite {
            part,
            regex: None,
            format: Format::parse(format)?,
        })
    }

    /// `replace-path|replace-pathq|replace-uri <regex> <fmt>`.
    pub fn replace(part: Part, regex: &str, format: &str) -> Result<UriRewrite, Unsupported> {
        Ok(UriRewrite {
            part,
            regex: Some(regex::Regex::new(regex).map_err(|e| Unsupported(e.to_string()))?),
            format: Format::parse(format)?,
        })
    }

    pub fn run(&self, txn: &mut Txn) {
        let rendered = self.format.render(txn);
        let Some(req) = txn.request_line_to_rewrite() else {
            return;
        };
        // An absolute target written without a path has no path to match (HAProxy's `path`).
        let current = if self.part != Part::Uri && super::target::lacks_path(&req.uri, req.version)
        {
            String::new()
        } else {
            part_of(req, self.part)
        };
        let new = match &self.regex {
            None => rendered,
            Some(re) => {
                if current.is_empty() {
                    return;
                }
                let Some(groups) = re.captures(&current) else {
                    return;
                };
                expand(&rendered, &groups)
            }
        };
        if self.part == Part::Uri {
            set_target(txn, &new);
        } else {
            replace_path(req, self.part, &new);
        }
    }
}

/// `set-uri` and `replace-uri`: the whole target becomes `value`. One that names a host
/// (absolute or authority form) gives it to every Host line, as HAProxy's http_update_host
/// does. A value `Uri` cannot hold (`concat(/a/,b)`: neither an origin form nor an absolute
/// one, which HAProxy reads as an authority up to its first `/`) goes to the server as
/// written, the Host lines taking that authority all the same.
pub(crate) fn set_target(txn: &mut Txn, value: &str) {
    let Some(req) = txn.request_line_to_rewrite() else {
        return;
    };
    if let Ok(uri) = value.parse() {
        req.uri = uri;
        super::target::host_follows_authority(req);
        if let Some(rare) = txn.rare.as_deref_mut() {
            rare.unparsed_target = None;
        }
        return;
    }
    let connect = req.method == hyper::Method::CONNECT;
    if let Some(host) = super::target::authority_written(value.as_bytes(), connect) {
        if let Ok(host) = std::str::from_utf8(host) {
            super::target::host_becomes(req, host);
        }
    }
    let parsed = stand_in(value);
    req.uri = parsed.clone();
    txn.rare_mut().unparsed_target = Some(hyper::ext::RawTarget {
        raw: bytes::Bytes::copy_from_slice(&hapee_compiler::bytestr::to_bytes(value)),
        parsed,
    });
}

/// The `Uri` standing for a target it cannot hold: the same target with the bytes a client's
/// target may have and `Uri` refuses percent-encoded, else `/` with the target's query (a
/// later `set-path` then replaces all before the query, as HAProxy replaces a target whose
/// path it cannot find).
fn stand_in(value: &str) -> hyper::Uri {
    if let Some(uri) = hyper::ext::RawTarget::encoded(&hapee_compiler::bytestr::to_bytes(value)) {
        return uri;
    }
    value
        .find('?')
        .and_then(|q| format!("/{}", &value[q..]).parse().ok())
        .unwrap_or_else(|| hyper::Uri::from_static("/"))
}

pub(crate) fn part_of(req: &RequestView, part: Part) -> String {
    match part {
        Part::Path => req.uri.path().to_string(),
        Part::PathQuery => req
            .uri
            .path_and_query()
            .map_or_else(|| req.uri.path().to_string(), |p| p.as_str().to_string()),
        Part::Uri => req.uri.to_string(),
    }
}

/// What `set-path`, `set-pathq` and their `replace-` forms write: `value` in place of the
/// path (see [`replace_part`]), except that an absolute target written without a path has
/// none for HAProxy to find, which then replaces the whole target (`GET http://a` with
/// `set-path /x` goes as `GET /x`).
pub(crate) fn replace_path(req: &mut RequestView, part: Part, value: &str) {
    if part != Part::Uri && super::target::lacks_path(&req.uri, req.version) {
        if let Ok(uri) = value.parse() {
            req.uri = uri;
        }
        return;
    }
    replace_part(req, part, value);
}

/// Puts `value` in place of the path (with or without the query), keeping the scheme and
/// authority of an absolute target (and the query string when only the path changes).
pub(crate) fn replace_part(req: &mut RequestView, part: Part, value: &str) {
    let target = match part {
        Part::Uri => value.to_string(),
        Part::Path | Part::PathQuery => {
            let mut path_query = value.to_string();
            if part == Part::Path {
                if let Some(q) = req.uri.query() {
                    path_query.push('?');
                    path_query.push_str(q);
                }
            }
            match (req.uri.scheme_str(), req.uri.authority()) {
                (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{path_query}"),
                _ => path_query,
            }
        }
    };
    if let Ok(uri) = target.parse() {
        req.uri = uri;
    }
}

/// The replacement with its `\N` group references and `\xHH` bytes expanded; any other
/// escaped character stands for itself.
fn expand(template: &str, groups: &regex::Captures<'_>) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(template.len());
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let c = bytes[i + 1];
        if c.is_ascii_digit() {
            if let Some(m) = groups.get(usize::from(c - b'0')) {
                out.extend_from_slice(m.as_str().as_bytes());
            }
            i += 2;
        } else if c == b'x' && i + 3 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap_or("");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(c);
            i += 2;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_part_becomes_the_expanded_replacement() {
        let re = regex::Regex::new("/foo/(.*)").unwrap();
        let groups = re.captures("/a/foo/bar").unwrap();
        assert_eq!(expand("/\\1", &groups), "/bar");
        assert_eq!(expand("/x\\x41\\\\\\9", &groups), "/xA\\");
    }
}
