//! What may be served from a cache and what may be stored, and for how long (sans-I/O): the
//! request and response rules of HAProxy 2.7's cache, from headers alone.

use hyper::header::HeaderMap;
use hyper::{Method, Version};
use std::time::{SystemTime, UNIX_EPOCH};

/// Ages are capped where HAProxy caps them (2^31 seconds).
const MAX_AGE_CAP: u64 = 1 << 31;

/// What the request allows: answering it from the cache (`lookup`), and storing its response
/// (`store`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestPolicy {
    pub lookup: bool,
    pub store: bool,
}

/// The comma-separated elements of every occurrence of a header, trimmed.
pub fn elements<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The request's side: only GET and HEAD in HTTP/1.1 or later are looked up; an
/// `Authorization` header keeps the cache out entirely; `Cache-Control: max-age|no-cache|
/// max-stale|min-fresh` (or `Pragma: no-cache` without any Cache-Control) skips the lookup;
/// `no-store` forbids storing.
pub fn request(method: &Method, version: Version, headers: &HeaderMap) -> RequestPolicy {
    // Safe methods may have their response stored (RFC 9111 §4, HAProxy's TX_CACHEABLE).
    let safe = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let mut p = RequestPolicy {
        lookup: version >= Version::HTTP_11 && matches!(*method, Method::GET | Method::HEAD),
        store: safe,
    };
    if headers.contains_key(hyper::header::AUTHORIZATION) {
        return RequestPolicy {
            lookup: false,
            store: false,
        };
    }
    let pragma_no_cache = headers
        .get(hyper::header::PRAGMA)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("no-cache"));
    let mut has_cache_control = false;
    for d in elements(headers, "cache-control") {
        has_cache_control = true;
        if ["max-age", "no-cache", "max-stale", "min-fresh"]
            .iter()
            .any(|p| starts_with_ignore_case(d, p))
        {
            p.lookup = false;
        } else if starts_with_ignore_case(d, "no-store") {
            p.store = false;
        }
    }
    if pragma_no_cache && !has_cache_control {
        p.lookup = false;
    }
    p
}

/// Whether a response may be stored, from its Cache-Control and Pragma directives:
/// `private`, `no-cache`, `no-store`, `max-age=0`, `s-maxage=0` and `Pragma: no-cache` forbid
/// it, `no-cache="set-cookie"` too; `public` allows it again.
pub fn response_storable(status: u16, headers: &HeaderMap) -> bool {
    if status < 200 {
        return false;
    }
    let pragma_no_cache = headers
        .get(hyper::header::PRAGMA)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("no-cache"));
    if pragma_no_cache {
        return false;
    }
    let mut storable = true;
    for d in elements(headers, "cache-control") {
        let lower = d.to_ascii_lowercase();
        match lower.as_str() {
            "public" => storable = true,
            "private" | "no-cache" | "no-store" | "max-age=0" | "s-maxage=0" => storable = false,
            _ if lower.starts_with("no-cache=\"set-cookie") => storable = false,
            _ => {}
        }
    }
    storable
}

/// A directive's numeric value (`max-age=20`, `s-maxage="20"`): `Err` when it is malformed.
fn directive_seconds(directive: &str, name: &str) -> Option<Result<u64, ()>> {
    if !starts_with_ignore_case(directive, name) {
        return None;
    }
    let rest = directive[name.len()..].strip_prefix('=')?;
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(digits.parse().map_err(|_| ()))
}

/// How long a response stays fresh: `(effective, announced)` in seconds. The announced age
/// comes from `s-maxage`, then `max-age`, then `Expires` (a date not understood counts as
/// already expired); the effective one never exceeds the cache's `max-age`, which also applies
/// when the response says nothing. `None`: a malformed directive (not stored).
pub fn max_age(headers: &HeaderMap, cache_max_age: u64, now: SystemTime) -> Option<(u64, u64)> {
    let mut s_maxage = None;
    let mut maxage = None;
    for d in elements(headers, "cache-control") {
        if let Some(v) = directive_seconds(d, "s-maxage") {
            s_maxage = Some(v.ok()?);
        } else if let Some(v) = directive_seconds(d, "max-age") {
            maxage = Some(v.ok()?);
        }
    }
    let expires = if s_maxage.is_none() && maxage.is_none() {
        headers.get(hyper::header::EXPIRES).map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| httpdate::parse_http_date(s).ok())
                .map_or(0, |at| at.duration_since(now).map_or(0, |d| d.as_secs()))
        })
    } else {
        None
    };
    let announced = s_maxage
        .filter(|&v| v > 0)
        .or(maxage.filter(|&v| v > 0))
        .or(expires);
    Some(match announced {
        Some(a) => (a.min(cache_max_age), a),
        None => (cache_max_age, cache_max_age),
    })
}

/// An `Age` header HAProxy's cache does not accept: not a positive number of seconds.
#[derive(Debug, PartialEq, Eq)]
pub struct BadAge;

/// The response's `Age`: `Ok(None)` without one, `Err` when it cannot be read (not stored).
pub fn age(headers: &HeaderMap) -> Result<Option<u64>, BadAge> {
    match headers.get(hyper::header::AGE) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().map_err(|_| BadAge)?;
            let n: i64 = text.trim().parse().map_err(|_| BadAge)?;
            if n <= 0 {
                return Err(BadAge);
            }
            Ok(Some((n as u64).min(MAX_AGE_CAP)))
        }
    }
}

/// Seconds since the epoch.
pub fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn date_header(headers: &HeaderMap, name: hyper::header::HeaderName) -> Option<u64> {
    let v = headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(v).ok().map(epoch)
}

/// The date a later `If-Modified-Since` is compared to: `Last-Modified`, else `Date`, else
/// when the response arrived.
pub fn last_modified(headers: &HeaderMap, now: SystemTime) -> u64 {
    date_header(headers, hyper::header::LAST_MODIFIED)
        .or_else(|| date_header(headers, hyper::header::DATE))
        .unwrap_or_else(|| epoch(now))
}

/// Whether a response says how long it stays fresh (`max-age`, `s-maxage`, `Expires`) or how
/// to revalidate it (`ETag`, `Last-Modified`): one with neither is not stored (RFC 9111 §3).
pub fn has_freshness_or_validator(headers: &HeaderMap) -> bool {
    elements(headers, "cache-control")
        .any(|d| starts_with_ignore_case(d, "s-maxage") || starts_with_ignore_case(d, "max-age"))
        || headers.contains_key(hyper::header::EXPIRES)
        || headers.contains_key(hyper::header::ETAG)
        || headers.contains_key(hyper::header::LAST_MODIFIED)
}

/// Compares two entity tags weakly (RFC 9110 §8.8.3.2): equal once any `W/` is dropped.
fn etags_match_weakly(a: &str, b: &str) -> bool {
    let strip = |t: &str| t.trim().strip_prefix("W/").unwrap_or(t.trim()).to_string();
    let (a, b) = (strip(a), strip(b));
    a.len() >= 2 && a.starts_with('"') && a.ends_with('"') && a == b
}

/// Whether a conditional request is answered `304 Not Modified` from a stored response with
/// this ETag and modification date: `If-None-Match` (`*`, or a tag matching weakly) decides
/// when present, else `If-Modified-Since` at or after the stored date.
pub fn not_modified(request: &HeaderMap, etag: Option<&str>, last_modified: u64) -> bool {
    let mut if_none_match = false;
    for tag in elements(request, "if-none-match") {
        if_none_match = true;
        if tag == "*" {
            return true;
        }
        if etag.is_some_and(|e| etags_match_weakly(e, tag)) {
            return true;
        }
    }
    if if_none_match {
        return false;
    }
    date_header(request, hyper::header::IF_MODIFIED_SINCE)
        .is_some_and(|since| last_modified <= since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers as h;

    #[test]
    fn lookups_need_a_safe_http11_request_without_authorization() {
        let get = request(&Method::GET, Version::HTTP_11, &h(&[]));
        assert_eq!(
            get,
            RequestPolicy {
                lookup: true,
                store: true
            }
        );
        assert!(!request(&Method::GET, Version::HTTP_10, &h(&[])).lookup);
        assert!(!request(&Method::POST, Version::HTTP_11, &h(&[])).store);
        let auth = request(
            &Method::GET,
            Version::HTTP_11,
            &h(&[("authorization", "x")]),
        );
        assert_eq!(
            auth,
            RequestPolicy {
                lookup: false,
                store: false
            }
        );
        let no_cache = request(
            &Method::GET,
            Version::HTTP_11,
            &h(&[("cache-control", "no-cache")]),
        );
        assert_eq!(
            no_cache,
            RequestPolicy {
                lookup: false,
                store: true
            }
        );
        let no_store = request(
            &Method::GET,
            Version::HTTP_11,
            &h(&[("cache-control", "no-store")]),
        );
        assert_eq!(
            no_store,
            RequestPolicy {
                lookup: true,
                store: false
            }
        );
        assert!(
            !request(
                &Method::GET,
                Version::HTTP_11,
                &h(&[("pragma", "no-cache")])
            )
            .lookup
        );
        let both = h(&[("pragma", "no-cache"), ("cache-control", "public")]);
        assert!(request(&Method::GET, Version::HTTP_11, &both).lookup);
    }

    #[test]
    fn response_directives_decide_storage() {
        assert!(response_storable(
            200,
            &h(&[("cache-control", "max-age=5")])
        ));
        assert!(!response_storable(
            200,
            &h(&[("cache-control", "no-cache")])
        ));
        assert!(!response_storable(
            200,
            &h(&[("cache-control", "max-age=5, private")])
        ));
        assert!(!response_storable(200, &h(&[("pragma", "no-cache")])));
        assert!(!response_storable(
            200,
            &h(&[("cache-control", "no-cache=\"Set-Cookie\"")])
        ));
        assert!(response_storable(
            200,
            &h(&[("cache-control", "no-store, public")])
        ));
        assert!(!response_storable(100, &h(&[])));
    }

    #[test]
    fn max_age_prefers_s_maxage_then_max_age_then_expires() {
        let now = SystemTime::now();
        let cc = h(&[("cache-control", "max-age=30, s-maxage=10")]);
        assert_eq!(max_age(&cc, 20, now), Some((10, 10)));
        assert_eq!(
            max_age(&h(&[("cache-control", "max-age=30")]), 20, now),
            Some((20, 30))
        );
        assert_eq!(max_age(&h(&[]), 20, now), Some((20, 20)));
        let past = h(&[("expires", "Thu, 01 Jan 1970 00:00:00 GMT")]);
        assert_eq!(max_age(&past, 20, now), Some((0, 0)));
        assert_eq!(max_age(&h(&[("expires", "junk")]), 20, now), Some((0, 0)));
        let future = httpdate::fmt_http_date(now + std::time::Duration::from_secs(100));
        let mut m = HeaderMap::new();
        m.insert("expires", future.parse().unwrap());
        let (eff, announced) = max_age(&m, 1000, now).unwrap();
        assert!((98..=100).contains(&announced) && eff == announced);
        assert_eq!(
            max_age(&h(&[("cache-control", "max-age=x")]), 20, now),
            None
        );
    }

    #[test]
    fn conditional_requests_compare_etags_weakly_and_dates() {
        let etag = Some("\"abc\"");
        assert!(not_modified(
            &h(&[("if-none-match", "\"x\", W/\"abc\"")]),
            etag,
            0
        ));
        assert!(!not_modified(&h(&[("if-none-match", "\"x\"")]), etag, 0));
        assert!(not_modified(&h(&[("if-none-match", "*")]), None, 0));
        // If-None-Match decides alone when present.
        let both = h(&[
            ("if-none-match", "\"x\""),
            ("if-modified-since", "Thu, 01 Jan 2099 00:00:00 GMT"),
        ]);
        assert!(!not_modified(&both, etag, 0));
        let since = h(&[("if-modified-since", "Thu, 01 Jan 1970 00:01:40 GMT")]);
        assert!(not_modified(&since, None, 100));
        assert!(!not_modified(&since, None, 101));
    }

    #[test]
    fn a_bad_age_forbids_storage() {
        assert_eq!(age(&h(&[])), Ok(None));
        assert_eq!(age(&h(&[("age", "12")])), Ok(Some(12)));
        assert_eq!(age(&h(&[("age", "x")])), Err(BadAge));
        assert_eq!(age(&h(&[("age", "0")])), Err(BadAge));
    }
}
