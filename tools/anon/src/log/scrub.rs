//! The generic scrub for words of unknown meaning: addresses, emails, host names, long secrets and
//! the values of URIs are replaced wherever they sit in a line.

use super::words::{could_be_name, names_follow};
use super::{client, rsplit_byte, uri_into};
use crate::keyed::{looks_like_hostname, Anonymizer};

/// A token of unknown meaning: addresses, emails, host names and long secrets are replaced.
pub(crate) fn scrub_token(anon: &mut Anonymizer, t: &str) -> String {
    if t.is_empty() {
        return String::new();
    }
    if let Some(a) = anon.address_text(t) {
        return a;
    }
    if let Some(c) = client(anon, t) {
        return c;
    }
    if is_email(t) {
        return anon.email(t);
    }
    if host_like(t) {
        return anon.hostname(t);
    }
    // `host:port`, as a server or a resolver is often named in messages.
    if let Some((host, port)) = rsplit_byte(t, b':') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && host_like(host) {
            return format!("{}:{port}", anon.hostname(host));
        }
    }
    if t.len() >= 16
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
    {
        return anon.string(t);
    }
    t.to_string()
}

pub(super) fn is_email(t: &str) -> bool {
    t.contains('@')
        && t.rsplit_once('@')
            .is_some_and(|(u, d)| !u.is_empty() && looks_like_hostname(d))
}

/// A host name, with the underscores that names in DNS records and server names carry.
fn host_like(t: &str) -> bool {
    looks_like_hostname(t) || (t.contains('_') && looks_like_hostname(&t.replace('_', "-")))
}

/// Generic scrub for lines that are not HAProxy traffic logs.
pub(super) fn generic(anon: &mut Anonymizer, msg: &str, out: &mut String) {
    generic_with(anon, msg, out, &|_| false);
}

/// Generic scrub: URLs and paths with a query, wherever they start in a word (`uri=/a?b=c`,
/// `"q":"?user=x"`), are anonymized as URIs (path segments and query values replaced); in the
/// rest, every token that is an address, an email, a host name or a long secret is replaced,
/// every token `is_name` knows (the names of a configuration) and every other token that could
/// be a name (see [`could_be_name`]) gets its name's token; keys (`key=`, `"key":`) stay. The
/// word after `proxy`, `frontend`, `backend` or `listen`, and a `proxy/server` pair after
/// `server`, are names whatever they spell.
pub(crate) fn generic_with(
    anon: &mut Anonymizer,
    msg: &str,
    out: &mut String,
    is_name: &dyn Fn(&str) -> bool,
) {
    let mut previous = "";
    for (i, word) in msg.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let named = names_follow(previous, word);
        if !word.is_empty() {
            previous = word;
        }
        let mut rest = word;
        while let Some((start, end)) = embedded_uri(rest) {
            scrub_tokens(anon, &rest[..start], out, is_name, named);
            uri_into(anon, &rest[start..end], out);
            rest = &rest[end..];
        }
        scrub_tokens(anon, rest, out, is_name, named);
    }
}

/// The byte range of the first URI in `word` (no spaces): `scheme://…`, a path holding a query,
/// or a query alone (`?k=v`), starting the word or after a quote, `=`, `:` or bracket, and
/// ending at a quote, bracket or `|` (trailing punctuation left out).
fn embedded_uri(word: &str) -> Option<(usize, usize)> {
    let b = word.as_bytes();
    let boundary = |i: usize| i == 0 || b"=\"':([{<,".contains(&b[i - 1]);
    let end_from = |i: usize| {
        let end = word[i..]
            .find(['"', '\'', '<', '>', '{', '}', '|'])
            .map_or(word.len(), |n| i + n);
        i + word[i..end].trim_end_matches([',', ';', '.', ')']).len()
    };
    for i in 0..b.len() {
        match b[i] {
            b':' if word[i..].starts_with("://") => {
                let scheme = word[..i]
                    .bytes()
                    .rev()
                    .take_while(|c| c.is_ascii_alphanumeric() || b"+.-".contains(c))
                    .count();
                let start = i - scheme;
                if scheme > 0 && b[start].is_ascii_alphabetic() && boundary(start) {
                    return Some((start, end_from(start)));
                }
            }
            b'/' if boundary(i) && b.get(i + 1) != Some(&b'/') => {
                let end = end_from(i);
                if word[i..end].contains('?') {
                    return Some((i, end));
                }
            }
            b'?' if boundary(i) => {
                let end = end_from(i);
                if word[i..end].contains('=') {
                    return Some((i, end));
                }
            }
            _ => {}
        }
    }
    None
}

/// The tokens of `msg`, cut at separators (`/` included, so that `backend/server.name` loses
/// its server name too), each scrubbed; with `named`, every token but a placeholder (`<NOSRV>`)
/// is a name.
fn scrub_tokens(
    anon: &mut Anonymizer,
    msg: &str,
    out: &mut String,
    is_name: &dyn Fn(&str) -> bool,
    named: bool,
) {
    let mut start = 0;
    let bytes = msg.as_bytes();
    let is_sep = |b: u8| {
        b == b' '
            || b == b'\t'
            // A raw header block a sample logged unescaped ends each of its lines with CR.
            || b == b'\r'
            || b == b'"'
            || b == b'\''
            || b == b','
            || b == b';'
            || b == b'('
            || b == b')'
            || b == b'<'
            || b == b'>'
            || b == b'='
            || b == b'{'
            || b == b'}'
            || b == b'|'
            || b == b'/'
            || b == b'['
            || b == b']'
            || b == b'?'
            || b == b'&'
    };
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || is_sep(bytes[i]) {
            let token = &msg[start..i];
            let trimmed = token.trim_end_matches(['.', ':', '!']);
            let after = &bytes[i..];
            // `key=value`, `"key":value`: the key is the format's, not the traffic's.
            let key = after.starts_with(b"=") || after.starts_with(b"\":");
            let placeholder = start > 0 && bytes[start - 1] == b'<' && after.starts_with(b">");
            if !trimmed.is_empty() && (is_name(trimmed) || (named && !placeholder)) {
                anon.name_into(out, trimmed);
            } else {
                let scrubbed = scrub_token(anon, trimmed);
                if scrubbed == trimmed && !key && could_be_name(trimmed) {
                    anon.name_into(out, trimmed);
                } else {
                    out.push_str(&scrubbed);
                }
            }
            out.push_str(&token[trimmed.len()..]);
            if i < bytes.len() {
                out.push(bytes[i] as char);
            }
            start = i + 1;
        }
        i += 1;
    }
}
