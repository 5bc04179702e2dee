//! `resolvers` sections, lowered for the runtime's DNS service discovery.

use super::lower::ms;
use crate::ir::Config;
use crate::registry::SectionKind;
use serde::Serialize;

/// One `resolvers` section; times in milliseconds, HAProxy's defaults where unset.
#[derive(Clone, Debug, Serialize)]
pub struct ResolversPlan {
    pub name: String,
    /// `nameserver <id> <address>`: the addresses, environment variables expanded (`udp@`
    /// allowed).
    pub nameservers: Vec<String>,
    /// The `<id>` of each of `nameservers`, in the same order (what reports name them by).
    #[serde(default)]
    pub nameserver_ids: Vec<String>,
    /// `parse-resolv-conf`: the nameservers of /etc/resolv.conf too.
    pub parse_resolv_conf: bool,
    pub hold: Hold,
    /// `resolve_retries`: queries sent before a resolution fails.
    pub resolve_retries: u32,
    /// `timeout resolve`: how often resolutions are due.
    pub timeout_resolve: u32,
    /// `timeout retry`: how long to wait for an answer before asking again.
    pub timeout_retry: u32,
    /// `accepted_payload_size`: the EDNS0 UDP payload size announced.
    pub accepted_payload_size: u16,
}

/// `hold <status> <period>`: how long the last good answer is kept after each outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Hold {
    pub nx: u32,
    pub other: u32,
    pub refused: u32,
    pub timeout: u32,
    /// Also how often a good answer is refreshed.
    pub valid: u32,
    /// How long a record missing from the answers is kept.
    pub obsolete: u32,
}

impl ResolversPlan {
    /// A section named `name` with no nameserver and HAProxy's defaults.
    pub fn new(name: String) -> ResolversPlan {
        ResolversPlan {
            name,
            nameservers: Vec::new(),
            nameserver_ids: Vec::new(),
            parse_resolv_conf: false,
            hold: Hold {
                nx: 30_000,
                other: 30_000,
                refused: 30_000,
                timeout: 30_000,
                valid: 10_000,
                obsolete: 0,
            },
            resolve_retries: 3,
            timeout_resolve: 1000,
            timeout_retry: 1000,
            accepted_payload_size: 512,
        }
    }

    /// The section HAProxy adds by itself when none is named `default`: the nameservers of
    /// /etc/resolv.conf.
    pub fn implicit_default() -> ResolversPlan {
        ResolversPlan {
            parse_resolv_conf: true,
            ..ResolversPlan::new("default".into())
        }
    }
}

/// The resolvers sections of a configuration.
pub fn lower(config: &Config) -> Vec<ResolversPlan> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Resolvers)
        .map(|s| {
            let mut r = ResolversPlan::new(
                s.name
                    .as_ref()
                    .map_or(String::new(), |n| n.value.to_string()),
            );
            for d in &s.lines {
                let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
                match (d.keyword.as_str(), arg(0)) {
                    // `$VAR`/`${VAR}` in the address are expanded, quoted or not (unset: empty).
                    ("nameserver", id) => {
                        r.nameserver_ids.push(id.to_string());
                        r.nameservers.push(
                            crate::address::env_expand(arg(1), &config.environment()).into_owned(),
                        )
                    }
                    ("parse-resolv-conf", _) => r.parse_resolv_conf = true,
                    ("resolve_retries", n) => r.resolve_retries = n.parse().unwrap_or(3),
                    ("accepted_payload_size", n) => {
                        r.accepted_payload_size = n.parse().unwrap_or(512)
                    }
                    ("timeout", "resolve") => r.timeout_resolve = ms(arg(1)).unwrap_or(1000),
                    ("timeout", "retry") => r.timeout_retry = ms(arg(1)).unwrap_or(1000),
                    ("hold", status) => {
                        let Some(v) = ms(arg(1)) else { continue };
                        match status {
                            "nx" => r.hold.nx = v,
                            "other" => r.hold.other = v,
                            "refused" => r.hold.refused = v,
                            "timeout" => r.hold.timeout = v,
                            "valid" => r.hold.valid = v,
                            "obsolete" => r.hold.obsolete = v,
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            r
        })
        .collect()
}
