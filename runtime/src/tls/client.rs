//! TLS towards servers (`server … ssl`): a rustls `ClientConfig` per server, built once, with
//! `verify none` or a chain check against `ca-file` (the name checked is `verifyhost`, else
//! the SNI sent; with neither, only the chain), an optional client certificate (`crt`),
//! ALPN, and session resumption unless `no-ssl-reuse`.

use hapee_compiler::plan::tls::ServerTls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::sync::Arc;

/// A server's TLS: the config and how its connections are named.
#[derive(Debug)]
pub struct ServerTlsConfig {
    pub config: Arc<ClientConfig>,
    /// `sni <expr>`, evaluated per request.
    pub sni: Option<crate::sample::Expr>,
    /// ALPN offers `h2`: the connection may turn out multiplexed.
    pub offers_h2: bool,
    /// The same without `h2` in ALPN, for the connections of upgrades (WebSocket), which
    /// stay HTTP/1.1 as with HAProxy's `ws auto` when the server's ALPN allows it.
    pub config_h1: Arc<ClientConfig>,
    /// With ALPN configured, the same offering `http/1.1` only (`ws h1`) and `h2` only
    /// (`ws h2`): a WebSocket stream forces its protocol on a connection of its own.
    pub alpn_h1: Arc<ClientConfig>,
    pub alpn_h2: Arc<ClientConfig>,
    /// Whether `alpn` is configured at all (the negotiated protocol then picks the mux).
    pub has_alpn: bool,
}

/// The one certificate a server line presents (`crt`), whatever the server asks for, as
/// OpenSSL does. Built from parts so that X.509 v1 certificates load (see
/// `x509::check_key_matches`).
#[derive(Debug)]
struct FixedClientCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for FixedClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Checks the chain; the name only when one is configured (`verifyhost`, or the SNI).
#[derive(Debug)]
struct ChainVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verifyhost: Option<ServerName<'static>>,
    /// Version 1 revocation lists, which WebPKI does not read.
    crls: Option<super::crl::Crls>,
    /// The CA file's certificates, where a version 1 certificate's issuer is looked for.
    anchors: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // As HAProxy checks it: the SNI sent if any, else `verifyhost`, else no name at all.
        let name = match server_name {
            ServerName::DnsName(_) => Some(server_name),
            _ => self.verifyhost.as_ref(),
        };
        if super::v1cert::is_v1(end_entity) {
            // WebPKI refuses version 1 certificates; OpenSSL checks them.
            super::v1cert::verify_leaf(end_entity, &self.anchors, intermediates, now)?;
            if let Some(ServerName::DnsName(want)) = name {
                if !super::v1cert::names_match(end_entity, want.as_ref()) {
                    return Err(CertificateError::NotValidForName.into());
                }
            }
            super::crl::check(self.crls.as_ref(), end_entity, intermediates, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        let verified = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            name.unwrap_or(server_name),
            ocsp,
            now,
        ) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if name.is_none() => Ok(ServerCertVerified::assertion()),
            other => other,
        }?;
        super::crl::check(self.crls.as_ref(), end_entity, intermediates, now)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
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

/// `verify none`: any certificate; the handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::v1cert::verify_signature_or(cert, message, dss, || {
            let algorithms = &self.0.signature_verification_algorithms;
            rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
        })
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        super::v1cert::verify_signature_or(cert, message, dss, || {
            let algorithms = &self.0.signature_verification_algorithms;
            rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
        })
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl ServerTlsConfig {
    /// Builds a server's TLS; `warnings` receives what was left out.
    pub fn build(t: &ServerTls, warnings: &mut Vec<String>) -> Result<ServerTlsConfig, String> {
        let lists = super::config::SuiteLists {
            ciphers: t.ciphers.as_deref(),
            ciphersuites: t.ciphersuites.as_deref(),
            curves: t.curves.as_deref(),
            versions: &t.versions,
        };
        let provider = Arc::new(super::config::narrowed_provider(lists, warnings)?);
        let versions = super::config::rustls_versions(&t.versions);
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("TLS versions: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = if t.verify_none {
            Arc::new(AnyCertificate(provider.clone()))
        } else {
            let Some(ca_file) = &t.ca_file else {
                return Err("verify is enabled by default but no CA file specified; set 'ca-file', or 'verify none' on a network you trust".into());
            };
            let mut roots = RootCertStore::empty();
            // Read through the store, so `commit ssl ca-file` rebuilds this server's TLS.
            let cas = super::config::read_certs(ca_file)?;
            for c in cas.iter().cloned() {
                roots
                    .add(c)
                    .map_err(|e| format!("unable to load CA file '{ca_file}' : {e}"))?;
            }
            let mut verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider);
            // `crl-file`: a revoked certificate in the server's chain fails the handshake.
            // Version 1 lists (WebPKI reads version 2 only) are checked by `crl::Crls`.
            let mut crls = None;
            if let Some(crl_file) = &t.crl_file {
                match super::crl::Revocation::load(crl_file, &cas)? {
                    super::crl::Revocation::Own(own) => crls = Some(own),
                    super::crl::Revocation::Webpki(lists) => verifier = verifier.with_crls(lists),
                }
            }
            let inner = verifier
                .build()
                .map_err(|e| format!("server verification: {e}"))?;
            Arc::new(ChainVerifier {
                inner,
                verifyhost: t
                    .verifyhost
                    .as_ref()
                    .and_then(|h| ServerName::try_from(h.clone()).ok()),
                crls,
                anchors: cas,
            })
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &t.crt {
            Some(crt) => {
                let pem = super::ckch::read(super::ckch::Kind::Cert, crt)
                    .map_err(|e| format!("unable to load SSL certificate file '{crt}' : {e}"))?;
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("unable to load SSL certificate '{crt}' : {e}"))?;
                // The key beside the certificate, as `ssl-load-extra-files` and
                // `ssl-load-extra-del-ext` say for every certificate.
                let key = PrivateKeyDer::from_pem_slice(&pem)
                    .or_else(|e| match t.no_key_file {
                        true => Err(e),
                        false => PrivateKeyDer::from_pem_file(key_beside(crt, t.key_del_ext)),
                    })
                    .map_err(|e| format!("unable to load SSL private key of '{crt}' : {e}"))?;
                let signing = super::provider()
                    .key_provider
                    .load_private_key(key)
                    .map_err(|e| format!("unable to load SSL private key of '{crt}' : {e}"))?;
                let key = rustls::sign::CertifiedKey::new(certs, signing);
                super::x509::check_key_matches(&key)
                    .map_err(|e| format!("client certificate '{crt}' : {e}"))?;
                builder.with_client_cert_resolver(Arc::new(FixedClientCert(Arc::new(key))))
            }
            None => builder.with_no_client_auth(),
        };
        // `h2` chosen here makes the connection multiplexed (`crate::upstream::h2`).
        config.alpn_protocols = t.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        config.key_log = super::keys::MasterKeys::shared();
        config.max_fragment_size = super::config::max_fragment_size(t.max_record);
        if !t.reuse {
            config.resumption = Resumption::disabled();
        } else if t.no_tickets {
            // As OpenSSL's SSL_OP_NO_TICKET on a client: no ticket asked for in TLS 1.2.
            config.resumption = Resumption::default()
                .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly);
        }
        let sni = match &t.sni {
            Some(expr) => Some(
                crate::sample::Expr::parse(expr).map_err(|e| format!("sni '{expr}': {}", e.0))?,
            ),
            None => None,
        };
        let offers_h2 = t.alpn.iter().any(|p| p == "h2");
        // `allow-0rtt`: early data on resumed sessions. Not with `h2` offered: whether the
        // connection is multiplexed is known only once the handshake is over.
        config.enable_early_data = t.allow_0rtt && !offers_h2;
        let config = Arc::new(config);
        let config_h1 = if offers_h2 && t.alpn.len() > 1 {
            let mut h1 = (*config).clone();
            h1.alpn_protocols.retain(|p| p != b"h2");
            Arc::new(h1)
        } else {
            config.clone()
        };
        let has_alpn = !t.alpn.is_empty();
        let only = |proto: &[u8]| {
            if !has_alpn {
                return config.clone();
            }
            let mut c = (*config).clone();
            c.alpn_protocols = vec![proto.to_vec()];
            Arc::new(c)
        };
        let (alpn_h1, alpn_h2) = (only(b"http/1.1"), only(b"h2"));
        Ok(ServerTlsConfig {
            offers_h2,
            config,
            config_h1,
            alpn_h1,
            alpn_h2,
            has_alpn,
            sni,
        })
    }

    /// The handshake on a fresh server connection, given up after `limit`.
    pub async fn handshake(
        &self,
        name: ServerName<'static>,
        tcp: tokio::net::TcpStream,
        limit: std::time::Duration,
    ) -> Option<tokio_rustls::client::TlsStream<super::tap::Tapped>> {
        handshake(&self.config, name, tcp, limit, false).await.ok()
    }

    /// The name a connection is opened with: the SNI expression's value, else the
    /// `verifyhost`-free address form (no SNI is sent for an address).
    pub fn server_name(
        &self,
        txn: &crate::txn::Txn,
        addr: std::net::SocketAddr,
    ) -> ServerName<'static> {
        self.sni
            .as_ref()
            .and_then(|e| e.eval(txn))
            .and_then(|v| ServerName::try_from(v.as_text().into_owned()).ok())
            .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()))
    }
}

/// The handshake on a fresh server connection with one of a server's client configurations
/// (with or without `h2` offered), given up after `limit`.
///
/// With `early` (and `allow-0rtt` on the server line), a resumed session ends the handshake
/// later: the first bytes written (the request) go in TLS 1.3 early data, and if the server
/// rejects them they are sent again once the handshake is over, before anything else: the
/// `retry-on 0rtt-rejected` replay, made at the TLS layer, where the server is known not to
/// have processed them.
pub async fn handshake(
    config: &Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    tcp: tokio::net::TcpStream,
    limit: std::time::Duration,
    early: bool,
) -> Result<tokio_rustls::client::TlsStream<super::tap::Tapped>, super::errors::ServerTlsError> {
    let connector = tokio_rustls::TlsConnector::from(config.clone())
        .early_data(early && config.enable_early_data);
    let sni = matches!(name, ServerName::DnsName(_));
    let counted = super::limits::open_one().ok_or_else(super::errors::ServerTlsError::too_many)?;
    let tcp = super::tap::Tapped::client(tcp).counted(counted);
    match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => Err(super::errors::ServerTlsError::of_io(&e, sni)),
        Err(_) => Err(super::errors::ServerTlsError::timeout()),
    }
}

/// The file a certificate's key is looked for in when the certificate's own file has none:
/// `client.pem.key`, or with `ssl-load-extra-del-ext` `client.key`.
fn key_beside(crt: &str, replaced_extension: bool) -> String {
    if replaced_extension {
        std::path::Path::new(crt)
            .with_extension("key")
            .to_string_lossy()
            .into_owned()
    } else {
        format!("{crt}.key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's client certificate whose key is in a file beside it: found there unless
    /// `ssl-load-extra-files` leaves `key` out; with `ssl-load-extra-del-ext` the key file
    /// replaces the certificate's extension.
    #[test]
    fn a_client_certificates_key_beside_it_follows_ssl_load_extra_files() {
        let dir = std::env::temp_dir().join(format!("hapee-srv-crt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["client".to_string()]).unwrap();
        let crt = dir.join("client.crt");
        std::fs::write(&crt, made.cert.pem()).unwrap();
        let crt = crt.to_string_lossy().into_owned();
        let build = |no_key_file: bool, key_del_ext: bool| {
            let t = ServerTls {
                verify_none: true,
                crt: Some(crt.clone()),
                reuse: true,
                versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
                no_key_file,
                key_del_ext,
                ..ServerTls::default()
            };
            ServerTlsConfig::build(&t, &mut Vec::new()).map(|_| ())
        };
        std::fs::write(format!("{crt}.key"), made.key_pair.serialize_pem()).unwrap();
        assert_eq!(build(false, false), Ok(()));
        let refused = build(true, false).unwrap_err();
        assert!(
            refused.contains("unable to load SSL private key"),
            "{refused}"
        );
        // `client.key`, not `client.crt.key`, with the extension replaced.
        assert!(build(false, true).is_err());
        std::fs::write(dir.join("client.key"), made.key_pair.serialize_pem()).unwrap();
        assert_eq!(build(false, true), Ok(()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
