//! The code table: every diagnostic code, its rule name, default severity, origin and explanation.
//!
//! This is the single place codes are declared (ruff's model). `hapee-lb explain CODE` and
//! `docs/diagnostics.md` are generated from it. Ranges:
//! - `E0xx`/`W0xx` lexer and preprocessor (`.if`, `.alert`, …)
//! - `E1xx`/`W1xx` keywords, sections and arguments
//! - `E2xx`/`W2xx` semantic checks on the typed model (names, inheritance, modes)
//! - `E3xx`/`W3xx` threads, thread groups and the 2.7 removals
//! - `E4xx`/`W4xx` environment checks (files, certificates, Lua)
//! - `E5xx`/`W5xx` expressions: ACLs, sample expressions, log formats
//! - `L…` lints HAProxy itself does not make
//! - `U…` keywords the runtime does not support yet

use crate::diagnostic::Severity;

/// Where a rule comes from: a check HAProxy makes too, or one of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// HAProxy 2.7 makes the same check with the same verdict.
    Haproxy,
    /// A lint of hapee's own.
    Lint,
    /// Reported because hapee's runtime does not implement something yet.
    Runtime,
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub code: &'static str,
    /// kebab-case name, usable in place of the code in `--allow`/`--deny`.
    pub name: &'static str,
    pub severity: Severity,
    pub origin: Origin,
    /// One line, in our own words.
    pub summary: &'static str,
    /// Longer explanation for `hapee-lb explain`: why it matters and how to fix it.
    pub explanation: &'static str,
}

macro_rules! rules {
    ($($code:literal $name:literal $sev:ident $origin:ident $summary:literal $expl:literal;)*) => {
        /// Every rule, sorted by code.
        pub static RULES: &[Rule] = &[
            $(Rule { code: $code, name: $name, severity: Severity::$sev, origin: Origin::$origin, summary: $summary, explanation: $expl },)*
        ];
    };
}

rules! {
    // ---- E0xx / W0xx: lexer and preprocessor ----
    "E001" "unmatched-quote" Error Haproxy "A quote is opened and never closed on the line."
        "Quotes do not span lines in HAProxy configurations. Close the quote on the same line, or escape the quote character with a backslash if it is meant literally.";

    // ---- E1xx / W1xx: keywords, sections, arguments ----
    "E101" "unknown-keyword" Error Haproxy "The keyword is not known in this section."
        "HAProxy rejects any directive it does not know. Check the spelling (a suggestion is given when one is close), and check that the directive belongs to this kind of section.";

    // ---- E2xx / W2xx: semantic checks ----

    // ---- E3xx / W3xx: threads and 2.7 removals ----

    // ---- E4xx / W4xx: environment ----

    // ---- E5xx / W5xx: expressions ----

    // ---- L: lints ----

    // ---- U: runtime support ----
}

/// Looks a rule up by code (`E101`) or name (`unknown-keyword`).
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted_within_each_prefix() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(seen.insert(r.name), "duplicate name {}", r.name);
            assert!(!r.summary.is_empty() && !r.explanation.is_empty(), "{} lacks docs", r.code);
        }
    }
}
