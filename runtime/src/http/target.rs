//! A request target as the client wrote it. `Uri` gives an absolute-form target without a
//! path (`GET http://a`) the path `/` and prints it `http://a/`; HAProxy sees no path there
//! (`path` fails, `base` is the host alone), and logs `http://a` unchanged.

use hyper::{Uri, Version};

/// Whether `uri`, the target of a request in `version`, is an HTTP/1 absolute-form target
/// with nothing after its authority.
///
/// Parsing one gives it a `/` of the `http` crate's own, where a `/` the client wrote is
/// read from the request's bytes, right after the authority's. Only HTTP/1 targets are
/// parsed whole (rewritten ones too: the rules' new targets are parsed from text); an
/// HTTP/2 or HTTP/3 target is put together from its pseudo-headers, and always has a path.
pub fn lacks_path(uri: &Uri, version: Version) -> bool {
    if version > Version::HTTP_11 || uri.scheme().is_none() {
        return false;
    }
    let (Some(authority), Some(pq)) = (uri.authority(), uri.path_and_query()) else {
        return false;
    };
    let authority = authority.as_str();
    pq.as_str() == "/" && authority.as_ptr().wrapping_add(authority.len()) != pq.as_str().as_ptr()
}

/// The path (with its query) of a request target, as HAProxy's http_parse_path finds it:
/// an origin-form target whole, an absolute one after its authority, nothing for `*` or an
/// authority-form target.
pub fn path_of(target: &[u8]) -> &[u8] {
    match target.first() {
        None | Some(b'*') => return &[],
        Some(b'/') => return target,
        _ => {}
    }
    let Some(scheme_end) = target.windows(3).position(|w| w == b"://") else {
        return &[];
    };
    let authority = &target[scheme_end + 3..];
    let end = authority
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(authority.len());
    &authority[end..]
}

/// The target as the client wrote it (for `url`).
pub fn text(uri: &Uri, version: Version) -> String {
    AsWritten(uri, version).to_string()
}

/// A target as the request line holds it: the client's own bytes when `Uri` could not hold
/// them (see `hyper::ext::RawTarget`) and no rule changed it since.
pub fn written(txn: &crate::txn::Txn, uri: &Uri, version: Version) -> String {
    match &txn.raw_target {
        Some(raw) if raw.parsed == *uri => String::from_utf8_lossy(&raw.raw).into_owned(),
        _ => text(uri, version),
    }
}

/// Prints a target as the client wrote it (see [`lacks_path`]), without a string of its own.
pub struct AsWritten<'a>(pub &'a Uri, pub Version);

impl std::fmt::Display for AsWritten<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let AsWritten(uri, version) = *self;
        if !lacks_path(uri, version) {
            return std::fmt::Display::fmt(uri, f);
        }
        // Nothing follows the authority: `Uri` would add a `/`.
        let scheme = uri.scheme_str().unwrap_or_default();
        let authority = uri.authority().map_or("", |a| a.as_str());
        write!(f, "{scheme}://{authority}")
    }
}

/// Keeps a target as written in step with its `Uri` when the checks changed the latter's
/// authority (a default port dropped): the written bytes after the authority stay as they
/// came, after the new scheme and authority.
#[inline(never)]
pub fn renormalized(raw: &mut hyper::ext::RawTarget, before: &Uri, after: &Uri) {
    if before == after {
        return;
    }
    let prefix = |u: &Uri| match (u.scheme_str(), u.authority()) {
        (Some(s), Some(a)) => format!("{s}://{a}"),
        _ => String::new(),
    };
    let (old, new) = (prefix(before), prefix(after));
    let Some(rest) = raw.raw.get(old.len()..) else {
        return;
    };
    let mut text = new.into_bytes();
    text.extend_from_slice(rest);
    raw.raw = text.into();
    raw.parsed = after.clone();
}

/// The host an absolute-form or authority-form target names: its authority without a
/// `user@` part, as HAProxy reads it to compare with or to set the Host header.
pub fn host_of(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    Some(
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host),
    )
}

/// `uri` naming `host` in its authority (a `user@` part kept, the rest as written); `None`
/// when it has no authority (origin and asterisk forms) or names `host` already.
pub fn with_host(uri: &Uri, version: Version, host: &str) -> Option<Uri> {
    let authority = uri.authority()?.as_str();
    let current = host_of(uri)?;
    if current == host {
        return None;
    }
    let written = text(uri, version);
    let prefix = uri.scheme_str().map_or(0, |s| s.len() + 3);
    let rest = written.get(prefix + authority.len()..)?;
    let userinfo = &authority[..authority.len() - current.len()];
    format!("{}{userinfo}{host}{rest}", &written[..prefix])
        .parse()
        .ok()
}

/// After a rule wrote the request's Host header: an absolute-form or authority-form target
/// takes the last Host value as its authority, as HAProxy keeps the two in step (a server
/// reading the target then sees the new host too). The line as sent stays for the logs.
pub fn authority_follows_host(txn: &mut crate::txn::Txn) {
    let Some(req) = txn.request.as_ref() else {
        return;
    };
    let host = req.headers.get_all(hyper::header::HOST).iter().next_back();
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return;
    };
    let Some(uri) = with_host(&req.uri, req.version, host) else {
        return;
    };
    if let Some(req) = txn.request_line_to_rewrite() {
        req.uri = uri;
    }
}

/// After a rule replaced the whole target: when the new one names a host (absolute or
/// authority form), every Host line takes it, as HAProxy updates Host from a new target's
/// authority. An origin-form target leaves Host as it is.
pub fn host_follows_authority(req: &mut crate::txn::RequestView) {
    if let Some(host) = host_of(&req.uri).map(str::to_owned) {
        host_becomes(req, &host);
    }
}

/// The authority HAProxy finds in a target that is neither empty, `*` nor an origin form:
/// for a CONNECT the whole target; otherwise what follows a `scheme://` (when there is one)
/// up to the first `/`, without a `user@` part. `None` for the other forms and for an empty
/// authority.
pub fn authority_written(target: &[u8], connect: bool) -> Option<&[u8]> {
    match target.first() {
        None | Some(b'/') => return None,
        Some(b'*') if target.len() == 1 => return None,
        _ if connect => return Some(target),
        _ => {}
    }
    let name = target
        .iter()
        .skip(1)
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .map_or(target.len(), |n| n + 1);
    let rest = match &target[name..] {
        [b':', b'/', b'/', rest @ ..] if target[0].is_ascii_alphabetic() => rest,
        _ => target,
    };
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let authority = &rest[..end];
    let start = authority
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(0, |at| at + 1);
    Some(&authority[start..]).filter(|a| !a.is_empty())
}

/// Every Host line of the request (when it has some) takes `host`.
pub fn host_becomes(req: &mut crate::txn::RequestView, host: &str) {
    let Ok(value) = hyper::header::HeaderValue::from_str(host) else {
        return;
    };
    if req.headers.contains_key(hyper::header::HOST) {
        let count = req.headers.get_all(hyper::header::HOST).iter().count();
        let values = vec![value; count];
        super::header_order::replace_all(&mut req.headers, &hyper::header::HOST, values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_host_becomes_the_targets_authority() {
        let v11 = Version::HTTP_11;
        let at =
            |t: &str, host: &str| with_host(&t.parse().unwrap(), v11, host).map(|u| text(&u, v11));
        assert_eq!(
            at("http://a/x?q=1", "b:81").as_deref(),
            Some("http://b:81/x?q=1")
        );
        assert_eq!(at("http://a", "b").as_deref(), Some("http://b"));
        assert_eq!(at("http://u@a/", "b").as_deref(), Some("http://u@b/"));
        assert_eq!(at("a:443", "b:443").as_deref(), Some("b:443"));
        assert_eq!(at("/x", "b"), None);
        assert_eq!(at("*", "b"), None);
        assert_eq!(at("http://b/", "b"), None);
    }

    #[test]
    fn an_authority_is_found_as_haproxy_finds_it() {
        let of = |t: &str, connect: bool| {
            authority_written(t.as_bytes(), connect)
                .map(|a| String::from_utf8_lossy(a).into_owned())
        };
        assert_eq!(of("concat(/bu/,x)", false).as_deref(), Some("concat("));
        assert_eq!(of("http://u@a:81/x", false).as_deref(), Some("a:81"));
        assert_eq!(of("a:443", false).as_deref(), Some("a:443"));
        assert_eq!(of("a:443/x", true).as_deref(), Some("a:443/x"));
        assert_eq!(of("x?q", false).as_deref(), Some("x?q"));
        assert_eq!(of("/x", false), None);
        assert_eq!(of("*", false), None);
        assert_eq!(of("", false), None);
        assert_eq!(of("http:///x", false), None);
    }

    #[test]
    fn an_absolute_target_without_a_path_keeps_its_form() {
        let v11 = Version::HTTP_11;
        let bare: Uri = "http://a".parse().unwrap();
        let slash: Uri = "http://a/".parse().unwrap();
        assert!(lacks_path(&bare, v11));
        assert!(!lacks_path(&slash, v11));
        assert!(!lacks_path(&"http://a/x".parse().unwrap(), v11));
        assert!(!lacks_path(&"/".parse().unwrap(), v11));
        assert!(!lacks_path(&bare, Version::HTTP_2));
        assert_eq!(text(&bare, v11), "http://a");
        assert_eq!(text(&slash, v11), "http://a/");
        assert_eq!(format!("GET {} x", AsWritten(&bare, v11)), "GET http://a x");
    }
}
