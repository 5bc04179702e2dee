//! A request target as the client wrote it. `Uri` gives an absolute-form target without a
//! path (`GET http://a`) the path `/` and prints it `http://a/`; HAProxy sees no path there
//! (`path` fails, `base` is the host alone), and logs `http://a` unchanged.

use hyper::http::uri::PathAndQuery;
use hyper::Uri;

/// Whether `uri` is an absolute-form target with nothing after its authority.
pub fn lacks_path(uri: &Uri) -> bool {
    // `PathAndQuery`'s `as_str` and `path` give `/` for nothing as for `/`; its equality
    // compares what is stored, and only a parsed target can store nothing.
    static NOTHING: std::sync::LazyLock<Option<PathAndQuery>> =
        std::sync::LazyLock::new(|| Uri::from_static("http://a").path_and_query().cloned());
    uri.scheme().is_some()
        && uri
            .path_and_query()
            .is_some_and(|pq| NOTHING.as_ref() == Some(pq))
}

/// The target as the client wrote it (for `url`, `%r`, `%HU`, `%HP`).
pub fn text(uri: &Uri) -> String {
    AsWritten(uri).to_string()
}

/// Prints a target as the client wrote it, without a string of its own.
pub struct AsWritten<'a>(pub &'a Uri);

impl std::fmt::Display for AsWritten<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = self.0;
        if !lacks_path(uri) {
            return std::fmt::Display::fmt(uri, f);
        }
        // Nothing follows the authority (no path, no query): `Uri` would add a `/`.
        let scheme = uri.scheme_str().unwrap_or_default();
        let authority = uri.authority().map_or("", |a| a.as_str());
        write!(f, "{scheme}://{authority}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_target_without_a_path_keeps_its_form() {
        let bare: Uri = "http://a".parse().unwrap();
        let slash: Uri = "http://a/".parse().unwrap();
        assert!(lacks_path(&bare));
        assert!(!lacks_path(&slash));
        assert!(!lacks_path(&"/x".parse().unwrap()));
        assert_eq!(text(&bare), "http://a");
        assert_eq!(text(&slash), "http://a/");
    }
}
