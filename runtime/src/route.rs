//! Backend selection (`use_backend`, `default_backend`, a listen section's own backend).

use crate::state::{FrontendRt, Shared};
use crate::txn::Txn;

/// The backend for this transaction: the first `use_backend` whose condition holds, else the
/// default. A dynamic name that matches no backend ends the search there: the default backend
/// takes the request and no later rule is tried, as HAProxy does.
pub fn choose_backend(shared: &Shared, fe: &FrontendRt, txn: &Txn) -> Option<usize> {
    choose_backend_observed(shared, fe, txn, &mut |_| {})
}

/// One `use_backend` rule tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchTried {
    pub index: usize,
    pub matched: bool,
    /// What a dynamic rule's name rendered to (the default backend takes the request when no
    /// backend has it).
    pub rendered: Option<String>,
    /// The backend the rule chose.
    pub chose: Option<usize>,
}

/// [`choose_backend`], telling `observe` about each `use_backend` rule it tries.
pub fn choose_backend_observed(
    shared: &Shared,
    fe: &FrontendRt,
    txn: &Txn,
    observe: &mut dyn FnMut(SwitchTried),
) -> Option<usize> {
    let before = txn.fetch_at(hapee_compiler::registry::capabilities::at::FE_SET_BCK);
    let chosen = switch(shared, fe, txn, observe);
    txn.fetch_at(before);
    chosen
}

fn switch(
    shared: &Shared,
    fe: &FrontendRt,
    txn: &Txn,
    observe: &mut dyn FnMut(SwitchTried),
) -> Option<usize> {
    for (index, s) in fe.switches.iter().enumerate() {
        let matched = s.condition.holds(txn);
        let mut tried = SwitchTried {
            index,
            matched,
            rendered: None,
            chose: None,
        };
        if matched {
            match (&s.dynamic, s.backend) {
                (Some(f), _) => {
                    let name = f.render(txn);
                    tried.chose = shared.backend_index.get(&name).copied();
                    tried.rendered = Some(name);
                }
                (None, chosen) => tried.chose = chosen,
            }
        }
        let chose = tried.chose;
        observe(tried);
        if chose.is_some() {
            return chose;
        }
        if matched && s.dynamic.is_some() {
            break;
        }
    }
    fe.default_backend.or(fe.own_backend)
}

/// Whether `backend` is the frontend's own half of a listen section (its rules already ran).
pub fn is_own_backend(_shared: &Shared, fe: &FrontendRt, backend: usize) -> bool {
    fe.own_backend == Some(backend)
}
