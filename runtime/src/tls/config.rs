//! A `bind … ssl` line's rustls `ServerConfig`: versions, suites and groups from OpenSSL's
//! names, the certificate store as SNI resolver, client certificate verification, ALPN and
//! session resumption.

use super::store::{CertStore, LoadRules};
use super::verify::IgnoringVerifier;
use hapee_compiler::plan::tls::{BindTls, Verify};
use hapee_compiler::registry::ciphers;
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use std::sync::Arc;

/// What a listener's TLS settings build: the rustls configuration, and the pieces the
/// connections read back after their handshakes.
#[derive(Debug)]
pub struct BindTlsConfig {
    pub config: Arc<ServerConfig>,
    pub store: Arc<CertStore>,
    pub verifier: Option<Arc<IgnoringVerifier>>,
    /// Bytes of each ClientHello's cipher list kept for `ssl_fc_cipherlist_*` (0: none).
    pub capture_size: usize,
    /// Per certificate of the store, the settings of its `crt-list` line when the line has
    /// options of its own (`None`: the listener's).
    pub lines: Vec<Option<Side>>,
    /// Whether a handshake must read the ClientHello before choosing its settings: some
    /// `crt-list` line has its own, or the certificate depends on the client's signature
    /// schemes or is made on the fly, or the listener offers ALPN protocols (a client that
    /// offers none of them is served without ALPN, see [`Side::for_alpn`]).
    pub needs_hello: bool,
}

/// One set of handshake settings: the rustls configuration and its client verifier.
#[derive(Debug, Clone)]
pub struct Side {
    pub config: Arc<ServerConfig>,
    pub verifier: Option<Arc<IgnoringVerifier>>,
}

impl Side {
    /// The settings for a client offering the ALPN protocols `offered`: these, unless the
    /// client offers none of the listener's, which rustls would refuse with a
    /// `no_application_protocol` alert; OpenSSL, and so HAProxy, then goes on without ALPN.
    pub fn for_alpn<'a>(&self, offered: Option<impl Iterator<Item = &'a [u8]>>) -> Side {
        let ours = &self.config.alpn_protocols;
        let Some(mut offered) = offered else {
            return self.clone();
        };
        if ours.is_empty() || offered.any(|p| ours.iter().any(|o| o == p)) {
            return self.clone();
        }
        let mut config = ServerConfig::clone(&self.config);
        config.alpn_protocols.clear();
        Side {
            config: Arc::new(config),
            verifier: self.verifier.clone(),
        }
    }
}

/// The OpenSSL-named lists a TLS side is narrowed by, and the versions it enables.
pub struct SuiteLists<'a> {
    pub ciphers: Option<&'a str>,
    pub ciphersuites: Option<&'a str>,
    pub curves: Option<&'a str>,
    pub versions: &'a [String],
}

impl<'a> From<&'a BindTls> for SuiteLists<'a> {
    fn from(t: &'a BindTls) -> SuiteLists<'a> {
        SuiteLists {
            ciphers: t.ciphers.as_deref(),
            ciphersuites: t.ciphersuites.as_deref(),
            curves: t.curves.as_deref(),
            versions: &t.versions,
        }
    }
}

/// Narrows the provider to the suites and groups the lists select; names rustls does not
/// offer are warned about. An enabled version left without a suite is an error.
pub fn narrowed_provider(
    t: SuiteLists<'_>,
    warnings: &mut Vec<String>,
) -> Result<CryptoProvider, String> {
    let mut provider = (*super::provider()).clone();
    let report = |warnings: &mut Vec<String>, what: &str, list: &str, unknown: &[String]| {
        if !unknown.is_empty() {
            warnings.push(format!(
                "{what} '{list}': rustls does not offer {}; left out",
                unknown.join(", ")
            ));
        }
    };
    let name_of = |s: &rustls::SupportedCipherSuite| s.suite().as_str().unwrap_or("");
    let mut stand_in = None;
    if let Some(list) = t.ciphers {
        let mut sel = ciphers::tls12(list);
        if sel.selected.is_empty() && t.versions.iter().any(|v| v == "TLSv1.2") {
            // A DHE-only list: rustls has no finite-field DHE, its ECDHE twins stand in.
            sel.unknown.retain(|name| match ciphers::dhe_stand_in(name) {
                Some((ecdhe, iana)) => {
                    warnings.push(format!(
                        "ciphers '{list}': rustls has no DHE key exchange; {ecdhe} stands in for {name}"
                    ));
                    sel.selected.push(iana);
                    false
                }
                None => true,
            });
        }
        report(warnings, "ciphers", list, &sel.unknown);
        if !sel.stand_ins.is_empty() {
            stand_in = Some(format!("ciphers '{list}': {}", ciphers::KRSA_STAND_IN));
        }
        if sel.selected.is_empty() && t.versions.iter().any(|v| v == "TLSv1.2") {
            return Err(format!(
                "ciphers '{list}': none of these is a TLSv1.2 suite rustls offers"
            ));
        }
        provider.cipher_suites.retain(|s| {
            s.version() != &rustls::version::TLS12 || sel.selected.contains(&name_of(s))
        });
        provider.cipher_suites.sort_by_key(|s| {
            sel.selected
                .iter()
                .position(|n| *n == name_of(s))
                .unwrap_or(usize::MAX)
        });
    }
    if let Some(list) = t.ciphersuites {
        let sel = ciphers::tls13(list);
        report(warnings, "ciphersuites", list, &sel.unknown);
        if sel.selected.is_empty() && t.versions.iter().any(|v| v == "TLSv1.3") {
            return Err(format!(
                "ciphersuites '{list}': none of these is a TLSv1.3 suite rustls offers"
            ));
        }
        provider.cipher_suites.retain(|s| {
            s.version() != &rustls::version::TLS13 || sel.selected.contains(&name_of(s))
        });
    }
    if let Some(list) = t.curves {
        let sel = ciphers::groups(list);
        report(warnings, "curves", list, &sel.unknown);
        let group_name = |g: &&'static dyn rustls::crypto::SupportedKxGroup| {
            g.name().as_str().unwrap_or("").to_string()
        };
        let mut groups = Vec::new();
        for name in &sel.selected {
            if let Some(g) = provider
                .kx_groups
                .iter()
                .chain(super::kx::EXTRA_KX_GROUPS)
                .find(|g| group_name(g).eq_ignore_ascii_case(name))
            {
                groups.push(*g);
            }
        }
        if groups.is_empty() {
            return Err(format!(
                "curves '{list}': none of these is a group rustls offers"
            ));
        }
        provider.kx_groups = groups;
    }
    warnings.extend(stand_in);
    Ok(provider)
}

pub(crate) fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = super::ckch::read(super::ckch::Kind::Ca, path)
        .map_err(|e| format!("unable to load CA file '{path}' : {e}"))?;
    CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("unable to load CA file '{path}' : {e}"))
}

fn client_verifier(
    t: &BindTls,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<IgnoringVerifier>>, String> {
    if t.verify == Verify::None {
        return Ok(None);
    }
    let Some(ca_file) = &t.ca_file else {
        return Err("verify is enabled but no CA file specified (use 'ca-file')".into());
    };
    // The CAs read, for the revocation lists' issuers.
    let mut cas = Vec::new();
    let mut load = |roots: &mut RootCertStore, path: &str| -> Result<(), String> {
        for c in read_certs(path)? {
            cas.push(c.clone());
            roots
                .add(c)
                .map_err(|e| format!("unable to load CA file '{path}' : {e}"))?;
        }
        Ok(())
    };
    let mut named = RootCertStore::empty();
    load(&mut named, ca_file)?;
    let mut roots = named.clone();
    if let Some(verify_only) = &t.ca_verify_file {
        load(&mut roots, verify_only)?;
    }
    let mut builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    if t.no_ca_names {
        builder = builder.clear_root_hint_subjects();
    } else if t.ca_verify_file.is_some() {
        // Only `ca-file`'s CAs are named to clients in the certificate request.
        builder = builder
            .clear_root_hint_subjects()
            .add_root_hint_subjects(named.subjects());
    }
    // Version 1 lists (WebPKI reads version 2 only) are checked by `crl::Crls`.
    let mut own_crls = None;
    if let Some(crl_file) = &t.crl_file {
        match super::crl::Revocation::load(crl_file, &cas)? {
            super::crl::Revocation::Own(own) => own_crls = Some(own),
            super::crl::Revocation::Webpki(lists) => builder = builder.with_crls(lists),
        }
    }
    if t.verify == Verify::Optional {
        builder = builder.allow_unauthenticated();
    }
    let inner = builder
        .build()
        .map_err(|e| format!("client certificate verification: {e}"))?;
    Ok(Some(Arc::new(IgnoringVerifier::new(
        inner,
        own_crls,
        cas,
        t.ca_ignore_err.clone(),
        t.crt_ignore_err.clone(),
        super::kx::named_groups(t.curves.as_deref(), provider),
    ))))
}

/// The revocation lists of a `crl-file` (bind or server lines).
pub(crate) fn load_crls(
    crl_file: &str,
) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let pem = super::ckch::read(super::ckch::Kind::Crl, crl_file)
        .map_err(|e| format!("unable to load CRL file '{crl_file}' : {e}"))?;
    CertificateRevocationListDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("unable to load CRL file '{crl_file}' : {e}"))
}

impl BindTlsConfig {
    /// Builds a listener's TLS; `warnings` receives what was left out.
    pub fn build(t: &BindTls, warnings: &mut Vec<String>) -> Result<BindTlsConfig, String> {
        let naming = LoadRules {
            replaced_extension: t.key_del_ext,
            extra: t.extra_files,
            skip_self_issued_ca: t.skip_self_issued_ca,
        };
        let mut store = CertStore {
            strict_sni: t.strict_sni,
            ..CertStore::default()
        };
        for crt in &t.crts {
            store.add_crt(crt, naming)?;
        }
        for list in &t.crt_lists {
            store.add_crt_list(list, &t.crt_base, naming)?;
        }
        if store.entries.is_empty() {
            return Err("no SSL certificate specified (use 'crt' or 'crt-list')".into());
        }
        if let Some(g) = &t.generate {
            let Some(file) = &g.ca_sign_file else {
                return Err(
                    "cannot enable certificate generation, no CA certificate File configured"
                        .into(),
                );
            };
            store.generator = Some(super::gencert::CertGenerator::new(
                file,
                &store.entries[0].key,
                g.cache_size,
            )?);
        }
        let line_settings: Vec<Option<BindTls>> = store
            .entries
            .iter()
            .map(|e| {
                if e.options.is_empty() {
                    return Ok(None);
                }
                let words: Vec<&str> = e.options.iter().map(String::as_str).collect();
                t.with_line(&words).map(Some).map_err(|err| {
                    let at = e.line.as_deref().unwrap_or(&e.path);
                    format!("'crt-list' : parsing [{at}]: {err}")
                })
            })
            .collect::<Result<_, String>>()?;
        let store = Arc::new(store);
        let base = side(t, &store, warnings)?;
        let lines = line_settings
            .iter()
            .map(|l| l.as_ref().map(|l| side(l, &store, warnings)).transpose())
            .collect::<Result<Vec<_>, String>>()?;
        let needs_hello = lines.iter().any(Option::is_some)
            || store.generator.is_some()
            || store.mixes_key_types()
            || !base.config.alpn_protocols.is_empty();
        Ok(BindTlsConfig {
            config: base.config,
            verifier: base.verifier,
            store,
            capture_size: t.capture_size,
            lines,
            needs_hello,
        })
    }

    /// The settings for a client: those of the `crt-list` line of the certificate it is
    /// served, else the listener's.
    pub fn side_for(&self, sni: Option<&str>, sigs: Option<&[rustls::SignatureScheme]>) -> Side {
        self.store
            .pick(sni, sigs)
            .and_then(|i| self.lines.get(i).cloned().flatten())
            .unwrap_or_else(|| Side {
                config: self.config.clone(),
                verifier: self.verifier.clone(),
            })
    }
}

/// The protocol versions rustls speaks among those allowed (TLSv1.2 and TLSv1.3; the older
/// ones have no rustls counterpart).
pub(crate) fn rustls_versions(names: &[String]) -> Vec<&'static rustls::SupportedProtocolVersion> {
    names
        .iter()
        .filter_map(|v| match v.as_str() {
            "TLSv1.2" => Some(&rustls::version::TLS12),
            "TLSv1.3" => Some(&rustls::version::TLS13),
            _ => None,
        })
        .collect()
}

/// rustls's record limit for `tune.ssl.maxrecord` (`max_record` plaintext bytes a record):
/// rustls counts the record's 5-byte header in, and takes 32 bytes at least. `None` (16 kB
/// records) for 0 or for a limit at or above the protocol's own.
pub(crate) fn max_fragment_size(max_record: u32) -> Option<usize> {
    const HEADER: usize = 5;
    const MAX_PLAINTEXT: usize = 16384;
    let plain = usize::try_from(max_record).ok()?;
    (plain > 0 && plain < MAX_PLAINTEXT).then(|| (plain + HEADER).max(32))
}

/// The rustls configuration of one set of settings, serving the listener's certificates.
fn side(t: &BindTls, store: &Arc<CertStore>, warnings: &mut Vec<String>) -> Result<Side, String> {
    let versions = rustls_versions(&t.versions);
    if versions.is_empty() {
        return Err(format!(
            "the allowed TLS versions ({}) include neither TLSv1.2 nor TLSv1.3, the only ones rustls speaks",
            t.versions.join(", ")
        ));
    }
    let provider = Arc::new(narrowed_provider(t.into(), warnings)?);
    let verifier = client_verifier(t, &provider)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("TLS versions: {e}"))?;
    let builder = match &verifier {
        Some(v) => builder.with_client_cert_verifier(v.clone()),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(store.clone());
    // HAProxy picks the cipher by its own list's order unless told to follow the client's.
    config.ignore_client_order = !t.prefer_client_ciphers;
    config.alpn_protocols = t.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.key_log = super::keys::MasterKeys::binds();
    config.max_fragment_size = max_fragment_size(t.max_record);
    config.session_storage = if t.cache_size > 0 {
        ServerSessionMemoryCache::new(t.cache_size as usize)
    } else {
        Arc::new(NoServerSessionStorage {})
    };
    if t.allow_0rtt && t.cache_size > 0 {
        // rustls grants early data only to sessions resumed from its own cache (a stateless
        // ticket could be replayed at will), so a 0-RTT listener resumes that way: its TLS
        // 1.3 tickets name cache entries. Without a cache there is no early data at all.
        config.max_early_data_size = t.early_data_room;
    } else if t.tickets {
        config.ticketer = match &t.ticket_keys {
            Some(file) => super::tickets::keys_of(file)?.ticketer(t.lifetime),
            None => rustls::crypto::aws_lc_rs::Ticketer::new()
                .map_err(|e| format!("session tickets: {e}"))?,
        };
    }
    Ok(Side {
        config: Arc::new(config),
        verifier,
    })
}
