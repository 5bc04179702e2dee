//! The certificates of a listener and the choice among them by SNI: `crt` files and
//! directories and `crt-list` files are loaded as HAProxy reads them; the names each
//! certificate serves are its CN and SAN DNS names (wildcards included), or the filters of its
//! `crt-list` line. The store is a rustls `ResolvesServerCert`, so a TCP listener and a QUIC
//! one can share it.

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{SignatureAlgorithm, SignatureScheme};
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
    /// Names a `crt-list` line's `!filter`s keep its wildcards from serving.
    pub excluded: Vec<String>,
    /// The options between the brackets of its `crt-list` line, and where that line is
    /// (`list:number`).
    pub options: Vec<String>,
    pub line: Option<String>,
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

/// How a certificate file is loaded: how the files beside it are named, which of them are
/// looked for, and which certificates of its chain are sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadRules {
    /// `ssl-load-extra-del-ext`: `site.key` beside `site.pem`, not `site.pem.key`.
    pub replaced_extension: bool,
    /// `ssl-load-extra-files`.
    pub extra: hapee_compiler::plan::tls::ExtraFiles,
    /// `ssl-skip-self-issued-ca`: the chain sent leaves out self-issued CA certificates (a
    /// root a PEM file holds for other uses); the certificate itself always goes.
    pub skip_self_issued_ca: bool,
}

/// Files of a certificate directory that are not certificates of their own.
const COMPANION_EXTENSIONS: &[&str] = &["key", "ocsp", "issuer", "sctl"];

impl CertStore {
    /// Loads a `crt` argument: a PEM file or a directory of them (in name order).
    pub fn add_crt(&mut self, path: &str, naming: LoadRules) -> Result<(), String> {
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
        if !p.exists() && naming.extra.bundle {
            // A multi-certificate bundle: `site.pem` names `site.pem.dsa`, `site.pem.ecdsa`
            // and `site.pem.rsa`, each loaded as a certificate of its own, as HAProxy does.
            let parts: Vec<String> = ["dsa", "ecdsa", "rsa"]
                .iter()
                .map(|ext| format!("{path}.{ext}"))
                .filter(|f| Path::new(f).is_file())
                .collect();
            if !parts.is_empty() {
                for f in parts {
                    let entry = load_entry(&f, naming)?;
                    self.entries.push(entry);
                }
                return Ok(());
            }
        }
        let entry = load_entry(path, naming)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Loads a `crt-list` file: `<crt> [\[<options>\]] [[!]<sni filter> …]` lines. A line
    /// with filters serves the names of its positive filters only (none with only `!`
    /// filters: a certificate loaded to be the default); a `!name` keeps the line's wildcards
    /// from serving that name. The options are kept for the listener to build the line's own
    /// TLS settings from.
    pub fn add_crt_list(
        &mut self,
        path: &str,
        crt_base: &Option<String>,
        naming: LoadRules,
    ) -> Result<(), String> {
        let text = super::ckch::read(super::ckch::Kind::CrtList, path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("cannot open file '{path}' : {e}"))?;
        // `check` reads the file the same way and reports the same errors, with their place.
        let (lines, error) = hapee_compiler::plan::crt_list::parse(path, &text);
        for line in lines {
            let file = hapee_compiler::plan::tls::with_base(crt_base, &line.crt.text);
            let mut entry = load_entry(&file, naming)
                .map_err(|e| format!("crt-list '{path}' at line {}: {e}", line.line))?;
            let filters = || line.filters.iter().map(|f| f.text.to_ascii_lowercase());
            if !line.filters.is_empty() {
                entry.names = filters().filter(|f| !f.starts_with('!')).collect();
            }
            entry.excluded = filters()
                .filter_map(|f| f.strip_prefix('!').map(str::to_string))
                .collect();
            entry.options = line.options.iter().map(|w| w.text.clone()).collect();
            entry.line = Some(format!("{path}:{}", line.line));
            self.entries.push(entry);
        }
        if let Some(e) = error {
            return Err(e.message);
        }
        Ok(())
    }

    /// The certificate for a client's server name, as HAProxy picks it: among the
    /// certificates naming it exactly, else by a wildcard its line does not exclude, the first
    /// of each key type; then ECDSA if the client signs with it (`sigs`, its signature
    /// schemes; `None`: unknown), else RSA, else another type, else whichever there is. With
    /// no match the first certificate is the default, unless `strict-sni`. Answers its index.
    pub fn pick(&self, sni: Option<&str>, sigs: Option<&[SignatureScheme]>) -> Option<usize> {
        if let Some(found) = sni.and_then(|n| self.named(&n.to_ascii_lowercase(), sigs)) {
            return Some(found);
        }
        (!self.strict_sni && !self.entries.is_empty()).then_some(0)
    }

    /// [`pick`](Self::pick)'s certificate, for a client whose signature schemes are unknown.
    pub fn select(&self, sni: Option<&str>) -> Option<&CertEntry> {
        self.pick(sni, None).map(|i| &self.entries[i])
    }

    /// The certificate whose names cover `name` (lower-case), if any.
    fn named(&self, name: &str, sigs: Option<&[SignatureScheme]>) -> Option<usize> {
        // First ECDSA, RSA and other-type certificates, exact names before wildcards.
        let mut found: [Option<usize>; 3] = [None; 3];
        let mut note = |i: usize, e: &CertEntry| {
            let slot = match e.key.key.algorithm() {
                SignatureAlgorithm::ECDSA => 0,
                SignatureAlgorithm::RSA => 1,
                _ => 2,
            };
            found[slot].get_or_insert(i);
        };
        for (i, e) in self.entries.iter().enumerate() {
            if e.names.iter().any(|n| n == name) {
                note(i, e);
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            let wild = e
                .names
                .iter()
                .any(|n| n.starts_with("*.") && matches(n, name));
            if wild && !e.excluded.iter().any(|x| x == name) {
                note(i, e);
            }
        }
        let signs =
            |ecdsa: bool| sigs.is_none_or(|s| s.iter().any(|&s| sig_kind(s) == Some(ecdsa)));
        let [ecdsa, rsa, other] = found;
        match (ecdsa, rsa) {
            (Some(e), _) if signs(true) => Some(e),
            (_, Some(r)) if signs(false) => Some(r),
            _ => other.or(ecdsa).or(rsa),
        }
    }

    /// The key and chain for a handshake: [`pick`](Self::pick)'s choice, or one made for
    /// a name no certificate covers when the listener generates certificates (the default
    /// one when that fails).
    pub fn choose(
        &self,
        sni: Option<&str>,
        sigs: Option<&[SignatureScheme]>,
    ) -> Option<Arc<CertifiedKey>> {
        self.chosen(sni, sigs, super::gencert::CertGenerator::get)
    }

    /// The certificate a finished handshake presented, as far as the store still knows it.
    pub fn served(
        &self,
        sni: Option<&str>,
        sigs: Option<&[SignatureScheme]>,
    ) -> Option<Arc<CertifiedKey>> {
        self.chosen(sni, sigs, super::gencert::CertGenerator::cached)
    }

    /// [`pick`](Self::pick)'s choice, unless the listener generates certificates and no entry
    /// names `sni`: then what `generated` finds for the name (made, or only looked up).
    fn chosen(
        &self,
        sni: Option<&str>,
        sigs: Option<&[SignatureScheme]>,
        generated: impl Fn(&super::gencert::CertGenerator, &str) -> Option<Arc<CertifiedKey>>,
    ) -> Option<Arc<CertifiedKey>> {
        if let (Some(generator), Some(name)) = (&self.generator, sni) {
            let name = name.to_ascii_lowercase();
            if self.named(&name, sigs).is_none() {
                if let Some(made) = generated(generator, &name) {
                    return Some(made);
                }
            }
        }
        self.pick(sni, sigs).map(|i| self.entries[i].key.clone())
    }

    /// Whether the choice of certificate depends on more than the name: certificates of
    /// different key types.
    pub fn mixes_key_types(&self) -> bool {
        let mut types = self.entries.iter().map(|e| e.key.key.algorithm());
        types.next().is_some_and(|first| types.any(|t| t != first))
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

/// The signature schemes a client can verify the proxy's certificate with, as HAProxy weighs
/// them: ECDSA ones count only when the client also offers a suite an ECDSA key can serve
/// (a TLS 1.3 suite when the listener has TLS 1.3, or an `_ECDSA_` TLS 1.2 one); a client
/// offering only RSA key exchange gets an RSA certificate.
pub fn usable_sigs(hello: &ClientHello<'_>) -> Vec<SignatureScheme> {
    // As HAProxy reads a ClientHello: ECDSA counts only when a TLS 1.2 suite authenticated
    // by ECDSA is offered (TLS 1.3 suites name no key type, so a client offering only those
    // is given RSA when both exist), and a client without the extension signs with RSA.
    let ecdsa_suite = hello
        .cipher_suites()
        .iter()
        .any(|c| c.as_str().unwrap_or("").contains("_ECDSA_"));
    match hello.signature_schemes() {
        [] => vec![SignatureScheme::RSA_PKCS1_SHA1],
        list => list
            .iter()
            .copied()
            .filter(|s| ecdsa_suite || sig_kind(*s) != Some(true))
            .collect(),
    }
}

/// What HAProxy makes of a signature scheme: its low byte, TLS 1.2's signature field, names
/// ECDSA (3) or RSA (1); others (RSA-PSS, EdDSA) count as neither.
fn sig_kind(s: SignatureScheme) -> Option<bool> {
    match u16::from(s) & 0xff {
        3 => Some(true),
        1 => Some(false),
        _ => None,
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(hello.server_name(), Some(&usable_sigs(&hello)))
    }
}

/// Reads a PEM file holding a certificate, its chain and (or else in the key file) its key.
pub fn load_entry(path: &str, naming: LoadRules) -> Result<CertEntry, String> {
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
    let beside = |ext: &str| {
        if naming.replaced_extension {
            Path::new(path)
                .with_extension(ext)
                .to_string_lossy()
                .into_owned()
        } else {
            format!("{path}.{ext}")
        }
    };
    let key = match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(k) => k,
        Err(_) if !naming.extra.key => {
            return Err(format!(
                "unable to load SSL private key from PEM file '{path}' : no key in it"
            ))
        }
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
    // A certificate without its chain gets the one `issuers-chain-path` has for its issuer.
    let mut certs = certs;
    if certs.len() == 1 {
        if let Some(chain) = super::issuers::chain_for(&certs[0]) {
            certs.extend(chain);
        }
    }
    let certs = if naming.skip_self_issued_ca {
        let mut certs = certs.into_iter();
        certs
            .next()
            .into_iter()
            .chain(certs.filter(|c| !super::x509::self_issued(c)))
            .collect()
    } else {
        certs
    };
    let mut key = CertifiedKey::new(certs, signing);
    super::x509::check_key_matches(&key)
        .map_err(|e| format!("inconsistencies between private key and certificate loaded from PEM file '{path}' : {e}"))?;
    // An OCSP response (DER) beside the certificate is stapled to its handshakes.
    key.ocsp = naming
        .extra
        .ocsp
        .then(|| std::fs::read(beside("ocsp")).ok())
        .flatten()
        .filter(|r| !r.is_empty());
    Ok(CertEntry {
        key: Arc::new(key),
        names,
        excluded: Vec::new(),
        options: Vec::new(),
        line: None,
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
