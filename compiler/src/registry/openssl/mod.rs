//! Whether OpenSSL 3.0 (the library HAProxy 2.7 is built with) accepts a cipher string, as
//! `SSL_CTX_set_cipher_list` and `SSL_CTX_set_ciphersuites` decide it. HAProxy refuses to start
//! a TLS listener or server whose list OpenSSL rejects; hapee's own TLS (rustls) takes the same
//! strings, so `check` applies OpenSSL's verdict.
//!
//! A `ciphers` string is read the way OpenSSL reads it: rules separated by `:`, `,`, ` ` or `;`
//! (or by a new prefix), each an optional `!` (remove for good), `-` (remove), `+` (move) or `@`
//! (a command: `@STRENGTH`, `@SECLEVEL=n`) before words joined by `+` (the ciphers all words
//! select). A word OpenSSL does not know selects nothing; a character outside its word alphabet
//! makes the whole string invalid. The string is rejected when no TLS 1.2-or-below cipher is
//! left. `DEFAULT` is only special at the very start.

mod digests;
mod table;

pub use digests::{all_spellings as all_digest_spellings, digest_name};

use table::{ALIASES, CIPHERS, DEFAULT};

/// A set of ciphers, one bit per row of [`CIPHERS`].
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Set([u64; 3]);

impl Set {
    fn of(indices: &[u8]) -> Set {
        let mut s = Set::default();
        for &i in indices {
            s.0[i as usize / 64] |= 1 << (i % 64);
        }
        s
    }
    fn all() -> Set {
        let indices: Vec<u8> = (0..CIPHERS.len() as u8).collect();
        Set::of(&indices)
    }
    fn and(self, o: Set) -> Set {
        Set([self.0[0] & o.0[0], self.0[1] & o.0[1], self.0[2] & o.0[2]])
    }
    fn or(self, o: Set) -> Set {
        Set([self.0[0] | o.0[0], self.0[1] | o.0[1], self.0[2] | o.0[2]])
    }
    fn minus(self, o: Set) -> Set {
        Set([
            self.0[0] & !o.0[0],
            self.0[1] & !o.0[1],
            self.0[2] & !o.0[2],
        ])
    }
    fn is_empty(self) -> bool {
        self.0 == [0; 3]
    }
}

/// The ciphers one word selects: a cipher's own name or an alias; `None` for a word OpenSSL
/// does not know.
fn word(w: &str) -> Option<Set> {
    if let Some(i) = CIPHERS.iter().position(|(name, _)| *name == w) {
        return Some(Set::of(&[i as u8]));
    }
    ALIASES
        .iter()
        .find(|(name, _)| *name == w)
        .map(|(_, indices)| Set::of(indices))
}

fn is_separator(b: u8) -> bool {
    matches!(b, b':' | b' ' | b';' | b',')
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=')
}

/// The ciphers a rule list leaves enabled, or `None` when OpenSSL finds the string invalid.
fn evaluate(rules: &[u8], mut active: Set) -> Option<Set> {
    let mut killed = Set::default();
    let mut at = 0;
    while at < rules.len() {
        let first = rules[at];
        if is_separator(first) {
            at += 1;
            continue;
        }
        #[derive(PartialEq)]
        enum Op {
            Add,
            Kill,
            Remove,
            Move,
            Command,
        }
        let op = match first {
            b'!' => Op::Kill,
            b'-' => Op::Remove,
            b'+' => Op::Move,
            b'@' => Op::Command,
            _ => Op::Add,
        };
        if op != Op::Add {
            at += 1;
        }
        // Words joined by '+': the ciphers every one of them selects.
        let mut selected = Some(Set::all());
        let mut command = "";
        loop {
            let start = at;
            while at < rules.len() && is_word_byte(rules[at]) {
                at += 1;
            }
            if at == start {
                return None; // not a word, a separator or a prefix: OpenSSL gives up
            }
            let text = std::str::from_utf8(&rules[start..at]).unwrap_or("");
            if op == Op::Command {
                command = text;
                break;
            }
            selected = match (selected, word(text)) {
                (Some(s), Some(w)) => Some(s.and(w)),
                _ => None,
            };
            if rules.get(at) == Some(&b'+') {
                at += 1;
            } else {
                break;
            }
        }
        match op {
            Op::Command => {
                let known = command == "STRENGTH"
                    || (command.len() == 10 && command.starts_with("SECLEVEL="));
                if !known {
                    return None;
                }
                // The rest of a command's rule is ignored.
                while at < rules.len() && !is_separator(rules[at]) {
                    at += 1;
                }
            }
            _ => match selected {
                Some(s) => match op {
                    Op::Add => active = active.or(s.minus(killed)),
                    Op::Kill => {
                        killed = killed.or(s);
                        active = active.minus(s);
                    }
                    Op::Remove => active = active.minus(s),
                    _ => {} // moving changes the order only
                },
                // A rule with an unknown word is skipped up to the next separator.
                None => {
                    while at < rules.len() && !is_separator(rules[at]) {
                        at += 1;
                    }
                }
            },
        }
    }
    Some(active)
}

/// Whether `SSL_CTX_set_cipher_list` accepts this TLS 1.2-and-below cipher string.
pub fn accepts_cipher_list(list: &str) -> bool {
    let (start, rest) = match list.strip_prefix("DEFAULT") {
        Some(rest) => (Set::of(DEFAULT), rest.strip_prefix(':').unwrap_or(rest)),
        None => (Set::default(), list),
    };
    evaluate(rest.as_bytes(), start).is_some_and(|s| !s.is_empty())
}

/// The TLS 1.3 suites OpenSSL 3.0 implements, by their standard names.
const TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
];

/// Whether `SSL_CTX_set_ciphersuites` accepts this list: `:`-separated standard names, blanks
/// around each ignored, unknown ones skipped, at least one known (an empty list is allowed
/// and turns TLS 1.3 off). OpenSSL looks names up among every cipher's standard name, so a
/// TLS 1.2 suite's name also counts.
pub fn accepts_ciphersuites(list: &str) -> bool {
    list.is_empty()
        || list
            .split(':')
            .map(str::trim)
            .any(|name| TLS13_SUITES.contains(&name) || CIPHERS.iter().any(|(_, std)| *std == name))
}

/// The groups OpenSSL 3.0's default provider knows, by the names `SSL_CTX_set1_curves_list`
/// looks up (case matters): each group's TLS name, its curve's own name and the NIST alias
/// (`P-256`…), with the group's TLS id.
const GROUPS: &[(&str, u16)] = &[
    ("sect163k1", 1),
    ("sect163r1", 2),
    ("sect163r2", 3),
    ("sect193r1", 4),
    ("sect193r2", 5),
    ("sect233k1", 6),
    ("sect233r1", 7),
    ("sect239k1", 8),
    ("sect283k1", 9),
    ("sect283r1", 10),
    ("sect409k1", 11),
    ("sect409r1", 12),
    ("sect571k1", 13),
    ("sect571r1", 14),
    ("secp160k1", 15),
    ("secp160r1", 16),
    ("secp160r2", 17),
    ("secp192k1", 18),
    ("secp192r1", 19),
    ("prime192v1", 19),
    ("P-192", 19),
    ("secp224k1", 20),
    ("secp224r1", 21),
    ("P-224", 21),
    ("secp256k1", 22),
    ("secp256r1", 23),
    ("prime256v1", 23),
    ("P-256", 23),
    ("secp384r1", 24),
    ("P-384", 24),
    ("secp521r1", 25),
    ("P-521", 25),
    ("brainpoolP256r1", 26),
    ("brainpoolP384r1", 27),
    ("brainpoolP512r1", 28),
    ("x25519", 29),
    ("X25519", 29),
    ("x448", 30),
    ("X448", 30),
    ("ffdhe2048", 256),
    ("ffdhe3072", 257),
    ("ffdhe4096", 258),
    ("ffdhe6144", 259),
    ("ffdhe8192", 260),
];

/// Whether `SSL_CTX_set1_curves_list` accepts this `curves` (or `ecdhe`) list: `:`-separated
/// names, blanks around each ignored, every one a known group named once (an unknown, empty
/// or repeated one rejects the whole list).
pub fn accepts_curves(list: &str) -> bool {
    let mut seen = Vec::new();
    for name in list.split(':') {
        let name = name.trim_matches(|c: char| c.is_ascii_whitespace());
        match GROUPS.iter().find(|g| g.0 == name) {
            Some(&(_, id)) if !seen.contains(&id) => seen.push(id),
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_lists_as_openssl_reads_them() {
        for ok in [
            "HIGH",
            "ECDHE+AESGCM:!aNULL",
            "DEFAULT:NOPE",
            "kEECDH+aRSA ,AES128;X",
            "HIGH@STRENGTH",
            "ECDHE-RSA-AES128-GCM-SHA256+AES",
            "NOPE:ECDHE-RSA-AES128-GCM-SHA256",
            "HIGH!aNULL",
        ] {
            assert!(accepts_cipher_list(ok), "{ok}");
        }
        for bad in [
            "NOPE:ALSO-NOPE",
            "FOO:+BAR:!ALL:HIGH",
            "NOPE:DEFAULT",
            "TLS_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "@STRENGTH",
            "ecdhe",
            "!aNULL",
            "HIGH:@BOGUS",
            "HIGH:*",
            "",
        ] {
            assert!(!accepts_cipher_list(bad), "{bad}");
        }
    }

    #[test]
    fn ciphersuites_as_openssl_reads_them() {
        assert!(accepts_ciphersuites("BOGUS:TLS_AES_128_GCM_SHA256"));
        assert!(accepts_ciphersuites(" TLS_AES_128_CCM_8_SHA256 "));
        assert!(accepts_ciphersuites(
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        ));
        assert!(!accepts_ciphersuites("BOGUS"));
        assert!(!accepts_ciphersuites("tls_aes_128_gcm_sha256"));
    }

    #[test]
    fn curves_as_openssl_reads_them() {
        for ok in [
            "X25519",
            "x25519",
            "P-256",
            "prime256v1",
            "X25519 : secp384r1",
            "ffdhe2048",
        ] {
            assert!(accepts_curves(ok), "{ok}");
        }
        for bad in [
            "p-256",
            "BOGUS",
            "X25519:BOGUS",
            "X25519:",
            ":X25519",
            "",
            "secp112r1",
            "P-256:prime256v1",
            "X25519:x25519",
        ] {
            assert!(!accepts_curves(bad), "{bad}");
        }
    }
}
