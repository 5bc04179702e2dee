//! The checks HAProxy 2.7 runs on the arguments of its cryptographic converters once they are
//! read: `sha2` takes 224, 256, 384 or 512 bits, and `digest` and `hmac` name a message digest
//! OpenSSL knows (see [`crate::registry::openssl::digest_name`]).

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
        _ => None,
    }
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
    }
}
