//! `haproxy -dC<key>[,line]`: the tokenized configuration, anonymized with HAProxy 2.7's
//! per-keyword rules, byte for byte. Every line is dumped, including lines of false `.if`
//! branches; comments are dropped and blank lines become a lone tab.

use crate::hash::{hash_anon, hash_ipanon, Key};
use hapee_compiler::lexer::{lex_line, LineContext};
use hapee_compiler::registry::SectionKind;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::Environment;
use std::fmt::Write as _;

/// What `-dC` was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpOptions {
    pub key: Key,
    /// `,line`: prefix each line with its number and a tab.
    pub line_numbers: bool,
}

impl DumpOptions {
    /// Parses the text after `-dC` (`123456`, `123456,line`, `line`, ``).
    pub fn parse(arg: &str) -> DumpOptions {
        let mut parts = arg.split(',');
        let first = parts.next().unwrap_or("");
        let line_numbers = first == "line" || parts.any(|p| p == "line");
        DumpOptions {
            key: Key::parse(first),
            line_numbers,
        }
    }
}

/// Dumps every file of `db`; lexical errors are returned as `(file, line, message)` for stderr.
pub fn dump(db: &SourceDb, env: &dyn Environment, opts: DumpOptions) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut errors = Vec::new();
    for (file, source) in db.files() {
        for index in 0..source.line_count() {
            let range = source.line_range(index);
            let text = &source.text[range.clone()];
            if text
                .trim_start_matches(|c: char| c.is_ascii_whitespace())
                .starts_with('[')
            {
                continue;
            }
            let ctx = LineContext {
                file,
                offset: range.start,
                file_name: &source.name,
                line_number: index + 1,
                section: "",
                env,
            };
            let lexed = lex_line(text, &ctx);
            if let Some(e) = lexed.error {
                errors.push(format!(
                    "parsing [{}:{}]: {}",
                    source.name,
                    index + 1,
                    e.message
                ));
                continue;
            }
            if opts.line_numbers {
                let _ = write!(out, "{}\t", index + 1);
            }
            let words: Vec<&str> = lexed.words.iter().map(|w| w.value.as_str()).collect();
            dump_line(&mut out, &words, opts.key, env);
        }
    }
    (out, errors)
}

fn dump_line(out: &mut String, args: &[&str], key: Key, env: &dyn Environment) {
    let arg = |i: usize| args.get(i).copied().unwrap_or("");
    let n = args.len();
    let is_section = SectionKind::from_keyword(arg(0)).is_some();
    if key.0 == 0 {
        if !is_section {
            out.push('\t');
        }
        for a in args {
            out.push_str(a);
            out.push(' ');
        }
        out.push('\n');
        return;
    }
    if is_section {
        if n >= 2 {
            let _ = writeln!(out, "{} {}", arg(0), hash_anon(key, arg(1), "ID(", ")"));
        } else {
            let _ = writeln!(out, "{}", arg(0));
        }
        return;
    }
    out.push('\t');
    let id = |s: &str| hash_anon(key, s, "ID(", ")");
    let path = |s: &str| hash_anon(key, s, "PATH(", ")");
    let ip = |s: &str| hash_ipanon(key, s, true, env);
    let more = |n_min: usize| if n > n_min { "[...]" } else { "" };
    let line = match arg(0) {
        "" => String::new(),
        "anonkey" => format!("{} [...]", arg(0)),
        "maxconn" => format!("{} {}", arg(0), arg(1)),
        "stats" if matches!(arg(1), "timeout" | "maxconn") => {
            format!("{} {} {}", arg(0), arg(1), arg(2))
        }
        "stats" if arg(1) == "socket" => {
            if n > 2 {
                format!("{} {} {} {}", arg(0), arg(1), ip(arg(2)), more(3))
            } else {
                format!("{} {} ", arg(0), arg(1))
            }
        }
        "timeout" => format!("{} {} {}", arg(0), arg(1), arg(2)),
        "mode" => format!("{} {}", arg(0), arg(1)),
        "user" => format!("{} {} {}", arg(0), id(arg(1)), more(2)),
        "bind" => format!("{} {} {}", arg(0), ip(arg(1)), more(2)),
        "server" => {
            let addr = if n > 2 {
                format!("{} ", ip(arg(2)))
            } else {
                String::new()
            };
            format!("{} {} {addr}{}", arg(0), id(arg(1)), more(3))
        }
        "redirect" => {
            let target = if matches!(arg(1), "prefix" | "location") {
                path(arg(2))
            } else {
                arg(2).to_string()
            };
            format!("{} {} {target} {}", arg(0), arg(1), more(3))
        }
        "acl" => format!("{} {} {} {}", arg(0), id(arg(1)), arg(2), more(3)),
        "log" => {
            let target = if arg(1) == "global" {
                arg(1).to_string()
            } else {
                ip(arg(1))
            };
            format!("log {target} {}", more(2))
        }
        "peer" => format!("{} {} {} {}", arg(0), id(arg(1)), ip(arg(2)), more(3)),
        "use_backend" => format!("{} {} {}", arg(0), id(arg(1)), more(2)),
        "default_backend" => format!("{} {}", arg(0), id(arg(1))),
        "source" => format!("{} {} {}", arg(0), ip(arg(1)), more(2)),
        "nameserver" => format!("{} {} {} {}", arg(0), id(arg(1)), ip(arg(2)), more(3)),
        "http-request" | "http-response" | "http-after-response" | "filter" => {
            format!("{} {} {}", arg(0), arg(1), more(2))
        }
        "errorfile" => format!("{} {} {}", arg(0), arg(1), path(arg(2))),
        "cookie" => {
            let mode = if n > 2 {
                format!("{} ", arg(2))
            } else {
                String::new()
            };
            format!("{} {} {mode}{}", arg(0), id(arg(1)), more(3))
        }
        "stats" if arg(1) == "auth" => {
            format!("{} {} {}", arg(0), arg(1), hash_anon(key, arg(2), "", ""))
        }
        _ => {
            let mut s = String::new();
            for a in args.iter().take(3) {
                s.push_str(a);
                s.push(' ');
            }
            s.push_str(more(3));
            s
        }
    };
    out.push_str(&line);
    out.push('\n');
}
