//! The variable names the process knows: those its configuration uses (`var()`, `set-var`,
//! `unset-var`) and those set since. HAProxy keeps such a list; `set_var(name, value, true)`
//! (`ifexist`) sets only a variable whose name is in it.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::RwLock;

static DECLARED: RwLock<Option<HashSet<String>>> = RwLock::new(None);

thread_local! {
    /// The name this thread declared last: a script sets the same variable call after call,
    /// and names are never removed, so that one needs neither the lock nor a hash.
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Adds `name` to the known names.
pub fn declare(name: &str) {
    if LAST.with_borrow(|last| last == name) {
        return;
    }
    if !is_declared(name) {
        let mut names = DECLARED.write().unwrap_or_else(|e| e.into_inner());
        names
            .get_or_insert_with(HashSet::new)
            .insert(name.to_string());
    }
    LAST.with_borrow_mut(|last| {
        last.clear();
        last.push_str(name);
    });
}

pub fn is_declared(name: &str) -> bool {
    DECLARED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|n| n.contains(name))
}

/// Declares every scoped variable name (`txn.x`, `req.y` …) written in `text`, the
/// configuration in any form that keeps its expressions' text.
pub fn declare_all_in(text: &str) {
    for name in hapee_runtime::vars::names_in(text, &["proc.", "sess.", "txn.", "req.", "res."]) {
        declare(name);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_found_in_expressions() {
        super::declare_all_in("deny if ! { var(txn.auth_ok) -m bool } set-var(req.company) str(x)");
        assert!(super::is_declared("txn.auth_ok"));
        assert!(super::is_declared("req.company"));
        assert!(!super::is_declared("txn.other"));
    }
}
