//! Log lines read by the log formats a configuration declares: each frontend's `log-format`
//! (JSON ones included), `option httplog`/`httplog clf`/`httpslog`/`tcplog`, and its
//! `error-log-format`. A line is matched against those formats, and each field is anonymized
//! by what it holds (an address, a name, a request, captured headers…), with the tokens
//! `hapee-anon config` gives the same names. Lines no format matches get the generic scrub,
//! which also replaces every name of the configuration.

use crate::keyed::Anonymizer;
use crate::log::{
    captures_into, decode_escapes, encode_escapes_into, generic_with, header_value_into,
    name_or_special_into, request_line, scrub_token, uri_into,
};
use hapee_compiler::check::Compilation;
use hapee_compiler::expr::logformat::{self, Item};
use rustc_hash::FxHashSet;
use std::net::IpAddr;

/// What a field holds, hence how it is anonymized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Address,
    Port,
    /// A frontend name (`%f`, `%ft`): also tells which frontend wrote the line.
    Frontend,
    /// Backend and server names.
    Name,
    Request,
    Uri,
    Path,
    Query,
    /// `{a|b}` header captures.
    Captures,
    /// Space-separated header captures (`%hrl`, `%hsl`).
    CaptureList,
    Host,
    /// Cookies and unique ids: opaque values.
    Secret,
    /// Dates (with a space in some forms): kept.
    Date {
        words: usize,
    },
    /// Counters, timers, status, flags, versions: kept when they look like one.
    Counter,
    /// `%[expression]`: the value's own shape decides.
    Sample,
    /// Words that describe, not identify (an error string, a TLS version): kept, while host
    /// names, addresses and emails among them are replaced.
    Text,
}

fn kind_of(alias: &str) -> Kind {
    match alias {
        "ci" | "si" | "fi" | "bi" => Kind::Address,
        "cp" | "sp" | "fp" | "bp" => Kind::Port,
        "f" | "ft" => Kind::Frontend,
        "b" | "s" => Kind::Name,
        "r" => Kind::Request,
        "HU" => Kind::Uri,
        "HP" | "HPO" => Kind::Path,
        "HQ" => Kind::Query,
        "hr" | "hs" => Kind::Captures,
        "hrl" | "hsl" => Kind::CaptureList,
        "H" => Kind::Host,
        "CC" | "CS" | "ID" => Kind::Secret,
        "T" | "Tl" | "trg" | "trl" => Kind::Date { words: 2 },
        "t" | "tr" | "ms" => Kind::Date { words: 1 },
        _ => Kind::Counter,
    }
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Field { kind: Kind, quoted: bool },
}

#[derive(Debug)]
struct Format {
    pieces: Vec<Piece>,
    /// The frontends that log with this format.
    frontends: FxHashSet<String>,
}

/// The formats of one configuration and the names it defines.
#[derive(Debug, Default)]
pub struct LogFormats {
    formats: Vec<Format>,
    names: FxHashSet<String>,
}

/// Whether a flag list (`+Q`, `-Q`, `+json`, `+Q+E`) turns quoting on, off, or leaves it.
fn quoting(flags: &str) -> Option<bool> {
    if flags.contains("+Q") || flags.contains("+json") {
        Some(true)
    } else if flags.contains("-Q") || flags.contains("-json") {
        Some(false)
    } else {
        None
    }
}

fn pieces(format: &str) -> Option<Vec<Piece>> {
    let parsed = logformat::parse(format).ok()?;
    let mut quote_all = false;
    let mut out = Vec::new();
    for item in parsed.items {
        match item {
            Item::Text(t) => match out.last_mut() {
                Some(Piece::Text(prev)) => prev.push_str(&t),
                _ => out.push(Piece::Text(t)),
            },
            // `%o` sets the flags of every later field.
            Item::Alias { name, flags } if name == "o" => {
                if let Some(q) = flags.as_deref().and_then(quoting) {
                    quote_all = q;
                }
            }
            Item::Alias { name, flags } => out.push(Piece::Field {
                kind: kind_of(&name),
                quoted: flags.as_deref().and_then(quoting).unwrap_or(quote_all),
            }),
            Item::Expr { expr, flags, .. } => out.push(Piece::Field {
                kind: sample_kind(&expr),
                quoted: flags.as_deref().and_then(quoting).unwrap_or(quote_all),
            }),
        }
    }
    merge_spaces(&mut out);
    Some(out)
}

/// HAProxy reads the spaces of a log format as separators: a run of them writes one space, and
/// none at the start of the line (`%{+Q}o %ci …` starts with the address).
fn merge_spaces(pieces: &mut Vec<Piece>) {
    for (i, piece) in pieces.iter_mut().enumerate() {
        let Piece::Text(t) = piece else { continue };
        let mut merged = String::with_capacity(t.len());
        for c in t.chars() {
            if c != ' ' || !(merged.ends_with(' ') || (i == 0 && merged.is_empty())) {
                merged.push(c);
            }
        }
        *t = merged;
    }
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
}

/// Fetches whose strings describe the connection rather than identify anyone.
fn descriptive(fetch: &str) -> bool {
    fetch.ends_with("_err_str")
        || matches!(
            fetch,
            "ssl_fc_protocol"
                | "ssl_bc_protocol"
                | "ssl_fc_cipher"
                | "ssl_bc_cipher"
                | "ssl_fc_alpn"
                | "ssl_bc_alpn"
                | "req.ver"
                | "res.ver"
                | "method"
        )
}

/// What a `%[…]` field holds, from its output type and, for strings, its fetch.
fn sample_kind(expr: &hapee_compiler::expr::sample::SampleExpr) -> Kind {
    use hapee_compiler::registry::SampleType as T;
    match expr.output {
        T::Sint | T::Bool | T::Meth => Kind::Counter,
        T::Addr | T::Ipv4 | T::Ipv6 => Kind::Address,
        T::Str if expr.converters.is_empty() && descriptive(&expr.fetch.name) => Kind::Text,
        _ => Kind::Sample,
    }
}

/// The end of a quoted value starting after its opening quote at `from` (backslash escapes
/// skipped): the index of the closing quote.
fn closing_quote(line: &str, from: usize) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `name: value` when `line` is a header line (a token, a colon, a space).
fn header_line(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(": ")?;
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    token.then_some((name, value))
}

/// Whether a value is plausible for its kind (to tell formats apart).
fn plausible(kind: Kind, v: &str) -> bool {
    // HAProxy's placeholders (`<BADREQ>` for a method or version, `<NOSRV>`) stand in any
    // field of a request it could not parse.
    if v.len() > 2 && v.starts_with('<') && v.ends_with('>') && !v.contains(' ') {
        return kind != Kind::Captures;
    }
    let counter = |v: &str| {
        v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-/.:_".contains(&b))
    };
    match kind {
        Kind::Address => v == "-" || v.starts_with("unix") || v.parse::<IpAddr>().is_ok(),
        Kind::Port => v == "-" || v.bytes().all(|b| b.is_ascii_digit()),
        // Names, and `%H`, the machine's host name, have no spaces.
        Kind::Frontend | Kind::Name | Kind::Host => !v.is_empty() && !v.contains(' '),
        Kind::Captures => v.starts_with('{') && v.ends_with('}'),
        // `METHOD target version`, or a placeholder (`<BADREQ>`).
        Kind::Request => {
            v.starts_with('<')
                || v.split(' ').next().is_some_and(|m| {
                    !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
                })
        }
        Kind::Counter => counter(v),
        _ => true,
    }
}

/// One matched field: its byte range in the line and its kind.
struct Value {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Where `needle` first occurs in `hay`, with a vectorised search (the texts between fields
/// are short, where `str::find` spends more on setting up than on searching).
fn find_text(hay: &str, needle: &str) -> Option<usize> {
    match needle.as_bytes() {
        [b] => memchr::memchr(*b, hay.as_bytes()),
        n => memchr::memmem::find(hay.as_bytes(), n),
    }
}

/// How many steps one line's match may take: values with spaces are tried at each place the
/// next text could start, and a pathological line must not cost more than this.
const MATCH_BUDGET: usize = 4096;

impl Format {
    /// The fields of `line` when it has this format.
    fn parse(&self, line: &str) -> Option<Vec<Value>> {
        let mut values = Vec::new();
        let mut budget = MATCH_BUDGET;
        self.match_from(line, 0, 0, false, &mut values, &mut budget)
            .then_some(values)
    }

    /// Matches the pieces from `i` on against `line[pos..]`, pushing the fields to `values`.
    /// A value that may hold spaces (a header, a sample) ends at the first place the rest of
    /// the line matches, not merely at the first occurrence of the text after it.
    fn match_from(
        &self,
        line: &str,
        i: usize,
        pos: usize,
        // HAProxy writes no separator after a field that wrote nothing (`%hr` without captures).
        skipped: bool,
        values: &mut Vec<Value>,
        budget: &mut usize,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some(piece) = self.pieces.get(i) else {
            return pos == line.len();
        };
        let (kind, quoted) = match piece {
            Piece::Text(t) => {
                let t = match t.strip_prefix(' ') {
                    Some(rest) if skipped && !line[pos..].starts_with(' ') => rest,
                    _ => t.as_str(),
                };
                return line[pos..].starts_with(t)
                    && self.match_from(line, i + 1, pos + t.len(), false, values, budget);
            }
            // A capture block writes nothing when the request has no captures; quoted
            // (`%{+Q}hr`), it is `"{…}"`.
            Piece::Field {
                kind: Kind::Captures,
                quoted,
            } if !line[pos..].starts_with('{') && (!*quoted || !line[pos..].starts_with("\"{")) => {
                return self.match_from(line, i + 1, pos, true, values, budget);
            }
            // A request without captures (`<BADREQ>`) writes no capture list at all.
            Piece::Field {
                kind: Kind::CaptureList,
                quoted,
            } => {
                return self.capture_list(line, i, pos, *quoted, values, budget)
                    || self.match_from(line, i + 1, pos, true, values, budget);
            }
            Piece::Field { kind, quoted } => (*kind, *quoted),
        };
        if quoted && line[pos..].starts_with('"') {
            // HAProxy does not escape the quotes inside a quoted value (a User-Agent with
            // quotes in it): the value ends at the first quote after which the rest matches.
            let mut from = pos + 1;
            while let Some(close) = closing_quote(line, from) {
                if self.value(line, i, (pos + 1, close, close + 1), kind, values, budget) {
                    return true;
                }
                if *budget == 0 {
                    return false;
                }
                from = close + 1;
            }
            return false;
        }
        self.unquoted(line, i, pos, kind, values, budget)
    }

    /// Matches field `i`, unquoted, at `pos`: it ends where the text after it starts (a value
    /// that may hold that text, at the first place where the rest of the line matches).
    fn unquoted(
        &self,
        line: &str,
        i: usize,
        pos: usize,
        kind: Kind,
        values: &mut Vec<Value>,
        budget: &mut usize,
    ) -> bool {
        // Fields with spaces in them (dates, a request line) end after their last space, at
        // the text that follows.
        let spaces = match kind {
            Kind::Date { words } => words - 1,
            Kind::Request if !line[pos..].starts_with('<') => 2,
            _ => 0,
        };
        let mut from = pos;
        for _ in 0..spaces {
            from += memchr::memchr(b' ', &line.as_bytes()[from..]).map_or(0, |n| n + 1);
        }
        match self.pieces.get(i + 1) {
            Some(Piece::Text(t)) if !t.is_empty() => {
                let mut search = from;
                while let Some(n) = find_text(&line[search..], t) {
                    let end = search + n;
                    if self.value(line, i, (pos, end, end), kind, values, budget) {
                        return true;
                    }
                    // Only values that may hold the text look further.
                    if !matches!(
                        kind,
                        Kind::Sample | Kind::Text | Kind::Captures | Kind::CaptureList
                    ) {
                        return false;
                    }
                    search = end + line[end..].chars().next().map_or(1, char::len_utf8);
                }
                false
            }
            Some(Piece::Field { .. }) => {
                let end =
                    memchr::memchr(b' ', &line.as_bytes()[from..]).map_or(line.len(), |n| from + n);
                self.value(line, i, (pos, end, end), kind, values, budget)
            }
            _ => self.value(line, i, (pos, line.len(), line.len()), kind, values, budget),
        }
    }

    /// Matches a capture list (`%hrl`, `%hsl`) at `pos`: quoted (`%{+Q}hrl`), each capture is
    /// in its quotes, space-separated, as many as the frontend has, so the value (quotes
    /// included) ends after the one where the rest of the line matches; unquoted, it ends where
    /// the text after it does.
    fn capture_list(
        &self,
        line: &str,
        i: usize,
        pos: usize,
        quoted: bool,
        values: &mut Vec<Value>,
        budget: &mut usize,
    ) -> bool {
        let kind = Kind::CaptureList;
        if !(quoted && line[pos..].starts_with('"')) {
            return self.unquoted(line, i, pos, kind, values, budget);
        }
        // At each capture's opening quote.
        let mut open = pos;
        loop {
            let Some(close) = closing_quote(line, open + 1) else {
                return false;
            };
            if self.value(line, i, (pos, close + 1, close + 1), kind, values, budget) {
                return true;
            }
            if !line[close + 1..].starts_with(" \"") {
                return false;
            }
            open = close + 2;
        }
    }

    /// Takes `line[start..end]` as field `i` when plausible, and matches the rest from `next`.
    fn value(
        &self,
        line: &str,
        i: usize,
        (start, end, next): (usize, usize, usize),
        kind: Kind,
        values: &mut Vec<Value>,
        budget: &mut usize,
    ) -> bool {
        let v = &line[start..end];
        if !plausible(kind, v) {
            return false;
        }
        if kind == Kind::Frontend && !self.frontends.contains(v.trim_end_matches('~')) {
            return false;
        }
        values.push(Value { start, end, kind });
        if self.match_from(line, i + 1, next, false, values, budget) {
            return true;
        }
        values.pop();
        false
    }
}

impl LogFormats {
    /// The formats each frontend of the configuration logs with, and its names.
    pub fn of(c: &Compilation) -> LogFormats {
        let plan = hapee_compiler::plan::build(&c.config, 1);
        let mut by_text: Vec<(String, FxHashSet<String>)> = Vec::new();
        let mut add =
            |text: String, frontend: &str| match by_text.iter_mut().find(|(t, _)| *t == text) {
                Some((_, f)) => {
                    f.insert(frontend.to_string());
                }
                None => by_text.push((text, [frontend.to_string()].into_iter().collect())),
            };
        for fe in &plan.frontends {
            for format in [&fe.log_format, &fe.error_log_format].into_iter().flatten() {
                add(format.clone(), &fe.name);
            }
        }
        let mut formats: Vec<Format> = by_text
            .into_iter()
            .filter_map(|(text, frontends)| {
                Some(Format {
                    pieces: pieces(&text)?,
                    frontends,
                })
            })
            .collect();
        // The most specific formats (most literal text) are tried first.
        let literal = |f: &Format| -> usize {
            f.pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.len(),
                    Piece::Field { .. } => 0,
                })
                .sum()
        };
        formats.sort_by_key(|f| std::cmp::Reverse(literal(f)));
        LogFormats {
            formats,
            names: crate::config::defined_names(c),
        }
    }

    /// Anonymizes a log message (after any syslog header) into `out` when one of the formats
    /// describes it; false (and nothing written) otherwise.
    pub fn anonymize(&self, anon: &mut Anonymizer, msg: &str, out: &mut String) -> bool {
        for format in &self.formats {
            if let Some(values) = format.parse(msg) {
                let mut at = 0;
                for v in values {
                    out.push_str(&msg[at..v.start]);
                    self.field(anon, v.kind, &msg[v.start..v.end], out);
                    at = v.end;
                }
                out.push_str(&msg[at..]);
                return true;
            }
        }
        false
    }

    /// The generic scrub, which also replaces the configuration's names.
    pub fn scrub(&self, anon: &mut Anonymizer, msg: &str, out: &mut String) {
        generic_with(anon, msg, out, &|t| self.names.contains(t));
    }

    fn field(&self, anon: &mut Anonymizer, kind: Kind, v: &str, out: &mut String) {
        // HAProxy's own placeholders (`<BADREQ>`, `<NOSRV>`, `<CLI>`) say what happened.
        if v.is_empty() || v == "-" || (v.starts_with('<') && v.ends_with('>')) {
            out.push_str(v);
            return;
        }
        match kind {
            Kind::Address => match v.parse::<IpAddr>() {
                Ok(ip) => anon.ip_into(out, ip),
                Err(_) => out.push_str(v),
            },
            Kind::Port | Kind::Date { .. } => out.push_str(v),
            Kind::Frontend => {
                let (name, tilde) = v.strip_suffix('~').map_or((v, ""), |f| (f, "~"));
                name_or_special_into(anon, name, out);
                out.push_str(tilde);
            }
            Kind::Name => name_or_special_into(anon, v, out),
            Kind::Request => request_line(anon, v, out),
            Kind::Uri | Kind::Query => uri_into(anon, v, out),
            Kind::Path if v == "*" => out.push_str(v),
            Kind::Path => anon.path_into(out, v),
            Kind::Captures => match v.strip_prefix('{').and_then(|i| i.strip_suffix('}')) {
                Some(inner) => {
                    out.push('{');
                    captures_into(anon, inner, out);
                    out.push('}');
                }
                None => header_value_into(anon, v, out),
            },
            Kind::CaptureList if v.starts_with('"') => {
                // Quoted captures (`"a" "b c"`), each replaced inside its quotes.
                let mut rest = v;
                while let Some(close) = rest.strip_prefix('"').and_then(|_| closing_quote(rest, 1))
                {
                    out.push('"');
                    header_value_into(anon, &rest[1..close], out);
                    out.push('"');
                    rest = &rest[close + 1..];
                    if let Some(next) = rest.strip_prefix(' ') {
                        out.push(' ');
                        rest = next;
                    }
                }
                out.push_str(rest);
            }
            Kind::CaptureList => {
                for (i, w) in v.split(' ').enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    header_value_into(anon, w.trim_matches('"'), out);
                }
            }
            // `%H`, the logging machine's name: the token its syslog header gets too.
            Kind::Host => out.push_str(&anon.hostname(v)),
            Kind::Secret => anon.string_into(out, v),
            // Timers, counters and flags (`0/0/1/3/4`, `200`, `----`) are copied as they are:
            // no dot or colon, so no address hides in them.
            Kind::Counter
                if v.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'+')) =>
            {
                out.push_str(v)
            }
            Kind::Counter => out.push_str(&scrub_token(anon, v)),
            Kind::Sample => self.unescaped(anon, v, out, Self::sample),
            Kind::Text => self.unescaped(anon, v, out, |s, anon, v, out| {
                generic_with(anon, v, out, &|t| s.names.contains(t))
            }),
        }
    }

    /// Anonymizes `v` with `f`, or, when it is written with backslash escapes (the `json`
    /// converter's `\/` and `\r\n`), each line of the text it stands for, escaped again the
    /// same way: a header block or a URI in a JSON field is read as itself.
    fn unescaped(
        &self,
        anon: &mut Anonymizer,
        v: &str,
        out: &mut String,
        f: impl Fn(&Self, &mut Anonymizer, &str, &mut String),
    ) {
        let Some((text, escapes)) = decode_escapes(v) else {
            return f(self, anon, v, out);
        };
        let mut plain = String::with_capacity(text.len());
        let block = text.contains('\n');
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                plain.push('\n');
            }
            let (body, cr) = line.strip_suffix('\r').map_or((line, ""), |b| (b, "\r"));
            match header_line(body).filter(|_| block) {
                // A header block (`req.hdrs`): each name kept, each value replaced as a
                // captured header's is.
                Some((name, value)) => {
                    plain.push_str(name);
                    plain.push_str(": ");
                    header_value_into(anon, value, &mut plain);
                }
                None if body.is_empty() => {}
                None => f(self, anon, body, &mut plain),
            }
            plain.push_str(cr);
        }
        encode_escapes_into(&plain, &escapes, out);
    }

    /// A `%[…]` value: a name of the configuration, a URI, or whatever the generic scrub finds.
    fn sample(&self, anon: &mut Anonymizer, v: &str, out: &mut String) {
        if self.names.contains(v) {
            anon.name_into(out, v);
        } else if v.starts_with('/') {
            uri_into(anon, v, out);
        } else if v.contains(' ') || v.contains('/') {
            generic_with(anon, v, out, &|t| self.names.contains(t));
        } else if v
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            // Numbers (and addresses, which scrub_token handles below) stay numbers.
            out.push_str(&scrub_token(anon, v));
        } else {
            let scrubbed = scrub_token(anon, v);
            if scrubbed == v {
                // An identity the scrub does not recognise (a user, a header value): replaced.
                anon.string_into(out, v);
            } else {
                out.push_str(&scrubbed);
            }
        }
    }
}
