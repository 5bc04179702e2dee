//! HAProxy's HTTP cache: `cache` sections, `http-request cache-use` (answer from the cache),
//! `http-response cache-store` (keep the response as it streams by), conditional requests
//! answered `304` from stored validators, `Vary` variants, the `res.cache_hit` and
//! `res.cache_name` fetches and `show cache`. The decisions live in `policy` and `vary`, the
//! storage in `store`; this module applies them to transactions.

pub mod policy;
pub mod store;
pub mod vary;

use crate::txn::{ResponseView, Txn};
use bytes::{Bytes, BytesMut};
use hapee_compiler::plan::filters::CachePlan;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::Method;
use std::sync::Arc;
use store::{Entry, Key, Store};
use vary::SecondaryKey;

/// One `cache` section at run time.
pub struct Cache {
    pub name: Arc<str>,
    pub store: Store,
    /// `max-age`, in seconds.
    pub max_age: u64,
    pub process_vary: bool,
}

/// Every cache of the configuration, shared by all threads.
#[derive(Default)]
pub struct Caches {
    list: Vec<Arc<Cache>>,
}

impl Caches {
    pub fn build(plans: &[CachePlan]) -> Caches {
        Caches {
            list: plans
                .iter()
                .map(|p| {
                    Arc::new(Cache {
                        name: p.name.as_str().into(),
                        store: Store::new(
                            p.total_max_size,
                            p.max_object_size,
                            p.max_secondary_entries,
                        ),
                        max_age: u64::from(p.max_age),
                        process_vary: p.process_vary,
                    })
                })
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Cache>> {
        self.list.iter().find(|c| &*c.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Cache>> {
        self.list.iter()
    }
}

/// A response served from a cache.
pub struct Hit {
    pub cache: Arc<Cache>,
    pub entry: Arc<Entry>,
    /// The request was conditional and the stored response still matches: `304`.
    pub not_modified: bool,
}

/// A response `cache-store` accepted, waiting for its body.
pub struct Pending {
    pub cache: Arc<Cache>,
    pub entry: Entry,
}

/// What the cache knows of one transaction.
#[derive(Default)]
pub struct TxnCache {
    /// The request's primary key, once a `cache-use` computed it.
    key: Option<Key>,
    /// Whether the request lets its response be stored.
    store_allowed: bool,
    /// The request's secondary key on every header responses may vary on.
    secondary: Option<SecondaryKey>,
    pub hit: Option<Hit>,
    /// Responses to store, one per cache.
    pub pending: Vec<Pending>,
}

fn now() -> u64 {
    policy::epoch(crate::clock::date())
}

/// The primary key of a request: a SHA-1 of its absolute URI, `https://` and the Host header
/// standing for the scheme and authority of an origin-form one (so that HTTP/1 and HTTP/2
/// requests share entries). `None` without a Host to build it from.
fn primary_key(req: &crate::txn::RequestView) -> Option<Key> {
    let uri = if req.uri.authority().is_some() {
        req.uri.to_string()
    } else {
        let host = req.headers.get(hyper::header::HOST)?.to_str().ok()?;
        let path = req.uri.path_and_query().map_or("/", |p| p.as_str());
        format!("https://{host}{path}")
    };
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, uri.as_bytes());
    digest.as_ref().try_into().ok()
}

/// `http-request cache-use <cache>`: keys the request and, when a fresh stored response may
/// answer it, takes it (the server is not contacted).
pub fn use_cache(txn: &mut Txn, cache: &Arc<Cache>) {
    let Some(req) = txn.request.as_ref() else {
        return;
    };
    let rules = policy::request(&req.method, req.version, &req.headers);
    let Some(key) = primary_key(req) else {
        return;
    };
    let secondary = SecondaryKey::of_request(&req.headers);
    txn.filters.cache.key = Some(key);
    // A request that skips the lookup (`no-cache`, `max-age`…) may still fill the cache, as in
    // HAProxy.
    txn.filters.cache.store_allowed = rules.store;
    if !rules.lookup {
        return;
    }
    match cache.store.lookup(&key, secondary.as_ref(), now()) {
        Some(entry) => {
            let not_modified =
                policy::not_modified(&req.headers, entry.etag.as_deref(), entry.last_modified);
            txn.filters.cache.hit = Some(Hit {
                cache: cache.clone(),
                entry,
                not_modified,
            });
        }
        None if cache.process_vary => txn.filters.cache.secondary = secondary,
        None => {}
    }
}

/// Headers that describe one connection: never stored.
const CONNECTION_HEADERS: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// `http-response cache-store <cache>`: decides whether the response may be stored and, if
/// so, keeps its head (as it is now) until its body has gone by.
pub fn store_response(txn: &mut Txn, cache: &Arc<Cache>) {
    if txn.filters.cache.hit.is_some() {
        return;
    }
    let (Some(req), Some(resp)) = (txn.request.as_ref(), txn.response.as_ref()) else {
        return;
    };
    if req.version < hyper::Version::HTTP_11 {
        return;
    }
    let Some(key) = txn.filters.cache.key else {
        return;
    };
    if req.method != Method::GET {
        // A successful unsafe request changes what is stored for its URL (RFC 9111 §4.4).
        let unsafe_method = !matches!(req.method, Method::HEAD | Method::OPTIONS | Method::TRACE);
        if unsafe_method && (200..400).contains(&resp.status) {
            cache.store.invalidate(&key);
        }
        return;
    }
    if resp.status != 200 {
        return;
    }
    let headers = &resp.headers;
    let announced_len = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced_len.is_some_and(|n| n > cache.store.max_object()) {
        return;
    }
    let mut secondary = SecondaryKey::default();
    let signature = if cache.process_vary {
        let Some(signature) = vary::signature(headers) else {
            return;
        };
        if signature != 0 {
            let Some(prebuilt) = txn.filters.cache.secondary else {
                return;
            };
            secondary = prebuilt.reduce(signature);
            if signature & vary::ACCEPT_ENCODING != 0 {
                let Some(encodings) = vary::response_encodings(headers) else {
                    return;
                };
                secondary.encodings = encodings;
            }
        }
        signature
    } else if headers.contains_key(hyper::header::VARY) {
        return;
    } else {
        0
    };
    if !txn.filters.cache.store_allowed
        || !policy::response_storable(resp.status, headers)
        || !policy::has_freshness_or_validator(headers)
    {
        return;
    }
    let date = crate::clock::date();
    let now = policy::epoch(date);
    let Some((effective, announced)) = policy::max_age(headers, cache.max_age, date) else {
        return;
    };
    let origin_age = match policy::age(headers) {
        Err(policy::BadAge) => return,
        Ok(Some(age)) if age > announced => return,
        Ok(age) => age.unwrap_or(0),
    };
    let resp = txn.response.as_mut().expect("checked above");
    // The server's Age is replaced by the cache's own on hits, and not forwarded now.
    resp.headers.remove(hyper::header::AGE);
    let mut stored: HeaderMap = resp.headers.clone();
    for h in CONNECTION_HEADERS {
        stored.remove(h);
    }
    let entry = Entry {
        key,
        status: resp.status,
        etag: stored
            .get(hyper::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        last_modified: policy::last_modified(&stored, date),
        headers: stored,
        body: Bytes::new(),
        stored_at: now,
        origin_age,
        expire: now + effective,
        signature,
        secondary,
    };
    txn.filters
        .cache
        .pending
        .retain(|p| !Arc::ptr_eq(&p.cache, cache));
    txn.filters.cache.pending.push(Pending {
        cache: cache.clone(),
        entry,
    });
}

/// The response `store_response` accepted for `cache`, taken for its body to be recorded.
pub fn take_pending(txn: &mut Txn, cache: &str) -> Option<Pending> {
    let i = txn
        .filters
        .cache
        .pending
        .iter()
        .position(|p| &*p.cache.name == cache)?;
    Some(txn.filters.cache.pending.swap_remove(i))
}

/// Records a response body on its way to the client, and stores the whole response once it
/// has gone by complete. A body larger than `max-object-size` is given up.
pub struct StoreTap {
    pending: Option<Pending>,
    body: BytesMut,
}

impl StoreTap {
    pub fn new(pending: Pending) -> StoreTap {
        StoreTap {
            pending: Some(pending),
            body: BytesMut::new(),
        }
    }
}

impl crate::http::filters::BodyFilter for StoreTap {
    fn data(&mut self, chunk: Bytes) -> Bytes {
        if let Some(p) = &self.pending {
            if self.body.len() + chunk.len() > p.cache.store.max_object() {
                self.pending = None;
                self.body = BytesMut::new();
            } else {
                self.body.extend_from_slice(&chunk);
            }
        }
        chunk
    }

    fn end(&mut self) -> Bytes {
        if let Some(mut p) = self.pending.take() {
            p.entry.body = std::mem::take(&mut self.body).freeze();
            // A cache too small for it, or full of variants: the response is just not kept.
            let _ = p.cache.store.insert(p.entry, now());
        }
        Bytes::new()
    }
}

/// The response of a cache hit, before the response rules: the stored head with its `Age`
/// (`304 Not Modified` for a matching conditional request), and the body to send.
pub fn hit_response(hit: &Hit) -> (ResponseView, Bytes) {
    let entry = &hit.entry;
    let mut headers = entry.headers.clone();
    headers.insert(hyper::header::AGE, HeaderValue::from(entry.age(now())));
    let status = if hit.not_modified { 304 } else { entry.status };
    let body = if hit.not_modified {
        Bytes::new()
    } else {
        entry.body.clone()
    };
    (
        ResponseView {
            status,
            version: hyper::Version::HTTP_11,
            headers,
            lines: Default::default(),
        },
        body,
    )
}

/// `res.cache_hit` and `res.cache_name`.
pub fn fetch(name: &str, txn: &Txn) -> Option<crate::sample::Value> {
    use crate::sample::Value;
    match name {
        "res.cache_hit" => Some(Value::Bool(txn.filters.cache.hit.is_some())),
        "res.cache_name" => txn
            .filters
            .cache
            .hit
            .as_ref()
            .map(|h| Value::Str(h.cache.name.to_string())),
        _ => None,
    }
}

/// `show cache`: each cache with the blocks it has left, then its fresh entries, in HAProxy's
/// layout (addresses stand for identities, as in HAProxy).
pub fn show(caches: &Caches) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let now = now();
    for cache in caches.iter() {
        let store = &cache.store;
        let blocks = store.capacity().saturating_sub(store.used()) / 1024;
        let _ = writeln!(
            out,
            "{:p}: {} (shctx:{:p}, available blocks:{})",
            Arc::as_ptr(cache),
            cache.name,
            store,
            blocks
        );
        for entry in store.fresh(now) {
            let size = entry.size();
            let _ = writeln!(
                out,
                "{:p} hash:{} vary:0x{} size:{} ({} blocks), refcount:{}, expire:{}",
                Arc::as_ptr(&entry),
                u32::from_ne_bytes([entry.key[0], entry.key[1], entry.key[2], entry.key[3]]),
                entry.secondary.hex(),
                size,
                size.div_ceil(1024),
                Arc::strong_count(&entry) - 1,
                entry.expire.saturating_sub(now)
            );
        }
    }
    out
}

/// Answers a request from the cache hit `cache-use` found: the response rules run on it (with
/// `res.cache_hit` true), then the filters after the cache (compression) on its whole body.
/// The log names `<CACHE>` as the server, as HAProxy does.
pub(crate) async fn serve_hit(
    ctx: &super::ConnCtx,
    txn: &mut Txn,
    be_index: usize,
) -> Option<hyper::Response<super::ResBody>> {
    let (view, body) = hit_response(txn.filters.cache.hit.as_ref()?);
    // The cache answers as an applet of the proxy: HAProxy logs no wait, no connect, `LR`,
    // and captures the stored response's headers as a server's.
    txn.server = Some("<CACHE>".into());
    txn.timings.queue = 0;
    txn.timings.connect = 0;
    txn.timings.response = 0;
    *txn.captured_response.get_mut() =
        super::capture::headers(&view.headers, &ctx.frontend().capture_response);
    txn.bytes_out = super::htx::response_head_data(
        hyper::StatusCode::from_u16(view.status).unwrap_or(hyper::StatusCode::OK),
        &hyper::http::Extensions::new(),
        &view.headers,
        true,
    );
    txn.response = Some(view);
    if let Some(own) = super::script::response_rules(ctx, txn, Some(be_index), None).await {
        return Some(own);
    }
    let view = txn.response.take()?;
    let mut headers = view.headers;
    let chain = super::filters::on_response(txn, view.status, &mut headers, true, false);
    let head_only = view.status == 304
        || txn
            .request
            .as_ref()
            .is_some_and(|r| r.method == Method::HEAD);
    let body = if head_only || chain.is_empty() {
        body
    } else {
        match txn.filters.lent.take() {
            // The script filters find the transaction in their slot meanwhile.
            Some(slot) => crate::script::lend_now(txn, |lent| {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(lent);
                let body = chain.whole(body);
                let back = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                (back.expect("the filters give the transaction back"), body)
            }),
            None => chain.whole(body),
        }
    };
    txn.response = Some(ResponseView {
        status: view.status,
        version: view.version,
        headers: HeaderMap::new(),
        lines: Default::default(),
    });
    if txn.term == *b"--" {
        txn.term = *b"LR";
    }
    let mut resp = hyper::Response::new(super::reply::full(body));
    *resp.status_mut() = hyper::StatusCode::from_u16(view.status).unwrap_or(hyper::StatusCode::OK);
    *resp.headers_mut() = headers;
    Some(resp)
}
