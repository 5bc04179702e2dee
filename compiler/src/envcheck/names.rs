//! Host names, resolved when HAProxy would resolve them. Servers at start-up, before `haproxy -c`
//! reports a configuration valid: each tries its `init-addr` methods in order (`last,libc` by
//! default, plus `none` when it has `resolvers`) and fails when none gives an address. `log`
//! targets and `bind` addresses while their line is read.

use crate::address::{self, Rules};
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::ir::{Config, DirectiveLine, Proxy, ProxyKind, Server};
use crate::source::Span;
use rustc_hash::FxHashMap;
use std::net::ToSocketAddrs;

/// One `init-addr` method.
#[derive(Debug, PartialEq, Eq)]
enum Method {
    /// The address saved in a server-state file: none is loaded by a check.
    Last,
    Libc,
    /// Start with the server in maintenance.
    None,
    /// A fixed fallback address.
    Ip,
}

fn methods(list: &str) -> Vec<Method> {
    list.split(',')
        .filter(|m| !m.is_empty())
        .map(|m| match m {
            "last" => Method::Last,
            "libc" => Method::Libc,
            "none" => Method::None,
            _ => Method::Ip,
        })
        .collect()
}

/// The value of option `name` on a server line, else on the last `default-server` line written
/// before it (its proxy's, or its defaults section's).
fn option<'a>(p: &'a Proxy, s: &'a Server, name: &str) -> Option<&'a str> {
    let before = |d: &DirectiveLine| d.span.file != s.span.file || d.span.start < s.span.start;
    let on_server = s
        .options
        .windows(2)
        .rev()
        .find(|w| w[0].value == name)
        .map(|w| w[1].value.as_str());
    on_server.or_else(|| {
        p.directives
            .iter()
            .rev()
            .filter(|d: &&DirectiveLine| d.keyword == "default-server" && before(d))
            .find_map(|d| {
                d.args
                    .windows(2)
                    .rev()
                    .find(|w| w[0] == name)
                    .map(|w| w[1].as_str())
            })
    })
}

/// Resolves every server host name the way start-up does; `resolve` answers whether a name has
/// an address (the system resolver in production, a table in tests).
pub(super) fn check_with(
    config: &Config,
    dontfail: bool,
    resolve: &mut dyn FnMut(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut known: FxHashMap<String, bool> = FxHashMap::default();
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults && p.kind.has_backend() && !p.disabled)
    {
        for s in &p.servers {
            let Some(addr) = &s.address else { continue };
            let expanded = address::env_expand(&addr.value, &config.environment());
            let Some(host) = host_name(&expanded, Rules::SERVER) else {
                continue;
            };
            let init_addr = option(p, s, "init-addr");
            let mut order = init_addr.map_or_else(|| vec![Method::Last, Method::Libc], methods);
            // `-dr` lets the server start without an address, and so do `resolvers` when no
            // `init-addr` says otherwise.
            let resolvers = init_addr.is_none() && option(p, s, "resolvers").is_some();
            if (dontfail || resolvers) && !order.contains(&Method::None) {
                order.push(Method::None);
            }
            let Some((code, tail)) = outcome(&order, &host, &mut known, resolve) else {
                continue;
            };
            // A server-template stands for one server per number of its range.
            let names: Vec<String> = match s.template {
                Some((lo, hi)) => (lo..=hi.min(lo.saturating_add(MAX_TEMPLATE_REPORTS)))
                    .map(|n| format!("{}{n}", s.name.value))
                    .collect(),
                None => vec![s.name.value.to_string()],
            };
            for name in names {
                let mut d =
                    Diagnostic::new(code, format!("'server {}/{name}' : {tail}", p.name_str()))
                        .at(addr.span)
                        .label("no address for this name on this machine")
                        .form(HaproxyForm::FileLine);
                // Resolved once the configuration is read: not an error of its line.
                d.after_parse = true;
                if code == "E403" {
                    d = d.note("resolved on this machine at check time, as HAProxy does; use --no-env to skip, or 'init-addr last,libc,none' to start without it");
                }
                out.push(d);
            }
        }
    }
    out
}

/// Servers of one `server-template` reported at most (HAProxy reports every one).
const MAX_TEMPLATE_REPORTS: u32 = 64;

/// Tries the `init-addr` methods in order: the code and message end of what HAProxy reports, if
/// anything. A name starting with `_` is a DNS SRV record, which only a `resolvers` section
/// answers: the system resolver is not asked.
fn outcome(
    order: &[Method],
    host: &str,
    known: &mut FxHashMap<String, bool>,
    resolve: &mut dyn FnMut(&str) -> bool,
) -> Option<(&'static str, String)> {
    let mut failed = false;
    for m in order {
        match m {
            Method::Last => continue,
            Method::Libc if host.starts_with('_') => continue,
            Method::Libc => {
                let ok = *known
                    .entry(host.to_string())
                    .or_insert_with(|| resolve(host));
                if ok {
                    return None;
                }
                failed = true;
            }
            Method::None | Method::Ip if !failed => return None,
            Method::None => {
                return Some((
                    "W404",
                    format!("could not resolve address '{host}', disabling server."),
                ))
            }
            Method::Ip => {
                return Some((
                    "W404",
                    format!(
                        "could not resolve address '{host}', falling back to configured address."
                    ),
                ))
            }
        }
    }
    Some(if failed {
        ("E403", format!("could not resolve address '{host}'."))
    } else {
        (
            "E403",
            format!("no method found to resolve address '{host}'."),
        )
    })
}

/// Whether the system resolver knows `host`.
fn system_resolves(host: &str) -> bool {
    (host, 0)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some())
}

/// [`check_with`] through the system resolver.
pub(super) fn check(config: &Config, dontfail: bool) -> Vec<Diagnostic> {
    check_with(config, dontfail, &mut system_resolves)
}

/// Host names of `log` targets resolve while HAProxy parses the line: a name without an address
/// is a parse error there.
pub(super) fn log_targets_with(
    config: &Config,
    resolve: &mut dyn FnMut(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let lines = config
        .global
        .directives
        .iter()
        .chain(config.proxies.iter().flat_map(|p| p.directives.iter()));
    for d in lines.filter(|d| d.keyword == "log" && d.prefix.is_none()) {
        let Some(target) = d.args.first() else {
            continue;
        };
        let local = matches!(target.as_str(), "global" | "stdout" | "stderr");
        if local || target.starts_with("ring@") || seen.contains(&d.span) {
            continue;
        }
        // A defaults line reaches every proxy that inherits it: check it once.
        seen.push(d.span);
        let text = address::env_expand(target, &config.environment());
        if let Some(host) = host_name(&text, Rules::LOG).filter(|h| !resolve(h)) {
            out.push(invalid_address("log", &host, &text, d.span));
        }
    }
    out
}

/// The host name an address (already `$VAR`-expanded) would resolve, if it has one.
fn host_name(text: &str, rules: Rules) -> Option<String> {
    let parsed = address::parse(text, rules).ok()?;
    (parsed.is_hostname() && !parsed.host.is_empty()).then(|| parsed.host.to_string())
}

/// HAProxy's parse-time error for an address whose host name has no address.
fn invalid_address(keyword: &str, host: &str, text: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        "E405",
        format!("{keyword} : invalid address: '{host}' in '{text}'"),
    )
    .at(span)
    .label("this host name has no address on this machine")
    .note("resolved on this machine at check time, as HAProxy does; use --no-env to skip")
    .form(HaproxyForm::Parsing)
}

/// Host names in `bind` addresses resolve while HAProxy parses the line.
pub(super) fn bind_addresses_with(
    config: &Config,
    resolve: &mut dyn FnMut(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for bind in config.proxies.iter().flat_map(|p| p.binds.iter()) {
        let expanded = address::env_expand(&bind.address.value, &config.environment());
        let unresolved = expanded.split(',').find_map(|part| {
            let host = host_name(part, Rules::BIND).filter(|h| !resolve(h))?;
            Some(invalid_address("'bind'", &host, part, bind.address.span))
        });
        out.extend(unresolved);
    }
    out
}

/// Host names written as ACL address patterns resolve while HAProxy reads the ACL, through
/// `gethostbyname`: only an IPv4 address will do.
pub(super) fn acl_hosts_with(
    config: &Config,
    resolve_v4: &mut dyn FnMut(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut known: FxHashMap<&str, bool> = FxHashMap::default();
    let mut out = Vec::new();
    for h in &config.acl_hosts {
        let pattern = h.pattern.value.as_str();
        let host = crate::ir::values::ip_pattern_address(pattern);
        let found = *known.entry(host).or_insert_with(|| resolve_v4(host));
        if !found {
            let d = Diagnostic::new(
                "E502",
                format!(
                    "error detected while parsing ACL '{}' : '{pattern}' is not a valid IPv4 or IPv6 address.",
                    h.acl
                ),
            )
            .at(h.pattern.span)
            .label("this host name has no IPv4 address on this machine")
            .note("resolved on this machine at check time, as HAProxy does; use --no-env to skip");
            out.push(if h.aborts { d.aborts() } else { d });
        }
    }
    out
}

/// Whether the system resolver gives `host` an IPv4 address.
fn system_resolves_v4(host: &str) -> bool {
    (host, 0)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.any(|a| a.is_ipv4()))
}

/// The names HAProxy resolves while it reads their line ([`log_targets_with`],
/// [`bind_addresses_with`], [`acl_hosts_with`]), through the system resolver.
pub(super) fn read_time_names(config: &Config) -> Vec<Diagnostic> {
    let mut out = log_targets_with(config, &mut system_resolves);
    out.extend(bind_addresses_with(config, &mut system_resolves));
    out.extend(acl_hosts_with(config, &mut system_resolves_v4));
    out.extend(nameservers_with(config, &mut system_resolves));
    out.extend(mailers_with(config, &mut system_resolves));
    out
}

/// `mailer <name> <host>:<port>`: a host name is resolved while the line is read, `-dr` or not.
fn mailers_with(config: &Config, resolve: &mut dyn FnMut(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, addr) in &config.mailers {
        let text = address::env_expand(&addr.value, &config.environment());
        if let Some(host) = host_name(&text, Rules::MAILER).filter(|h| !resolve(h)) {
            let keyword = format!("'mailer {}'", name.value);
            out.push(invalid_address(&keyword, &host, &text, addr.span));
        }
    }
    out
}

/// `nameserver <name> <host>[:<port>]`: a host name is resolved while the line is read.
fn nameservers_with(config: &Config, resolve: &mut dyn FnMut(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, addr) in &config.nameservers {
        let text = address::env_expand(&addr.value, &config.environment());
        if let Some(host) = host_name(&text, Rules::NAMESERVER).filter(|h| !resolve(h)) {
            let keyword = format!("'nameserver {}'", name.value);
            out.push(invalid_address(&keyword, &host, &text, addr.span));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::compile_text;

    /// The model of one in-memory file, built without the machine checks.
    fn model(text: &str) -> Config {
        compile_text("t.cfg", text, false).config
    }

    fn resolve_codes(text: &str) -> Vec<(&'static str, String)> {
        check_with(&model(text), false, &mut |h| h == "known.example")
            .into_iter()
            .map(|d| (d.code, d.message.to_string()))
            .collect()
    }

    /// Host names among ACL address patterns are resolved (once each); addresses are not.
    #[test]
    fn acl_host_patterns_resolve() {
        let config = model(
            "frontend f\n  bind :80\n  acl a src known.example bad.example/24 10.0.0.1\n  \
             acl b src bad.example\n  http-request deny if a || b\n",
        );
        let mut asked = Vec::new();
        let found: Vec<String> = acl_hosts_with(&config, &mut |h| {
            asked.push(h.to_string());
            h == "known.example"
        })
        .into_iter()
        .map(|d| d.message.to_string())
        .collect();
        assert_eq!(asked, ["known.example", "bad.example"]);
        assert_eq!(
            found,
            [
                "error detected while parsing ACL 'a' : 'bad.example/24' is not a valid IPv4 or IPv6 address.",
                "error detected while parsing ACL 'b' : 'bad.example' is not a valid IPv4 or IPv6 address.",
            ]
        );
    }

    #[test]
    fn init_addr_methods_decide_what_an_unknown_name_does() {
        let head = "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend b\n";
        let got = resolve_codes(&format!(
            "{head}    server a known.example:80\n    server b lost.invalid:80\n    server c 10.0.0.1:80\n    server d lost.invalid:80 init-addr last,libc,none\n    server e lost.invalid:80 resolvers dns\n    server f lost.invalid:80 init-addr none\n    server g lost.invalid:80 init-addr last\n    server-template t 1-2 lost.invalid:80\n    server h lost.invalid:80 resolvers dns init-addr last,libc\n    server i _http._tcp.svc.example:80 resolvers dns\n    server j _http._tcp.svc.example:80\n"
        ));
        assert_eq!(
            got,
            vec![
                (
                    "E403",
                    "'server b/b' : could not resolve address 'lost.invalid'.".to_string()
                ),
                (
                    "W404",
                    "'server b/d' : could not resolve address 'lost.invalid', disabling server."
                        .to_string()
                ),
                (
                    "W404",
                    "'server b/e' : could not resolve address 'lost.invalid', disabling server."
                        .to_string()
                ),
                (
                    "E403",
                    "'server b/g' : no method found to resolve address 'lost.invalid'.".to_string()
                ),
                (
                    "E403",
                    "'server b/t1' : could not resolve address 'lost.invalid'.".to_string()
                ),
                (
                    "E403",
                    "'server b/t2' : could not resolve address 'lost.invalid'.".to_string()
                ),
                // An explicit init-addr leaves out the `none` that `resolvers` adds.
                (
                    "E403",
                    "'server b/h' : could not resolve address 'lost.invalid'.".to_string()
                ),
                // A DNS SRV record is not asked of the system resolver.
                (
                    "E403",
                    "'server b/j' : no method found to resolve address '_http._tcp.svc.example'."
                        .to_string()
                ),
            ]
        );
        let c = model(&format!("global\n    log logs.lost.invalid:514 local0\n    log stderr local0\n    log 127.0.0.1 local1\n    log known.example local2\n{head}    log logs.lost.invalid local0\n    server a 10.0.0.1:80\n"));
        let logs: Vec<String> = log_targets_with(&c, &mut |h| h == "known.example")
            .into_iter()
            .map(|d| d.message.to_string())
            .collect();
        assert_eq!(
            logs,
            vec![
                "log : invalid address: 'logs.lost.invalid' in 'logs.lost.invalid:514'".to_string(),
                "log : invalid address: 'logs.lost.invalid' in 'logs.lost.invalid'".to_string(),
            ]
        );
        // `-dr`: the same failure only disables the server.
        let c = model(&format!("{head}    server b lost.invalid:80\n"));
        let codes: Vec<&str> = check_with(&c, true, &mut |_| false)
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, ["W404"]);
        let c = model(
            "frontend f\n    bind web.lost.invalid:80\n    bind known.example:81\n    bind :82\n",
        );
        let binds: Vec<String> = bind_addresses_with(&c, &mut |h| h == "known.example")
            .into_iter()
            .map(|d| d.message.to_string())
            .collect();
        assert_eq!(
            binds,
            vec![
                "'bind' : invalid address: 'web.lost.invalid' in 'web.lost.invalid:80'".to_string()
            ]
        );
        let inherited = resolve_codes(&format!(
            "{head}    server a lost.invalid:80\n    default-server init-addr libc,none\n    server b lost.invalid:80\n"
        ));
        // The default-server line only reaches the servers written after it.
        assert_eq!(inherited.len(), 2);
        assert_eq!(inherited[0].0, "E403");
        assert_eq!(inherited[1].0, "W404");
    }
}
