//! `option checkcache`: a response a shared cache could keep together with the server's
//! cookie is refused, side by side with Debian's haproxy (whose 2.6 has the later 2.7
//! releases' rule that a response with neither lifetime nor validator is not cacheable).

use crate::harness::*;
use crate::scripted_origin::*;

/// What the client got (status, whether it is the proxy's "Service ready." page, whether the
/// cookie reached it), for one request.
type Seen = (u16, bool, bool);

#[test]
fn responses_a_shared_cache_would_keep_with_a_cookie_are_refused() {
    let cookie = "h=set-cookie:id%3D42";
    let lifetime = "h=cache-control:max-age%3D60";
    let cases: Vec<(&str, String)> = vec![
        // A lifetime, a cookie: refused.
        ("GET", format!("/1?{cookie}&{lifetime}")),
        // Neither lifetime nor validator: no cache keeps it.
        ("GET", format!("/2?{cookie}")),
        // A validator is enough.
        ("GET", format!("/3?{cookie}&h=etag:%22v1%22")),
        // Private, or the cookie excluded: passes.
        (
            "GET",
            format!("/4?{cookie}&h=cache-control:private,max-age%3D60"),
        ),
        (
            "GET",
            format!("/5?{cookie}&h=cache-control:no-cache%3D%22set-cookie%22,max-age%3D60"),
        ),
        // An unsafe method, a status not cacheable by default, no cookie: passes.
        ("POST", format!("/6?{cookie}&{lifetime}")),
        ("GET", format!("/7?status=302&{cookie}&{lifetime}")),
        ("GET", format!("/8?{lifetime}")),
        // `public` after `private` makes it cacheable again.
        (
            "GET",
            format!("/9?{cookie}&h=cache-control:private&h=cache-control:public,max-age%3D9"),
        ),
    ];
    let drive = |port: u16, _: &Scripted, side: &Side| -> (Vec<Seen>, Vec<String>) {
        let seen = cases
            .iter()
            .map(|(method, path)| {
                let (status, h, body) = exchange_method(port, method, path, &[]);
                let page = String::from_utf8_lossy(&body).contains("Service ready.");
                (status, page, h.contains_key("set-cookie"))
            })
            .collect();
        // Nine access lines and the three alerts.
        // The start-up probe's line left out; of an access line, its status, termination
        // state and request line.
        let lines = side.selected(
            |out| {
                out.lines()
                    .filter(|l| !l.contains("<BADREQ>"))
                    .map(|l| match l.split_once('"') {
                        Some((fields, request)) => {
                            let w: Vec<&str> = fields.split_whitespace().collect();
                            let at = |i: usize| w.get(i).copied().unwrap_or("");
                            format!("{} {} {}", at(5), at(9), request.trim_end_matches('"'))
                        }
                        None => l.to_string(),
                    })
                    .collect::<Vec<_>>()
            },
            cases.len() + 3,
        );
        (seen, lines)
    };
    let (ours, theirs) = both_sides(
        1,
        Scripted::start,
        |port, origin| {
            format!(
                "global\n    log stdout format raw local0\n{DEFAULTS}    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    option checkcache\n    server s1 {}\n",
                origin.addr
            )
        },
        drive,
    );
    let refused = (200, true, false);
    let passed = (200, false, true);
    assert_eq!(
        ours.0,
        [
            refused,
            passed,
            refused,
            passed,
            passed,
            passed,
            (302, false, true),
            (200, false, false),
            refused
        ],
        "{:?}",
        ours.1
    );
    let alert = "Blocking cacheable cookie in response from instance be, server s1.";
    assert_eq!(
        ours.1.iter().filter(|l| *l == alert).count(),
        3,
        "{:?}",
        ours.1
    );
    assert!(
        ours.1
            .contains(&format!("200 PH-- GET /1?{cookie}&{lifetime} HTTP/1.1")),
        "{:?}",
        ours.1
    );
    assert!(
        ours.1
            .contains(&format!("200 ---- GET /2?{cookie} HTTP/1.1")),
        "{:?}",
        ours.1
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs.0, ours.0);
        let sorted = |mut l: Vec<String>| {
            l.sort();
            l
        };
        assert_eq!(sorted(theirs.1), sorted(ours.1));
    }
}

/// With `cookie … insert nocache`, the inserted cookie comes with `Cache-Control: private`:
/// nothing is refused then, even for a server cookie with a lifetime (HAProxy's order).
#[test]
fn a_nocache_insertion_makes_the_response_private_first() {
    let path = "/1?h=set-cookie:id%3D42&h=cache-control:max-age%3D60";
    let (ours, theirs) = both_with(
        Scripted::start,
        |port, origin| {
            format!(
                "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    option checkcache\n    cookie SRV insert nocache\n    server s1 {} cookie a\n",
                origin.addr
            )
        },
        |port, _| {
            let (status, h, _) = exchange(port, path, &[]);
            (status, h.get("cache-control").cloned())
        },
    );
    assert_eq!(ours.0, 200);
    assert!(
        ours.1.as_deref().is_some_and(|c| c.contains("private")),
        "{ours:?}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
}

/// `cookie … insert nocache` on a response with neither lifetime nor validator adds no
/// `Cache-Control: private`: no shared cache would keep it anyway. HAProxy 2.7.0 added it
/// (its cacheability check marked such a response "not to be stored" by the wrong flag); the
/// fix (BUG/MINOR "cache: Cache response even if request has no-cache directive", mainline
/// 879debeec) went into the 2.7 branch and back to 2.4, so the later 2.7 releases and Debian's
/// 2.6 answer so, and hapee follows them. With a 2.7.0 build present, its old answer is
/// checked too, as the differential traffic check sees it.
#[test]
fn a_nocache_insertion_leaves_a_response_without_lifetime_alone() {
    let cfg = |port: u16, origin: &Scripted| {
        format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    cookie SRV insert nocache\n    server s1 {} cookie a\n",
            origin.addr
        )
    };
    let drive = |port: u16, _: &Scripted| {
        ["/1", "/2?h=etag:%22v1%22"]
            .iter()
            .map(|path| {
                let (status, h, _) = exchange(port, path, &[]);
                (
                    status,
                    h.get("cache-control").cloned(),
                    h.contains_key("set-cookie"),
                )
            })
            .collect::<Vec<_>>()
    };
    let (ours, theirs) = both_with(Scripted::start, cfg, drive);
    assert_eq!(
        ours,
        [(200, None, true), (200, Some("private".to_string()), true)]
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours);
    }
    let origin = Scripted::start();
    if let Some((old, _)) = with_haproxy_27(|port| cfg(port, &origin), |port| drive(port, &origin))
    {
        assert_eq!(old[0].1.as_deref(), Some("private"), "2.7.0: {old:?}");
    }
}
