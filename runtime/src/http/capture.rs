//! Capture slots: the headers named by `capture request|response header`, and what
//! `http-request|http-response capture` and `tcp-request content capture` rules store (the
//! slots `%hr`/`%hs` print and `capture.req.hdr(n)`/`capture.res.hdr(n)` read).

use crate::sample::{Expr, Unsupported};
use crate::txn::Txn;
use hapee_compiler::plan::Capture;

/// A capture rule: the sample it stores, and its slot (the plan numbers the slots of rules
/// written with `len`; `None` only when checking a line outside a plan).
#[derive(Debug)]
pub struct CaptureRule {
    expr: Expr,
    slot: Option<usize>,
    response: bool,
}

impl CaptureRule {
    /// `<sample> len <n>` or `<sample> id <slot>`.
    pub fn compile(args: &[String], response: bool) -> Result<CaptureRule, Unsupported> {
        let at = args
            .iter()
            .position(|a| a == "len" || a == "id")
            .ok_or_else(|| Unsupported("capture without 'len' or 'id'".into()))?;
        let slot = match args[at].as_str() {
            "id" => Some(
                args.get(at + 1)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| Unsupported("capture id".into()))?,
            ),
            _ => None,
        };
        Ok(CaptureRule {
            expr: Expr::parse(&args[..at].join(" "))?,
            slot,
            response,
        })
    }

    /// Stores the sample, cut to the slot's length, in the stream's slot (slots are the
    /// frontend's, whichever proxy's rule runs).
    pub fn run(&self, txn: &mut Txn) {
        let Some(slot) = self.slot else { return };
        if let Some(value) = self.expr.eval(txn) {
            store(txn, self.response, slot, &value.as_bytes());
        }
    }
}

/// Stores `value` in the stream's capture slot `slot`, cut to the slot's length; whether the
/// frontend declares that slot (slots are the frontend's, whichever proxy's rule runs).
fn store(txn: &Txn, response: bool, slot: usize, value: &[u8]) -> bool {
    let Some(fe) = txn.frontend_rt() else {
        return false;
    };
    let slots = if response {
        &fe.capture_response
    } else {
        &fe.capture_request
    };
    let Some(len) = slots.get(slot).map(|c| c.len) else {
        return false;
    };
    let mut captured = if response {
        txn.captured_response.borrow_mut()
    } else {
        txn.captured_request.borrow_mut()
    };
    if captured.len() <= slot {
        captured.resize(slot + 1, None);
    }
    captured[slot] = Some(cut(value, len));
    true
}

/// The `capture-req(<id>)` and `capture-res(<id>)` converters: the input is stored in the
/// frontend's request or response slot `<id>` and passes on unchanged; they fail when the
/// frontend declares no such slot.
pub fn converter(response: bool, slot: &str) -> Result<crate::sample::convert::Run, Unsupported> {
    let name = if response {
        "capture-res"
    } else {
        "capture-req"
    };
    let slot: usize = slot
        .trim()
        .parse()
        .map_err(|_| Unsupported(format!("converter '{name}': capture id '{slot}'")))?;
    Ok(crate::sample::convert::with_txn(move |v, txn| {
        let v = match v {
            crate::sample::Value::Str(_) | crate::sample::Value::Bin(_) => v,
            other => crate::sample::Value::Str(other.as_text().into_owned()),
        };
        store(txn, response, slot, &v.as_bytes()).then_some(v)
    }))
}

/// At most `len` bytes of `value`, as text.
fn cut(value: &[u8], len: usize) -> String {
    hapee_compiler::bytestr::from_bytes(&value[..value.len().min(len)]).into_owned()
}

/// The header slots filled from a message's headers: the last occurrence of each header,
/// as HAProxy keeps it; slots that rules fill start empty.
#[inline]
pub fn headers(headers: &hyper::HeaderMap, caps: &[Capture]) -> Vec<Option<String>> {
    // Most frontends capture nothing: the look-ups stay out of the request path's code.
    if caps.is_empty() {
        return Vec::new();
    }
    captured(headers, caps)
}

#[inline(never)]
fn captured(headers: &hyper::HeaderMap, caps: &[Capture]) -> Vec<Option<String>> {
    caps.iter()
        .map(|c| {
            if c.name.is_empty() {
                return None;
            }
            headers
                .get_all(c.name.as_str())
                .iter()
                .next_back()
                .map(|v| cut(v.as_bytes(), c.len))
        })
        .collect()
}

/// `capture.req.hdr(n)` and `capture.res.hdr(n)`: a slot's content.
pub fn fetch(txn: &Txn, response: bool, slot: &str) -> Option<String> {
    let captured = if response {
        txn.captured_response.borrow()
    } else {
        txn.captured_request.borrow()
    };
    captured.get(slot.parse::<usize>().ok()?)?.clone()
}

/// `capture cookie` on a request, taken where HAProxy takes it: once the `http-request` rules
/// of the frontend and the backend are through (what they set or deleted counts), or when a
/// rule denies or tarpits it; not for a request the proxy answers (`return`, `redirect`).
/// The first capture stays.
pub fn take_request_cookie(cap: Option<&Capture>, txn: &mut Txn) {
    let Some(cap) = cap else {
        return;
    };
    if txn.rare().is_some_and(|r| r.captured_cookies[0].is_some()) {
        return;
    }
    if let Some(req) = &txn.request {
        let cookie = request_cookie(&req.headers, cap);
        txn.rare_mut().captured_cookies[0] = cookie;
    }
}

/// [`take_request_cookie`] on a denied request, for the frontend of the transaction.
pub fn take_request_cookie_on_denial(txn: &mut Txn) {
    let shared = txn.shared.clone();
    let fe = shared.frontend_by_name(&txn.frontend);
    take_request_cookie(fe.and_then(|f| f.capture_cookie.as_ref()), txn);
}

/// The first cookie of its `Cookie` headers whose
/// `name=value` (spaces around `=` left out) begins with the capture's name, cut to its length.
pub fn request_cookie(headers: &hyper::HeaderMap, cap: &Capture) -> Option<String> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .flat_map(|v| cookie_list(v.as_bytes()))
        .find_map(|c| captured_cookie(c, cap))
}

/// `capture cookie` on a response: the first `Set-Cookie` whose cookie (its first
/// `name=value`) begins with the capture's name.
pub fn response_cookie(headers: &hyper::HeaderMap, cap: &Capture) -> Option<String> {
    headers
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.as_bytes().split(|&b| b == b';').next())
        .find_map(|c| captured_cookie(c, cap))
}

/// The cookies of a `Cookie` value: split at `;` and `,` outside double-quoted strings.
fn cookie_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    super::header_values::ranges_cut_at(value, |b| b == b';' || b == b',').map(move |r| &value[r])
}

/// `name=value` of one cookie when it begins with the capture's name, cut to its length;
/// `None` for an attribute (`$…`), a cookie without `=`, or another name.
fn captured_cookie(cookie: &[u8], cap: &Capture) -> Option<String> {
    let cookie = cookie.trim_ascii();
    let eq = cookie.iter().position(|&b| b == b'=')?;
    let (name, value) = (cookie[..eq].trim_ascii(), cookie[eq + 1..].trim_ascii());
    if name.first() == Some(&b'$') {
        return None;
    }
    let mut both = Vec::with_capacity(name.len() + 1 + value.len());
    both.extend_from_slice(name);
    both.push(b'=');
    both.extend_from_slice(value);
    both.starts_with(cap.name.as_bytes())
        .then(|| cut(&both, cap.len))
}

#[cfg(test)]
mod cookie_tests {
    use super::*;

    fn cap(name: &str, len: usize) -> Capture {
        Capture {
            name: name.into(),
            len,
            declared: false,
        }
    }

    #[test]
    fn the_first_cookie_beginning_with_the_name_is_captured_cut_to_its_length() {
        let mut h = hyper::HeaderMap::new();
        h.append(
            "cookie",
            "$Version=1; a=1; SRV = s1 ; SRVX=2".parse().unwrap(),
        );
        assert_eq!(
            request_cookie(&h, &cap("SRV", 20)).as_deref(),
            Some("SRV=s1")
        );
        assert_eq!(request_cookie(&h, &cap("SRV", 4)).as_deref(), Some("SRV="));
        assert_eq!(
            request_cookie(&h, &cap("SRVX", 20)).as_deref(),
            Some("SRVX=2")
        );
        assert_eq!(request_cookie(&h, &cap("b", 20)), None);
        h.append("set-cookie", "other=1; path=/".parse().unwrap());
        h.append("set-cookie", "SRV=abc; path=/".parse().unwrap());
        assert_eq!(
            response_cookie(&h, &cap("SRV", 20)).as_deref(),
            Some("SRV=abc")
        );
        assert_eq!(response_cookie(&h, &cap("path", 20)), None);
    }
}
