//! The `store` lists of a `stick-table` line, as far as HAProxy refuses their combinations:
//! the array counters (`gpt`, `gpc`, `gpc_rate`) replace the numbered ones (`gpt0`,
//! `gpc0`/`gpc1`, `gpc0_rate`/`gpc1_rate`), so one table cannot store both.

use super::build::{Builder, Stmt};
use crate::diagnostic::Diagnostic;

/// Each array counter, the numbered counters it replaces and how messages name them, in the
/// order HAProxy checks them.
const OVERRIDES: [(&str, &[&str], &str); 3] = [
    ("gpt", &["gpt0"], "gpt0"),
    ("gpc", &["gpc0", "gpc1"], "gpc[0/1]"),
    ("gpc_rate", &["gpc0_rate", "gpc1_rate"], "gpc[0/1]_rate"),
];

/// The data names of one `store` word (`gpc(2),gpc_rate(2,10s),conn_cnt`): commas inside
/// parentheses belong to the arguments.
fn names(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0u32;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out.into_iter()
        .map(|w| &w[..w.find('(').unwrap_or(w.len())])
        .collect()
}

/// Checks the stores of `stmt` (a `stick-table` line) after each `store` word, as HAProxy
/// does; the first overlap refuses the line.
pub(super) fn stores(b: &mut Builder, stmt: &Stmt) {
    let mut stored: Vec<&str> = Vec::new();
    for i in 2..stmt.len() {
        if stmt.word(i - 1) != "store" {
            continue;
        }
        stored.extend(names(stmt.word(i)));
        let overlap = OVERRIDES.iter().find(|(array, numbered, _)| {
            stored.contains(array) && numbered.iter().any(|n| stored.contains(n))
        });
        if let Some((array, _, numbered)) = overlap {
            b.push(
                Diagnostic::new(
                    "E516",
                    format!(
                        "{}: simultaneous usage of '{array}' and '{numbered}' in a same table is not permitted as '{array}' overrides '{numbered}'.",
                        stmt.word(0)
                    ),
                )
                .at(stmt.span(i))
                .label(format!("'{array}' and a numbered counter it replaces"))
                .help(format!("keep '{array}(<n>)' and index it, or the numbered counters alone")),
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn store_names_skip_argument_commas() {
        assert_eq!(
            super::names("gpc(2),gpc_rate(2,10s),conn_cnt"),
            ["gpc", "gpc_rate", "conn_cnt"]
        );
    }
}
