//! `bind` and `server` lines: addresses, options, the 2.7 `thread` and `*-ignore-err` rules.

use super::build::{Builder, Stmt};
use super::keywords;
use super::model::*;
use crate::diagnostic::{Diagnostic, Edit, HaproxyForm};

/// Largest thread group number in 2.7 (`MAX_TGROUPS`).
pub const MAX_TGROUPS: u32 = 16;
/// Threads per group in 2.7 (`LONGBITS`).
pub const MAX_THREADS_PER_GROUP: u32 = 64;
/// Highest `ca-ignore-err`/`crt-ignore-err` numeric id (`SSL_MAX_VFY_ERROR_CODE`).
pub const MAX_VERIFY_ERROR: i64 = 94;

/// HAProxy's `parse_process_number` for `all|odd|even|N|N-M|N-` with `max` threads.
pub fn parse_thread_set(arg: &str, max: u32) -> Result<u64, String> {
    let full = if max >= 64 {
        u64::MAX
    } else {
        (1u64 << max) - 1
    };
    let mask = match arg {
        "all" => u64::MAX,
        "odd" => u64::MAX / 3,
        "even" => (u64::MAX / 3) << 1,
        _ => {
            let mut dash = None;
            for (i, c) in arg.char_indices() {
                if c == '-' && dash.is_none() {
                    dash = Some(i);
                } else if !c.is_ascii_digit() {
                    return Err(format!("'{arg}' is not a valid number/range."));
                }
            }
            // str2uic: leading digits, wrapping like an unsigned int.
            let num = |s: &str| -> u64 {
                s.bytes()
                    .take_while(u8::is_ascii_digit)
                    .fold(0u64, |a, d| (a * 10 + (d - b'0') as u64) & 0xffff_ffff)
            };
            let low0 = num(arg);
            let high0 = match dash {
                Some(d) if d + 1 == arg.len() => max as u64,
                Some(d) => num(&arg[d + 1..]),
                None => low0,
            };
            let (low, high) = if high0 < low0 {
                (high0, low0)
            } else {
                (low0, high0)
            };
            if low < 1 || low > max as u64 || high > max as u64 {
                return Err(format!(
                    "'{arg}' is not a valid number/range. It supports numbers from 1 to {max}."
                ));
            }
            (low..=high).fold(0u64, |m, t| m | 1 << (t - 1))
        }
    };
    Ok(mask & full)
}

/// Parses one `thread [g/]set` argument into `spec`, or returns HAProxy's error text.
fn parse_bind_thread(value: &str, spec: &mut ThreadSpec) -> Result<(), String> {
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let (group, set) = if value.as_bytes().get(digits) == Some(&b'/') {
        let g = super::values::atol(&value[..digits]);
        if !(1..=MAX_TGROUPS as i64).contains(&g) {
            return Err(format!(
                "'{value}' thread-group number must be between 1 and {MAX_TGROUPS} (was {g})"
            ));
        }
        (g as u32, &value[digits + 1..])
    } else if value.starts_with('-')
        && value[1..].bytes().take_while(u8::is_ascii_digit).count() > 0
        && value[1..].contains('/')
    {
        // strtol accepts a sign: a negative group is out of range.
        let g = super::values::atol(value);
        return Err(format!(
            "'{value}' thread-group number must be between 1 and {MAX_TGROUPS} (was {g})"
        ));
    } else {
        (0, value)
    };
    if (spec.group != 0 || spec.mask != 0) && spec.group != group {
        return Err(format!(
            "'{value}' multiple thread-groups are not supported"
        ));
    }
    let mask =
        parse_thread_set(set, MAX_THREADS_PER_GROUP).map_err(|e| format!("'{set}' : {e}"))?;
    spec.mask |= mask;
    spec.group = group;
    Ok(())
}

/// Validates a `ca-ignore-err`/`crt-ignore-err` list: `all`, ids 1..94, or `X509_V_ERR_*` names.
pub fn check_ignore_err(keyword: &str, list: &str) -> Result<(), String> {
    if list.is_empty() {
        return Err(format!("'{keyword}' : missing error IDs list"));
    }
    if list == "all" {
        return Ok(());
    }
    for item in list.split(',') {
        if item.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            let id = super::values::atol(item);
            if !(1..=MAX_VERIFY_ERROR).contains(&id) {
                return Err(format!("'{keyword}' : ID '{id}' out of range (1..{MAX_VERIFY_ERROR}) in error IDs list '{list}'"));
            }
        } else if !keywords::is_x509_error_name(item) {
            return Err(format!(
                "'{keyword}' : error constant '{item}' unknown in error IDs list '{list}'"
            ));
        }
    }
    Ok(())
}

/// The prefix HAProxy puts before every bind option error.
fn bind_context(stmt: &Stmt, section: &str) -> String {
    format!(
        "'{} {}' in section '{}' : ",
        stmt.word(0),
        stmt.word(1),
        section
    )
}

/// A `bind` line in a proxy section.
pub(super) fn bind_line(b: &mut Builder, index: usize, stmt: &Stmt) {
    let section = keywords::proxy_section_word(b, b.config.proxies[index].kind);
    if stmt.word(1).is_empty() {
        b.push(
            Diagnostic::new(
                "E220",
                "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
            )
            .at(stmt.span(0)),
        );
        return;
    }
    let mut bind = Bind {
        address: stmt.spanned(1),
        span: stmt.whole(),
        options: stmt.spanned_from(2),
        thread: None,
        ssl: false,
        name: None,
    };
    let ctx = bind_context(stmt, section);
    // HAProxy cuts the list as written, then expands each address.
    for part in stmt.word(1).split(',') {
        if let Err(e) = crate::address::parse_written(part, b.env, crate::address::Rules::BIND) {
            b.push(
                Diagnostic::new("E227", format!("'bind' : {e}"))
                    .at(stmt.span(1))
                    .label("invalid listening address"),
            );
        }
    }
    let mut i = 2;
    while i < stmt.len() {
        let opt = stmt.word(i);
        let arity = match keywords::bind_option_arity(opt) {
            Some(n) => n,
            None => {
                let best = keywords::suggest_bind_option(opt);
                let msg = match best {
                    Some(best) => format!("'{} {}' in section '{section}': unknown keyword '{opt}'; did you mean '{best}' maybe ?", stmt.word(0), stmt.word(1)),
                    None => format!("'{} {}' in section '{section}': unknown keyword '{opt}'.", stmt.word(0), stmt.word(1)),
                };
                b.push(
                    Diagnostic::new("E221", msg)
                        .at(stmt.span(i))
                        .label("unknown bind option")
                        .replace_with(stmt.span(i), best),
                );
                break;
            }
        };
        let value = stmt.word(i + 1);
        if arity > 0
            && value.is_empty()
            && !matches!(
                opt,
                "thread" | "ca-ignore-err" | "crt-ignore-err" | "process"
            )
        {
            b.push(
                Diagnostic::new("E222", format!("{ctx}'{opt}' : {}", missing_value(opt)))
                    .at(stmt.span(i)),
            );
            break;
        }
        match opt {
            "process" => {
                let msg = format!("{ctx}'process {value}' on 'bind' lines is not supported anymore, please use 'thread' instead.");
                let edit = Edit {
                    span: stmt.span(i),
                    replacement: "thread".into(),
                };
                b.push(
                    Diagnostic::new("E302", msg)
                        .at(stmt.span(i).cover(stmt.span(i + 1)))
                        .label("removed in HAProxy 2.7")
                        .fix("replace 'process' with 'thread'", vec![edit]),
                );
            }
            "thread" => {
                let spec = bind.thread.get_or_insert_with(ThreadSpec::default);
                spec.span = Some(
                    spec.span
                        .map_or(stmt.span(i + 1), |s| s.cover(stmt.span(i + 1))),
                );
                if let Err(e) = parse_bind_thread(value, spec) {
                    b.push(Diagnostic::new("E303", format!("{ctx}{e}")).at(stmt.span(i + 1)));
                    break;
                }
            }
            "ssl-min-ver" | "ssl-max-ver" => {
                if let Err(e) = crate::plan::tls::tls_version(value) {
                    b.push(
                        Diagnostic::new("E305", format!("{ctx}{e}"))
                            .at(stmt.span(i + 1))
                            .label("not a protocol version")
                            .help("write SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3"),
                    );
                    break;
                }
            }
            "ca-ignore-err" | "crt-ignore-err" => {
                if let Err(e) = check_ignore_err(opt, value) {
                    b.push(
                        Diagnostic::new("E304", format!("{ctx}{e}"))
                            .at(stmt.span(i + 1).cover(stmt.span(i))),
                    );
                    break;
                }
            }
            "shards" | "accept-netscaler-cip" => {
                if let Err(e) = check_bind_number(opt, value) {
                    b.push(
                        Diagnostic::new("E305", format!("{ctx}{e}"))
                            .at(stmt.span(i + 1))
                            .label("out of range"),
                    );
                    break;
                }
            }
            "ssl" => bind.ssl = true,
            "name" => bind.name = Some(value.to_string()),
            // HAProxy alerts without the line's context here.
            "namespace" => b.config.files.push(FileRef {
                kind: FileKind::Namespace,
                path: stmt.spanned(i + 1),
                keyword: opt.to_string(),
                base: None,
                wording: Some((String::new(), ".".to_string())),
                after_parse: false,
                aborts: false,
                server_context: None,
            }),
            // HAProxy words this file's errors itself, after the line's context.
            "tls-ticket-keys" => b.config.files.push(FileRef {
                kind: FileKind::TicketKeys,
                path: stmt.spanned(i + 1),
                keyword: opt.to_string(),
                base: None,
                wording: Some((ctx.clone(), String::new())),
                after_parse: false,
                aborts: false,
                server_context: None,
            }),
            _ => {
                if let Some(kind) = Builder::tls_file_kind(opt) {
                    b.file_ref(kind, opt, stmt.spanned(i + 1));
                    // HAProxy words these errors after the line's context; a certificate's
                    // (`crt`) and a crt-list's contents' without the option's name.
                    let prefix = match opt {
                        "crt" | "crt-list" => Some(ctx.clone()),
                        "ca-file" | "ca-verify-file" | "crl-file" => {
                            Some(format!("{ctx}'{opt}' : "))
                        }
                        _ => None,
                    };
                    if let (Some(prefix), Some(r)) = (prefix, b.config.files.last_mut()) {
                        r.wording = Some((prefix, String::new()));
                    }
                }
            }
        }
        i += 1 + arity;
    }
    push_short(&mut b.config.proxies[index].binds, bind);
}

/// Whether the name of a `server` (or the prefix of a `server-template`) at word `at` has a
/// character HAProxy does not allow there (reported), or none at all: HAProxy then prints its
/// message only up to the missing character, `character '`.
fn refused_name(b: &mut Builder, stmt: &Stmt, at: usize) -> bool {
    let keyword = stmt.word(0);
    let name = stmt.word(at);
    let (what, colon_allowed) = if keyword == "server-template" {
        ("prefix", false)
    } else {
        ("name", true)
    };
    let fault = if name.is_empty() {
        None
    } else {
        match super::build::invalid_char(name)
            .or_else(|| (!colon_allowed && name.contains(':')).then_some(':'))
        {
            Some(c) => Some(c),
            None => return false,
        }
    };
    let (message, label) = match fault {
        Some(c) => (
            format!("character '{c}' is not permitted in {keyword} {what} '{name}'."),
            "invalid character",
        ),
        None => ("character '".to_string(), "empty name"),
    };
    b.push(
        Diagnostic::new("E203", message)
            .at(stmt.span(at))
            .label(label)
            .form(HaproxyForm::FileLine),
    );
    true
}

/// A `server`, `default-server` or `server-template` line.
pub(super) fn server_line(b: &mut Builder, index: usize, stmt: &Stmt) {
    let keyword = stmt.word(0);
    let kind = b.config.proxies[index].kind;
    if !kind.has_backend() {
        // The keyword table reports the section error; nothing to record.
        return;
    }
    let (name_at, addr_at, opts_at) = match keyword {
        "default-server" => (usize::MAX, usize::MAX, 1),
        "server-template" => (1, 3, 4),
        _ => (1, 2, 3),
    };
    if keyword == "server" && kind == ProxyKind::Defaults {
        return;
    }
    // HAProxy looks at the address word only: a line without it, or with an empty one (`""`,
    // an unset variable), lacks the address, and one without a name lacks that as well.
    if addr_at != usize::MAX && stmt.word(addr_at).is_empty() {
        let expected = if keyword == "server-template" {
            "<prefix> <nb | range> <addr>[:<port>]"
        } else {
            "<name> and <addr>[:<port>]"
        };
        b.push(
            Diagnostic::new(
                "E223",
                format!("'{keyword}' expects {expected} as arguments."),
            )
            .at(stmt.span(0))
            .label("no address")
            .form(HaproxyForm::FileLine),
        );
        return;
    }
    if name_at != usize::MAX && refused_name(b, stmt, name_at) {
        return;
    }
    let range = (keyword == "server-template").then(|| template_range(stmt.word(2)));
    if let Some(None) = range {
        b.push(
            Diagnostic::new(
                "E223",
                format!(
                    "Wrong server-template number or range arg '{}'.",
                    stmt.word(2)
                ),
            )
            .at(stmt.span(2))
            .label("not a number of servers nor a range")
            .form(HaproxyForm::FileLine),
        );
        return;
    }
    let mut server = Server {
        name: if name_at == usize::MAX {
            Spanned::new(Text::default(), stmt.span(0))
        } else {
            stmt.spanned(name_at)
        },
        address: (addr_at != usize::MAX && !stmt.word(addr_at).is_empty())
            .then(|| stmt.spanned(addr_at)),
        span: stmt.whole(),
        options: stmt.spanned_from(opts_at),
        check: false,
        backup: false,
        disabled: false,
        weight: None,
        maxconn: None,
        template: range.flatten(),
        lacks_port: None,
        words: ServerWords::default(),
    };
    server.words = ServerWords::of(server.options.iter().map(|o| o.value.as_str()));
    // Only messages need the proxy's name: no copy of it per server line. HAProxy names the
    // server being parsed as `'server <proxy>/<name>'` (a template has no name yet, and C
    // prints its null name as `(null)`); a `default-server` line is not named.
    let context = |b: &Builder| {
        let proxy = b.config.proxies[index].name_str();
        match keyword {
            "default-server" => String::new(),
            "server-template" => format!("'server {proxy}/(null)' : "),
            _ => format!("'server {proxy}/{}' : ", server.name.value),
        }
    };
    // A `default-server` line has no address, and HAProxy's complaint says so.
    let hint = if keyword == "default-server" {
        " Hint: no address was expected for this server."
    } else {
        ""
    };
    if let Some(addr) = &server.address {
        let parsed =
            crate::address::parse_written(&addr.value, b.env, crate::address::Rules::SERVER);
        // Read as written (nothing to expand): what the check of a checked server's port
        // would read again.
        if !addr.value.as_bytes().contains(&b'$') {
            server.lacks_port = Some(super::checks::lacks_port(&parsed));
        }
        if let Err(e) = parsed {
            b.push(
                Diagnostic::new("E227", format!("{}{e}", context(b)))
                    .at(addr.span)
                    .form(crate::diagnostic::HaproxyForm::FileLine),
            );
        }
    }
    // The last `sni` option, found on the way (a line stopped by an error is searched whole).
    let mut sni_at = None;
    let mut stopped = false;
    let mut i = opts_at;
    // HAProxy's word list ends at an empty word (a quoted variable that is not set): the
    // options stop there.
    while i < stmt.len() && !stmt.word(i).is_empty() {
        let opt = stmt.word(i);
        let Some(arity) = keywords::server_option_arity(opt) else {
            let best = keywords::suggest_server_option(opt);
            let msg = match best {
                Some(best) => {
                    format!(
                        "{}unknown keyword '{opt}'; did you mean '{best}' maybe ?{hint}",
                        context(b)
                    )
                }
                None => format!("{}unknown keyword '{opt}'.{hint}", context(b)),
            };
            b.push(
                Diagnostic::new("E224", msg)
                    .at(stmt.span(i))
                    .label("unknown server option")
                    .replace_with(stmt.span(i), best)
                    .form(crate::diagnostic::HaproxyForm::FileLine),
            );
            stopped = true;
            break;
        };
        if arity > 0 && stmt.word(i + 1).is_empty() {
            match keywords::server_option_without_value(opt) {
                // Read as an empty value.
                Some(None) => {}
                Some(Some(message)) => {
                    b.push(
                        Diagnostic::new("E225", format!("{}{message}.", context(b)))
                            .at(stmt.span(i))
                            .label("the option's value is missing")
                            .form(HaproxyForm::FileLine),
                    );
                    stopped = true;
                    break;
                }
                None => {
                    b.push(
                        Diagnostic::new("E225", format!("'{opt}' expects an argument."))
                            .at(stmt.span(i)),
                    );
                    stopped = true;
                    break;
                }
            }
        }
        match opt {
            "sni" => sni_at = Some(i),
            // HAProxy's time parser warns, in the server's context, about what follows a unit.
            "inter" | "fastinter" | "downinter" | "agent-inter" | "slowstart"
            | "pool-purge-delay" => {
                let value = stmt.word(i + 1);
                let junk = super::values::parse_time(value, super::values::TimeUnit::Ms)
                    .ok()
                    .and_then(|d| d.trailing_junk);
                if let Some(junk) = junk {
                    let message = super::timeouts::time_junk_message(value, junk);
                    b.push(
                        Diagnostic::new("W213", format!("{}{message}", context(b)))
                            .at(stmt.span(i + 1))
                            .form(HaproxyForm::FileLine),
                    );
                }
            }
            "check" => server.check = true,
            "no-check" => server.check = false,
            "backup" => server.backup = true,
            "disabled" => server.disabled = true,
            "weight" => server.weight = Some(super::values::atol(stmt.word(i + 1)).max(0) as u32),
            "maxconn" => server.maxconn = Some(super::values::atol(stmt.word(i + 1)).max(0) as u32),
            "resolve-opts" => {
                if let Some(bad) = stmt
                    .word(i + 1)
                    .split(',')
                    .find(|w| !matches!(*w, "allow-dup-ip" | "ignore-weight" | "prevent-dup-ip"))
                {
                    let msg = format!(
                        "{}'resolve-opts' : unknown resolve-opts option '{bad}', supported methods are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'..",
                        context(b)
                    );
                    b.push(
                        Diagnostic::new("E229", msg)
                            .at(stmt.span(i + 1))
                            .label("not a resolve-opts option")
                            .form(crate::diagnostic::HaproxyForm::FileLine),
                    );
                }
            }
            "source" | "socks4" | "usesrc" => {
                match super::connect_addrs::server_option(b, stmt, i, &context(b)) {
                    Some(more) => i += more,
                    None => break,
                }
            }
            "ca-ignore-err" | "crt-ignore-err" => {
                if let Err(e) = check_ignore_err(opt, stmt.word(i + 1)) {
                    b.push(Diagnostic::new("E304", e).at(stmt.span(i + 1)));
                }
            }
            // `*`: the namespace a PROXY header names, nothing to open.
            "namespace" if stmt.word(i + 1) != "*" => {
                let wording = (context(b), String::new());
                b.config.files.push(FileRef {
                    kind: FileKind::Namespace,
                    path: stmt.spanned(i + 1),
                    keyword: opt.to_string(),
                    base: None,
                    wording: Some(wording),
                    after_parse: false,
                    aborts: false,
                    server_context: None,
                });
            }
            "crt" if keyword != "default-server" => {
                server_certificate(b, index, stmt, opts_at, &server, stmt.spanned(i + 1));
            }
            _ => {
                if let Some(kind) = Builder::tls_file_kind(opt) {
                    b.file_ref(kind, opt, stmt.spanned(i + 1));
                    if matches!(kind, FileKind::CaFile | FileKind::CrlFile) {
                        let server_context = context(b);
                        if let Some(r) = b.config.files.last_mut() {
                            r.server_context = Some(server_context);
                            // Printed as the server's keyword errors are, with a period.
                            r.wording = Some((format!("'{opt}' : "), ".".to_string()));
                        }
                    }
                }
            }
        }
        i += 1 + arity;
    }
    if keyword != "default-server" {
        if stopped {
            sni_at = (opts_at..stmt.len()).rev().find(|&i| stmt.word(i) == "sni");
        }
        if let Some(at) = sni_at {
            server_sni(b, stmt, at, &context);
        }
        push_short(&mut b.config.proxies[index].servers, server);
    }
}

/// A server's `sni` expression (the last one given), which HAProxy compiles once the line is
/// read: it must parse, and its fetch must exist when the server's connection is set up.
/// Errors are prefixed with `context`, the server's name (`'server <proxy>/<name>' : `), made
/// only for a line with `sni`; `at` is the `sni` word.
fn server_sni(b: &mut Builder, stmt: &Stmt, at: usize, context: &dyn Fn(&Builder) -> String) {
    let word = stmt.spanned(at + 1);
    if word.value.is_empty() {
        return;
    }
    let context = context(b);
    let prefix = format!("{context}error detected while parsing sni expression : ");
    let refusal = match crate::expr::sample::parse(&word.value, false) {
        Err(e) => Diagnostic::new("E506", format!("{prefix}{}", e.message))
            .label("invalid sample expression"),
        Ok((expr, _)) => {
            let places = crate::registry::capabilities::at::BE_SRV_CON;
            // HAProxy's message has two spaces here.
            let wrap = (format!("{prefix} "), ".");
            let wrap = (wrap.0.as_str(), wrap.1);
            match super::exprs::fetch_unavailable(&expr, places, &word.value, wrap) {
                Some(d) => d,
                None => return,
            }
        }
    };
    b.push(refusal.at(word.span).form(HaproxyForm::FileLine));
}

/// The first and last numbers of a `server-template` (`<nb>` or `<low>-<high>`), read as
/// HAProxy reads them (C's `atoi`); `None` for a range it refuses: a negative first number, or
/// a last one below it (so `0`, and a word that is not a number, are refused).
fn template_range(word: &str) -> Option<(u32, u32)> {
    let atoi = |w: &str| super::values::atol(w).clamp(i32::MIN.into(), i32::MAX.into());
    let first = atoi(word);
    let (lo, hi) = match word.split_once('-') {
        Some((_, high)) => (first, atoi(high)),
        None => (1, first),
    };
    (lo >= 0 && hi >= lo).then_some((lo as u32, hi as u32))
}

/// The numbers of `shards` and `accept-netscaler-cip`, read as HAProxy reads them (with
/// `atol`), refused with its words.
fn check_bind_number(option: &str, value: &str) -> Result<(), String> {
    let n = super::values::atol(value);
    match option {
        "shards" if value == "by-thread" => Ok(()),
        "shards" => {
            let n = n as i32;
            let max = super::threads::MAX_THREADS as i32;
            if (1..=max).contains(&n) {
                Ok(())
            } else {
                Err(format!(
                    "'shards' : invalid value {n}, allowed range is 1..{max} or 'by-thread'"
                ))
            }
        }
        // Kept as an unsigned 32-bit number, so only 0 is refused (printed as a signed one).
        _ if n as u32 == 0 => Err(format!("'{option}' : invalid value 0, must be >= 0")),
        _ => Ok(()),
    }
}

/// What HAProxy's parser of a bind option says when its value is missing.
fn missing_value(option: &str) -> &'static str {
    match option {
        "ca-file" | "ca-verify-file" | "ca-sign-file" => "missing CAfile path",
        "ca-sign-pass" => "missing CAkey password",
        "ciphers" | "ciphersuites" => "missing cipher suite",
        "crt" | "crt-list" => "missing certificate location",
        "crl-file" => "missing CRLfile path",
        "curves" => "missing curve suite",
        "ecdhe" => "missing named curve",
        "npn" | "alpn" => "missing the comma-delimited NPN protocol suite",
        "ssl-min-ver" | "ssl-max-ver" => "missing the ssl/tls version",
        "tls-ticket-keys" => "missing TLS ticket keys file path",
        "verify" => "missing verify method",
        _ => "missing value.",
    }
}

/// A server's `crt`: HAProxy only records the path while it reads the line, and loads the
/// certificate once the configuration is read, when it prepares the server's TLS context, which
/// it does only for a server that asks for TLS (`ssl` or `check-ssl`, on its line or on a
/// `default-server` line before it). So a missing file is reported after the parse, in the
/// server's words, and not at all for a server without TLS.
fn server_certificate(
    b: &mut Builder,
    index: usize,
    stmt: &Stmt,
    opts_at: usize,
    server: &Server,
    path: Spanned<Text>,
) {
    let tls_word = |w: &str| w == "ssl" || w == "check-ssl";
    let p = &b.config.proxies[index];
    let by_default = p.default_server_words().any(tls_word);
    if !by_default && !(opts_at..stmt.len()).any(|i| tls_word(stmt.word(i))) {
        return;
    }
    // A template's first server is the one HAProxy prepares first.
    let name = match server.template {
        Some((first, _)) => format!("{}{first}", server.name.value),
        None => server.name.value.to_string(),
    };
    let prefix = format!(
        "[{}] : 'server {}/{name}' : ",
        b.location(stmt.span(0)),
        p.name_str()
    );
    b.config.files.push(FileRef {
        kind: FileKind::Certificate,
        path,
        keyword: "crt".to_string(),
        base: b.crt_base.clone(),
        wording: Some((prefix, String::new())),
        after_parse: true,
        aborts: false,
        server_context: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As HAProxy 2.7 (server.c, `invalid_char`): a server name with a character outside
    /// letters, digits, `.`, `-`, `_`, `:` (and a template prefix with `:` too) is refused,
    /// and so is an empty one, whose message stops at the missing character.
    #[test]
    fn server_names_are_checked_as_haproxy_checks_them() {
        let refusals = |line: &str| -> Vec<(&'static str, String)> {
            let text = format!("backend b\n    {line}\n");
            crate::testkit::compile_text("t.cfg", &text, false)
                .diagnostics
                .iter()
                .filter(|d| d.code == "E203")
                .map(|d| (d.code, d.message.to_string()))
                .collect()
        };
        assert_eq!(
            refusals("server \"\" 127.0.0.1:80"),
            [("E203", "character '".to_string())]
        );
        assert_eq!(
            refusals("server \"a b\" 127.0.0.1:80"),
            [(
                "E203",
                "character ' ' is not permitted in server name 'a b'.".to_string()
            )]
        );
        assert_eq!(
            refusals("server-template x:y 1-2 127.0.0.1:80"),
            [(
                "E203",
                "character ':' is not permitted in server-template prefix 'x:y'.".to_string()
            )]
        );
        assert!(refusals("server a:b.c-d_e 127.0.0.1:80").is_empty());
    }

    /// As HAProxy 2.7 (server.c, `_srv_parse_tmpl_range`): a count gives 1..count, a range
    /// its two numbers, each read with `atoi`.
    #[test]
    fn template_ranges_are_read_as_haproxy_reads_them() {
        assert_eq!(template_range("3"), Some((1, 3)));
        assert_eq!(template_range("2-5"), Some((2, 5)));
        assert_eq!(template_range("0-0"), Some((0, 0)));
        assert_eq!(template_range("4x"), Some((1, 4)));
        for refused in ["0", "5-2", "-1", "proxy.example:3023", ""] {
            assert_eq!(template_range(refused), None, "{refused}");
        }
    }

    #[test]
    fn thread_sets_follow_parse_process_number() {
        assert_eq!(parse_thread_set("1-3", 64), Ok(0b111));
        assert_eq!(parse_thread_set("3-1", 64), Ok(0b111));
        assert_eq!(parse_thread_set("63-", 64), Ok(0b11 << 62));
        assert_eq!(parse_thread_set("odd", 4), Ok(0b0101));
        assert!(parse_thread_set("0", 64)
            .unwrap_err()
            .contains("It supports numbers from 1 to 64."));
        assert_eq!(
            parse_thread_set("abc", 64),
            Err("'abc' is not a valid number/range.".into())
        );
    }

    #[test]
    fn bind_thread_groups_must_agree() {
        let mut spec = ThreadSpec::default();
        assert!(parse_bind_thread("1/1", &mut spec).is_ok());
        assert!(parse_bind_thread("1/2", &mut spec).is_ok());
        assert_eq!(spec.mask, 0b11);
        assert_eq!(
            parse_bind_thread("2/1", &mut spec),
            Err("'2/1' multiple thread-groups are not supported".into())
        );
        let mut abs = ThreadSpec::default();
        parse_bind_thread("3", &mut abs).unwrap();
        assert!(parse_bind_thread("1/1", &mut abs).is_err());
        assert!(parse_bind_thread("17/1", &mut ThreadSpec::default())
            .unwrap_err()
            .contains("between 1 and 16 (was 17)"));
    }

    #[test]
    fn ignore_err_lists() {
        assert!(check_ignore_err("ca-ignore-err", "all").is_ok());
        assert!(check_ignore_err("ca-ignore-err", "10,94").is_ok());
        assert_eq!(
            check_ignore_err("crt-ignore-err", "95"),
            Err("'crt-ignore-err' : ID '95' out of range (1..94) in error IDs list '95'".into())
        );
        assert!(check_ignore_err("ca-ignore-err", "")
            .unwrap_err()
            .contains("missing error IDs list"));
    }
}
