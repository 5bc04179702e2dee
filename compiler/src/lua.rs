//! Lua scripts as the checker sees them, without a Lua of its own: the program that embeds the
//! compiler (`hapee-lb`, with the `hapee-lua` crate) installs a [`ScriptLoader`], which loads a
//! script as HAProxy does while it parses `lua-load` (compiling and running its top level)
//! and tells what the script registered. Without one (the LSP), scripts are only required to
//! exist, and every `lua.<name>` is taken on trust.

use crate::registry::RuleSet;
use std::path::Path;
use std::sync::OnceLock;

/// The names a script registered with `core.register_*`.
#[derive(Clone, Debug, Default)]
pub struct LuaNames {
    /// Actions, in registration order, each with the rule sets it was registered for.
    pub actions: Vec<(String, Vec<RuleSet>)>,
    pub fetches: Vec<String>,
    pub converters: Vec<String>,
    /// Services, and whether each is an HTTP one (else TCP).
    pub services: Vec<(String, bool)>,
    /// Filters (`core.register_filter`): each makes a `filter lua.<name>` keyword.
    pub filters: Vec<String>,
}

impl LuaNames {
    pub fn extend(&mut self, other: LuaNames) {
        for (name, sets) in other.actions {
            match self.actions.iter_mut().find(|(n, _)| *n == name) {
                Some((_, known)) => known.extend(sets),
                None => self.actions.push((name, sets)),
            }
        }
        self.fetches.extend(other.fetches);
        self.converters.extend(other.converters);
        self.services.extend(other.services);
        self.filters.extend(other.filters);
    }

    /// The `lua.<name>` actions a rule of `set` may use: HAProxy adds a script's action to the
    /// rule sets named in its registration only.
    pub fn actions_for(&self, set: RuleSet) -> Vec<String> {
        self.actions
            .iter()
            .filter(|(_, sets)| sets.contains(&set))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The rule set of each action type a script registers an action for (`"http-req"`, …):
    /// `tcp-req` and `tcp-res` are the `content` rule sets.
    pub fn rule_set(kind: &str) -> Option<RuleSet> {
        Some(match kind {
            "http-req" => RuleSet::HttpRequest,
            "http-res" => RuleSet::HttpResponse,
            "tcp-req" => RuleSet::TcpRequestContent,
            "tcp-res" => RuleSet::TcpResponseContent,
            _ => return None,
        })
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

/// The `lua.<name>` fetches and converters of one build: HAProxy looks each up while it parses
/// the expression, once the `lua-load` lines above have run.
#[derive(Default)]
struct SampleNames {
    /// What the scripts registered (fetches, converters); `None` takes every name on trust.
    registered: Option<(Vec<String>, Vec<String>)>,
    /// The names met (converter or not, name), while [`collecting`].
    seen: Option<Vec<(bool, String)>>,
}

thread_local! {
    static SAMPLES: std::cell::RefCell<SampleNames> = std::cell::RefCell::new(SampleNames::default());
}

/// Whether the sample fetch (or converter) `lua.<name>` exists for the build under way: always,
/// unless [`with_registered`] gave the scripts' registrations.
pub(crate) fn sample_known(name: &str, converter: bool) -> bool {
    SAMPLES.with(|s| {
        let s = &mut *s.borrow_mut();
        if let Some(seen) = &mut s.seen {
            seen.push((converter, name.to_string()));
        }
        match &s.registered {
            None => true,
            Some((fetches, converters)) => {
                let list = if converter { converters } else { fetches };
                list.iter().any(|n| n == name)
            }
        }
    })
}

/// Runs `f` (a build) and returns the `lua.<name>` fetches and converters (with whether each is
/// a converter) it met.
pub(crate) fn collecting<R>(f: impl FnOnce() -> R) -> (R, Vec<(bool, String)>) {
    SAMPLES.with(|s| s.borrow_mut().seen = Some(Vec::new()));
    let out = f();
    let seen = SAMPLES.with(|s| s.borrow_mut().seen.take().unwrap_or_default());
    (out, seen)
}

/// The lookup state of the build under way, handed to the helper threads of a parallel build
/// (the state is per thread, and a body built on a helper thread must see the same names).
#[derive(Clone)]
pub(crate) struct SampleScope {
    registered: Option<(Vec<String>, Vec<String>)>,
    collecting: bool,
}

/// The calling thread's lookup state, for [`within`] on other threads.
pub(crate) fn scope() -> SampleScope {
    SAMPLES.with(|s| {
        let s = s.borrow();
        SampleScope {
            registered: s.registered.clone(),
            collecting: s.seen.is_some(),
        }
    })
}

/// Runs `f` on a helper thread under `scope`; returns the names it met, for [`record_seen`] on
/// the thread that started the build.
pub(crate) fn within<R>(scope: &SampleScope, f: impl FnOnce() -> R) -> (R, Vec<(bool, String)>) {
    SAMPLES.with(|s| {
        let mut s = s.borrow_mut();
        s.registered = scope.registered.clone();
        s.seen = scope.collecting.then(Vec::new);
    });
    let out = f();
    let seen = SAMPLES.with(|s| {
        let mut s = s.borrow_mut();
        s.registered = None;
        s.seen.take().unwrap_or_default()
    });
    (out, seen)
}

/// Adds names met on helper threads to the calling thread's [`collecting`].
pub(crate) fn record_seen(names: Vec<(bool, String)>) {
    SAMPLES.with(|s| {
        if let Some(seen) = &mut s.borrow_mut().seen {
            seen.extend(names);
        }
    });
}

/// Runs `f` (a build) with the scripts' registrations in force, so that a `lua.<name>` fetch or
/// converter they lack is an unknown keyword, with HAProxy's message for one.
pub(crate) fn with_registered<R>(names: &LuaNames, f: impl FnOnce() -> R) -> R {
    SAMPLES.with(|s| {
        s.borrow_mut().registered = Some((names.fetches.clone(), names.converters.clone()))
    });
    let out = f();
    SAMPLES.with(|s| s.borrow_mut().registered = None);
    out
}

impl LuaNames {
    /// Whether one of the `seen` fetches or converters (from [`collecting`]) was not registered.
    pub(crate) fn lacks_any(&self, seen: &[(bool, String)]) -> bool {
        seen.iter().any(|(converter, name)| {
            let list = if *converter {
                &self.converters
            } else {
                &self.fetches
            };
            !list.contains(name)
        })
    }
}
