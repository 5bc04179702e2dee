//! `http-request normalize-uri <normalizer>`: rewrites the request target into a canonical
//! form, with HAProxy's normalizers and their exact results (merging slashes, removing `.`
//! and `..` segments, sorting the query, percent-encoding case and unreserved characters).

use super::rewrite::{part_of, replace_part, Part};
use crate::sample::Unsupported;
use crate::txn::Txn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    MergeSlashes,
    StripDot,
    /// `full`: `..` segments above the root are dropped too.
    StripDotDot {
        full: bool,
    },
    QuerySortByName,
    /// `strict`: a `%` not followed by two hexadecimal digits makes the request invalid.
    PercentToUppercase {
        strict: bool,
    },
    PercentDecodeUnreserved {
        strict: bool,
    },
    FragmentStrip,
    FragmentEncode,
}

/// A malformed percent-encoding under `strict`: the request is refused with 400.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid;

impl Normalizer {
    pub fn compile(args: &[String]) -> Result<Normalizer, Unsupported> {
        let word = |i: usize| args.get(i).map_or("", String::as_str);
        let flag = |w: &str| word(1) == w;
        Ok(match word(0) {
            "path-merge-slashes" => Normalizer::MergeSlashes,
            "path-strip-dot" => Normalizer::StripDot,
            "path-strip-dotdot" => Normalizer::StripDotDot { full: flag("full") },
            "query-sort-by-name" => Normalizer::QuerySortByName,
            "percent-to-uppercase" => Normalizer::PercentToUppercase {
                strict: flag("strict"),
            },
            "percent-decode-unreserved" => Normalizer::PercentDecodeUnreserved {
                strict: flag("strict"),
            },
            "fragment-strip" => Normalizer::FragmentStrip,
            "fragment-encode" => Normalizer::FragmentEncode,
            other => return Err(Unsupported(format!("normalize-uri '{other}'"))),
        })
    }

    /// Normalizes the request's target in place.
    pub fn run(&self, txn: &mut Txn) -> Result<(), Invalid> {
        // An absolute target without a path (`GET http://host`) has none to normalize:
        // HAProxy's normalizers all leave it as it came, adding no `/`.
        if txn
            .request
            .as_ref()
            .is_some_and(|r| super::target::lacks_path(&r.uri, r.version))
        {
            return Ok(());
        }
        let Some(req) = txn.request_line_to_rewrite() else {
            return Ok(());
        };
        let path = part_of(req, Part::Path);
        // `*` (OPTIONS) has no path to normalize.
        if !path.starts_with('/') {
            return Ok(());
        }
        let pathq = part_of(req, Part::PathQuery);
        match *self {
            Normalizer::MergeSlashes => replace_part(req, Part::Path, &merge_slashes(&path)),
            Normalizer::StripDot => replace_part(req, Part::Path, &strip_dot(&path)),
            Normalizer::StripDotDot { full } => {
                replace_part(req, Part::Path, &strip_dotdot(&path, full))
            }
            Normalizer::QuerySortByName => {
                if let Some((p, q)) = pathq.split_once('?') {
                    replace_part(req, Part::PathQuery, &format!("{p}?{}", sort_query(q)));
                }
            }
            Normalizer::PercentToUppercase { strict } => {
                let new = percent(&pathq, strict, false)?;
                replace_part(req, Part::PathQuery, &new);
            }
            Normalizer::PercentDecodeUnreserved { strict } => {
                let new = percent(&pathq, strict, true)?;
                replace_part(req, Part::PathQuery, &new);
            }
            // The parsed target never carries a fragment: nothing is left to strip or encode.
            Normalizer::FragmentStrip => {
                if let Some((before, _)) = pathq.split_once('#') {
                    replace_part(req, Part::PathQuery, before);
                }
            }
            Normalizer::FragmentEncode => {
                if pathq.contains('#') {
                    replace_part(req, Part::PathQuery, &pathq.replace('#', "%23"));
                }
            }
        }
        Ok(())
    }
}

fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn strip_dot(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    let mut out = String::with_capacity(path.len());
    for (i, s) in segments.iter().enumerate() {
        if *s == "." {
            continue;
        }
        out.push_str(s);
        if i != last {
            out.push('/');
        }
    }
    out
}

/// Removes each `..` segment with the segment before it, scanning from the end as HAProxy
/// does; `..` segments above the root are kept unless `full`.
fn strip_dotdot(path: &str, full: bool) -> String {
    let p = path.as_bytes();
    let mut head: Vec<u8> = Vec::with_capacity(p.len());
    let mut offset = p.len() as isize - 1;
    let mut up = 0usize;
    let at = |o: isize, pat: &[u8]| o >= 0 && p[o as usize..].starts_with(pat);
    if offset >= 2 && at(offset - 2, b"/..") {
        up += 1;
        offset -= 2;
    }
    while offset >= 0 {
        if offset >= 3 && at(offset - 3, b"/../") {
            up += 1;
            offset -= 3;
            continue;
        }
        if up > 0 {
            offset -= 1;
            if offset >= 0 {
                up -= 1;
                while offset >= 0 && p[offset as usize] != b'/' {
                    offset -= 1;
                }
            }
        } else {
            head.push(p[offset as usize]);
            offset -= 1;
            while offset >= 0 && p[offset as usize] != b'/' {
                head.push(p[offset as usize]);
                offset -= 1;
            }
        }
    }
    if up > 0 {
        head.push(b'/');
        if !full {
            for _ in 0..up {
                head.extend_from_slice(b"../");
            }
        }
    }
    head.reverse();
    String::from_utf8_lossy(&head).into_owned()
}

/// The query's parameters sorted by name (stable: equal names keep their order).
fn sort_query(query: &str) -> String {
    let mut params: Vec<&str> = query.split('&').collect();
    params.sort_by(|a, b| {
        let name = |p: &str| p.split('=').next().unwrap_or("").as_bytes().to_vec();
        name(a).cmp(&name(b))
    });
    params.join("&")
}

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodings upper-cased, or (`decode`) those of unreserved characters decoded.
fn percent(text: &str, strict: bool, decode: bool) -> Result<String, Invalid> {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if i + 2 <= b.len() && b[i].is_ascii_hexdigit() && b[i + 1].is_ascii_hexdigit() {
            let (h1, h2) = (b[i], b[i + 1]);
            i += 2;
            let value = (hex(h1) << 4) | hex(h2);
            if decode {
                if unreserved(value) {
                    out.push(value);
                } else {
                    out.extend_from_slice(&[b'%', h1, h2]);
                }
            } else {
                out.extend_from_slice(&[b'%', h1.to_ascii_uppercase(), h2.to_ascii_uppercase()]);
            }
            continue;
        }
        if strict {
            return Err(Invalid);
        }
        out.push(c);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_haproxy_normalizes_them() {
        assert_eq!(merge_slashes("//a///b/"), "/a/b/");
        assert_eq!(strip_dot("/./a/./b/."), "/a/b/");
        assert_eq!(strip_dot("/a/.b/c"), "/a/.b/c");
        assert_eq!(strip_dotdot("/a/b/../c", false), "/a/c");
        assert_eq!(strip_dotdot("/a/..", false), "/");
        assert_eq!(strip_dotdot("/../a", false), "/../a");
        assert_eq!(strip_dotdot("/../a", true), "/a");
        assert_eq!(strip_dotdot("/a/../../b/../c", false), "/../c");
        assert_eq!(strip_dotdot("/a/b/..c/../d", false), "/a/b/d");
    }

    #[test]
    fn queries_and_percent_encodings() {
        assert_eq!(sort_query("b=2&a=1&a=0&c"), "a=1&a=0&b=2&c");
        assert_eq!(percent("/a%2fb%7e", false, false).unwrap(), "/a%2Fb%7E");
        assert_eq!(percent("/a%2fb%7e%41", false, true).unwrap(), "/a%2fb~A");
        assert_eq!(percent("/a%zz", false, false).unwrap(), "/a%zz");
        assert_eq!(percent("/a%zz", true, false), Err(Invalid));
        assert_eq!(percent("/a%4", true, true), Err(Invalid));
    }
}
