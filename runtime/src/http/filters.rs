//! The HTTP data filters of each proxy (cache, compression, trace, bandwidth limits) and what
//! they do to one transaction: the frontend's filters then the backend's, in declaration order,
//! see the response head and then its body chunk by chunk as it streams to the client.

use super::cache::{self, Caches, StoreTap};
use super::compress::{self, Algo, Encoder, RequestFacts, Settings};
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use hapee_compiler::plan::filters::{FilterPlan, FiltersPlan};
use hyper::header::HeaderMap;
use std::collections::HashMap;
use std::sync::Arc;

/// Something a response body goes through on its way out: it may change each chunk and add
/// bytes at the end.
pub trait BodyFilter: Send {
    fn data(&mut self, chunk: Bytes) -> Bytes;
    /// The body is over: what is left to send.
    fn end(&mut self) -> Bytes;
    /// `chunk`, known to end the body as it comes (its end came with it): what is left to
    /// send. A filter that tells the message's end to its callbacks offers the chunk as that
    /// end, as HAProxy does when the end of the message is already in its buffer.
    fn last(&mut self, chunk: Bytes) -> Bytes {
        let out = if chunk.is_empty() {
            chunk
        } else {
            self.data(chunk)
        };
        join(out, self.end())
    }
    /// Whether the filter failed: the stream is then aborted (the head is out, so the body
    /// is cut short).
    fn failed(&self) -> bool {
        false
    }
    /// Offers again what the filter holds, nothing new having come (its wake time passed):
    /// what it lets go.
    fn retry(&mut self) -> Bytes {
        Bytes::new()
    }
    /// What it holds back, while it may still let it go.
    fn hold(&self) -> Option<&super::script_hold::Hold> {
        None
    }
    /// Whether it holds a full buffer: the body's source is not read until it lets some go.
    fn full(&self) -> bool {
        self.hold().is_some_and(|h| h.full())
    }
    /// When it wants what it holds offered again ([`BodyFilter::retry`]).
    fn wake_at(&self) -> Option<tokio::time::Instant> {
        self.hold().and_then(|h| h.wake_at())
    }
}

/// Filters one after the other: each sees what the one before it let out.
#[derive(Default)]
pub struct Chain(Vec<Box<dyn BodyFilter>>);

impl Chain {
    /// A chain of `filter` alone.
    pub fn of(filter: Box<dyn BodyFilter>) -> Chain {
        Chain(vec![filter])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs a whole body through at once (a body the proxy already holds).
    pub fn whole(mut self, body: Bytes) -> Bytes {
        let mut out = BytesMut::new();
        out.extend_from_slice(&self.data(body));
        out.extend_from_slice(&self.end());
        out.freeze()
    }
}

impl BodyFilter for Chain {
    /// What a filter holds back entirely is nothing new for those after it.
    fn data(&mut self, chunk: Bytes) -> Bytes {
        self.0
            .iter_mut()
            .fold(chunk, |c, f| if c.is_empty() { c } else { f.data(c) })
    }

    fn retry(&mut self) -> Bytes {
        self.each_then(|f| f.retry())
    }

    fn full(&self) -> bool {
        self.0.iter().any(|f| f.full())
    }

    fn wake_at(&self) -> Option<tokio::time::Instant> {
        self.0.iter().filter_map(|f| f.wake_at()).min()
    }

    fn failed(&self) -> bool {
        self.0.iter().any(|f| f.failed())
    }

    fn end(&mut self) -> Bytes {
        self.each_then(|f| f.end())
    }

    /// What each filter lets out at the end is the last chunk of the one after it.
    fn last(&mut self, chunk: Bytes) -> Bytes {
        self.0.iter_mut().fold(chunk, |c, f| f.last(c))
    }
}

impl Chain {
    /// `last` on each filter in turn, after what the ones before let out went through it:
    /// what the last lets out.
    fn each_then(&mut self, last: impl Fn(&mut Box<dyn BodyFilter>) -> Bytes) -> Bytes {
        let mut carry = Bytes::new();
        for f in &mut self.0 {
            let passed = if carry.is_empty() {
                carry
            } else {
                f.data(carry)
            };
            carry = join(passed, last(f));
        }
        carry
    }
}

/// `a` then `b`.
pub(crate) fn join(a: Bytes, b: Bytes) -> Bytes {
    if a.is_empty() {
        b
    } else if b.is_empty() {
        a
    } else {
        let mut both = BytesMut::from(&a[..]);
        both.extend_from_slice(&b);
        both.freeze()
    }
}

/// One proxy's filters at run time.
struct ProxyFilters {
    chain: Vec<FilterPlan>,
    compression: Option<Settings>,
}

/// The caches and every proxy's filters.
#[derive(Default)]
pub struct Filters {
    pub caches: Caches,
    by_proxy: HashMap<String, ProxyFilters>,
    /// The bandwidth limitation filters (`set-bandwidth-limit` enables them).
    pub limits: crate::bwlim::Limits,
    /// Whether a proxy declares a script filter.
    has_scripts: bool,
}

impl Filters {
    pub fn build(plan: &FiltersPlan) -> Filters {
        Filters {
            caches: Caches::build(&plan.caches),
            limits: crate::bwlim::Limits::build(plan),
            has_scripts: plan
                .proxies
                .iter()
                .any(|p| p.chain.iter().any(|f| matches!(f, FilterPlan::Script(_)))),
            by_proxy: plan
                .proxies
                .iter()
                .map(|p| {
                    (
                        p.proxy.clone(),
                        ProxyFilters {
                            chain: p.chain.clone(),
                            compression: p.compression.as_ref().map(Settings::of),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The filters a transaction goes through: its frontend's, then its backend's (once for a
    /// listen section).
    fn chain_of<'a>(&'a self, txn: &Txn) -> impl Iterator<Item = &'a FilterPlan> {
        let fe = self.by_proxy.get(&*txn.frontend);
        let be = txn
            .backend
            .as_deref()
            .filter(|b| *b != &*txn.frontend)
            .and_then(|b| self.by_proxy.get(b));
        fe.into_iter().chain(be).flat_map(|p| p.chain.iter())
    }

    /// Whether a proxy declares a script filter (`filter lua.<name>`).
    pub fn has_scripts(&self) -> bool {
        self.has_scripts
    }

    /// The filters `proxy` declares.
    pub fn chain_for(&self, proxy: &str) -> Option<&[FilterPlan]> {
        self.by_proxy.get(proxy).map(|p| &p.chain[..])
    }

    /// The script filter lines of every proxy (`filter lua.<name>`).
    pub fn scripts(&self) -> impl Iterator<Item = &hapee_compiler::plan::filters::ScriptFilter> {
        self.by_proxy.values().flat_map(|p| {
            p.chain.iter().filter_map(|f| match f {
                FilterPlan::Script(s) => Some(s),
                _ => None,
            })
        })
    }

    /// The compression settings that apply: the backend's, else the frontend's.
    fn compression_of(&self, txn: &Txn) -> Option<&Settings> {
        let of = |name: &str| {
            self.by_proxy
                .get(name)
                .and_then(|p| p.compression.as_ref())
                .filter(|c| !c.algos.is_empty())
        };
        txn.backend
            .as_deref()
            .and_then(of)
            .or_else(|| of(&txn.frontend))
    }
}

/// What the filters keep of one transaction.
#[derive(Default)]
pub struct TxnFilters {
    pub cache: cache::TxnCache,
    /// The compression algorithm chosen for the response, if any.
    compression: Option<Algo>,
    /// The algorithm the response is compressed with, once its head went through the filter
    /// (`res.comp`, `res.comp_algo`).
    compressing: Option<Algo>,
    /// The bandwidth limits its rules enabled.
    pub limits: crate::bwlim::TxnLimits,
    /// The script filters attached to it.
    pub scripts: Vec<super::script_filters::Attached>,
    /// Where the script filters of the response body find the transaction while it goes
    /// out: whoever holds the transaction then lends it there.
    pub lent: Option<crate::script::TxnSlot>,
    /// The script filters a request body streaming through them took.
    pub uploading: Option<super::script_filters::Uploading>,
}

/// Before the request is forwarded (or answered from the cache): the compression filter
/// chooses its algorithm from the request (and, with `offload`, removes Accept-Encoding).
#[inline]
pub fn on_request(txn: &mut Txn) {
    if !txn.shared.filters.by_proxy.is_empty() {
        on_request_filtered(txn);
    }
}

/// [`on_request`] where some proxy has a filter: a call, so that its code does not sit in
/// the forwarding state machine of requests no filter sees.
#[inline(never)]
fn on_request_filtered(txn: &mut Txn) {
    let shared = txn.shared.clone();
    let filters = &shared.filters;
    if !filters.chain_of(txn).any(|f| *f == FilterPlan::Compression) {
        return;
    }
    let Some(settings) = filters.compression_of(txn) else {
        return;
    };
    if let Some(req) = txn.request.as_mut() {
        txn.filters.compression = compress::select(settings, &mut req.headers);
    }
}

/// When the response head is final (after the response rules): each filter in order may
/// change the head and joins the chain the body goes through. `from_cache`: the response is a
/// cache hit (no cache stores it again). `delimited`: the server's protocol delimits the body
/// (HTTP/2, FastCGI), so its length is known without a header saying it.
pub fn on_response(
    txn: &mut Txn,
    status: u16,
    headers: &mut HeaderMap,
    from_cache: bool,
    delimited: bool,
) -> Chain {
    if txn.shared.filters.by_proxy.is_empty() {
        // No proxy has a filter: only what `cache-store` kept has to go.
        txn.filters.cache.pending.clear();
        return Chain::default();
    }
    let shared = txn.shared.clone();
    let filters = &shared.filters;
    let mut chain = Chain::default();
    let mut compressing = false;
    let facts = RequestFacts {
        head: txn
            .request
            .as_ref()
            .is_some_and(|r| r.method == hyper::Method::HEAD),
        http11: txn
            .request
            .as_ref()
            .is_some_and(|r| r.version >= hyper::Version::HTTP_11),
    };
    let plan: Vec<&FilterPlan> = filters.chain_of(txn).collect();
    for filter in plan {
        match filter {
            FilterPlan::Cache(name) => {
                let pending = cache::take_pending(txn, name);
                // A response compressed by an earlier filter is not what this cache keeps.
                if let (Some(p), false, false) = (pending, compressing, from_cache) {
                    chain.0.push(Box::new(StoreTap::new(p)));
                }
            }
            FilterPlan::Compression => {
                let Some(algo) = txn.filters.compression else {
                    continue;
                };
                let Some(settings) = filters.compression_of(txn) else {
                    continue;
                };
                // Above `maxcomprate`, or on a thread busier than `maxcompcpuusage`, or
                // with no room left under `maxzlibmem`, the response goes out as it is.
                if compressing
                    || !compress::applies(settings, &facts, status, headers, delimited)
                    || compress::over_rate()
                    || compress::too_busy()
                {
                    continue;
                }
                let Some(encoder) = Encoder::new(algo) else {
                    continue;
                };
                compress::rewrite_headers(algo, headers);
                chain.0.push(Box::new(encoder));
                compressing = true;
                txn.filters.compressing = Some(algo);
            }
            // The first takes them all: their ends go together.
            FilterPlan::Script(_) => {
                if let Some(f) = super::script_filters::body_filter(txn) {
                    chain.0.push(f);
                }
            }
            FilterPlan::Trace | FilterPlan::BandwidthLimit(_) | FilterPlan::Spoe(_) => {}
        }
    }
    // Responses `cache-store` kept for a cache this transaction has no filter of.
    txn.filters.cache.pending.clear();
    chain
}

/// `res.comp`: whether the compression filter compresses the response (identity counts);
/// `res.comp_algo`: with which algorithm, as `compression algo` names it.
pub fn compression_fetch(name: &str, txn: &Txn) -> Option<crate::sample::Value> {
    use crate::sample::Value;
    let algo = txn.filters.compressing;
    match name {
        "res.comp" => Some(Value::Bool(algo.is_some())),
        _ => algo.map(|a| Value::Str(a.name().to_string())),
    }
}

/// Rule actions of the filters: `cache-use`, `cache-store`, `set-bandwidth-limit`.
#[derive(Debug)]
pub enum FilterAction {
    CacheUse(Arc<str>),
    CacheStore(Arc<str>),
    BandwidthLimit(crate::bwlim::SetLimit),
}

impl FilterAction {
    pub fn compile(
        action: &str,
        args: &[String],
    ) -> Result<Option<FilterAction>, crate::sample::Unsupported> {
        let name = || Arc::from(args.first().map_or("", String::as_str));
        Ok(Some(match action {
            "cache-use" => FilterAction::CacheUse(name()),
            "cache-store" => FilterAction::CacheStore(name()),
            "set-bandwidth-limit" => {
                FilterAction::BandwidthLimit(crate::bwlim::SetLimit::compile(args)?)
            }
            _ => return Ok(None),
        }))
    }

    pub fn run(&self, txn: &mut Txn) {
        let shared = txn.shared.clone();
        match self {
            FilterAction::CacheUse(name) => {
                if let Some(c) = shared.filters.caches.get(name) {
                    cache::use_cache(txn, c);
                }
            }
            FilterAction::CacheStore(name) => {
                if let Some(c) = shared.filters.caches.get(name) {
                    cache::store_response(txn, c);
                }
            }
            FilterAction::BandwidthLimit(set) => set.run(txn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Upper;
    impl BodyFilter for Upper {
        fn data(&mut self, chunk: Bytes) -> Bytes {
            Bytes::from(chunk.to_ascii_uppercase())
        }
        fn end(&mut self) -> Bytes {
            Bytes::from_static(b"!")
        }
    }

    #[test]
    fn a_filters_tail_goes_through_the_filters_after_it() {
        let chain = Chain(vec![
            Box::new(compress::Encoder::new(Algo::Identity).unwrap()),
            Box::new(Upper),
        ]);
        assert_eq!(
            chain.whole(Bytes::from_static(b"ab")),
            Bytes::from_static(b"AB!")
        );
        struct Tail;
        impl BodyFilter for Tail {
            fn data(&mut self, chunk: Bytes) -> Bytes {
                chunk
            }
            fn end(&mut self) -> Bytes {
                Bytes::from_static(b"z")
            }
        }
        let chain = Chain(vec![Box::new(Tail), Box::new(Upper)]);
        assert_eq!(
            chain.whole(Bytes::from_static(b"a")),
            Bytes::from_static(b"AZ!")
        );
    }
}
