//! The checks HAProxy 2.7 runs on the arguments of its cryptographic converters once they are
//! read: `sha2` takes 224, 256, 384 or 512 bits, `digest` and `hmac` name a message digest
//! OpenSSL knows (see [`crate::registry::openssl::digest_name`]), `aes_gcm_dec` takes a 128,
//! 192 or 256-bit key, and the secrets of `hmac` and `aes_gcm_dec` are base64 or a variable.

use crate::registry::openssl::digest_name;

/// The message after `invalid args in converter '…' :` for a converter whose arguments HAProxy
/// refuses, if any.
pub fn converter_args_error(keyword: &str, args: &[&str]) -> Option<String> {
    let arg = |i: usize| args.get(i).copied().unwrap_or_default();
    match keyword {
        // An omitted argument is the 256-bit default; any other value is checked.
        "sha2" if !args.is_empty() => match arg(0).parse::<i64>() {
            Ok(224 | 256 | 384 | 512) => None,
            Ok(bits) => Some(format!("Unsupported number of bits: '{bits}'")),
            Err(_) => None,
        },
        "digest" | "hmac" if digest_name(arg(0)).is_none() => {
            Some("algorithm must be a valid OpenSSL message digest name.".into())
        }
        "hmac" => secret_error("key", arg(1)),
        "aes_gcm_dec" => match arg(0).parse::<i64>() {
            Ok(128 | 192 | 256) => ["nonce", "key", "aead_tag"]
                .iter()
                .zip(1..)
                .find_map(|(what, i)| secret_error(what, arg(i))),
            _ => Some("key size must be 128, 192 or 256 (bits).".into()),
        },
        _ => None,
    }
}

/// Why HAProxy refuses a secret argument: not empty, not a variable name, and not base64 as its
/// decoder reads it.
fn secret_error(what: &str, text: &str) -> Option<String> {
    let variable = super::vars::name_error(text, text).is_none();
    (!text.is_empty() && !variable && !is_base64(text)).then(|| {
        format!("failed to parse {what} : argument needs to be base64 encoded, and can either be a string or a variable")
    })
}

/// HAProxy's base64 decoder's verdict: groups of four from the standard alphabet, where
/// padding, once begun, runs to the end of its group and starts at its second place at the
/// earliest (it takes `a===`, as that decoder does).
fn is_base64(text: &str) -> bool {
    if !text.len().is_multiple_of(4) {
        return false;
    }
    text.as_bytes().chunks(4).all(|group| {
        let mut pad = false;
        group.iter().enumerate().all(|(i, &c)| {
            let ok = if pad {
                c == b'=' && i >= 2
            } else {
                c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'='
            };
            pad |= c == b'=';
            ok
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_refused_as_haproxy_refuses_them() {
        assert_eq!(converter_args_error("sha2", &[]), None);
        assert_eq!(converter_args_error("sha2", &["384"]), None);
        assert_eq!(
            converter_args_error("sha2", &["100"]).as_deref(),
            Some("Unsupported number of bits: '100'")
        );
        assert_eq!(converter_args_error("digest", &["BLAKE2s256"]), None);
        assert_eq!(converter_args_error("hmac", &["sha256", "a2V5"]), None);
        assert!(converter_args_error("digest", &["foo"]).is_some());
        assert!(converter_args_error("hmac", &["mdc2", "a2V5"]).is_some());
        // Keys: base64 (as HAProxy's decoder reads it), a variable, or nothing.
        for key in ["a2V5", "a2V=", "a===", "", "txn.key"] {
            assert_eq!(
                converter_args_error("hmac", &["sha256", key]),
                None,
                "{key}"
            );
        }
        for key in ["abc", "====", "=abc", "a=b=", "txt.key", "a2V5!abc"] {
            assert!(
                converter_args_error("hmac", &["sha256", key]).is_some(),
                "{key}"
            );
        }
        assert_eq!(
            converter_args_error("aes_gcm_dec", &["192", "a2V5", "txn.k", "a2V5"]),
            None
        );
        assert_eq!(
            converter_args_error("aes_gcm_dec", &["100", "a2V5", "a2V5", "a2V5"]).as_deref(),
            Some("key size must be 128, 192 or 256 (bits).")
        );
        assert!(
            converter_args_error("aes_gcm_dec", &["128", "a2V5", "a2V5", "abc"])
                .unwrap()
                .starts_with("failed to parse aead_tag : ")
        );
    }
}
