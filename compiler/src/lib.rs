//! hapee's HAProxy 2.7 configuration compiler.
//!
//! Pipeline: [`source`] files → [`lexer`] words → lossless [`syntax`] tree (with `.if` blocks
//! evaluated) → typed IR with HAProxy's checks → [`plan`] for the runtime. Every stage reports
//! [`diagnostic::Diagnostic`]s instead of failing; nothing here panics on input or does network I/O.

pub mod address;
pub mod arglist;
pub mod bytestr;
pub mod check;
pub mod cnum;
pub mod codes;
pub mod cond;
pub mod diagnostic;
pub mod docs;
pub mod env_changes;
pub mod envcheck;
pub mod expr;
pub mod fmt;
pub mod incremental;
pub mod ir;
pub mod lexer;
pub mod lint;
pub mod lua;
pub mod pcre;
pub mod plan;
mod prelex;
pub mod refusals;
pub mod registry;
pub mod render;
mod reparse;
pub mod source;
pub mod spoe;
pub mod syntax;
#[doc(hidden)]
pub mod testkit;
pub mod timing;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceDb, Span};

/// The CPUs this process may run on, read once: the parallel parse and build ask on every
/// compilation, and the answer costs a few cgroup file reads (the language server compiles
/// on every edit).
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
