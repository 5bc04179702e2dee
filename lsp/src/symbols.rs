//! Named objects of a configuration and every place they are written: definitions and
//! references of backends, ACLs, servers, stick tables, userlists, resolvers, peers and
//! defaults profiles. References, rename and definition all read this index.

use hapee_compiler::registry::SectionKind;
use hapee_compiler::source::Span;
use hapee_compiler::syntax::SyntaxTree;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Backends and listen sections (also the name of their stick table).
    Backend,
    /// ACLs, scoped to their section.
    Acl,
    /// Servers, scoped to their backend.
    Server,
    Userlist,
    /// A userlist's groups, scoped to their userlist section (`group NAME`, `user … groups
    /// NAME,…`, the patterns of `http_auth_group(USERLIST)`).
    Group,
    Resolvers,
    Peers,
    Defaults,
}

/// One written occurrence of a name.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub kind: Kind,
    /// Section index for scoped kinds (ACLs, servers), else `usize::MAX`.
    pub scope: usize,
    pub name: String,
    pub span: Span,
    pub definition: bool,
}

const GLOBAL_SCOPE: usize = usize::MAX;

/// Builds the index from the active lines of the syntax tree; `raw` gives a span's source text
/// so that a name inside a word (`http_auth(users)`) gets its own span.
pub fn index(tree: &SyntaxTree, raw: &dyn Fn(Span) -> String) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let mut push = |kind, scope, name: &str, span, definition| {
        out.push(Occurrence {
            kind,
            scope,
            name: name.to_string(),
            span,
            definition,
        })
    };
    // Each userlist's section, for the group names `http_auth_group(NAME)` matches.
    let userlists: Vec<(&str, usize)> = (tree.sections.iter().enumerate())
        .filter(|(_, s)| s.kind == SectionKind::Userlist)
        .filter_map(|(si, s)| Some((tree.header(s).words.get(1)?.value.as_str(), si)))
        .collect();
    for (si, section) in tree.sections.iter().enumerate() {
        let header = tree.header(section);
        let defined = match section.kind {
            SectionKind::Backend | SectionKind::Listen => Some(Kind::Backend),
            SectionKind::Userlist => Some(Kind::Userlist),
            SectionKind::Resolvers => Some(Kind::Resolvers),
            SectionKind::Peers => Some(Kind::Peers),
            SectionKind::Defaults => Some(Kind::Defaults),
            _ => None,
        };
        if let (Some(kind), Some(name)) = (defined, header.words.get(1)) {
            if name.value != "from" {
                push(kind, GLOBAL_SCOPE, &name.value, name.span, true);
            }
        }
        if let Some(i) = header.words.iter().position(|w| w.value == "from") {
            if let Some(w) = header.words.get(i + 1) {
                push(Kind::Defaults, GLOBAL_SCOPE, &w.value, w.span, false);
            }
        }
        // ACL names defined in this section, for the condition words that use them.
        let acl_names: Vec<String> = tree
            .body(section)
            .filter(|l| l.words.first().is_some_and(|w| w.value == "acl"))
            .filter_map(|l| l.words.get(1).map(|w| w.value.to_string()))
            .collect();
        for line in tree.body(section) {
            let words = &line.words;
            let Some(first) = words.first() else { continue };
            match first.value.as_str() {
                "acl" => {
                    if let Some(w) = words.get(1) {
                        push(Kind::Acl, si, &w.value, w.span, true);
                    }
                }
                "server" => {
                    if let Some(w) = words.get(1) {
                        push(Kind::Server, si, &w.value, w.span, true);
                    }
                }
                "use-server" => {
                    if let Some(w) = words.get(1) {
                        push(Kind::Server, si, &w.value, w.span, false);
                    }
                }
                "group" if section.kind == SectionKind::Userlist => {
                    if let Some(w) = words.get(1) {
                        push(Kind::Group, si, &w.value, w.span, true);
                    }
                }
                "user" if section.kind == SectionKind::Userlist => {
                    if let Some(i) = words.iter().position(|w| w.value == "groups") {
                        if let Some(w) = words.get(i + 1) {
                            for (name, span) in list_items(w, &raw(w.span)) {
                                push(Kind::Group, si, name, span, false);
                            }
                        }
                    }
                }
                "use_backend" | "default_backend" => {
                    if let Some(w) = words.get(1).filter(|w| !w.value.contains("%[")) {
                        push(Kind::Backend, GLOBAL_SCOPE, &w.value, w.span, false);
                    }
                }
                _ => {}
            }
            let mut in_condition = false;
            for (i, w) in words.iter().enumerate() {
                let v = w.value.as_str();
                if v == "if" || v == "unless" {
                    in_condition = true;
                    continue;
                }
                if in_condition {
                    let name = v.trim_start_matches('!');
                    if acl_names.iter().any(|a| a == name) {
                        let skip = (v.len() - name.len()) as u32;
                        let span = Span {
                            start: w.span.start + skip,
                            ..w.span
                        };
                        push(Kind::Acl, si, name, span, false);
                    }
                }
                let next = words.get(i + 1);
                match (v, next) {
                    ("table", Some(n)) if first.value != "stick-table" => {
                        push(Kind::Backend, GLOBAL_SCOPE, &n.value, n.span, false)
                    }
                    ("resolvers", Some(n))
                        if first.value == "server" || first.value == "default-server" =>
                    {
                        push(Kind::Resolvers, GLOBAL_SCOPE, &n.value, n.span, false)
                    }
                    ("peers", Some(n)) if first.value == "stick-table" => {
                        push(Kind::Peers, GLOBAL_SCOPE, &n.value, n.span, false)
                    }
                    _ => {}
                }
                // Names inside sample-fetch arguments: `http_auth(users)`, `nbsrv(app)`.
                if !v.contains('(') {
                    continue;
                }
                let text = raw(w.span);
                for (fetch, kind) in [
                    ("http_auth(", Kind::Userlist),
                    ("http_auth_group(", Kind::Userlist),
                    ("nbsrv(", Kind::Backend),
                    ("be_conn(", Kind::Backend),
                    ("table_cnt(", Kind::Backend),
                ] {
                    if let Some(at) = text.find(fetch) {
                        let rest = &text[at + fetch.len()..];
                        let len = rest.find([')', ',']).unwrap_or(rest.len());
                        // The words after `http_auth_group(NAME)` are groups of that userlist.
                        let groups_of = (kind == Kind::Userlist && fetch.ends_with("group("))
                            .then(|| userlists.iter().find(|(n, _)| *n == &rest[..len]))
                            .flatten();
                        if let Some(&(_, list)) = groups_of {
                            let patterns = words[i + 1..]
                                .iter()
                                .take_while(|g| !ENDS_PATTERNS.contains(&g.value.as_str()));
                            // ACL flags (`-i`, `-m str`, `-f FILE`) are no patterns.
                            // `--` ends them.
                            let (mut flag_value, mut flags) = (false, true);
                            for g in patterns {
                                let v = g.value.as_str();
                                if std::mem::take(&mut flag_value) {
                                    continue;
                                }
                                if flags && v.starts_with('-') {
                                    flags = v != "--";
                                    flag_value = matches!(v, "-m" | "-f" | "-u");
                                    continue;
                                }
                                push(Kind::Group, list, v, g.span, false);
                            }
                        }
                        if len > 0 && text.len() == w.value.len() {
                            let start = w.span.start + (at + fetch.len()) as u32;
                            let span = Span {
                                start,
                                end: start + len as u32,
                                ..w.span
                            };
                            push(kind, GLOBAL_SCOPE, &rest[..len], span, false);
                        }
                    }
                }
            }
        }
    }
    out
}

/// The words that end an ACL's patterns inside a condition.
const ENDS_PATTERNS: [&str; 6] = ["}", "if", "unless", "||", "or", "!"];

/// The names of a comma-separated list word (`admin,ops`) and their spans; none when the word
/// is written with quotes or escapes (its text is not its value).
fn list_items<'a>(
    w: &'a hapee_compiler::syntax::Word,
    raw: &str,
) -> impl Iterator<Item = (&'a str, Span)> + 'a {
    let plain = raw == w.value.as_str();
    let mut start = w.span.start;
    (w.value.split(','))
        .filter(move |_| plain)
        .map(move |name| {
            let span = Span {
                start,
                end: start + name.len() as u32,
                ..w.span
            };
            start += name.len() as u32 + 1;
            (name, span)
        })
        .filter(|(name, _)| !name.is_empty())
}

/// The occurrence whose span contains `offset`.
pub fn at(index: &[Occurrence], file: hapee_compiler::FileId, offset: u32) -> Option<&Occurrence> {
    index
        .iter()
        .find(|o| o.span.file == file && o.span.start <= offset && offset <= o.span.end)
}

/// Every occurrence of the same object as `o`.
pub fn same<'a>(
    index: &'a [Occurrence],
    o: &'a Occurrence,
) -> impl Iterator<Item = &'a Occurrence> + 'a {
    index
        .iter()
        .filter(move |x| x.kind == o.kind && x.scope == o.scope && x.name == o.name)
}

/// Whether `name` can replace an object name (HAProxy's name characters).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}
