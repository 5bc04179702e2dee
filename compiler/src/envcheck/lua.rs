//! `lua.<name>` actions and services exist only once a loaded script registers them
//! (`core.register_action`, `core.register_service`), which HAProxy runs while it reads the
//! `lua-load` line. The scripts are scanned for those calls; a rule naming something no script
//! registers gets HAProxy's unknown action or service error. A script that registers under a
//! computed name, or cannot be read, turns the check off: the scan cannot know then.

use crate::diagnostic::Diagnostic;
use crate::ir::{Config, FileKind, RuleSet};
use rustc_hash::FxHashSet;

/// The names a script registers with `core.<function>("name", …)`; `None` when one call's name
/// is not a string literal.
fn registered(script: &str, function: &str, into: &mut FxHashSet<String>) -> Option<()> {
    for (at, _) in script.match_indices(function) {
        let rest = script[at + function.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue; // a mention, not a call
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let name = rest[1..].split(quote).next()?;
        into.insert(name.to_string());
    }
    Some(())
}

pub(super) fn registrations(config: &Config) -> Vec<Diagnostic> {
    let uses_lua = config.proxies.iter().any(|p| {
        p.rules.iter().any(|r| {
            r.action.value.starts_with("lua.")
                || (r.action.value == "use-service"
                    && r.args.first().is_some_and(|a| a.value.starts_with("lua.")))
        })
    });
    if !uses_lua {
        return Vec::new();
    }
    let mut actions = FxHashSet::default();
    let mut services = FxHashSet::default();
    for r in config
        .files
        .iter()
        .filter(|r| r.kind == FileKind::LuaScript)
    {
        let Ok(script) = std::fs::read_to_string(super::resolve(r)) else {
            return Vec::new();
        };
        if registered(&script, "register_action", &mut actions).is_none()
            || registered(&script, "register_service", &mut services).is_none()
        {
            return Vec::new();
        }
    }
    let mut scripted: Vec<String> = actions.iter().map(|a| format!("lua.{a}")).collect();
    scripted.sort();
    let mut out = Vec::new();
    for p in &config.proxies {
        for r in &p.rules {
            if matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck) {
                continue;
            }
            if let Some(name) = r.action.value.strip_prefix("lua.") {
                if !actions.contains(name) {
                    out.push(crate::ir::unknown_action(
                        r.set,
                        &r.action.value,
                        r.action.span,
                        &scripted,
                    ));
                }
            } else if r.action.value == "use-service" {
                let Some(service) = r.args.first() else {
                    continue;
                };
                let known = service
                    .value
                    .strip_prefix("lua.")
                    .is_none_or(|n| services.contains(n));
                if !known {
                    out.push(crate::ir::unknown_service(
                        p.kind.type_str(),
                        p.name_str(),
                        r.set.keyword(),
                        &format!("'{}' unknown service name.", service.value),
                        service.span,
                    ));
                }
            }
        }
    }
    out
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
             \x20   default_backend b\nbackend b\n    server s 127.0.0.1:1\n",
            script.display()
        );
        let mut db = SourceDb::new();
        db.add("lua.cfg", text.as_str());
        let c = compile(db, &crate::syntax::ProcessEnv, &CheckOptions::default());
        let found: Vec<(&str, String)> = c
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.to_string()))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "E108");
        assert!(found[0]
            .1
            .ends_with(", 'lua.hello', but got 'lua.bye'. Did you mean 'lua.hello' maybe ?"));
        assert_eq!(found[1].0, "E232");
        assert!(
            found[1].1.contains("'lua.nosvc' unknown service name.."),
            "{found:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn literal_names_are_found_and_computed_ones_stop_the_scan() {
        let mut names = FxHashSet::default();
        let script = "core.register_action(\"hello\", {\"http-req\"}, f)\n\
                      core.register_action( 'bye' , {'tcp-req'}, g)\n\
                      -- register_action is documented in …\n";
        assert!(registered(script, "register_action", &mut names).is_some());
        assert!(names.contains("hello") && names.contains("bye"));
        let mut names = FxHashSet::default();
        assert!(registered(
            "core.register_service(name, 'http', f)",
            "register_service",
            &mut names
        )
        .is_none());
    }
}
