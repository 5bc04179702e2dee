//! `option http-restrict-req-hdr-names`: request headers whose names hold anything but
//! letters, digits and `-` (an `_`, a `.`) are kept, removed, or make the proxy refuse the
//! request, checked after each proxy's `http-request` rules as HAProxy checks them.

use crate::txn::Txn;
use hapee_compiler::plan::http_options::HeaderNames;

fn allowed(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Applies the proxy's setting; false when the request is to be refused (403).
pub fn restrict(setting: HeaderNames, txn: &mut Txn) -> bool {
    if setting == HeaderNames::Preserve {
        return true;
    }
    let Some(req) = txn.request.as_mut() else {
        return true;
    };
    let bad: Vec<hyper::header::HeaderName> = req
        .headers
        .keys()
        .filter(|n| !allowed(n.as_str()))
        .cloned()
        .collect();
    if bad.is_empty() {
        return true;
    }
    if setting == HeaderNames::Reject {
        return false;
    }
    super::header_order::remove_where(&mut req.headers, |n| bad.contains(n));
    true
}
