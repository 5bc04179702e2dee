//! The HTTP cache: real origins whose responses the test scripts, a real
//! proxy, curl and raw sockets; where Debian's haproxy runs the same configuration, the same
//! requests must give the same answers.

use crate::harness::*;
use crate::scripted_origin::*;
use std::net::SocketAddr;
use std::time::Duration;

pub(crate) const CACHE_SECTION: &str = "cache c1
    total-max-size 4
    max-age 20
    max-object-size 100000
";

pub(crate) fn cache_config(port: u16, origin: SocketAddr, extra: &str, cache: &str) -> String {
    format!(
        "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    http-request cache-use c1
    server s1 {origin}
    http-response cache-store c1
    http-response set-header X-Cache-Hit %[res.cache_hit]
    http-response set-header X-Cache-Name %[res.cache_name]
{extra}
{cache}"
    )
}

/// Two identical requests for `path` (with `headers`): whether the second came from the
/// cache, by the origin's count.
pub(crate) fn second_is_cached(port: u16, origin: &Scripted, path: &str, headers: &[&str]) -> bool {
    let before = origin.hits();
    exchange(port, path, headers);
    exchange(port, path, headers);
    origin.hits() - before == 1
}

/// What is cached, and what not, as the cases go: hapee, then Debian's haproxy on the same
/// configuration, must agree on every case.
#[test]
fn what_is_cached_follows_haproxys_rules() {
    let cases: &[(&str, &[&str], bool)] = &[
        ("/a?h=cache-control:max-age%3D60", &[], true),
        ("/b?h=cache-control:no-cache", &[], false),
        ("/c?h=cache-control:private", &[], false),
        ("/d?h=cache-control:no-store", &[], false),
        ("/e?h=cache-control:max-age%3D60&status=201", &[], false),
        (
            "/f?h=cache-control:max-age%3D60",
            &["Authorization: Basic eDp5"],
            false,
        ),
        (
            "/g?h=cache-control:max-age%3D60&h=vary:accept-encoding",
            &[],
            false,
        ),
        ("/h?h=etag:%22v1%22", &[], true),
        (
            "/i?h=cache-control:max-age%3D60",
            &["Cache-Control: no-cache"],
            false,
        ),
        (
            "/j?h=cache-control:max-age%3D60&h=pragma:no-cache",
            &[],
            false,
        ),
        ("/k?h=cache-control:max-age%3D60&h=age:100", &[], false),
        ("/l?h=cache-control:max-age%3D60&size=200000", &[], false),
        (
            "/m?h=cache-control:max-age%3D60&chunked=1&size=3000",
            &[],
            true,
        ),
        (
            "/n?h=cache-control:max-age%3D60",
            &["Pragma: no-cache"],
            false,
        ),
        (
            "/o?h=expires:Thu,%2001%20Jan%201970%2000:00:00%20GMT",
            &[],
            false,
        ),
        ("/p", &[], false),
        (
            "/q?h=last-modified:Thu,%2001%20Jan%201970%2000:00:00%20GMT",
            &[],
            true,
        ),
        (
            "/r?h=cache-control:max-age%3D60&h=set-cookie:a%3Db",
            &[],
            true,
        ),
        (
            "/s?h=cache-control:max-age%3D60,%20no-cache%3D%22set-cookie%22",
            &[],
            false,
        ),
    ];
    let run = |port: u16, origin: &Scripted| -> Vec<bool> {
        cases
            .iter()
            .map(|(path, headers, _)| second_is_cached(port, origin, path, headers))
            .collect()
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| cache_config(port, origin.addr, "", CACHE_SECTION),
        run,
    );
    let expected: Vec<bool> = cases.iter().map(|c| c.2).collect();
    assert_eq!(ours, expected, "{cases:?}");
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy disagree on {cases:?}");
    }
}

/// `res.cache_hit` and `res.cache_name` on a miss then a hit, as HAProxy renders them.
#[test]
fn the_cache_fetches_render_as_haproxys() {
    let drive = |port: u16| -> Vec<(Option<String>, Option<String>)> {
        (0..2)
            .map(|_| {
                let (_, h, _) = exchange(port, "/fetch?h=cache-control:max-age%3D60", &[]);
                (
                    h.get("x-cache-hit").cloned(),
                    h.get("x-cache-name").cloned(),
                )
            })
            .collect()
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| cache_config(port, origin.addr, "", CACHE_SECTION),
        |port, _| drive(port),
    );
    assert_eq!(ours[1], (Some("1".into()), Some("c1".into())));
    assert_eq!(ours[0].0.as_deref(), Some("0"));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// A request that skips the lookup (`Cache-Control: no-cache`) still fills the cache, as in
/// HAProxy; one with `no-store` does not.
#[test]
fn a_request_that_skips_the_lookup_still_fills_the_cache() {
    let drive = |port: u16, origin: &Scripted| -> usize {
        let path = "/skip?h=cache-control:max-age%3D60";
        exchange(port, path, &["Cache-Control: no-cache"]);
        exchange(port, path, &[]);
        exchange(port, path, &[]);
        let other = "/nostore?h=cache-control:max-age%3D60";
        exchange(port, other, &["Cache-Control: no-store"]);
        exchange(port, other, &[]);
        origin.hits()
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| cache_config(port, origin.addr, "", CACHE_SECTION),
        drive,
    );
    assert_eq!(ours, 3);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn hits_carry_age_and_the_cache_fetches_and_a_post_invalidates() {
    let origin = Scripted::start();
    let port = free_port();
    let _p = Proxy::start(&cache_config(port, origin.addr, "", CACHE_SECTION), port);
    let path = "/obj?h=cache-control:max-age%3D60&h=etag:%22e1%22";
    let (s1, h1, b1) = exchange(port, path, &[]);
    assert_eq!((s1, h1["x-cache-hit"].as_str()), (200, "0"));
    let (s2, h2, b2) = exchange(port, path, &[]);
    assert_eq!(s2, 200);
    assert_eq!(b1, b2, "the stored body");
    assert_eq!(h2["x-cache-hit"], "1");
    assert_eq!(h2["x-cache-name"], "c1");
    assert!(h2["age"].parse::<u32>().is_ok(), "{h2:?}");
    assert_eq!(h2["etag"], "\"e1\"");
    assert_eq!(origin.hits(), 1);
    // Conditional requests are answered 304 from the cache.
    let (s3, h3, b3) = exchange(port, path, &["If-None-Match: \"e1\""]);
    assert_eq!((s3, b3.len()), (304, 0), "{h3:?}");
    let (s4, _, _) = exchange(port, path, &["If-None-Match: \"other\""]);
    assert_eq!(s4, 200);
    let (s5, _, _) = exchange(
        port,
        path,
        &["If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT"],
    );
    assert_eq!(s5, 304);
    assert_eq!(origin.hits(), 1);
    // A HEAD is answered from the cache too, without a body.
    let (s6, h6, _) = exchange_method(port, "HEAD", path, &[]);
    assert_eq!((s6, h6["x-cache-hit"].as_str()), (200, "1"));
    // A successful POST to the URL drops what is stored for it.
    let (s7, _, _) = exchange_method(port, "POST", path, &["Content-Length: 0"]);
    assert_eq!(s7, 200);
    let before = origin.hits();
    let (_, h8, _) = exchange(port, path, &[]);
    assert_eq!(h8["x-cache-hit"], "0");
    assert_eq!(origin.hits(), before + 1);
}

#[test]
fn show_cache_lists_caches_and_entries() {
    let origin = Scripted::start();
    let port = free_port();
    let api = free_port();
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{api} level admin\n{}",
        cache_config(port, origin.addr, "", CACHE_SECTION)
    );
    let _p = Proxy::start(&cfg, port);
    exchange(port, "/listed?h=cache-control:max-age%3D60", &[]);
    let out = raw(api, b"show cache\n", Duration::from_secs(5));
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.contains(": c1 (shctx:") && first.contains("available blocks:"),
        "{out}"
    );
    let entry = lines.next().unwrap_or_default();
    let re = regex::Regex::new(
        r"^0x[0-9a-f]+ hash:\d+ vary:0x[0-9a-f]{40} size:\d+ \(\d+ blocks\), refcount:1, expire:(\d+)$",
    )
    .unwrap();
    let caps = re.captures(entry).unwrap_or_else(|| panic!("{out}"));
    let expire: u32 = caps[1].parse().unwrap();
    assert!(
        (15..=20).contains(&expire),
        "max-age 20 caps the entry: {out}"
    );
}

#[test]
fn vary_on_accept_encoding_keeps_one_variant_per_encoding() {
    let section = format!("{CACHE_SECTION}    process-vary on\n");
    let drive = |port: u16, origin: &Scripted| -> Vec<(String, usize)> {
        let gz = "/v?h=cache-control:max-age%3D60&h=vary:accept-encoding&h=content-encoding:gzip";
        let mut seen = Vec::new();
        for headers in [
            &["Accept-Encoding: gzip"][..],
            &["Accept-Encoding: br, gzip;q=0.5"][..],
            &["Accept-Encoding: br"][..],
            &["Accept-Encoding: deflate, gzip"][..],
        ] {
            let (_, h, _) = exchange(port, gz, headers);
            seen.push((h["x-cache-hit"].clone(), origin.hits()));
        }
        seen
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| cache_config(port, origin.addr, "", &section),
        drive,
    );
    assert_eq!(
        ours,
        [
            ("0".to_string(), 1),
            ("1".to_string(), 1),
            ("0".to_string(), 2),
            ("1".to_string(), 2)
        ]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}

/// An `Expires` set by a rule (`date` and `http_date`, as in HAProxy's own cache tests) gives
/// the freshness: in the future the response is served from the cache, in the past it is not.
#[test]
fn an_expires_set_by_a_rule_decides_freshness() {
    let cfg = |port: u16, origin: SocketAddr| {
        format!(
            "{DEFAULTS}
frontend fe
    bind 127.0.0.1:{port}
    use_backend past if {{ path_beg /past }}
    default_backend future
backend future
    http-request cache-use c1
    server s1 {origin}
    http-response set-header Expires %[date(5),http_date]
    http-response cache-store c1
backend past
    http-request cache-use c1
    server s1 {origin}
    http-response set-header Expires %[date(-1),http_date]
    http-response cache-store c1
{CACHE_SECTION}"
        )
    };
    let drive = |port: u16, origin: &Scripted| -> (bool, bool, bool) {
        let (_, h, _) = exchange(port, "/future/x", &[]);
        let parsed = h
            .get("expires")
            .is_some_and(|e| httpdate::parse_http_date(e).is_ok());
        (
            parsed,
            second_is_cached(port, origin, "/future/y", &[]),
            second_is_cached(port, origin, "/past/z", &[]),
        )
    };
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| cfg(port, origin.addr),
        drive,
    );
    assert_eq!(ours, (true, true, false));
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
}
