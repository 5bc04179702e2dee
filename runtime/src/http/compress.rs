//! HTTP response compression as HAProxy 2.7 does it (`compression algo|type|offload`, `filter
//! compression`): the algorithm is chosen from the request's Accept-Encoding, the response is
//! compressed when nothing forbids it, and the body is compressed as it streams (flate2), each
//! chunk flushed so that nothing waits for the end of the body.

use bytes::Bytes;
use hapee_compiler::plan::filters::CompressionPlan;
use hyper::header::{HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

/// A compression algorithm of `compression algo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    Identity,
    /// zlib format (RFC 1950), announced as `deflate`.
    Deflate,
    /// Raw deflate (RFC 1951), also announced as `deflate`.
    RawDeflate,
    Gzip,
}

impl Algo {
    fn parse(name: &str) -> Option<Algo> {
        Some(match name {
            "identity" => Algo::Identity,
            "deflate" => Algo::Deflate,
            "raw-deflate" => Algo::RawDeflate,
            "gzip" => Algo::Gzip,
            _ => return None,
        })
    }

    /// Its name in `compression algo`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Identity => "identity",
            Algo::Deflate => "deflate",
            Algo::RawDeflate => "raw-deflate",
            Algo::Gzip => "gzip",
        }
    }

    /// The content-coding token clients name it by.
    pub fn token(self) -> &'static str {
        match self {
            Algo::Identity => "identity",
            Algo::Deflate | Algo::RawDeflate => "deflate",
            Algo::Gzip => "gzip",
        }
    }
}

/// A proxy's compression settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub algos: Vec<Algo>,
    /// Content-type prefixes, lowercase; empty: any type but multipart.
    pub types: Vec<String>,
    pub offload: bool,
}

impl Settings {
    pub fn of(plan: &CompressionPlan) -> Settings {
        Settings {
            algos: plan.algos.iter().filter_map(|a| Algo::parse(a)).collect(),
            types: plan.types.iter().map(|t| t.to_ascii_lowercase()).collect(),
            offload: plan.offload,
        }
    }
}

/// Old Netscape 4 browsers mishandle compressed responses; Internet Explorer 6 SP2 and later
/// announce themselves as Mozilla/4 too but cope.
fn broken_user_agent(ua: &[u8]) -> bool {
    if ua.len() < 9 || &ua[..9] != b"Mozilla/4" {
        return false;
    }
    if ua.len() < 31 || &ua[25..30] != b"MSIE " || ua[30] < b'6' {
        return true;
    }
    ua[30] == b'6' && (ua.len() < 54 || &ua[51..54] != b"SV1")
}

/// An Accept-Encoding element's q-value in thousandths (1000 when absent).
fn qvalue(params: &str) -> u32 {
    for p in params.split(';').map(str::trim) {
        if let Some(q) = p.strip_prefix("q=") {
            let (int, frac) = q.split_once('.').unwrap_or((q, ""));
            if int.trim() == "1" {
                return 1000;
            }
            if int.trim() != "0" {
                return 0;
            }
            let digits: String = frac.chars().take(3).collect();
            let scaled = format!("{digits:0<3}");
            return scaled.parse().unwrap_or(0);
        }
    }
    1000
}

/// Chooses the algorithm for a request: the configured one the client accepts with the highest
/// weight (`*` standing for any), else `identity` when configured. With `offload`, the
/// request's Accept-Encoding is removed so that the server sends its response uncompressed.
pub fn select(settings: &Settings, request: &mut HeaderMap) -> Option<Algo> {
    if settings.algos.is_empty() {
        return None;
    }
    if request
        .get(hyper::header::USER_AGENT)
        .is_some_and(|ua| broken_user_agent(ua.as_bytes()))
    {
        return None;
    }
    let mut best: Option<(Algo, u32)> = None;
    for value in request.get_all(hyper::header::ACCEPT_ENCODING) {
        let text = value.to_str().unwrap_or("");
        for element in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (token, params) = element.split_once(';').unwrap_or((element, ""));
            let token = token.trim();
            let q = qvalue(params);
            if q <= best.map_or(0, |(_, q)| q) {
                continue;
            }
            if let Some(algo) = settings
                .algos
                .iter()
                .find(|a| token == "*" || token.eq_ignore_ascii_case(a.token()))
            {
                best = Some((*algo, q));
            }
        }
    }
    if let Some((algo, _)) = best {
        if settings.offload {
            request.remove(hyper::header::ACCEPT_ENCODING);
        }
        return Some(algo);
    }
    settings
        .algos
        .iter()
        .find(|a| **a == Algo::Identity)
        .copied()
}

/// What of the request the response decision needs.
pub struct RequestFacts {
    pub head: bool,
    pub http11: bool,
}

/// Whether a response is compressed: a 200 to 203 to an HTTP/1.1 request other than HEAD, with
/// a body of known length, not already encoded, without `Cache-Control: no-transform`, with
/// at most one well-formed ETag, of a configured content type (never multipart). A body's
/// length is known from its `Content-Length` or `Transfer-Encoding`, or, with `delimited`,
/// from the server's protocol itself (HTTP/2 frames, FastCGI records), as HAProxy counts it;
/// only an HTTP/1 body that ends with the connection is not.
pub fn applies(
    settings: &Settings,
    req: &RequestFacts,
    status: u16,
    h: &HeaderMap,
    delimited: bool,
) -> bool {
    if req.head || !req.http11 || !(200..=203).contains(&status) {
        return false;
    }
    let framed = delimited
        || h.contains_key(hyper::header::CONTENT_LENGTH)
        || h.contains_key(hyper::header::TRANSFER_ENCODING);
    if !framed || h.contains_key(hyper::header::CONTENT_ENCODING) {
        return false;
    }
    let no_transform = super::cache::policy::elements(h, "cache-control")
        .any(|d| d.eq_ignore_ascii_case("no-transform"));
    if no_transform {
        return false;
    }
    let mut etags = h.get_all(hyper::header::ETAG).iter();
    if let Some(etag) = etags.next() {
        let e = etag.as_bytes();
        let weak = e.len() >= 4 && e.starts_with(b"W/\"");
        let strong = e.len() >= 2 && e[0] == b'"';
        if !((weak || strong) && e.ends_with(b"\"")) || etags.next().is_some() {
            return false;
        }
    }
    match h.get(hyper::header::CONTENT_TYPE) {
        Some(ct) => {
            let ct = ct.as_bytes();
            let starts = |prefix: &[u8]| {
                ct.len() >= prefix.len() && ct[..prefix.len()].eq_ignore_ascii_case(prefix)
            };
            !starts(b"multipart")
                && (settings.types.is_empty()
                    || settings.types.iter().any(|t| starts(t.as_bytes())))
        }
        None => settings.types.is_empty(),
    }
}

/// The header changes of a compressed response, in HAProxy's order: a length becomes
/// `Transfer-Encoding: chunked` (the length's line goes, the others keep their places), the
/// ETag turns weak, then `Vary: Accept-Encoding` and the Content-Encoding (none for identity)
/// are added.
pub fn rewrite_headers(algo: Algo, h: &mut HeaderMap) {
    if h.contains_key(hyper::header::CONTENT_LENGTH) {
        if !h.contains_key(hyper::header::TRANSFER_ENCODING) {
            h.append(
                hyper::header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            );
        }
        super::header_order::remove(h, &hyper::header::CONTENT_LENGTH);
    }
    if let Some(etag) = h.get(hyper::header::ETAG) {
        if etag.as_bytes().first() == Some(&b'"') {
            let mut weak = b"W/".to_vec();
            weak.extend_from_slice(etag.as_bytes());
            if let Ok(v) = HeaderValue::from_bytes(&weak) {
                h.insert(hyper::header::ETAG, v);
            }
        }
    }
    h.append(
        hyper::header::VARY,
        HeaderValue::from_static("Accept-Encoding"),
    );
    if algo != Algo::Identity {
        h.insert(
            hyper::header::CONTENT_ENCODING,
            HeaderValue::from_static(algo.token()),
        );
    }
}

/// The compression level, `tune.comp.maxlevel` (1 by default, as in HAProxy): process-wide,
/// set once at start.
static LEVEL: AtomicU32 = AtomicU32::new(1);

/// Keeps the plan's `tune.comp.maxlevel` for the responses compressed from now on.
pub fn set_level(level: u32) {
    LEVEL.store(level.clamp(1, 9), Ordering::Relaxed);
}

/// `maxcomprate` in bytes per second (0: none), and the bytes compressed over the last
/// second: above the limit, new responses go out uncompressed (those being compressed go on).
static RATE_LIMIT: AtomicU64 = AtomicU64::new(0);
static RATE_IN: std::sync::Mutex<crate::tables::freq::FreqCtr> =
    std::sync::Mutex::new(crate::tables::freq::FreqCtr {
        curr_tick: 0,
        curr_ctr: 0,
        prev_ctr: 0,
    });

/// Keeps `maxcomprate` (the plan's, or `set rate-limit http-compression`'s) for the
/// responses from now on.
pub fn set_rate_limit(bytes_per_second: u64) {
    RATE_LIMIT.store(bytes_per_second, Ordering::Relaxed);
}

/// The `maxcomprate` in force, in bytes per second (`CompressBpsRateLim`).
pub fn rate_limit() -> u64 {
    RATE_LIMIT.load(Ordering::Relaxed)
}

fn tick() -> u32 {
    crate::tables::now_ms() as u32
}

/// Whether the bytes compressed over the last second are above `maxcomprate`.
pub fn over_rate() -> bool {
    let limit = RATE_LIMIT.load(Ordering::Relaxed);
    limit != 0
        && RATE_IN
            .lock()
            .is_ok_and(|r| u64::from(r.read(1000, tick())) > limit)
}

/// Counts `n` bytes given to a compressor (only when a limit reads them).
fn count_input(n: usize) {
    if RATE_LIMIT.load(Ordering::Relaxed) != 0 {
        if let Ok(mut r) = RATE_IN.lock() {
            r.update(1000, u32::try_from(n).unwrap_or(u32::MAX), tick());
        }
    }
}

/// The zlib settings of every compressor started from now on (`tune.zlib.windowsize`,
/// `tune.zlib.memlevel`), the memory cap (`maxzlibmem`, 0: none), the memory the running
/// compressors hold, and the idle share a thread needs to start one (`maxcompcpuusage`).
static WINDOW_BITS: AtomicU8 = AtomicU8::new(15);
static MEM_LEVEL: AtomicU8 = AtomicU8::new(8);
static MAX_MEM: AtomicU64 = AtomicU64::new(0);
static USED_MEM: AtomicU64 = AtomicU64::new(0);
static MIN_IDLE_PCT: AtomicU32 = AtomicU32::new(0);

/// Keeps the plan's zlib settings for the compressors started from now on.
pub fn set_zlib(plan: &hapee_compiler::plan::compression::ZlibPlan) {
    WINDOW_BITS.store(plan.window_bits, Ordering::Relaxed);
    MEM_LEVEL.store(plan.mem_level, Ordering::Relaxed);
    MAX_MEM.store(plan.max_mem, Ordering::Relaxed);
    MIN_IDLE_PCT.store(plan.min_idle_pct, Ordering::Relaxed);
}

/// The memory the running compressors hold and the cap (`show info`'s ZlibMemUsage and
/// MaxZlibMemUsage), in bytes.
pub fn zlib_memory() -> (u64, u64) {
    (
        USED_MEM.load(Ordering::Relaxed),
        MAX_MEM.load(Ordering::Relaxed),
    )
}

/// Whether this thread was too busy over its last sample to start compressing a response
/// (`maxcompcpuusage`).
pub fn too_busy() -> bool {
    crate::thread_idle::idle_pct() < MIN_IDLE_PCT.load(Ordering::Relaxed)
}

/// Whether a `maxcompcpuusage` needs the threads' idle time measured.
pub fn measures_idle() -> bool {
    MIN_IDLE_PCT.load(Ordering::Relaxed) > 0
}

/// The memory zlib documents a deflate stream needs for these settings (zconf.h:
/// `(1 << (windowBits + 2)) + (1 << (memLevel + 9))`), what the cap counts per compressor.
fn stream_memory(window_bits: u8, mem_level: u8) -> u64 {
    (1u64 << (window_bits + 2)) + (1u64 << (mem_level + 9))
}

/// A compressor's share of `maxzlibmem`, given back when it ends.
struct MemoryHeld(u64);

impl MemoryHeld {
    /// Takes `bytes` unless the running compressors and these would pass the cap.
    fn take(bytes: u64) -> Option<MemoryHeld> {
        let max = MAX_MEM.load(Ordering::Relaxed);
        USED_MEM
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (max == 0 || used + bytes <= max).then_some(used + bytes)
            })
            .ok()
            .map(|_| MemoryHeld(bytes))
    }
}

impl Drop for MemoryHeld {
    fn drop(&mut self) {
        USED_MEM.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// A response body being compressed, with zlib-rs: its safe API takes the window and the
/// memory level, which flate2 does not pass on.
pub struct Encoder {
    stream: Option<(zlib_rs::Deflate, MemoryHeld)>,
}

impl Encoder {
    /// A compressor for `algo`, or `None` when it cannot start: the memory cap would be
    /// passed, or the window is 8 bits for gzip or raw deflate (zlib widens an 8-bit window
    /// to 9 for the zlib format only, and refuses it otherwise).
    pub fn new(algo: Algo) -> Option<Encoder> {
        let format_bits = |bits: u8| -> Option<i32> {
            let bits = i32::from(bits);
            match algo {
                Algo::Identity => None,
                Algo::Deflate => Some(bits),
                Algo::Gzip if bits > 8 => Some(bits + 16),
                Algo::RawDeflate if bits > 8 => Some(-bits),
                Algo::Gzip | Algo::RawDeflate => Some(0),
            }
        };
        let bits = WINDOW_BITS.load(Ordering::Relaxed);
        let Some(window_bits) = format_bits(bits) else {
            return Some(Encoder { stream: None });
        };
        if window_bits == 0 {
            return None;
        }
        let mem_level = MEM_LEVEL.load(Ordering::Relaxed);
        let held = MemoryHeld::take(stream_memory(bits.max(9), mem_level))?;
        let config = zlib_rs::DeflateConfig {
            level: LEVEL.load(Ordering::Relaxed) as i32,
            window_bits,
            mem_level: i32::from(mem_level),
            ..zlib_rs::DeflateConfig::default()
        };
        Some(Encoder {
            stream: Some((zlib_rs::Deflate::new_with_config(config), held)),
        })
    }
}

/// Feeds `input` to the compressor with `flush` and hands out all it wrote: for a sync
/// flush, until room was left over (zlib's sign the flush is complete); for the finish,
/// until the stream's end.
fn deflate(stream: &mut zlib_rs::Deflate, mut input: &[u8], flush: zlib_rs::DeflateFlush) -> Bytes {
    let mut out: Vec<u8> = Vec::new();
    loop {
        let used = out.len();
        let room = (input.len() / 2).max(4096);
        out.resize(used + room, 0);
        let (read, wrote) = (stream.total_in(), stream.total_out());
        let status = stream.compress(input, &mut out[used..], flush);
        let consumed = (stream.total_in() - read) as usize;
        let produced = (stream.total_out() - wrote) as usize;
        out.truncate(used + produced);
        input = &input[consumed.min(input.len())..];
        let done = match status {
            Ok(zlib_rs::Status::StreamEnd) | Err(_) => true,
            Ok(_) if flush == zlib_rs::DeflateFlush::Finish => false,
            Ok(_) => input.is_empty() && produced < room,
        };
        if done {
            return Bytes::from(out);
        }
    }
}

impl super::filters::BodyFilter for Encoder {
    fn data(&mut self, chunk: Bytes) -> Bytes {
        let Some((stream, _)) = &mut self.stream else {
            return chunk;
        };
        count_input(chunk.len());
        deflate(stream, &chunk, zlib_rs::DeflateFlush::SyncFlush)
    }

    fn end(&mut self) -> Bytes {
        match self.stream.take() {
            Some((mut stream, _held)) => deflate(&mut stream, &[], zlib_rs::DeflateFlush::Finish),
            None => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::filters::BodyFilter;
    use super::*;
    use crate::http::test_headers as h;
    use std::io::Read;

    fn settings(algos: &[&str], types: &[&str]) -> Settings {
        Settings::of(&CompressionPlan {
            algos: algos.iter().map(|s| s.to_string()).collect(),
            types: types.iter().map(|s| s.to_string()).collect(),
            offload: false,
        })
    }

    #[test]
    fn the_accepted_algorithm_with_the_highest_weight_wins() {
        let s = settings(&["gzip", "deflate"], &[]);
        let mut r = h(&[("accept-encoding", "gzip;q=0.5, deflate;q=0.8")]);
        assert_eq!(select(&s, &mut r), Some(Algo::Deflate));
        let mut r = h(&[("accept-encoding", "br, gzip;q=0")]);
        assert_eq!(select(&s, &mut r), None);
        let mut r = h(&[("accept-encoding", "*")]);
        assert_eq!(select(&s, &mut r), Some(Algo::Gzip));
        let mut old = h(&[
            ("accept-encoding", "gzip"),
            ("user-agent", "Mozilla/4.0 (X11)"),
        ]);
        assert_eq!(select(&s, &mut old), None);
        let identity = settings(&["identity"], &[]);
        assert_eq!(select(&identity, &mut h(&[])), Some(Algo::Identity));
        let offload = Settings { offload: true, ..s };
        let mut r = h(&[("accept-encoding", "gzip")]);
        assert_eq!(select(&offload, &mut r), Some(Algo::Gzip));
        assert!(!r.contains_key("accept-encoding"));
    }

    #[test]
    fn what_is_never_compressed() {
        let s = settings(&["gzip"], &["text/plain"]);
        let req = RequestFacts {
            head: false,
            http11: true,
        };
        let ok = h(&[
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", "9"),
        ]);
        assert!(applies(&s, &req, 200, &ok, false));
        assert!(!applies(&s, &req, 204, &ok, false));
        assert!(!applies(&s, &req, 304, &ok, false));
        let head = RequestFacts {
            head: true,
            http11: true,
        };
        assert!(!applies(&s, &head, 200, &ok, false));
        let html = h(&[("content-type", "text/html"), ("content-length", "9")]);
        assert!(!applies(&s, &req, 200, &html, false));
        let encoded = h(&[
            ("content-type", "text/plain"),
            ("content-length", "9"),
            ("content-encoding", "br"),
        ]);
        assert!(!applies(&s, &req, 200, &encoded, false));
        let no_transform = h(&[
            ("content-type", "text/plain"),
            ("transfer-encoding", "chunked"),
            ("cache-control", "public, no-transform"),
        ]);
        assert!(!applies(&s, &req, 200, &no_transform, false));
        let bad_etag = h(&[
            ("content-type", "text/plain"),
            ("content-length", "9"),
            ("etag", "abc"),
        ]);
        assert!(!applies(&s, &req, 200, &bad_etag, false));
        let any = settings(&["gzip"], &[]);
        let multipart = h(&[("content-type", "multipart/mixed"), ("content-length", "9")]);
        assert!(!applies(&any, &req, 200, &multipart, false));
        assert!(applies(
            &any,
            &req,
            200,
            &h(&[("content-length", "9")]),
            false
        ));
        // A body that ends with its HTTP/1 connection has no known length; one whose
        // server's protocol delimits it (HTTP/2, FastCGI) has.
        let unframed = h(&[("content-type", "text/plain")]);
        assert!(!applies(&s, &req, 200, &unframed, false));
        assert!(applies(&s, &req, 200, &unframed, true));
    }

    #[test]
    fn headers_are_rewritten_as_haproxy_does() {
        let mut r = h(&[("content-length", "9"), ("etag", "\"v1\""), ("x-last", "1")]);
        rewrite_headers(Algo::Gzip, &mut r);
        assert!(!r.contains_key("content-length"));
        let names: Vec<&str> = r.keys().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "etag",
                "x-last",
                "transfer-encoding",
                "vary",
                "content-encoding"
            ]
        );
        assert_eq!(r["etag"], "W/\"v1\"");
        assert_eq!(r["vary"], "Accept-Encoding");
        assert_eq!(r["content-encoding"], "gzip");
        let mut r = h(&[("etag", "W/\"v1\"")]);
        rewrite_headers(Algo::Identity, &mut r);
        assert_eq!(r["etag"], "W/\"v1\"");
        assert!(!r.contains_key("content-encoding"));
    }

    #[test]
    fn a_streamed_body_decompresses_to_the_original() {
        let text = "hello compressed world ".repeat(500);
        for algo in [Algo::Gzip, Algo::Deflate, Algo::RawDeflate] {
            let mut e = Encoder::new(algo).unwrap();
            let mut out = Vec::new();
            for chunk in text.as_bytes().chunks(700) {
                let piece = e.data(Bytes::copy_from_slice(chunk));
                // Each chunk is flushed: output comes out as input goes in.
                assert!(!piece.is_empty(), "{algo:?}");
                out.extend_from_slice(&piece);
            }
            out.extend_from_slice(&e.end());
            let mut plain = String::new();
            match algo {
                Algo::Gzip => flate2::read::GzDecoder::new(&out[..]).read_to_string(&mut plain),
                Algo::Deflate => {
                    flate2::read::ZlibDecoder::new(&out[..]).read_to_string(&mut plain)
                }
                _ => flate2::read::DeflateDecoder::new(&out[..]).read_to_string(&mut plain),
            }
            .unwrap();
            assert_eq!(plain, text, "{algo:?}");
            assert!(out.len() < text.len() / 4);
        }
    }
}
