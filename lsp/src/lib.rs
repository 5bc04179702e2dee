//! The hapee language server.
