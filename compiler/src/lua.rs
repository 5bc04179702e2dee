//! Lua scripts as the checker sees them, without a Lua of its own: the program that embeds the
//! compiler (`hapee-lb`, with the `hapee-lua` crate) installs a [`ScriptLoader`], which loads a
//! script as HAProxy does while it parses `lua-load` (compiling and running its top level)
//! and tells what the script registered. Without one (the LSP), scripts are only required to
//! exist, and every `lua.<name>` is taken on trust.

use std::path::Path;
use std::sync::OnceLock;

/// The names a script registered with `core.register_*`.
#[derive(Clone, Debug, Default)]
pub struct LuaNames {
    pub actions: Vec<String>,
    pub fetches: Vec<String>,
    pub converters: Vec<String>,
    pub services: Vec<String>,
}

impl LuaNames {
    pub fn extend(&mut self, other: LuaNames) {
        self.actions.extend(other.actions);
        self.fetches.extend(other.fetches);
        self.converters.extend(other.converters);
        self.services.extend(other.services);
    }
}

/// Loads scripts for the checker.
pub trait ScriptLoader: Send + Sync {
    /// Loads `file` with the `lua-load` line's `args`: what it registered, or HAProxy's message
    /// (`error in Lua file '…': …` for a file that does not compile, `Lua runtime error: …`
    /// for one that fails as it runs).
    fn load(&self, file: &Path, args: &[String]) -> Result<LuaNames, String>;
}

static LOADER: OnceLock<Box<dyn ScriptLoader>> = OnceLock::new();

/// Installs the loader, once per process; later calls are ignored.
pub fn set_loader(loader: Box<dyn ScriptLoader>) {
    let _ = LOADER.set(loader);
}

pub fn loader() -> Option<&'static dyn ScriptLoader> {
    LOADER.get().map(|l| l.as_ref())
}
