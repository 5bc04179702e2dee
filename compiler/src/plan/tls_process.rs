//! Process-wide TLS settings of the global section (`maxsslconn`, `maxsslrate`,
//! `tune.ssl.keylog`, `issuers-chain-path`) and the settings of the HTTP client scripts use
//! (`httpclient.*`).

use super::lower;
use crate::ir::DirectiveLine;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct TlsProcess {
    /// `maxsslconn`: TLS connections (client and server sides together) open at once; past
    /// it a new one is closed before its handshake. 0: no limit.
    pub maxsslconn: u32,
    /// `maxsslrate`: new TLS client connections accepted per second; TLS listeners leave the
    /// others in their backlog. 0: no limit.
    pub maxsslrate: u32,
    /// `tune.ssl.keylog on`: each client connection keeps its TLS secrets for the
    /// `ssl_fc_*_secret` fetches.
    pub keylog: bool,
    /// `issuers-chain-path`: a directory of PEM chains that complete a `crt` file holding no
    /// chain of its own.
    pub issuers_chain_path: Option<String>,
}

impl TlsProcess {
    pub fn of(lines: &[DirectiveLine]) -> TlsProcess {
        let number = |v: Option<String>| {
            v.map_or(0, |v| {
                u32::try_from(crate::ir::values::atol(&v).max(0)).unwrap_or(u32::MAX)
            })
        };
        // HAProxy keeps the first `maxsslrate` (a second one is "already specified") and the
        // last of the others.
        let first = lines
            .iter()
            .find(|d| d.keyword == "maxsslrate" && d.prefix.is_none())
            .and_then(|d| d.args.first())
            .map(|a| a.to_string());
        TlsProcess {
            maxsslconn: number(lower::last_arg(lines, "maxsslconn")),
            maxsslrate: number(first),
            keylog: lower::last_arg(lines, "tune.ssl.keylog").as_deref() == Some("on"),
            issuers_chain_path: lower::last_arg(lines, "issuers-chain-path").map(|p| {
                match p.trim_end_matches('/') {
                    "" => "/".to_string(),
                    trimmed => trimmed.to_string(),
                }
            }),
        }
    }
}

/// What the HTTP client (`core.httpclient()`) connects with.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct HttpClientPlan {
    /// `httpclient.ssl.verify none` turns the server certificate check off (`required` by
    /// default).
    pub verify: bool,
    /// `httpclient.ssl.ca-file`: the CAs that certificate is checked against (the system's,
    /// `@system-ca`, by default).
    pub ca_file: String,
    /// `httpclient.resolvers.id`: the `resolvers` section host names are resolved with
    /// (`default` when one has that name; otherwise the system's resolver).
    pub resolvers: String,
    /// `httpclient.resolvers.prefer ipv4`: IPv4 addresses first (IPv6 first by default).
    pub prefer_ipv4: bool,
    /// `httpclient.retries`: how many more times a connection that failed is tried (3 by
    /// default, as HAProxy's client proxy).
    pub retries: u32,
}

impl HttpClientPlan {
    pub fn of(lines: &[DirectiveLine]) -> HttpClientPlan {
        let last = |k: &str| lower::last_arg(lines, k);
        HttpClientPlan {
            verify: last("httpclient.ssl.verify").as_deref() != Some("none"),
            ca_file: last("httpclient.ssl.ca-file").unwrap_or_else(|| "@system-ca".into()),
            resolvers: last("httpclient.resolvers.id").unwrap_or_else(|| "default".into()),
            prefer_ipv4: last("httpclient.resolvers.prefer").as_deref() == Some("ipv4"),
            retries: last("httpclient.retries")
                .and_then(|v| v.parse().ok())
                .unwrap_or(3),
        }
    }
}

impl Default for HttpClientPlan {
    fn default() -> Self {
        HttpClientPlan::of(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn settings_read_as_haproxy_reads_them() {
        let lines = [
            line("maxsslconn 10"),
            line("maxsslconn 3"),
            line("maxsslrate 7"),
            line("maxsslrate 9"),
            line("tune.ssl.keylog on"),
            line("issuers-chain-path /etc/issuers//"),
            line("httpclient.ssl.verify none"),
            line("httpclient.resolvers.prefer ipv4"),
        ];
        let t = TlsProcess::of(&lines);
        assert_eq!(t.maxsslconn, 3, "the last one holds");
        assert_eq!(t.maxsslrate, 7, "the first one holds");
        assert!(t.keylog);
        assert_eq!(t.issuers_chain_path.as_deref(), Some("/etc/issuers"));
        let h = HttpClientPlan::of(&lines);
        assert!(!h.verify && h.prefer_ipv4);
        assert_eq!(
            (h.ca_file.as_str(), h.resolvers.as_str()),
            ("@system-ca", "default")
        );
        assert_eq!(TlsProcess::of(&[]), TlsProcess::default());
        assert!(HttpClientPlan::default().verify);
    }
}
