//! Room for rewrites, as HAProxy measures it. HAProxy keeps a message (its head, and the body
//! bytes held with it) in one buffer of `tune.bufsize` bytes, in its internal form: each
//! header costs a block header of 8 bytes plus its name and value, the start line 28 bytes
//! plus its parts, the end of the head 8, the buffer's own header 48. It receives no more than
//! the buffer less `tune.maxrewrite`, and a rewrite that would not fit in the buffer fails.
//!
//! A failed rewrite counts in `failed_rewrites` (`wrew` in `show stat`); in strict mode (the
//! default, `http-request|http-response strict-mode on`) it ends the transaction with a 500,
//! else the rewrite is left out (`strict-mode off`).
//!
//! hapee holds a request body before the rules only with `option http-buffer-request` or
//! `wait-for-body`, and the body bytes that came with a response's head: those are what count
//! as held. HAProxy may also hold body bytes of an unbuffered request that came with the head.

use crate::rules::Action;
use crate::txn::{RequestView, ResponseView, Txn};
use hyper::HeaderMap;

/// Bytes of HAProxy's buffer header, before the message.
const BUFFER_HEADER: usize = 48;
/// Bytes of one block header.
pub(super) const BLOCK: usize = 8;
/// Bytes of the start line's fixed part (flags, method or status, part lengths).
pub(super) const START_LINE: usize = 20;

/// A transaction's rewrite state, for the request and the response.
#[derive(Debug, Default, Clone)]
pub struct Rewrites {
    /// `strict-mode off` on each side.
    pub soft_request: bool,
    pub soft_response: bool,
    /// The body bytes held with each message, fixed at its first rewrite.
    held_request: Option<usize>,
    held_response: Option<usize>,
    /// Body bytes read with the response's head.
    pub response_buffered: usize,
    /// Those bytes themselves, kept only for `internal.htx_blk.data`
    /// ([`crate::http::htx::data_wanted`]).
    pub response_held: Option<bytes::Bytes>,
    /// Rewrites that did not fit.
    pub failed: u32,
}

/// The size limits of the process's buffers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `tune.bufsize`.
    pub bufsize: usize,
    /// `tune.maxrewrite`.
    pub maxrewrite: usize,
}

impl Limits {
    /// The largest message, in internal form.
    pub(super) fn capacity(&self) -> usize {
        self.bufsize.saturating_sub(BUFFER_HEADER)
    }

    /// What is received before rewrites.
    fn receive_limit(&self) -> usize {
        self.capacity().saturating_sub(self.maxrewrite)
    }

    /// The body bytes a full buffer holds once the head has gone: what is received, less
    /// the header of the one block they make.
    pub fn body_room(&self) -> usize {
        self.receive_limit().saturating_sub(BLOCK)
    }

    /// The bytes of a TCP stream a full buffer holds: the buffer less `tune.maxrewrite`.
    pub fn raw_room(&self) -> usize {
        self.bufsize.saturating_sub(self.maxrewrite)
    }
}

/// The headers' names and values, in bytes: their data in internal form.
pub(super) fn fields_len(h: &HeaderMap) -> usize {
    h.iter().map(|(n, v)| n.as_str().len() + v.len()).sum()
}

/// [`fields_len`] of a head read from a connection, whose `Connection` header HAProxy's
/// parser keeps without its `close` and `keep-alive` tokens (and drops when that leaves
/// nothing). The proxy's own pages keep theirs whole.
pub(super) fn parsed_fields_len(h: &HeaderMap) -> usize {
    h.iter()
        .map(|(n, v)| {
            if n == hyper::header::CONNECTION {
                match connection_len(v.as_bytes()) {
                    0 => 0,
                    len => n.as_str().len() + len,
                }
            } else {
                n.as_str().len() + v.len()
            }
        })
        .sum()
}

/// The length of a `Connection` value once HAProxy's parser has taken its `close` and
/// `keep-alive` tokens out: while nothing is kept, a kept token keeps the value up to its
/// end as it was; after that, each kept one is added behind a comma.
fn connection_len(value: &[u8]) -> usize {
    // The usual value, one option alone, is told without the token loop, which then stays
    // out of the code every keep-alive response runs.
    if value.eq_ignore_ascii_case(b"keep-alive") || value.eq_ignore_ascii_case(b"close") {
        return 0;
    }
    let mut len = 0;
    for range in super::header_values::ranges(value) {
        let token = value[range.clone()].trim_ascii();
        if token.eq_ignore_ascii_case(b"close") || token.eq_ignore_ascii_case(b"keep-alive") {
            continue;
        }
        // Blanks alone after the last comma are no token.
        if token.is_empty() && range.end == value.len() && range.start > 0 {
            continue;
        }
        len = if len == 0 {
            range.end
        } else {
            len + 1 + token.len()
        };
    }
    len
}

/// The headers in internal form: each one's block and data, and the end of the head's block.
fn headers_size(h: &HeaderMap) -> usize {
    fields_len(h) + BLOCK * (h.len() + 1)
}

/// A request head's size in internal form.
pub fn request_size(r: &RequestView) -> usize {
    let uri = r.uri.path_and_query().map_or(1, |p| p.as_str().len());
    BLOCK + START_LINE + r.method.as_str().len() + uri + 8 + headers_size(&r.headers)
}

/// Whether a request head as it came is more than HAProxy receives before rewrites, which
/// its parser refuses (400). hyper's own limit is at least 8 kB of raw bytes, past what a
/// `tune.bufsize` under 8 kB, or the default's `tune.maxrewrite`, leaves.
pub fn head_over_limit(
    limits: Limits,
    method: &hyper::Method,
    uri: &hyper::Uri,
    headers: &HeaderMap,
) -> bool {
    // The parser's own form: a `Connection` of `close` or `keep-alive` alone is gone.
    let dropped = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter(|v| connection_len(v.as_bytes()) == 0)
        .count();
    let fields = parsed_fields_len(headers) + BLOCK * (headers.len() - dropped + 1);
    let uri = uri.path_and_query().map_or(1, |p| p.as_str().len());
    BLOCK + START_LINE + method.as_str().len() + uri + 8 + fields > limits.receive_limit()
}

/// A response head's size in internal form (the reason is counted as HAProxy's usual one).
pub fn response_size(r: &ResponseView) -> usize {
    let reason = hyper::StatusCode::from_u16(r.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or(0, str::len);
    BLOCK + START_LINE + 8 + 3 + reason + headers_size(&r.headers)
}

/// The body bytes held with a head of `head` bytes when `available` came with it.
pub(super) fn held(limits: Limits, head: usize, available: usize) -> usize {
    let room = limits.receive_limit().saturating_sub(head + BLOCK);
    available.min(room)
}

impl Txn {
    /// Whether the message, as rules leave it, still fits: checked after each rewrite. The
    /// held body is fixed at the first check, from the head as it came (`before`).
    pub fn rewrite_fits(&mut self, response: bool, before: usize) -> bool {
        let limits = self.shared.room;
        let (size, available, slot) = if response {
            let Some(r) = self.response.as_ref() else {
                return true;
            };
            let available = self.rewrites.response_buffered;
            (
                response_size(r),
                available,
                &mut self.rewrites.held_response,
            )
        } else {
            let Some(r) = self.request.as_ref() else {
                return true;
            };
            let available = self.request_body().map_or(0, |b| b.len());
            (request_size(r), available, &mut self.rewrites.held_request)
        };
        let body = *slot.get_or_insert_with(|| held(limits, before, available));
        let body = if body > 0 { body + BLOCK } else { 0 };
        size + body <= limits.capacity()
    }

    /// The size of the message a rewrite is about to change.
    pub fn head_size(&self, response: bool) -> usize {
        if response {
            self.response.as_ref().map_or(0, response_size)
        } else {
            self.request.as_ref().map_or(0, request_size)
        }
    }

    /// Counts a rewrite that did not fit; whether it ends the transaction (strict mode).
    pub fn rewrite_failed(&mut self, response: bool) -> bool {
        self.rewrites.failed += 1;
        if response {
            !self.rewrites.soft_response
        } else {
            !self.rewrites.soft_request
        }
    }
}

/// The part of a message a rewrite changes, as it was, and the message's size then.
pub struct Undo {
    pub size: usize,
    uri: Option<(hyper::Method, hyper::Uri)>,
    values: Vec<hyper::header::HeaderValue>,
}

impl Undo {
    /// For the actions that may make a message longer.
    pub fn before(action: &Action, txn: &Txn, response: bool) -> Option<Undo> {
        let values = |n: &hyper::header::HeaderName| {
            let h = if response {
                txn.response.as_ref().map(|r| &r.headers)
            } else {
                txn.request.as_ref().map(|r| &r.headers)
            };
            h.map(|h| h.get_all(n).iter().cloned().collect())
                .unwrap_or_default()
        };
        let (uri, values) = match action {
            Action::SetHeader(..) | Action::AddHeader(..) | Action::SetStatus(..) => {
                (None, Vec::new())
            }
            Action::ReplaceHeader(n, ..) => (None, values(n)),
            Action::RewriteUri(_)
            | Action::NormalizeUri(_)
            | Action::SetPath(_)
            | Action::SetQuery(_)
            | Action::SetUri(_)
            | Action::SetMethod(_) => {
                let r = txn.request.as_ref()?;
                (Some((r.method.clone(), r.uri.clone())), Vec::new())
            }
            _ => return None,
        };
        Some(Undo {
            size: txn.head_size(response),
            uri,
            values,
        })
    }

    /// Puts the message back as HAProxy leaves it after a rewrite that failed: `set-header`
    /// has removed the header and not added it again, `add-header` has not added it, the
    /// others have changed nothing.
    pub fn restore(self, action: &Action, txn: &mut Txn, response: bool) {
        if let (Some((method, uri)), Some(r)) = (self.uri, txn.request.as_mut()) {
            r.method = method;
            r.uri = uri;
        }
        let Some(h) = crate::rules::headers_of(txn, response) else {
            return;
        };
        match action {
            Action::SetHeader(n, _) => {
                h.remove(n);
            }
            Action::AddHeader(n, _) => {
                let mut kept: Vec<_> = h.get_all(n).iter().cloned().collect();
                kept.pop();
                h.remove(n);
                for v in kept {
                    h.append(n.clone(), v);
                }
            }
            Action::ReplaceHeader(n, ..) => {
                h.remove(n);
                for v in self.values {
                    h.append(n.clone(), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_buffer_leaves_maxrewrite_for_rewrites() {
        let limits = Limits {
            bufsize: 2048,
            maxrewrite: 128,
        };
        // A 100-byte head with a 2000-byte body: the body fills the buffer up to the reserve.
        let body = held(limits, 100, 2000);
        assert_eq!(100 + BLOCK + body, limits.receive_limit());
        // One 74-byte header fits in the reserve, two do not.
        assert!(100 + 74 + BLOCK + body <= limits.capacity());
        assert!(100 + 148 + BLOCK + body > limits.capacity());
        // A short body leaves the buffer's room.
        assert_eq!(held(limits, 100, 10), 10);
    }

    #[test]
    fn connection_headers_lose_close_and_keep_alive() {
        assert_eq!(connection_len(b"close"), 0);
        assert_eq!(connection_len(b"Keep-Alive"), 0);
        assert_eq!(connection_len(b"upgrade, close"), "upgrade".len());
        assert_eq!(connection_len(b"close, upgrade"), "close, upgrade".len());
        assert_eq!(connection_len(b"a, close, b"), "a,b".len());
        assert_eq!(connection_len(b"a, "), "a".len());
        let mut h = HeaderMap::new();
        h.insert(hyper::header::CONNECTION, "close".parse().unwrap());
        h.insert(hyper::header::CONTENT_LENGTH, "1".parse().unwrap());
        assert_eq!(parsed_fields_len(&h), "content-length".len() + 1);
        assert_eq!(
            fields_len(&h),
            "content-length".len() + 1 + "connection".len() + 5
        );
    }
}
