//! TLS settings of a `bind … ssl` line, lowered from its options, the global
//! `ssl-default-bind-*` lines and `crt-base`/`ca-base`: what the runtime's certificate store
//! and rustls configuration are built from.

use crate::ir::DirectiveLine;
use crate::registry::x509_error_code;
use serde::Serialize;

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
mod tests {
    use super::*;

    fn globals() -> TlsGlobals {
        TlsGlobals::of(&[], false)
    }

    #[test]
    fn versions_follow_min_max_and_flags() {
        let t = globals().bind(&["ssl", "crt", "a.pem", "ssl-min-ver", "TLSv1.2"]);
        assert_eq!(t.versions, ["TLSv1.2", "TLSv1.3"]);
        let t = globals().bind(&["ssl", "no-tlsv13"]);
        assert_eq!(t.versions, ["TLSv1.2"]);
        let t = globals().bind(&["ssl", "force-tlsv13", "ecdhe", "prime256v1"]);
        assert_eq!(t.versions, ["TLSv1.3"]);
        assert_eq!(t.curves.as_deref(), Some("prime256v1"));
        assert_eq!(t.crts, Vec::<String>::new());
        assert!(t.generate.is_none());
    }

    #[test]
    fn crt_list_line_options_override_the_bind_line() {
        let mut g = globals();
        g.ca_base = Some("/ca".into());
        let t = g.bind(&["ssl", "alpn", "h2", "no-tlsv13", "verify", "none"]);
        let l = t
            .with_line(&[
                "alpn",
                "http/1.1",
                "verify",
                "required",
                "ca-file",
                "c.pem",
                "ssl-min-ver",
                "TLSv1.2",
                "ssl-max-ver",
                "TLSv1.3",
            ])
            .unwrap();
        assert_eq!(l.alpn, ["http/1.1"]);
        assert_eq!(l.verify, Verify::Required);
        assert_eq!(l.ca_file.as_deref(), Some("/ca/c.pem"));
        // `no-tlsv13` on the bind line still holds.
        assert_eq!(l.versions, ["TLSv1.2"]);
        let t = g.bind(&["ssl"]);
        let l = t.with_line(&["ssl-min-ver", "TLSv1.3"]).unwrap();
        assert_eq!(l.versions, ["TLSv1.3"]);
        assert_eq!(
            t.with_line(&["no-tlsv13"]).unwrap_err(),
            "unknown ssl keyword no-tlsv13"
        );
        assert!(t.with_line(&["alpn"]).unwrap_err().contains("out of '[]'"));
        assert!(t.with_line(&["verify", "maybe"]).is_err());
    }

    #[test]
    fn generated_certificates_take_their_ca_under_ca_base() {
        let mut g = globals();
        g.ca_base = Some("/etc/ca".into());
        let t = g.bind(&[
            "crt",
            "a.pem",
            "generate-certificates",
            "ca-sign-file",
            "ca.pem",
            "ca-sign-pass",
            "x",
        ]);
        let gen = t.generate.expect("generation enabled");
        assert_eq!(gen.ca_sign_file.as_deref(), Some("/etc/ca/ca.pem"));
        assert_eq!(gen.ca_sign_pass.as_deref(), Some("x"));
        assert_eq!(gen.cache_size, 1000);
    }

    #[test]
    fn ignore_lists_take_names_ids_and_all() {
        assert_eq!(
            IgnoredErrors::parse("crt-ignore-err", "X509_V_ERR_CERT_HAS_EXPIRED,20"),
            Ok(IgnoredErrors::Codes(vec![10, 20]))
        );
        assert_eq!(
            IgnoredErrors::parse("ca-ignore-err", "all"),
            Ok(IgnoredErrors::All)
        );
        assert_eq!(
            IgnoredErrors::parse("ca-ignore-err", "95"),
            Err("'ca-ignore-err' : ID '95' out of range (1..94) in error IDs list '95'".into())
        );
        assert!(IgnoredErrors::parse("ca-ignore-err", "X509_NOPE")
            .unwrap_err()
            .contains("unknown"));
    }

    #[test]
    fn global_settings_reach_the_plan() {
        let c = crate::testkit::compile_text(
            "t.cfg",
            "global\n    crt-base /certs\n    ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets\n    ssl-default-bind-ciphers ECDHE+AESGCM\n    tune.ssl.cachesize 7\n    tune.ssl.capture-buffer-size 96\n    tune.h2.max-concurrent-streams 9\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind :8443 ssl crt site.pem\n",
            false,
        );
        let plan = crate::plan::build(&c.config, 1);
        let t = plan.listeners[0]
            .tls_settings
            .as_ref()
            .expect("a TLS listener");
        assert_eq!(t.crts, ["/certs/site.pem"]);
        assert_eq!(t.versions, ["TLSv1.3"]);
        assert!(!t.tickets);
        assert_eq!(t.ciphers.as_deref(), Some("ECDHE+AESGCM"));
        assert_eq!(t.cache_size, 7);
        assert_eq!(t.capture_size, 96);
        assert_eq!(plan.global.h2.max_concurrent_streams, 9);
    }

    #[test]
    fn server_lines_start_from_the_global_server_defaults() {
        let c = crate::testkit::compile_text(
            "t.cfg",
            "global\n    ssl-server-verify none\n    ssl-default-server-options no-tlsv12 no-ssl-reuse\n    ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend be\n    server a 127.0.0.1:1 ssl\n    server b 127.0.0.1:2 ssl verify required ca-file ca.pem force-tlsv12 ciphers ECDHE-RSA-AES128-GCM-SHA256\n",
            false,
        );
        let plan = crate::plan::build(&c.config, 1);
        let servers = &plan.backends[0].servers;
        let a = servers[0].tls.as_ref().expect("TLS server");
        assert!(a.verify_none, "{a:?}");
        assert!(!a.reuse, "{a:?}");
        assert_eq!(a.versions, ["TLSv1.3"]);
        assert_eq!(a.ciphersuites.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        let b = servers[1].tls.as_ref().expect("TLS server");
        assert!(!b.verify_none);
        assert_eq!(b.versions, ["TLSv1.2"]);
        assert_eq!(b.ciphers.as_deref(), Some("ECDHE-RSA-AES128-GCM-SHA256"));
    }

    #[test]
    fn bases_apply_to_relative_paths() {
        let mut g = globals();
        g.crt_base = Some("/etc/certs/".into());
        g.ca_base = Some("/etc/ca".into());
        let t = g.bind(&["crt", "site.pem", "crt", "/abs.pem", "ca-file", "ca.pem"]);
        assert_eq!(t.crts, ["/etc/certs/site.pem", "/abs.pem"]);
        assert_eq!(t.ca_file.as_deref(), Some("/etc/ca/ca.pem"));
    }
}

/// `tune.h2.*` settings, HAProxy's defaults where unset.
#[derive(Clone, Debug, Serialize)]
pub struct H2Tune {
    pub header_table_size: u32,
    pub initial_window_size: u32,
    pub max_concurrent_streams: u32,
    pub max_frame_size: u32,
    /// Whether the SETTINGS frame announces extended CONNECT (RFC 8441, WebSocket over
    /// HTTP/2); `h2-workaround-bogus-websocket-clients` turns it off.
    pub extended_connect: bool,
}

impl H2Tune {
    pub fn of(lines: &[DirectiveLine]) -> H2Tune {
        let number = |k: &str, default: u32| {
            super::lower::last_arg(lines, k)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        H2Tune {
            header_table_size: number("tune.h2.header-table-size", 4096),
            initial_window_size: number("tune.h2.initial-window-size", 65536),
            max_concurrent_streams: number("tune.h2.max-concurrent-streams", 100),
            // As HAProxy sizes it: a buffer (`tune.bufsize`) unless set, and never more.
            max_frame_size: {
                let bufsize = number("tune.bufsize", 16384);
                match number("tune.h2.max-frame-size", 0) {
                    0 => bufsize,
                    set => set.min(bufsize),
                }
            },
            extended_connect: !lines
                .iter()
                .any(|d| d.keyword == "h2-workaround-bogus-websocket-clients"),
        }
    }
}

/// The TLS side of a `server … ssl` line (its `default-server` options first).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerTls {
    /// `verify none`; otherwise the server's chain is checked against `ca_file`.
    pub verify_none: bool,
    pub ca_file: Option<String>,
    /// `crl-file`: revocation lists the server's chain is checked against.
    pub crl_file: Option<String>,
    /// A client certificate (and key) to present.
    pub crt: Option<String>,
    /// `sni <expr>`: the name sent, evaluated per request.
    pub sni: Option<String>,
    /// `verifyhost`: the name the certificate must carry.
    pub verifyhost: Option<String>,
    pub alpn: Vec<String>,
    /// Session resumption on reconnection (`no-ssl-reuse` turns it off).
    pub reuse: bool,
    pub versions: Vec<String>,
    /// OpenSSL cipher lists (`ciphers` for TLS 1.2, `ciphersuites` for 1.3) and `curves`.
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    /// `allow-0rtt`: requests may go in TLS 1.3 early data on a resumed session.
    pub allow_0rtt: bool,
    /// `tune.ssl.maxrecord` (0: no limit of its own).
    pub max_record: u32,
    /// `no-tls-tickets` (until a later `tls-tickets`): TLS 1.2 sessions resume by their id
    /// only, the client asking for no ticket.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_tickets: bool,
    /// `ssl-load-extra-files` without `key` (nor `all`): the key of `crt` must be in its
    /// file, none is looked for beside it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_key_file: bool,
    /// `ssl-load-extra-del-ext`: the key beside `client.crt` is `client.key`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub key_del_ext: bool,
}

impl TlsGlobals {
    /// Lowers a server's option words; `None` when the server does not speak TLS.
    pub fn server(&self, options: &[&str]) -> Option<ServerTls> {
        let mut enabled = false;
        let mut tls = ServerTls {
            reuse: true,
            verify_none: self.server_verify_none,
            ciphers: self.server_ciphers.clone(),
            ciphersuites: self.server_ciphersuites.clone(),
            curves: self.server_curves.clone(),
            max_record: self.max_record,
            no_key_file: !self.extra_files.key,
            key_del_ext: self.key_del_ext,
            ..ServerTls::default()
        };
        let (mut min, mut max) = (3usize, 4usize);
        let mut disabled = [false; 5];
        let mut forced = None;
        let words: Vec<&str> = self
            .server_options
            .iter()
            .map(String::as_str)
            .chain(options.iter().copied())
            .collect();
        let mut i = 0;
        while i < words.len() {
            let value = words.get(i + 1).copied().unwrap_or("");
            let mut takes_value = true;
            match words[i] {
                "verify" => tls.verify_none = value == "none",
                "ca-file" => tls.ca_file = Some(with_base(&self.ca_base, value)),
                "crl-file" => tls.crl_file = Some(with_base(&self.ca_base, value)),
                "crt" => tls.crt = Some(with_base(&self.crt_base, value)),
                "sni" => tls.sni = Some(value.to_string()),
                "verifyhost" => tls.verifyhost = Some(value.to_string()),
                "alpn" => tls.alpn = value.split(',').map(String::from).collect(),
                "ssl-min-ver" => min = VERSIONS.iter().position(|v| *v == value).unwrap_or(min),
                "ssl-max-ver" => max = VERSIONS.iter().position(|v| *v == value).unwrap_or(max),
                "ciphers" => tls.ciphers = Some(value.to_string()),
                "ciphersuites" => tls.ciphersuites = Some(value.to_string()),
                "curves" => tls.curves = Some(value.to_string()),
                word => {
                    takes_value = false;
                    match word {
                        "ssl" => enabled = true,
                        "no-ssl" => enabled = false,
                        "no-ssl-reuse" => tls.reuse = false,
                        "allow-0rtt" => tls.allow_0rtt = true,
                        "ssl-reuse" => tls.reuse = true,
                        "no-tls-tickets" => tls.no_tickets = true,
                        "tls-tickets" => tls.no_tickets = false,
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
        enabled.then_some(tls)
    }

    /// The TLS of a server's health checks: `check-ssl`, or implied by `ssl` when the checks
    /// go to the server's own port; `check-sni` names them.
    pub fn check(&self, options: &[&str]) -> Option<ServerTls> {
        let has = |w: &str| options.contains(&w);
        let value_of = |w: &str| {
            options
                .iter()
                .position(|o| *o == w)
                .and_then(|i| options.get(i + 1))
        };
        let implied = has("ssl") && !has("no-ssl") && !has("port") && !has("addr");
        if has("no-check-ssl") || !(has("check-ssl") || implied) {
            return None;
        }
        let forced: Vec<&str> = options.iter().copied().chain(["ssl"]).collect();
        let mut tls = self.server(&forced)?;
        tls.sni = value_of("check-sni").map(|n| format!("str({n})"));
        // `check-alpn` replaces the server's ALPN for the checks.
        if let Some(alpn) = value_of("check-alpn") {
            tls.alpn = alpn.split(',').map(String::from).collect();
        }
        Some(tls)
    }
}
