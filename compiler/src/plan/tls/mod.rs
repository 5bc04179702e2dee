//! TLS settings of a `bind … ssl` line, lowered from its options, the global
//! `ssl-default-bind-*` lines and `crt-base`/`ca-base`: what the runtime's certificate store
//! and rustls configuration are built from.

use crate::ir::DirectiveLine;
use crate::registry::x509_error_code;
use serde::Serialize;

mod server;
pub use server::ServerTls;

/// How a listener asks for client certificates (`verify`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Verify {
    #[default]
    None,
    Optional,
    Required,
}

/// Certificate verification errors to let through (`ca-ignore-err`, `crt-ignore-err`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub enum IgnoredErrors {
    #[default]
    Nothing,
    All,
    /// OpenSSL's `X509_V_ERR_*` codes.
    Codes(Vec<i32>),
}

impl IgnoredErrors {
    /// Whether the error with this OpenSSL code is let through.
    pub fn ignores(&self, code: i32) -> bool {
        match self {
            IgnoredErrors::Nothing => false,
            IgnoredErrors::All => true,
            IgnoredErrors::Codes(c) => c.contains(&code),
        }
    }

    /// Parses the list as HAProxy does: `all`, or comma-separated numeric ids (1..94) and
    /// `X509_V_ERR_*` names. The error text is HAProxy's.
    pub fn parse(option: &str, list: &str) -> Result<IgnoredErrors, String> {
        crate::ir::check_ignore_err(option, list)?;
        if list == "all" {
            return Ok(IgnoredErrors::All);
        }
        let code = |item: &str| {
            if item.starts_with(|c: char| c.is_ascii_digit()) {
                crate::ir::values::atol(item) as i32
            } else {
                x509_error_code(item).unwrap_or(0)
            }
        };
        Ok(IgnoredErrors::Codes(list.split(',').map(code).collect()))
    }
}

/// The TLS side of one `bind … ssl` line.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BindTls {
    /// `crt` paths (files or directories), `crt-base` applied, in order: the first
    /// certificate loaded is the default one.
    pub crts: Vec<String>,
    /// `crt-list` files.
    pub crt_lists: Vec<String>,
    /// `crt-base`, for the relative paths inside `crt-list` files.
    pub crt_base: Option<String>,
    /// `alpn` protocols, in preference order.
    pub alpn: Vec<String>,
    pub ca_file: Option<String>,
    /// `ca-verify-file`: CAs that verify client certificates without being named to clients
    /// in the certificate request (typically the roots, when `ca-file` has intermediates).
    pub ca_verify_file: Option<String>,
    pub crl_file: Option<String>,
    pub verify: Verify,
    pub ca_ignore_err: IgnoredErrors,
    pub crt_ignore_err: IgnoredErrors,
    /// Protocol versions allowed, lowest first, as OpenSSL names them (`TLSv1.2`…), after
    /// `ssl-min-ver`/`ssl-max-ver`/`no-*`/`force-*`.
    pub versions: Vec<String>,
    /// OpenSSL cipher lists (`ciphers` for TLS 1.2, `ciphersuites` for 1.3) and `curves`.
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub strict_sni: bool,
    /// Session tickets (`no-tls-tickets` turns them off).
    pub tickets: bool,
    /// `tls-ticket-keys <file>`: the keys of its session tickets, read from this file
    /// (ticket_keys.rs) rather than made at start.
    pub ticket_keys: Option<String>,
    /// `prefer-client-ciphers`: the client's order of preference picks the cipher, not the
    /// order of the listener's own list (the default).
    pub prefer_client_ciphers: bool,
    /// `no-ca-names`: the certificate request names no CA.
    pub no_ca_names: bool,
    /// `allow-0rtt`: a resumed TLS 1.3 session may carry requests in early data.
    pub allow_0rtt: bool,
    /// How much early data a session may send: a buffer less its rewrite room
    /// (`tune.bufsize` − `tune.maxrewrite`), as HAProxy announces it.
    pub early_data_room: u32,
    /// `tune.ssl.cachesize` (sessions) and `tune.ssl.lifetime` (seconds).
    pub cache_size: u32,
    pub lifetime: u32,
    /// `ssl-load-extra-del-ext`: the key of `site.crt` is `site.key`, not `site.crt.key`.
    pub key_del_ext: bool,
    /// `ssl-load-extra-files`: the files beside a certificate that are loaded.
    pub extra_files: ExtraFiles,
    /// `ssl-skip-self-issued-ca`: self-issued CA certificates of a chain are not sent.
    pub skip_self_issued_ca: bool,
    /// `tune.ssl.capture-buffer-size`: how many bytes of each ClientHello's cipher list are
    /// kept for `ssl_fc_cipherlist_*` (0: none, the default).
    pub capture_size: usize,
    /// `tune.ssl.maxrecord`: the most plaintext bytes one TLS record sent carries (0: the
    /// protocol's own limit, 16 kB).
    pub max_record: u32,
    /// `generate-certificates`: certificates made on the fly for names no certificate covers.
    pub generate: Option<GenerateCerts>,
    /// `ca-base`, for the CA files a `crt-list` line names.
    pub ca_base: Option<String>,
    /// What `versions` was computed from, so that a `crt-list` line's `ssl-min-ver` and
    /// `ssl-max-ver` can move the bounds: the bounds (indexes in [`VERSIONS`]), the versions
    /// `no-*` disabled and the one `force-*` forced.
    pub version_bounds: (usize, usize),
    pub version_disabled: [bool; 5],
    pub version_forced: Option<usize>,
}

impl BindTls {
    /// The settings of a `crt-list` line's certificate: the bind line's, with the options
    /// between the line's brackets over them ([`LINE_OPTIONS`]; [`super::crt_list`] has read
    /// and checked them, an error here is HAProxy's for the word).
    pub fn with_line(&self, words: &[&str]) -> Result<BindTls, String> {
        let mut tls = self.clone();
        let (mut min, mut max) = self.version_bounds;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let arity =
                line_option_arity(word).ok_or_else(|| format!("unknown ssl keyword {word}"))?;
            let value = match words.get(i + 1) {
                Some(v) if arity > 0 => *v,
                None if arity > 0 => return Err(format!("ssl args out of '[]' for {word}")),
                _ => "",
            };
            line_option_value(word, value)?;
            match word {
                "allow-0rtt" => tls.allow_0rtt = true,
                "no-ca-names" => tls.no_ca_names = true,
                // NPN is not offered by rustls; HAProxy 2.7 takes the option and so does hapee.
                "npn" => {}
                "alpn" => tls.alpn = value.split(',').map(String::from).collect(),
                "ca-file" => tls.ca_file = Some(with_base(&self.ca_base, value)),
                "ca-verify-file" => tls.ca_verify_file = Some(with_base(&self.ca_base, value)),
                "crl-file" => tls.crl_file = Some(with_base(&self.ca_base, value)),
                "ciphers" => tls.ciphers = Some(value.to_string()),
                "ciphersuites" => tls.ciphersuites = Some(value.to_string()),
                "curves" | "ecdhe" => tls.curves = Some(value.to_string()),
                "ssl-min-ver" => min = tls_version(value)?,
                "ssl-max-ver" => max = tls_version(value)?,
                "verify" => tls.verify = verify_method(value)?,
                _ => return Err(format!("unknown ssl keyword {word}")),
            }
            i += 1 + arity;
        }
        tls.version_bounds = (min, max);
        tls.versions = allowed_versions(min, max, &self.version_disabled, self.version_forced);
        Ok(tls)
    }
}

/// The options a `crt-list` line takes between its brackets (HAProxy 2.7's list), with how
/// many values each takes.
pub const LINE_OPTIONS: &[(&str, usize)] = &[
    ("allow-0rtt", 0),
    ("alpn", 1),
    ("ca-file", 1),
    ("ca-verify-file", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("crl-file", 1),
    ("curves", 1),
    ("ecdhe", 1),
    ("no-ca-names", 0),
    ("npn", 1),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("verify", 1),
];

/// How many values a `crt-list` line option takes; `None` for a word that is not one.
pub fn line_option_arity(word: &str) -> Option<usize> {
    LINE_OPTIONS.iter().find(|(o, _)| *o == word).map(|o| o.1)
}

/// HAProxy's error for a `crt-list` line option's value, checked as it reads the line (the
/// files it names are checked by `check`'s environment checks, its lists once the listener is
/// set up).
pub fn line_option_value(word: &str, value: &str) -> Result<(), String> {
    match word {
        "ssl-min-ver" | "ssl-max-ver" if value.is_empty() => {
            Err(format!("'{word}' : missing the ssl/tls version"))
        }
        "ssl-min-ver" | "ssl-max-ver" => tls_version(value).map(drop),
        "verify" => verify_method(value).map(drop),
        _ => Ok(()),
    }
}

/// A `verify` value, or HAProxy's error.
pub fn verify_method(value: &str) -> Result<Verify, String> {
    match value {
        "none" => Ok(Verify::None),
        "optional" => Ok(Verify::Optional),
        "required" => Ok(Verify::Required),
        _ => Err(format!(
            "'verify' : unknown verify method '{value}', only 'none', 'optional', and 'required' are supported"
        )),
    }
}

/// How a listener makes certificates on the fly (`generate-certificates`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GenerateCerts {
    /// `ca-sign-file` (`ca-base` applied): the CA certificate, its chain and its key; `None`
    /// when the line forgot it, which the runtime refuses as HAProxy does.
    pub ca_sign_file: Option<String>,
    /// `ca-sign-pass`: kept, though HAProxy 2.7 reads the key without it.
    pub ca_sign_pass: Option<String>,
    /// `tune.ssl.ssl-ctx-cache-size`: how many made certificates are kept (0: none).
    pub cache_size: usize,
}

/// The index in [`VERSIONS`] of an `ssl-min-ver`/`ssl-max-ver` value, or HAProxy's error.
pub fn tls_version(value: &str) -> Result<usize, String> {
    VERSIONS
        .iter()
        .position(|n| *n == value)
        .ok_or_else(|| format!("'{value}' : unknown ssl/tls version"))
}

/// OpenSSL's protocol names, in order.
pub const VERSIONS: &[&str] = &["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const NO_FLAGS: &[&str] = &[
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
];
const FORCE_FLAGS: &[&str] = &[
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
];

/// The global settings every `bind … ssl` starts from.
pub struct TlsGlobals {
    bind_options: Vec<String>,
    /// `ssl-default-server-options|ciphers|ciphersuites|curves`.
    server_options: Vec<String>,
    server_ciphers: Option<String>,
    server_ciphersuites: Option<String>,
    server_curves: Option<String>,
    /// `ssl-server-verify none`: servers' certificates are not checked unless a server line
    /// says `verify required`.
    server_verify_none: bool,
    ciphers: Option<String>,
    ciphersuites: Option<String>,
    curves: Option<String>,
    crt_base: Option<String>,
    ca_base: Option<String>,
    cache_size: u32,
    lifetime: u32,
    key_del_ext: bool,
    capture_size: usize,
    ctx_cache_size: usize,
    early_data_room: u32,
    max_record: u32,
    extra_files: ExtraFiles,
    skip_self_issued_ca: bool,
}

/// `ssl-load-extra-files`: which files beside a certificate's are looked for (all of them
/// without the setting).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct ExtraFiles {
    /// A missing `site.pem` loaded as the bundle `site.pem.rsa`, `.ecdsa`, `.dsa`.
    pub bundle: bool,
    /// The key in `site.pem.key` when `site.pem` has none.
    pub key: bool,
    /// The OCSP response to staple, `site.pem.ocsp`.
    pub ocsp: bool,
    /// `site.pem.issuer` and `site.pem.sctl`, which hapee does not use.
    pub issuer: bool,
    pub sctl: bool,
}

impl Default for ExtraFiles {
    fn default() -> ExtraFiles {
        ExtraFiles {
            bundle: true,
            key: true,
            ocsp: true,
            issuer: true,
            sctl: true,
        }
    }
}

impl ExtraFiles {
    /// The last `ssl-load-extra-files` line (its words, `check` has refused unknown ones).
    fn of(lines: &[DirectiveLine]) -> ExtraFiles {
        let Some(line) = lines
            .iter()
            .rev()
            .find(|d| d.keyword == "ssl-load-extra-files")
        else {
            return ExtraFiles::default();
        };
        let words: Vec<&str> = line.args.iter().map(|a| a.as_str()).collect();
        if words.contains(&"all") {
            return ExtraFiles::default();
        }
        let has = |w: &str| words.contains(&w);
        ExtraFiles {
            bundle: has("bundle"),
            key: has("key"),
            ocsp: has("ocsp"),
            issuer: has("issuer"),
            sctl: has("sctl"),
        }
    }
}

impl TlsGlobals {
    pub fn of(lines: &[DirectiveLine], key_del_ext: bool) -> TlsGlobals {
        let last = |k: &str| super::lower::last_arg(lines, k);
        TlsGlobals {
            bind_options: lines
                .iter()
                .filter(|d| d.keyword == "ssl-default-bind-options" && d.prefix.is_none())
                .flat_map(|d| d.args.iter().map(|a| a.to_string()))
                .collect(),
            server_options: lines
                .iter()
                .filter(|d| d.keyword == "ssl-default-server-options" && d.prefix.is_none())
                .flat_map(|d| d.args.iter().map(|a| a.to_string()))
                .collect(),
            server_ciphers: last("ssl-default-server-ciphers"),
            server_ciphersuites: last("ssl-default-server-ciphersuites"),
            server_curves: last("ssl-default-server-curves"),
            server_verify_none: last("ssl-server-verify").as_deref() == Some("none"),
            ciphers: last("ssl-default-bind-ciphers"),
            ciphersuites: last("ssl-default-bind-ciphersuites"),
            curves: last("ssl-default-bind-curves"),
            crt_base: last("crt-base"),
            ca_base: last("ca-base"),
            cache_size: last("tune.ssl.cachesize")
                .and_then(|v| v.parse().ok())
                .unwrap_or(20000),
            lifetime: last("tune.ssl.lifetime")
                .and_then(|v| {
                    crate::ir::values::parse_time(&v, crate::ir::values::TimeUnit::S).ok()
                })
                .map(|d| d.value)
                .unwrap_or(300),
            key_del_ext,
            // `tune.ssl.capture-cipherlist-size` is the older name of the same setting.
            capture_size: last("tune.ssl.capture-buffer-size")
                .or_else(|| last("tune.ssl.capture-cipherlist-size"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            ctx_cache_size: last("tune.ssl.ssl-ctx-cache-size")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000),
            early_data_room: {
                // The rewrite room is at most half a buffer, as `GlobalPlan::maxrewrite` has it.
                let size = |k: &str, default: u32| {
                    last(k)
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(default)
                };
                let bufsize = size("tune.bufsize", 16384);
                bufsize - size("tune.maxrewrite", 1024).min(bufsize / 2)
            },
            // `tune.ssl.hard-maxrecord` caps every record, whatever `tune.ssl.maxrecord` says.
            max_record: {
                let limit = |k: &str| {
                    last(k).map_or(0, |v| {
                        u32::try_from(crate::ir::values::atol(&v)).unwrap_or(0)
                    })
                };
                match (
                    limit("tune.ssl.maxrecord"),
                    limit("tune.ssl.hard-maxrecord"),
                ) {
                    (0, hard) => hard,
                    (soft, 0) => soft,
                    (soft, hard) => soft.min(hard),
                }
            },
            extra_files: ExtraFiles::of(lines),
            skip_self_issued_ca: lines.iter().any(|d| d.keyword == "ssl-skip-self-issued-ca"),
        }
    }

    /// Lowers one bind line's option words.
    pub fn bind(&self, options: &[&str]) -> BindTls {
        let mut tls = BindTls {
            ciphers: self.ciphers.clone(),
            ciphersuites: self.ciphersuites.clone(),
            curves: self.curves.clone(),
            tickets: true,
            early_data_room: self.early_data_room,
            cache_size: self.cache_size,
            lifetime: self.lifetime,
            key_del_ext: self.key_del_ext,
            extra_files: self.extra_files,
            skip_self_issued_ca: self.skip_self_issued_ca,
            capture_size: self.capture_size,
            max_record: self.max_record,
            crt_base: self.crt_base.clone(),
            ca_base: self.ca_base.clone(),
            ..BindTls::default()
        };
        let (mut min, mut max) = (3usize, 4usize);
        let mut disabled = [false; 5];
        let mut forced = None;
        let mut ecdhe = None;
        let (mut generate, mut ca_sign_file, mut ca_sign_pass) = (false, None, None);
        let words: Vec<&str> = self
            .bind_options
            .iter()
            .map(String::as_str)
            .chain(options.iter().copied())
            .collect();
        let mut i = 0;
        while i < words.len() {
            let value = words.get(i + 1).copied().unwrap_or("");
            let mut takes_value = true;
            match words[i] {
                "crt" => tls.crts.push(with_base(&self.crt_base, value)),
                // HAProxy 2.7 opens a crt-list where it is written, `crt-base` left out.
                "crt-list" => tls.crt_lists.push(value.to_string()),
                "alpn" => tls.alpn = value.split(',').map(String::from).collect(),
                "ca-file" => tls.ca_file = Some(with_base(&self.ca_base, value)),
                "ca-verify-file" => tls.ca_verify_file = Some(with_base(&self.ca_base, value)),
                "crl-file" => tls.crl_file = Some(with_base(&self.ca_base, value)),
                "verify" => {
                    tls.verify = match value {
                        "required" => Verify::Required,
                        "optional" => Verify::Optional,
                        _ => Verify::None,
                    }
                }
                "ca-ignore-err" => {
                    tls.ca_ignore_err =
                        IgnoredErrors::parse("ca-ignore-err", value).unwrap_or_default()
                }
                "crt-ignore-err" => {
                    tls.crt_ignore_err =
                        IgnoredErrors::parse("crt-ignore-err", value).unwrap_or_default()
                }
                "ssl-min-ver" => min = VERSIONS.iter().position(|v| *v == value).unwrap_or(min),
                "ssl-max-ver" => max = VERSIONS.iter().position(|v| *v == value).unwrap_or(max),
                "ciphers" => tls.ciphers = Some(value.to_string()),
                "ciphersuites" => tls.ciphersuites = Some(value.to_string()),
                "curves" => tls.curves = Some(value.to_string()),
                "ecdhe" => ecdhe = Some(value.to_string()),
                "ca-sign-file" => ca_sign_file = Some(with_base(&self.ca_base, value)),
                "ca-sign-pass" => ca_sign_pass = Some(value.to_string()),
                "tls-ticket-keys" => tls.ticket_keys = Some(value.to_string()),
                word => {
                    takes_value = false;
                    match word {
                        "strict-sni" => tls.strict_sni = true,
                        "generate-certificates" => generate = true,
                        "no-tls-tickets" => tls.tickets = false,
                        "tls-tickets" => tls.tickets = true,
                        "allow-0rtt" => tls.allow_0rtt = true,
                        "prefer-client-ciphers" => tls.prefer_client_ciphers = true,
                        "no-ca-names" => tls.no_ca_names = true,
                        w => {
                            if let Some(v) = NO_FLAGS.iter().position(|f| *f == w) {
                                disabled[v] = true;
                            } else if let Some(v) = FORCE_FLAGS.iter().position(|f| *f == w) {
                                forced = Some(v);
                            }
                        }
                    }
                }
            }
            i += if takes_value { 2 } else { 1 };
        }
        tls.versions = allowed_versions(min, max, &disabled, forced);
        tls.version_bounds = (min, max);
        tls.version_disabled = disabled;
        tls.version_forced = forced;
        // `ecdhe` names the one curve when no `curves` list is given.
        if tls.curves.is_none() {
            tls.curves = ecdhe;
        }
        tls.generate = generate.then_some(GenerateCerts {
            ca_sign_file,
            ca_sign_pass,
            cache_size: self.ctx_cache_size,
        });
        tls
    }
}

/// The versions left between `min` and `max` once the `no-*` flags are applied; a `force-*`
/// flag allows its version alone.
fn allowed_versions(
    min: usize,
    max: usize,
    disabled: &[bool; 5],
    forced: Option<usize>,
) -> Vec<String> {
    let (min, max) = forced.map_or((min, max), |v| (v, v));
    (min..=max)
        .filter(|&v| forced.is_some() || !disabled[v])
        .map(|v| VERSIONS[v].to_string())
        .collect()
}

/// A relative path under `crt-base`/`ca-base`, as HAProxy joins them.
pub fn with_base(base: &Option<String>, path: &str) -> String {
    match base {
        Some(b) if !path.starts_with('/') => format!("{}/{path}", b.trim_end_matches('/')),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests;
