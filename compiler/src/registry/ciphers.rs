//! OpenSSL's names for cipher suites and key-exchange groups, mapped to the IANA names that
//! rustls offers. `ciphers` (TLS 1.2 and below) takes OpenSSL's cipher-string language; the
//! suites rustls lacks (CBC, RSA key exchange, DHE, 3DES…) are reported, never dropped silently.

/// The TLS 1.2 suites rustls offers: OpenSSL name, IANA name, and the OpenSSL class words
/// that select each (`ECDHE+AESGCM`, `HIGH`, `aRSA`…).
pub static TLS12_SUITES: &[(&str, &str, &[&str])] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "ECDSA", "aECDSA", "AESGCM", "AES", "AES256",
            "SHA384",
        ],
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "ECDSA", "aECDSA", "AESGCM", "AES", "AES128",
            "SHA256",
        ],
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "ECDSA", "aECDSA", "CHACHA20", "SHA256",
        ],
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "RSA", "aRSA", "AESGCM", "AES", "AES256",
            "SHA384",
        ],
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "RSA", "aRSA", "AESGCM", "AES", "AES128",
            "SHA256",
        ],
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        &[
            "ECDHE", "EECDH", "kEECDH", "kECDHE", "RSA", "aRSA", "CHACHA20", "SHA256",
        ],
    ),
];

/// Class words that select every suite rustls offers (all of them are strong).
const EVERY_SUITE: &[&str] = &[
    "ALL",
    "DEFAULT",
    "HIGH",
    "TLSv1.2",
    "SECURE128",
    "SECURE256",
    "COMPLEMENTOFDEFAULT",
];

/// The TLS 1.3 suites rustls offers, under their OpenSSL (= IANA) names, and rustls' names.
pub static TLS13_SUITES: &[(&str, &str)] = &[
    ("TLS_AES_128_GCM_SHA256", "TLS13_AES_128_GCM_SHA256"),
    ("TLS_AES_256_GCM_SHA384", "TLS13_AES_256_GCM_SHA384"),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ),
];

/// OpenSSL curve and group names, and the IANA group name rustls knows them by.
pub static GROUPS: &[(&str, &str)] = &[
    ("X25519", "X25519"),
    ("x25519", "X25519"),
    ("P-256", "secp256r1"),
    ("prime256v1", "secp256r1"),
    ("secp256r1", "secp256r1"),
    ("P-384", "secp384r1"),
    ("secp384r1", "secp384r1"),
    ("P-521", "secp521r1"),
    ("secp521r1", "secp521r1"),
    ("X25519MLKEM768", "X25519MLKEM768"),
];

/// What an OpenSSL list selects among the names rustls offers (IANA names, in the list's
/// order), and the names in it that rustls does not offer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub selected: Vec<&'static str>,
    pub unknown: Vec<String>,
    /// Class words rustls has no suite for that stand for the nearest ones it has: `kRSA`
    /// (RSA key exchange, which rustls does not do) selects the ECDHE suites that use the same
    /// RSA certificates.
    pub stand_ins: Vec<String>,
}

/// What a stand-in class word means to rustls, and the words that say so to the user.
pub const KRSA_STAND_IN: &str = "rustls has no RSA key exchange: 'kRSA' stands for the \
     ECDHE suites with RSA certificates (aRSA)";

fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split([':', ',', ' ']).filter(|s| !s.is_empty())
}

/// Evaluates an OpenSSL `ciphers` string (TLS 1.2): exact names, class words joined with `+`,
/// and `!`/`-` removals. A cipher name (it has a `-`) rustls lacks is reported.
pub fn tls12(list: &str) -> Selection {
    let mut out = Selection::default();
    let mut banned: Vec<&str> = Vec::new();
    for item in items(list) {
        let (remove, word) = match item.as_bytes()[0] {
            b'!' | b'-' => (true, &item[1..]),
            b'+' => (false, &item[1..]),
            _ => (false, item),
        };
        if word.starts_with('@') {
            continue;
        }
        let picked: Vec<&'static str> = match TLS12_SUITES.iter().find(|s| s.0 == word) {
            Some(s) => vec![s.1],
            None if word.contains('-') && !word.contains('+') => {
                if !remove {
                    out.unknown.push(word.to_string());
                }
                continue;
            }
            None => {
                let mut classes: Vec<&str> = word.split('+').collect();
                // Only a word that adds suites stands in: `!kRSA` removes nothing rustls has.
                if !remove && classes.contains(&"kRSA") {
                    for c in classes.iter_mut().filter(|c| **c == "kRSA") {
                        *c = "aRSA";
                    }
                    if !out.stand_ins.iter().any(|w| w == "kRSA") {
                        out.stand_ins.push("kRSA".to_string());
                    }
                }
                TLS12_SUITES
                    .iter()
                    .filter(|s| {
                        classes
                            .iter()
                            .all(|c| EVERY_SUITE.contains(c) || s.2.contains(c))
                    })
                    .map(|s| s.1)
                    .collect()
            }
        };
        if remove {
            out.selected.retain(|s| !picked.contains(s));
            if item.starts_with('!') {
                banned.extend(picked);
            }
        } else {
            for s in picked {
                if !out.selected.contains(&s) && !banned.contains(&s) {
                    out.selected.push(s);
                }
            }
        }
    }
    out
}

/// The ECDHE suite (OpenSSL name, IANA name) standing in for a finite-field DHE one rustls
/// lacks (`DHE-RSA-AES256-GCM-SHA384` → `ECDHE-RSA-AES256-GCM-SHA384`): same authentication
/// and bulk cipher, elliptic-curve key exchange. Used only when a list selects nothing else.
pub fn dhe_stand_in(name: &str) -> Option<(&'static str, &'static str)> {
    let rest = name.strip_prefix("DHE-")?;
    TLS12_SUITES
        .iter()
        .find(|s| s.0.strip_prefix("ECDHE-") == Some(rest))
        .map(|s| (s.0, s.1))
}

/// Evaluates a `ciphersuites` list (TLS 1.3); answers rustls' suite names.
pub fn tls13(list: &str) -> Selection {
    let mut out = Selection::default();
    for item in items(list) {
        match TLS13_SUITES.iter().find(|s| s.0 == item) {
            Some(s) if !out.selected.contains(&s.1) => out.selected.push(s.1),
            Some(_) => {}
            None => out.unknown.push(item.to_string()),
        }
    }
    out
}

/// Evaluates a `curves` list.
pub fn groups(list: &str) -> Selection {
    let mut out = Selection::default();
    for item in items(list) {
        match GROUPS.iter().find(|g| g.0 == item) {
            Some(g) if !out.selected.contains(&g.1) => out.selected.push(g.1),
            Some(_) => {}
            None => out.unknown.push(item.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_cipher_strings_select_rustls_suites() {
        assert_eq!(
            dhe_stand_in("DHE-RSA-AES256-GCM-SHA384"),
            Some((
                "ECDHE-RSA-AES256-GCM-SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
            ))
        );
        assert_eq!(dhe_stand_in("DHE-RSA-AES256-SHA"), None);
        let s = tls12("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA");
        assert_eq!(s.selected, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]);
        assert_eq!(s.unknown, ["ECDHE-RSA-AES256-SHA"]);
        let s = tls12("ECDHE+AESGCM:!aECDSA");
        assert_eq!(
            s.selected,
            [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        let s = tls12("HIGH:!aNULL:!MD5");
        assert_eq!(s.selected.len(), TLS12_SUITES.len());
        assert!(s.unknown.is_empty());
    }

    #[test]
    fn krsa_stands_for_the_rsa_certificate_suites_and_removing_it_removes_nothing() {
        let s = tls12("kRSA");
        assert_eq!(s.stand_ins, ["kRSA"]);
        assert_eq!(s.selected.len(), 3);
        assert!(s.selected.iter().all(|n| n.contains("_RSA_")));
        let s = tls12("kRSA:aECDSA");
        assert_eq!(s.selected.len(), 6);
        let s = tls12("ECDHE+AESGCM:!kRSA");
        assert!(s.stand_ins.is_empty());
        assert_eq!(s.selected.len(), 4);
    }

    #[test]
    fn tls13_suites_and_curves() {
        let s = tls13("TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_SHA256");
        assert_eq!(s.selected, ["TLS13_AES_256_GCM_SHA384"]);
        assert_eq!(s.unknown, ["TLS_AES_128_CCM_SHA256"]);
        let g = groups("X25519:prime256v1:brainpoolP256r1");
        assert_eq!(g.selected, ["X25519", "secp256r1"]);
        assert_eq!(g.unknown, ["brainpoolP256r1"]);
    }
}
