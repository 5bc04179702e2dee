//! Hash converters: the non-cryptographic hashes HAProxy balances with (`crc32`, `crc32c`,
//! `djb2`, `sdbm`, `wt6`, the xxHash family), message digests (`sha1`, `sha2`, `digest`),
//! `hmac`, AES-GCM decryption and the constant-time `secure_memcmp`.

use super::convert::{arg, int_arg, pure, with_txn, Run};
use super::digests::{self, DigestFn};
use super::text::require_var;
use super::{var, Unsupported, Value};
use crate::balance::{full_hash, HashFunction};
use aws_lc_rs::{aead, digest};
use hapee_compiler::expr::sample::Call;

/// The hash converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let name = c.name.as_str();
    Ok(Some(match name {
        "crc32" | "crc32c" | "djb2" | "sdbm" | "wt6" => {
            let avalanche = int_arg(c, 0, 0)? != 0;
            let function: fn(&[u8]) -> u32 = match name {
                "crc32" => |b| HashFunction::Crc32.hash(b),
                "crc32c" => crc32c::crc32c,
                "djb2" => |b| HashFunction::Djb2.hash(b),
                "sdbm" => |b| HashFunction::Sdbm.hash(b),
                _ => |b| HashFunction::Wt6.hash(b),
            };
            pure(move |v| {
                let h = function(&v.as_bin()?);
                Some(Value::Int(i64::from(if avalanche {
                    full_hash(h)
                } else {
                    h
                })))
            })
        }
        "xxh32" => {
            let seed = int_arg(c, 0, 0)? as u32;
            pure(move |v| {
                let h = xxhash_rust::xxh32::xxh32(&v.as_bin()?, seed);
                Some(Value::Int(i64::from(h)))
            })
        }
        // The 64-bit hashes are given as signed integers, their bits unchanged.
        "xxh64" => {
            let seed = int_arg(c, 0, 0)? as u64;
            pure(move |v| {
                Some(Value::Int(
                    xxhash_rust::xxh64::xxh64(&v.as_bin()?, seed) as i64
                ))
            })
        }
        "xxh3" => {
            let seed = int_arg(c, 0, 0)? as u64;
            pure(move |v| {
                let h = xxhash_rust::xxh3::xxh3_64_with_seed(&v.as_bin()?, seed);
                Some(Value::Int(h as i64))
            })
        }
        "sha1" => digest_of(|b| digests::aws(&digest::SHA1_FOR_LEGACY_USE_ONLY, b)),
        "sha2" => digest_of(match int_arg(c, 0, 256)? {
            0 | 256 => |b| digests::aws(&digest::SHA256, b),
            224 => |b| digests::aws(&digest::SHA224, b),
            384 => |b| digests::aws(&digest::SHA384, b),
            512 => |b| digests::aws(&digest::SHA512, b),
            bits => {
                return Err(Unsupported(format!(
                    "sha2: Unsupported number of bits: '{bits}'"
                )))
            }
        }),
        "digest" | "hmac" => {
            let md = digests::by_name(arg(c, 0))
                .ok_or_else(|| Unsupported(format!("{name}: message digest '{}'", arg(c, 0))))?;
            if name == "digest" {
                return Ok(Some(digest_of(md.digest)));
            }
            let sign = md.hmac;
            let key = arg(c, 1).to_string();
            let bin = |b: Vec<u8>| Value::Bin(b.into());
            if super::is_var_name(&key) {
                // The variable holds the key in base64, read at each use.
                with_txn(move |v, txn| {
                    let key = super::base64_decode(&var(txn, &key)?.as_text())?;
                    sign(&key, &v.as_bin()?).map(bin)
                })
            } else {
                let key = super::base64_decode(&key).ok_or_else(|| {
                    Unsupported(format!("hmac: the key '{key}' is not valid base64"))
                })?;
                pure(move |v| sign(&key, &v.as_bin()?).map(bin))
            }
        }
        "aes_gcm_dec" => {
            let algorithm = match int_arg(c, 0, 0)? {
                128 => &aead::AES_128_GCM,
                192 => &aead::AES_192_GCM,
                256 => &aead::AES_256_GCM,
                bits => {
                    return Err(Unsupported(format!(
                        "aes_gcm_dec: key size must be 128, 192 or 256 (bits), not {bits}"
                    )))
                }
            };
            let secrets = [1, 2, 3].map(|i| Secret::parse(c, i));
            let [nonce, key, tag] = secrets;
            let (nonce, key, tag) = (nonce?, key?, tag?);
            with_txn(move |v, txn| {
                let (nonce, key, tag) = (nonce.get(txn)?, key.get(txn)?, tag.get(txn)?);
                let key = aead::LessSafeKey::new(aead::UnboundKey::new(algorithm, &key).ok()?);
                let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).ok()?;
                // The ciphertext and its tag, as the library opens them.
                let mut data = [v.as_bin()?.as_ref(), &tag].concat();
                let plain = key
                    .open_in_place(nonce, aead::Aad::empty(), &mut data)
                    .ok()?;
                Some(Value::Bin(bytes::Bytes::copy_from_slice(plain)))
            })
        }
        "secure_memcmp" => {
            let name = require_var(c, 0)?;
            with_txn(move |v, txn| {
                let other = var(txn, &name)?;
                let (a, b) = (v.as_bin()?, other.as_bin()?);
                let equal = a.len() == b.len()
                    && aws_lc_rs::constant_time::verify_slices_are_equal(&a, &b).is_ok();
                Some(Value::Bool(equal))
            })
        }
        _ => return Ok(None),
    }))
}

/// A secret argument: base64 text, or a variable holding base64 text.
enum Secret {
    Bytes(Vec<u8>),
    Var(String),
}

impl Secret {
    fn parse(c: &Call, i: usize) -> Result<Secret, Unsupported> {
        let a = arg(c, i);
        if super::is_var_name(a) {
            return Ok(Secret::Var(a.to_string()));
        }
        super::base64_decode(a).map(Secret::Bytes).ok_or_else(|| {
            Unsupported(format!(
                "{}: argument {} needs to be base64 encoded, or a variable",
                c.name,
                i + 1
            ))
        })
    }

    fn get(&self, txn: &crate::txn::Txn) -> Option<Vec<u8>> {
        match self {
            Secret::Bytes(b) => Some(b.clone()),
            Secret::Var(name) => super::base64_decode(&var(txn, name)?.as_text()),
        }
    }
}

fn digest_of(function: DigestFn) -> Run {
    pure(move |v| Some(Value::Bin(function(&v.as_bin()?).into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str, input: &[u8]) -> Option<Value> {
        let (name, args) = match expr.split_once('(') {
            Some((n, a)) => (
                n,
                a.trim_end_matches(')')
                    .split(',')
                    .map(String::from)
                    .collect(),
            ),
            None => (expr, Vec::new()),
        };
        let call = Call {
            name: name.into(),
            args,
            start: 0,
            end: 0,
        };
        compile(&call).unwrap().unwrap()(Value::Bin(input.to_vec().into()), None)
    }

    #[test]
    fn hashes_of_known_inputs() {
        // Reference values: the IEEE and Castagnoli CRCs and xxHash of "123456789".
        assert_eq!(run("crc32", b"123456789"), Some(Value::Int(0xCBF4_3926)));
        assert_eq!(run("crc32c", b"123456789"), Some(Value::Int(0xE306_9283)));
        assert_eq!(run("djb2", b""), Some(Value::Int(5381)));
        assert_eq!(run("xxh32", b""), Some(Value::Int(0x02CC_5D05)));
        assert_eq!(
            run("xxh64", b""),
            Some(Value::Int(0xEF46_DB37_51D8_E999_u64 as i64))
        );
        let Some(Value::Bin(sha)) = run("sha2(224)", b"abc") else {
            panic!("sha2 gives bytes")
        };
        assert_eq!(sha.len(), 28);
        // Reference values: RFC 1321's MD5 and RFC 7693's BLAKE2 test vectors of "abc".
        let hex_of = |expr| match run(expr, b"abc") {
            Some(Value::Bin(d)) => super::super::encode::hex(&d),
            other => panic!("{expr} gives {other:?}"),
        };
        assert_eq!(hex_of("digest(MD5)"), "900150983CD24FB0D6963F7D28E17F72");
        assert_eq!(
            hex_of("digest(blake2s256)"),
            "508C5E8C327C14E2E1A72BA34EEB452F37458B209ED63A294D999B4C86675982"
        );
        assert!(hex_of("digest(BLAKE2B-512)").starts_with("BA80A53F981C4D0D6A2797B69F12F6E9"));
        assert_eq!(hex_of("digest(SHA2-256)"), hex_of("sha2(256)"));
        let Some(Value::Bin(mac)) = run(
            "hmac(sha256,a2V5)",
            b"The quick brown fox jumps over the lazy dog",
        ) else {
            panic!("hmac gives bytes")
        };
        assert_eq!(
            super::super::encode::hex(&mac),
            "F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8"
        );
    }
}
