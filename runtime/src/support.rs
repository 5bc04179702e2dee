//! What the runtime implements lives in the compiler's registry, the one table of keywords.

pub use hapee_compiler::registry::support::*;
