//! Lookups over the keyword tables.

use super::first_word::{first_word, pair_directive, FirstWord};
use super::*;

/// The result of resolving the first words of a statement.
#[derive(Clone, Copy, Debug)]
pub enum DirectiveLookup {
    /// Known here; `words` is how many words form the keyword (1 or 2).
    Found {
        def: &'static DirectiveDef,
        words: usize,
    },
    /// Known, but not in this kind of section.
    WrongSection { def: &'static DirectiveDef },
    /// Unknown; `suggestion` is the closest keyword of the section, if any is close.
    Unknown { suggestion: Option<&'static str> },
}

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

/// A name → row map over a static table, built on first use.
fn indexed<T: 'static>(
    cell: &'static OnceLock<HashMap<&'static str, &'static T>>,
    rows: &'static [T],
    name: fn(&T) -> &'static str,
) -> &'static HashMap<&'static str, &'static T> {
    cell.get_or_init(|| {
        let mut map = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
        for row in rows {
            map.entry(name(row)).or_insert(row);
        }
        map
    })
}

/// The optional module a keyword comes from, by its name (device detection libraries).
pub fn build_feature(name: &str) -> Option<&'static str> {
    if name.starts_with("wurfl-") {
        Some("WURFL")
    } else if name.starts_with("deviceatlas-") || name.starts_with("da-csv-") {
        Some("DEVICEATLAS")
    } else if name.starts_with("51degrees-") || name.starts_with("51d.") {
        Some("51DEGREES")
    } else {
        None
    }
}

/// Whether the keyword exists in the HAProxy build we check against (its `-vv` features):
/// keywords of modules left out of that build are unknown there, as in HAProxy.
pub fn built_in(name: &str) -> bool {
    static FEATURES: OnceLock<String> = OnceLock::new();
    build_feature(name).is_none_or(|f| {
        crate::cond::has_feature(
            FEATURES.get_or_init(|| crate::cond::BuildInfo::default().features),
            f,
        )
    })
}

/// Whether HAProxy's parser for `section` knows `def`. Proxy sections share one parser, so a
/// proxy keyword is known in all of them; `sections` says where it has an effect, which the
/// placement checks report separately.
fn known_in(def: &DirectiveDef, section: SectionKind) -> bool {
    def.sections.contains(section)
        || (section.is_proxy() && def.sections.0 & Sections::PROXIES.0 != 0)
}

/// Resolves the keyword of a statement in `section` (`words` are the statement's words, after
/// any `no`/`default` prefix).
pub fn directive(section: SectionKind, words: &[&str]) -> DirectiveLookup {
    directive_of(section, words.first().and_then(|w| first_word(w)), words)
}

/// [`directive`] for a caller that has looked the first word up already (`known`, the
/// [`first_word`] of `words[0]`).
pub fn directive_of(
    section: SectionKind,
    known: Option<&FirstWord>,
    words: &[&str],
) -> DirectiveLookup {
    let Some(first) = words.first() else {
        return DirectiveLookup::Unknown { suggestion: None };
    };
    if let Some(second) = words.get(1).filter(|_| known.is_some_and(|w| w.heads_pair)) {
        if let Some(def) = pair_directive(first, second).filter(|d| known_in(d, section)) {
            return DirectiveLookup::Found { def, words: 2 };
        }
    }
    match known.and_then(|w| w.directive) {
        Some(def) if known_in(def, section) => DirectiveLookup::Found { def, words: 1 },
        Some(def) => DirectiveLookup::WrongSection { def },
        None => DirectiveLookup::Unknown {
            suggestion: suggest_directive(section, first),
        },
    }
}

/// The closest single-word directive of `section`.
pub fn suggest_directive(section: SectionKind, word: &str) -> Option<&'static str> {
    if section.is_proxy() {
        return best_match(word, PROXY_SUGGESTIONS);
    }
    best_match(
        word,
        directives_in(section)
            .filter(|d| !d.name.contains(' '))
            .filter(|d| !(section == SectionKind::Global && GLOBAL_UNLISTED.contains(&d.name)))
            .map(|d| d.name),
    )
}

/// Global keywords HAProxy 2.7 reads in its own parser without naming them in the list it
/// picks suggestions from: never suggested.
const GLOBAL_UNLISTED: [&str; 6] = [
    "anonkey",
    "expose-experimental-directives",
    "fd-hard-limit",
    "h2-workaround-bogus-websocket-clients",
    "quick-exit",
    "tune.chksize",
];

/// The words HAProxy 2.7 picks a suggestion from for an unknown keyword of a proxy section,
/// in its order (the first of equally close words wins): the keywords its modules register
/// for proxies, then the list its proxy parser keeps, which names sections and keywords long
/// removed too. A word close to one of those gets no suggestion when that one is too short.
const PROXY_SUGGESTIONS: [&str; 89] = [
    "external-check",
    "use-fcgi-app",
    "filter",
    "compression",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfile",
    "errorfiles",
    "http-error",
    "timeout",
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "rate-limit",
    "max-keep-alive-queue",
    "declare",
    "retry-on",
    "clitcpka-cnt",
    "srvtcpka-cnt",
    "clitcpka-idle",
    "srvtcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-intvl",
    "tcp-request",
    "tcp-response",
    "http-check",
    "tcp-check",
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// Every directive allowed in `section`.
pub fn directives_in(section: SectionKind) -> impl Iterator<Item = &'static DirectiveDef> {
    DIRECTIVES
        .iter()
        .filter(move |d| known_in(d, section) && built_in(d.name))
}

pub fn option(name: &str) -> Option<&'static OptionDef> {
    static CELL: OnceLock<HashMap<&'static str, &'static OptionDef>> = OnceLock::new();
    indexed(&CELL, OPTIONS, |o| o.name).get(name).copied()
}

pub fn suggest_option(name: &str) -> Option<&'static str> {
    best_match(name, OPTIONS.iter().map(|o| o.name))
}

pub fn bind_option(name: &str) -> Option<&'static BindOptionDef> {
    static CELL: OnceLock<HashMap<&'static str, &'static BindOptionDef>> = OnceLock::new();
    indexed(&CELL, BIND_OPTIONS, |o| o.name).get(name).copied()
}

pub fn server_option(name: &str) -> Option<&'static ServerOptionDef> {
    static CELL: OnceLock<HashMap<&'static str, &'static ServerOptionDef>> = OnceLock::new();
    indexed(&CELL, SERVER_OPTIONS, |o| o.name)
        .get(name)
        .copied()
}

/// Which of two opposite flags (`backup`/`no-backup`, `stick`/`non-stick`…) a server's option
/// words end with: `Some(true)` for `on`, `Some(false)` for `off`, `None` for neither. The
/// words are read keyword by keyword (with the registry's value counts), so a value that looks
/// like a flag (`cookie backup`) is not taken for one.
pub fn last_switch(words: &[&str], on: &str, off: &str) -> Option<bool> {
    let mut last = None;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if *w == on {
            last = Some(true);
        } else if *w == off {
            last = Some(false);
        }
        let values = server_option(w).map_or(0, |o| usize::from(o.values));
        i += 1 + values;
    }
    last
}

/// The value of the last `name` option among a server's option words, read keyword by keyword
/// as [`last_switch`] reads them (so a value is never taken for an option).
pub fn last_server_value<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    let mut last = None;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let values = server_option(w).map_or(0, |o| usize::from(o.values));
        if *w == name && values > 0 {
            last = words.get(i + 1).copied();
        }
        i += 1 + values;
    }
    last
}

/// HAProxy's message for a keyword removed before 2.7, with the keyword substituted.
pub fn removed_message(words: &[&str]) -> Option<String> {
    removed_message_of(first_word(words.first()?), words)
}

/// [`removed_message`] for a caller that has looked the first word up already (`known`).
pub fn removed_message_of(known: Option<&FirstWord>, words: &[&str]) -> Option<String> {
    let first = *words.first()?;
    let fmt = known?.removed?;
    // 'monitor-net' quotes its argument, every other message the keyword itself.
    let arg = if first == "monitor-net" {
        words.get(1).copied().unwrap_or("")
    } else {
        first
    };
    Some(fmt.replacen("%s", arg, 1))
}

/// For proxy keywords that act on one side only: `Some(true)` needs a frontend, `Some(false)` a backend.
pub fn needs_frontend(name: &str) -> Option<bool> {
    first_word(name)?.side
}

/// The action `name` of rule set `set`: exact names, prefix families (`track-sc0`,
/// `set-var(txn.x)`) and Lua-registered actions (`lua.<name>`).
pub fn action(set: RuleSet, name: &str) -> Option<&'static ActionDef> {
    // Exact names by one look-up (the first row of a name in a set decides, as a scan would).
    static EXACT: OnceLock<HashMap<(RuleSet, &'static str), &'static ActionDef>> = OnceLock::new();
    let exact = EXACT.get_or_init(|| {
        let mut map = HashMap::with_capacity_and_hasher(ACTIONS.len(), Default::default());
        for a in ACTIONS {
            map.entry((a.set, a.name)).or_insert(a);
        }
        map
    });
    // The map is covariant in its keys: a borrowed name of a shorter lifetime looks it up.
    let exact: &HashMap<(RuleSet, &str), &'static ActionDef> = exact;
    exact.get(&(set, name)).copied().or_else(|| {
        ACTIONS
            .iter()
            .find(|a| a.set == set && a.prefix && name.starts_with(a.name))
    })
}

/// Actions of a rule set, for suggestions and completion.
pub fn actions_of(set: RuleSet) -> impl Iterator<Item = &'static ActionDef> {
    ACTIONS.iter().filter(move |a| a.set == set)
}

/// A fetch by name. `lua.<name>` fetches are registered by Lua scripts and accepted as such.
pub fn fetch(name: &str) -> Option<&'static FetchDef> {
    static CELL: OnceLock<HashMap<&'static str, &'static FetchDef>> = OnceLock::new();
    static LUA: FetchDef = FetchDef {
        name: "lua.*",
        args: ArgSpec {
            types: &[
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
            ],
            mandatory: 0,
        },
        output: SampleType::Any,
        scope: FetchScope::Internal,
        doc: "A fetch registered by a Lua script with core.register_fetches.",
        status: Status::Stable,
    };
    indexed(&CELL, FETCHES, |f| f.name)
        .get(name)
        .copied()
        .filter(|f| built_in(f.name))
        .or_else(|| (name.len() > 4 && name.starts_with("lua.")).then_some(&LUA))
}

/// A converter, including the `map_<match>[_<output>]` families.
pub fn converter(name: &str) -> Option<&'static ConverterDef> {
    static LUA: ConverterDef = ConverterDef {
        name: "lua.*",
        args: ArgSpec {
            types: &[
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
                ArgType::Str,
            ],
            mandatory: 0,
        },
        input: SampleType::Any,
        output: SampleType::Any,
        doc: "A converter registered by a Lua script with core.register_converters.",
        status: Status::Stable,
    };
    if name.len() > 4 && name.starts_with("lua.") {
        return Some(&LUA);
    }
    static CELL: OnceLock<HashMap<&'static str, &'static ConverterDef>> = OnceLock::new();
    indexed(&CELL, CONVERTERS, |c| c.name)
        .get(name)
        .copied()
        .filter(|c| built_in(c.name))
        .or_else(|| {
            let rest = name.strip_prefix("map_")?;
            let (matching, output) = rest.split_once('_').unwrap_or((rest, "str"));
            let known_match = [
                "str", "beg", "sub", "dir", "dom", "end", "reg", "regm", "int", "ip", "len",
                "found",
            ];
            let known_out = ["str", "int", "ip"];
            (known_match.contains(&matching) && known_out.contains(&output))
                .then(|| CONVERTERS.iter().find(|c| c.name == "map"))?
        })
}

pub fn acl_keyword(name: &str) -> Option<&'static AclKeywordDef> {
    static CELL: OnceLock<HashMap<&'static str, &'static AclKeywordDef>> = OnceLock::new();
    indexed(&CELL, ACL_KEYWORDS, |a| a.name).get(name).copied()
}

/// Total number of rows in every table, for the "at least 600 keywords" promise.
pub fn row_count() -> usize {
    DIRECTIVES.len()
        + OPTIONS.len()
        + BIND_OPTIONS.len()
        + SERVER_OPTIONS.len()
        + ACTIONS.len()
        + FETCHES.len()
        + CONVERTERS.len()
        + ACL_KEYWORDS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_large_and_unique() {
        assert!(row_count() >= 600, "only {} rows", row_count());
        let mut names = std::collections::HashSet::new();
        for d in DIRECTIVES {
            assert!(names.insert(d.name), "duplicate directive {}", d.name);
        }
    }

    #[test]
    fn resolves_keywords() {
        assert!(matches!(
            directive(SectionKind::Backend, &["timeout", "server", "5s"]),
            DirectiveLookup::Found { words: 2, .. }
        ));
        assert!(matches!(
            directive(SectionKind::Global, &["maxconn", "10"]),
            DirectiveLookup::Found { words: 1, .. }
        ));
        assert!(matches!(
            directive(SectionKind::Frontend, &["nbthread", "2"]),
            DirectiveLookup::WrongSection { .. }
        ));
        match directive(SectionKind::Defaults, &["http-after-request", "x"]) {
            DirectiveLookup::Unknown { suggestion } => assert_eq!(suggestion, Some("http-request")),
            other => panic!("{other:?}"),
        }
        assert!(action(RuleSet::HttpRequest, "track-sc0").is_some());
        assert!(action(RuleSet::HttpRequest, "set-var(txn.x)").is_some());
        assert!(action(RuleSet::HttpRequest, "frobnicate").is_none());
        assert!(converter("map_beg_int").is_some());
        assert!(converter("host_only").is_some() && converter("table_expire").is_some());
        assert_eq!(bind_option("crt").map(|b| b.values), Some(1));
        assert_eq!(server_option("check").map(|b| b.values), Some(0));
    }
}
