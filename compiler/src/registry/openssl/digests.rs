//! The message digest names OpenSSL 3.0's `EVP_get_digestbyname` knows, which is what HAProxy
//! 2.7 asks when a `digest(<name>)` or `hmac(<name>,…)` converter is parsed: a name it does not
//! know makes the configuration invalid. The lookup ignores case and takes the library's
//! aliases (`SHA2-256`, `RSA-SHA256`, `sha256WithRSAEncryption`, the OID) as well as the short
//! names, so each digest is listed with every spelling, and [`digest_name`] gives back the one
//! canonical name the runtime picks an implementation by.

/// Each digest: its canonical name first, then its other spellings, all in lower case. The
/// provider's numeric OIDs are names too; the digests only the legacy provider implements
/// (MD4, whirlpool) are known by their names alone.
const DIGESTS: &[&[&str]] = &[
    &["md4", "rsa-md4", "md4withrsaencryption"],
    &[
        "md5",
        "rsa-md5",
        "md5withrsaencryption",
        "ssl3-md5",
        "1.2.840.113549.2.5",
    ],
    &["md5-sha1"],
    &[
        "ripemd160",
        "ripemd",
        "ripemd-160",
        "rmd160",
        "rsa-ripemd160",
        "ripemd160withrsa",
        "1.3.36.3.2.1",
    ],
    &[
        "sha1",
        "sha-1",
        "ssl3-sha1",
        "rsa-sha1",
        "rsa-sha1-2",
        "sha1withrsaencryption",
        "1.3.14.3.2.26",
    ],
    &[
        "sha224",
        "sha-224",
        "sha2-224",
        "rsa-sha224",
        "sha224withrsaencryption",
        "2.16.840.1.101.3.4.2.4",
    ],
    &[
        "sha256",
        "sha-256",
        "sha2-256",
        "rsa-sha256",
        "sha256withrsaencryption",
        "2.16.840.1.101.3.4.2.1",
    ],
    &[
        "sha384",
        "sha-384",
        "sha2-384",
        "rsa-sha384",
        "sha384withrsaencryption",
        "2.16.840.1.101.3.4.2.2",
    ],
    &[
        "sha512",
        "sha-512",
        "sha2-512",
        "rsa-sha512",
        "sha512withrsaencryption",
        "2.16.840.1.101.3.4.2.3",
    ],
    &[
        "sha512-224",
        "sha-512/224",
        "sha2-512/224",
        "rsa-sha512/224",
        "sha512-224withrsaencryption",
        "2.16.840.1.101.3.4.2.5",
    ],
    &[
        "sha512-256",
        "sha-512/256",
        "sha2-512/256",
        "rsa-sha512/256",
        "sha512-256withrsaencryption",
        "2.16.840.1.101.3.4.2.6",
    ],
    &[
        "sha3-224",
        "rsa-sha3-224",
        "id-rsassa-pkcs1-v1_5-with-sha3-224",
        "2.16.840.1.101.3.4.2.7",
    ],
    &[
        "sha3-256",
        "rsa-sha3-256",
        "id-rsassa-pkcs1-v1_5-with-sha3-256",
        "2.16.840.1.101.3.4.2.8",
    ],
    &[
        "sha3-384",
        "rsa-sha3-384",
        "id-rsassa-pkcs1-v1_5-with-sha3-384",
        "2.16.840.1.101.3.4.2.9",
    ],
    &[
        "sha3-512",
        "rsa-sha3-512",
        "id-rsassa-pkcs1-v1_5-with-sha3-512",
        "2.16.840.1.101.3.4.2.10",
    ],
    &["shake128", "shake-128", "2.16.840.1.101.3.4.2.11"],
    &["shake256", "shake-256", "2.16.840.1.101.3.4.2.12"],
    &[
        "sm3",
        "rsa-sm3",
        "sm3withrsaencryption",
        "1.2.156.10197.1.401",
    ],
    &["blake2b512", "blake2b-512", "1.3.6.1.4.1.1722.12.2.1.16"],
    &["blake2s256", "blake2s-256", "1.3.6.1.4.1.1722.12.2.2.8"],
    &["whirlpool"],
];

/// The canonical (lower-case) name of the digest `name` spells, if OpenSSL 3.0 knows it.
pub fn digest_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    DIGESTS
        .iter()
        .find(|spellings| spellings.contains(&name.as_str()))
        .map(|spellings| spellings[0])
}

/// Every spelling of every digest, for tests that compare them with a real OpenSSL.
pub fn all_spellings() -> impl Iterator<Item = &'static str> {
    DIGESTS.iter().flat_map(|s| s.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_one_digest() {
        assert_eq!(digest_name("MD5"), Some("md5"));
        assert_eq!(digest_name("SHA2-256"), Some("sha256"));
        assert_eq!(digest_name("sha256WithRSAEncryption"), Some("sha256"));
        assert_eq!(digest_name("BLAKE2S-256"), Some("blake2s256"));
        assert_eq!(digest_name("2.16.840.1.101.3.4.2.1"), Some("sha256"));
        // OpenSSL 3.0 refuses these: not digests, not built, or not a name it keeps.
        for name in [
            "foo",
            "mdc2",
            "md2",
            "sha512/256",
            "keccak-kmac-128",
            "null",
            "",
        ] {
            assert_eq!(digest_name(name), None, "{name}");
        }
    }
}
