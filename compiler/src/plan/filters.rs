//! HTTP data filters, lowered for the runtime: `cache` sections, each proxy's filter chain
//! (explicit `filter` lines, and the cache and compression filters HAProxy declares on its own)
//! and its `compression` settings.

use crate::ir::filter_chain::Link;
use crate::ir::{Config, DirectiveLine, Proxy, ProxyKind};
use crate::registry::SectionKind;
use serde::Serialize;

/// The block size HAProxy counts cache memory in.
const CACHE_BLOCK: u64 = 1024;

/// One `cache` section.
#[derive(Clone, Debug, Serialize)]
pub struct CachePlan {
    pub name: String,
    /// `total-max-size`, in bytes (written in megabytes).
    pub total_max_size: u64,
    /// `max-object-size`, in bytes (a 256th of the total when unset).
    pub max_object_size: u64,
    /// `max-age`, in seconds (60 when unset).
    pub max_age: u32,
    /// `process-vary on`.
    pub process_vary: bool,
    /// `max-secondary-entries` (10 when unset).
    pub max_secondary_entries: u32,
}

/// A filter of a proxy's chain, in the order responses go through them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FilterPlan {
    /// The cache filter of the named cache: it stores what `cache-store` accepts.
    Cache(String),
    Compression,
    /// `filter trace`: it only reports what it sees.
    Trace,
    /// `filter bwlim-in|bwlim-out <name> …`.
    BandwidthLimit(BandwidthLimit),
    /// `filter spoe`: the engine its SPOE file declares.
    Spoe(Box<crate::spoe::SpoeEngine>),
    /// `filter lua.<name> [args…]`: a filter a script registers (`core.register_filter`).
    Script(ScriptFilter),
}

/// One `filter lua.<name>` line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScriptFilter {
    /// Numbers the configuration's script filter lines from 0, in the order proxies are
    /// lowered: each line gets its own copy of the script's class, as in HAProxy.
    pub id: usize,
    /// The registered name, without `lua.`.
    pub name: String,
    pub args: Vec<String>,
}

/// One bandwidth limitation filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BandwidthLimit {
    pub name: String,
    /// `bwlim-in` (uploads) or `bwlim-out` (downloads).
    pub upload: bool,
    /// `default-limit` (bytes per period) or `limit` (shared per key).
    pub limit: u64,
    /// `default-period`, in milliseconds (1s for the shared form).
    pub period: u32,
    /// `key`: the limit is shared by the streams of one key (kept as written).
    pub key: Option<String>,
    /// The stick table of the shared form: `table`, else the proxy's own.
    pub table: Option<String>,
    /// `min-size`: the smallest amount forwarded at once.
    pub min_size: u64,
}

/// `compression algo|type|offload`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompressionPlan {
    /// The algorithms in the order written.
    pub algos: Vec<String>,
    /// Content-type prefixes; empty: every type but multipart.
    pub types: Vec<String>,
    pub offload: bool,
}

/// A proxy's filters.
#[derive(Clone, Debug, Serialize)]
pub struct ProxyFilters {
    pub proxy: String,
    pub chain: Vec<FilterPlan>,
    pub compression: Option<CompressionPlan>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FiltersPlan {
    pub caches: Vec<CachePlan>,
    /// Proxies with at least one filter or compression setting.
    pub proxies: Vec<ProxyFilters>,
}

/// The caches and the proxies' filters of a configuration.
pub fn lower(config: &Config) -> FiltersPlan {
    let caches = config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Cache)
        .map(|s| cache(s.name.as_ref().map_or("", |n| n.value.as_str()), &s.lines))
        .collect();
    let mut scripts = 0;
    let proxies = config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults && !p.disabled)
        .filter_map(|p| proxy_filters(p, &config.spoe_engines, &mut scripts))
        .collect();
    FiltersPlan { caches, proxies }
}

fn cache(name: &str, lines: &[DirectiveLine]) -> CachePlan {
    let arg = |keyword: &str| {
        lines
            .iter()
            .rev()
            .find(|d| d.keyword == keyword)
            .and_then(|d| d.args.first())
            .map(|a| a.to_string())
    };
    let total = arg("total-max-size")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
        * 1024;
    let object = arg("max-object-size")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&v| v > 0)
        .unwrap_or((total / CACHE_BLOCK * CACHE_BLOCK) >> 8);
    CachePlan {
        name: name.to_string(),
        total_max_size: total,
        max_object_size: object,
        max_age: arg("max-age").map_or(60, |v| leading_int(&v)),
        process_vary: arg("process-vary").is_some_and(|v| v == "on"),
        max_secondary_entries: arg("max-secondary-entries")
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(10),
    }
}

/// The number a string starts with, as C's `atoi` reads it (0 when none or negative).
fn leading_int(s: &str) -> u32 {
    u32::try_from(crate::cnum::atol(s).max(0)).unwrap_or(u32::MAX)
}

fn proxy_filters(
    p: &Proxy,
    spoe: &[crate::spoe::SpoeEngine],
    scripts: &mut usize,
) -> Option<ProxyFilters> {
    let mut compression: Option<CompressionPlan> = None;
    for d in p.directives.iter().filter(|d| d.keyword == "compression") {
        let c = compression.get_or_insert_with(Default::default);
        let values = d.args.iter().skip(1).map(|a| a.to_string());
        match d.args.first().map_or("", |a| a.as_str()) {
            // Each line replaces the list of the lines before (a proxy's first line
            // also replaces what it inherited).
            "algo" => c.algos = values.collect(),
            "type" => c.types = values.collect(),
            "offload" => c.offload = p.kind != ProxyKind::Defaults,
            _ => {}
        }
    }
    // The chain's order (implicit cache filters where their first rule is, an explicit
    // declaration in place of an implicit one) is the checks' (`ir::filter_chain`).
    let mut chain: Vec<FilterPlan> = Vec::new();
    for link in crate::ir::filter_chain::links(p) {
        let d = match link {
            Link::Cache { name, .. } => {
                chain.push(FilterPlan::Cache(name.to_string()));
                continue;
            }
            // FastCGI is the backend's application, not a filter of the plan.
            Link::Fcgi { .. } => continue,
            Link::Declared(d) => d,
        };
        match d.args.first().map_or("", |a| a.as_str()) {
            "compression" => chain.push(FilterPlan::Compression),
            "trace" => chain.push(FilterPlan::Trace),
            "spoe" => {
                if let Some(e) = spoe.iter().find(|e| e.filter_line == d.span) {
                    chain.push(FilterPlan::Spoe(Box::new(e.clone())));
                }
            }
            script if script.starts_with("lua.") => {
                chain.push(FilterPlan::Script(ScriptFilter {
                    id: *scripts,
                    name: script["lua.".len()..].to_string(),
                    args: d.args.iter().skip(1).map(|a| a.to_string()).collect(),
                }));
                *scripts += 1;
            }
            kind @ ("bwlim-in" | "bwlim-out") => chain.push(FilterPlan::BandwidthLimit(bwlim(
                kind,
                &d.args,
                p.name_str(),
            ))),
            _ => {}
        }
    }
    // The compression filter HAProxy adds itself goes last.
    if compression.is_some() && !chain.contains(&FilterPlan::Compression) {
        chain.push(FilterPlan::Compression);
    }
    if chain.is_empty() && compression.is_none() {
        return None;
    }
    Some(ProxyFilters {
        proxy: p.name_str().to_string(),
        chain,
        compression,
    })
}

fn bwlim(kind: &str, args: &[crate::ir::Text], proxy: &str) -> BandwidthLimit {
    let value = |key: &str| {
        args.iter()
            .position(|a| a.as_str() == key)
            .and_then(|i| args.get(i + 1))
            .map(|a| a.to_string())
    };
    let key = value("key");
    let limit = value(if key.is_some() {
        "limit"
    } else {
        "default-limit"
    });
    BandwidthLimit {
        name: args.get(1).map_or(String::new(), |a| a.to_string()),
        upload: kind == "bwlim-in",
        limit: limit.as_deref().and_then(size).unwrap_or(0),
        period: value("default-period")
            .and_then(|p| super::lower::ms(&p))
            .unwrap_or(1000),
        table: key
            .is_some()
            .then(|| value("table").unwrap_or_else(|| proxy.to_string())),
        key,
        min_size: value("min-size").as_deref().and_then(size).unwrap_or(0),
    }
}

/// A size with HAProxy's optional `k`, `m` or `g` suffix (powers of 1024).
fn size(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cfg: &str) -> FiltersPlan {
        let c = crate::testkit::compile_text("t.cfg", cfg, false);
        lower(&c.config)
    }

    #[test]
    fn cache_sections_take_haproxy_defaults() {
        let p = plan("cache c\n    total-max-size 4\n");
        let c = &p.caches[0];
        assert_eq!(c.name, "c");
        assert_eq!(c.total_max_size, 4 << 20);
        assert_eq!(c.max_object_size, (4 << 20) >> 8);
        assert_eq!(c.max_age, 60);
        assert!(!c.process_vary);
        assert_eq!(c.max_secondary_entries, 10);
    }

    #[test]
    fn the_implicit_compression_filter_comes_after_the_implicit_cache() {
        let p = plan(
            "backend b\n    mode http\n    compression algo gzip deflate\n    compression type text/plain\n    \
             http-request cache-use c\n    http-response cache-store c\n    server s 127.0.0.1:80\n\
             cache c\n    total-max-size 1\n",
        );
        let b = &p.proxies[0];
        assert_eq!(
            b.chain,
            [FilterPlan::Cache("c".into()), FilterPlan::Compression]
        );
        let comp = b.compression.as_ref().unwrap();
        assert_eq!(comp.algos, ["gzip", "deflate"]);
        assert_eq!(comp.types, ["text/plain"]);
    }

    #[test]
    fn an_explicit_filter_line_sets_the_place_of_its_filter() {
        let p = plan(
            "frontend f\n    mode http\n    bind :80\n    compression algo gzip\n    \
             filter trace name A\n    filter compression\n    filter trace name B\n    \
             filter bwlim-out lim default-limit 10k default-period 1s\n    default_backend b\n\
             backend b\n    mode http\n    server s 127.0.0.1:80\n",
        );
        let f = &p.proxies[0];
        assert_eq!(f.chain.len(), 4);
        assert_eq!(f.chain[1], FilterPlan::Compression);
        let FilterPlan::BandwidthLimit(l) = &f.chain[3] else {
            panic!("{:?}", f.chain)
        };
        assert_eq!((l.limit, l.period, l.upload), (10240, 1000, false));
    }
}
