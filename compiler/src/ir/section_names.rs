//! The header line of the sections that are not proxies (peers, mailers, resolvers,
//! log-forward, ring, cache, http-errors, userlist, program, fcgi-app), as each section's own
//! parser reads it in HAProxy 2.7: a name is required, may be followed by nothing (for most),
//! must use the characters of object names (for most), and may not be taken by an earlier
//! section of the same kind (a log-forward section's not by a proxy either). Each parser has
//! its own words, its own order of checks and its own way to fail: some stop reading the
//! configuration there (`ERR_ABORT`), others go on without creating the section.

use super::build::{invalid_char, Builder, Stmt};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;
use crate::source::Span;

/// How one check of a header fails.
#[derive(Clone, Copy, PartialEq)]
enum Fails {
    /// An alert; reading goes on.
    Fatal,
    /// An alert at which HAProxy stops reading.
    Aborts,
}

/// The checks of one kind of section, in its parser's order.
struct Rules {
    /// The message for a missing name, its form and how it fails.
    missing: (&'static str, HaproxyForm, Fails),
    /// Words after the name are refused (and how), before (`true`) or after the name's
    /// characters are checked.
    extra: Option<(Fails, bool)>,
    /// The name's characters are checked: form and how it fails (`None`: any name is taken).
    chars: Option<(HaproxyForm, Fails)>,
}

fn rules(kind: SectionKind) -> Option<Rules> {
    use Fails::*;
    use HaproxyForm::{Parsing, ParsingTight};
    Some(match kind {
        SectionKind::Peers => Rules {
            missing: ("missing name for peers section.", Parsing, Aborts),
            extra: Some((Fatal, true)),
            chars: Some((Parsing, Aborts)),
        },
        SectionKind::Mailers => Rules {
            missing: ("missing name for mailers section.", Parsing, Aborts),
            extra: None,
            chars: Some((Parsing, Aborts)),
        },
        SectionKind::Resolvers => Rules {
            missing: ("missing name for resolvers section.", Parsing, Aborts),
            extra: None,
            chars: Some((Parsing, Aborts)),
        },
        SectionKind::LogForward => Rules {
            missing: ("missing name for ip-forward section.", Parsing, Aborts),
            extra: Some((Fatal, true)),
            chars: Some((Parsing, Aborts)),
        },
        SectionKind::Ring => Rules {
            missing: ("missing ring name.", Parsing, Fatal),
            extra: None,
            chars: Some((Parsing, Fatal)),
        },
        SectionKind::Cache => Rules {
            missing: ("'cache' expects a <name> argument", Parsing, Aborts),
            extra: Some((Aborts, true)),
            chars: None,
        },
        SectionKind::HttpErrors => Rules {
            missing: ("missing name for http-errors section.", Parsing, Aborts),
            extra: None,
            chars: Some((Parsing, Fatal)),
        },
        SectionKind::Userlist => Rules {
            missing: (
                "'userlist' expects <name> as arguments.",
                ParsingTight,
                Fatal,
            ),
            extra: Some((Fatal, true)),
            chars: Some((ParsingTight, Fatal)),
        },
        // Too many words are refused before a missing name.
        SectionKind::Program => Rules {
            missing: ("'program' expects an <id> argument", Parsing, Aborts),
            extra: Some((Aborts, true)),
            chars: None,
        },
        SectionKind::FcgiApp => Rules {
            missing: (
                "'fcgi-app' expects <name> as argument.",
                ParsingTight,
                Fatal,
            ),
            extra: Some((Fatal, true)),
            chars: Some((ParsingTight, Fatal)),
        },
        _ => return None,
    })
}

/// The bytes of a cache's name HAProxy keeps.
const CACHE_NAME_BYTES: usize = 32;

/// A cache's name as HAProxy keeps it: its first [`CACHE_NAME_BYTES`] bytes.
fn cache_name(name: &str) -> String {
    let bytes = name.as_bytes();
    String::from_utf8_lossy(&bytes[..bytes.len().min(CACHE_NAME_BYTES)]).into_owned()
}

/// The sinks HAProxy creates before reading the configuration, whose names a ring may not take.
const BUILTIN_SINKS: [&str; 3] = ["stdout", "stderr", "buf0"];

/// Checks a section's header line; returns whether HAProxy creates the section (the lines of
/// a ring it did not create are refused one by one, see [`super::ring`]).
pub(super) fn check(b: &mut Builder, kind: SectionKind, head: &Stmt) -> bool {
    let Some(rules) = rules(kind) else {
        return true;
    };
    let keyword = head.word(0);
    let name = head.word(1);
    let push = |b: &mut Builder, at: Span, message: String, form: HaproxyForm, fails: Fails| {
        let d = Diagnostic::new("E524", message)
            .at(at)
            .label("not a section header HAProxy takes")
            .form(form);
        b.push(if fails == Fails::Aborts {
            d.aborts()
        } else {
            d
        });
    };
    let extra = |b: &mut Builder, fails: Fails| {
        let message = format!(
            "'{keyword}' cannot handle unexpected argument '{}'.",
            head.word(2)
        );
        push(b, head.span_from(2), message, HaproxyForm::Parsing, fails);
    };
    // The program parser refuses extra words before it looks for the name.
    if kind == SectionKind::Program && head.len() > 2 && !head.word(2).is_empty() {
        extra(b, Fails::Aborts);
        return false;
    }
    if name.is_empty() {
        let (message, form, fails) = rules.missing;
        push(b, head.span(0), message.to_string(), form, fails);
        return false;
    }
    if let Some((fails, true)) = rules.extra {
        if !head.word(2).is_empty() {
            extra(b, fails);
            return false;
        }
    }
    if let Some((form, fails)) = rules.chars {
        if let Some(c) = invalid_char(name) {
            let message = match kind {
                SectionKind::Ring => {
                    format!("invalid ring name '{name}' (character '{c}' is not permitted).")
                }
                _ => format!("character '{c}' is not permitted in '{keyword}' name '{name}'."),
            };
            push(b, head.span(1), message, form, fails);
            // An http-errors section is created all the same.
            if kind != SectionKind::HttpErrors {
                return false;
            }
        }
    }
    duplicate(b, kind, head)
}

/// An earlier section of the same kind (or, for a log-forward section, a proxy) with the
/// header's name; returns whether the section is created all the same.
fn duplicate(b: &mut Builder, kind: SectionKind, head: &Stmt) -> bool {
    let name = head.word(1);
    // A cache joins HAProxy's list once its section ended with a size, under its name cut
    // to 32 bytes.
    if kind == SectionKind::Cache && name.len() > CACHE_NAME_BYTES {
        b.push(
            Diagnostic::new(
                "W526",
                format!(
                    "cache name is limited to 32 characters, truncate to '{}'.",
                    cache_name(name)
                ),
            )
            .at(head.span(1))
            .severity(Severity::Warning)
            .label("HAProxy keeps the first 32 bytes")
            .form(HaproxyForm::ParsingTight),
        );
    }
    let taken = |s: &super::model::NamedSection| match kind {
        SectionKind::Cache => {
            s.lines.iter().any(|l| l.keyword == "total-max-size")
                && s.name
                    .as_ref()
                    .is_some_and(|n| cache_name(&n.value) == cache_name(name))
        }
        _ => s.name.as_ref().is_some_and(|n| n.value == name),
    };
    let earlier = created(b, kind).find(|s| taken(s)).map(|s| s.header);
    let at = head.span(1);
    let post = HaproxyForm::PostParse;
    let alert = |b: &mut Builder, message: String, form: HaproxyForm, aborts: bool| {
        let d = Diagnostic::new("E525", message)
            .at(at)
            .label("name already taken")
            .form(form);
        b.push(if aborts { d.aborts() } else { d });
    };
    match kind {
        SectionKind::Ring => {
            if earlier.is_some() || BUILTIN_SINKS.contains(&name) {
                let message = format!("sink named '{name}' already exists.");
                alert(b, message, HaproxyForm::Parsing, false);
                return false;
            }
        }
        SectionKind::LogForward => {
            if let Some(first) = earlier {
                let message = format!("log-forward section '{name}' has the same name as another log-forward section declared at {}.", b.location(first));
                alert(b, message, post, false);
            }
            let proxy = [b.frontend_names.get(name), b.backend_names.get(name)]
                .into_iter()
                .flatten()
                .min()
                .copied();
            if let Some(p) = proxy {
                let p = &b.config.proxies[p];
                let message = format!(
                    "log forward section '{name}' has the same name as {} '{name}' declared at {}.",
                    p.kind.type_str(),
                    b.location(p.header)
                );
                alert(b, message, post, false);
            }
        }
        SectionKind::Userlist => {
            if earlier.is_some() {
                b.push(
                    Diagnostic::new("W525", format!("ignoring duplicated userlist '{name}'."))
                        .at(at)
                        .severity(Severity::Warning)
                        .label("name already taken")
                        .form(HaproxyForm::ParsingTight),
                );
                return false;
            }
        }
        _ => {
            let Some(first) = earlier else {
                return true;
            };
            let place = b.location(first);
            let (message, form, aborts) = match kind {
                SectionKind::Peers => (format!("peers section '{name}' has the same name as another peers section declared at {place}."), post, false),
                SectionKind::Mailers => (format!("mailers section '{name}' has the same name as another mailers section declared at {place}."), post, false),
                SectionKind::Resolvers => (format!("resolvers '{name}' has same name as another resolvers (declared at {place})."), post, false),
                SectionKind::HttpErrors => (format!("http-errors section '{name}' already exists (declared at {place})."), HaproxyForm::ParsingTight, false),
                SectionKind::Cache => (format!("Duplicate cache name '{}'.", cache_name(name)), HaproxyForm::ParsingTight, true),
                SectionKind::FcgiApp => (format!("fcgi-app section '{name}' has the same name as another one declared at {place}."), post, false),
                SectionKind::Program => (format!("'{name}' program section already exists in the configuration."), HaproxyForm::ParsingTight, true),
                _ => return true,
            };
            // The resolvers parser goes on to its allocation, which fails on the alert.
            if kind == SectionKind::Resolvers {
                alert(b, message, form, false);
                alert(b, "out of memory.".to_string(), HaproxyForm::Parsing, true);
            } else {
                alert(b, message, form, aborts);
            }
        }
    }
    true
}

/// The sections of `kind` read so far that HAProxy created (whose names are taken).
pub(super) fn created<'b>(
    b: &'b Builder,
    kind: SectionKind,
) -> impl Iterator<Item = &'b super::model::NamedSection> {
    b.config
        .sections
        .iter()
        .filter(move |s| s.kind == kind && !b.refused_sections.contains(&s.header))
}

/// What HAProxy checks when a section it created ends (before it reads the next header): a
/// cache needs a `total-max-size` above 0. `end` is the section's last line.
pub(super) fn section_end(b: &mut Builder, section: &super::model::NamedSection, end: Span) {
    if section.kind != SectionKind::Cache {
        return;
    }
    let size = section
        .lines
        .iter()
        .rev()
        .find(|l| l.prefix.is_none() && l.keyword == "total-max-size")
        .and_then(|l| l.args.first())
        .map_or(0, |v| crate::cnum::strtol(v, 10).value);
    if size == 0 {
        let name = section.name.as_ref().map_or("", |n| n.value.as_str());
        b.push(
            Diagnostic::new("E524", format!("Size not specified for cache '{name}'"))
                .at(end)
                .label("this cache has no size")
                .form(HaproxyForm::Bare),
        );
    }
}
