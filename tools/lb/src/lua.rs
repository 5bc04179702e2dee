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
    Ok(Some(Arc::new(engine)))
}
