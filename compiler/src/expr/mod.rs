//! The sub-languages inside directives: `if`/`unless` conditions (a lalrpop grammar), sample
//! expressions (`fetch,converter(args)`), and log-format strings (`%ci %{+Q}r %[expr]`).

pub mod condition;
pub mod crypto;
pub mod logformat;
pub mod sample;
pub mod vars;
