//! `hapee-anon`: anonymize HAProxy configurations and logs before they go into a support ticket.

use clap::{Parser, Subcommand};
use hapee_anon::config;
use hapee_anon::keyed::{Anonymizer, Report};
use hapee_anon::leaks;
use hapee_anon::logformat::LogFormats;
use hapee_compiler::check::{compile, Compilation};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hapee-anon",
    version,
    about = "Anonymize HAProxy configurations and logs, consistently and keyed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Anonymization key (any text); else $HAPEE_ANON_KEY; else a random key printed on stderr.
    #[arg(long)]
    key: Option<String>,
    /// Map addresses so that subnets stay subnets (Crypto-PAn style).
    #[arg(long)]
    prefix_preserving: bool,
    /// Print a unified diff of what changed instead of the anonymized text.
    #[arg(long)]
    diff: bool,
    /// Print counts of replaced values per category on stderr.
    #[arg(long)]
    report: bool,
    /// Exit 1 and list them if any address, host name or name of the input appears in the output.
    #[arg(long)]
    check_leaks: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Anonymize configuration files (keeps them valid for `hapee-lb check --no-env`).
    Config {
        #[command(flatten)]
        common: Common,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Anonymize HAProxy log lines (files, or standard input), streaming.
    Log {
        #[command(flatten)]
        common: Common,
        /// The configuration that wrote the logs: each line is read by the log format its
        /// frontend declares (repeat for a configuration in several files).
        #[arg(long = "config", value_name = "FILE")]
        config: Vec<PathBuf>,
        files: Vec<PathBuf>,
    },
}

fn key_of(common: &Common) -> u64 {
    let text = common
        .key
        .clone()
        .or_else(|| std::env::var("HAPEE_ANON_KEY").ok());
    match text {
        Some(k) => hapee_anon::keyed::key_from_text(&k),
        None => {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()) as u64
                ^ u64::from(std::process::id()) << 32;
            let key = format!(
                "{:016x}",
                xxhash_rust::xxh64::xxh64(&seed.to_le_bytes(), 0x5eed)
            );
            eprintln!(
                "hapee-anon: no key given, using random key {key} (pass --key {key} to reproduce)"
            );
            hapee_anon::keyed::key_from_text(&key)
        }
    }
}

fn print_report(r: &Report) {
    eprintln!(
        "replaced: {} names, {} addresses, {} host names, {} paths, {} strings, {} emails",
        r.names, r.addresses, r.hostnames, r.paths, r.strings, r.emails
    );
}

fn emit(original: &str, anonymized: &str, name: &str, diff: bool) {
    let mut out = std::io::stdout().lock();
    if diff {
        let d = similar::TextDiff::from_lines(original, anonymized);
        let _ = write!(
            out,
            "{}",
            d.unified_diff()
                .header(name, &format!("{name} (anonymized)"))
        );
    } else {
        let _ = out.write_all(anonymized.as_bytes());
    }
}

/// Loads and compiles a configuration (no machine checks: it may come from elsewhere).
fn load(files: &[PathBuf]) -> Result<Compilation, ExitCode> {
    let mut db = SourceDb::new();
    for f in files {
        if let Err(e) = db.load_path(f) {
            eprintln!("hapee-anon: {e}");
            return Err(ExitCode::from(2));
        }
    }
    Ok(compile(
        db,
        &ProcessEnv,
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        },
    ))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config { common, files } => {
            let mut anon =
                Anonymizer::new(key_of(&common)).prefix_preserving(common.prefix_preserving);
            let c = match load(&files) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let outputs = config::anonymize(&c, &mut anon);
            let mut leaked = Vec::new();
            for ((name, text), (_, source)) in outputs.iter().zip(c.db.files()) {
                emit(&source.text, text, name, common.diff);
                if common.check_leaks {
                    leaked.extend(
                        leaks::config_secrets(&c)
                            .into_iter()
                            .filter(|s| leaks::contains_token(text, s)),
                    );
                }
            }
            if common.report {
                print_report(&anon.report);
            }
            leaks::verdict(leaked)
        }
        Command::Log {
            common,
            config,
            files,
        } => {
            let mut anon =
                Anonymizer::new(key_of(&common)).prefix_preserving(common.prefix_preserving);
            let formats = if config.is_empty() {
                None
            } else {
                match load(&config) {
                    Ok(c) => Some(LogFormats::of(&c)),
                    Err(code) => return code,
                }
            };
            let formats = formats.as_ref();
            let inputs: Vec<Box<dyn std::io::BufRead>> = if files.is_empty() {
                vec![Box::new(BufReader::new(std::io::stdin()))]
            } else {
                let mut v: Vec<Box<dyn std::io::BufRead>> = Vec::new();
                for f in &files {
                    match std::fs::File::open(f) {
                        Ok(file) => v.push(Box::new(BufReader::with_capacity(1 << 16, file))),
                        Err(e) => {
                            eprintln!("hapee-anon: cannot open {}: {e}", f.display());
                            return ExitCode::from(2);
                        }
                    }
                }
                v
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let mut leaked = Vec::new();
            for input in inputs {
                if common.check_leaks || common.diff {
                    // Leak checks and diffs need both sides of each line.
                    let mut line = String::new();
                    let mut input = input;
                    let mut anonymized = String::new();
                    loop {
                        line.clear();
                        match input.read_line(&mut line) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) => {
                                eprintln!("hapee-anon: {e}");
                                return ExitCode::from(2);
                            }
                        }
                        let body = line.trim_end_matches('\n');
                        anonymized.clear();
                        hapee_anon::log::anonymize_line_with(
                            &mut anon,
                            formats,
                            body,
                            &mut anonymized,
                        );
                        if common.diff && body != anonymized {
                            let _ = writeln!(out, "-{body}\n+{anonymized}");
                        } else if !common.diff {
                            let _ = writeln!(out, "{anonymized}");
                        }
                        if common.check_leaks {
                            leaked.extend(
                                leaks::log_secrets(body)
                                    .into_iter()
                                    .filter(|s| leaks::contains_token(&anonymized, s)),
                            );
                        }
                    }
                } else if let Err(e) =
                    hapee_anon::log::anonymize_stream_with(&mut anon, formats, input, &mut out)
                {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        eprintln!("hapee-anon: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            let _ = out.flush();
            if common.report {
                print_report(&anon.report);
            }
            leaks::verdict(leaked)
        }
    }
}
