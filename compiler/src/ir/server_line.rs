//! `server`, `default-server` and `server-template` lines: names, addresses, options, `sni`
//! and client certificates, checked as HAProxy checks them while it reads the line.

use super::bind::check_ignore_err;
use super::build::{Builder, Stmt};
use super::keywords;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm};

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
        // A host name (not an SRV record's `_service` name) is made into DNS labels at once.
        let error = match parsed {
            Err(e) => Some(e),
            Ok(a)
                if a.is_hostname()
                    && !a.host.starts_with('_')
                    && !crate::address::dns_name_ok(&a.host) =>
            {
                let id = match keyword {
                    "server-template" => "(null)",
                    _ => server.name.value.as_str(),
                };
                Some(format!("Can't create DNS resolution for server '{id}'"))
            }
            Ok(_) => None,
        };
        if let Some(e) = error {
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
        // An option only a server line takes: HAProxy says so at the alert level, skips it
        // and its values, and goes on (the configuration stays valid).
        if keyword == "default-server"
            && crate::registry::server_option(opt).is_some_and(|o| !o.default_server)
        {
            let mut d = Diagnostic::new(
                "W540",
                format!("'{opt}' option is not accepted in default-server sections"),
            )
            .severity(crate::diagnostic::Severity::Warning)
            .at(stmt.span(i))
            .label("ignored on a default-server line")
            .help(format!("write '{opt}' on each server line that needs it"))
            .form(HaproxyForm::FileLine);
            d.haproxy_level = Some(crate::diagnostic::Severity::Error);
            b.push(d);
            i += 1 + arity;
            continue;
        }
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
        let id = match keyword {
            "server" => server.name.value.as_str(),
            _ => "(null)",
        };
        if let Some(message) = super::server_values::refusal(opt, stmt.word(i + 1), id) {
            b.push(
                Diagnostic::new("E540", format!("{}{message}.", context(b)))
                    .at(stmt.span(i + 1))
                    .label("a value HAProxy does not take for this option")
                    .form(HaproxyForm::FileLine),
            );
            stopped = true;
            break;
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
            "id" if keyword != "default-server" => {
                if !super::ids::server_option(b, index, stmt, i + 1, &context(b)) {
                    stopped = true;
                    break;
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
            // Loaded for the TLS servers that take it, as theirs (below).
            "crt" => {}
            _ => {
                if let Some(kind) = FileKind::of_tls_option(opt) {
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
        if !stopped {
            finalize(b, index, stmt, opts_at, &server, &context);
        }
        if !(opts_at..stmt.len()).any(|i| stmt.word(i) == "crt") {
            let inherited = b.config.proxies[index]
                .default_server_lines()
                .filter_map(|d| {
                    let at = d.args.iter().rposition(|a| a == "crt")?;
                    Some(Spanned::new(d.args.get(at + 1)?.clone(), d.span))
                })
                .last();
            if let Some(path) = inherited {
                server_certificate(b, index, stmt, opts_at, &server, path);
            }
        }
        push_short(&mut b.config.proxies[index].servers, server);
    }
}

/// What HAProxy checks once a server's line is read, with the `default-server` lines before
/// it: a server cannot run checks and follow another's (`track`), and an agent check needs a
/// port. The first that fails is reported.
fn finalize(
    b: &mut Builder,
    index: usize,
    stmt: &Stmt,
    opts_at: usize,
    server: &Server,
    context: &dyn Fn(&Builder) -> String,
) {
    let p = &b.config.proxies[index];
    // Every default-server line read so far comes before the server.
    let words = p.server_words(server);
    let own = |word: &str| (opts_at..stmt.len()).rfind(|&i| stmt.word(i) == word);
    let at = |words: &[&str]| {
        words
            .iter()
            .find_map(|w| own(w))
            .map_or(server.name.span, |i| stmt.span(i))
    };
    let switch = crate::registry::last_switch;
    let finding = if switch(&words, "check", "no-check") == Some(true)
        && crate::registry::last_server_value(&words, "track").is_some()
    {
        Diagnostic::new(
            "E531",
            format!(
                "{}unable to enable checks and tracking at the same time!",
                context(b)
            ),
        )
        .at(at(&["track", "check"]))
        .label("a tracking server takes its state from the server it tracks")
        .help("remove 'check' (or write 'no-check'), or remove 'track'")
    } else if switch(&words, "agent-check", "no-agent-check") == Some(true)
        && crate::registry::last_server_value(&words, "agent-port").map_or(0, super::values::atol)
            == 0
    {
        let id = match server.template {
            Some(_) => "(null)",
            None => server.name.value.as_str(),
        };
        Diagnostic::new(
            "E532",
            format!(
                "{}server {id} does not have agent port. Agent check has been disabled.",
                context(b)
            ),
        )
        .at(at(&["agent-check"]))
        .label("the agent check has no port to connect to")
        .help("give the agent its port with 'agent-port <port>'")
    } else {
        return;
    };
    b.push(finding.form(HaproxyForm::FileLine));
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

    /// A server takes the options of the `default-server` lines before it, without those a
    /// default-server line does not take (`id`), and not those of a line after it.
    #[test]
    fn a_server_reads_the_default_server_lines_before_it() {
        let text = "backend b\n    server a 127.0.0.1:80\n    default-server id 5 check inter 2s\n    server s 127.0.0.1:81 weight 3\n    default-server backup\n";
        let c = crate::testkit::compile_text("t.cfg", text, false);
        let p = &c.config.proxies[0];
        let words = |i: usize| p.server_words(&p.servers[i]);
        assert_eq!(words(0), Vec::<&str>::new());
        assert_eq!(words(1), ["check", "inter", "2s", "weight", "3"]);
    }

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
}
