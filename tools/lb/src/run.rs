//! `hapee-lb run` (and HAProxy's `-f …` without `-c`): compile, refuse errors and anything the
//! runtime does not implement yet, then hand the plan to the runtime.

use hapee_compiler::check::compile;
use hapee_compiler::check::Compilation;
use hapee_compiler::diagnostic::{Diagnostic, Severity};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use hapee_runtime::support;
use std::path::PathBuf;

pub struct RunArgs {
    pub files: Vec<PathBuf>,
    pub daemon: bool,
    pub pidfile: Option<PathBuf>,
    /// `-dr`: unresolvable server names disable their server instead of stopping the start.
    pub resolve_dontfail: bool,
    /// `-L`: this process's name in peers sections (over the `localpeer` setting).
    pub localpeer: Option<String>,
}

/// Every use of something the runtime lacks, as `U001` diagnostics.
pub fn unsupported_diagnostics(c: &Compilation) -> Vec<Diagnostic> {
    unsupported(c)
        .into_iter()
        .map(|(span, what)| {
            Diagnostic::new(
                "U001",
                format!("not supported by the hapee runtime yet: {what}"),
            )
            .at(span)
            .label("'hapee-lb run' refuses to start with this")
        })
        .collect()
}

/// What is wrong with one statement (keyword and arguments), if anything.
fn unsupported_statement(kw: &str, args: &[&str], section: &str) -> Vec<String> {
    let allowed = match section {
        "global" => support::GLOBAL,
        "peers" => support::PEERS,
        _ => support::PROXY,
    };
    if !allowed.contains(&kw) {
        return vec![format!("'{kw}' in a {section} section")];
    }
    let mut out = Vec::new();
    match kw {
        "option" if !args.is_empty() && !support::OPTIONS.contains(&args[0]) => {
            out.push(format!("'option {}'", args[0]))
        }
        "server" | "default-server" => {
            let skip = if kw == "server" { 2 } else { 0 };
            for o in support::unsupported_option(
                args.get(skip..).unwrap_or(&[]),
                support::SERVER_OPTIONS,
            ) {
                out.push(format!("server option '{o}'"));
            }
        }
        "http-request" | "http-response" | "tcp-request" => {
            let action = match (kw, args.first().copied()) {
                ("tcp-request", Some("connection" | "content" | "session")) => args.get(1),
                ("tcp-request", _) => None,
                _ => args.first(),
            };
            match action {
                Some(a) if support::action_supported(a) => {}
                Some(a) => out.push(format!("action '{kw} {a}'")),
                None => out.push(format!("'{kw} {}'", args.join(" "))),
            }
        }
        "bind" => {
            for o in
                support::unsupported_option(args.get(1..).unwrap_or(&[]), support::BIND_OPTIONS)
            {
                out.push(format!("bind option '{o}'"));
            }
        }
        _ => {}
    }
    out
}

/// Every use of something the runtime lacks, as `(span, what)`, from the active lines of the
/// configuration (a defaults section's lines are reported there, once).
pub fn unsupported(c: &Compilation) -> Vec<(hapee_compiler::Span, String)> {
    use hapee_compiler::registry::SectionKind;
    let mut out = Vec::new();
    // One word list for every line (large configurations have hundreds of thousands).
    let mut words: Vec<&str> = Vec::new();
    for section in &c.tree.sections {
        let name = section.kind.keyword();
        let handled = matches!(
            section.kind,
            SectionKind::Global
                | SectionKind::Defaults
                | SectionKind::Frontend
                | SectionKind::Backend
                | SectionKind::Listen
                | SectionKind::Peers
        );
        if !handled {
            let header = c.tree.header(section);
            out.push((header.span, format!("'{name}' sections")));
            continue;
        }
        for line in c.tree.body(section) {
            words.clear();
            words.extend(line.words.iter().map(|w| w.value.as_str()));
            let at = usize::from(matches!(words.first(), Some(&"no" | &"default")));
            let Some(kw) = words.get(at) else { continue };
            let span = line.words[at]
                .span
                .cover(line.words.last().map_or(line.words[at].span, |w| w.span));
            for what in unsupported_statement(kw, &words[at + 1..], name) {
                out.push((span, what));
            }
        }
    }
    out
}

pub fn run(args: &RunArgs) -> u8 {
    let mut db = SourceDb::new();
    for path in &args.files {
        if let Err(e) = db.load_path(path) {
            eprintln!("[ALERT]    ({}) : config : {e}", std::process::id());
            return 1;
        }
    }
    let options = CheckOptions {
        no_env: false,
        master_worker: false,
        lints: false,
        resolve_dontfail: args.resolve_dontfail,
    };
    let compilation = compile(db, &ProcessEnv, &options);
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error || d.severity == Severity::Warning)
        .cloned()
        .collect();
    if !errors.is_empty() {
        eprint!("{}", render::human(&compilation.db, &errors, false));
    }
    if compilation.has_errors() {
        eprintln!("hapee-lb: the configuration has errors; not starting");
        return 1;
    }
    let missing: Vec<Diagnostic> = unsupported_diagnostics(&compilation)
        .into_iter()
        .map(|mut d| {
            d.severity = Severity::Error;
            d
        })
        .collect();
    if !missing.is_empty() {
        eprint!("{}", render::human(&compilation.db, &missing, false));
        eprintln!(
            "hapee-lb: {} use(s) of what the runtime does not implement yet; not starting",
            missing.len()
        );
        return 1;
    }
    if args.daemon {
        return daemonize(args);
    }
    if let Some(p) = &args.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!(
                "[ALERT]    ({}) : cannot create pidfile {} : {e}",
                std::process::id(),
                p.display()
            );
            return 1;
        }
    }
    let nbthread = compilation
        .config
        .global
        .nbthread
        .as_ref()
        .map_or_else(hapee_compiler::ir::default_nbthread, |v| v.value);
    let mut plan = hapee_compiler::plan::build(&compilation.config, nbthread);
    if let Some(name) = &args.localpeer {
        plan.global.localpeer = Some(name.clone());
    }
    drop(compilation);
    match hapee_runtime::run(&plan) {
        Ok(_) => 0,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            }
            1
        }
    }
}

/// `-D`: starts a detached copy of this command (without `-D`) and returns.
fn daemonize(args: &RunArgs) -> u8 {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return 1;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run");
    for f in &args.files {
        cmd.arg("-f").arg(f);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0);
    match cmd.spawn() {
        Ok(child) => {
            if let Some(p) = &args.pidfile {
                let _ = std::fs::write(p, format!("{}\n", child.id()));
            }
            0
        }
        Err(e) => {
            eprintln!(
                "[ALERT]    ({}) : cannot start the daemon: {e}",
                std::process::id()
            );
            1
        }
    }
}
