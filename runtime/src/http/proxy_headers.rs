//! Headers the proxy itself removes or adds on the way to a server: the hop-by-hop ones that
//! describe one connection only, and the client's address (`option forwardfor`/`originalto`).

use crate::txn::Txn;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, UPGRADE};

/// Whether a header describes one connection only (never forwarded as it is): `Connection`,
/// `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`. `Trailer` is not one: it announces the
/// trailer fields of the message, which go on with it, and HAProxy forwards it both ways.
/// Matched on the spelling (a
/// switch on the length, then the bytes), where six `HeaderName` comparisons were each laid
/// out in the request path's code.
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "te" | "upgrade"
    )
}

/// Removes the hop-by-hop headers. An upgrade keeps `Upgrade`, with `Connection` naming only
/// the `upgrade` option, spelled as the sender spelled it (`Upgrade` goes on as `Upgrade`, as
/// HAProxy passes the option on untouched). The fields a request's `Connection` header names
/// were removed before its rules ran (`vet`), so that a header the rules add is never lost here.
pub(super) fn strip_hop_by_hop(h: &mut hyper::HeaderMap, keep_upgrade: bool) {
    let kept = |hop: &HeaderName| keep_upgrade && (hop == UPGRADE || hop == CONNECTION);
    let spelled = keep_upgrade
        .then(|| {
            super::vet::elements(h.get_all(CONNECTION).iter())
                .find(|t| t.eq_ignore_ascii_case(b"upgrade"))
                .and_then(|t| HeaderValue::from_bytes(t).ok())
        })
        .flatten();
    super::header_order::remove_where(h, |n| is_hop_by_hop(n) && !kept(n));
    if keep_upgrade {
        let value = spelled.unwrap_or(HeaderValue::from_static("upgrade"));
        h.insert(CONNECTION, value);
    }
}

/// `option forwardfor` of the frontend and the backend: the client's address.
pub(crate) fn add_forwardfor(
    fe: Option<&hapee_compiler::plan::ForwardFor>,
    be: Option<&hapee_compiler::plan::ForwardFor>,
    txn: &mut Txn,
) {
    add_address_header(fe, be, txn.client.ip(), txn);
}

/// `option forwardfor` and `option originalto` as HAProxy applies the frontend's and the
/// backend's together: the header the backend's option names (the frontend's when the backend
/// has none), unless the address is in either one's `except` network; a header already there
/// keeps it out only when each option present says `if-none`.
pub(super) fn add_address_header(
    fe: Option<&hapee_compiler::plan::ForwardFor>,
    be: Option<&hapee_compiler::plan::ForwardFor>,
    ip: std::net::IpAddr,
    txn: &mut Txn,
) {
    let Some(named) = be.or(fe) else {
        return;
    };
    let excepted = |ff: Option<&hapee_compiler::plan::ForwardFor>| {
        ff.and_then(|f| f.except.as_deref())
            .and_then(crate::acl::Cidr::parse)
            .is_some_and(|except| except.contains(ip))
    };
    if excepted(fe) || excepted(be) {
        return;
    }
    let Some(req) = txn.request.as_mut() else {
        return;
    };
    let if_none = fe.is_none_or(|f| f.if_none) && be.is_none_or(|f| f.if_none);
    if if_none && req.headers.contains_key(named.header.as_str()) {
        return;
    }
    if let (Ok(name), Ok(value)) = (
        hyper::header::HeaderName::from_bytes(named.header.as_bytes()),
        HeaderValue::from_str(&ip.to_string()),
    ) {
        super::header_order::append(&mut req.headers, &mut req.lines, name, value);
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers as headers;

    fn names(h: &hyper::HeaderMap) -> Vec<&str> {
        let mut v: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_lists_are_removed() {
        let mut h = headers(&[
            ("host", "a"),
            ("connection", "keep-alive, X-Trace , close"),
            ("keep-alive", "timeout=5"),
            ("x-trace", "1"),
            ("te", "trailers"),
            ("x-kept", "yes"),
        ]);
        super::super::vet::drop_connection_options(&mut h);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(names(&h), ["host", "x-kept"]);
        // Nothing to remove: the map is left as it is.
        let mut h = headers(&[("host", "a"), ("accept", "*/*")]);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(names(&h), ["accept", "host"]);
    }

    #[test]
    fn an_upgrade_keeps_upgrade_with_connection_upgrade() {
        let mut h = headers(&[
            ("connection", "Upgrade, x-private"),
            ("upgrade", "websocket"),
            ("x-private", "1"),
            ("proxy-connection", "keep-alive"),
        ]);
        super::super::vet::drop_connection_options(&mut h);
        strip_hop_by_hop(&mut h, true);
        assert_eq!(names(&h), ["connection", "upgrade"]);
        // The option keeps the sender's spelling.
        assert_eq!(h[CONNECTION], "Upgrade");
        assert_eq!(h[UPGRADE], "websocket");
    }
}
