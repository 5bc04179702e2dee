//! Wires the Lua engine (crate `hapee-lua`) to the runtime: the runtime knows only its script
//! hooks, so that it builds without Lua.

use hapee_compiler::plan::Plan;
use std::sync::Arc;

/// The scripts of `plan` loaded, or `None` when it loads none.
pub fn engine(plan: &Plan) -> Result<Option<Arc<dyn hapee_runtime::script::Engine>>, Vec<String>> {
    if plan.global.lua.loads.is_empty() {
        return Ok(None);
    }
    let loggers = plan
        .global
        .logs
        .iter()
        .filter_map(|t| hapee_runtime::log::Sink::open(t, &plan.global.log_tag).ok())
        .map(Arc::new)
        .collect();
    let threads = plan.global.nbthread.max(1) as usize;
    let engine = hapee_lua::LuaEngine::load(&plan.global.lua, threads, loggers)?;
    let [actions, _, _, services] = engine.names();
    let mut unknown = Vec::new();
    let rules = plan
        .frontends
        .iter()
        .flat_map(|f| f.rules.iter())
        .chain(plan.backends.iter().flat_map(|b| b.rules.iter()));
    for rule in rules {
        let (list, name, what) = match rule.action.strip_prefix("lua.") {
            Some(name) => (&actions, name, "action"),
            None if rule.action == "use-service" => match rule.args.first() {
                Some(s) if s.starts_with("lua.") => (&services, &s["lua.".len()..], "service"),
                _ => continue,
            },
            None => continue,
        };
        if !list.iter().any(|a| a == name) {
            unknown.push(format!("no Lua script registered the {what} 'lua.{name}'"));
        }
    }
    if !unknown.is_empty() {
        return Err(unknown);
    }
    // `set_var(…, ifexist)` needs the variable names the configuration uses: they are in the
    // text of its rules and expressions.
    if let Ok(text) = serde_json::to_string(plan) {
        hapee_lua::vars::declare_all_in(&text);
    }
    Ok(Some(Arc::new(engine)))
}
