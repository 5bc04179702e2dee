//! The `store` lists of a `stick-table` line, read as HAProxy reads them: each entry a data
//! type it knows, with the arguments that type takes (an array's size, a rate's period), none
//! stored twice; and the array counters (`gpt`, `gpc`, `gpc_rate`) replace the numbered ones
//! (`gpt0`, `gpc0`/`gpc1`, `gpc0_rate`/`gpc1_rate`), so one table cannot store both.

use super::build::{Builder, Stmt};
use super::model::{Spanned, Text};
use crate::diagnostic::Diagnostic;

/// Each array counter, the numbered counters it replaces and how messages name them, in the
/// order HAProxy checks them.
const OVERRIDES: [(&str, &[&str], &str); 3] = [
    ("gpt", &["gpt0"], "gpt0"),
    ("gpc", &["gpc0", "gpc1"], "gpc[0/1]"),
    ("gpc_rate", &["gpc0_rate", "gpc1_rate"], "gpc[0/1]_rate"),
];

/// The data a table can store, as HAProxy 2.7 names them: whether each is an array (its size
/// the first argument) and whether it takes a period (the rates).
const DATA_TYPES: [(&str, bool, bool); 25] = [
    ("server_id", false, false),
    ("gpt0", false, false),
    ("gpc0", false, false),
    ("gpc0_rate", false, true),
    ("conn_cnt", false, false),
    ("conn_rate", false, true),
    ("conn_cur", false, false),
    ("sess_cnt", false, false),
    ("sess_rate", false, true),
    ("http_req_cnt", false, false),
    ("http_req_rate", false, true),
    ("http_err_cnt", false, false),
    ("http_err_rate", false, true),
    ("bytes_in_cnt", false, false),
    ("bytes_in_rate", false, true),
    ("bytes_out_cnt", false, false),
    ("bytes_out_rate", false, true),
    ("gpc1", false, false),
    ("gpc1_rate", false, true),
    ("server_key", false, false),
    ("http_fail_cnt", false, false),
    ("http_fail_rate", false, true),
    ("gpt", true, false),
    ("gpc", true, false),
    ("gpc_rate", true, true),
];

/// Largest number of elements of an array store (`gpc(<n>)`).
const MAX_ARRAY_SIZE: i64 = 100;

/// One entry of a `store` list: its name, and its first and last arguments when it has
/// parentheses (the text before the last comma in them, and after it).
struct Entry<'a> {
    name: &'a str,
    first: Option<&'a str>,
    second: Option<&'a str>,
}

/// The entries of one `store` word, read as HAProxy splits it: at commas outside
/// parentheses. `Err` names the entry whose parenthesis is not closed.
fn entries(list: &str) -> Result<Vec<Entry<'_>>, &str> {
    let bytes = list.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let mut entry = Entry {
            name: "",
            first: None,
            second: None,
        };
        let mut name_end = None;
        while i < bytes.len() && bytes[i] != b',' {
            if bytes[i] == b'(' {
                name_end.get_or_insert(i);
                let open = i + 1;
                let Some(close) = list[open..].find(')').map(|c| open + c) else {
                    return Err(&list[start..i]);
                };
                let inside = &list[open..close];
                match inside.rfind(',') {
                    Some(c) => {
                        entry.first = Some(&inside[..inside.find(',').unwrap_or(c)]);
                        entry.second = Some(&inside[c + 1..]);
                    }
                    None => entry.first = Some(inside),
                }
                i = close;
            }
            i += 1;
        }
        entry.name = &list[start..name_end.unwrap_or(i.min(bytes.len()))];
        out.push(entry);
        i += 1;
    }
    Ok(out)
}

/// Why HAProxy refuses a store entry, if it does (its `stktable_alloc_data_type`).
fn refusal(entry: &Entry, is_array: bool, takes_period: bool) -> Option<&'static str> {
    let mut arg = entry.first;
    if is_array {
        let Some(size) = arg else {
            return Some("missing argument to");
        };
        let size = super::values::atol(size.trim_start());
        if !(1..=MAX_ARRAY_SIZE).contains(&size) {
            return Some("array size is out of allowed range (1-100) for");
        }
        arg = entry.second;
    }
    match (arg, takes_period) {
        (Some(_), false) => Some("unexpected argument to"),
        (None, true) => Some("missing argument to"),
        (Some(period), true) => super::values::parse_time(period, super::values::TimeUnit::Ms)
            .is_err()
            .then_some("error when processing"),
        (None, false) => None,
    }
}

/// Reads a `stick-table` line (or a peers section's `table` line, its options from `first`)
/// as HAProxy does: `size` (a size with an optional k/m/g suffix, required), `type` (`ip`,
/// `ipv6`, `integer`, or `string`/`binary` with an optional `len` of at least 1, required),
/// `expire` (a time in milliseconds below 2^31), `nopurge`, `peers <section>` (not in a peers
/// section), `store <list>`, `srvkey name|addr`. The first refusal ends the line. Returns the
/// peers section the table names, if any.
pub(super) fn line(b: &mut Builder, stmt: &Stmt, first: usize) -> Option<Spanned<Text>> {
    let keyword = stmt.word(0);
    let in_peers = first > 1;
    let refuse = |b: &mut Builder, i: usize, message: String| {
        b.push(
            Diagnostic::new("E518", format!("{keyword}: {message}"))
                .at(stmt.span(i))
                .label("not a stick-table setting HAProxy takes"),
        );
    };
    let mut stored: Vec<&str> = Vec::new();
    let (mut size, mut typed, mut peers) = (0, false, None);
    let mut i = first;
    while !stmt.word(i).is_empty() {
        let word = stmt.word(i);
        let value = stmt.word(i + 1);
        let needs_value = matches!(word, "size" | "expire") || (word == "peers" && !in_peers);
        if needs_value && value.is_empty() {
            refuse(b, i, format!("missing argument after '{word}'."));
            return None;
        }
        let bad_char = |at: usize| {
            let c = value[at..].chars().next().unwrap_or_default();
            format!("unexpected character '{c}' in argument of '{word}'.")
        };
        match word {
            "size" => match super::values::parse_size(value) {
                Ok(v) => size = v,
                Err(at) => {
                    refuse(b, i + 1, bad_char(at));
                    return None;
                }
            },
            "peers" if !in_peers => peers = Some(stmt.spanned(i + 1)),
            "expire" => {
                use super::values::TimeError;
                let err = match super::values::parse_time(value, super::values::TimeUnit::Ms) {
                    Ok(d) => {
                        if let Some(junk) = d.trailing_junk {
                            super::timeouts::warn_time_junk(b, stmt, i + 1, junk);
                        }
                        None
                    }
                    Err(e) => Some(e),
                };
                let message = match err {
                    None => None,
                    Some(TimeError::Overflow) => Some(format!("timer overflow in argument <{value}> to <{word}>, maximum value is 2147483647 ms (~24.8 days).")),
                    Some(TimeError::Underflow) => Some(format!("timer underflow in argument <{value}> to <{word}>, minimum non-null value is 1 ms.")),
                    Some(TimeError::Char(at)) => Some(bad_char(at)),
                };
                if let Some(message) = message {
                    let tight = !message.starts_with("unexpected");
                    let d = Diagnostic::new("E518", format!("{keyword}: {message}"))
                        .at(stmt.span(i + 1))
                        .label("not a stick-table setting HAProxy takes");
                    b.push(if tight {
                        d.form(crate::diagnostic::HaproxyForm::ParsingTight)
                    } else {
                        d
                    });
                    return None;
                }
            }
            "nopurge" => {
                i += 1;
                continue;
            }
            "type" => {
                let sized = matches!(value, "string" | "binary");
                if !sized && !matches!(value, "ip" | "ipv6" | "integer") {
                    refuse(b, i + 1, format!("unknown type '{value}'."));
                    return None;
                }
                typed = true;
                i += 2;
                if sized && stmt.word(i) == "len" {
                    // A length that does not read as a positive number leaves the type unknown.
                    if crate::cnum::atol(stmt.word(i + 1)) == 0 {
                        refuse(b, i + 1, format!("unknown type '{}'.", stmt.word(i + 1)));
                        return None;
                    }
                    i += 2;
                }
                continue;
            }
            "store" => {
                if !store_list(b, stmt, i + 1, &mut stored) {
                    return None;
                }
            }
            "srvkey" => {
                if !matches!(value, "name" | "addr") {
                    let message = format!("{keyword} : unknown server key type '{value}'.");
                    b.push(
                        Diagnostic::new("E518", message)
                            .at(stmt.span(i + 1))
                            .label("not a stick-table setting HAProxy takes"),
                    );
                    return None;
                }
            }
            _ => {
                refuse(b, i, format!("unknown argument '{word}'."));
                return None;
            }
        }
        i += 2;
    }
    let missing = if size == 0 {
        "size"
    } else if !typed {
        "type"
    } else {
        return peers;
    };
    refuse(b, 0, format!("missing {missing}."));
    None
}

/// Checks the `store` list at `i` as HAProxy does: each entry in turn, then the overlaps of
/// array and numbered counters. A refusal ends the line (false); a type stored twice is
/// ignored with a warning.
fn store_list<'a>(
    b: &mut Builder,
    stmt: &Stmt<'a>,
    i: usize,
    stored: &mut Vec<&'static str>,
) -> bool {
    let keyword = stmt.word(0);
    let refuse = |b: &mut Builder, i: usize, message: String| {
        b.push(
            Diagnostic::new("E517", format!("{keyword}: {message}"))
                .at(stmt.span(i))
                .label("not a store this table can take"),
        );
    };
    let list = match entries(stmt.word(i)) {
        Ok(list) => list,
        Err(name) => {
            refuse(
                b,
                i,
                format!("missing closing parenthesis after store option '{name}'."),
            );
            return false;
        }
    };
    for entry in list {
        let Some(&(name, is_array, takes_period)) = DATA_TYPES.iter().find(|t| t.0 == entry.name)
        else {
            refuse(b, i, format!("unknown store option '{}'.", entry.name));
            return false;
        };
        if stored.contains(&name) {
            b.push(
                Diagnostic::new(
                    "W517",
                    format!("{keyword}: store option '{name}' already enabled, ignored."),
                )
                .at(stmt.span(i))
                .label("stored already")
                .form(crate::diagnostic::HaproxyForm::ParsingTight),
            );
            continue;
        }
        if let Some(why) = refusal(&entry, is_array, takes_period) {
            refuse(b, i, format!("{why} store option '{name}'."));
            return false;
        }
        stored.push(name);
    }
    let overlap = OVERRIDES.iter().find(|(array, numbered, _)| {
        stored.contains(array) && numbered.iter().any(|n| stored.contains(n))
    });
    if let Some((array, _, numbered)) = overlap {
        b.push(
            Diagnostic::new(
                "E516",
                format!(
                    "{keyword}: simultaneous usage of '{array}' and '{numbered}' in a same table is not permitted as '{array}' overrides '{numbered}'.",
                ),
            )
            .at(stmt.span(i))
            .label(format!("'{array}' and a numbered counter it replaces"))
            .help(format!("keep '{array}(<n>)' and index it, or the numbered counters alone")),
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::testkit::compile_text;

    /// The code and message of each diagnostic of a backend whose table stores `list`.
    fn found(list: &str) -> Vec<(&'static str, String)> {
        let text = format!("backend b\n    stick-table type ip size 1k store {list}\n");
        let c = compile_text("t.cfg", &text, false);
        c.diagnostics
            .iter()
            .filter(|d| d.code.ends_with("517"))
            .map(|d| (d.code, d.message.to_string()))
            .collect()
    }

    /// As HAProxy 2.7 (stick_table.c): the entry names, their arguments and repeats.
    #[test]
    fn store_entries_are_read_as_haproxy_reads_them() {
        for fine in [
            "gpc(2),gpc_rate(2,10s),conn_cnt",
            "http_req_rate(10s)",
            "gpt(100)",
            "conn_cnt,",
        ] {
            assert_eq!(found(fine), [], "{fine}");
        }
        let refused = [
            ("foo", "unknown store option 'foo'."),
            (",conn_cnt", "unknown store option ''."),
            (
                "http_req_rate",
                "missing argument to store option 'http_req_rate'.",
            ),
            (
                "gpc_rate(3)",
                "missing argument to store option 'gpc_rate'.",
            ),
            ("gpc", "missing argument to store option 'gpc'."),
            (
                "conn_cnt(3)",
                "unexpected argument to store option 'conn_cnt'.",
            ),
            (
                "gpc(0)",
                "array size is out of allowed range (1-100) for store option 'gpc'.",
            ),
            (
                "gpc(101)",
                "array size is out of allowed range (1-100) for store option 'gpc'.",
            ),
            (
                "http_req_rate(10x)",
                "error when processing store option 'http_req_rate'.",
            ),
            (
                "gpc_rate(3,10s),gpc(3",
                "missing closing parenthesis after store option 'gpc'.",
            ),
        ];
        for (list, message) in refused {
            assert_eq!(
                found(list),
                [("E517", format!("stick-table: {message}"))],
                "{list}"
            );
        }
        assert_eq!(
            found("conn_cnt store conn_cnt,gpc(2)"),
            [(
                "W517",
                "stick-table: store option 'conn_cnt' already enabled, ignored.".to_string()
            )]
        );
    }
}
