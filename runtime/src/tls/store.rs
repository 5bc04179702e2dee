//! The certificates of a listener and the choice among them by SNI: `crt` files and
//! directories and `crt-list` files are loaded as HAProxy reads them; the names each
//! certificate serves are its CN and SAN DNS names (wildcards included), or the filters of its
//! `crt-list` line. The store is a rustls `ResolvesServerCert`, so a TCP listener and a QUIC
//! one can share it.

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// One certificate with the server names it answers for.
#[derive(Debug)]
pub struct CertEntry {
    pub key: Arc<CertifiedKey>,
    /// Lower-case names, exact (`www.example.com`) or wildcards (`*.example.com`).
    pub names: Vec<String>,
    /// Names excluded by a `crt-list` line's `!filter`s.
    pub excluded: Vec<String>,
    /// The file it came from, for messages.
    pub path: String,
}

/// Every certificate of a listener, the first being the default one.
#[derive(Debug, Default)]
pub struct CertStore {
    pub entries: Vec<CertEntry>,
    /// `strict-sni`: no default certificate; a client whose name matches none is refused.
    pub strict_sni: bool,
    /// `generate-certificates`: a name no certificate covers gets one made for it.
    pub generator: Option<super::gencert::CertGenerator>,
}

/// How a certificate's key file is named when it is not in the certificate's own file.
#[derive(Clone, Copy, Debug)]
pub enum KeyFileNaming {
    /// `site.pem.key`.
    Appended,
    /// `site.key` (`ssl-load-extra-del-ext`).
    ReplacedExtension,
}

/// Files of a certificate directory that are not certificates of their own.
const COMPANION_EXTENSIONS: &[&str] = &["key", "ocsp", "issuer", "sctl"];

impl CertStore {
    /// Loads a `crt` argument: a PEM file or a directory of them (in name order).
    pub fn add_crt(&mut self, path: &str, naming: KeyFileNaming) -> Result<(), String> {
        let p = Path::new(path);
        if p.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("unable to scan directory '{path}' : {e}"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .filter(|f| {
                    let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
                    let hidden = f
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'));
                    !hidden && !COMPANION_EXTENSIONS.contains(&ext)
                })
                .collect();
            files.sort();
            for f in files {
                let f = f.to_string_lossy().into_owned();
                let entry = load_entry(&f, naming)?;
                self.entries.push(entry);
            }
            return Ok(());
        }
        let entry = load_entry(path, naming)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Loads a `crt-list` file: `<crt> [<[options]>] [[!]<sni filter> …]` lines.
    pub fn add_crt_list(
        &mut self,
        path: &str,
        crt_base: &Option<String>,
        naming: KeyFileNaming,
    ) -> Result<(), String> {
        let text = super::ckch::read(super::ckch::Kind::CrtList, path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("unable to open crt-list file '{path}' : {e}"))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = format!("'{path}' at line {}", n + 1);
            let (crt, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let mut rest = rest.trim();
            if let Some(after) = rest.strip_prefix('[') {
                let Some((options, tail)) = after.split_once(']') else {
                    return Err(format!("crt-list {at}: missing ']'"));
                };
                if !options.trim().is_empty() {
                    return Err(format!(
                        "crt-list {at}: per-certificate options '[{}]' are not supported by the hapee runtime yet",
                        options.trim()
                    ));
                }
                rest = tail.trim();
            }
            let file = hapee_compiler::plan::tls::with_base(crt_base, crt);
            let mut entry = load_entry(&file, naming).map_err(|e| format!("crt-list {at}: {e}"))?;
            let filters: Vec<&str> = rest.split_whitespace().collect();
            let positive: Vec<String> = filters
                .iter()
                .filter(|f| !f.starts_with('!'))
                .map(|f| f.to_ascii_lowercase())
                .collect();
            if !positive.is_empty() {
                entry.names = positive;
            }
            entry.excluded = filters
                .iter()
                .filter_map(|f| f.strip_prefix('!'))
                .map(str::to_ascii_lowercase)
                .collect();
            self.entries.push(entry);
        }
        Ok(())
    }

    /// The certificate for a client's server name: an exact name first, then a wildcard
    /// (one label), else the default one unless `strict-sni`.
    pub fn select(&self, sni: Option<&str>) -> Option<&CertEntry> {
        if let Some(found) = sni.and_then(|name| self.named(&name.to_ascii_lowercase())) {
            return Some(found);
        }
        if self.strict_sni {
            return None;
        }
        self.entries.first()
    }

    /// The certificate whose names cover `name` (lower-case): an exact name first, then a
    /// wildcard.
    fn named(&self, name: &str) -> Option<&CertEntry> {
        let allowed = |e: &&CertEntry| !e.excluded.iter().any(|x| matches(x, name));
        let exact = self
            .entries
            .iter()
            .filter(allowed)
            .find(|e| e.names.iter().any(|n| n == name));
        exact.or_else(|| {
            self.entries.iter().filter(allowed).find(|e| {
                e.names
                    .iter()
                    .any(|n| n.starts_with("*.") && matches(n, name))
            })
        })
    }

    /// The key and chain for a handshake: [`select`](Self::select)'s choice, or one made for
    /// a name no certificate covers when the listener generates certificates (the default
    /// one when that fails).
    pub fn choose(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let (Some(generator), Some(name)) = (&self.generator, sni) {
            let name = name.to_ascii_lowercase();
            if self.named(&name).is_none() {
                if let Some(made) = generator.get(&name) {
                    return Some(made);
                }
            }
        }
        self.select(sni).map(|e| e.key.clone())
    }

    /// The certificate a finished handshake presented, as far as the store still knows it.
    pub fn served(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let (Some(generator), Some(name)) = (&self.generator, sni) {
            let name = name.to_ascii_lowercase();
            if self.named(&name).is_none() {
                if let Some(made) = generator.cached(&name) {
                    return Some(made);
                }
            }
        }
        self.select(sni).map(|e| e.key.clone())
    }
}

/// Whether `pattern` (a name, or `*.domain` for exactly one more label) covers `name`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == domain),
        None => pattern == name,
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(hello.server_name())
    }
}

/// Reads a PEM file holding a certificate, its chain and (or else in the key file) its key.
pub fn load_entry(path: &str, naming: KeyFileNaming) -> Result<CertEntry, String> {
    let pem = super::ckch::read(super::ckch::Kind::Cert, path)
        .map_err(|e| format!("unable to load SSL certificate file '{path}' : {e}"))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("unable to load SSL certificate from PEM file '{path}' : {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "unable to load SSL certificate from PEM file '{path}' : no certificate in it"
        ));
    }
    // The files beside it: `site.pem.key`, `site.pem.ocsp` (or `site.key`, `site.ocsp`).
    let beside = |ext: &str| match naming {
        KeyFileNaming::Appended => format!("{path}.{ext}"),
        KeyFileNaming::ReplacedExtension => Path::new(path)
            .with_extension(ext)
            .to_string_lossy()
            .into_owned(),
    };
    let key = match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(k) => k,
        Err(_) => {
            let key_path = beside("key");
            PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
                format!("unable to load SSL private key from PEM file '{path}' (nor from '{key_path}') : {e}")
            })?
        }
    };
    let provider = super::provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("unable to load SSL private key of '{path}' : {e}"))?;
    let names = super::x509::server_names(&certs[0]);
    let mut key = CertifiedKey::new(certs, signing);
    super::x509::check_key_matches(&key)
        .map_err(|e| format!("inconsistencies between private key and certificate loaded from PEM file '{path}' : {e}"))?;
    // An OCSP response (DER) beside the certificate is stapled to its handshakes.
    key.ocsp = std::fs::read(beside("ocsp")).ok().filter(|r| !r.is_empty());
    Ok(CertEntry {
        key: Arc::new(key),
        names,
        excluded: Vec::new(),
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(matches("*.example.com", "www.example.com"));
        assert!(!matches("*.example.com", "a.b.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(matches("example.com", "example.com"));
    }
}
