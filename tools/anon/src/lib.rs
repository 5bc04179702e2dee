//! Keyed anonymizer for HAProxy configurations and logs.
//!
//! [`hash`] holds HAProxy 2.7's keyed hashing (XXH32 seeded with the key, low 24 bits) and its
//! address rules; [`dump`] reproduces `haproxy -dC<key>` byte for byte. The runtime's
//! `set anon on` uses the same functions, so tokens match across dumps, logs and the CLI.

pub mod config;
pub mod dump;
pub mod hash;
pub mod keyed;
pub mod leaks;
pub mod log;
pub mod logformat;

pub use hash::{hash_anon, hash_ipanon, hash_token, Key};
