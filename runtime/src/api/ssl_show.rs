//! What `show ssl cert|ca-file|crl-file <name>` print of certificates and CRLs, in the forms
//! HAProxy prints them (OpenSSL's dates and one-line names, upper-case hexadecimal).

use crate::tls::x509::CertFacts;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use x509_parser::prelude::*;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date as OpenSSL's `ASN1_TIME_print` writes it: `Dec  3 17:52:28 2026 GMT`.
pub fn openssl_date(t: &ASN1Time) -> String {
    let d = t.to_datetime();
    format!(
        "{} {:2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[usize::from(u8::from(d.month())).saturating_sub(1) % 12],
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.year()
    )
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// An integer's content bytes without the sign byte DER adds (OpenSSL keeps none).
fn unsigned(serial: &[u8]) -> &[u8] {
    match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    }
}

/// The key algorithm and size, `RSA2048` or `EC256`.
fn key_algorithm(c: &X509Certificate<'_>) -> String {
    match c.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => format!("RSA{}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(k)) => format!("EC{}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => "DSA".into(),
        _ => "Unknown".into(),
    }
}

/// The DNS names of the SAN extension, `DNS:a, DNS:b` (other kinds leave their separator).
fn san_line(c: &X509Certificate<'_>) -> String {
    let mut out = String::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for (i, n) in san.value.general_names.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let GeneralName::DNSName(d) = n {
                out.push_str("DNS:");
                out.push_str(d);
            }
        }
    }
    out
}

fn one_line(dn: &X509Name<'_>) -> String {
    let facts_dn: Vec<(String, String)> = CertFacts::of_name(dn);
    CertFacts::dn(&facts_dn, None, 0).unwrap_or_default()
}

fn sha1(der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// One certificate's lines, from `Serial:` to `Issuer:`.
pub fn certificate(der: &[u8]) -> String {
    let Ok((_, c)) = X509Certificate::from_der(der) else {
        return String::new();
    };
    format!(
        "Serial: {}\nnotBefore: {}\nnotAfter: {}\nSubject Alternative Name: {}\nAlgorithm: {}\nSHA1 FingerPrint: {}\nSubject: {}\nIssuer: {}\n",
        hex_upper(unsigned(c.raw_serial())),
        openssl_date(&c.validity().not_before),
        openssl_date(&c.validity().not_after),
        san_line(&c),
        key_algorithm(&c),
        sha1(der),
        one_line(c.subject()),
        one_line(c.issuer()),
    )
}

/// The certificates of a PEM text, in order.
pub fn certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// `show ssl cert <file>`'s body after `Status:`: the leaf, then its chain's names.
pub fn cert_file(pem: &[u8]) -> String {
    let certs = certificates(pem);
    let Some(leaf) = certs.first() else {
        return String::new();
    };
    let mut out = certificate(leaf);
    for c in &certs[1..] {
        if let Ok((_, c)) = X509Certificate::from_der(c) {
            out.push_str(&format!(
                "Chain Subject: {}\nChain Issuer: {}\n",
                one_line(c.subject()),
                one_line(c.issuer())
            ));
        }
    }
    out
}

/// The CRLs of a PEM text, in order.
pub fn crls(pem: &[u8]) -> Vec<CertificateRevocationListDer<'static>> {
    CertificateRevocationListDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// One CRL's lines, from `Version` to its revoked certificates.
pub fn crl(der: &[u8]) -> String {
    let Ok((_, crl)) = CertificateRevocationList::from_der(der) else {
        return String::new();
    };
    let alg = x509_parser::objects::oid2sn(
        &crl.signature_algorithm.algorithm,
        x509_parser::objects::oid_registry(),
    )
    .map(str::to_string)
    .unwrap_or_else(|_| crl.signature_algorithm.algorithm.to_id_string());
    let mut out = format!(
        "Version {}\nSignature Algorithm: {alg}\nIssuer: {}\nLast Update: {}\nNext Update: {}\n",
        crl.version().map_or(1, |v| v.0 + 1),
        one_line(crl.issuer()),
        openssl_date(&crl.last_update()),
        crl.next_update()
            .map_or_else(|| "NONE".to_string(), |t| openssl_date(&t)),
    );
    let mut revoked = crl.iter_revoked_certificates().peekable();
    if revoked.peek().is_none() {
        out.push_str("No Revoked Certificates.\n");
    } else {
        out.push_str("Revoked Certificates:\n");
        for r in revoked {
            out.push_str(&format!(
                "    Serial Number: {}\n        Revocation Date: {}\n",
                hex_upper(unsigned(r.raw_serial())),
                openssl_date(&r.revocation_date)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_serials_print_as_openssl_does() {
        let t = ASN1Time::from_timestamp(1_796_320_348).unwrap();
        assert_eq!(openssl_date(&t), "Dec  3 17:52:28 2026 GMT");
        assert_eq!(unsigned(&[0, 0x80, 1]), &[0x80, 1]);
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
    }

    #[test]
    fn a_generated_certificate_is_described() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["a.example".into(), "b.example".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "a.example");
        let cert = params.self_signed(&key).unwrap();
        let text = cert_file(cert.pem().as_bytes());
        assert!(
            text.contains("Subject Alternative Name: DNS:a.example, DNS:b.example\n"),
            "{text}"
        );
        assert!(text.contains("Algorithm: EC256\n"), "{text}");
        assert!(text.contains("Subject: /CN=a.example\n"), "{text}");
        assert!(text.contains(&format!("SHA1 FingerPrint: {}\n", sha1(cert.der()))));
    }
}
