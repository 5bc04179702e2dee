//! Completion by context: what may come at the cursor, from the words before it on the line,
//! the section it is in, and the registry (each item carries its one-line doc).

use crate::analysis::Analysis;
use hapee_compiler::expr::sample;
use hapee_compiler::registry::{self, RuleSet, SampleType, SectionKind, Status};
use lsp_types as lsp;
use lsp_types::CompletionItemKind as K;

fn item(label: &str, doc: &str, kind: K) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(doc.to_string()),
        ..Default::default()
    }
}

fn status_note(status: &Status) -> &'static str {
    match status {
        Status::Stable => "",
        Status::Experimental => " (experimental)",
        Status::Deprecated { .. } => " (deprecated)",
        _ => " (removed)",
    }
}

/// The output type of the sample expression `text` (fetch and converters), if it parses.
fn output_type(text: &str) -> Option<SampleType> {
    sample::parse(text, true).ok().map(|(e, _)| e.output)
}

/// An item whose detail is a signature and whose documentation is the doc line.
fn signed(label: &str, signature: String, doc: &str, kind: K) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(signature),
        documentation: Some(lsp::Documentation::String(doc.to_string())),
        ..Default::default()
    }
}

fn fetches() -> Vec<lsp::CompletionItem> {
    registry::FETCHES
        .iter()
        .map(|f| {
            signed(
                f.name,
                crate::hover::fetch_signature(f),
                &format!("{}{}", f.doc, status_note(&f.status)),
                K::FUNCTION,
            )
        })
        .chain(
            registry::ACL_KEYWORDS
                .iter()
                .filter(|k| registry::fetch(k.name).is_none())
                .map(|k| {
                    item(
                        k.name,
                        &format!("ACL keyword: {} matched with -m {}", k.fetch, k.method),
                        K::FUNCTION,
                    )
                }),
        )
        .collect()
}

/// Converters that accept `input`.
fn converters(input: Option<SampleType>) -> Vec<lsp::CompletionItem> {
    registry::CONVERTERS
        .iter()
        .filter(|c| input.is_none_or(|t| t.casts_to(c.input)))
        .map(|c| {
            signed(
                c.name,
                crate::hover::converter_signature(c),
                &format!("{}{}", c.doc, status_note(&c.status)),
                K::METHOD,
            )
        })
        .collect()
}

/// Whether `c` may be part of a name the server completes (keywords like `http-request`,
/// `tune.ssl.lifetime`, fetches like `req.hdr`, proxy and ACL names).
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

impl Analysis {
    /// Completion items for the cursor position, each with the edit that replaces the part of
    /// the name typed so far. Editors left to find that part themselves cut it at `-` and `.`
    /// (their own idea of a word): accepting `http-request` after `http-req` would leave
    /// `http-http-request`.
    pub fn completion(&self, pos: lsp::Position) -> Vec<lsp::CompletionItem> {
        let mut items = self.candidates(pos);
        let f = self.file();
        let at = self.enc.offset(f, pos);
        let line_start = crate::position::line_start(f, at);
        let typed = f.text[line_start..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| name_char(c))
            .last()
            .map_or(at, |(i, _)| line_start + i);
        // With the cursor inside a name (`use_bac|kend`), accepting an item replaces all of it:
        // the rest of the name goes too.
        let rest = f.text[at..]
            .find(|c: char| !name_char(c))
            .map_or(f.text.len(), |i| at + i);
        let prefix = f.text[typed..at].to_lowercase();
        items.retain(|item| item.label.to_lowercase().starts_with(&prefix));
        let range = lsp::Range {
            start: self.enc.position(f, typed),
            end: self.enc.position(f, rest),
        };
        for item in &mut items {
            item.text_edit = Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
                range,
                new_text: item.label.clone(),
            }));
        }
        items
    }

    /// What may come at the cursor.
    fn candidates(&self, pos: lsp::Position) -> Vec<lsp::CompletionItem> {
        let f = self.file();
        let at = self.enc.offset(f, pos);
        let line_start = crate::position::line_start(f, at);
        let before = &f.text[line_start..at];
        let words: Vec<&str> = before.split_whitespace().collect();
        let typing_new = before.is_empty() || before.ends_with(char::is_whitespace);
        let index = if typing_new {
            words.len()
        } else {
            words.len().saturating_sub(1)
        };
        let current = if typing_new {
            ""
        } else {
            words.last().copied().unwrap_or("")
        };
        let section = self.section_at(self.source_line(pos));
        // A keyword's own words (`option forwardfor if-none`, `http-check send meth`) and the
        // values chosen from a list (`meth GET`, `level admin`, `init-addr last,libc`); the
        // ones already written are not offered again.
        if let Some(table) = crate::words::choices(section, &words, index) {
            let written: Vec<&str> = words[..index]
                .iter()
                .copied()
                .chain(
                    current
                        .rsplit_once(',')
                        .map_or("", |(done, _)| done)
                        .split(','),
                )
                .collect();
            return table
                .iter()
                .filter(|v| !written.contains(&v.name))
                .map(|v| item(v.name, v.doc, K::ENUM_MEMBER))
                .collect();
        }
        // A file's path (`crt`, `errorfile`, `-f`, `map(`), and the free values of bind and
        // server options (`track`'s server, `sni`'s expression), which are no options.
        if let Some(start) = crate::paths::path_start(&words, index, current) {
            return self.path_items(&current[start..]);
        }
        if let Some(crate::words::Place::Value { word, .. }) = crate::words::options_start(&words)
            .and_then(|_| crate::words::place(section, &words, index))
        {
            return match word {
                "track" => {
                    let own = (words.first() == Some(&"server")).then(|| words.get(1));
                    let own = own.flatten().copied();
                    self.track_items(self.source_line(pos), current, own)
                }
                "sni" => fetches(),
                _ => Vec::new(),
            };
        }
        let first = words.first().copied().unwrap_or("");
        // `no option x` / `default option x` complete as `option x`, with only the options
        // that take the prefix.
        let (index, first, negated) = match (first, words.get(1).copied()) {
            ("no" | "default", Some("option")) if index >= 1 => (index - 1, "option", true),
            _ => (index, first, false),
        };
        // The header name a `hdr(…)`-like fetch or converter takes first.
        // Inside a call's parentheses come its arguments, not converters.
        match crate::signature::open_call(current) {
            Some((name, _, 0)) if name.contains("hdr") => {
                return HEADERS
                    .iter()
                    .map(|h| item(h, "HTTP header", K::CONSTANT))
                    .collect();
            }
            Some(_) => return Vec::new(),
            None => {}
        }
        // Inside a sample expression: after a comma come converters of the right input type.
        if let Some(comma) = current.rfind(',') {
            let expr = current[..comma]
                .trim_start_matches("%[")
                .trim_start_matches('{');
            return converters(output_type(expr));
        }
        if current.starts_with("%[") {
            return fetches();
        }
        // A redirect's form, options and code; an ACL's flags and match method.
        if let Some(values) = crate::arguments::choices(&words, index) {
            return values
                .iter()
                .map(|v| item(v.name, v.doc, K::ENUM_MEMBER))
                .collect();
        }
        let rule = crate::hover::rule_set(first, words.get(1).copied().unwrap_or(""));
        let in_condition = words
            .iter()
            .take(index)
            .any(|w| *w == "if" || *w == "unless");
        let in_braces = words.iter().take(index).filter(|w| **w == "{").count()
            > words.iter().take(index).filter(|w| **w == "}").count();
        match (index, first) {
            (0, _) => {
                let mut items: Vec<_> = SectionKind::ALL
                    .iter()
                    .map(|k| item(k.keyword(), &format!("section: {}", k.doc()), K::MODULE))
                    .collect();
                if let Some(s) = section {
                    items.extend(directives(s, false));
                }
                items
            }
            (1, "no") => {
                let mut items = vec![item("option", "disable an option", K::KEYWORD)];
                items.extend(section.map(|s| directives(s, true)).unwrap_or_default());
                items
            }
            (1, "option") => registry::OPTIONS
                .iter()
                .filter(|o| section.is_none_or(|s| o.sections.contains(s)))
                .filter(|o| !negated || o.negatable)
                .map(|o| {
                    let doc = format!("{}{}", o.doc, status_note(&o.status));
                    let mut i = item(o.name, &doc, K::PROPERTY);
                    if o.negatable && !negated {
                        i.label_details = Some(lsp::CompletionItemLabelDetails {
                            detail: Some(" (also: no option)".into()),
                            description: None,
                        });
                    }
                    i
                })
                .collect(),
            (1, "timeout") => registry::DIRECTIVES
                .iter()
                .filter(|d| section.is_none_or(|s| d.sections.contains(s)))
                .filter_map(|d| Some((d.name.strip_prefix("timeout ")?, d)))
                .map(|(name, d)| item(name, d.doc, K::PROPERTY))
                .collect(),
            (1, "use_backend" | "default_backend") => self.backend_names(),
            (1, "use-server") => self.server_names(self.source_line(pos)),
            (1, "tcp-request") => ["connection", "session", "content", "inspect-delay"]
                .iter()
                .map(|w| item(w, "tcp-request rule set", K::KEYWORD))
                .collect(),
            (1, "tcp-response") => vec![item("content", "tcp-response rule set", K::KEYWORD)],
            _ if rule.is_some_and(|(_, at)| index == at) => {
                rule.map(|(set, _)| actions(set)).unwrap_or_default()
            }
            // The sample expression an action takes (`set-var(txn.x) <expr>`).
            _ if rule.is_some_and(|(_, at)| {
                index == at + 1 && words.get(at).is_some_and(|a| takes_expression(a))
            }) =>
            {
                fetches()
            }
            (2, "stick" | "balance")
                if matches!(
                    words.get(1).copied(),
                    Some("on" | "match" | "store-request" | "store-response" | "hash")
                ) =>
            {
                fetches()
            }
            (2, "acl") => fetches(),
            _ if in_condition && in_braces => fetches(),
            _ if in_condition => self.acl_names(self.source_line(pos)),
            _ if words.get(index.wrapping_sub(1)) == Some(&"table") => self.backend_names(),
            (i, "bind") if i >= 2 => registry::BIND_OPTIONS
                .iter()
                .filter(|o| !CLI_ONLY_BIND_OPTIONS.contains(&o.name))
                .map(|o| {
                    item(
                        o.name,
                        &format!("{}{}", o.doc, status_note(&o.status)),
                        K::PROPERTY,
                    )
                })
                .collect(),
            (i, "server") if i >= 3 => server_options(false),
            (i, "default-server") if i >= 1 => server_options(true),
            _ => Vec::new(),
        }
    }

    fn backend_names(&self) -> Vec<lsp::CompletionItem> {
        self.c
            .config
            .proxies
            .iter()
            .filter(|p| p.kind.has_backend() && p.name.is_some())
            .map(|p| {
                let doc = format!(
                    "{} (mode {})",
                    p.kind.section_keyword(),
                    p.effective_mode().as_str()
                );
                item(p.name_str(), &doc, K::REFERENCE)
            })
            .collect()
    }

    /// The section (index in the tree) holding `line`.
    fn section_index(&self, line: usize) -> Option<usize> {
        let f = self.file();
        let tree = &self.c.tree;
        tree.sections.iter().rposition(|s| {
            s.file == self.focus && f.line_index(tree.header(s).span.start as usize) <= line
        })
    }

    fn names_in_section(
        &self,
        line: usize,
        keyword: &str,
        doc: &str,
        kind: K,
    ) -> Vec<lsp::CompletionItem> {
        let tree = &self.c.tree;
        let Some(si) = self.section_index(line) else {
            return Vec::new();
        };
        tree.body(&tree.sections[si])
            .filter(|l| l.words.first().is_some_and(|w| w.value == keyword))
            .filter_map(|l| l.words.get(1))
            .map(|w| item(&w.value, doc, kind))
            .collect()
    }

    fn server_names(&self, line: usize) -> Vec<lsp::CompletionItem> {
        self.names_in_section(line, "server", "server of this backend", K::REFERENCE)
    }

    fn acl_names(&self, line: usize) -> Vec<lsp::CompletionItem> {
        let mut items = self.names_in_section(line, "acl", "ACL of this section", K::VARIABLE);
        items.dedup_by(|a, b| a.label == b.label);
        for predefined in [
            "TRUE",
            "FALSE",
            "LOCALHOST",
            "HTTP",
            "METH_GET",
            "METH_POST",
            "HTTP_1.1",
        ] {
            items.push(item(predefined, "predefined ACL", K::CONSTANT));
        }
        items
    }
}

/// The directives that have an effect in `section` (a frontend is not offered `server`, a
/// backend not `bind`), one item per first word; with `negatable`, only those taking `no`.
fn directives(section: SectionKind, negatable: bool) -> Vec<lsp::CompletionItem> {
    let side = |name: &str| {
        registry::SIDE_OF
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, front)| front)
    };
    let fits = |name: &str| match (section, side(name)) {
        (SectionKind::Frontend, Some(front)) | (SectionKind::Backend, Some(front)) => {
            front == (section == SectionKind::Frontend)
        }
        _ => true,
    };
    registry::directives_in(section)
        .filter(|d| d.sections.contains(section) && !d.name.contains(' '))
        .filter(|d| !negatable || d.negatable)
        .filter(|d| fits(d.name))
        .map(|d| {
            item(
                d.name,
                &format!("{}{}", d.doc, status_note(&d.status)),
                K::KEYWORD,
            )
        })
        .collect()
}

fn actions(set: RuleSet) -> Vec<lsp::CompletionItem> {
    registry::actions_of(set)
        .map(|a| {
            item(
                a.name,
                &format!("{}{}", a.doc, status_note(&a.status)),
                K::FUNCTION,
            )
        })
        .collect()
}

fn server_options(default_server: bool) -> Vec<lsp::CompletionItem> {
    registry::SERVER_OPTIONS
        .iter()
        .filter(|o| !default_server || o.default_server)
        .map(|o| item(o.name, o.doc, K::PROPERTY))
        .collect()
}

/// Bind options only a `stats socket` takes: not offered on a proxy's `bind` line.
const CLI_ONLY_BIND_OPTIONS: &[&str] = &["level", "expose-fd", "severity-output"];

/// Whether a rule action (`set-var(txn.x)`, `track-sc0`) is followed by a sample expression.
fn takes_expression(action: &str) -> bool {
    let name = action.split('(').next().unwrap_or(action);
    matches!(
        name,
        "set-var"
            | "set-src"
            | "set-dst"
            | "set-src-port"
            | "set-dst-port"
            | "set-priority-class"
            | "set-priority-offset"
            | "sc-set-gpt"
            | "sc-set-gpt0"
            | "capture"
            | "track-sc0"
            | "track-sc1"
            | "track-sc2"
            | "do-resolve"
    )
}

/// Header names offered inside `hdr(`, `req.hdr(`, `res.hdr(`, `hdr_beg(`…, lower case as
/// HTTP/2 writes them (HAProxy compares header names without regard to case).
const HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "forwarded",
    "host",
    "location",
    "origin",
    "referer",
    "set-cookie",
    "upgrade",
    "user-agent",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-real-ip",
    "x-request-id",
];
