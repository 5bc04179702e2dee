//! Certificates made on the fly (`generate-certificates`): when no certificate of a listener
//! covers the name a client asks for, one is made for that name, signed by the `ca-sign-file`
//! CA, kept in a process-wide LRU cache (`tune.ssl.ssl-ctx-cache-size` entries) and served
//! with the CA and its chain behind it.
//!
//! The certificate is the one HAProxy 2.7 makes: X.509 v3, a serial counting up from the
//! start time in milliseconds, valid from a day ago for a year, the key of the listener's
//! default certificate, the CA's subject as issuer, the CA's subject plus a `CN=<name>` as
//! subject, and the extensions basicConstraints `CA:FALSE`, a Netscape comment, subject and
//! authority key identifiers (key id, issuer name and serial), keyUsage and a DNS SAN. It is
//! written in DER here because the subject keeps the CA's own CN before the new one, which
//! certificate builders do not allow. One difference: HAProxy signs with SHA-256 whatever
//! the CA's curve; with a P-384 or P-521 CA key this signs with the curve's own digest.

use rustls::sign::{CertifiedKey, SigningKey};
use rustls::SignatureScheme;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use x509_parser::prelude::*;

/// Makes certificates for one listener.
pub struct CertGenerator {
    /// Tells this generator's entries apart in the shared cache.
    id: u64,
    /// The CA's subject and issuer names (DER), its serial (the INTEGER's content bytes) and
    /// its subject key identifier.
    ca_subject: Vec<u8>,
    ca_issuer: Vec<u8>,
    ca_serial: Vec<u8>,
    ca_key_id: Option<Vec<u8>>,
    /// The CA certificate and the rest of its file's chain, served after the made one.
    ca_chain: Vec<CertificateDer<'static>>,
    ca_key: Arc<dyn SigningKey>,
    /// The default certificate's public key (DER SubjectPublicKeyInfo) and private key.
    leaf_spki: Vec<u8>,
    leaf_key: Arc<dyn SigningKey>,
    cache_size: usize,
}

impl std::fmt::Debug for CertGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertGenerator")
            .field("id", &self.id)
            .finish()
    }
}

impl CertGenerator {
    /// Loads the CA of `ca_sign_file` (certificate, chain and key in one PEM file) and takes
    /// the key of the listener's default certificate `default`. Errors are HAProxy's.
    pub fn new(
        ca_sign_file: &str,
        default: &CertifiedKey,
        cache_size: usize,
    ) -> Result<CertGenerator, String> {
        let failed =
            |why: &str| format!("Failed to read CA certificate file '{ca_sign_file}'. {why}");
        let pem = std::fs::read(ca_sign_file)
            .map_err(|e| failed(&format!("Chain loading failed: {e}")))?;
        let ca_chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| failed(&format!("Chain loading failed: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&pem);
        let (Some(ca), Ok(key)) = (ca_chain.first(), key) else {
            let encrypted = String::from_utf8_lossy(&pem).contains("ENCRYPTED");
            return Err(failed(if encrypted {
                "Chain missing certificate or private key (encrypted keys are not read)"
            } else {
                "Chain missing certificate or private key"
            }));
        };
        let ca_key = super::provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| failed(&format!("Unusable private key: {e}")))?;
        let (_, cert) = X509Certificate::from_der(ca.as_ref())
            .map_err(|e| failed(&format!("Unreadable certificate: {e}")))?;
        let ca_key_id = cert
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            });
        let leaf = default
            .cert
            .first()
            .ok_or("the default certificate is missing")?;
        let (_, leaf) = X509Certificate::from_der(leaf.as_ref())
            .map_err(|e| format!("unreadable default certificate: {e}"))?;
        static IDS: AtomicU64 = AtomicU64::new(1);
        Ok(CertGenerator {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            ca_subject: cert.subject().as_raw().to_vec(),
            ca_issuer: cert.issuer().as_raw().to_vec(),
            ca_serial: cert.raw_serial().to_vec(),
            ca_key_id,
            ca_chain,
            ca_key,
            leaf_spki: leaf.public_key().raw.to_vec(),
            leaf_key: default.key.clone(),
            cache_size,
        })
    }

    /// The certificate for `name` (lower-case), from the cache or made now; `None` when it
    /// cannot be made (the listener's default certificate is served then).
    pub fn get(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let key = (self.id, name.to_string());
        let mut cache = cache_lock();
        cache.capacity = self.cache_size;
        if let Some(found) = cache.get(&key) {
            return Some(found);
        }
        drop(cache);
        let made = Arc::new(self.make(name).ok()?);
        LAST_MADE.with(|last| *last.borrow_mut() = Some((key.clone(), made.clone())));
        let mut cache = cache_lock();
        cache.insert(key, made.clone());
        Some(made)
    }

    /// The certificate already made for `name`: from the cache, or (without a cache) the
    /// last one this thread made, which is the one its handshake just served.
    pub fn cached(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let key = (self.id, name.to_string());
        cache_lock().peek(&key).or_else(|| {
            LAST_MADE.with(|last| {
                last.borrow()
                    .as_ref()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, c)| c.clone())
            })
        })
    }

    /// Makes and signs the certificate for `name`.
    fn make(&self, name: &str) -> Result<CertifiedKey, String> {
        // OpenSSL refuses a CN longer than 64 characters.
        if name.is_empty() || name.len() > 64 {
            return Err(format!("'{name}' cannot be a common name"));
        }
        let signer = self
            .ca_key
            .choose_scheme(&[
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::ECDSA_NISTP521_SHA512,
                SignatureScheme::ED25519,
            ])
            .ok_or("the CA key cannot sign certificates")?;
        let algorithm = algorithm_identifier(signer.scheme()).ok_or("unknown signature scheme")?;
        let tbs = self.to_be_signed(name, &algorithm)?;
        let signature = signer.sign(&tbs).map_err(|e| e.to_string())?;
        let mut bits = vec![0u8];
        bits.extend_from_slice(&signature);
        let der = seq(&[&tbs, &algorithm, &tlv(0x03, &bits)]);
        let mut chain = vec![CertificateDer::from(der)];
        chain.extend(self.ca_chain.iter().cloned());
        Ok(CertifiedKey::new(chain, self.leaf_key.clone()))
    }

    fn to_be_signed(&self, name: &str, algorithm: &[u8]) -> Result<Vec<u8>, String> {
        static SERIAL: OnceLock<AtomicU32> = OnceLock::new();
        let serial = SERIAL
            .get_or_init(|| AtomicU32::new(unix_now_ms() as u32))
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let now = (unix_now_ms() / 1000) as i64;
        const DAY: i64 = 86_400;
        let validity = seq(&[&time(now - DAY), &time(now + 365 * DAY)]);
        // The CA's subject, one more RDN: CN=<name> as a UTF8String.
        let cn = tlv(0x31, &seq(&[&OID_CN, &tlv(0x0c, name.as_bytes())]));
        let mut subject = content(&self.ca_subject)?.to_vec();
        subject.extend_from_slice(&cn);
        let subject = tlv(0x30, &subject);
        let extensions = self.extensions(name)?;
        Ok(seq(&[
            &[0xa0, 0x03, 0x02, 0x01, 0x02],
            &integer(serial),
            algorithm,
            &self.ca_subject,
            &validity,
            &subject,
            &self.leaf_spki,
            &tlv(0xa3, &extensions),
        ]))
    }

    fn extensions(&self, name: &str) -> Result<Vec<u8>, String> {
        let ext = |oid: &[u8], value: &[u8]| seq(&[oid, &tlv(0x04, value)]);
        let (_, spki) = SubjectPublicKeyInfo::from_der(&self.leaf_spki)
            .map_err(|e| format!("unreadable public key: {e}"))?;
        let key_id = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &spki.subject_public_key.data,
        );
        let mut authority = Vec::new();
        if let Some(id) = &self.ca_key_id {
            authority.extend(tlv(0x80, id));
        }
        authority.extend(tlv(0xa1, &tlv(0xa4, &self.ca_issuer)));
        authority.extend(tlv(0x82, &self.ca_serial));
        Ok(seq(&[
            &ext(&OID_BASIC_CONSTRAINTS, &seq(&[])),
            &ext(
                &OID_NS_COMMENT,
                &tlv(0x16, b"\"OpenSSL Generated Certificate\""),
            ),
            &ext(&OID_SKI, &tlv(0x04, key_id.as_ref())),
            &ext(&OID_AKI, &tlv(0x30, &authority)),
            // digitalSignature, nonRepudiation, keyEncipherment.
            &ext(&OID_KEY_USAGE, &[0x03, 0x02, 0x05, 0xe0]),
            &ext(&OID_SAN, &seq(&[&tlv(0x82, name.as_bytes())])),
        ]))
    }
}

const OID_CN: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
const OID_BASIC_CONSTRAINTS: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x13];
const OID_NS_COMMENT: [u8; 11] = [
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x0d,
];
const OID_SKI: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x0e];
const OID_AKI: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x23];
const OID_KEY_USAGE: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x0f];
const OID_SAN: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x11];

/// The DER AlgorithmIdentifier of a signature scheme.
fn algorithm_identifier(scheme: SignatureScheme) -> Option<Vec<u8>> {
    let ecdsa = |last: u8| seq(&[&[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last]]);
    Some(match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => seq(&[
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
            ],
            &[0x05, 0x00],
        ]),
        SignatureScheme::ECDSA_NISTP256_SHA256 => ecdsa(0x02),
        SignatureScheme::ECDSA_NISTP384_SHA384 => ecdsa(0x03),
        SignatureScheme::ECDSA_NISTP521_SHA512 => ecdsa(0x04),
        SignatureScheme::ED25519 => seq(&[&[0x06, 0x03, 0x2b, 0x65, 0x70]]),
        _ => return None,
    })
}

/// A DER element: tag, length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER.
fn integer(n: u32) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

/// The content of a DER element (its tag and length stripped).
fn content(der: &[u8]) -> Result<&[u8], String> {
    let bad = || "malformed DER".to_string();
    let first = *der.get(1).ok_or_else(bad)?;
    let (len, start) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let bytes = der.get(2..2 + n).ok_or_else(bad)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize),
            2 + n,
        )
    };
    der.get(start..start + len).ok_or_else(bad)
}

/// UTCTime (GeneralizedTime from 2050) of a Unix time.
fn time(secs: i64) -> Vec<u8> {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let clock = format!(
        "{month:02}{day:02}{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if (1950..2050).contains(&year) {
        tlv(0x17, format!("{:02}{clock}", year % 100).as_bytes())
    } else {
        tlv(0x18, format!("{year:04}{clock}").as_bytes())
    }
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A generator's id and a name.
type CacheKey = (u64, String);

/// The made certificates of every listener, least recently used first out.
#[derive(Default)]
struct Cache {
    entries: HashMap<CacheKey, (Arc<CertifiedKey>, u64)>,
    tick: u64,
    capacity: usize,
}

impl Cache {
    fn get(&mut self, key: &CacheKey) -> Option<Arc<CertifiedKey>> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(c, used)| {
            *used = tick;
            c.clone()
        })
    }

    fn peek(&self, key: &CacheKey) -> Option<Arc<CertifiedKey>> {
        self.entries.get(key).map(|(c, _)| c.clone())
    }

    fn insert(&mut self, key: CacheKey, cert: Arc<CertifiedKey>) {
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
        self.tick += 1;
        self.entries.insert(key, (cert, self.tick));
    }
}

thread_local! {
    /// The last certificate this thread made (handshakes run on their worker's thread).
    static LAST_MADE: std::cell::RefCell<Option<(CacheKey, Arc<CertifiedKey>)>> =
        const { std::cell::RefCell::new(None) };
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn cache_lock() -> std::sync::MutexGuard<'static, Cache> {
    cache().lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(content(&long).unwrap().len(), 300);
        assert_eq!(integer(0), [0x02, 1, 0]);
        assert_eq!(integer(0x80), [0x02, 2, 0, 0x80]);
        assert_eq!(integer(0x0102), [0x02, 2, 1, 2]);
    }

    #[test]
    fn times_are_utc_then_generalized() {
        assert_eq!(time(0), tlv(0x17, b"700101000000Z"));
        assert_eq!(time(1_700_000_000), tlv(0x17, b"231114221320Z"));
        assert_eq!(time(2_556_144_000), tlv(0x18, b"20510101000000Z"));
    }

    #[test]
    fn the_cache_drops_the_least_recently_used() {
        let key = |n: &str| (7, n.to_string());
        let dummy = || {
            let k = rcgen::KeyPair::generate().unwrap();
            let der = PrivateKeyDer::try_from(k.serialize_der()).unwrap();
            let signing = crate::tls::provider()
                .key_provider
                .load_private_key(der)
                .unwrap();
            Arc::new(CertifiedKey::new(Vec::new(), signing))
        };
        let mut c = Cache {
            capacity: 2,
            ..Cache::default()
        };
        c.insert(key("a"), dummy());
        c.insert(key("b"), dummy());
        assert!(c.get(&key("a")).is_some());
        c.insert(key("c"), dummy());
        assert!(c.peek(&key("b")).is_none());
        assert!(c.peek(&key("a")).is_some() && c.peek(&key("c")).is_some());
        c.capacity = 0;
        c.insert(key("d"), dummy());
        assert!(c.peek(&key("d")).is_none());
    }
}
