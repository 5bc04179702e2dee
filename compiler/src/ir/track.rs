//! `track [<proxy>/]<server>`: the links HAProxy makes between servers once every proxy is
//! read, proxy after proxy and server after server, and what it refuses on the way: a proxy
//! or server that does not exist, a server with nothing to follow (no check, no agent, no
//! `track` of its own), a link that would close a loop, and a link across proxies that do not
//! agree on `http-check disable-on-404`. A link is only made when none of these holds, and the
//! loop test walks the links made so far, as HAProxy's does.

use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::registry::{last_server_value, last_switch};
use crate::source::Span;
use rustc_hash::FxHashMap;

/// One server as HAProxy counts them: a `server-template` line stands for one per number.
struct Member<'a> {
    name: String,
    /// The `track` value, and where to point at it (the value on the server's own line, or
    /// its name when the value comes from a `default-server` line).
    track: Option<(&'a str, Span)>,
    /// Whether the server has something a tracker can follow.
    followable: bool,
}

/// Servers of a backend-capable proxy, by proxy index.
type Members<'a> = FxHashMap<usize, Vec<Member<'a>>>;

/// The refusals of every proxy's `track` links, by the index of the proxy of the server that
/// asks (most configurations have no `track`: nothing is gathered for them).
pub(super) fn refusals(config: &Config) -> FxHashMap<usize, Vec<Diagnostic>> {
    let mut out: FxHashMap<usize, Vec<Diagnostic>> = FxHashMap::default();
    let any_track = config.proxies.iter().any(|p| {
        p.servers.iter().any(|s| s.words.any(ServerWords::TRACK))
            || p.default_server_words().any(|w| w == "track")
    });
    if !any_track {
        return out;
    }
    let members: Members = config
        .proxies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind != ProxyKind::Defaults && p.kind.has_backend())
        .map(|(i, p)| (i, members_of(p)))
        .collect();
    // (proxy, member) -> (proxy, member) it follows, for the links made so far.
    let mut links: FxHashMap<(usize, usize), (usize, usize)> = FxHashMap::default();
    for (pi, p) in config.proxies.iter().enumerate() {
        if p.disabled {
            continue;
        }
        let Some(list) = members.get(&pi) else {
            continue;
        };
        for (mi, m) in list.iter().enumerate() {
            let Some((value, at)) = m.track else {
                continue;
            };
            let context = format!("'server {}/{}' : ", p.name_str(), m.name);
            match link(config, &members, &links, (pi, mi), value) {
                Ok(target) => {
                    links.insert((pi, mi), target);
                }
                Err(Refusal {
                    code,
                    message,
                    label,
                }) => out.entry(pi).or_default().push(
                    Diagnostic::new(code, format!("{context}{message}"))
                        .at(at)
                        .label(label)
                        .form(HaproxyForm::FileLine),
                ),
            }
        }
    }
    out
}

fn members_of(p: &Proxy) -> Vec<Member<'_>> {
    let mut list = Vec::new();
    for s in &p.servers {
        let words = p.server_words(s);
        let track = last_server_value(&words, "track").map(|value| {
            let own = s
                .options
                .windows(2)
                .rfind(|w| w[0].value == "track")
                .map_or(s.name.span, |w| w[1].span);
            (value, own)
        });
        let followable = last_switch(&words, "check", "no-check") == Some(true)
            || last_switch(&words, "agent-check", "no-agent-check") == Some(true)
            || track.is_some();
        // As the plan numbers them.
        let names = s.names(TEMPLATE_SERVERS_MAX);
        list.extend(names.into_iter().map(|name| Member {
            name,
            track,
            followable,
        }));
    }
    list
}

/// Why a link is refused: HAProxy's message, its code, and what to say at the value.
struct Refusal {
    code: &'static str,
    message: String,
    label: &'static str,
}

/// The server `value` names for the tracker at `at` (proxy and member), or HAProxy's refusal
/// (its code and message).
fn link(
    config: &Config,
    members: &Members,
    links: &FxHashMap<(usize, usize), (usize, usize)>,
    at: (usize, usize),
    value: &str,
) -> Result<(usize, usize), Refusal> {
    let (proxy_name, server_name) = match value.rsplit_once('/') {
        Some((proxy, server)) => (Some(proxy), server),
        None => (None, value),
    };
    let px = match proxy_name {
        Some(name) => members
            .keys()
            .copied()
            .filter(|&i| config.proxies[i].name_str() == name)
            .min()
            .ok_or_else(|| Refusal {
                code: "E527",
                message: format!("unable to find required proxy '{name}' for tracking."),
                label: "no backend or listen section with this name",
            })?,
        None => at.0,
    };
    let list = &members[&px];
    let ti = list
        .iter()
        .position(|m| m.name == server_name)
        .ok_or_else(|| Refusal {
            code: "E527",
            message: format!("unable to find required server '{server_name}' for tracking."),
            label: "no server with this name",
        })?;
    let (target, owner) = (&list[ti], config.proxies[px].name_str());
    if !target.followable {
        return Err(Refusal {
            code: "E528",
            message: format!(
                "unable to use {owner}/{} for tracking as it does not have any check nor agent enabled.",
                target.name
            ),
            label: "this server has no check to follow",
        });
    }
    // The links made so far hold no loop, so the walk ends.
    let mut walk = Some((px, ti));
    while let Some(step) = walk {
        if step == at {
            return Err(Refusal {
                code: "E529",
                message: format!(
                    "unable to track {owner}/{} as it belongs to a tracking chain looping back to {owner}/{}.",
                    target.name, members[&at.0][at.1].name
                ),
                label: "this link would close a loop",
            });
        }
        walk = links.get(&step).copied();
    }
    // The tracker's proxy is checked already; the target's too when it comes first (and is
    // enabled: a disabled proxy is never checked).
    let settled = px < at.0 && !config.proxies[px].disabled;
    if px != at.0
        && disable_on_404(&config.proxies[at.0], true)
            != disable_on_404(&config.proxies[px], settled)
    {
        // HAProxy's message lacks the space after "for".
        return Err(Refusal {
            code: "E530",
            message: format!(
                "unable to use {owner}/{} fortracking: disable-on-404 option inconsistency.",
                target.name
            ),
            label: "the two proxies disagree on 'http-check disable-on-404'",
        });
    }
    Ok((px, ti))
}

/// Whether the proxy has `http-check disable-on-404` (its own or its defaults section's) when
/// a tracker looks; once the proxy is `checked`, HAProxy has dropped the setting under a check
/// that is not HTTP (`option tcp-check` and the protocol checks).
fn disable_on_404(p: &Proxy, checked: bool) -> bool {
    let set = p.directives.iter().any(|d| {
        d.keyword == "http-check"
            && d.prefix.is_none()
            && d.args.first().is_some_and(|a| a == "disable-on-404")
    });
    let dropped = checked
        && super::extcheck::chosen_check(p)
            .is_some_and(|(name, _)| !matches!(name.as_str(), "httpchk" | "external-check"));
    set && !dropped
}
