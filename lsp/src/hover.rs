//! Hover: the registry's doc for the keyword, option, timeout, action, fetch or converter under
//! the cursor, or the definition of the name under it.

use crate::analysis::Analysis;
use hapee_compiler::registry::{self, ArgSpec, RuleSet, SectionKind, Status};
use hapee_compiler::syntax::Line;
use lsp_types as lsp;

const CONDITION_IF: &str = "**if** — the line applies only when the condition after it holds: ACL names (all must match), `!` to negate one, `||` between alternatives, `{ … }` for an ACL written in place.";
const CONDITION_UNLESS: &str = "**unless** — the line applies only when the condition after it does not hold: ACL names, `!` to negate one, `||` between alternatives, `{ … }` for an ACL written in place.";

/// A keyword's status as hover text.
fn status(s: &Status) -> String {
    match s {
        Status::Stable => "stable".into(),
        Status::Experimental => "experimental: needs expose-experimental-directives".into(),
        Status::Deprecated { replacement } => format!("deprecated: use {replacement}"),
        Status::Removed { since, replacement } => {
            format!("removed in {since}: use {replacement}")
        }
    }
}

/// `(str,sint[,str])`: the argument types, the optional ones in brackets.
fn arguments(args: &ArgSpec) -> String {
    arguments_placed(args).0
}

/// [`arguments`], with where each argument's type lies in the text (byte offsets; the text is
/// ASCII, so they are UTF-16 offsets too).
pub(crate) fn arguments_placed(args: &ArgSpec) -> (String, Vec<[u32; 2]>) {
    let mut places = Vec::with_capacity(args.types.len());
    if args.types.is_empty() {
        return (String::new(), places);
    }
    let mut out = String::from("(");
    for (i, t) in args.types.iter().enumerate() {
        let name = format!("{t:?}").to_lowercase();
        let optional = i >= args.mandatory as usize;
        out.push_str(match (i, optional) {
            (0, false) => "",
            (0, true) => "[",
            (_, false) => ",",
            (_, true) => "[,",
        });
        places.push([out.len() as u32, (out.len() + name.len()) as u32]);
        out.push_str(&name);
    }
    let optional = args.types.len() - (args.mandatory as usize).min(args.types.len());
    out.push_str(&"]".repeat(optional));
    out.push(')');
    (out, places)
}

/// A fetch's signature: `req.hdr([str[,sint]]) → str`.
pub(crate) fn fetch_signature(f: &registry::FetchDef) -> String {
    format!(
        "{}{} → {}",
        f.name,
        arguments(&f.args),
        format!("{:?}", f.output).to_lowercase()
    )
}

/// A converter's signature: `str → lower → str`.
pub(crate) fn converter_signature(c: &registry::ConverterDef) -> String {
    format!(
        "{} → {}{} → {}",
        format!("{:?}", c.input).to_lowercase(),
        c.name,
        arguments(&c.args),
        format!("{:?}", c.output).to_lowercase()
    )
}

/// The rule set of a rule line starting with the words `first` and `second`, and the index of
/// its action word.
pub(crate) fn rule_set(first: &str, second: &str) -> Option<(RuleSet, usize)> {
    Some(match (first, second) {
        ("http-request", _) => (RuleSet::HttpRequest, 1),
        ("http-response", _) => (RuleSet::HttpResponse, 1),
        ("http-after-response", _) => (RuleSet::HttpAfterResponse, 1),
        ("tcp-request", "connection") => (RuleSet::TcpRequestConnection, 2),
        ("tcp-request", "session") => (RuleSet::TcpRequestSession, 2),
        ("tcp-request", "content") => (RuleSet::TcpRequestContent, 2),
        ("tcp-response", "content") => (RuleSet::TcpResponseContent, 2),
        ("http-check", _) => (RuleSet::HttpCheck, 1),
        ("tcp-check", _) => (RuleSet::TcpCheck, 1),
        _ => return None,
    })
}

/// The name of a fetch or converter under the cursor inside a sample expression, whether it
/// is a converter (it follows a comma), and where it starts in `raw`.
fn sample_name(raw: &str, at: usize) -> Option<(&str, bool, usize)> {
    let ident = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let at = at.min(raw.len());
    let start = raw[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| ident(c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = raw[at..]
        .find(|c: char| !ident(c))
        .map_or(raw.len(), |n| at + n);
    let name = &raw[start..end];
    if name.is_empty() || name.starts_with('-') {
        return None;
    }
    Some((name, raw[..start].ends_with(','), start))
}

impl Analysis {
    pub fn hover(&self, pos: lsp::Position) -> Option<lsp::Hover> {
        let (line, i) = self.word_at(pos)?;
        let at = self.enc.offset(self.file(), pos) as u32;
        let w = &line.words[i];
        // The part of the word the text is about: all of it, or the fetch or converter
        // under the cursor inside an expression.
        let mut span = w.span;
        let words: Vec<&str> = line.words.iter().map(|w| w.value.as_str()).collect();
        let section = self.section_at(self.source_line(pos));
        // A word of the keyword's own list, or an option's value from a fixed list.
        let placed = crate::words::doc(section, &words, i, (at - w.span.start) as usize);
        let text = self
            .keyword_doc(line, i)
            .or_else(|| {
                let (doc, range) = placed.clone().flatten()?;
                span.end = w.span.start + range.end as u32;
                span.start = w.span.start + range.start as u32;
                Some(doc)
            })
            .or_else(|| self.name_summary(pos))
            .or_else(|| self.definition_summary(&w.value))
            .or_else(|| {
                // After `http-check expect`/`tcp-check expect` come matchers (`status`,
                // `string`), not the fetches of the same names; a rule's action word
                // (`lua.x`, `set-var(txn.x)`) is not an expression either.
                let expect = line.words.get(1).is_some_and(|w| w.value == "expect")
                    && line.words[0].value.ends_with("-check");
                let action = rule_set(
                    &line.words[0].value,
                    line.words.get(1).map_or("", |w| &w.value),
                )
                .is_some_and(|(_, a)| a == i);
                // A word the keyword's list holds (or a value chosen from a list) is no
                // expression either.
                if expect || action || placed.is_some() {
                    return None;
                }
                let raw = self.c.db.text(w.span);
                let (doc, name) = sample_doc(raw, (at - w.span.start) as usize)?;
                span.start = w.span.start + name.start as u32;
                span.end = w.span.start + name.end as u32;
                Some(doc)
            })?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: text,
            }),
            range: Some(self.enc.range(self.file(), span)),
        })
    }

    /// The doc of the keyword (or keyword value) that word `i` of `line` is.
    fn keyword_doc(&self, line: &Line, i: usize) -> Option<String> {
        let w = |k: usize| line.words.get(k).map_or("", |w| w.value.as_str());
        let directive = |name: &str| {
            registry::DIRECTIVES
                .iter()
                .find(|d| d.name == name)
                .map(|d| format!("**{}** ({}) — {}", d.name, status(&d.status), d.doc))
        };
        // `no option x` and `default option x` are documented as `option x`.
        let skip = usize::from(matches!(w(0), "no" | "default") && line.words.len() > 1);
        let (first, second) = (w(skip), w(skip + 1));
        if i < skip {
            return None;
        }
        let k = i - skip;
        if k <= 1 && first == "option" && !second.is_empty() {
            return registry::option(second)
                .map(|o| format!("**option {}** ({}) — {}", o.name, status(&o.status), o.doc));
        }
        if let Some(section) = SectionKind::from_keyword(first).filter(|_| k == 0) {
            return Some(format!(
                "**{}** (section) — {}",
                section.keyword(),
                section.doc()
            ));
        }
        let mut family_doc = None;
        if k <= 2 {
            // The longest keyword covering the word (`capture request header`, `timeout
            // connect`), then the first word alone.
            let words: Vec<&str> = (skip..skip + 3).map(w).collect();
            for n in (k + 1..=3).rev().filter(|&n| n > 1) {
                if let Some(doc) = directive(&words[..n].join(" ")) {
                    return Some(doc);
                }
            }
            if k == 0 {
                return directive(first);
            }
            // A sub-keyword the registry has no entry of its own for (`stats socket`, `stats
            // timeout` in global): its family's doc.
            let family = registry::DIRECTIVES.iter().any(|d| {
                d.name
                    .strip_prefix(first)
                    .is_some_and(|rest| rest.starts_with(' '))
            });
            let keyword_like = second
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'.');
            if k == 1 && family && keyword_like && !second.is_empty() {
                family_doc = directive(first).map(|doc| {
                    doc.replacen(&format!("**{first}**"), &format!("**{first} {second}**"), 1)
                });
            }
        }
        let word = w(i);
        // A redirect's form, options and code; an ACL's flags and match method.
        let values: Vec<&str> = line.words.iter().map(|w| w.value.as_str()).collect();
        if let Some(doc) = crate::arguments::doc(&values, i) {
            return Some(doc);
        }
        if k >= 1 {
            match word {
                "if" => return Some(CONDITION_IF.to_string()),
                "unless" => return Some(CONDITION_UNLESS.to_string()),
                _ => {}
            }
        }
        // The options of bind, `stats socket`, server and default TLS option lines.
        let values: Vec<&str> = line.words.iter().map(|w| w.value.as_str()).collect();
        if let Some((start, server)) = crate::words::options_start(&values) {
            if i >= start {
                return if server {
                    registry::server_option(word)
                        .map(|o| format!("**{}** (server option) — {}", o.name, o.doc))
                } else {
                    registry::bind_option(word)
                        .map(|o| format!("**{}** (bind option) — {}", o.name, o.doc))
                }
                .or(family_doc);
            }
        }
        let Some((set, _)) = rule_set(w(0), w(1)).filter(|&(_, at)| at == i) else {
            return family_doc;
        };
        if let Some(name) = word.strip_prefix("lua.").filter(|n| !n.is_empty()) {
            return Some(format!(
                "**{} lua.{name}** — the action a Lua script registers as '{name}' with `core.register_action`",
                set.keyword()
            ));
        }
        registry::action(set, word)
            .map(|a| {
                format!(
                    "**{} {}** ({}{}) — {}",
                    set.keyword(),
                    a.name,
                    status(&a.status),
                    if a.is_final { ", final" } else { "" },
                    a.doc
                )
            })
            .or(family_doc)
    }

    /// For an ACL or server name under the cursor: its definition line.
    fn name_summary(&self, pos: lsp::Position) -> Option<String> {
        use crate::symbols::Kind;
        let at = self.enc.offset(self.file(), pos) as u32;
        let o = crate::symbols::at(self.index(), self.focus, at)?;
        if o.kind == Kind::Backend {
            return None;
        }
        if o.kind == Kind::Group {
            return self.group_summary(o);
        }
        let def = crate::symbols::same(self.index(), o).find(|x| x.definition)?;
        if !matches!(o.kind, Kind::Acl | Kind::Server) {
            return self.section_summary(def);
        }
        let file = self.c.db.file(def.span.file);
        let line = file.line_index(def.span.start as usize);
        let text = file.text[file.line_range(line)].trim();
        let what = if o.kind == Kind::Acl { "ACL" } else { "server" };
        Some(format!("**{what} {}** — `{text}`", o.name))
    }

    /// For a userlist group's name: its userlist, the line defining it and the `user` lines
    /// naming it, as written (a group no line defines says so: HAProxy refuses it).
    fn group_summary(&self, o: &crate::symbols::Occurrence) -> Option<String> {
        let tree = &self.c.tree;
        let list = tree.sections.get(o.scope)?;
        let list_name = tree.header(list).words.get(1)?.value.as_str();
        let mut text = format!(
            "**group {}** of userlist `{list_name}`

",
            o.name
        );
        let line_of = |span: hapee_compiler::source::Span| {
            let file = self.c.db.file(span.file);
            file.text[file.line_range(file.line_index(span.start as usize))].trim()
        };
        let all: Vec<_> = crate::symbols::same(self.index(), o).collect();
        let mut lines: Vec<&str> = (all.iter().filter(|x| x.definition))
            .map(|x| line_of(x.span))
            .collect();
        if lines.is_empty() {
            text.push_str("No `group` line of that userlist defines it.\n\n");
        }
        // The `user` lines of the userlist that name the group.
        let members = (all.iter().filter(|x| !x.definition))
            .map(|x| line_of(x.span))
            .filter(|l| l.starts_with("user ") || l.starts_with("user\t"));
        for l in members {
            if !lines.contains(&l) {
                lines.push(l);
            }
        }
        if !lines.is_empty() {
            text.push_str("```haproxy\n");
            for l in lines {
                text.push_str(l);
                text.push('\n');
            }
            text.push_str("```");
        }
        Some(text.trim_end().to_string())
    }

    /// For the name of a userlist, resolvers, peers or defaults section: its header and its
    /// first lines, as written.
    fn section_summary(&self, def: &crate::symbols::Occurrence) -> Option<String> {
        const SHOWN: usize = 12;
        let tree = &self.c.tree;
        let section = tree
            .sections
            .iter()
            .find(|s| tree.header(s).words.iter().any(|w| w.span == def.span))?;
        let header = tree.header(section);
        let mut text = format!(
            "**{} {}**\n\n```haproxy\n",
            section.kind.keyword(),
            def.name
        );
        text.push_str(self.c.db.text(header.span).trim());
        text.push('\n');
        let body: Vec<&str> = tree
            .body(section)
            .map(|l| self.c.db.text(l.span).trim())
            .filter(|l| !l.is_empty())
            .collect();
        for line in body.iter().take(SHOWN) {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
        if body.len() > SHOWN {
            text.push_str(&format!("    # … {} more lines\n", body.len() - SHOWN));
        }
        text.push_str("```");
        Some(text)
    }

    /// For a proxy name: what the section is (a backend's servers, a frontend's binds).
    fn definition_summary(&self, name: &str) -> Option<String> {
        let Some((_, p)) = self.c.config.backend(name) else {
            let p = self
                .c
                .config
                .proxies
                .iter()
                .find(|p| p.name.as_ref().is_some_and(|n| n.value.as_str() == name))?;
            let binds: Vec<&str> = p.binds.iter().map(|b| b.address.value.as_str()).collect();
            let mut text = format!(
                "**{} {}** — mode {}",
                p.kind.section_keyword(),
                name,
                p.effective_mode().as_str()
            );
            if !binds.is_empty() {
                text.push_str(&format!(", binds: {}", binds.join(", ")));
            }
            if let Some(b) = &p.default_backend {
                text.push_str(&format!(", default_backend {}", b.value.as_str()));
            }
            return Some(text);
        };
        let servers: Vec<&str> = p.servers.iter().map(|s| s.name.value.as_str()).collect();
        Some(format!(
            "**{} {}** — mode {}, balance {}, servers: {}",
            p.kind.section_keyword(),
            p.name_str(),
            p.effective_mode().as_str(),
            p.balance
                .as_ref()
                .map_or("roundrobin", |b| b.value.as_str()),
            servers.join(", ")
        ))
    }
}

/// The doc of the fetch, converter or ACL keyword at byte `at` of a word's raw text, and the
/// bytes of the word its name takes.
fn sample_doc(raw: &str, at: usize) -> Option<(String, std::ops::Range<usize>)> {
    let (name, after_comma, start) = sample_name(raw, at)?;
    let doc = sample_name_doc(name, after_comma)?;
    Some((doc, start..start + name.len()))
}

/// The doc of fetch, converter or ACL keyword `name` (a converter when it follows a comma).
fn sample_name_doc(name: &str, after_comma: bool) -> Option<String> {
    let converter = || {
        registry::converter(name).map(|c| {
            format!(
                "**{}** (converter) — {}\n\n`{}`",
                c.name,
                c.doc,
                converter_signature(c)
            )
        })
    };
    let fetch = || {
        registry::fetch(name).map(|f| {
            format!(
                "**{}** (fetch) — {}\n\n`{}`",
                f.name,
                f.doc,
                fetch_signature(f)
            )
        })
    };
    let acl = || {
        registry::acl_keyword(name).map(|k| {
            format!(
                "**{}** (ACL keyword) — `{}` matched with `-m {}`",
                k.name, k.fetch, k.method
            )
        })
    };
    if after_comma {
        converter().or_else(fetch)
    } else {
        fetch().or_else(acl).or_else(converter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_inside_expressions() {
        assert_eq!(sample_name("hdr(host),lower", 1), Some(("hdr", false, 0)));
        assert_eq!(
            sample_name("hdr(host),lower", 12),
            Some(("lower", true, 10))
        );
        assert_eq!(sample_name("%[req.hdr(x)]", 4), Some(("req.hdr", false, 2)));
        assert_eq!(sample_name("-i", 1), None);
    }

    #[test]
    fn argument_lists() {
        let spec = ArgSpec {
            types: &[registry::ArgType::Str, registry::ArgType::Sint],
            mandatory: 0,
        };
        assert_eq!(arguments(&spec), "([str[,sint]])");
        let spec = ArgSpec {
            types: &[registry::ArgType::Str, registry::ArgType::Sint],
            mandatory: 1,
        };
        assert_eq!(arguments(&spec), "(str[,sint])");
    }
}
