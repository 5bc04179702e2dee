//! Revocation lists WebPKI cannot read: version 1 CRLs (no extensions), which OpenSSL, and so
//! HAProxy, loads. A `crl-file` holding one is checked here instead: each certificate of the
//! chain below its trust anchor needs a list from its issuer that does not name its serial
//! and is not past its next update, as OpenSSL checks with `crl-file` (the whole chain). A
//! list whose issuer is among the CA files must carry that CA's valid signature.

use rustls::{CertificateError, Error};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use x509_parser::prelude::*;

/// One revocation list, read.
#[derive(Debug)]
struct Crl {
    issuer: Vec<u8>,
    revoked: Vec<Vec<u8>>,
    next_update: Option<i64>,
}

/// The lists of one `crl-file`, and the subjects of the trust anchors (not checked).
#[derive(Debug, Default)]
pub struct Crls {
    lists: Vec<Crl>,
    anchors: Vec<Vec<u8>>,
}

/// What a `crl-file` gives a verifier: the lists themselves when WebPKI reads them all, else
/// (a version 1 list among them) this module's check, which the verifier runs once WebPKI
/// accepted the chain.
pub enum Revocation {
    Webpki(Vec<CertificateRevocationListDer<'static>>),
    Own(Crls),
}

impl Revocation {
    /// Reads `crl_file`; `cas` are the certificates of the CA files (trust anchors).
    pub fn load(crl_file: &str, cas: &[CertificateDer<'_>]) -> Result<Revocation, String> {
        let lists = super::config::load_crls(crl_file)?;
        Ok(if has_v1(&lists) {
            Revocation::Own(Crls::new(&lists, cas, crl_file)?)
        } else {
            Revocation::Webpki(lists)
        })
    }
}

/// The step a verifier runs after WebPKI's: the chain against version 1 lists, when there are.
pub fn check(
    crls: Option<&Crls>,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), Error> {
    crls.map_or(Ok(()), |c| {
        c.check(leaf, intermediates, now)
            .map_err(Error::InvalidCertificate)
    })
}

/// Whether a file's lists need this checker (a version 1 list is among them).
pub fn has_v1(lists: &[CertificateRevocationListDer<'_>]) -> bool {
    lists.iter().any(|l| {
        parse_x509_crl(l.as_ref()).is_ok_and(|(_, c)| c.version().is_none_or(|v| v.0 == 0))
    })
}

/// Checks a list's signature with its issuer's public key.
fn signed_by(crl: &CertificateRevocationList<'_>, key: &SubjectPublicKeyInfo<'_>) -> bool {
    super::v1cert::signed_with(
        key,
        &crl.signature_algorithm.algorithm.to_id_string(),
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
    )
}

impl Crls {
    /// Reads the lists; `cas` are the certificates of the CA files (trust anchors).
    pub fn new(
        lists: &[CertificateRevocationListDer<'_>],
        cas: &[CertificateDer<'_>],
        path: &str,
    ) -> Result<Crls, String> {
        let cas: Vec<X509Certificate<'_>> = cas
            .iter()
            .filter_map(|c| X509Certificate::from_der(c.as_ref()).ok().map(|(_, c)| c))
            .collect();
        let mut out = Crls {
            anchors: cas.iter().map(|c| c.subject().as_raw().to_vec()).collect(),
            ..Crls::default()
        };
        for l in lists {
            let (_, crl) = parse_x509_crl(l.as_ref())
                .map_err(|e| format!("unable to load CRL file '{path}' : {e}"))?;
            let issuer = crl.issuer().as_raw();
            if let Some(ca) = cas.iter().find(|c| c.subject().as_raw() == issuer) {
                if !signed_by(&crl, ca.public_key()) {
                    return Err(format!(
                        "unable to load CRL file '{path}' : CRL signature failure"
                    ));
                }
            }
            out.lists.push(Crl {
                issuer: issuer.to_vec(),
                revoked: crl
                    .iter_revoked_certificates()
                    .map(|r| r.raw_serial().to_vec())
                    .collect(),
                next_update: crl.next_update().map(|t| t.timestamp()),
            });
        }
        Ok(out)
    }

    /// Checks the chain (leaf first) below its trust anchor.
    pub fn check(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), CertificateError> {
        for (i, der) in std::iter::once(leaf).chain(intermediates).enumerate() {
            let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
                continue;
            };
            let (subject, issuer) = (cert.subject().as_raw(), cert.issuer().as_raw());
            // The anchor and self-issued certificates have no list to be in.
            if i > 0 && (subject == issuer || self.anchors.iter().any(|a| a == subject)) {
                continue;
            }
            let mut lists = self.lists.iter().filter(|l| l.issuer == issuer).peekable();
            if lists.peek().is_none() {
                return Err(CertificateError::UnknownRevocationStatus);
            }
            for l in lists {
                if l.revoked.iter().any(|s| s == cert.raw_serial()) {
                    return Err(CertificateError::Revoked);
                }
                if l.next_update.is_some_and(|t| t < now.as_secs() as i64) {
                    return Err(CertificateError::ExpiredRevocationList);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    fn corpus(name: &str) -> Option<Vec<u8>> {
        let p = hapee_compiler::testkit::corpus_dir()
            .join("regtests-2.7/ssl")
            .join(name);
        std::fs::read(p).ok()
    }

    #[test]
    fn version_1_lists_are_read_checked_and_applied() {
        let (Some(crl), Some(ca), Some(client)) = (
            corpus("interCA1_crl.pem"),
            corpus("set_cafile_interCA1.crt"),
            corpus("set_cafile_client.pem"),
        ) else {
            eprintln!("corpus not found: skipping");
            return;
        };
        let lists: Vec<_> = CertificateRevocationListDer::pem_slice_iter(&crl)
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(has_v1(&lists));
        let cas: Vec<_> = CertificateDer::pem_slice_iter(&ca)
            .collect::<Result<_, _>>()
            .unwrap();
        let crls = Crls::new(&lists, &cas, "x").unwrap();
        let leaf = CertificateDer::pem_slice_iter(&client)
            .next()
            .unwrap()
            .unwrap();
        // interCA1_crl.pem revokes the client certificate of that test directory.
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000));
        assert_eq!(crls.check(&leaf, &[], now), Err(CertificateError::Revoked));
        let empty = corpus("interCA1_crl_empty.pem").unwrap();
        let lists: Vec<_> = CertificateRevocationListDer::pem_slice_iter(&empty)
            .collect::<Result<_, _>>()
            .unwrap();
        let crls = Crls::new(&lists, &cas, "x").unwrap();
        assert_eq!(crls.check(&leaf, &[], now), Ok(()));
        // A list from another issuer says nothing of this certificate.
        let other = Crls {
            lists: Vec::new(),
            anchors: Vec::new(),
        };
        assert_eq!(
            other.check(&leaf, &[], now),
            Err(CertificateError::UnknownRevocationStatus)
        );
    }
}
