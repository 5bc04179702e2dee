//! What HAProxy checks once every proxy is checked: resolvers sections without a nameserver,
//! then its post-parsers in the order its objects are linked, each run whatever the one before
//! found: the resolvers' (each datagram nameserver's socket, then the servers' `resolvers`),
//! FastCGI applications' ([`super::fcgi`]) and programs'.

use super::model::*;
use super::CheckOptions;
use crate::address::{Family, Rules};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

fn bare(code: &'static str, message: String) -> Diagnostic {
    Diagnostic::new(code, message).form(HaproxyForm::Bare)
}

fn resolvers_sections(config: &Config) -> impl Iterator<Item = (&NamedSection, &str)> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Resolvers)
        .map(|s| (s, s.name.as_ref().map_or("", |n| n.value.as_str())))
}

/// A resolvers section with neither a `nameserver` line nor `parse-resolv-conf`.
pub(super) fn empty_resolvers(
    db: &crate::source::SourceDb,
    config: &Config,
    out: &mut Vec<Diagnostic>,
) {
    for (s, name) in resolvers_sections(config) {
        if s.lines
            .iter()
            .any(|d| matches!(d.keyword.as_str(), "nameserver" | "parse-resolv-conf"))
        {
            continue;
        }
        out.push(
            bare(
                "W272",
                format!(
                    "resolvers '{name}' [{}] has no nameservers configured!",
                    super::build::location(db, s.header)
                ),
            )
            .severity(Severity::Warning)
            .at(s.header)
            .label("no nameserver to send queries to")
            .help("add 'nameserver <name> <ip>:<port>' lines, or 'parse-resolv-conf'"),
        );
    }
}

/// The post-parsers, in HAProxy's order.
pub(super) fn check(config: &Config, options: &CheckOptions, out: &mut Vec<Diagnostic>) {
    nameserver_sockets(config, out);
    server_resolvers(config, out);
    super::fcgi::check(config, out);
    programs(config, options, out);
}

/// HAProxy opens each datagram nameserver's socket as UDP: a UNIX socket read as a datagram
/// one (not `uxst@`, not `stream+`) cannot be.
fn nameserver_sockets(config: &Config, out: &mut Vec<Diagnostic>) {
    let env = config.environment();
    for (s, resolvers) in resolvers_sections(config) {
        for d in s.lines.iter().filter(|d| d.keyword == "nameserver") {
            let (Some(id), Some(addr)) = (d.args.first(), d.args.get(1)) else {
                continue;
            };
            let expanded = crate::address::env_expand(addr, &env);
            let unix_datagram =
                crate::address::parse(&expanded, Rules::NAMESERVER).is_ok_and(|a| {
                    matches!(a.family, Family::Unix | Family::Abstract) && a.prefix != "uxst@"
                }) && !expanded.starts_with("stream+");
            if unix_datagram {
                out.push(
                    bare(
                        "E268",
                        format!("resolvers '{resolvers}': can't create socket for nameserver '{id}'."),
                    )
                    .at(d.span)
                    .label("a UNIX socket cannot carry DNS over UDP")
                    .help("query the nameserver at an IP address and port, or over a stream socket with 'uxst@<path>'"),
                );
            }
        }
    }
}

/// Servers' `resolvers` must name an existing section (enabled proxies only).
fn server_resolvers(config: &Config, out: &mut Vec<Diagnostic>) {
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults && !p.disabled)
    {
        for s in p
            .servers
            .iter()
            .filter(|s| s.words.any(ServerWords::RESOLVERS))
        {
            // The last `resolvers` word is the one the server keeps.
            let Some(w) = s.options.windows(2).rfind(|w| w[0].value == "resolvers") else {
                continue;
            };
            if config
                .section(SectionKind::Resolvers, &w[1].value)
                .is_none()
            {
                out.push(
                    bare(
                        "E246",
                        format!(
                            "{} '{}', server '{}': unable to find required resolvers '{}'",
                            p.kind.type_str(),
                            p.name_str(),
                            s.name.value,
                            w[1].value
                        ),
                    )
                    .at(w[1].span)
                    .label("no resolvers section with this name"),
                );
            }
        }
    }
}

/// Each program needs a command, and programs need the master-worker mode.
fn programs(config: &Config, options: &CheckOptions, out: &mut Vec<Diagnostic>) {
    let programs = || {
        config
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Program)
    };
    for s in programs().filter(|s| !s.lines.iter().any(|d| d.keyword == "command")) {
        let name = s.name.as_ref().map_or("", |n| n.value.as_str());
        out.push(
            bare(
                "E288",
                format!("The program section '{name}' lacks a command to launch."),
            )
            .at(s.header)
            .label("no 'command' line in this program section")
            .help("add 'command <path> [arguments]'"),
        );
    }
    let master_worker = options.master_worker || config.global.master_worker;
    if let Some(program) = programs().next().filter(|_| !master_worker) {
        out.push(
            bare(
                "E240",
                "Can't use a 'program' section without master worker mode.".into(),
            )
            .at(program.header)
            .help("add 'master-worker' to the global section, or start with -W"),
        );
    }
}
