//! Environment checks: the files a configuration names must exist and hold what HAProxy expects
//! (certificates with their keys, CA and CRL files, error pages, pattern files, Lua scripts).
//! Skipped with `--no-env`. Paths resolve like HAProxy's: `crt-base`/`ca-base`, then the working
//! directory. Server host names must resolve ([`names`]).

mod certs;
mod crt_lists;
mod limits;
mod lua;
mod names;
mod nameservers;
mod server_state;

pub use certs::certless;
pub use crt_lists::check as crt_lists;

use certs::certificate;

use crate::diagnostic::Diagnostic;
use crate::ir::{Config, FileKind, FileRef, Spanned, Text};
use crate::source::io_reason;
use std::path::{Path, PathBuf};

/// A Lua script must exist and load as HAProxy loads it while parsing (compiled, its top level
/// run), when a loader is installed ([`crate::lua`]); its registered names are added to
/// `names`.
fn lua_script(
    path: &Path,
    args: &[String],
    names: &mut Option<crate::lua::LuaNames>,
) -> Result<(), String> {
    let Some(loader) = crate::lua::loader() else {
        let p = path.display().to_string();
        return exists(path, |_| {
            format!("error in Lua file '{p}': cannot open {p}: No such file or directory")
        });
    };
    let loaded = loader.load(path, args)?;
    names.get_or_insert_with(Default::default).extend(loaded);
    Ok(())
}

/// Largest file read for validation; certificate bundles and error pages are far smaller.
const MAX_READ: u64 = 4 << 20;

/// Where a named file is: under its `crt-base`/`ca-base` when relative, and what is still
/// relative under `default_path` (the global `default-path`'s directory) when there is one.
fn resolve(r: &FileRef, default_path: Option<&str>) -> PathBuf {
    let p = Path::new(r.path.value.as_str());
    let based = match &r.base {
        Some(base) if p.is_relative() => Path::new(base).join(p),
        _ => p.to_path_buf(),
    };
    under_default_path(&based, default_path)
}

/// A relative path under the global `default-path`'s directory, when there is one.
pub(crate) fn under_default_path(p: &Path, default_path: Option<&str>) -> PathBuf {
    match default_path {
        Some(dir) if p.is_relative() => Path::new(dir).join(p),
        _ => p.to_path_buf(),
    }
}

/// Why a CA or CRL file does not load as HAProxy loads it into a certificate store.
enum CaStoreError {
    Unreadable(std::io::Error),
    /// A file with neither a certificate nor a revocation list in it.
    Empty,
}

impl CaStoreError {
    /// The reason HAProxy gives: the system's for a file it cannot reach, OpenSSL's for one
    /// without certificates.
    fn reason(&self) -> String {
        match self {
            CaStoreError::Unreadable(e) => io_reason(e),
            CaStoreError::Empty => "no certificate or crl found".into(),
        }
    }
}

/// A CA or CRL file (or a directory of them, which HAProxy takes whatever it holds).
fn ca_store(path: &Path) -> Result<(), CaStoreError> {
    if path.is_dir() {
        return Ok(());
    }
    let pem = read_capped(path).map_err(CaStoreError::Unreadable)?;
    let found = pem.contains("-----BEGIN CERTIFICATE-----")
        || pem.contains("-----BEGIN TRUSTED CERTIFICATE-----")
        || pem.contains("-----BEGIN X509 CRL-----");
    if found {
        Ok(())
    } else {
        Err(CaStoreError::Empty)
    }
}

/// HAProxy's words for a page file it could not open, or opened but could not read (a
/// directory).
fn open_or_read(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::IsADirectory {
        "error reading file"
    } else {
        "error opening file"
    }
}

fn read_capped(p: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(p)?
        .take(MAX_READ)
        .read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn pem_file(path: &Path, what: &str, marker: &str) -> Result<(), String> {
    let shown = path.display().to_string();
    // HAProxy's words once it could not open the file (it says why in an alert of its own).
    let pem = read_capped(path).map_err(|_| format!("unable to load {shown}"))?;
    if !pem.contains(marker) {
        return Err(format!(
            "unable to load {what} file '{shown}': no PEM block found."
        ));
    }
    Ok(())
}

/// An error page is a complete HTTP/1 response: status line, headers, blank line.
fn error_file(path: &Path) -> Result<(), String> {
    let shown = path.display().to_string();
    let text = read_capped(path).map_err(|e| format!("{} '{shown}'.", open_or_read(&e)))?;
    if text.is_empty() {
        return Ok(()); // an empty page (often /dev/null) makes HAProxy send nothing
    }
    let first = text.lines().next().unwrap_or("");
    let valid_status = first.starts_with("HTTP/1.")
        && first
            .split_whitespace()
            .nth(1)
            .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()));
    let has_end = text.contains("\r\n\r\n") || text.contains("\n\n");
    if !valid_status || !has_end {
        return Err(format!(
            "unable to parse error message from file '{shown}': not a complete HTTP/1 response."
        ));
    }
    Ok(())
}

fn exists(path: &Path, message: impl FnOnce(&str) -> String) -> Result<(), String> {
    if path.exists() {
        Ok(())
    } else {
        Err(message(&path.display().to_string()))
    }
}

/// The `h1-case-adjust-file` as HAProxy reads it once parsing is done: one `<from> <to>` pair a
/// line (blank lines and `#` comments skipped), each checked like an `h1-case-adjust` line and
/// against the pairs before it, those of the configuration first.
fn case_adjust_file(path: &Path, shown: &str, config: &Config) -> Result<(), String> {
    let text = read_capped(path)
        .map_err(|_| format!("h1-headers-case-adjust-file '{shown}': failed to open file."))?;
    let mut known: Vec<&str> = crate::ir::case_adjust_froms(&config.global.directives);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cut = line.find([' ', '\t']).unwrap_or(line.len());
        let (from, to) = (&line[..cut], line[cut..].trim_matches([' ', '\t', '\r']));
        if let Some(e) = crate::ir::case_adjust_pair(from, to, |f| known.contains(&f)) {
            return Err(format!(
                "h1-headers-case-adjust-file '{shown}' : {e} at line {}.",
                n + 1
            ));
        }
        known.push(from);
    }
    Ok(())
}

/// `issuers-chain-path` as HAProxy reads it with the line: the path must exist, be a
/// directory, and be listable (its files are loaded then; their contents are not checked here).
fn issuers_dir(path: &Path, shown: &str) -> Result<(), String> {
    let what = "global statement 'issuers-chain-path'";
    let meta = std::fs::metadata(path)
        .map_err(|_| format!("{what} expects a directory path as an argument."))?;
    if !meta.is_dir() {
        return Err(format!("{what}: {shown} is not a directory."));
    }
    std::fs::read_dir(path).map(drop).map_err(|e| {
        // HAProxy names the directory without its trailing slashes, and the C library's reason.
        let reason = e.to_string();
        let reason = reason.split(" (os error").next().unwrap_or_default();
        let dir = shown.trim_end_matches('/');
        format!("{what}: unable to scan directory '{dir}' : {reason}.")
    })
}

/// Checks every file the configuration names.
pub fn check(config: &Config) -> (Vec<Diagnostic>, Option<crate::lua::LuaNames>) {
    let mut out = Vec::new();
    // What the Lua scripts registered, once a loader has loaded them.
    let mut lua_names = None;
    // HAProxy opens a pattern file the first time it is named only (a file it failed to open
    // stays known, empty). Files named while the configuration is read come before those of
    // strings compiled once it is read, wherever these are written.
    let mut patterns_seen = rustc_hash::FxHashSet::default();
    let read_with_line: rustc_hash::FxHashSet<&str> = config
        .files
        .iter()
        .filter(|r| r.kind == FileKind::PatternFile && !r.after_parse)
        .map(|r| r.path.value.as_str())
        .collect();
    for r in &config.files {
        // An empty pattern file name is opened, and fails, as HAProxy opens it (`-f ""`, `map()`).
        // A `$` left in a name is part of it: HAProxy expands variables inside double quotes
        // only, and opens `${NAME}/x.pem` written bare as it is written.
        if r.path.value.is_empty() && r.kind != FileKind::PatternFile {
            continue;
        }
        if r.kind == FileKind::PatternFile
            && ((r.after_parse && read_with_line.contains(r.path.value.as_str()))
                || !patterns_seen.insert(r.path.value.as_str()))
        {
            continue;
        }
        let path = resolve(r, config.global.default_path.as_deref());
        let result = match r.kind {
            FileKind::Certificate | FileKind::PrivateKey => {
                certificate(&path, config.global.ssl_load_extra_del_ext)
            }
            // Read with its lines by `crt_lists`, which can place its diagnostics in it.
            FileKind::CertificateList => Ok(()),
            FileKind::CaFile if r.path.value == "@system-ca" => Ok(()),
            // Loaded later than the other CA files, and worded apart.
            FileKind::CaFile if r.keyword == "ca-sign-file" => pem_file(&path, "CA", "-----BEGIN"),
            FileKind::CaFile | FileKind::CrlFile => match ca_store(&path) {
                Ok(()) => Ok(()),
                Err(e) => {
                    // Named with `ca-base` applied, as HAProxy names it.
                    let named = crate::plan::tls::with_base(&r.base, &r.path.value);
                    let context = r.server_context.as_deref();
                    out.push(crt_lists::couldnt_open(&named, &e, r.path.span, context));
                    Err(format!("unable to load {named}"))
                }
            },
            FileKind::ErrorFile => error_file(&path),
            // HAProxy ends the error of a whole response with a period, not a payload's.
            FileKind::ReplyFile => read_capped(&path).map(drop).map_err(|e| {
                let end = if r.keyword == "errorfile" { "." } else { "" };
                format!("{} '{}'{end}", open_or_read(&e), path.display())
            }),
            FileKind::LuaScript => {
                let args = config
                    .global
                    .lua_loads
                    .iter()
                    .find(|(f, _)| f.span == r.path.span)
                    .map_or(&[][..], |(_, a)| a.as_slice());
                lua_script(&path, args, &mut lua_names)
            }
            FileKind::PatternFile if r.path.value.is_empty() => {
                Err("failed to open pattern file <>".to_string())
            }
            FileKind::PatternFile => {
                exists(&path, |p| format!("failed to open pattern file <{p}>"))
            }
            FileKind::TicketKeys => {
                let shown = r.path.value.as_str();
                read_capped(&path)
                    .map_err(|_| format!("'{shown}' : unable to load ssl tickets keys file"))
                    .and_then(|text| crate::plan::ticket_keys::parse(shown, &text).map(drop))
            }
            FileKind::Namespace => {
                let name = r.path.value.as_str();
                exists(&Path::new("/var/run/netns").join(name), |_| {
                    format!("Cannot open namespace '{name}'")
                })
            }
            FileKind::DhParams => exists(&path, |p| {
                format!("unable to load DH parameters from file <{p}>.")
            }),
            FileKind::CaseAdjustFile => case_adjust_file(&path, &r.path.value, config),
            FileKind::IssuersDir => issuers_dir(&path, &r.path.value),
        };
        if let Err(message) = result {
            // Lua's loader words its own message; the other file checks name their keyword.
            let message = match (&r.wording, r.kind) {
                (Some((prefix, suffix)), _) => format!("{prefix}{message}{suffix}"),
                (None, FileKind::LuaScript | FileKind::CaseAdjustFile | FileKind::IssuersDir) => {
                    message
                }
                // HAProxy names these two keywords its own way.
                (None, FileKind::ErrorFile) => format!("{} : {message}", r.keyword),
                (None, FileKind::DhParams) => format!("'{}': {message}", r.keyword),
                (None, _) => format!("'{}' : {message}", r.keyword),
            };
            let mut d = Diagnostic::new("E402", message);
            d.haproxy_aborts = r.aborts;
            if r.after_parse {
                d = d.form(crate::diagnostic::HaproxyForm::Bare);
                d.after_parse = true;
            } else if r.server_context.is_some() {
                // The store's alert before it took the line's place and context.
                d = d.form(crate::diagnostic::HaproxyForm::Bare);
            }
            out.push(
                d.at(r.path.span)
                    .label("file problem")
                    .note("checked against this machine; use --no-env to skip file checks"),
            );
        }
    }
    // With a loader the scripts ran and said what they registered; without one (the compiler
    // alone) their source is scanned for the registrations.
    if lua::uses_lua(config) {
        if let Some(names) = lua_names.clone().or_else(|| lua::scanned(config)) {
            out.extend(lua_references(config, &names));
        }
    }
    out.extend(names::read_time_names(config));
    out.extend(accounts(config));
    (out, lua_names)
}

/// What the scripts register, read from their source when no loader ran them.
pub fn scanned_lua_names(config: &Config) -> Option<crate::lua::LuaNames> {
    lua::scanned(config)
}

/// Whether a rule of `set` is an HTTP rule, whose error stops HAProxy.
fn http_rules(set: Option<crate::ir::RuleSet>) -> bool {
    use crate::ir::RuleSet::*;
    matches!(set, Some(HttpRequest | HttpResponse | HttpAfterResponse))
}

/// `lua.<name>` actions and services must name something the scripts registered, as HAProxy
/// finds while it parses the rule.
fn lua_references(config: &Config, names: &crate::lua::LuaNames) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &config.proxies {
        for rule in p.rules.iter().filter(|r| {
            !matches!(
                r.set,
                crate::ir::RuleSet::HttpCheck | crate::ir::RuleSet::TcpCheck
            )
        }) {
            let Some(name) = rule.action.value.strip_prefix("lua.") else {
                continue;
            };
            // A script's action exists only in the rule sets it was registered for.
            let available = names.actions_for(rule.set);
            if !available.iter().any(|a| a == name) {
                let lua: Vec<String> = available.iter().map(|a| format!("lua.{a}")).collect();
                let mut d = crate::ir::unknown_action(
                    rule.set,
                    &rule.action.value,
                    rule.action.span,
                    &lua,
                    (p.kind.type_str(), p.name_str()),
                );
                d.haproxy_aborts = http_rules(Some(rule.set));
                out.push(d);
            }
        }
        for f in &p.filters {
            let registered = f
                .value
                .strip_prefix("lua.")
                .map(|name| names.filters.iter().any(|n| n == name));
            if registered == Some(false) {
                out.push(crate::ir::proxy::unknown_filter(f.value.as_str(), f.span));
            }
        }
        for service in &p.services {
            let Some(name) = service.value.strip_prefix("lua.") else {
                continue;
            };
            // The rule the service was named in gives HAProxy's keyword.
            let set = p
                .rules
                .iter()
                .find(|r| r.args.first().is_some_and(|a| a.span == service.span))
                .map(|r| r.set);
            let http = names.services.iter().find(|(s, _)| s == name).map(|s| s.1);
            if http == Some(true) && set.is_some_and(|s| s != crate::ir::RuleSet::HttpRequest) {
                out.push(
                    Diagnostic::new("E267", "HTTP applets are forbidden from 'tcp-request' rulesets")
                        .at(service.span)
                        .label("an HTTP service, registered with core.register_service(…, \"http\", …)")
                        .help("call it from 'http-request use-service', or register it as a \"tcp\" service"),
                );
            }
            if http.is_none() {
                let keyword = set.map_or("http-request", |s| {
                    s.keyword().split(' ').next().unwrap_or("")
                });
                let proxy = p.name.as_ref().map_or("", |n| n.value.as_str());
                let mut d = crate::ir::unknown_service(p.kind.type_str(), proxy, keyword, service)
                    .label("no script registered this service");
                d.haproxy_aborts = http_rules(set);
                out.push(d);
            }
        }
    }
    out
}

/// The global `user` and `group` names must exist on the machine (HAProxy looks them up while
/// it reads the line).
fn accounts(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (is_group, name) in &config.global.accounts {
        if let Some(d) = unknown_account(*is_group, name) {
            out.push(d);
        }
    }
    out.extend(socket_accounts(config));
    out
}

/// `stats socket <addr> … user <name> group <name>`: HAProxy looks both up while it reads the
/// line, and words its error inside the bind option's.
fn socket_accounts(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // HAProxy stops at the line's first bad option.
    for line in &config.global.socket_accounts {
        let first = line
            .iter()
            .find_map(|(g, n)| unknown_account(*g, n).map(|d| (*g, n, d)));
        if let Some((is_group, name, mut d)) = first {
            let what = if is_group { "group" } else { "user" };
            d.message = format!(
                "'stats socket' : ''{what}' : unknown {what} name '{}''",
                name.value
            )
            .into();
            out.push(d.form(crate::diagnostic::HaproxyForm::Parsing));
        }
    }
    out
}

/// The E406 for an account this machine lacks, if it does.
fn unknown_account(is_group: bool, name: &Spanned<Text>) -> Option<Diagnostic> {
    {
        let found = if is_group {
            nix::unistd::Group::from_name(&name.value).map(|g| g.is_some())
        } else {
            nix::unistd::User::from_name(&name.value).map(|u| u.is_some())
        };
        let errno = match found {
            Ok(true) => return None,
            Ok(false) => nix::errno::Errno::UnknownErrno,
            Err(e) => e,
        };
        let (code, text) = match errno {
            nix::errno::Errno::UnknownErrno => (0, "Success"),
            e => (e as i32, e.desc()),
        };
        let what = if is_group { "group" } else { "user" };
        Some(
            Diagnostic::new(
                "E406",
                format!("cannot find {what} id for '{}' ({code}:{text})", name.value),
            )
            .at(name.span)
            .label(format!("no such {what} on this machine"))
            .note("looked up on this machine at check time, as HAProxy does; use --no-env to skip"),
        )
    }
}

/// What HAProxy only finds when it starts, after the checks `haproxy -c` runs: the `chroot`
/// directory must be one, each UNIX socket must have a folder to be made in, and in
/// master-worker mode each `program` command must be one the system can execute.
pub fn start_up(config: &Config) -> Vec<Diagnostic> {
    let mut found = chroot(config);
    found.extend(unix_socket_folders(config));
    found.extend(program_commands(config));
    found
}

/// The `command` of each `program` section, when the global section asks for master-worker
/// mode (only a master runs programs): HAProxy's master forks it and the child executes it as
/// `execvp` does (a name without '/' is looked up in `PATH`). One that cannot be executed
/// makes the child exit with 1, and the master then stops everything (exit-on-failure).
fn program_commands(config: &Config) -> Vec<Diagnostic> {
    if !config.global.master_worker {
        return Vec::new();
    }
    config
        .sections
        .iter()
        .filter(|s| s.kind == crate::registry::SectionKind::Program)
        .flat_map(|s| {
            s.lines
                .iter()
                .filter(|d| d.prefix.is_none() && d.keyword == "command")
        })
        .filter_map(|d| {
            let command = d.args.first()?;
            let problem = not_executable(command)?;
            Some(
                Diagnostic::new("E413", format!("Cannot execute {command}: {problem}"))
                    .at(d.span)
                    .label("no program to execute on this machine")
                    .note(START_NOTE),
            )
        })
        .collect()
}

/// Why `execvp(command)` would fail on this machine (`None`: it would run).
fn not_executable(command: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if command.contains('/') {
        return match std::fs::metadata(command) {
            Err(e) => Some(io_reason(&e)),
            Ok(_) if executable(Path::new(command)) => None,
            Ok(_) => Some("Permission denied".into()),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let found = std::env::split_paths(&path).any(|dir| executable(&dir.join(command)));
    (!found).then(|| "No such file or directory".into())
}

const START_NOTE: &str = "HAProxy fails to start with this message; 'haproxy -c' does not look (checked against this machine; use --no-env to skip)";

fn chroot(config: &Config) -> Vec<Diagnostic> {
    let Some(dir) = &config.global.chroot else {
        return Vec::new();
    };
    let path = Path::new(dir.value.as_str());
    let problem = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Vec::new(),
        Ok(_) => "not a directory".into(),
        Err(e) => io_reason(&e),
    };
    vec![
        Diagnostic::new("E407", format!("Cannot chroot({}).", dir.value))
            .at(dir.span)
            .label(problem)
            .note(START_NOTE),
    ]
}

/// The `stats socket` and `bind` paths of UNIX sockets whose folder is missing: the socket
/// is made there when the process binds. Paths under a `unix-bind prefix` and relative ones
/// depend on where the process starts and are left alone.
fn unix_socket_folders(config: &Config) -> Vec<Diagnostic> {
    let prefixed = config
        .global
        .directives
        .iter()
        .any(|d| d.keyword == "unix-bind" && d.args.iter().any(|a| a == "prefix"));
    let binds = config
        .proxies
        .iter()
        .filter(|p| !prefixed && !p.disabled)
        .flat_map(|p| p.binds.iter().map(|b| &b.address));
    config
        .global
        .stats_sockets
        .iter()
        .chain(binds)
        .flat_map(|address| address.value.split(',').map(move |part| (address, part)))
        .filter_map(|(address, part)| {
            let path = part.strip_prefix("unix@").unwrap_or(part);
            let folder = Path::new(path).parent().filter(|_| path.starts_with('/'))?;
            let problem = match std::fs::metadata(folder) {
                Ok(m) if m.is_dir() => return None,
                Ok(_) => "Not a directory".into(),
                Err(e) => io_reason(&e),
            };
            Some(
                Diagnostic::new(
                    "E409",
                    format!("cannot bind UNIX socket ({problem}) [{path}]"),
                )
                .at(address.span)
                .label(format!("{} is no folder on this machine", folder.display()))
                .note(START_NOTE),
            )
        })
        .collect()
}

/// The open-file limit the configuration asks for and needs, as the process will find it
/// (call on a configuration without errors: it builds the plan).
pub fn fd_limit(config: &Config) -> Vec<Diagnostic> {
    limits::check(config)
}

/// Datagram nameservers, each tried with a connected UDP socket as HAProxy tries them once
/// the configuration is read.
pub fn nameservers(config: &Config) -> Vec<Diagnostic> {
    nameservers::check(config)
}

/// The global server state file, opened as HAProxy opens it once the configuration has no
/// fatal error, before it resolves server names.
pub fn server_state(config: &Config) -> Vec<Diagnostic> {
    server_state::check(config)
}

/// Server host names, resolved as HAProxy does once the configuration has no fatal error.
/// With `dontfail` (HAProxy's `-dr`) an unresolvable name only disables its server.
pub fn server_names(config: &Config, dontfail: bool) -> Vec<Diagnostic> {
    names::check(config, dontfail)
}
