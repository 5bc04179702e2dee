//! X.509 version 1 certificates, of clients and of servers, which OpenSSL (and so HAProxy)
//! accepts and WebPKI refuses outright (`UnsupportedCertVersion`, in the chain check and in
//! the handshake's signature check alike); HAProxy's own reg-tests present such certificates.
//! A version 1 leaf is checked here: its chain up to a trust anchor (through the certificates
//! sent above it), the signatures, the dates; its handshake signature with its public key.

use aws_lc_rs::signature as s;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::*;

/// Whether the certificate is a version 1 one.
pub fn is_v1(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.version() == X509Version::V1)
}

/// Checks a signature made with the algorithm named by `alg_oid` against a public key.
pub fn signed_with(key: &SubjectPublicKeyInfo<'_>, alg_oid: &str, tbs: &[u8], sig: &[u8]) -> bool {
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .unwrap_or_default();
    let p384 = curve == "1.3.132.0.34";
    let alg: &dyn s::VerificationAlgorithm = match alg_oid {
        "1.2.840.113549.1.1.5" => &s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.11" => &s::RSA_PKCS1_2048_8192_SHA256,
        "1.2.840.113549.1.1.12" => &s::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &s::RSA_PKCS1_2048_8192_SHA512,
        "1.2.840.10045.4.3.2" if p384 => &s::ECDSA_P384_SHA256_ASN1,
        "1.2.840.10045.4.3.2" => &s::ECDSA_P256_SHA256_ASN1,
        "1.2.840.10045.4.3.3" if p384 => &s::ECDSA_P384_SHA384_ASN1,
        "1.2.840.10045.4.3.3" => &s::ECDSA_P256_SHA384_ASN1,
        _ => return false,
    };
    s::UnparsedPublicKey::new(alg, &key.subject_public_key.data)
        .verify(tbs, sig)
        .is_ok()
}

/// Verifies a version 1 leaf as OpenSSL would: its chain built up to a self-signed trust
/// anchor, each issuer looked for among `anchors` first and then among the certificates the
/// peer sent above its leaf (`sent`), every signature good, the leaf and the sent
/// certificates inside their dates.
pub fn verify_leaf(
    leaf: &CertificateDer<'_>,
    anchors: &[CertificateDer<'_>],
    sent: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), CertificateError> {
    let (_, cert) =
        X509Certificate::from_der(leaf.as_ref()).map_err(|_| CertificateError::BadEncoding)?;
    let anchors = parse(anchors);
    let sent = parse(sent);
    let signed = |c: &X509Certificate<'_>, by: &X509Certificate<'_>| {
        signed_with(
            by.public_key(),
            &c.signature_algorithm.algorithm.to_id_string(),
            c.tbs_certificate.as_ref(),
            &c.signature_value.data,
        )
    };
    let secs = now.as_secs() as i64;
    let dates = |c: &X509Certificate<'_>| {
        if secs < c.validity().not_before.timestamp() {
            Err(CertificateError::NotValidYet)
        } else if secs > c.validity().not_after.timestamp() {
            Err(CertificateError::Expired)
        } else {
            Ok(())
        }
    };
    // OpenSSL without partial chains (HAProxy sets none) trusts a chain only up to a
    // self-signed CA: an intermediate CA file alone does not do.
    let mut cur = &cert;
    let mut used = vec![false; sent.len()];
    let mut trusted = false;
    for _ in 0..=anchors.len() + sent.len() {
        if trusted && cur.subject() == cur.issuer() {
            return dates(&cert);
        }
        let by_name = |c: &X509Certificate<'_>| c.subject().as_raw() == cur.issuer().as_raw();
        if let Some(up) = anchors.iter().find(|a| by_name(a)) {
            if !signed(cur, up) {
                return Err(CertificateError::BadSignature);
            }
            (cur, trusted) = (up, true);
            continue;
        }
        let Some(i) = (0..sent.len()).find(|&i| !used[i] && !trusted && by_name(&sent[i])) else {
            break;
        };
        used[i] = true;
        if !signed(cur, &sent[i]) {
            return Err(CertificateError::BadSignature);
        }
        dates(&sent[i])?;
        cur = &sent[i];
    }
    Err(CertificateError::UnknownIssuer)
}

/// The certificates of `ders` that parse.
fn parse<'a>(ders: &'a [CertificateDer<'_>]) -> Vec<X509Certificate<'a>> {
    ders.iter()
        .filter_map(|a| X509Certificate::from_der(a.as_ref()).ok().map(|(_, c)| c))
        .collect()
}

/// Checks the handshake's signature (CertificateVerify) with a version 1 certificate's key.
fn verify_signature(
    cert: &CertificateDer<'_>,
    message: &[u8],
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, Error> {
    let bad = || Error::InvalidCertificate(CertificateError::BadSignature);
    let (_, cert) = X509Certificate::from_der(cert.as_ref())
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let alg: &dyn s::VerificationAlgorithm = match dss.scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => &s::RSA_PKCS1_2048_8192_SHA256,
        SignatureScheme::RSA_PKCS1_SHA384 => &s::RSA_PKCS1_2048_8192_SHA384,
        SignatureScheme::RSA_PKCS1_SHA512 => &s::RSA_PKCS1_2048_8192_SHA512,
        SignatureScheme::RSA_PSS_SHA256 => &s::RSA_PSS_2048_8192_SHA256,
        SignatureScheme::RSA_PSS_SHA384 => &s::RSA_PSS_2048_8192_SHA384,
        SignatureScheme::RSA_PSS_SHA512 => &s::RSA_PSS_2048_8192_SHA512,
        SignatureScheme::ECDSA_NISTP256_SHA256 => &s::ECDSA_P256_SHA256_ASN1,
        SignatureScheme::ECDSA_NISTP384_SHA384 => &s::ECDSA_P384_SHA384_ASN1,
        SignatureScheme::ED25519 => &s::ED25519,
        _ => return Err(bad()),
    };
    s::UnparsedPublicKey::new(alg, &cert.public_key().subject_public_key.data)
        .verify(message, dss.signature())
        .map(|_| HandshakeSignatureValid::assertion())
        .map_err(|_| bad())
}

/// Checks a handshake signature: with a version 1 certificate's key here, any other
/// certificate's by `others` (WebPKI's check, which refuses version 1 certificates).
pub fn verify_signature_or(
    cert: &CertificateDer<'_>,
    message: &[u8],
    dss: &DigitallySignedStruct,
    others: impl FnOnce() -> Result<HandshakeSignatureValid, Error>,
) -> Result<HandshakeSignatureValid, Error> {
    if is_v1(cert) {
        verify_signature(cert, message, dss)
    } else {
        others()
    }
}

/// Whether a version 1 server certificate answers for `name` (its CN, `*.` for one label).
pub fn names_match(cert: &CertificateDer<'_>, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    super::x509::server_names(cert)
        .iter()
        .any(|n| match n.strip_prefix("*.") {
            Some(rest) => name
                .split_once('.')
                .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
            None => *n == name,
        })
}
