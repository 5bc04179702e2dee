//! The bridge between the model builder and the keyword registry: unknown keywords, sections,
//! arity, and the option tables of `bind` and `server` lines.

use super::build::{Builder, Stmt};
use crate::registry::SectionKind;

/// Reports unknown keywords, keywords in the wrong section and wrong argument counts.
pub(super) fn check_statement(_b: &mut Builder, _section: SectionKind, _stmt: &Stmt, _at: usize) {}

/// How many value words a bind option takes, or `None` when the option is unknown.
pub(super) fn bind_option_arity(_name: &str) -> Option<usize> {
    Some(0)
}

pub(super) fn suggest_bind_option(_name: &str) -> Option<&'static str> {
    None
}

/// How many value words a server option takes, or `None` when the option is unknown.
pub(super) fn server_option_arity(_name: &str) -> Option<usize> {
    Some(0)
}

pub(super) fn suggest_server_option(_name: &str) -> Option<&'static str> {
    None
}

/// Whether `name` is one of OpenSSL's `X509_V_ERR_*` constants known to HAProxy 2.7.
pub(super) fn is_x509_error_name(name: &str) -> bool {
    name.starts_with("X509_V_ERR_")
}
