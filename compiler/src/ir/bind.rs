//! `bind` lines: addresses, options, the 2.7 `thread` and `*-ignore-err` rules (server lines are
//! in server_line.rs, which shares the `*-ignore-err` check).

use super::build::{Builder, Stmt};
use super::keywords;
use super::model::*;
use crate::diagnostic::{Diagnostic, Edit};

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
        if let Some(e) = (opt == "id")
            .then(|| super::ids::bind_single_socket(b, stmt, &ctx))
            .flatten()
        {
            b.push(
                Diagnostic::new("E526", e)
                    .at(stmt.span(i))
                    .label("one id for several listeners"),
            );
            break;
        }
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
        if let Some(e) = (arity > 0 && !value.is_empty())
            .then(|| value_problem(opt, value))
            .flatten()
        {
            let code = if opt.ends_with("-ignore-err") {
                "E304"
            } else {
                "E305"
            };
            let mut d = Diagnostic::new(code, format!("{ctx}{}", e.trim_end_matches('\n')))
                .at(stmt.span(i + 1))
                .label("not a value this option takes");
            if opt.starts_with("ssl-m") {
                d = d.help("write SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3");
            }
            b.push(d);
            break;
        }
        match opt {
            "id" => {
                let binds = &b.config.proxies[index].binds;
                if let Some(e) = super::ids::bind_duplicate(b, binds, stmt, i + 1, &ctx) {
                    b.push(
                        Diagnostic::new("E526", e)
                            .at(stmt.span(i + 1))
                            .label("id already taken"),
                    );
                    break;
                }
            }
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
                if let Some(kind) = FileKind::of_tls_option(opt) {
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

/// What HAProxy's parser of bind option `opt` says of its (present) value, when it refuses
/// it: the words after the line's context. Options whose value this checker reads elsewhere
/// (`thread`, certificates and other files) are not judged here.
fn value_problem(opt: &str, value: &str) -> Option<String> {
    use crate::cnum::{atol, strtol};
    let whole = |base| {
        let r = strtol(value, base);
        (r.end == value.len()).then_some(r.value)
    };
    let one_of = |allowed: &[&str], list: &str| {
        (!allowed.contains(&value)).then(|| format!("'{opt}' only supports {list} (got '{value}')"))
    };
    match opt {
        "level" => one_of(&["user", "operator", "admin"], "'user', 'operator', and 'admin'"),
        "expose-fd" => one_of(&["listeners"], "'listeners'"),
        "severity-output" => one_of(&["none", "number", "string"], "'none', 'number', and 'string'"),
        "mode" => whole(8).is_none().then(|| {
            format!("'{opt}' : missing or invalid mode '{value}' (octal integer expected)")
        }),
        "maxconn" => {
            let n = atol(value) as i32;
            (n < 0).then(|| format!("'{opt}' : invalid value {n}, must be >= 0"))
        }
        "backlog" => {
            let n = atol(value) as i32;
            (n < 0).then(|| format!("'{opt}' : invalid value {n}, must be > 0"))
        }
        "id" => match whole(10) {
            None => Some(format!("'{opt}' : expects an integer argument, found '{value}'")),
            Some(n) if n as i32 <= 0 => Some(format!("'{opt}' : custom id has to be > 0")),
            Some(_) => None,
        },
        "mss" => {
            let n = atol(value) as i32;
            (n == 0 || n.unsigned_abs() > 65535).then(|| {
                format!("'{opt}' : expects an MSS with and absolute value between 1 and 65535")
            })
        }
        "tcp-ut" => match super::values::parse_time(value, super::values::TimeUnit::Ms) {
            Ok(_) => None,
            Err(super::values::TimeError::Overflow) => Some(format!("timer overflow in argument '{value}' to '{opt}' (maximum value is 2147483647 ms or ~24.8 days)")),
            Err(super::values::TimeError::Underflow) => Some(format!("timer underflow in argument '{value}' to '{opt}' (minimum non-null value is 1 ms)")),
            Err(super::values::TimeError::Char(_)) => Some(format!("'{opt}' : expects a positive delay in milliseconds")),
        },
        // HAProxy ends this one with a line feed: the `stats socket` wording's closing quote
        // goes on a line of its own, a `bind` line's context drops it.
        "verify" => (!matches!(value, "none" | "optional" | "required")).then(|| {
            format!("'{opt}' : unknown verify method '{value}', only 'none', 'optional', and 'required' are supported\n")
        }),
        // The multiplexers HAProxy 2.7 registers, whatever their side (checked later).
        "proto" => (!matches!(value, "h1" | "h2" | "fcgi" | "none" | "quic"))
            .then(|| format!("'{opt}' :  unknown MUX protocol '{value}'")),
        "ssl-min-ver" | "ssl-max-ver" => crate::plan::tls::tls_version(value).err(),
        "ca-ignore-err" | "crt-ignore-err" => check_ignore_err(opt, value).err(),
        "shards" | "accept-netscaler-cip" => check_bind_number(opt, value).err(),
        _ => None,
    }
}

/// The options of a global `stats socket` line, which HAProxy reads with the `bind` keywords:
/// the first unknown one, or the first whose value is missing, fails the line, worded after
/// `'stats socket' : ` (the option's own error quoted whole).
pub(super) fn stats_socket_options(b: &mut Builder, stmt: &Stmt) {
    let head = format!("'{} {}'", stmt.word(0), stmt.word(1));
    let mut i = 3;
    while i < stmt.len() {
        let opt = stmt.word(i);
        let Some(arity) = keywords::bind_option_arity(opt) else {
            let best = keywords::suggest_bind_option(opt);
            let hint = best.map_or(String::new(), |b| format!(" Did you mean '{b}' maybe ?"));
            b.push(
                Diagnostic::new("E221", format!("{head} : unknown keyword '{opt}'.{hint}"))
                    .at(stmt.span(i))
                    .label("unknown bind option")
                    .replace_with(stmt.span(i), best),
            );
            return;
        };
        if arity > 0
            && stmt.word(i + 1).is_empty()
            && !matches!(
                opt,
                "thread" | "ca-ignore-err" | "crt-ignore-err" | "process"
            )
        {
            b.push(
                Diagnostic::new(
                    "E222",
                    format!("{head} : ''{opt}' : {}'", missing_value(opt)),
                )
                .at(stmt.span(i)),
            );
            return;
        }
        // The CLI's listeners belong to the first thread group, set before the options are
        // read: a thread set without that group (`all`, `1`, `2/1`) names another one.
        if opt == "thread" && !stmt.word(i + 1).starts_with("1/") {
            let msg = format!(
                "{head} : ''{}' multiple thread-groups are not supported'",
                stmt.word(i + 1)
            );
            b.push(Diagnostic::new("E303", msg).at(stmt.span(i + 1)));
            return;
        }
        if let Some(e) = (arity > 0)
            .then(|| value_problem(opt, stmt.word(i + 1)))
            .flatten()
        {
            b.push(
                Diagnostic::new("E305", format!("{head} : '{e}'"))
                    .at(stmt.span(i + 1))
                    .label("not a value this option takes"),
            );
            return;
        }
        i += 1 + arity;
    }
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
pub(super) fn missing_value(option: &str) -> &'static str {
    match option {
        "ca-file" | "ca-verify-file" | "ca-sign-file" => "missing CAfile path",
        "ca-sign-pass" => "missing CAkey password",
        "ciphers" | "ciphersuites" => "missing cipher suite",
        "crt" | "crt-list" => "missing certificate location",
        "crl-file" => "missing CRLfile path",
        "curves" => "missing curve suite",
        "ecdhe" => "missing named curve",
        "npn" => "missing the comma-delimited NPN protocol suite",
        "alpn" => "missing the comma-delimited ALPN protocol suite",
        "ssl-min-ver" | "ssl-max-ver" => "missing the ssl/tls version",
        "tls-ticket-keys" => "missing TLS ticket keys file path",
        "verify" => "missing verify method",
        // The listener's own words, the UNIX socket's and the CLI's.
        "accept-netscaler-cip"
        | "backlog"
        | "maxconn"
        | "nice"
        | "proto"
        | "shards"
        | "uid"
        | "gid" => "missing value",
        "name" => "missing name",
        "id" => "expects an integer argument",
        "mode" => "missing or invalid mode '' (octal integer expected)",
        "user" => "missing user name",
        "group" => "missing group name",
        "level" => "missing level",
        "expose-fd" => "missing fd type",
        "severity-output" => "missing severity format",
        "mss" => "missing MSS value",
        "tcp-ut" => "missing TCP User Timeout value",
        "interface" => "missing interface name",
        "namespace" => "missing namespace id",
        _ => "missing value.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
