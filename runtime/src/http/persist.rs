//! Cookie-based persistence (`cookie` in a backend, `cookie` on its servers): the request's
//! cookie names the server to go to, and the response carries (or is given) the cookie that
//! names the server that answered. The log's `%tsc` reports what happened to the cookie both
//! ways, with HAProxy's letters.

use crate::acl::{AclSet, Condition};
use crate::state::{BackendRt, ServerRt};
use crate::txn::Txn;
use hapee_compiler::plan::persist::{CookieMode, CookiePersist, Persistence as PlanPersistence};
use hyper::header::{HeaderValue, COOKIE, SET_COOKIE};
use std::borrow::Cow;
use std::time::UNIX_EPOCH;

/// What the request's cookie did (`%tsc`'s third character).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestCookie {
    /// No persistence cookie in the request.
    #[default]
    None,
    /// It named no server.
    Invalid,
    /// Its server was down.
    Down,
    /// It was followed.
    Valid,
    /// It went unused for longer than `maxidle`.
    Expired,
    /// It is older than `maxlife`.
    Old,
    /// Another rule chose the server first (`use-server`, `ignore-persist`).
    Unused,
}

/// What was done with the response's cookie (`%tsc`'s fourth character).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseCookie {
    #[default]
    None,
    /// The server's cookie went through as it was.
    Passed,
    /// The server's cookie was removed.
    Deleted,
    /// A cookie was inserted.
    Inserted,
    /// The server's cookie was rewritten (`rewrite`, `prefix`).
    Rewritten,
    /// The client's cookie was given a new date.
    Updated,
}

/// A transaction's persistence state.
#[derive(Clone, Copy, Debug, Default)]
pub struct TxnCookie {
    /// The backend has a persistence cookie: `%tsc` shows the two letters below.
    pub applies: bool,
    pub request: RequestCookie,
    pub response: ResponseCookie,
    /// The server the valid cookie named (HAProxy's direct access).
    pub direct: Option<usize>,
    /// `ignore-persist` matched.
    pub ignore: bool,
    /// The dates the client's cookie carried (seconds since the epoch, 0: none).
    pub last_date: i64,
    pub first_date: i64,
}

impl TxnCookie {
    /// `%tsc`'s cookie letters.
    pub fn letters(&self) -> [u8; 2] {
        if !self.applies {
            return *b"--";
        }
        let req = match self.request {
            RequestCookie::None => b'N',
            RequestCookie::Invalid => b'I',
            RequestCookie::Down => b'D',
            RequestCookie::Valid => b'V',
            RequestCookie::Expired => b'E',
            RequestCookie::Old => b'O',
            RequestCookie::Unused => b'U',
        };
        let res = match self.response {
            ResponseCookie::None => b'N',
            ResponseCookie::Passed => b'P',
            ResponseCookie::Deleted => b'D',
            ResponseCookie::Inserted => b'I',
            ResponseCookie::Rewritten => b'R',
            ResponseCookie::Updated => b'U',
        };
        [req, res]
    }
}

/// A backend's persistence, compiled.
pub struct Persistence {
    cookie: Option<CookiePersist>,
    dynamic_key: Option<String>,
    /// `force-persist` (true) and `ignore-persist` (false) rules.
    rules: Vec<(bool, Condition)>,
    /// `option persist`: a cookie naming a down server is followed all the same.
    persist_down: bool,
}

impl Persistence {
    /// `None` when the backend has no persistence cookie.
    pub fn compile(
        plan: &PlanPersistence,
        options: &[(String, bool)],
        acls: &AclSet,
    ) -> Result<Option<Persistence>, String> {
        if plan.cookie.is_none() {
            return Ok(None);
        }
        let mut rules = Vec::new();
        for r in &plan.rules {
            let c = Condition::compile(&r.condition, acls).map_err(|e| e.0)?;
            rules.push((r.force, c));
        }
        Ok(Some(Persistence {
            cookie: plan.cookie.clone(),
            dynamic_key: plan.dynamic_key.clone(),
            rules,
            persist_down: options.iter().any(|(n, on)| n == "persist" && *on),
        }))
    }

    /// The cookie value that names server `s`: its own `cookie`, else with `dynamic`, one
    /// made from the backend's key and the server's address (as HAProxy makes it).
    fn server_cookie<'a>(&self, s: &'a ServerRt) -> Option<Cow<'a, str>> {
        if let Some(own) = s.plan.options.iter().rposition(|w| w == "cookie") {
            return s
                .plan
                .options
                .get(own + 1)
                .map(|v| Cow::Borrowed(v.as_str()));
        }
        let cookie = self.cookie.as_ref()?;
        let key = self.dynamic_key.as_deref().filter(|_| cookie.dynamic)?;
        let addr = s.addr()?;
        let mut buf = key.as_bytes().to_vec();
        match addr.ip() {
            std::net::IpAddr::V4(ip) => buf.extend(ip.octets()),
            std::net::IpAddr::V6(ip) => buf.extend(ip.octets()),
        }
        buf.extend(u32::from(addr.port()).to_be_bytes());
        Some(Cow::Owned(format!(
            "{:016x}",
            xxhash_rust::xxh64::xxh64(&buf, 0)
        )))
    }

    /// Reads the request's cookie: the server it names (when it may be used), its letter for
    /// the log, and the request's `Cookie` headers as the server must see them. `assigned`:
    /// a `use-server` rule chose the server already.
    // Called, not inlined: its code would sit in the forwarding state machine of every
    // backend's requests, most without a persistence cookie.
    #[inline(never)]
    pub fn on_request(&self, be: &BackendRt, txn: &mut Txn, assigned: bool) -> Option<usize> {
        let cookie = self.cookie.as_ref()?;
        let mut state = TxnCookie {
            applies: true,
            ..Default::default()
        };
        let mut force = false;
        for (is_force, cond) in &self.rules {
            if cond.holds(txn) {
                if *is_force {
                    force = true;
                } else {
                    state.ignore = true;
                }
                break;
            }
        }
        let now = now_secs();
        let mut chosen = None;
        let req = txn.request.as_mut()?;
        let mut rewritten: Vec<(usize, Option<String>)> = Vec::new();
        for (index, value) in req.headers.get_all(COOKIE).iter().enumerate() {
            let Ok(text) = value.to_str() else { continue };
            let mut kept: Vec<Cow<str>> = Vec::new();
            let mut changed = false;
            for pair in text.split(';') {
                let trimmed = pair.trim();
                let Some((name, val)) = trimmed.split_once('=') else {
                    kept.push(Cow::Borrowed(trimmed));
                    continue;
                };
                if name.trim() != cookie.name {
                    kept.push(Cow::Borrowed(trimmed));
                    continue;
                }
                let val = val.trim();
                let (id, rest) = match cookie.mode {
                    CookieMode::Prefix => match val.split_once('~') {
                        Some((id, rest)) => (id, Some(rest)),
                        None => (val, None),
                    },
                    _ => {
                        let mut parts = val.split('|');
                        let id = parts.next().unwrap_or("");
                        if let Some(d) = parts.next().and_then(decode_date) {
                            state.last_date = d;
                        }
                        if let Some(d) = parts.next().and_then(decode_date) {
                            state.first_date = d;
                        }
                        (id, None)
                    }
                };
                let mut usable_id = !id.is_empty();
                if state.first_date != 0
                    && cookie.maxlife != 0
                    && (now - state.first_date > i64::from(cookie.maxlife)
                        || state.first_date - now > 86400)
                {
                    state.request = RequestCookie::Old;
                    (state.first_date, state.last_date, usable_id) = (0, 0, false);
                } else if state.last_date != 0
                    && cookie.maxidle != 0
                    && (now - state.last_date > i64::from(cookie.maxidle)
                        || state.last_date - now > 86400)
                {
                    state.request = RequestCookie::Expired;
                    (state.first_date, state.last_date, usable_id) = (0, 0, false);
                }
                let mut found = None;
                if usable_id && !state.ignore && !assigned && chosen.is_none() {
                    for (i, s) in be.servers.iter().enumerate() {
                        if self.server_cookie(s).as_deref() != Some(id) {
                            continue;
                        }
                        let up = s.in_service();
                        if up || self.persist_down || force {
                            state.request = if up {
                                RequestCookie::Valid
                            } else {
                                RequestCookie::Down
                            };
                            found = Some(i);
                            break;
                        }
                        state.request = RequestCookie::Down;
                    }
                }
                if found.is_some() {
                    chosen = found;
                    state.direct = found;
                } else if !matches!(
                    state.request,
                    RequestCookie::Down | RequestCookie::Expired | RequestCookie::Old
                ) {
                    state.request = if state.ignore || assigned {
                        RequestCookie::Unused
                    } else {
                        RequestCookie::Invalid
                    };
                }
                match (cookie.mode, rest) {
                    (CookieMode::Prefix, Some(rest)) => {
                        kept.push(Cow::Owned(format!("{}={rest}", cookie.name)));
                        changed = true;
                    }
                    (CookieMode::Insert, _) if cookie.indirect => changed = true,
                    _ => kept.push(Cow::Borrowed(trimmed)),
                }
            }
            if changed {
                rewritten.push((index, (!kept.is_empty()).then(|| kept.join("; "))));
            }
        }
        if !rewritten.is_empty() {
            let old: Vec<HeaderValue> = req.headers.get_all(COOKIE).iter().cloned().collect();
            let mut new = Vec::with_capacity(old.len());
            for (i, v) in old.into_iter().enumerate() {
                match rewritten.iter().find(|(at, _)| *at == i) {
                    Some((_, Some(text))) => new.extend(HeaderValue::from_str(text).ok()),
                    Some((_, None)) => {}
                    None => new.push(v),
                }
            }
            super::header_order::replace_all(&mut req.headers, &COOKIE, new);
        }
        txn.persist = state;
        chosen
    }

    /// Treats the server's `Set-Cookie` headers and inserts the cookie naming `server` when
    /// the client does not hold it yet (`insert`), after the response rules.
    #[inline(never)]
    pub fn on_response(
        &self,
        be: &BackendRt,
        txn: &mut Txn,
        server: usize,
        headers: &mut hyper::HeaderMap,
        lines: &mut super::header_order::Lines,
        status: u16,
    ) {
        let Some(cookie) = self.cookie.as_ref() else {
            return;
        };
        if status < 200 && status != 101 {
            return;
        }
        let Some(srv) = be.servers.get(server) else {
            return;
        };
        let srv_cookie = self.server_cookie(srv);
        let state = &mut txn.persist;
        let direct = state.direct == Some(server);
        let mut found = false;
        if !state.ignore && headers.contains_key(SET_COOKIE) {
            let old: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
            let mut new = Vec::with_capacity(old.len());
            for v in old {
                let text = v.to_str().unwrap_or("");
                let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
                let Some((name, val)) = pair.split_once('=') else {
                    new.push(v);
                    continue;
                };
                if name.trim() != cookie.name {
                    new.push(v);
                    continue;
                }
                found = true;
                state.response = ResponseCookie::Passed;
                let attrs = if attrs.is_empty() {
                    String::new()
                } else {
                    format!(";{attrs}")
                };
                let new_value = if cookie.preserve {
                    Some(text.to_string())
                } else if cookie.mode == CookieMode::Insert || (direct && cookie.indirect) {
                    state.response = ResponseCookie::Deleted;
                    None
                } else if let (Some(id), CookieMode::Rewrite) = (&srv_cookie, cookie.mode) {
                    state.response = ResponseCookie::Rewritten;
                    Some(format!("{}={id}{attrs}", cookie.name))
                } else if let (Some(id), CookieMode::Prefix) = (&srv_cookie, cookie.mode) {
                    state.response = ResponseCookie::Rewritten;
                    Some(format!("{}={id}~{}{attrs}", cookie.name, val.trim()))
                } else {
                    Some(text.to_string())
                };
                if let Some(Ok(v)) = new_value.map(|s| HeaderValue::from_str(&s)) {
                    new.push(v);
                }
            }
            // Edited where they were, as HAProxy edits them.
            super::header_order::replace_all(headers, &SET_COOKIE, new);
        }
        let now = now_secs();
        let post = txn
            .request
            .as_ref()
            .is_some_and(|r| r.method == hyper::Method::POST);
        let needs_date = (cookie.maxidle != 0 || state.last_date != 0)
            && (state.last_date == 0 || state.last_date - now < 0);
        let insert = cookie.mode == CookieMode::Insert
            && !(found && cookie.preserve)
            && (!direct
                || needs_date
                || (cookie.maxlife != 0 && state.first_date == 0)
                || (cookie.maxlife == 0 && state.first_date != 0))
            && (!cookie.postonly || post)
            && !state.ignore;
        if !insert {
            return;
        }
        let mut line = match &srv_cookie {
            None => format!(
                "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
                cookie.name
            ),
            Some(id) => {
                let mut l = format!("{}={id}", cookie.name);
                if cookie.maxidle != 0 || cookie.maxlife != 0 {
                    l.push('|');
                    l.push_str(&encode_date((now + 3) >> 2));
                    if cookie.maxlife != 0 {
                        l.push('|');
                        let first = if state.first_date != 0 {
                            state.first_date >> 2
                        } else {
                            (now + 3) >> 2
                        };
                        l.push_str(&encode_date(first));
                    }
                }
                l.push_str("; path=/");
                l
            }
        };
        for d in &cookie.domains {
            line.push_str("; domain=");
            line.push_str(d);
        }
        if cookie.httponly {
            line.push_str("; HttpOnly");
        }
        if cookie.secure {
            line.push_str("; Secure");
        }
        for a in &cookie.attrs {
            line.push_str("; ");
            line.push_str(a);
        }
        // After every other line, as HAProxy adds it.
        if let Ok(v) = HeaderValue::from_str(&line) {
            super::header_order::append(headers, lines, SET_COOKIE, v);
        }
        state.response = if srv_cookie.is_some() && direct {
            ResponseCookie::Updated
        } else {
            ResponseCookie::Inserted
        };
        let safe_method = asked_with_a_safe_method(txn);
        if cookie.nocache && safe_method && cacheable(status, headers) {
            headers.append(
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("private"),
            );
        }
    }
}

/// Whether a response may be kept by a shared cache, as HAProxy judges it: a status cacheable
/// by default, no `Cache-Control`/`Pragma` forbidding it, and a lifetime (`max-age`,
/// `Expires`) or a validator (`ETag`, `Last-Modified`).
fn cacheable(status: u16, headers: &hyper::HeaderMap) -> bool {
    CacheVerdict::of(status, headers).cacheable
}

/// What a shared cache could do with a response to a safe request, as HAProxy 2.7 reads it
/// (with the later 2.7 releases' rule that a response without lifetime nor validator is
/// not cacheable, which Debian's 2.6 has too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheVerdict {
    /// The response could be stored.
    pub cacheable: bool,
    /// Its `Set-Cookie` lines could be stored with it (no `no-cache="set-cookie"`).
    pub with_cookies: bool,
}

impl CacheVerdict {
    pub fn of(status: u16, headers: &hyper::HeaderMap) -> CacheVerdict {
        let never = CacheVerdict {
            cacheable: false,
            with_cookies: false,
        };
        if !matches!(
            status,
            200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
        ) {
            return never;
        }
        if headers
            .get(hyper::header::PRAGMA)
            .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"no-cache"))
        {
            return never;
        }
        let mut verdict = CacheVerdict {
            cacheable: true,
            with_cookies: true,
        };
        let mut fresh = false;
        for v in headers.get_all(hyper::header::CACHE_CONTROL) {
            for item in v.to_str().unwrap_or("").split(',').map(str::trim) {
                let item = item.to_ascii_lowercase();
                if item == "public" {
                    verdict = CacheVerdict {
                        cacheable: true,
                        with_cookies: true,
                    };
                } else if matches!(
                    item.as_str(),
                    "private" | "no-cache" | "no-store" | "max-age=0" | "s-maxage=0"
                ) {
                    verdict = never;
                } else if item.starts_with("no-cache=\"set-cookie") {
                    verdict.with_cookies = false;
                } else if item.starts_with("s-maxage") || item.starts_with("max-age") {
                    fresh = true;
                }
            }
        }
        use hyper::header::{ETAG, EXPIRES, LAST_MODIFIED};
        fresh |= headers.contains_key(EXPIRES);
        if !(fresh || headers.contains_key(ETAG) || headers.contains_key(LAST_MODIFIED)) {
            verdict.cacheable = false;
        }
        verdict
    }
}

fn now_secs() -> i64 {
    crate::clock::date()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A 30-bit value as five base64 characters (HAProxy's cookie date form: the date in units
/// of four seconds).
fn encode_date(v: i64) -> String {
    let v = v as u32;
    (0..5)
        .map(|i| B64[((v >> (24 - 6 * i)) & 0x3f) as usize] as char)
        .collect()
}

/// A cookie date back to seconds since the epoch (`None`: not a date).
fn decode_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 5 {
        return None;
    }
    let mut out: i64 = 0;
    for &c in &b[..5] {
        let d = B64.iter().position(|&x| x == c)? as i64;
        out = (out << 6) | d;
    }
    (out > 0).then_some(out << 2)
}

/// Whether the request was made with a method a cache may answer from its store (GET, HEAD,
/// OPTIONS, TRACE): the requests whose responses `cookie … nocache` and `option checkcache`
/// look at.
pub(super) fn asked_with_a_safe_method(txn: &Txn) -> bool {
    txn.request.as_ref().is_some_and(|r| {
        matches!(
            r.method,
            hyper::Method::GET
                | hyper::Method::HEAD
                | hyper::Method::OPTIONS
                | hyper::Method::TRACE
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_dates_round_trip_in_four_second_units() {
        let now = 1_700_000_001;
        let text = encode_date(now >> 2);
        assert_eq!(text.len(), 5);
        assert_eq!(decode_date(&text), Some((now >> 2) << 2));
        assert_eq!(decode_date("AB"), None);
        assert_eq!(decode_date("A!AAA"), None);
    }

    #[test]
    fn cacheable_follows_status_and_cache_control() {
        let mut h = hyper::HeaderMap::new();
        assert!(!cacheable(200, &h), "neither lifetime nor validator");
        h.insert(hyper::header::ETAG, HeaderValue::from_static("\"v1\""));
        assert!(cacheable(200, &h));
        assert!(!cacheable(302, &h));
        h.insert(
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        assert!(!cacheable(200, &h));
    }

    #[test]
    fn log_letters() {
        let mut t = TxnCookie::default();
        assert_eq!(&t.letters(), b"--");
        t.applies = true;
        assert_eq!(&t.letters(), b"NN");
        t.request = RequestCookie::Valid;
        t.response = ResponseCookie::Inserted;
        assert_eq!(&t.letters(), b"VI");
    }
}
