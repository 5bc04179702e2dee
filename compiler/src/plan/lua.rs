//! The Lua part of the plan: the scripts to load (`lua-load`, `lua-load-per-thread`), the module
//! paths to prepend (`lua-prepend-path`) and the `tune.lua.*` limits, read from the global
//! section's statements.

use crate::ir::values::{parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct LuaLoad {
    pub file: String,
    pub args: Vec<String>,
    /// `lua-load-per-thread`: one state per thread instead of the shared one.
    pub per_thread: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LuaPlan {
    /// In configuration order.
    pub loads: Vec<LuaLoad>,
    /// `lua-prepend-path <path> [path|cpath]`, in order: (pattern, is `cpath`).
    pub prepend_path: Vec<(String, bool)>,
    /// Instructions between two forced yields (`tune.lua.forced-yield`).
    pub forced_yield: u32,
    /// Bytes a state may allocate, 0: no limit (`tune.lua.maxmem`, given in megabytes).
    pub maxmem: u64,
    /// Run-time limits in milliseconds of actions, fetches and converters, of tasks, and of
    /// services; `None`: no limit.
    pub session_timeout: Option<u32>,
    pub task_timeout: Option<u32>,
    pub service_timeout: Option<u32>,
    /// `tune.lua.log.loggers`: script logs go to the proxy's loggers.
    pub log_loggers: bool,
    /// `tune.lua.log.stderr`: `on`, `off` or `auto` (on when the proxy has no logger).
    pub log_stderr: String,
}

impl Default for LuaPlan {
    fn default() -> Self {
        LuaPlan {
            loads: Vec::new(),
            prepend_path: Vec::new(),
            forced_yield: 10_000,
            maxmem: 0,
            session_timeout: Some(4000),
            task_timeout: None,
            service_timeout: Some(4000),
            log_loggers: true,
            log_stderr: "auto".into(),
        }
    }
}

fn ms(text: &str) -> Option<u32> {
    parse_time(text, TimeUnit::Ms).ok().map(|d| d.value)
}

/// Reads the Lua statements of the global section.
pub fn plan(directives: &[DirectiveLine]) -> LuaPlan {
    let mut p = LuaPlan::default();
    for d in directives.iter().filter(|d| d.prefix.is_none()) {
        let arg = |i: usize| d.args.get(i).map_or("", |a| a.as_str());
        match d.keyword.as_str() {
            kw @ ("lua-load" | "lua-load-per-thread") if !arg(0).is_empty() => {
                p.loads.push(LuaLoad {
                    file: arg(0).to_string(),
                    args: d.args[1..].iter().map(|a| a.to_string()).collect(),
                    per_thread: kw == "lua-load-per-thread",
                })
            }
            "lua-prepend-path" if !arg(0).is_empty() => {
                p.prepend_path.push((arg(0).to_string(), arg(1) == "cpath"))
            }
            "tune.lua.forced-yield" => {
                p.forced_yield = arg(0).parse().unwrap_or(p.forced_yield).max(1)
            }
            "tune.lua.maxmem" => p.maxmem = arg(0).parse::<u64>().unwrap_or(0) << 20,
            "tune.lua.session-timeout" => p.session_timeout = ms(arg(0)),
            "tune.lua.task-timeout" => p.task_timeout = ms(arg(0)),
            "tune.lua.service-timeout" => p.service_timeout = ms(arg(0)),
            "tune.lua.log.loggers" => p.log_loggers = arg(0) != "off",
            "tune.lua.log.stderr" => p.log_stderr = arg(0).to_string(),
            _ => {}
        }
    }
    p
}
