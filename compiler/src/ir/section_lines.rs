//! Lines of the sections beside the proxies that HAProxy refuses or warns about as it reads
//! them: a userlist's user or group declared twice, a peers section mixing `peer` and `bind`
//! lines, a mailers section's `timeout`.

use super::build::{Builder, Stmt};
use super::model::NamedSection;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// The section's lines before the one being read (which the section's lines end with).
fn earlier_lines(section: &NamedSection) -> &[super::model::DirectiveLine] {
    section.lines.split_last().map_or(&[], |(_, rest)| rest)
}

/// A userlist's `user` or `group` whose name an earlier line of the same keyword declared:
/// HAProxy keeps the first and ignores this line. The section's lines so far include this one.
pub(super) fn userlist_duplicate(b: &mut Builder, section: &NamedSection, stmt: &Stmt) {
    let (keyword, name) = (stmt.word(0), stmt.word(1));
    if name.is_empty() {
        return;
    }
    let earlier = earlier_lines(section);
    let first = earlier
        .iter()
        .find(|d| d.keyword == keyword && d.args.first().is_some_and(|a| a == name));
    let Some(first) = first else {
        return;
    };
    let list = section.name.as_ref().map_or("", |n| n.value.as_str());
    b.push(
        Diagnostic::new(
            "W538",
            format!("ignoring duplicated {keyword} '{name}' in userlist '{list}'."),
        )
        .severity(Severity::Warning)
        .at(stmt.span(1))
        .label("declared again")
        .with_secondary(first.span, "first declared here")
        .form(HaproxyForm::ParsingTight),
    );
}

/// A peers section lists its peers either with `peer` lines or with `bind` and `server`
/// lines: a line of one kind after a line of the other is refused. True if refused.
pub(super) fn peers_mixing(b: &mut Builder, section: &NamedSection, stmt: &Stmt) -> bool {
    let other = if stmt.word(0) == "peer" {
        "bind"
    } else {
        "peer"
    };
    let earlier = earlier_lines(section);
    let Some(first) = earlier.iter().find(|d| d.keyword == other) else {
        return false;
    };
    b.push(
        Diagnostic::new(
            "E537",
            "mixing \"peer\" and \"bind\" line is forbidden".to_string(),
        )
        .at(stmt.span(0))
        .label(format!("a '{}' line in a section with '{other}' lines", stmt.word(0)))
        .with_secondary(first.span, format!("the '{other}' line"))
        .help("list the peers with 'peer' lines only, or with a 'bind' line for the local peer and 'server' lines for the others")
        .form(HaproxyForm::Parsing),
    );
    true
}

/// A mailers section's `timeout mail <time>`, the only timeout it has.
pub(super) fn mailers_timeout(b: &mut Builder, stmt: &Stmt) {
    let what = stmt.word(1);
    let message = match what {
        "" => "'timeout' expects 'mail' and <time> as arguments.".to_string(),
        "mail" if stmt.word(2).is_empty() => {
            "'timeout mail' expects <time> as argument.".to_string()
        }
        "mail" => {
            let unit = super::values::TimeUnit::Ms;
            super::timeouts::timer(b, stmt, 2, unit, "<timeout mail>");
            return;
        }
        _ => format!("'timeout' expects 'mail' and <time> as arguments got '{what}'."),
    };
    b.push(
        Diagnostic::new("E536", message)
            .at(stmt.span(if what.is_empty() { 0 } else { 1 }))
            .label("a mailers section's timeout is 'timeout mail <time>'")
            .form(HaproxyForm::Parsing),
    );
}
