//! The environment as the configuration changes it while it is read. HAProxy runs `setenv`,
//! `presetenv`, `unsetenv` and `resetenv` of the global section as each line is parsed, so a
//! later `"${NAME}"`, an address's `$NAME` or an `.if defined(NAME)` sees the change. The
//! compiler never touches the process environment: it keeps the changes beside the
//! environment it was given and reads through them.

use crate::syntax::Environment;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The changes the lines read so far made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvChanges {
    /// Variables set (`Some`) or removed (`None`).
    changed: BTreeMap<String, Option<String>>,
    /// After a `resetenv`: the only variables of the underlying environment still there.
    kept: Option<BTreeSet<String>>,
}

/// Whether `keyword` is one of the global keywords that change the environment.
pub fn is_env_keyword(keyword: &str) -> bool {
    matches!(keyword, "setenv" | "presetenv" | "unsetenv" | "resetenv")
}

impl EnvChanges {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.kept.is_none()
    }

    /// `name` in `base` as changed.
    pub fn var(&self, base: &dyn Environment, name: &str) -> Option<String> {
        match self.changed.get(name) {
            Some(value) => value.clone(),
            None if self.kept.as_ref().is_some_and(|k| !k.contains(name)) => None,
            None => base.var(name),
        }
    }

    /// Applies one line `keyword args…`, as HAProxy does once the line is accepted: `setenv`
    /// and `presetenv` need a name and a value, `presetenv` leaves a variable already there.
    pub fn apply(&mut self, base: &dyn Environment, keyword: &str, args: &[&str]) {
        match (keyword, args) {
            ("setenv", [name, value, ..]) => {
                self.changed
                    .insert(name.to_string(), Some(value.to_string()));
            }
            ("presetenv", [name, value, ..]) if self.var(base, name).is_none() => {
                self.changed
                    .insert(name.to_string(), Some(value.to_string()));
            }
            ("unsetenv", names) => {
                for name in names {
                    self.changed.insert(name.to_string(), None);
                }
            }
            ("resetenv", keep) => {
                let keep: BTreeSet<String> = keep.iter().map(|n| n.to_string()).collect();
                self.changed.retain(|name, _| keep.contains(name));
                self.kept = Some(match self.kept.take() {
                    Some(before) => before.intersection(&keep).cloned().collect(),
                    None => keep,
                });
            }
            _ => {}
        }
    }
}

/// An environment seen through a fixed set of changes (the IR reads addresses with it).
pub struct Changed<'a> {
    pub base: &'a dyn Environment,
    pub changes: &'a EnvChanges,
}

impl Environment for Changed<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.changes.var(self.base, name)
    }
}

/// The environment of a parse: the changes grow as the global section's lines are read.
pub(crate) struct Reading<'a> {
    base: &'a dyn Environment,
    changes: Mutex<EnvChanges>,
}

impl<'a> Reading<'a> {
    pub(crate) fn new(base: &'a dyn Environment) -> Self {
        Reading {
            base,
            changes: Mutex::new(EnvChanges::default()),
        }
    }

    pub(crate) fn into_changes(self) -> EnvChanges {
        self.changes.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Environment for Reading<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        changes.var(self.base, name)
    }

    fn change(&self, keyword: &str, args: &[&str]) {
        let mut changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        changes.apply(self.base, keyword, args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::MapEnv;

    #[test]
    fn changes_apply_in_order_over_the_environment() {
        let base = MapEnv(
            [("HOME", "/root"), ("PATH", "/bin"), ("KEPT", "k")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let mut c = EnvChanges::default();
        assert!(c.is_empty());
        c.apply(&base, "setenv", &["A", "1"]);
        c.apply(&base, "presetenv", &["A", "2"]);
        c.apply(&base, "presetenv", &["HOME", "/home"]);
        c.apply(&base, "presetenv", &["B", "2"]);
        c.apply(&base, "unsetenv", &["PATH", "NONE"]);
        assert_eq!(c.var(&base, "A").as_deref(), Some("1"));
        assert_eq!(c.var(&base, "B").as_deref(), Some("2"));
        assert_eq!(c.var(&base, "HOME").as_deref(), Some("/root"));
        assert_eq!(c.var(&base, "PATH"), None);
        c.apply(&base, "resetenv", &["A", "KEPT"]);
        assert_eq!(c.var(&base, "A").as_deref(), Some("1"));
        assert_eq!(c.var(&base, "KEPT").as_deref(), Some("k"));
        assert_eq!(c.var(&base, "B"), None);
        assert_eq!(c.var(&base, "HOME"), None);
        c.apply(&base, "setenv", &["HOME", "/again"]);
        assert_eq!(c.var(&base, "HOME").as_deref(), Some("/again"));
        c.apply(&base, "resetenv", &[]);
        assert_eq!(c.var(&base, "KEPT"), None);
        assert_eq!(c.var(&base, "HOME"), None);
    }
}
