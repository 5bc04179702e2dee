//! X.509 version 1 certificates, of clients and of servers, which OpenSSL (and so HAProxy)
//! accepts and WebPKI refuses outright (`UnsupportedCertVersion`, in the chain check and in
//! the handshake's signature check alike); HAProxy's own reg-tests present such certificates.
//! A version 1 leaf is checked here: its issuer among the trust anchors, its signature, its
//! dates; its handshake signature with its public key.

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

/// Verifies a version 1 leaf issued by one of `anchors`, as OpenSSL would: issuer found, and
/// its own up to a self-signed one, signatures good, inside its dates. Certificates the peer
/// sent above its leaf are not followed.
pub fn verify_leaf(
    leaf: &CertificateDer<'_>,
    anchors: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), CertificateError> {
    let (_, cert) =
        X509Certificate::from_der(leaf.as_ref()).map_err(|_| CertificateError::BadEncoding)?;
    let anchors: Vec<X509Certificate<'_>> = anchors
        .iter()
        .filter_map(|a| X509Certificate::from_der(a.as_ref()).ok().map(|(_, c)| c))
        .collect();
    let issuer_of = |c: &X509Certificate<'_>| {
        anchors
            .iter()
            .find(|a| a.subject().as_raw() == c.issuer().as_raw())
    };
    let signed = |c: &X509Certificate<'_>, by: &X509Certificate<'_>| {
        signed_with(
            by.public_key(),
            &c.signature_algorithm.algorithm.to_id_string(),
            c.tbs_certificate.as_ref(),
            &c.signature_value.data,
        )
    };
    let issuer = issuer_of(&cert).ok_or(CertificateError::UnknownIssuer)?;
    if !signed(&cert, issuer) {
        return Err(CertificateError::BadSignature);
    }
    // OpenSSL without partial chains (HAProxy sets none) trusts a chain only up to a
    // self-signed CA: an intermediate CA file alone does not do.
    let mut top = issuer;
    for _ in 0..anchors.len() {
        if top.subject() == top.issuer() {
            break;
        }
        match issuer_of(top).filter(|up| signed(top, up)) {
            Some(up) => top = up,
            None => return Err(CertificateError::UnknownIssuer),
        }
    }
    let secs = now.as_secs() as i64;
    if secs < cert.validity().not_before.timestamp() {
        return Err(CertificateError::NotValidYet);
    }
    if secs > cert.validity().not_after.timestamp() {
        return Err(CertificateError::Expired);
    }
    Ok(())
}

/// Checks the handshake's signature (CertificateVerify) with a version 1 certificate's key.
pub fn verify_signature(
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
