//! The master CLI (`-S <path>`): a Unix socket taking one command line per connection
//! (commands separated by `;`), or many after `prompt`. The master answers its own commands;
//! a command prefixed with `@1` (the current worker), `@!<pid>` (any worker, old ones too) or
//! `@master`/`@` (the master) goes to that process, and a prefix alone makes it the target of
//! the commands that follow. A worker answers on its Runtime API, reached through the
//! connection its master hands it ([`super::worker::serve_master_cli`]).
//!
//! As in HAProxy, the session itself handles the prefixes, `prompt`, `quit` and the level
//! commands (`user`, `operator`): they answer nothing, not even the empty line that ends every
//! other answer. A session starts at level admin; a lower level goes with every command sent
//! to a worker.

use hapee_compiler::plan::CliLevel;
use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// What a CLI session asks of the master.
pub enum Request {
    /// A command of [`COMMANDS`] for the master itself (its words joined by a space);
    /// `reload` answers once the reload is done.
    Command {
        command: String,
        answer: oneshot::Sender<String>,
    },
    /// The process a prefix (`@1`, `@!<pid>`, `@master`) names: `Some(0)` for the master.
    Resolve {
        prefix: String,
        answer: oneshot::Sender<Option<i32>>,
    },
    /// A new connection to the Runtime API of worker `pid`.
    Connect {
        pid: i32,
        answer: oneshot::Sender<Option<std::os::unix::net::UnixStream>>,
    },
}

/// A command of the master CLI: the Runtime API's command struct, without a handler (the
/// master answers its commands in [`crate::lifecycle`]'s request loop).
pub type Command = crate::api::commands::Command<()>;

/// One row of the master's table, without a handler.
const fn cmd(
    words: &'static [&'static str],
    usage: &'static str,
    help: &'static str,
    level: CliLevel,
) -> Command {
    crate::api::commands::cmd(words, usage, help, level, ())
}

/// The master's commands, as HAProxy 2.7's master lists them in `help` (the help texts are
/// ours).
pub const COMMANDS: &[Command] = &[
    cmd(
        &["@!<pid>"],
        "@!<pid>",
        "send a command to the worker of that pid",
        CliLevel::User,
    ),
    cmd(
        &["@<relative pid>"],
        "@<relative pid>",
        "send a command to a worker by relative number (1: the current one)",
        CliLevel::User,
    ),
    cmd(
        &["@master"],
        "@master",
        "send a command to the master",
        CliLevel::User,
    ),
    cmd(
        &["operator"],
        "operator",
        "lower this session's level to operator",
        CliLevel::User,
    ),
    cmd(
        &["reload"],
        "reload",
        "load the configuration again and replace the workers",
        CliLevel::Operator,
    ),
    cmd(
        &["show", "cli", "level"],
        "show cli level",
        "this session's access level",
        CliLevel::User,
    ),
    cmd(
        &["show", "cli", "sockets"],
        "show cli sockets",
        "the CLI sockets of this process",
        CliLevel::User,
    ),
    cmd(
        &["show", "proc"],
        "show proc",
        "the master, its workers and programs",
        CliLevel::User,
    ),
    cmd(
        &["show", "startup-logs"],
        "show startup-logs",
        "what the master reported since its last (re)load",
        CliLevel::User,
    ),
    cmd(
        &["show", "version"],
        "show version",
        "this process's version",
        CliLevel::User,
    ),
    cmd(
        &["user"],
        "user",
        "lower this session's level to user",
        CliLevel::User,
    ),
];

/// Listens on `path` (a stale socket file is replaced) and passes every command on.
pub async fn serve(path: PathBuf, master: mpsc::UnboundedSender<Request>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::task::spawn_local(session(stream, master.clone()));
    }
}

/// Asks the master something; `None` when it has gone.
async fn ask<T>(
    master: &mpsc::UnboundedSender<Request>,
    request: impl FnOnce(oneshot::Sender<T>) -> Request,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    master.send(request(tx)).ok()?;
    rx.await.ok()
}

/// What one command line does to the session.
enum Outcome {
    Continue,
    /// An error that ends the session (as HAProxy's master CLI replies and closes).
    Close,
    Quit,
}

/// One connection's state.
struct Session {
    interactive: bool,
    /// Where commands without a prefix go: 0 is the master.
    target: i32,
    level: CliLevel,
}

async fn session(stream: tokio::net::UnixStream, master: mpsc::UnboundedSender<Request>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut s = Session {
        interactive: false,
        target: 0,
        level: CliLevel::Admin,
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let was_interactive = s.interactive;
        let mut out = String::new();
        let mut outcome = Outcome::Continue;
        let line = line.trim_end_matches('\r');
        // An empty line is a command too (an unknown one); empty commands between `;` are not.
        let commands: Vec<&str> = if line.trim().is_empty() {
            vec![""]
        } else {
            line.split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        };
        for command in commands {
            outcome = run(command, &master, &mut s, &mut out).await;
            if !matches!(outcome, Outcome::Continue) {
                break;
            }
        }
        // The prompt follows every line, `quit` included, but not an error that closes.
        if s.interactive && !matches!(outcome, Outcome::Close) {
            if s.target == 0 {
                out.push_str("master> ");
            } else {
                out.push_str(&format!("{}> ", s.target));
            }
        }
        // A line that leaves prompt mode does not end the session: the next one does.
        let ends = !matches!(outcome, Outcome::Continue) || !(s.interactive || was_interactive);
        if write.write_all(out.as_bytes()).await.is_err() || ends {
            return;
        }
    }
}

/// Runs one command of a line, appending its answer to `out`.
async fn run(
    command: &str,
    master: &mpsc::UnboundedSender<Request>,
    s: &mut Session,
    out: &mut String,
) -> Outcome {
    let (first, rest) = command
        .split_once([' ', '\t'])
        .map_or((command, ""), |(f, r)| (f, r.trim()));
    let mut to = s.target;
    let mut command = command;
    if first.starts_with('@') {
        let prefix = first.to_string();
        match ask(master, |answer| Request::Resolve { prefix, answer }).await {
            Some(Some(pid)) if rest.is_empty() => {
                s.target = pid;
                return Outcome::Continue;
            }
            Some(Some(pid)) => {
                to = pid;
                command = rest;
            }
            _ => {
                out.push_str(&format!(
                    "Can't find the target PID matching the prefix '{first}'\n"
                ));
                return Outcome::Close;
            }
        }
    }
    match command {
        "prompt" => s.interactive = !s.interactive,
        "quit" => return Outcome::Quit,
        "user" | "operator" => {
            let wanted = CliLevel::parse(command).unwrap_or(CliLevel::User);
            if wanted > s.level {
                out.push_str("Permission denied!\n");
                return Outcome::Close;
            }
            s.level = wanted;
        }
        _ if to != 0 => match forward(master, to, s.level, command).await {
            Some(answer) => out.push_str(&answer),
            None => {
                out.push_str("Can't connect to the target CLI!\n");
                return Outcome::Close;
            }
        },
        _ => return run_here(command, master, s, out).await,
    }
    Outcome::Continue
}

/// A command for the master itself; every answer ends with an empty line.
async fn run_here(
    command: &str,
    master: &mpsc::UnboundedSender<Request>,
    s: &Session,
    out: &mut String,
) -> Outcome {
    let args = crate::api::cli::words(command);
    let found = COMMANDS
        .iter()
        .find(|c| c.words.len() == args.len() && c.words.iter().zip(&args).all(|(w, a)| w == a));
    let usage = |args: &[String], is_help| crate::api::cli::usage_among(COMMANDS, args, is_help);
    match found {
        Some(c) if s.level < c.level => out.push_str(crate::api::cli::PERMISSION_DENIED),
        Some(c) if c.words == ["show", "cli", "level"] => {
            out.push_str(s.level.name());
            out.push('\n');
        }
        Some(c) => {
            let command = c.words.join(" ");
            let reload = command == "reload";
            let answer = ask(master, |answer| Request::Command { command, answer }).await;
            let Some(answer) = answer else {
                return Outcome::Close;
            };
            out.push_str(&answer);
            // Nothing after a reload runs: its status is the session's last answer.
            if reload {
                out.push('\n');
                return Outcome::Quit;
            }
        }
        None if args.first().is_some_and(|a| a == "help") => out.push_str(&usage(&args[1..], true)),
        None => out.push_str(&usage(&args, false)),
    }
    out.push('\n');
    Outcome::Continue
}

/// Sends one command to worker `pid`'s Runtime API, at the session's level; its whole answer.
async fn forward(
    master: &mpsc::UnboundedSender<Request>,
    pid: i32,
    level: CliLevel,
    command: &str,
) -> Option<String> {
    let stream = ask(master, |answer| Request::Connect { pid, answer })
        .await
        .flatten()?;
    stream.set_nonblocking(true).ok()?;
    let mut stream = tokio::net::UnixStream::from_std(stream).ok()?;
    // The level command answers nothing but the empty line after it, left out below.
    let lowered = level < CliLevel::Admin;
    let line = if lowered {
        format!("{}; {command}\n", level.name())
    } else {
        format!("{command}\n")
    };
    stream.write_all(line.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    // The worker answers the commands of a non-interactive client, then closes.
    stream.read_to_end(&mut answer).await.ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let answer = if lowered {
        answer.strip_prefix('\n').unwrap_or(&answer)
    } else {
        &answer
    };
    Some(answer.to_string())
}
