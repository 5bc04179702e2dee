//! `hapee-anon config`: anonymizes a configuration beyond `-dC` while keeping it usable. Every
//! line, section and keyword stays; names, addresses, host names, paths and free text are
//! replaced by valid values of the same kind, consistently, so the result still passes
//! `hapee-lb check --no-env`. Comments are removed (they are free text).

use crate::keyed::{looks_like_hostname, Anonymizer};
use hapee_compiler::check::Compilation;
use hapee_compiler::registry::SectionKind;
use hapee_compiler::syntax::{LineKind, Word};
use rustc_hash::FxHashSet;

/// Names the configuration defines: every occurrence of one of them in a name position or an
/// expression argument is replaced by the same token.
pub(crate) fn defined_names(c: &Compilation) -> FxHashSet<String> {
    let mut names = FxHashSet::default();
    for p in &c.config.proxies {
        if let Some(n) = &p.name {
            names.insert(n.value.to_string());
        }
        names.extend(
            p.servers
                .iter()
                .filter(|s| !s.name.value.is_empty())
                .map(|s| s.name.value.to_string()),
        );
        names.extend(p.acls.iter().map(|a| a.name.value.to_string()));
    }
    for s in &c.config.sections {
        if let Some(n) = &s.name {
            names.insert(n.value.to_string());
        }
        for m in &s.members {
            let v = m
                .value
                .strip_prefix("table:")
                .map_or(m.value.as_str(), |t| t.rsplit('/').next().unwrap_or(t));
            names.insert(v.to_string());
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Quotes a value so that HAProxy's lexer reads it back unchanged.
fn quote(v: &str) -> String {
    if !v.is_empty()
        && !v
            .bytes()
            .any(|b| b.is_ascii_whitespace() || matches!(b, b'#' | b'"' | b'\'' | b'\\' | b'$'))
    {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

struct Ctx<'a> {
    anon: &'a mut Anonymizer,
    names: FxHashSet<String>,
}

impl Ctx<'_> {
    fn name(&mut self, v: &str) -> String {
        if v.is_empty() {
            v.to_string()
        } else {
            self.anon.name(v)
        }
    }

    /// An address slot: `[prefix@]host[:port]` lists; wildcards, ports, paths handled.
    fn address(&mut self, v: &str) -> String {
        v.split(',')
            .map(|part| self.one_address(part))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn one_address(&mut self, v: &str) -> String {
        let (prefix, rest) = match v.find('@') {
            Some(i) if !v[..i].contains([':', '/']) => (&v[..=i], &v[i + 1..]),
            _ => ("", v),
        };
        if matches!(prefix, "fd@" | "sockpair@") || matches!(rest, "stdout" | "stderr") {
            return v.to_string();
        }
        // `log ring@<name>`: the name of a ring section (`buf0` is built in).
        if prefix == "ring@" {
            return match rest {
                "buf0" => v.to_string(),
                _ => format!("ring@{}", self.name(rest)),
            };
        }
        if rest.starts_with('/') || matches!(prefix, "unix@" | "abns@" | "uxst@" | "uxdg@") {
            return format!("{prefix}{}", self.anon.path(rest));
        }
        if rest.starts_with(':') || rest.starts_with("*:") || rest.is_empty() || rest.contains('$')
        {
            return v.to_string();
        }
        if let Some(a) = self.anon.address_text(rest) {
            return format!("{prefix}{a}");
        }
        // host:port with a name
        let (host, port) = rest
            .rsplit_once(':')
            .filter(|(_, p)| {
                p.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+'))
            })
            .unwrap_or((rest, ""));
        let host = if host.eq_ignore_ascii_case("localhost") {
            host.to_string()
        } else {
            self.anon.hostname(host)
        };
        if port.is_empty() && !rest.ends_with(':') {
            format!("{prefix}{host}")
        } else {
            format!("{prefix}{host}:{port}")
        }
    }

    /// Replaces defined names used as arguments inside `name(args)` and `%[...]`.
    fn expression(&mut self, v: &str) -> String {
        if !v.contains('(') {
            return v.to_string();
        }
        let mut out = String::with_capacity(v.len());
        let mut token = String::new();
        let mut depth = 0;
        for c in v.chars() {
            let boundary = matches!(c, '(' | ')' | ',' | '/' | '[' | ']' | ' ');
            if boundary {
                out.push_str(&self.arg_token(&token, depth > 0));
                token.clear();
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                out.push(c);
            } else {
                token.push(c);
            }
        }
        out.push_str(&self.arg_token(&token, depth > 0));
        out
    }

    fn arg_token(&mut self, t: &str, in_args: bool) -> String {
        if in_args && self.names.contains(t) {
            self.anon.name(t)
        } else if in_args && looks_like_hostname(t) && !is_dotted_keyword(t) {
            self.anon.hostname(t)
        } else {
            t.to_string()
        }
    }

    /// A word of unknown role: addresses and host names go, everything else stays.
    fn generic(&mut self, v: &str) -> String {
        if let Some(a) = self.anon.address_text(v) {
            a
        } else if looks_like_hostname(v) && !v.contains('(') && !is_dotted_keyword(v) {
            self.anon.hostname(v)
        } else {
            self.expression(v)
        }
    }

    /// Condition words: ACL names replaced, operators, braces and built-in ACLs kept; inline
    /// ACLs anonymized like `acl` lines.
    fn condition(&mut self, words: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(words.len());
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w == "{" {
                let close = words[i + 1..]
                    .iter()
                    .position(|x| x == "}")
                    .map_or(words.len(), |p| i + 1 + p);
                out.push(w.clone());
                if let Some((criterion, args)) = words[i + 1..close].split_first() {
                    out.push(self.expression(criterion));
                    out.extend(self.acl_args(args));
                }
                out.extend(words.get(close).cloned());
                i = close + 1;
                continue;
            }
            let (bang, name) = w.strip_prefix('!').map_or(("", w.as_str()), |n| ("!", n));
            if self.names.contains(name) {
                out.push(format!("{bang}{}", self.anon.name(name)));
            } else {
                out.push(w.clone());
            }
            i += 1;
        }
        out
    }

    /// The words after an ACL's criterion, on an `acl` line or inside `{ }`: options kept (the
    /// word after `-m` or `-u` too, the file after `-f` masked as a path), then patterns
    /// anonymized. As in HAProxy, the options end at `--` or at the first word that is not one.
    fn acl_args(&mut self, words: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(words.len());
        let mut options = true;
        let mut value_of: Option<&str> = None;
        for w in words {
            if let Some(option) = value_of.take() {
                out.push(if option == "-f" {
                    self.anon.path(w)
                } else {
                    w.clone()
                });
            } else if options && w.starts_with('-') {
                match w.as_str() {
                    "-m" | "-u" | "-f" => value_of = Some(w.as_str()),
                    "--" => options = false,
                    _ => {}
                }
                out.push(w.clone());
            } else {
                options = false;
                out.push(self.pattern(w));
            }
        }
        out
    }

    /// An ACL pattern: flags, numbers and operators kept; addresses, host names, paths and
    /// strings replaced by values that still match the same way.
    fn pattern(&mut self, p: &str) -> String {
        if p.starts_with('-')
            || p.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.'))
                && p.parse::<std::net::Ipv4Addr>().is_err()
        {
            return p.to_string();
        }
        if matches!(p, "eq" | "ge" | "gt" | "le" | "lt") {
            return p.to_string();
        }
        if let Some((ip, mask)) = p.split_once('/') {
            if let (Some(a), true) = (
                self.anon.address_text(ip),
                mask.bytes().all(|b| b.is_ascii_digit()),
            ) {
                return format!("{a}/{mask}");
            }
        }
        if let Some(a) = self.anon.address_text(p) {
            return a;
        }
        if p.starts_with('/') {
            return self.anon.path(p);
        }
        if looks_like_hostname(p) || p.starts_with('.') && looks_like_hostname(&p[1..]) {
            let dot = if p.starts_with('.') { "." } else { "" };
            return format!("{dot}{}", self.anon.hostname(p.trim_start_matches('.')));
        }
        self.anon.string(p)
    }
}

/// Dotted words that are not host names: variables (`txn.x`), Lua names (`lua.svc`), fetches
/// and converters (`req.hdr`).
fn is_dotted_keyword(v: &str) -> bool {
    let first = v.split('.').next().unwrap_or("");
    matches!(
        first,
        "txn" | "sess" | "proc" | "req" | "res" | "check" | "lua" | "var" | "fcgi" | "http"
    ) || hapee_compiler::registry::fetch(v).is_some()
        || hapee_compiler::registry::converter(v).is_some()
}

fn split_cond(words: &[String], from: usize) -> usize {
    words
        .iter()
        .skip(from)
        .position(|w| w == "if" || w == "unless")
        .map_or(words.len(), |p| p + from)
}

/// Anonymizes one statement's cooked words according to its keyword.
fn statement(cx: &mut Ctx, section: Option<SectionKind>, w: &[String]) -> Vec<String> {
    let mut out: Vec<String> = w.to_vec();
    let at = usize::from(w.first().is_some_and(|f| f == "no" || f == "default"));
    let kw = w.get(at).map_or("", String::as_str);
    let arg = |i: usize| w.get(at + i).map_or("", String::as_str);
    let set = |out: &mut Vec<String>, i: usize, v: String| {
        if let Some(slot) = out.get_mut(at + i) {
            *slot = v;
        }
    };
    // Sections.
    if at == 0 && SectionKind::from_keyword(kw).is_some() {
        for i in 1..w.len() {
            if w[i] != "from" {
                out[i] = cx.name(&w[i]);
            }
        }
        return out;
    }
    let cond_at = split_cond(w, at + 1);
    let cond = cx.condition(&w[cond_at..]);
    out.truncate(cond_at);
    for i in at + 1..cond_at {
        out[i] = if i > at + 1 && matches!(w[i - 1].as_str(), "table" | "peers") {
            // `table <name>` and `peers <name>`, possibly `<peers>/<table>`.
            w[i].split('/')
                .map(|n| cx.name(n))
                .collect::<Vec<_>>()
                .join("/")
        } else {
            cx.generic(&w[i])
        };
    }
    match (section, kw) {
        (_, "description") => {
            for i in at + 1..w.len() {
                out[i] = cx.anon.string(&w[i]);
            }
        }
        (_, "server" | "peer" | "nameserver" | "mailer") => {
            set(&mut out, 1, cx.name(arg(1)));
            if !arg(2).is_empty() {
                set(&mut out, 2, cx.address(arg(2)));
            }
            server_options(cx, w, at + 3, &mut out);
        }
        (_, "server-template") => {
            set(&mut out, 1, cx.name(arg(1)));
            set(&mut out, 3, cx.address(arg(3)));
            server_options(cx, w, at + 4, &mut out);
        }
        (_, "default-server") => server_options(cx, w, at + 1, &mut out),
        (_, "bind") => {
            set(&mut out, 1, cx.address(arg(1)));
            server_options(cx, w, at + 2, &mut out);
        }
        (_, "source" | "dgram-bind") => set(&mut out, 1, cx.address(arg(1))),
        (_, "log") if !matches!(arg(1), "global" | "") => set(&mut out, 1, cx.address(arg(1))),
        (
            _,
            "use_backend" | "default_backend" | "use-server" | "errorfiles" | "use-fcgi-app"
            | "table",
        ) => {
            let v = if arg(1).contains("%[") {
                cx.expression(arg(1))
            } else {
                cx.name(arg(1))
            };
            set(&mut out, 1, v);
        }
        (_, "acl") => {
            set(&mut out, 1, cx.name(arg(1)));
            set(&mut out, 2, cx.expression(arg(2)));
            let from = (at + 3).min(cond_at);
            let args = cx.acl_args(&w[from..cond_at]);
            out[from..cond_at].clone_from_slice(&args);
        }
        (Some(SectionKind::Userlist), "user" | "group") => {
            set(&mut out, 1, cx.name(arg(1)));
            let mut i = at + 2;
            while i + 1 < cond_at {
                out[i + 1] = match w[i].as_str() {
                    "users" | "groups" => w[i + 1]
                        .split(',')
                        .map(|n| cx.name(n))
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => cx.anon.string(&w[i + 1]),
                };
                i += 2;
            }
        }
        (_, "user" | "group") => set(&mut out, 1, cx.name(arg(1))),
        (_, "stats") => match arg(1) {
            "uri" => set(&mut out, 2, cx.anon.path(arg(2))),
            "realm" => set(&mut out, 2, cx.anon.string(arg(2))),
            // Free text shown on the stats page, as `description`.
            "show-desc" | "show-node" => {
                for slot in out.iter_mut().take(cond_at).skip(at + 2) {
                    *slot = cx.anon.string(slot);
                }
            }
            "auth" => {
                let (u, p) = arg(2).split_once(':').unwrap_or((arg(2), ""));
                let v = format!("{}:{}", cx.name(u), cx.anon.string(p));
                set(&mut out, 2, v);
            }
            "socket" => {
                set(&mut out, 2, cx.address(arg(2)));
                server_options(cx, w, at + 3, &mut out);
            }
            _ => {}
        },
        (_, "monitor-uri") => set(&mut out, 1, cx.anon.path(arg(1))),
        (_, "errorfile") => set(&mut out, 2, cx.anon.path(arg(2))),
        (_, "errorloc" | "errorloc302" | "errorloc303") => set(&mut out, 2, url(cx, arg(2))),
        (_, "cookie") => set(&mut out, 1, cx.name(arg(1))),
        (
            _,
            "lua-load"
            | "lua-load-per-thread"
            | "ssl-dh-param-file"
            | "crt-base"
            | "ca-base"
            | "server-state-file"
            | "server-state-base"
            | "chroot"
            | "pidfile",
        ) => {
            set(&mut out, 1, cx.anon.path(arg(1)));
            for i in at + 2..cond_at {
                out[i] = cx.anon.string(&w[i]);
            }
        }
        (_, "http-request" | "http-response" | "http-after-response") => {
            rule_values(cx, w, at + 1, cond_at, &mut out);
        }
        (_, "redirect") if matches!(arg(1), "location" | "prefix") => {
            set(&mut out, 2, url(cx, arg(2)))
        }
        (_, "capture") if arg(1) == "cookie" => set(&mut out, 2, cx.anon.string(arg(2))),
        (_, "filter") => filter_values(cx, w, at, cond_at, &mut out),
        // The mailers section gets its section's token, so the alert still finds it.
        (_, "email-alert") => match arg(1) {
            "mailers" => set(&mut out, 2, cx.name(arg(2))),
            "from" | "to" => set(&mut out, 2, cx.anon.email(arg(2))),
            "myhostname" => set(&mut out, 2, cx.anon.hostname(arg(2))),
            _ => {}
        },
        _ => {}
    }
    out.extend(cond);
    out
}

/// A `filter` line's names, files and free text: the cache and FastCGI application named
/// (sections, so their names are replaced alike), the SPOE configuration file, a trace's name.
fn filter_values(cx: &mut Ctx, w: &[String], at: usize, end: usize, out: &mut [String]) {
    match w.get(at + 1).map(String::as_str) {
        Some("cache" | "fcgi-app") if at + 2 < end => out[at + 2] = cx.name(&w[at + 2]),
        Some(kind) => {
            for i in at + 2..end.saturating_sub(1) {
                match (kind, w[i].as_str()) {
                    ("spoe", "config") => out[i + 1] = cx.anon.path(&w[i + 1]),
                    ("trace", "name") => out[i + 1] = cx.anon.string(&w[i + 1]),
                    _ => {}
                }
            }
        }
        None => {}
    }
}

fn url(cx: &mut Ctx, v: &str) -> String {
    if v.contains("%[") {
        return cx.expression(v);
    }
    match v.split_once("://") {
        Some((scheme, rest)) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            let host = cx.one_address(&rest[..slash]);
            let path = if slash < rest.len() {
                cx.anon.path(&rest[slash..])
            } else {
                String::new()
            };
            format!("{scheme}://{host}{path}")
        }
        None if v.starts_with('/') => cx.anon.path(v),
        None => cx.anon.string(v),
    }
}

/// Options of bind/server lines: files, names and secrets replaced.
fn server_options(cx: &mut Ctx, w: &[String], from: usize, out: &mut [String]) {
    let mut i = from;
    while i + 1 < w.len().min(out.len()) {
        let v = &w[i + 1];
        let replaced = match w[i].as_str() {
            "crt" | "ca-file" | "crl-file" | "key" | "crt-list" | "ca-verify-file"
            | "ca-sign-file" => Some(cx.anon.path(v)),
            "addr" | "source" | "socks4" => Some(cx.address(v)),
            "cookie" | "name" => Some(cx.name(v)),
            "resolvers" => Some(cx.name(v)),
            "track" => Some(
                v.split('/')
                    .map(|n| cx.name(n))
                    .collect::<Vec<_>>()
                    .join("/"),
            ),
            "sni" | "check-sni" => Some(cx.expression(v)),
            "user" | "group" => Some(cx.name(v)),
            _ => None,
        };
        if let Some(r) = replaced {
            out[i + 1] = r;
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// Header values and other literal values of http rules.
fn rule_values(cx: &mut Ctx, w: &[String], at: usize, end: usize, out: &mut [String]) {
    let action = w.get(at).map_or("", String::as_str);
    // Cache names, like the `cache` section they refer to.
    if matches!(action, "cache-use" | "cache-store") && at + 1 < end {
        out[at + 1] = cx.name(&w[at + 1]);
    }
    let value_at = match action {
        "set-header" | "add-header" | "replace-header" | "replace-value" => Some(at + 2),
        "set-path" | "set-query" | "set-uri" | "set-var-fmt" => Some(at + 1),
        _ => None,
    };
    if let Some(i) = value_at.filter(|&i| i < end) {
        out[i] = if w[i].contains("%[") || w[i].contains('%') {
            cx.expression(&w[i])
        } else {
            cx.anon.string(&w[i])
        };
    }
    if action == "auth" || action == "return" || action == "redirect" {
        for i in at + 1..end.saturating_sub(1) {
            if matches!(w[i].as_str(), "realm" | "string" | "lf-string") {
                out[i + 1] = cx.anon.string(&w[i + 1]);
            } else if matches!(w[i].as_str(), "location" | "prefix") {
                out[i + 1] = url(cx, &w[i + 1]);
            } else if matches!(w[i].as_str(), "file" | "lf-file" | "errorfile") {
                out[i + 1] = cx.anon.path(&w[i + 1]);
            }
        }
    }
}

/// Anonymizes every file of a compilation; returns one text per file.
pub fn anonymize(c: &Compilation, anon: &mut Anonymizer) -> Vec<(String, String)> {
    let mut cx = Ctx {
        names: defined_names(c),
        anon,
    };
    let mut files = Vec::new();
    for sf in &c.tree.files {
        let source = c.db.file(sf.file);
        let mut text = String::with_capacity(source.text.len());
        let mut section = None;
        for line in &sf.lines {
            let raw = &source.text[line.span.range()];
            let indent: String = raw
                .chars()
                .take_while(|c| c.is_ascii_whitespace())
                .collect();
            let words: Vec<String> = line
                .words
                .iter()
                .map(|w: &Word| w.value.to_string())
                .collect();
            if words.is_empty() {
                text.push('\n');
                continue;
            }
            if line.kind == LineKind::SectionHeader {
                section = SectionKind::from_keyword(&words[0]);
            }
            let replaced = if line.kind == LineKind::Directive
                && matches!(
                    words[0].as_str(),
                    ".diag" | ".notice" | ".warning" | ".alert"
                ) {
                let mut v = words.clone();
                for w in v.iter_mut().skip(1) {
                    *w = cx.anon.string(w);
                }
                v
            } else if line.kind == LineKind::Directive {
                words.clone()
            } else {
                statement(&mut cx, section, &words)
            };
            text.push_str(&indent);
            text.push_str(
                &replaced
                    .iter()
                    .map(|w| quote(w))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            text.push('\n');
        }
        files.push((source.name.clone(), text));
    }
    files
}
