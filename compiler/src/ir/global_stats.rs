//! The global `stats` lines: the CLI's sockets, its idle timeout and its connection limit,
//! read as HAProxy's CLI reads them while parsing `global`.

use super::build::{Builder, Stmt};
use super::values::{parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

/// `stats socket|bind-process|timeout|maxconn …` in global.
pub(super) fn stats(b: &mut Builder, stmt: &Stmt) {
    match stmt.word(1) {
        "bind-process" => super::proxy::removed(
            b,
            stmt,
            0,
            "'stats' is not supported anymore.",
            HaproxyForm::Parsing,
        ),
        "socket" if stmt.word(2).is_empty() => b.push(
            Diagnostic::new(
                "E110",
                "'stats socket' in global section expects an address or a path to a UNIX socket",
            )
            .at(stmt.span(1))
            .label("address missing"),
        ),
        "socket" => {
            // HAProxy reads the address as a `bind` line's: a path must start with '/' (or
            // carry `unix@`), anything else is a host that needs a port.
            if let Some(e) = stmt.word(2).split(',').find_map(|part| {
                crate::address::parse_written(part, b.env, crate::address::Rules::BIND).err()
            }) {
                // HAProxy words this one with its place, then prints it after the place again.
                let at = b.location(stmt.span(2));
                b.push(
                    Diagnostic::new("E227", format!("parsing [{at}] : 'stats socket' : {e}"))
                        .at(stmt.span(2))
                        .label("invalid socket address")
                        .help("a UNIX socket path starts with '/' (or 'unix@'); an IP address needs ':port'"),
                );
            }
            b.config.global.stats_sockets.push(stmt.spanned(2));
            super::bind::stats_socket_options(b, stmt);
            // Options in order, each with its value words (`level user` is not a user).
            let mut accounts = Vec::new();
            let mut i = 3;
            while i < stmt.len() {
                let option = stmt.word(i);
                if matches!(option, "user" | "group") && i + 1 < stmt.len() {
                    accounts.push((option == "group", stmt.spanned(i + 1)));
                }
                i += 1 + crate::registry::bind_option(option).map_or(0, |o| o.values as usize);
            }
            if !accounts.is_empty() {
                b.config.global.socket_accounts.push(accounts);
            }
            if let Some(i) = (3..stmt.len()).find(|&i| stmt.word(i) == "process") {
                // The global socket quotes the option's error whole.
                let msg = format!(
                    "'{} {}' : ''process {}' on 'bind' lines is not supported anymore, please use 'thread' instead.'",
                    stmt.word(0),
                    stmt.word(1),
                    stmt.word(i + 1)
                );
                b.push(Diagnostic::new("E302", msg).at(stmt.span(i).cover(stmt.span(i + 1))));
            }
        }
        "timeout" => timeout(b, stmt),
        "maxconn" if crate::cnum::atol(stmt.word(2)) as i32 <= 0 => {
            b.push(positive_value(stmt))
        }
        "maxconn" => {}
        // The proxies' `stats` words (`uri`, `auth`, `enable`…) mean nothing in `global`.
        other => b.push(
            Diagnostic::new(
                "E101",
                format!(
                    "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')"
                ),
            )
            .at(stmt.span(if other.is_empty() { 0 } else { 1 }))
            .label("not a global 'stats' setting")
            .form(HaproxyForm::Parsing),
        ),
    }
}

/// `stats timeout <delay>`: a delay in milliseconds that is not zero, refused in the CLI's
/// words. HAProxy names the first character it could not read, which for an empty value is
/// the string's end (so its message stops after the opening quote).
fn timeout(b: &mut Builder, stmt: &Stmt) {
    let value = stmt.word(2);
    let head = format!("'{} {}'", stmt.word(0), stmt.word(1));
    let keyword = &head[1..head.len() - 1];
    if let Ok(d) = parse_time(value, TimeUnit::Ms) {
        if d.value == 0 && d.trailing_junk.is_none() {
            b.push(positive_value(stmt));
        }
    }
    super::global::refuse_bad_delay(b, stmt, 1, HaproxyForm::Parsing, |error| {
        match error {
        TimeError::Char(at) => match value[at..].chars().next() {
            Some(c) => format!("{head} : unexpected character '{c}'"),
            None => format!("{head} : unexpected character '"),
        },
        TimeError::Overflow => format!("timer overflow in argument '{value}' to '{keyword}' (maximum value is 2147483647 ms or ~24.8 days)"),
        TimeError::Underflow => format!("timer underflow in argument '{value}' to '{keyword}' (minimum non-null value is 1 ms)"),
    }
    });
}

/// HAProxy's words for a `stats timeout` of zero or a `stats maxconn` that is not positive.
fn positive_value(stmt: &Stmt) -> Diagnostic {
    let at = if stmt.word(2).is_empty() { 1 } else { 2 };
    Diagnostic::new(
        "E109",
        format!(
            "'{} {}' expects a positive value",
            stmt.word(0),
            stmt.word(1)
        ),
    )
    .at(stmt.span(at))
    .label("must be above zero")
}
