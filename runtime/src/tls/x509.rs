//! What the proxy reads out of certificates: the names a server certificate answers for, and
//! the subject, issuer, serial and validity that `ssl_c_*`/`ssl_s_*` fetch, in OpenSSL's forms.

use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use x509_parser::prelude::*;

/// Checks that a key pair's private key belongs to its certificate. rustls' own check
/// (`keys_match`) parses the certificate with WebPKI, which refuses the X.509 v1 certificates
/// OpenSSL, and so HAProxy, loads; this one compares the public key bits only.
pub fn check_key_matches(key: &CertifiedKey) -> Result<(), String> {
    let Some(spki) = key.key.public_key() else {
        // The key cannot tell its public half: nothing to compare, as rustls does.
        return Ok(());
    };
    let cert = key.cert.first().ok_or("no certificate")?;
    let (_, cert) = X509Certificate::from_der(cert.as_ref())
        .map_err(|e| format!("unreadable certificate: {e}"))?;
    let (_, ours) = SubjectPublicKeyInfo::from_der(spki.as_ref())
        .map_err(|e| format!("unreadable public key: {e}"))?;
    if ours.subject_public_key.data == cert.public_key().subject_public_key.data {
        Ok(())
    } else {
        Err("the private key does not match the certificate's public key".into())
    }
}

/// CN and SAN DNS names, lower-case, without duplicates.
pub fn server_names(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, c)) = X509Certificate::from_der(cert.as_ref()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        let n = n.to_ascii_lowercase();
        if !names.contains(&n) {
            names.push(n);
        }
    };
    for cn in c.subject().iter_common_name() {
        if let Ok(s) = cn.as_str() {
            add(s);
        }
    }
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for n in &san.value.general_names {
            if let GeneralName::DNSName(d) = n {
                add(d);
            }
        }
    }
    names
}

/// OpenSSL's short names of the usual distinguished-name attributes.
fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.12" => "title",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => return other.to_string(),
    }
    .to_string()
}

/// A certificate's facts as the fetches give them.
#[derive(Debug, Clone, Default)]
pub struct CertFacts {
    /// Subject and issuer as `(short name, value)` pairs, in order.
    pub subject: Vec<(String, String)>,
    pub issuer: Vec<(String, String)>,
    pub serial: Vec<u8>,
    /// `YYMMDDhhmmssZ`, as HAProxy prints the dates (`None`: a date it cannot print).
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub version: i64,
    pub sig_alg: String,
    pub key_alg: String,
    pub der: Vec<u8>,
}

fn dn_pairs(dn: &X509Name<'_>) -> Vec<(String, String)> {
    dn.iter_attributes()
        .map(|a| {
            (
                short_name(&a.attr_type().to_id_string()),
                a.as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A validity date as HAProxy prints it, `YYMMDDhhmmssZ`: HAProxy prints the dates of the
/// 2000s only (a UTCTime from 1950-1999 or a GeneralizedTime outside 2000-2099 gives nothing).
fn utc_time(t: &ASN1Time) -> Option<String> {
    let d = t.to_datetime();
    (2000..2100).contains(&d.year()).then(|| {
        format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            d.year() - 2000,
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    })
}

/// OpenSSL's short names (what `ssl_*_sig_alg`/`ssl_*_key_alg` give) where they differ
/// from x509-parser's.
const OPENSSL_SHORT_NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.4", "RSA-MD5"),
    ("1.2.840.113549.1.1.5", "RSA-SHA1"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.113549.1.1.11", "RSA-SHA256"),
    ("1.2.840.113549.1.1.12", "RSA-SHA384"),
    ("1.2.840.113549.1.1.13", "RSA-SHA512"),
    ("1.2.840.113549.1.1.14", "RSA-SHA224"),
    ("1.2.840.10040.4.3", "DSA-SHA1"),
    ("1.3.101.112", "ED25519"),
    ("1.3.101.113", "ED448"),
];

impl CertFacts {
    /// A distinguished name as `(short name, value)` pairs, in order.
    pub fn of_name(dn: &X509Name<'_>) -> Vec<(String, String)> {
        dn_pairs(dn)
    }

    pub fn of(der: &[u8]) -> Option<CertFacts> {
        let (_, c) = X509Certificate::from_der(der).ok()?;
        let alg_name = |oid: &x509_parser::der_parser::oid::Oid<'_>| {
            let id = oid.to_id_string();
            if let Some((_, sn)) = OPENSSL_SHORT_NAMES.iter().find(|(o, _)| *o == id) {
                return sn.to_string();
            }
            x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
                .map(str::to_string)
                .unwrap_or(id)
        };
        Some(CertFacts {
            subject: dn_pairs(c.subject()),
            issuer: dn_pairs(c.issuer()),
            serial: c.raw_serial().to_vec(),
            not_before: utc_time(&c.validity().not_before),
            not_after: utc_time(&c.validity().not_after),
            version: i64::from(c.version().0) + 1,
            sig_alg: alg_name(&c.signature_algorithm.algorithm),
            key_alg: alg_name(&c.public_key().algorithm.algorithm),
            der: der.to_vec(),
        })
    }

    /// A distinguished name as `ssl_c_s_dn` gives it: the OpenSSL one-line form
    /// (`/C=FR/O=Example/CN=www`), or with an entry name the value of its `pos`-th occurrence
    /// (1: first, the default; -1: last; 0: none). The entry's name is matched in any case
    /// (`cn` finds `CN`), as HAProxy matches it.
    pub fn dn(pairs: &[(String, String)], entry: Option<&str>, pos: i64) -> Option<String> {
        let Some(entry) = entry.filter(|e| !e.is_empty()) else {
            return Some(pairs.iter().map(|(k, v)| format!("/{k}={v}")).collect());
        };
        let found: Vec<&String> = pairs
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(entry))
            .map(|(_, v)| v)
            .collect();
        let index = match pos {
            0 => return None,
            p if p > 0 => p as usize - 1,
            p => found.len().checked_sub(p.unsigned_abs() as usize)?,
        };
        found.get(index).map(|s| s.to_string())
    }
}

/// The validity window of a certificate, in Unix seconds.
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    Some((
        c.validity().not_before.timestamp(),
        c.validity().not_after.timestamp(),
    ))
}

/// Whether the certificate names itself as its issuer.
pub fn self_issued(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.subject() == c.issuer())
}

/// How far the certificates a peer sent chain up from its own, followed by issuer name the
/// way OpenSSL builds a chain from the untrusted certificates: the depth of the last one
/// reached (0: none of the others issued the leaf) and that certificate.
pub fn sent_chain_top<'a>(
    leaf: &'a CertificateDer<'a>,
    sent: &'a [CertificateDer<'a>],
) -> (u32, &'a CertificateDer<'a>) {
    let parsed: Vec<Option<X509Certificate<'_>>> = sent
        .iter()
        .map(|c| X509Certificate::from_der(c.as_ref()).ok().map(|(_, c)| c))
        .collect();
    let Ok((_, mut cur)) = X509Certificate::from_der(leaf.as_ref()) else {
        return (0, leaf);
    };
    let (mut depth, mut top) = (0u32, leaf);
    let mut used = vec![false; sent.len()];
    while cur.subject() != cur.issuer() {
        let next = parsed
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.as_ref().is_some_and(|c| c.subject() == cur.issuer()));
        let Some((i, Some(c))) = next else { break };
        used[i] = true;
        depth += 1;
        top = &sent[i];
        cur = c.clone();
    }
    (depth, top)
}

/// The named curve of a certificate's elliptic-curve key (none for other keys).
pub fn ec_group(der: &[u8]) -> Option<rustls::NamedGroup> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    let key = c.public_key();
    if key.algorithm.algorithm.to_id_string() != "1.2.840.10045.2.1" {
        return None;
    }
    let curve = key
        .algorithm
        .parameters
        .as_ref()?
        .as_oid()
        .ok()?
        .to_id_string();
    Some(match curve.as_str() {
        "1.2.840.10045.3.1.7" => rustls::NamedGroup::secp256r1,
        "1.3.132.0.34" => rustls::NamedGroup::secp384r1,
        "1.3.132.0.35" => rustls::NamedGroup::secp521r1,
        _ => rustls::NamedGroup::Unknown(0),
    })
}
