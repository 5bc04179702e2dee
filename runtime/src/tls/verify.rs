//! Client certificate verification with HAProxy's `ca-ignore-err`/`crt-ignore-err`: rustls'
//! WebPKI verifier decides, its errors are given OpenSSL's `X509_V_ERR_*` codes, and a chain
//! whose every error is ignored is let through. The codes of a connection's chain are
//! recomputed once its handshake is done (`outcome`), for `ssl_c_err`, `ssl_c_ca_err` and
//! `ssl_c_verify`.

use hapee_compiler::plan::tls::IgnoredErrors;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};
use std::sync::Arc;
use std::time::Duration;

// OpenSSL's codes for the errors WebPKI reports.
const UNSPECIFIED: i32 = 1;
const UNABLE_TO_GET_CRL: i32 = 3;
const CERT_SIGNATURE_FAILURE: i32 = 7;
const CERT_NOT_YET_VALID: i32 = 9;
const CERT_HAS_EXPIRED: i32 = 10;
const CRL_HAS_EXPIRED: i32 = 12;
const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const CERT_REVOKED: i32 = 23;
const INVALID_PURPOSE: i32 = 26;
const UNHANDLED_CRITICAL_EXTENSION: i32 = 34;

thread_local! {
    /// Where the last certificate this thread refused failed: `true` in its CA chain (HAProxy's
    /// "SSL client CA chain cannot be verified"), `false` on the certificate itself ("SSL
    /// client certificate not trusted"). rustls hands the handshake's error back in the same
    /// poll that called the verifier, where [`take_refusal`] reads this.
    static REFUSED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Where the client certificate whose refusal just failed a handshake on this thread failed
/// (see `REFUSED`); `None` when no certificate was refused.
pub fn take_refusal() -> Option<bool> {
    REFUSED.take()
}

/// A chain's verification results as HAProxy keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// `ssl_c_verify`: the last error OpenSSL would have reported, 0 when none.
    pub verify: i32,
    /// `ssl_c_err`: the first error on the client's own certificate (depth 0).
    pub crt_err: i32,
    /// `ssl_c_ca_err`: the first error on a CA certificate of its chain (depth > 0).
    pub ca_err: i32,
    /// `ssl_c_ca_err_depth`: the depth of that certificate (1 for the client's issuer).
    pub ca_err_depth: u32,
}

/// One verification error: its OpenSSL code and the depth of the certificate it concerns (0
/// for the client's own, 1 for its issuer…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChainError {
    code: i32,
    depth: u32,
}

impl ChainError {
    fn leaf(&self) -> bool {
        self.depth == 0
    }
}

#[derive(Debug)]
pub struct IgnoringVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    /// Version 1 revocation lists, which WebPKI does not read: checked once it accepted.
    crls: Option<super::crl::Crls>,
    /// The CA files' certificates, where a version 1 leaf's issuer is looked for.
    anchors: Vec<CertificateDer<'static>>,
    ca_ignore: IgnoredErrors,
    crt_ignore: IgnoredErrors,
    /// The bind's `curves`/`ecdhe` groups, when it names some: in TLS 1.2 an elliptic-curve
    /// client key must be on one of them (OpenSSL's "wrong curve" otherwise).
    groups: Option<Vec<rustls::NamedGroup>>,
}

impl IgnoringVerifier {
    pub fn new(
        inner: Arc<dyn ClientCertVerifier>,
        crls: Option<super::crl::Crls>,
        anchors: Vec<CertificateDer<'static>>,
        ca_ignore: IgnoredErrors,
        crt_ignore: IgnoredErrors,
        groups: Option<Vec<rustls::NamedGroup>>,
    ) -> IgnoringVerifier {
        IgnoringVerifier {
            inner,
            crls,
            anchors,
            ca_ignore,
            crt_ignore,
            groups,
        }
    }

    /// The chain's verification without ignoring anything: WebPKI's (ours for a version 1
    /// leaf, which WebPKI refuses), then the version 1 lists.
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verified = if super::v1cert::is_v1(end_entity) {
            super::v1cert::verify_leaf(end_entity, &self.anchors, intermediates, now)?;
            ClientCertVerified::assertion()
        } else {
            self.inner
                .verify_client_cert(end_entity, intermediates, now)?
        };
        super::crl::check(self.crls.as_ref(), end_entity, intermediates, now)?;
        Ok(verified)
    }

    /// Every error of the chain, in the order OpenSSL meets them (issuer, purpose,
    /// revocation, then signatures and dates). WebPKI stops at the first error, so a date
    /// error is looked past by verifying again at a moment inside the certificate's validity.
    fn errors(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Vec<ChainError> {
        let mut out: Vec<ChainError> = Vec::new();
        let mut at = now;
        for _ in 0..4 {
            let Err(e) = self.verify(end_entity, intermediates, at) else {
                break;
            };
            let (error, retry_at) = classify(&e, end_entity, intermediates, at);
            if out.contains(&error) {
                break;
            }
            out.push(error);
            match retry_at {
                Some(t) => at = t,
                None => break,
            }
        }
        out.sort_by_key(|e| openssl_rank(e.code));
        // A chain that is the leaf alone, its issuer nowhere: once that error is let through,
        // OpenSSL's signature walk has no issuer key for the leaf, reports that, and checks
        // nothing more on it (its signature and dates).
        if out
            .iter()
            .any(|e| e.leaf() && e.code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
        {
            out.retain(|e| {
                !(e.leaf()
                    && matches!(
                        e.code,
                        CERT_SIGNATURE_FAILURE | CERT_NOT_YET_VALID | CERT_HAS_EXPIRED
                    ))
            });
            out.push(ChainError {
                code: UNABLE_TO_VERIFY_LEAF_SIGNATURE,
                depth: 0,
            });
        }
        out
    }

    /// The codes HAProxy shows for a chain the handshake accepted.
    pub fn outcome(&self, chain: &[CertificateDer<'_>]) -> VerifyOutcome {
        let Some((leaf, rest)) = chain.split_first() else {
            return VerifyOutcome::default();
        };
        let errors = self.errors(leaf, rest, UnixTime::now());
        let first = |leaf: bool| errors.iter().find(|e| e.leaf() == leaf);
        let ca = first(false);
        VerifyOutcome {
            verify: errors.last().map_or(0, |e| e.code),
            crt_err: first(true).map_or(0, |e| e.code),
            ca_err: ca.map_or(0, |e| e.code),
            ca_err_depth: ca.map_or(0, |e| e.depth),
        }
    }
}

/// OpenSSL's verification order, by error.
fn openssl_rank(code: i32) -> u8 {
    match code {
        DEPTH_ZERO_SELF_SIGNED_CERT
        | SELF_SIGNED_CERT_IN_CHAIN
        | UNABLE_TO_GET_ISSUER_CERT_LOCALLY => 0,
        INVALID_PURPOSE | UNHANDLED_CRITICAL_EXTENSION => 1,
        UNABLE_TO_GET_CRL | CRL_HAS_EXPIRED | CERT_REVOKED => 2,
        _ => 3,
    }
}

/// The OpenSSL code of a WebPKI error, its depth, and a moment at which to verify again to
/// find what else is wrong (for date errors).
fn classify(
    e: &Error,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> (ChainError, Option<UnixTime>) {
    let leaf_window = super::x509::validity(leaf);
    let secs = now.as_secs() as i64;
    let at = |t: i64| {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(
            t.max(0) as u64
        )))
    };
    let Error::InvalidCertificate(ce) = e else {
        return (
            ChainError {
                code: UNSPECIFIED,
                depth: 0,
            },
            None,
        );
    };
    let (code, leaf_level, retry) = match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => match leaf_window {
            Some((nb, na)) if secs > na => (CERT_HAS_EXPIRED, true, at(na.max(nb))),
            _ => (CERT_HAS_EXPIRED, false, None),
        },
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            match leaf_window {
                Some((nb, na)) if secs < nb => (CERT_NOT_YET_VALID, true, at(nb.min(na))),
                _ => (CERT_NOT_YET_VALID, false, None),
            }
        }
        CertificateError::UnknownIssuer => {
            // OpenSSL reports a missing or self-signed issuer at the top of the chain it
            // could build from what was sent (certificates that issued none of it are left
            // out).
            let (depth, top) = super::x509::sent_chain_top(leaf, intermediates);
            let code = match (depth, super::x509::self_issued(top)) {
                (0, true) => DEPTH_ZERO_SELF_SIGNED_CERT,
                (_, true) => SELF_SIGNED_CERT_IN_CHAIN,
                _ => UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            };
            return (ChainError { code, depth }, None);
        }
        CertificateError::Revoked => (CERT_REVOKED, true, None),
        CertificateError::UnknownRevocationStatus => (UNABLE_TO_GET_CRL, true, None),
        CertificateError::ExpiredRevocationList
        | CertificateError::ExpiredRevocationListContext { .. } => (CRL_HAS_EXPIRED, true, None),
        CertificateError::BadSignature => (CERT_SIGNATURE_FAILURE, true, None),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            (INVALID_PURPOSE, true, None)
        }
        CertificateError::UnhandledCriticalExtension => (UNHANDLED_CRITICAL_EXTENSION, true, None),
        _ => (UNSPECIFIED, true, None),
    };
    // Where a CA's error lies: OpenSSL checks dates from the top of the chain down (the
    // trust anchor above the certificates sent, when none of them is out of its dates).
    let sent = intermediates.len() as u32;
    let depth = if leaf_level {
        0
    } else if matches!(code, CERT_HAS_EXPIRED | CERT_NOT_YET_VALID) {
        let out_of_dates = |c: &CertificateDer<'_>| {
            super::x509::validity(c).is_some_and(|(nb, na)| {
                if code == CERT_HAS_EXPIRED {
                    secs > na
                } else {
                    secs < nb
                }
            })
        };
        (1..=sent)
            .rev()
            .find(|&d| out_of_dates(&intermediates[d as usize - 1]))
            .unwrap_or(sent + 1)
    } else {
        sent
    };
    (ChainError { code, depth }, retry)
}

impl ClientCertVerifier for IgnoringVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let first = match self.verify(end_entity, intermediates, now) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let errors = self.errors(end_entity, intermediates, now);
        let ignored = |e: &ChainError| {
            if e.leaf() {
                self.crt_ignore.ignores(e.code)
            } else {
                self.ca_ignore.ignores(e.code)
            }
        };
        match errors.iter().find(|e| !ignored(e)) {
            None if !errors.is_empty() => Ok(ClientCertVerified::assertion()),
            refusing => {
                REFUSED.set(Some(refusing.is_some_and(|e| !e.leaf())));
                Err(first)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::kx::check_key_group(self.groups.as_deref(), cert)?;
        super::v1cert::verify_signature_or(cert, message, dss, || {
            self.inner.verify_tls12_signature(message, cert, dss)
        })
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::v1cert::verify_signature_or(cert, message, dss, || {
            self.inner.verify_tls13_signature(message, cert, dss)
        })
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
