//! The hapee proxy runtime.
