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

/// The target as the client wrote it (for `url`).
pub fn text(uri: &Uri, version: Version) -> String {
    AsWritten(uri, version).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

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
