//! Command-line parsing for both styles: subcommands, and HAProxy's single-dash flags.
//!
//! HAProxy's flags glue values to the flag (`-dC123456`, `-dW`), which derive-based parsers do not
//! model, so this is a small hand-written parser over a fixed table of flags.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    Haproxy,
}

#[derive(Clone, Debug)]
pub struct CheckArgs {
    pub files: Vec<PathBuf>,
    pub format: Format,
    pub quiet: bool,
    pub deny_warnings: bool,
    pub no_env: bool,
    /// `-dr`: server names that do not resolve only disable their server.
    pub resolve_dontfail: bool,
    pub master_worker: bool,
    pub show_diag: bool,
    pub color: bool,
    /// Print the execution plan as JSON on stdout when the configuration is valid.
    pub dump_plan: bool,
    /// `--all`: the human output shows every diagnostic instead of grouping repeated codes.
    pub all: bool,
    /// `--fix`: write the fixes of the diagnostics shown into their files, then check again.
    pub fix: bool,
    /// `--allow/--warn/--deny CODE`, in command-line order.
    pub lint_levels: Vec<(String, hapee_compiler::lint::Level)>,
    /// `-L <name>`: this process's name in peers sections.
    pub localpeer: Option<String>,
}

impl Default for CheckArgs {
    fn default() -> Self {
        CheckArgs {
            files: Vec::new(),
            format: Format::Human,
            quiet: false,
            deny_warnings: false,
            no_env: false,
            resolve_dontfail: false,
            master_worker: false,
            show_diag: false,
            color: false,
            dump_plan: false,
            all: false,
            fix: false,
            lint_levels: Vec::new(),
            localpeer: None,
        }
    }
}

pub enum Command {
    Check(CheckArgs),
    /// `run -f …` or HAProxy's `-f …` without `-c`: run the proxy.
    Run(crate::run::RunArgs),
    /// `-cc <condition>`: evaluate a `.if` condition against this build.
    EvalCondition(String),
    /// `fmt [--check] [--diff] [--stdout] FILE…`.
    Fmt(crate::fmt::FmtArgs),
    /// `route -f CFG 'METHOD /path' …`: replay one request offline.
    Route(crate::route::RouteArgs),
    /// `explain CODE` / `explain --list`.
    Explain(Option<String>),
    /// `docs [--write DIR]`: print or write the generated reference docs.
    Docs(Option<PathBuf>),
    /// `-dC<key>[,line] -f …`: HAProxy's anonymized configuration dump.
    Dump {
        options: String,
        files: Vec<PathBuf>,
    },
    Help(String),
    Version,
}

pub const HELP: &str = "\
hapee-lb: HAProxy 2.7 compatible load balancer toolchain

Usage:
  hapee-lb check [options] [-f] FILE|DIR...   check a configuration (like haproxy -c)
  hapee-lb -c -f FILE|DIR...                   the same, HAProxy style
  hapee-lb run [-D] [-p PIDFILE] -f FILE|DIR... run the proxy (also: hapee-lb -f FILE)
      [-W|-Ws] [-S SOCKET]                     master-worker mode (SIGUSR2 reloads), master CLI
      [-sf PID...|-st PID...]                  stop these processes once serving (reload)
  hapee-lb -dC<key>[,line] -f FILE...          print HAProxy 2.7's anonymized dump
  hapee-lb fmt [--check|--diff|--stdout] FILE  rewrite in the canonical layout
  hapee-lb route -f FILE [--src ADDR] [--tls] [--sni NAME] [--frontend NAME] [--format json] 'METHOD /path'
                 [-H 'Name: value']... [-d BODY|@FILE] replay one request offline: rules, backend, server
  hapee-lb explain CODE | --list               explain a diagnostic code, or list them all
  hapee-lb docs [--write DIR]                  print or write docs/diagnostics.md and docs/keywords.md
  hapee-lb -cc 'CONDITION'                     evaluate a .if condition: exit 0 true, 1 false, 2 error

Check options:
  -f FILE|DIR        configuration file or directory of *.cfg files (repeatable)
  --format FMT       human (default), json, sarif (SARIF 2.1.0 for code scanning), or haproxy
                     (HAProxy's exact messages and exit codes)
  --all              human output: show every diagnostic (by default a code seen many times
                     shows its first few, then how many more)
  --fix              write the fixes shown ('= fix: …': did-you-mean corrections, unused ACLs
                     removed, …) into the files, then check again (review them with a diff)
  -q, --quiet        print nothing on success
  -dW, --deny-warnings
                     treat warnings as errors (HAProxy's zero-warning mode)
  --no-env           skip checks that depend on this machine (files, certificates, resolution)
  -dr                a server name that does not resolve disables the server instead of failing
  -W, -Ws            master-worker mode (allows 'program' sections)
  -dD                also show diagnostic-level messages
  --color            colour the human output
  --dump-plan        print the runtime plan as JSON when the configuration is valid
  --allow/--warn/--deny CODE
                     change the level of a lint (also '[lints]' in .hapee.toml, or
                     '# hapee: allow(CODE)' on the line)
";

pub fn parse(argv: &[String]) -> Result<Command, String> {
    let rest = &argv[1.min(argv.len())..];
    match rest.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => Ok(Command::Help(HELP.to_string())),
        Some("-v" | "-vv" | "--version" | "version") => Ok(Command::Version),
        // `hapee-lb route --help`: a command's help is the help, not an unknown option.
        Some("check" | "run" | "fmt" | "route" | "explain" | "docs")
            if rest[1..]
                .iter()
                .take_while(|a| *a != "--")
                .any(|a| matches!(a.as_str(), "-h" | "--help")) =>
        {
            Ok(Command::Help(HELP.to_string()))
        }
        Some("check") => parse_check(&rest[1..], false),
        Some("run") => parse_check(&rest[1..], true).and_then(|c| match c {
            Command::Run(r) => Ok(Command::Run(r)),
            _ => Err("'run' does not take '-c' (use 'hapee-lb check')".into()),
        }),
        Some("fmt") => crate::fmt::parse_args(&rest[1..]).map(Command::Fmt),
        Some("route") => crate::route::parse_args(&rest[1..]).map(Command::Route),
        Some("explain") => match rest.get(1).map(String::as_str) {
            Some("--list") | None => Ok(Command::Explain(None)),
            Some(code) => Ok(Command::Explain(Some(code.to_string()))),
        },
        Some("docs") => match (rest.get(1).map(String::as_str), rest.get(2)) {
            (Some("--write"), Some(dir)) => Ok(Command::Docs(Some(PathBuf::from(dir)))),
            (None, _) => Ok(Command::Docs(None)),
            _ => Err("usage: hapee-lb docs [--write DIR]".into()),
        },
        Some("-cc") => match rest.get(1) {
            Some(expr) => Ok(Command::EvalCondition(expr.clone())),
            None => Err("'-cc' expects a condition".into()),
        },
        Some(_) if rest.iter().any(|a| a.starts_with("-dC")) => parse_dump(rest),
        Some(_) => parse_check(rest, true),
    }
}

/// `-dC<key>[,line] -f FILE…` (other HAProxy flags are accepted and ignored).
fn parse_dump(args: &[String]) -> Result<Command, String> {
    let mut options = String::new();
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            a if a.starts_with("-dC") => options = a[3..].to_string(),
            "-f" => {
                i += 1;
                files.push(PathBuf::from(
                    args.get(i).ok_or("'-f' expects an argument")?,
                ));
            }
            "--" => {
                files.extend(args[i + 1..].iter().map(PathBuf::from));
                break;
            }
            a if !a.starts_with('-') => files.push(PathBuf::from(a)),
            _ => {}
        }
        i += 1;
    }
    if files.is_empty() {
        return Err("no configuration file given (use -f FILE)".into());
    }
    Ok(Command::Dump { options, files })
}

/// Parses check options; `haproxy_style` means the HAProxy flag set (output in HAProxy's format).
fn parse_check(args: &[String], haproxy_style: bool) -> Result<Command, String> {
    let mut opts = CheckArgs {
        format: if haproxy_style {
            Format::Haproxy
        } else {
            Format::Human
        },
        ..Default::default()
    };
    let mut saw_c = !haproxy_style;
    let mut daemon = false;
    let mut pidfile = None;
    let mut localpeer = None;
    let mut systemd = false;
    let mut master_cli = None;
    let mut stop_pids = Vec::new();
    let mut stop_gracefully = true;
    let mut sockets_from = None;
    let mut i = 0;
    let value = |i: &mut usize, flag: &str| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("'{flag}' expects an argument"))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-c" => saw_c = true,
            "-f" => opts.files.push(PathBuf::from(value(&mut i, a)?)),
            "-q" | "--quiet" => opts.quiet = true,
            "-dW" | "--deny-warnings" => opts.deny_warnings = true,
            "-dD" => opts.show_diag = true,
            "--no-env" => opts.no_env = true,
            "-dr" => opts.resolve_dontfail = true,
            "-W" | "-Ws" => {
                opts.master_worker = true;
                systemd |= a == "-Ws";
            }
            "-S" => master_cli = Some(value(&mut i, a)?),
            // `-sf PID…` / `-st PID…`: the pids follow until the next flag.
            "-sf" | "-st" => {
                stop_gracefully = a == "-sf";
                while let Some(pid) = args.get(i + 1).and_then(|p| p.parse::<i32>().ok()) {
                    stop_pids.push(pid);
                    i += 1;
                }
            }
            "--color" => opts.color = true,
            "--dump-plan" => opts.dump_plan = true,
            "--all" => opts.all = true,
            "--fix" => opts.fix = true,
            "--allow" | "--warn" | "--deny" => {
                use hapee_compiler::lint::Level;
                let level = match a {
                    "--allow" => Level::Allow,
                    "--warn" => Level::Warn,
                    _ => Level::Deny,
                };
                opts.lint_levels.push((value(&mut i, a)?, level));
            }
            "--format" => {
                opts.format = match value(&mut i, a)?.as_str() {
                    "human" => Format::Human,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    "haproxy" => Format::Haproxy,
                    other => {
                        return Err(format!(
                            "unknown format '{other}' (expected human, json, sarif or haproxy)"
                        ))
                    }
                }
            }
            // Accepted for compatibility with HAProxy command lines; no effect on a check but
            // `-L`, which names this process in peers sections.
            "-p" => pidfile = Some(PathBuf::from(value(&mut i, a)?)),
            "-D" => daemon = true,
            "-L" => localpeer = Some(value(&mut i, a)?),
            "-x" => sockets_from = Some(PathBuf::from(value(&mut i, a)?)),
            "-C" | "-N" | "-m" | "-n" => {
                i += 1;
            }
            "-V" | "-db" | "-de" | "-dp" | "-dS" | "-dM" | "-dV" | "-dG" | "-dL" | "-Ws " => {}
            "--" => {
                opts.files.extend(args[i + 1..].iter().map(PathBuf::from));
                break;
            }
            _ if a.starts_with('-') && a.len() > 1 => return Err(format!("unknown option '{a}'")),
            _ => opts.files.push(PathBuf::from(a)),
        }
        i += 1;
    }
    if opts.files.is_empty() {
        return Err("no configuration file given (use -f FILE)".into());
    }
    if !saw_c {
        return Ok(Command::Run(crate::run::RunArgs {
            files: opts.files,
            daemon,
            pidfile,
            resolve_dontfail: opts.resolve_dontfail,
            localpeer,
            master_worker: opts.master_worker,
            systemd,
            master_cli: master_cli.map(PathBuf::from),
            stop_pids,
            stop_gracefully,
            sockets_from,
        }));
    }
    opts.localpeer = localpeer;
    Ok(Command::Check(opts))
}
