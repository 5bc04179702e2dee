//! `show stat domain resolvers [typed|json] [desc]`: one row per nameserver of each
//! `resolvers` section (the implicit `default` one included), in declaration order, with
//! HAProxy 2.7's 17 fields: the nameserver's id, its section's name (`pid`), then the counters
//! of [`crate::discovery::counters`]. Other words (a proxy filter, `up`) change nothing, as in
//! HAProxy.

use super::fields::{csv_value, json_field_unnumbered, Spec, Val};
use crate::discovery::counters::COUNTS;
use crate::state::Shared;
use std::fmt::Write as _;

/// The fields with their tags, and the descriptions `desc` prints.
const FIELDS: [(Spec, &str); 2 + COUNTS] = {
    const fn config(name: &'static str, desc: &'static str) -> (Spec, &'static str) {
        (Spec { name, tags: "CGP" }, desc)
    }
    const fn gauge(name: &'static str, desc: &'static str) -> (Spec, &'static str) {
        (Spec { name, tags: "MGP" }, desc)
    }
    [
        config("id", "ID"),
        config("pid", "Parent ID"),
        gauge("sent", "Sent"),
        gauge("send_error", "Send error"),
        gauge("valid", "Valid"),
        gauge("update", "Update"),
        gauge("cname", "CNAME"),
        gauge("cname_error", "CNAME error"),
        gauge("any_err", "Any errors"),
        gauge("nx", "NX"),
        gauge("timeout", "Timeout"),
        gauge("refused", "Refused"),
        gauge("other", "Other"),
        gauge("invalid", "Invalid"),
        gauge("too_big", "Too big"),
        gauge("truncated", "Truncated"),
        gauge("outdated", "Outdated"),
    ]
};

/// Each nameserver's row of values.
fn rows(shared: &Shared) -> Vec<Vec<Val>> {
    let mut rows = Vec::new();
    for section in &shared.resolvers {
        for (id, counters) in section.nameserver_counters() {
            let mut row = vec![Val::Str(id.to_string()), Val::Str(section.name.clone())];
            row.extend(counters.values().into_iter().map(Val::U64));
            rows.push(row);
        }
    }
    rows
}

pub fn render(shared: &Shared, words: &[String]) -> String {
    let has = |word: &str| words.iter().any(|w| w == word);
    let rows = rows(shared);
    let mut out = String::new();
    if has("typed") {
        for row in &rows {
            for (pos, ((spec, desc), v)) in FIELDS.iter().zip(row).enumerate() {
                let _ = write!(
                    out,
                    "N.{pos}.{}:{}:{}:{}",
                    spec.name,
                    spec.tags,
                    v.type_name(),
                    v.text()
                );
                if has("desc") {
                    let _ = write!(out, ":\"{desc}\"");
                }
                out.push('\n');
            }
        }
    } else if has("json") {
        let objects: Vec<String> = rows
            .iter()
            .map(|row| {
                let fields: Vec<String> = FIELDS
                    .iter()
                    .zip(row)
                    .enumerate()
                    .map(|(pos, ((spec, _), v))| json_field_unnumbered(pos, spec, v))
                    .collect();
                format!("[{}]", fields.join(","))
            })
            .collect();
        let _ = writeln!(out, "[{}]", objects.join(","));
    } else {
        out.push_str("# ");
        for (spec, _) in &FIELDS {
            let _ = write!(out, "{},", spec.name);
        }
        out.push('\n');
        for row in &rows {
            for v in row {
                let _ = write!(out, "{},", csv_value(&v.text()));
            }
            out.push('\n');
        }
    }
    out
}
