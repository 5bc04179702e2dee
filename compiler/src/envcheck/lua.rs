//! `lua.<name>` actions and services exist only once a loaded script registers them
//! (`core.register_action`, `core.register_service`), which HAProxy runs while it reads the
//! `lua-load` line. Without a loader ([`crate::lua`]) the scripts are scanned for those calls,
//! with the rule sets of each action and the kind of each service when they are written as
//! literals; the checks on what rules name are the loader's ([`super::lua_references`]). A script
//! that registers under a computed name, or cannot be read, turns the check off: the scan cannot
//! know then.

use crate::ir::{Config, FileKind, RuleSet};
use crate::lua::LuaNames;

/// Every `core.<function>("name", <rest>…)` call of a script: its name and the text after the
/// name's comma; `None` when one call's name is not a string literal.
fn calls<'s>(script: &'s str, function: &str) -> Option<Vec<(&'s str, &'s str)>> {
    let mut out = Vec::new();
    for (at, _) in script.match_indices(function) {
        let rest = script[at + function.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue; // a mention, not a call
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let name = rest[1..].split(quote).next()?;
        let after = rest[1 + name.len() + 1..].trim_start();
        out.push((name, after.strip_prefix(',').unwrap_or(after).trim_start()));
    }
    Some(out)
}

/// The quoted words of a literal Lua table at the start of `text` (`{ "http-req", 'tcp-req' }`),
/// or `None` when it is not one.
fn literal_words(text: &str) -> Option<Vec<&str>> {
    let body = text.strip_prefix('{')?.split('}').next()?;
    body.split(',')
        .map(|w| {
            let w = w.trim();
            w.strip_prefix('"')
                .and_then(|w| w.strip_suffix('"'))
                .or_else(|| w.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')))
        })
        .collect()
}

/// What the scripts register, read from their source: action names with the rule sets a
/// literal table gives (all of them when it is not literal), services with their literal kind.
/// `None` when a script registers under a computed name.
pub(super) fn scanned(config: &Config) -> Option<LuaNames> {
    let mut names = LuaNames::default();
    for r in config
        .files
        .iter()
        .filter(|r| r.kind == FileKind::LuaScript)
    {
        // A script that cannot be read registers nothing (its error is reported apart), as
        // HAProxy finds when it then parses the rules naming it.
        let Ok(script) =
            std::fs::read_to_string(super::resolve(r, config.global.default_path.as_deref()))
        else {
            continue;
        };
        for (name, rest) in calls(&script, "register_action")? {
            let sets = match literal_words(rest) {
                Some(kinds) => kinds.into_iter().filter_map(LuaNames::rule_set).collect(),
                None => ["http-req", "http-res", "tcp-req", "tcp-res"]
                    .into_iter()
                    .filter_map(LuaNames::rule_set)
                    .collect(),
            };
            names.extend(LuaNames {
                actions: vec![(name.to_string(), sets)],
                ..LuaNames::default()
            });
        }
        for (name, _) in calls(&script, "register_fetches")? {
            names.fetches.push(name.to_string());
        }
        for (name, _) in calls(&script, "register_converters")? {
            names.converters.push(name.to_string());
        }
        for (name, _) in calls(&script, "register_filter")? {
            names.filters.push(name.to_string());
        }
        for (name, rest) in calls(&script, "register_service")? {
            let http = rest.starts_with("\"http\"") || rest.starts_with("'http'");
            names.services.push((name.to_string(), http));
        }
    }
    Some(names)
}

/// Whether a rule names a script's action or service, which only a loaded script can provide.
pub(super) fn uses_lua(config: &Config) -> bool {
    config.proxies.iter().any(|p| {
        p.rules.iter().any(|r| {
            !matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck)
                && (r.action.value.starts_with("lua.")
                    || (r.action.value == "use-service"
                        && r.args.first().is_some_and(|a| a.value.starts_with("lua."))))
        }) || p.filters.iter().any(|f| f.value.starts_with("lua."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compile;
    use crate::ir::CheckOptions;
    use crate::source::SourceDb;

    #[test]
    fn unregistered_lua_actions_and_services_are_errors() {
        let dir = std::env::temp_dir().join(format!("hapee-lua-reg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("hello.lua");
        std::fs::write(
            &script,
            "core.register_action(\"hello\", { \"http-req\" }, function(txn) end)\n\
             core.register_service(\"svc\", \"http\", function(applet) end)\n",
        )
        .unwrap();
        let text = format!(
            "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:18001\n    http-request lua.hello\n    http-request lua.bye\n\
             \x20   http-request use-service lua.svc if {{ path /a }}\n    http-request use-service lua.nosvc if {{ path /x }}\n\
             \x20   http-response lua.hello\n    tcp-request content use-service lua.svc\n\
             \x20   default_backend b\nbackend b\n    server s 127.0.0.1:1\n",
            script.display()
        );
        let mut db = SourceDb::new();
        db.add("lua.cfg", text.as_str());
        let c = compile(db, &crate::syntax::ProcessEnv, &CheckOptions::default());
        let found: Vec<(&str, String)> = c
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, d.message.to_string()))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].0, "E108");
        assert!(found[0]
            .1
            .ends_with(", 'lua.hello', but got 'lua.bye'. Did you mean 'lua.hello' maybe ?"));
        assert_eq!(found[1].0, "E232");
        assert!(
            found[1].1.contains("'lua.nosvc' unknown service name.."),
            "{found:?}"
        );
        // An action registered for requests only is unknown to response rules.
        assert_eq!(found[2].0, "E108");
        assert!(
            found[2].1.starts_with("'http-response' expects ")
                && found[2].1.ends_with("but got 'lua.hello'.")
        );
        assert_eq!(found[3].0, "E267");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_script_filter_is_known_only_once_registered() {
        let dir = std::env::temp_dir().join(format!("hapee-lua-flt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("flt.lua");
        std::fs::write(
            &script,
            "local Obs = {}\ncore.register_filter(\"obs\", Obs, function(f, args) return f end)\n",
        )
        .unwrap();
        let text = format!(
            "global\n    lua-load {}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:18001\n    filter lua.obs\n    filter lua.nope\n    default_backend b\n\
             backend b\n    server s 127.0.0.1:1\n",
            script.display()
        );
        let mut db = SourceDb::new();
        db.add("flt.cfg", text.as_str());
        let c = compile(db, &crate::syntax::ProcessEnv, &CheckOptions::default());
        let found: Vec<String> = c
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        assert_eq!(
            found,
            ["E234 'filter' : unknown keyword 'lua.nope'. Registered keywords :"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn literal_names_are_found_and_computed_ones_stop_the_scan() {
        let script = "core.register_action(\"hello\", {\"http-req\"}, f)\n\
                      core.register_action( 'bye' , {'tcp-req', \"http-res\"}, g)\n\
                      -- register_action is documented in …\n";
        let found = calls(script, "register_action").unwrap();
        assert_eq!(
            found.iter().map(|c| c.0).collect::<Vec<_>>(),
            ["hello", "bye"]
        );
        assert_eq!(literal_words(found[1].1).unwrap(), ["tcp-req", "http-res"]);
        assert!(calls("core.register_service(name, 'http', f)", "register_service").is_none());
    }
}
