//! The `global` section, and the statements of the non-proxy sections (userlist, peers, …).

use super::build::{check_prefix, Builder, Stmt};
use super::model::*;
use super::values::{parse_int, parse_time, TimeError, TimeUnit};
use super::{keywords, threads};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::registry::SectionKind;

/// Trace sources of HAProxy 2.7 (QUIC ones included: hapee serves HTTP/3).
pub const TRACE_SOURCES: [&str; 10] = [
    "check", "fcgi", "h1", "h2", "h3", "peers", "pt", "qmux", "quic", "stream",
];

/// Global settings whose value HAProxy reads as a number, and what it says when none is given.
const INTEGER_SETTINGS: [(&str, &str); 32] = [
    ("tune.runqueue-depth", ""),
    ("tune.maxpollevents", ""),
    ("tune.maxaccept", ""),
    ("tune.recv_enough", ""),
    ("tune.buffers.limit", ""),
    ("tune.buffers.reserve", ""),
    ("tune.bufsize", ""),
    ("tune.maxrewrite", ""),
    ("tune.rcvbuf.client", ""),
    ("tune.rcvbuf.server", ""),
    ("tune.sndbuf.client", ""),
    ("tune.sndbuf.server", ""),
    ("tune.pipesize", ""),
    ("tune.http.cookielen", ""),
    ("tune.http.logurilen", ""),
    ("tune.http.maxhdr", ""),
    ("uid", ""),
    ("gid", ""),
    ("maxconn", ""),
    // HAProxy says "integer" here too, though the values are words.
    ("ssl-server-verify", ""),
    ("tune.ssl.default-dh-param", ""),
    ("maxconnrate", ""),
    ("maxsessrate", ""),
    ("maxsslrate", ""),
    ("maxcomprate", " in kb/s"),
    ("maxpipes", ""),
    ("maxzlibmem", ""),
    ("maxcompcpuusage", " between 0 and 100"),
    ("fd-hard-limit", ""),
    ("ulimit-n", ""),
    ("spread-checks", " (0..50)"),
    ("max-spread-checks", " (0..50)"),
];

/// Whether HAProxy reads `word` as a whole C `int` (`strl2irc`): digits after an optional
/// minus sign (a lone `-` is 0), no sign `+`, no overflow.
fn is_c_int(word: &str) -> bool {
    let digits = word.strip_prefix('-').unwrap_or(word);
    !word.is_empty()
        && digits.bytes().all(|c| c.is_ascii_digit())
        && (digits.is_empty() || word.parse::<i32>().is_ok())
}

/// A numeric global setting written without its value.
fn integer_missing(b: &mut Builder, stmt: &Stmt, at: usize) -> bool {
    let keyword = stmt.word(at);
    let Some((_, detail)) = INTEGER_SETTINGS.iter().find(|(k, _)| *k == keyword) else {
        return false;
    };
    if !stmt.word(at + 1).is_empty() {
        return false;
    }
    let form = if keyword.ends_with("spread-checks") {
        HaproxyForm::ParsingTight
    } else {
        HaproxyForm::Parsing
    };
    b.push(
        Diagnostic::new(
            "E109",
            format!("'{keyword}' expects an integer argument{detail}."),
        )
        .at(stmt.span(at))
        .label("value missing")
        .form(form),
    );
    true
}

/// The directory `default-path <policy> [<path>]` has relative paths start from, for a line
/// of the configuration file `file`: `None` for the working directory (`current`, or a file
/// named without a directory under `config`).
pub fn default_path(policy: &str, origin: &str, file: &str) -> Option<String> {
    let dir = file.rfind('/').map(|i| &file[..i.max(1)]);
    match policy {
        "config" => dir.map(str::to_string),
        "parent" => Some(dir.map_or("..".to_string(), |d| format!("{d}/.."))),
        "origin" if !origin.is_empty() => Some(origin.to_string()),
        _ => None,
    }
}

/// `ssl-load-extra-files`: one or more of `bundle`, `sctl`, `ocsp`, `issuer`, `key`, or
/// `none` or `all` alone, as HAProxy 2.7 reads it (cfgparse-ssl.c).
fn extra_files_statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    const FILES: [&str; 5] = ["bundle", "sctl", "ocsp", "issuer", "key"];
    let words: Vec<&str> = (at + 1..)
        .map(|i| stmt.word(i))
        .take_while(|w| !w.is_empty())
        .collect();
    let alone = |i: usize| matches!(words[i], "none" | "all");
    let unknown = words
        .iter()
        .position(|w| !FILES.contains(w) && !matches!(*w, "none" | "all"));
    // HAProxy reads the words in order: the first unknown one fails, unless a `none` or
    // `all` before it, after another word or followed by one, fails first.
    let not_alone = (0..words.len())
        .find(|&i| alone(i) && (i > 0 || words.len() > 1))
        .filter(|&i| unknown.is_none_or(|u| i < u));
    let (message, word) = match (words.is_empty(), not_alone, unknown) {
        (true, _, _) => (
            "'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).",
            at,
        ),
        (_, Some(i), _) => (
            "'ssl-load-extra-files' 'none' and 'all' can be only used alone",
            at + 1 + i,
        ),
        (_, None, Some(u)) => (
            "'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).",
            at + 1 + u,
        ),
        (_, None, None) => return,
    };
    b.push(
        Diagnostic::new("E113", message)
            .at(stmt.span(word))
            .form(HaproxyForm::Parsing),
    );
}

/// A `global` line opens a section and takes no argument: HAProxy refuses the first one and
/// reads the section on (an indented `global setting 1` is such a line too).
pub(super) fn header(b: &mut Builder, head: &Stmt) {
    if head.len() > 1 {
        b.push(
            Diagnostic::new(
                "E112",
                format!(
                    "'global' cannot handle unexpected argument '{}'.",
                    head.word(1)
                ),
            )
            .at(head.span_from(1))
            .label("unexpected argument"),
        );
    }
}

pub(super) fn statement(b: &mut Builder, stmt: &Stmt) {
    let at = check_prefix(b, stmt);
    let keyword = stmt.word(at);
    // HAProxy counts the words first, then ignores a setting it already has.
    let extra = keywords::extra_argument(b, true, stmt, at);
    if !extra && super::global_once::repeated(b, stmt, at) {
        return;
    }
    b.config.global.directives.extend(stmt.directive(at));
    if extra || integer_missing(b, stmt, at) {
        return;
    }
    super::global_values::check(b, stmt, at);
    match keyword {
        "nbthread" | "thread-groups" | "thread-group" => {
            if b.seen_non_global {
                b.push(
                    Diagnostic::new(
                        "E310",
                        format!("'{keyword}' not allowed if a non-global section was previously defined. This parameter must be declared in the first global section"),
                    )
                    .at(stmt.span(0)),
                );
            } else {
                threads::global_statement(b, stmt);
            }
        }
        "cpu-map" => super::cpumap::statement(b, stmt, at),
        "ssl-load-extra-files" => extra_files_statement(b, stmt, at),
        "tune.chksize" => {
            b.push(
                Diagnostic::new(
                    "E103",
                    "option 'tune.chksize' is not supported any more (tune.bufsize is used instead).",
                )
                .at(stmt.span(at))
                .label("removed keyword")
                .help("remove it: health check buffers are sized by 'tune.bufsize'")
                .form(HaproxyForm::ParsingTight),
            );
        }
        "nbproc" => {
            b.push(
                Diagnostic::new(
                    "E311",
                    "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.",
                )
                .at(stmt.whole())
                .help("remove 'nbproc'; use 'nbthread' to choose the number of threads"),
            );
        }
        "maxconn" => {
            // Read with `strtol` in base 10: anything left after the digits is refused.
            let value = stmt.word(at + 1);
            if crate::cnum::strtol(value, 10).end < value.len() {
                b.push(
                    Diagnostic::new(
                        "E109",
                        format!("cannot parse 'maxconn' value '{value}', an integer is expected."),
                    )
                    .at(stmt.span(at + 1))
                    .label("not an integer"),
                );
                return;
            }
            if let Some(v) = parse_int(stmt.word(1)) {
                b.config.global.maxconn = Some(Spanned::new(
                    v.clamp(0, u32::MAX as i64) as u32,
                    stmt.span(1),
                ));
            }
        }
        // HAProxy reads the size with `atoi` (the missing value is refused before).
        "tune.ssl.default-dh-param" if (crate::cnum::atol(stmt.word(at + 1)) as i32) < 1024 => {
            b.push(
                Diagnostic::new("E109", format!("'{keyword}' expects a value >= 1024."))
                    .at(stmt.span(at + 1))
                    .label("below 1024 bits"),
            );
        }
        "uid" | "gid" if !is_c_int(stmt.word(at + 1)) => {
            let (id, account, help) = match keyword {
                "uid" => (
                    "uid",
                    "'user' parameter to use a system user",
                    "name a system user with 'user' instead",
                ),
                _ => (
                    "gid",
                    "'group' parameter to use a system group",
                    "name a system group with 'group' instead",
                ),
            };
            b.push(
                Diagnostic::new(
                    "W115",
                    format!(" {id}: string '{}' is not a number.", stmt.word(at + 1)),
                )
                .at(stmt.span(at + 1))
                .label("not a number: ignored")
                .help(help)
                .continuation(format!("   | You might want to use the {account} name."))
                .form(HaproxyForm::Parsing),
            );
        }
        // An empty or missing name is looked up too: HAProxy asks the system for '' and
        // fails (a `user "${UNSET}"`).
        "user" | "group" => {
            let account = (keyword == "group", stmt.spanned(1));
            b.config.global.accounts.push(account);
        }
        "chroot" if !stmt.word(1).is_empty() && b.config.global.chroot.is_none() => {
            b.config.global.chroot = Some(stmt.spanned(1))
        }
        // HAProxy ignores it once a peers section was read.
        "localpeer"
            if !stmt.word(at + 1).is_empty()
                && !b
                    .config
                    .sections
                    .iter()
                    .any(|s| s.kind == SectionKind::Peers) =>
        {
            b.config.global.local_peer = Some(stmt.word(at + 1).to_string())
        }
        "expose-experimental-directives" => b.config.global.expose_experimental = true,
        "default-path" => {
            let file = &b.db.file(stmt.span(at).file).name;
            b.config.global.default_path = default_path(stmt.word(at + 1), stmt.word(at + 2), file);
        }
        "tune.stick-counters" => super::stkctr::global_statement(b, stmt, at),
        "ssl-load-extra-del-ext" => b.config.global.ssl_load_extra_del_ext = true,
        "master-worker" => b.config.global.master_worker = true,
        "quiet" if b.config.global.quiet.is_none() => b.config.global.quiet = Some(stmt.whole()),
        "log" if super::directives::log(b, stmt, true) => b.config.global.has_log = true,
        "tune.bufsize" => {
            b.config.global.bufsize = parse_int(stmt.word(1)).map(|v| v.max(0) as u32)
        }
        "stats" => super::global_stats::stats(b, stmt),
        "tune.ssl.cachesize"
        | "tune.ssl.maxrecord"
        | "tune.ssl.hard-maxrecord"
        | "tune.ssl.ssl-ctx-cache-size"
        | "maxsslconn"
        | "tune.ssl.capture-buffer-size"
        | "tune.ssl.capture-cipherlist-size" => ssl_integer(b, stmt, at),
        "lua-load" | "lua-load-per-thread" => {
            if stmt.word(1).is_empty() {
                let what = if keyword == "lua-load" {
                    "a file name"
                } else {
                    "a file"
                };
                b.push(
                    Diagnostic::new("E401", format!("'{keyword}' expects {what} as parameter."))
                        .at(stmt.span(0)),
                );
            } else {
                let args = (2..stmt.len()).map(|i| stmt.word(i).to_string()).collect();
                b.config.global.lua_loads.push((stmt.spanned(1), args));
                b.file_ref(FileKind::LuaScript, keyword, stmt.spanned(1));
            }
        }
        "trace" => trace(b, stmt),
        "set-var" | "set-var-fmt" => super::global_vars::statement(b, stmt, at),
        "max-spread-checks" => max_spread_checks(b, stmt, at),
        "grace" | "hard-stop-after" if !stmt.word(at + 1).is_empty() => {
            stop_delay(b, stmt, at, keyword)
        }
        "crt-base" => b.crt_base = Some(stmt.word(1).to_string()),
        "ca-base" => b.ca_base = Some(stmt.word(1).to_string()),
        "issuers-chain-path" if !stmt.word(1).is_empty() => {
            b.file_ref(FileKind::IssuersDir, keyword, stmt.spanned(1))
        }
        "ssl-dh-param-file" if !stmt.word(1).is_empty() => {
            b.file_ref(FileKind::DhParams, keyword, stmt.spanned(1))
        }
        // Only the last one is read, after parsing.
        "h1-case-adjust-file" if !stmt.word(1).is_empty() => {
            b.config
                .files
                .retain(|f| f.kind != FileKind::CaseAdjustFile);
            b.file_ref(FileKind::CaseAdjustFile, keyword, stmt.spanned(1));
            if let Some(last) = b.config.files.last_mut() {
                last.after_parse = true;
            }
        }
        _ => {
            super::global_tunes::statement(b, stmt, at);
        }
    }
    keywords::check_statement(b, SectionKind::Global, stmt, at, None);
}

/// `max-spread-checks <delay>`: HAProxy refuses a delay it cannot read (junk after a valid
/// unit is only warned about, as for every delay).
fn max_spread_checks(b: &mut Builder, stmt: &Stmt, at: usize) {
    let value = stmt.word(at + 1);
    refuse_bad_delay(b, stmt, at, HaproxyForm::ParsingTight, |error| {
        match error {
        TimeError::Char(i) => {
            let c = value[i..].chars().next().unwrap_or(' ');
            format!("unsupported character '{c}' in 'max-spread-checks' (wants an integer delay).")
        }
        TimeError::Overflow => format!("timer overflow in argument <{value}> to <max-spread-checks>, maximum value is 2147483647 ms (~24.8 days)."),
        TimeError::Underflow => format!("timer underflow in argument <{value}> to <max-spread-checks>, minimum non-null value is 1 ms."),
    }
    });
}

/// `grace <delay>` and `hard-stop-after <delay>`: HAProxy refuses a delay it cannot read, in
/// its own words for these two (junk after a valid unit only gets the shared warning).
fn stop_delay(b: &mut Builder, stmt: &Stmt, at: usize, keyword: &str) {
    let value = stmt.word(at + 1);
    // Keyword parsers' errors: `parsing [file:line] : …`, with the space.
    refuse_bad_delay(b, stmt, at, HaproxyForm::Parsing, |error| {
        match error {
        TimeError::Char(i) => {
            let c = value[i..].chars().next().unwrap_or(' ');
            format!("unexpected character '{c}' in argument to <{keyword}>.")
        }
        TimeError::Overflow => format!("timer overflow in argument '{value}' to '{keyword}' (maximum value is 2147483647 ms or ~24.8 days)"),
        TimeError::Underflow => format!("timer underflow in argument '{value}' to '{keyword}' (minimum non-null value is 1 ms)"),
    }
    });
}

/// Reads the delay after the keyword at `at` as HAProxy's `parse_time_err` does: an error
/// (E210, in `message`'s words) when it cannot, the shared warning for junk after a unit.
pub(super) fn refuse_bad_delay(
    b: &mut Builder,
    stmt: &Stmt,
    at: usize,
    form: HaproxyForm,
    message: impl FnOnce(TimeError) -> String,
) {
    let message = match parse_time(stmt.word(at + 1), TimeUnit::Ms) {
        Ok(d) => {
            if let Some(junk) = d.trailing_junk {
                super::timeouts::warn_time_junk(b, stmt, at + 1, junk);
            }
            return;
        }
        Err(error) => message(error),
    };
    b.push(
        Diagnostic::new("E210", message)
            .at(stmt.span(at + 1))
            .form(form),
    );
}

/// The TLS library's numeric settings: a value is needed and it cannot be negative (read as
/// C's `atoi`, so junk after the digits passes). The two names of the ClientHello capture size
/// size one memory pool, made by the first valid line: a later line of either name fails.
fn ssl_integer(b: &mut Builder, stmt: &Stmt, at: usize) {
    let keyword = stmt.word(at);
    let value = stmt.word(at + 1);
    let problem = if value.is_empty() {
        Some(format!("'{keyword}' expects an integer argument."))
    } else if (crate::cnum::atol(value) as i32) < 0 {
        Some(format!("'{keyword}' expects a positive numeric value."))
    } else if keyword.starts_with("tune.ssl.capture-") {
        const POOL: &str = "tune.ssl.capture-buffer-size";
        if let Some(&first) = b.global_once.get(POOL) {
            b.push(
                Diagnostic::new("E109", format!("'{keyword}' is already configured."))
                    .at(stmt.span(at))
                    .label("the capture size is set once")
                    .with_secondary(first, "set here first")
                    .form(HaproxyForm::Parsing),
            );
            return;
        }
        b.global_once.insert(POOL, stmt.whole());
        None
    } else {
        None
    };
    if let Some(message) = problem {
        b.push(
            Diagnostic::new("E109", message)
                .at(stmt.span(if value.is_empty() { at } else { at + 1 }))
                .label("a number of 0 or more")
                .form(HaproxyForm::Parsing),
        );
    }
}

/// The experimental `trace` directive, validated like the CLI command it mirrors.
fn trace(b: &mut Builder, stmt: &Stmt) {
    if !b.config.global.expose_experimental {
        b.push(
            Diagnostic::new("E320", "'trace' directive is experimental, must be allowed via a global 'expose-experimental-directives'")
                .at(stmt.span(0))
                .label("experimental")
                .help("add 'expose-experimental-directives' in the global section before this line"),
        );
        return;
    }
    let source = stmt.word(1);
    let report = |b: &mut Builder, code: &'static str, sev: Severity, msg: &str| {
        b.push(
            Diagnostic::new(code, format!("'trace': {msg}"))
                .at(stmt.whole())
                .severity(sev),
        );
    };
    if source.is_empty() {
        report(
            b,
            "W321",
            Severity::Warning,
            "Supported trace sources and states (.=stopped, w=waiting, R=running) :",
        );
        return;
    }
    if source == "0" {
        report(b, "W321", Severity::Notice, "All traces now stopped");
        return;
    }
    if !TRACE_SOURCES.contains(&source) {
        report(b, "E322", Severity::Error, "No such trace source");
        return;
    }
    let arg = stmt.word(3);
    match stmt.word(2) {
        "" => report(b, "W321", Severity::Warning, "Supported commands:"),
        "event" | "pause" | "start" | "stop" | "sink" => {}
        "level" => {
            if !arg.is_empty()
                && !["error", "user", "proto", "state", "data", "developer"].contains(&arg)
            {
                report(b, "E322", Severity::Error, "No such trace level");
            }
        }
        "lock" => {
            const LOCKS: [&str; 12] = [
                "backend",
                "check",
                "connection",
                "frontend",
                "listener",
                "nothing",
                "server",
                "session",
                "stream",
                "thread",
                "h2c",
                "h2s",
            ];
            if !arg.is_empty()
                && !LOCKS.contains(&arg)
                && !arg.starts_with("quic")
                && !arg.starts_with("h")
            {
                report(b, "E322", Severity::Error, "Unsupported lock-on criterion");
            }
        }
        "verbosity" => {}
        _ => report(b, "E322", Severity::Error, "Unknown trace command"),
    }
}

/// Statements of userlist, peers, resolvers, ring, cache, http-errors, mailers, … sections.
pub(super) fn other_section_statement(b: &mut Builder, section: &mut NamedSection, stmt: &Stmt) {
    let at = check_prefix(b, stmt);
    if matches!(
        section.kind,
        SectionKind::Peers | SectionKind::HttpErrors | SectionKind::Userlist
    ) {
        section.lines.push(stmt.as_directive(at));
    }
    match (section.kind, stmt.word(at)) {
        (SectionKind::Userlist, "user" | "group") => {
            super::section_lines::userlist_duplicate(b, section, stmt);
            section.members.push(stmt.spanned(1));
        }
        (SectionKind::Peers, "peer" | "bind")
            if super::section_lines::peers_mixing(b, section, stmt) => {}
        (SectionKind::Peers, "peer" | "server") => {
            // A remote peer's line without an address returns before HAProxy clears the place
            // it set for the line's messages (the local peer's `server` line has none to read).
            let local = stmt.word(0) == "server"
                && b.config.global.local_peer.as_deref() == Some(stmt.word(1));
            let stale = !stmt.word(1).is_empty() && stmt.word(2).is_empty() && !local;
            b.config.peer_lines.push((stmt.whole(), stale));
            section.members.push(stmt.spanned(1));
        }
        (SectionKind::Peers, "bind") => section.has_bind = true,
        (SectionKind::Peers, "table") => {
            if !stmt.word(1).is_empty() {
                super::stick_table::line(b, stmt, 2);
            }
            let name = stmt.spanned(1);
            let peers = section.name.as_ref().map_or("", |n| n.value.as_str());
            section.members.push(Spanned::new(
                format!("table:{peers}/{}", name.value).into(),
                name.span,
            ));
        }
        (SectionKind::Peers, "bind-process") | (SectionKind::LogForward, "bind-process") => {
            super::proxy::bind_process_removed(b, stmt, at);
            return;
        }
        (SectionKind::HttpErrors, "errorfile") => {
            super::proxy_args::error_page(b, stmt, true);
        }
        (SectionKind::Resolvers, "nameserver") if stmt.word(2).is_empty() => {
            b.push(
                Diagnostic::new(
                    "E264",
                    "'nameserver' expects <name> and <addr>[:<port>] as arguments.",
                )
                .at(stmt.whole())
                .label("name and address expected"),
            );
            return;
        }
        (SectionKind::Resolvers, "nameserver") => {
            let expanded = crate::address::env_expand(stmt.word(2), b.env);
            // A UNIX datagram nameserver is refused once the proxies are checked
            // ([`super::postparsers`]).
            if let Err(e) = crate::address::parse(&expanded, crate::address::Rules::NAMESERVER) {
                b.push(
                    Diagnostic::new("E266", format!("'nameserver {}' : {e}", stmt.word(1)))
                        .at(stmt.spanned(2).span)
                        .label("not an address HAProxy can query")
                        .help("write 'nameserver <name> <address>:<port>', the port included (53 for DNS)"),
                );
            }
            section.members.push(stmt.spanned(1));
            b.config
                .nameservers
                .push((stmt.spanned(1), stmt.spanned(2)));
        }
        (SectionKind::Mailers, "mailer") if stmt.word(2).is_empty() => {
            b.push(
                Diagnostic::new(
                    "E227",
                    "'mailer' expects <name> and <addr>[:<port>] as arguments.",
                )
                .at(stmt.whole())
                .label("name and address expected"),
            );
            return;
        }
        (SectionKind::Mailers, "mailer") => {
            // HAProxy reads a mailer's address as a stream address to connect to, its port
            // mandatory, while it reads the line.
            let expanded = crate::address::env_expand(stmt.word(2), b.env);
            if let Err(e) = crate::address::parse(&expanded, crate::address::Rules::MAILER) {
                b.push(
                    Diagnostic::new("E227", format!("'mailer {}' : {e}", stmt.word(1)))
                        .at(stmt.spanned(2).span)
                        .label("not an address a mail server can be reached at")
                        .help("write 'mailer <name> <address>:<port>', the port included (25 for SMTP)"),
                );
            }
            section.members.push(stmt.spanned(1));
            b.config.mailers.push((stmt.spanned(1), stmt.spanned(2)));
        }
        (SectionKind::Mailers, "timeout") => super::section_lines::mailers_timeout(b, stmt),
        (SectionKind::Ring, _) => super::ring::statement(b, section, stmt, at),
        _ => {}
    }
    keywords::check_statement(b, section.kind, stmt, at, None);
}

#[cfg(test)]
mod tests {
    use crate::testkit::compile_text;

    /// The codes of a resolvers section holding one nameserver at `address`.
    fn nameserver_codes(address: &str) -> Vec<&'static str> {
        let text = format!("resolvers dns\n    nameserver ns1 {address}\n");
        let c = compile_text("t.cfg", &text, false);
        c.diagnostics.iter().map(|d| d.code).collect()
    }

    /// As HAProxy 2.7 (cfgparse-global.c): `tune.chksize` is refused with its own message.
    #[test]
    fn tune_chksize_is_refused_as_removed() {
        let c = compile_text("t.cfg", "global\n    tune.chksize 16384\n", false);
        let found: Vec<_> = c
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.as_ref()))
            .collect();
        assert_eq!(
            found,
            [(
                "E103",
                "option 'tune.chksize' is not supported any more (tune.bufsize is used instead)."
            )]
        );
    }

    /// As HAProxy 2.7: a UNIX socket nameserver is refused unless it is read as a stream.
    #[test]
    fn unix_socket_nameservers_need_a_stream() {
        for refused in [
            "unix@/run/dns.sock",
            "uxdg@/run/dns.sock",
            "abns@dns",
            "/run/dns.sock",
        ] {
            assert_eq!(nameserver_codes(refused), ["E268"], "{refused}");
        }
        for accepted in [
            "uxst@/run/dns.sock",
            "stream+unix@/run/dns.sock",
            "10.0.0.53:53",
        ] {
            assert_eq!(nameserver_codes(accepted), [] as [&str; 0], "{accepted}");
        }
    }

    /// As HAProxy 2.7: a `max-spread-checks` delay it cannot read is refused; junk after a
    /// valid unit is only warned about.
    #[test]
    fn grace_and_hard_stop_after_delays_are_read_as_haproxy_reads_them() {
        // Messages as haproxy 2.6 and 2.7 print them (src/proxy.c's keyword parsers).
        for (line, expected) in [
            ("grace 1x", Some("unexpected character 'x' in argument to <grace>.")),
            ("hard-stop-after 1x", Some("unexpected character 'x' in argument to <hard-stop-after>.")),
            ("grace 9999999999", Some("timer overflow in argument '9999999999' to 'grace' (maximum value is 2147483647 ms or ~24.8 days)")),
            ("hard-stop-after 10s", None),
            ("grace 5s", None),
        ] {
            let text = format!("global\n    {line}\n");
            let c = compile_text("t.cfg", &text, false);
            let errors: Vec<_> = (c.diagnostics.iter())
                .filter(|d| d.is_error())
                .map(|d| (d.code, d.message.to_string()))
                .collect();
            match expected {
                Some(message) => assert_eq!(errors, [("E210", message.to_string())], "{line}"),
                None => assert!(errors.is_empty(), "{line}: {errors:?}"),
            }
        }
    }

    #[test]
    fn max_spread_checks_delays_are_read_as_haproxy_reads_them() {
        let codes_and_messages = |value: &str| {
            let text = format!("global\n    max-spread-checks {value}\n");
            let c = compile_text("t.cfg", &text, false);
            c.diagnostics
                .iter()
                .filter(|d| d.code != "L015")
                .map(|d| (d.code, d.message.to_string()))
                .collect::<Vec<_>>()
        };
        let refused = [
            ("1x", "unsupported character 'x' in 'max-spread-checks' (wants an integer delay)."),
            ("9999999999", "timer overflow in argument <9999999999> to <max-spread-checks>, maximum value is 2147483647 ms (~24.8 days)."),
        ];
        for (value, message) in refused {
            assert_eq!(
                codes_and_messages(value),
                [("E210", message.to_string())],
                "{value}"
            );
        }
        assert_eq!(codes_and_messages("1sx")[0].0, "W213");
        for accepted in ["0", "1us", "1500ms", "2s"] {
            assert_eq!(codes_and_messages(accepted), [], "{accepted}");
        }
    }
}
