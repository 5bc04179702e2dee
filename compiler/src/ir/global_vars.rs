//! The global section's `set-var <name> <expr>` and `set-var-fmt <name> <format>` lines, read
//! as HAProxy reads them: both words are required, the name is read as the action
//! `set-var(<name>)` would read it (conditions included), the expression (a single word, what
//! follows is not read) must parse, and only then is a scope other than `proc` refused. The
//! runtime reads the same lines from the plan (`plan::GlobalPlan::set_vars`).

use super::build::{Builder, Stmt};
use crate::diagnostic::Diagnostic;

/// Why a fetch reading traffic is refused in the global section.
const NO_TRAFFIC: &str = "the global section is read before any connection exists: only constants, the environment and other 'proc' variables can be read here";

pub(super) fn statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    let keyword = stmt.word(at);
    let (name, value) = (stmt.word(at + 1), stmt.word(at + 2));
    let format = keyword == "set-var-fmt";
    if name.is_empty() || value.is_empty() {
        let what = if format {
            "a format string"
        } else {
            "a sample expression"
        };
        b.push(
            Diagnostic::new(
                "E513",
                format!(
                    "'{keyword}' requires a process-wide variable name ('proc.<name>') and {what}."
                ),
            )
            .at(stmt.span(at))
            .label(format!("needs a name and {what}")),
        );
        return;
    }
    if let Some(message) = crate::expr::vars::action_error(&format!("{keyword}({name})")) {
        b.push(
            Diagnostic::new("E512", message)
                .at(stmt.span(at + 1))
                .label("not a variable name HAProxy takes"),
        );
        return;
    }
    // Only what exists before any connection can be read here (the configuration parser's
    // check point): constants, the environment, other variables.
    let places = crate::registry::capabilities::at::CFG_PARSER;
    if format {
        let help = |_: &str, _: &str| NO_TRAFFIC.to_string();
        let word = stmt.spanned(at + 2);
        if super::exprs::compile_format(b, &word, ("", ""), places, &help, false).is_none() {
            return;
        }
    } else {
        match crate::expr::sample::parse(value, false) {
            Err(e) => {
                b.push(
                    Diagnostic::new("E506", e.message)
                        .at(stmt.span(at + 2))
                        .label("invalid sample expression"),
                );
                return;
            }
            Ok((expr, _)) => {
                let keyword = format!("{keyword}({name})");
                if let Some(d) = super::exprs::fetch_unavailable(&expr, places, &keyword, ("", ""))
                {
                    b.push(d.at(stmt.span(at + 2)).help(NO_TRAFFIC));
                    return;
                }
                // The expression's map files are opened as it is parsed.
                for (converter, file) in super::exprs::map_files(&expr) {
                    super::exprs::map_file_ref(b, &converter, &file, stmt.span(at + 2), ("", ""));
                }
            }
        }
    }
    if !name.starts_with("proc.") {
        b.push(
            Diagnostic::new(
                "E513",
                format!("'{keyword}': cannot set variable '{name}', only scope 'proc' is permitted in the global section."),
            )
            .at(stmt.span(at + 1))
            .label("not a process-wide variable")
            .help("only 'proc.' variables exist before any connection: name it 'proc.<name>'"),
        );
    }
}
