//! The certificate of a QUIC listener until the shared certificate store (`crate::tls`) is
//! wired in: the first `crt` file, a PEM holding the chain and its private key.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS 1.3 server configuration with the certificate of `crt`.
pub fn server_config(crt: &[String]) -> Result<rustls::ServerConfig, String> {
    let Some(path) = crt.first() else {
        return Err("no certificate ('crt') on this QUIC bind line".into());
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("unable to load certificate from file '{path}' ({e})"))?;
    if chain.is_empty() {
        return Err(format!("no certificate in file '{path}'"));
    }
    let key = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("unable to load the private key from file '{path}' ({e})"))?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate of '{path}': {e}"))
}
