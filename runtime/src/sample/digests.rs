//! The message digests the `digest(<name>)` and `hmac(<name>,<key>)` converters compute, by
//! the canonical names of the compiler's table of OpenSSL 3.0 digest names, so that every name
//! `check` accepts has an implementation here (a test walks that table).
//!
//! SHA-1, SHA-2 and three SHA-3 sizes come from the TLS crypto library; the others from
//! RustCrypto. Two cases follow OpenSSL 3.0 rather than the algorithms' own shapes: the SHAKE
//! functions give their default output length (16 bytes for SHAKE128, 32 for SHAKE256), and
//! HMAC refuses them (OpenSSL's HMAC takes no extendable-output function, so HAProxy's `hmac`
//! gives no value). MD4 and whirlpool are computed as OpenSSL's legacy provider computes them.

use aws_lc_rs::{digest as aws_lc, hmac as aws_lc_hmac};
use hapee_compiler::registry::openssl::digest_name;
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{self as rc, Digest, ExtendableOutput, FixedOutput, HashMarker, Update};

/// A function computing one message digest of its input.
pub type DigestFn = fn(&[u8]) -> Vec<u8>;
/// A function computing one HMAC (key, then message); `None` where OpenSSL's HMAC fails.
pub type HmacFn = fn(&[u8], &[u8]) -> Option<Vec<u8>>;

/// One digest's two uses.
#[derive(Clone, Copy)]
pub struct MessageDigest {
    pub digest: DigestFn,
    pub hmac: HmacFn,
}

/// The digest any OpenSSL 3.0 spelling of `name` names.
pub fn by_name(name: &str) -> Option<MessageDigest> {
    let (digest, hmac): (DigestFn, HmacFn) = match digest_name(name)? {
        "sha1" => (
            |b| aws(&aws_lc::SHA1_FOR_LEGACY_USE_ONLY, b),
            |k, b| aws_hmac(aws_lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, k, b),
        ),
        "sha224" => (
            |b| aws(&aws_lc::SHA224, b),
            |k, b| aws_hmac(aws_lc_hmac::HMAC_SHA224, k, b),
        ),
        "sha256" => (
            |b| aws(&aws_lc::SHA256, b),
            |k, b| aws_hmac(aws_lc_hmac::HMAC_SHA256, k, b),
        ),
        "sha384" => (
            |b| aws(&aws_lc::SHA384, b),
            |k, b| aws_hmac(aws_lc_hmac::HMAC_SHA384, k, b),
        ),
        "sha512" => (
            |b| aws(&aws_lc::SHA512, b),
            |k, b| aws_hmac(aws_lc_hmac::HMAC_SHA512, k, b),
        ),
        "sha512-224" => rust_crypto::<sha2::Sha512_224>(),
        "sha512-256" => rust_crypto::<sha2::Sha512_256>(),
        "sha3-224" => rust_crypto::<sha3::Sha3_224>(),
        "sha3-256" => rust_crypto::<sha3::Sha3_256>(),
        "sha3-384" => rust_crypto::<sha3::Sha3_384>(),
        "sha3-512" => rust_crypto::<sha3::Sha3_512>(),
        "shake128" => (|b| shake::<sha3::Shake128>(b, 16), |_, _| None),
        "shake256" => (|b| shake::<sha3::Shake256>(b, 32), |_, _| None),
        "md4" => rust_crypto::<md4::Md4>(),
        "md5" => rust_crypto::<md5::Md5>(),
        "md5-sha1" => rust_crypto::<Md5Sha1>(),
        "ripemd160" => rust_crypto::<ripemd::Ripemd160>(),
        "sm3" => rust_crypto::<sm3::Sm3>(),
        "whirlpool" => rust_crypto::<whirlpool::Whirlpool>(),
        "blake2b512" => rust_crypto::<blake2::Blake2b512>(),
        "blake2s256" => rust_crypto::<blake2::Blake2s256>(),
        _ => return None,
    };
    Some(MessageDigest { digest, hmac })
}

pub(super) fn aws(algorithm: &'static aws_lc::Algorithm, data: &[u8]) -> Vec<u8> {
    aws_lc::digest(algorithm, data).as_ref().to_vec()
}

fn aws_hmac(algorithm: aws_lc_hmac::Algorithm, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let tag = aws_lc_hmac::sign(&aws_lc_hmac::Key::new(algorithm, key), data);
    Some(tag.as_ref().to_vec())
}

/// A RustCrypto digest and its HMAC (the generic construction over the digest's block size,
/// as OpenSSL builds it for every digest).
fn rust_crypto<D>() -> (DigestFn, HmacFn)
where
    D: Digest + BlockSizeUser + Clone,
{
    (
        |b| D::digest(b).to_vec(),
        |key, b| {
            use hmac::Mac;
            // SimpleHmac takes keys of any length (a long one is hashed first).
            let mut mac = <hmac::SimpleHmac<D> as Mac>::new_from_slice(key).ok()?;
            Mac::update(&mut mac, b);
            Some(mac.finalize().into_bytes().to_vec())
        },
    )
}

fn shake<X: ExtendableOutput + Default + Update>(data: &[u8], len: usize) -> Vec<u8> {
    let mut x = X::default();
    x.update(data);
    x.finalize_boxed(len).into_vec()
}

/// OpenSSL's `md5-sha1`: the MD5 and SHA-1 digests of the same input side by side (36 bytes,
/// the TLS 1.0 handshake hash), over MD5's 64-byte block.
#[derive(Clone, Default)]
struct Md5Sha1(md5::Md5, sha1::Sha1);

impl HashMarker for Md5Sha1 {}

impl rc::OutputSizeUser for Md5Sha1 {
    type OutputSize = rc::consts::U36;
}

impl BlockSizeUser for Md5Sha1 {
    type BlockSize = rc::consts::U64;
}

impl Update for Md5Sha1 {
    fn update(&mut self, data: &[u8]) {
        Update::update(&mut self.0, data);
        Update::update(&mut self.1, data);
    }
}

impl FixedOutput for Md5Sha1 {
    fn finalize_into(self, out: &mut rc::Output<Self>) {
        let (md5, sha1) = out.split_at_mut(16);
        md5.copy_from_slice(&self.0.finalize());
        sha1.copy_from_slice(&self.1.finalize());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::registry::openssl::all_digest_spellings as all_spellings;

    #[test]
    fn every_name_check_accepts_is_computed() {
        for name in all_spellings() {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(by_name("mdc2").is_none());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // Reference values: `openssl dgst` of "abc" (OpenSSL 3.0, the legacy provider for md4).
        let d = |name| hex(&(by_name(name).unwrap().digest)(b"abc"));
        assert_eq!(d("shake128"), "5881092dd818bf5cf8a3ddb793fbcba7");
        assert_eq!(d("md4"), "a448017aaf21d8525fc10ae87aa6729d");
        assert_eq!(d("ripemd160"), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
        assert_eq!(
            d("md5-sha1"),
            "900150983cd24fb0d6963f7d28e17f72a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // HMAC over the 36-byte concatenation, with the key "key" (HAProxy's answer).
        let h = by_name("md5-sha1").unwrap().hmac;
        assert_eq!(
            hex(&h(b"key", b"abc").unwrap()),
            "a76e5cc4bdaa99b87cc7de69e0606e7d74fd2771909f120bb3b9a4649bb99bea2b4cec32"
        );
        assert!((by_name("SHAKE-256").unwrap().hmac)(b"key", b"abc").is_none());
    }
}
