//! Integration tests of `hapee-lb run`: real sockets, a real proxy process, real clients
//! (curl and raw TCP), real origin servers.

#[path = "runtime/backends.rs"]
mod backends;
#[path = "runtime/harness.rs"]
mod harness;
#[path = "runtime/http_protocol.rs"]
mod http_protocol;
#[path = "runtime/http_rules.rs"]
mod http_rules;
#[path = "runtime/peers.rs"]
mod peers;
#[path = "runtime/tables.rs"]
mod tables;
#[path = "runtime/tcp_logs_lifecycle.rs"]
mod tcp_logs_lifecycle;
