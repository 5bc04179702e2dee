//! Where a backend's servers take their state from when the process starts (after a reload):
//! `server-state-file` and `server-state-base` in the global section, and
//! `load-server-state-from-file` and `server-state-file-name` in a backend (or its defaults).

use crate::ir::DirectiveLine;
use serde::Serialize;

/// The file a backend loads its servers' state from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum StateSource {
    /// `load-server-state-from-file global`: the global `server-state-file`, when one is set
    /// (lines are matched by backend name).
    Global(Option<String>),
    /// `load-server-state-from-file local`: a file of the backend's own (lines must name the
    /// backend, by name or by a forced id).
    Local(String),
}

/// The last value of `keyword` in `lines` (`None` when absent); an empty value stays empty.
fn last_value(lines: &[DirectiveLine], keyword: &str) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|d| d.keyword == keyword && d.prefix.is_none())
        .map(|d| d.args.first().map(|a| a.to_string()).unwrap_or_default())
}

/// The global `server-state-file` under `server-state-base`, if one is set.
pub fn global_file(global: &[DirectiveLine]) -> Option<String> {
    let base = last_value(global, "server-state-base");
    last_value(global, "server-state-file")
        .filter(|f| !f.is_empty())
        .map(|f| under_base(base.as_deref(), &f))
}

/// `name` under `server-state-base`, unless it is absolute or no base is set.
fn under_base(base: Option<&str>, name: &str) -> String {
    match base {
        Some(base) if !name.starts_with('/') && !base.is_empty() => {
            let sep = if base.ends_with('/') { "" } else { "/" };
            format!("{base}{sep}{name}")
        }
        _ => name.to_string(),
    }
}

/// The state source of the backend `name` whose statements (defaults first) are `proxy`,
/// under the global statements `global`. `None`: the backend loads no state.
pub fn source(
    global: &[DirectiveLine],
    proxy: &[DirectiveLine],
    name: &str,
) -> Option<StateSource> {
    let base = last_value(global, "server-state-base");
    match last_value(proxy, "load-server-state-from-file")?.as_str() {
        "global" => Some(StateSource::Global(global_file(global))),
        "local" => {
            let file = last_value(proxy, "server-state-file-name")
                .filter(|f| !f.is_empty() && f != "use-backend-name")
                .unwrap_or_else(|| name.to_string());
            Some(StateSource::Local(under_base(base.as_deref(), &file)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::directive_line as line;

    #[test]
    fn global_and_local_files_resolve_under_the_base() {
        let global = [
            line("server-state-base /var/lib/haproxy"),
            line("server-state-file state"),
        ];
        let from = |s: &str| vec![line(&format!("load-server-state-from-file {s}"))];
        assert_eq!(
            source(&global, &from("global"), "be"),
            Some(StateSource::Global(Some("/var/lib/haproxy/state".into())))
        );
        assert_eq!(
            source(&global, &from("local"), "be"),
            Some(StateSource::Local("/var/lib/haproxy/be".into()))
        );
        let mut named = from("local");
        named.push(line("server-state-file-name /tmp/other"));
        assert_eq!(
            source(&global, &named, "be"),
            Some(StateSource::Local("/tmp/other".into()))
        );
        assert_eq!(source(&global, &from("none"), "be"), None);
        assert_eq!(source(&global, &[], "be"), None);
        assert_eq!(
            source(&[], &from("global"), "be"),
            Some(StateSource::Global(None))
        );
    }
}
