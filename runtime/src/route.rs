//! Backend selection (`use_backend`, `default_backend`, a listen section's own backend).

use crate::state::{FrontendRt, Shared};
use crate::txn::Txn;

/// The backend for this transaction: the first `use_backend` whose condition holds (a dynamic
/// name that matches no backend falls through), else the default.
pub fn choose_backend(shared: &Shared, fe: &FrontendRt, txn: &Txn) -> Option<usize> {
    let before = txn.fetch_at(hapee_compiler::registry::capabilities::at::FE_SET_BCK);
    let chosen = switch(shared, fe, txn);
    txn.fetch_at(before);
    chosen
}

fn switch(shared: &Shared, fe: &FrontendRt, txn: &Txn) -> Option<usize> {
    for s in &fe.switches {
        if !s.condition.holds(txn) {
            continue;
        }
        match (&s.dynamic, s.backend) {
            (Some(f), _) => {
                if let Some(&i) = shared.backend_index.get(&f.render(txn)) {
                    return Some(i);
                }
            }
            (None, Some(i)) => return Some(i),
            (None, None) => {}
        }
    }
    fe.default_backend.or(fe.own_backend)
}

/// Whether `backend` is the frontend's own half of a listen section (its rules already ran).
pub fn is_own_backend(_shared: &Shared, fe: &FrontendRt, backend: usize) -> bool {
    fe.own_backend == Some(backend)
}
