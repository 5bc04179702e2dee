//! The TLS side of a `server … ssl` line, lowered from its words after its `default-server`
//! ones and the global `ssl-default-server-*` lines.

use super::{allowed_versions, with_base, TlsGlobals, FORCE_FLAGS, NO_FLAGS, VERSIONS};
use serde::Serialize;

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
