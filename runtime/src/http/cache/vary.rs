//! `Vary` under `process-vary on` (sans-I/O): the request headers a response may vary on
//! (Accept-Encoding, Referer, Origin), and the secondary key that tells the stored variants of
//! one URL apart.

use super::policy::elements;
use hyper::header::HeaderMap;

/// Which request headers a response varies on, as bits.
pub const ACCEPT_ENCODING: u8 = 1;
pub const REFERER: u8 = 2;
pub const ORIGIN: u8 = 4;
const ALL: u8 = ACCEPT_ENCODING | REFERER | ORIGIN;

/// Encodings the cache tells apart, as bits of an Accept-Encoding bitmap.
const GZIP: u32 = 1 << 0;
const DEFLATE: u32 = 1 << 1;
const BR: u32 = 1 << 2;
const COMPRESS: u32 = 1 << 3;
const AES128GCM: u32 = 1 << 4;
const EXI: u32 = 1 << 5;
const PACK200_GZIP: u32 = 1 << 6;
const ZSTD: u32 = 1 << 7;
const IDENTITY: u32 = 1 << 8;
const STAR: u32 = 1 << 9;
/// An encoding the cache does not know.
const OTHER: u32 = 1 << 10;
/// More Accept-Encoding elements than this: the request is not trusted to build a key.
const MAX_ACCEPT_ENCODINGS: usize = 16;

/// The `Vary` signature of a response: `None` when it varies on a header the cache cannot key
/// on (such a response is not stored).
pub fn signature(response: &HeaderMap) -> Option<u8> {
    let mut bits = 0;
    for name in elements(response, "vary") {
        bits |= match name.to_ascii_lowercase().as_str() {
            "accept-encoding" => ACCEPT_ENCODING,
            "referer" => REFERER,
            "origin" => ORIGIN,
            _ => return None,
        };
    }
    Some(bits)
}

/// One request's values of the headers a response may vary on: the Accept-Encoding bitmap and
/// hashes of the first Referer and Origin (0 when absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecondaryKey {
    pub encodings: u32,
    pub referer: u64,
    pub origin: u64,
}

impl SecondaryKey {
    /// The key of a request for every header; `None` when its Accept-Encoding cannot be used.
    pub fn of_request(request: &HeaderMap) -> Option<SecondaryKey> {
        Some(SecondaryKey {
            encodings: accepted_encodings(request)?,
            referer: first_hash(request, "referer"),
            origin: first_hash(request, "origin"),
        })
    }

    /// Only the parts a response with this signature varies on.
    pub fn reduce(self, signature: u8) -> SecondaryKey {
        SecondaryKey {
            encodings: if signature & ACCEPT_ENCODING != 0 {
                self.encodings
            } else {
                0
            },
            referer: if signature & REFERER != 0 {
                self.referer
            } else {
                0
            },
            origin: if signature & ORIGIN != 0 {
                self.origin
            } else {
                0
            },
        }
    }

    /// Whether a stored variant with this key (its encodings part being the response's own
    /// encoding) may answer a request with key `request`: the request accepts every encoding
    /// of the stored response, and the other parts are equal.
    pub fn serves(&self, request: &SecondaryKey) -> bool {
        let encodings_ok =
            self.encodings & OTHER == 0 && (self.encodings & request.encodings) == self.encodings;
        encodings_ok && self.referer == request.referer && self.origin == request.origin
    }

    /// The key as `show cache` prints it (hex of its 20 bytes).
    pub fn hex(&self) -> String {
        let mut bytes = Vec::with_capacity(20);
        bytes.extend_from_slice(&self.encodings.to_ne_bytes());
        bytes.extend_from_slice(&self.referer.to_ne_bytes());
        bytes.extend_from_slice(&self.origin.to_ne_bytes());
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The key part of a stored response that varies on Accept-Encoding: the bitmap of its own
/// Content-Encoding (identity when none). `None`: an encoding the cache does not know (such a
/// response is not stored).
pub fn response_encodings(response: &HeaderMap) -> Option<u32> {
    let mut bits = 0;
    for e in elements(response, "content-encoding") {
        let (bit, _) = encoding(&e.to_ascii_lowercase())?;
        bits |= bit;
    }
    Some(if bits == 0 { IDENTITY } else { bits })
}

/// The bit of one Accept-Encoding element and whether its weight is zero; `None` when unknown.
fn encoding(element: &str) -> Option<(u32, bool)> {
    let (name, params) = match element.split_once(';') {
        Some((n, p)) => (n.trim_end(), Some(p.trim())),
        None => (element.trim_end(), None),
    };
    let bit = match name {
        "gzip" | "x-gzip" => GZIP,
        "deflate" => DEFLATE,
        "br" => BR,
        "compress" | "x-compress" => COMPRESS,
        "aes128gcm" => AES128GCM,
        "exi" => EXI,
        "pack200-gzip" => PACK200_GZIP,
        "zstd" => ZSTD,
        "identity" => IDENTITY,
        "*" => STAR,
        _ => return None,
    };
    Some((bit, params == Some("q=0")))
}

/// The encodings a request accepts, as a bitmap: identity unless refused, every encoding for
/// `*` or without the header, minus those given a zero weight.
fn accepted_encodings(request: &HeaderMap) -> Option<u32> {
    let mut accepted = IDENTITY;
    let mut refused = 0u32;
    let mut count = 0;
    let mut present = false;
    for value in request.get_all("accept-encoding") {
        present = true;
        let text = value.to_str().unwrap_or("").to_ascii_lowercase();
        for element in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            count += 1;
            if count >= MAX_ACCEPT_ENCODINGS {
                return None;
            }
            match encoding(element) {
                Some((bit, true)) => refused |= bit,
                Some((bit, false)) => accepted |= bit,
                None => accepted |= OTHER,
            }
        }
    }
    if !present {
        return Some(u32::MAX);
    }
    if accepted & STAR != 0 {
        accepted = u32::MAX;
    }
    Some(accepted & !refused)
}

fn first_hash(request: &HeaderMap, name: &str) -> u64 {
    request
        .get(name)
        .map_or(0, |v| xxhash_rust::xxh64::xxh64(v.as_bytes(), 0))
}

/// Every header a response may vary on, for a request whose response is not known yet.
pub const PREBUILD: u8 = ALL;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers as h;

    #[test]
    fn vary_on_an_unknown_header_is_not_keyable() {
        assert_eq!(signature(&h(&[])), Some(0));
        assert_eq!(
            signature(&h(&[("vary", "Accept-Encoding, origin")])),
            Some(ACCEPT_ENCODING | ORIGIN)
        );
        assert_eq!(
            signature(&h(&[("vary", "accept-encoding, user-agent")])),
            None
        );
    }

    #[test]
    fn a_gzip_variant_serves_clients_that_accept_gzip_only() {
        let stored = SecondaryKey {
            encodings: response_encodings(&h(&[("content-encoding", "gzip")])).unwrap(),
            ..Default::default()
        };
        let gzip = SecondaryKey::of_request(&h(&[("accept-encoding", "br, gzip;q=0.8")])).unwrap();
        let refuses = SecondaryKey::of_request(&h(&[("accept-encoding", "br, gzip;q=0")])).unwrap();
        let none = SecondaryKey::of_request(&h(&[])).unwrap();
        assert!(stored.serves(&gzip.reduce(ACCEPT_ENCODING)));
        assert!(!stored.serves(&refuses.reduce(ACCEPT_ENCODING)));
        assert!(stored.serves(&none.reduce(ACCEPT_ENCODING)));
        let identity = SecondaryKey {
            encodings: response_encodings(&h(&[])).unwrap(),
            ..Default::default()
        };
        let no_identity =
            SecondaryKey::of_request(&h(&[("accept-encoding", "gzip, identity;q=0")])).unwrap();
        assert!(!identity.serves(&no_identity.reduce(ACCEPT_ENCODING)));
        assert!(response_encodings(&h(&[("content-encoding", "snappy")])).is_none());
    }

    #[test]
    fn referer_and_origin_vary_by_value() {
        let a = SecondaryKey::of_request(&h(&[("referer", "http://a/")])).unwrap();
        let b = SecondaryKey::of_request(&h(&[("referer", "http://b/")])).unwrap();
        let stored = a.reduce(REFERER);
        assert!(stored.serves(&a.reduce(REFERER)));
        assert!(!stored.serves(&b.reduce(REFERER)));
        // Not varying on Referer: any value is served.
        assert!(a.reduce(ORIGIN).serves(&b.reduce(ORIGIN)));
    }
}
