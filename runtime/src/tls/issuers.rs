//! `issuers-chain-path`: a directory of PEM files, each an issuer certificate followed by
//! the rest of its chain. A `crt` file that holds a certificate without its chain gets the
//! chain whose first certificate issued it, as HAProxy completes it. Files are read once at
//! start, in name order; a file whose first certificate has no Subject Key Identifier, or
//! whose issuer is already known, is skipped, as HAProxy skips it (with a warning).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::sync::RwLock;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

struct IssuerChain {
    /// The DER of the first certificate's subject name.
    subject: Vec<u8>,
    /// Its Subject Key Identifier.
    key_id: Vec<u8>,
    chain: Vec<CertificateDer<'static>>,
}

static CHAINS: RwLock<Vec<IssuerChain>> = RwLock::new(Vec::new());

fn subject_key_id(c: &X509Certificate<'_>) -> Option<Vec<u8>> {
    c.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
}

fn authority_key_id(c: &X509Certificate<'_>) -> Option<Vec<u8>> {
    c.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

/// Reads the chains of `dir` (replacing any read before); a message when the directory
/// cannot be read, as HAProxy words it. The warnings name the files skipped.
pub fn load(dir: &str) -> Result<Vec<String>, String> {
    let keyword = "issuers-chain-path";
    let meta = std::fs::metadata(dir).map_err(|_| {
        format!("global statement '{keyword}' expects a directory path as an argument.")
    })?;
    if !meta.is_dir() {
        return Err(format!(
            "global statement '{keyword}': {dir} is not a directory."
        ));
    }
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| {
            format!("global statement '{keyword}': unable to scan directory '{dir}' : {e}.")
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let mut chains: Vec<IssuerChain> = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let path = format!("{dir}/{}", name.to_string_lossy());
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(pem) = std::fs::read(&path) else {
            continue;
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .map_while(Result::ok)
            .collect();
        let Some(first) = chain.first() else {
            warnings.push(format!(
                "unable to load issuers-chain {path} : pem certificate not found."
            ));
            continue;
        };
        let Ok((_, cert)) = X509Certificate::from_der(first) else {
            warnings.push(format!(
                "unable to load issuers-chain {path} : pem certificate not found."
            ));
            continue;
        };
        let Some(key_id) = subject_key_id(&cert) else {
            warnings.push(format!(
                "unable to load issuers-chain {path} : SubjectKeyIdentifier not found."
            ));
            continue;
        };
        let subject = cert.subject().as_raw().to_vec();
        if chains
            .iter()
            .any(|c| c.key_id == key_id && c.subject == subject)
        {
            warnings.push(format!("duplicate issuers-chain {path}: already in store"));
            continue;
        }
        chains.push(IssuerChain {
            subject,
            key_id,
            chain,
        });
    }
    *CHAINS.write().unwrap_or_else(|e| e.into_inner()) = chains;
    Ok(warnings)
}

/// The chain that completes `leaf`: the one whose first certificate has the leaf's issuer
/// as subject (and, when the leaf names its issuer's key, that key).
pub fn chain_for(leaf: &CertificateDer<'_>) -> Option<Vec<CertificateDer<'static>>> {
    let chains = CHAINS.read().unwrap_or_else(|e| e.into_inner());
    if chains.is_empty() {
        return None;
    }
    let (_, cert) = X509Certificate::from_der(leaf).ok()?;
    let issuer = cert.issuer().as_raw();
    let key = authority_key_id(&cert);
    chains
        .iter()
        .find(|c| c.subject == issuer && key.as_ref().is_none_or(|k| *k == c.key_id))
        .map(|c| c.chain.clone())
}
