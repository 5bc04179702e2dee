//! The master CLI (`-S <path>`): a Unix socket taking one command line per connection
//! (commands separated by `;`), or many after `prompt`. The master answers its own commands;
//! a command prefixed with `@1` (the current worker), `@!<pid>` (any worker, old ones too) or
//! `@master`/`@` (the master) goes to that process, and a prefix alone makes it the target of
//! the commands that follow. A worker answers on its Runtime API, reached through the
//! connection its master hands it ([`super::worker::serve_master_cli`]).

use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// What a CLI session asks of the master.
pub enum Request {
    /// A command for the master itself; `reload` answers once the reload is done.
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

async fn session(stream: tokio::net::UnixStream, master: mpsc::UnboundedSender<Request>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut interactive = false;
    // Where commands without a prefix go: 0 is the master.
    let mut target = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        let mut out = String::new();
        let mut outcome = Outcome::Continue;
        for command in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            outcome = run(command, &master, &mut interactive, &mut target, &mut out).await;
            if !matches!(outcome, Outcome::Continue) {
                break;
            }
        }
        let ends = !matches!(outcome, Outcome::Continue) || !interactive;
        if !ends {
            if target == 0 {
                out.push_str("\nmaster> ");
            } else {
                out.push_str(&format!("\n{target}> "));
            }
        }
        if write.write_all(out.as_bytes()).await.is_err() || ends {
            return;
        }
    }
}

/// Runs one command of a line, appending its answer to `out`.
async fn run(
    command: &str,
    master: &mpsc::UnboundedSender<Request>,
    interactive: &mut bool,
    target: &mut i32,
    out: &mut String,
) -> Outcome {
    let (first, rest) = command
        .split_once([' ', '\t'])
        .map_or((command, ""), |(f, r)| (f, r.trim()));
    let mut to = *target;
    let mut command = command;
    if first.starts_with('@') {
        let prefix = first.to_string();
        match ask(master, |answer| Request::Resolve { prefix, answer }).await {
            Some(Some(pid)) if rest.is_empty() => {
                *target = pid;
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
        "prompt" => *interactive = !*interactive,
        "quit" => return Outcome::Quit,
        _ if to != 0 => match forward(master, to, command).await {
            Some(answer) => out.push_str(&answer),
            None => {
                out.push_str("Can't connect to the target CLI!\n");
                return Outcome::Close;
            }
        },
        _ => {
            let command = command.to_string();
            let reload = command == "reload";
            let answer = ask(master, |answer| Request::Command { command, answer }).await;
            let Some(answer) = answer else {
                return Outcome::Close;
            };
            out.push_str(&answer);
            // Nothing after a reload runs: its status is the session's last answer.
            if reload {
                return Outcome::Quit;
            }
        }
    }
    Outcome::Continue
}

/// Sends one command to worker `pid`'s Runtime API; its whole answer.
async fn forward(
    master: &mpsc::UnboundedSender<Request>,
    pid: i32,
    command: &str,
) -> Option<String> {
    let stream = ask(master, |answer| Request::Connect { pid, answer })
        .await
        .flatten()?;
    stream.set_nonblocking(true).ok()?;
    let mut stream = tokio::net::UnixStream::from_std(stream).ok()?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .await
        .ok()?;
    let mut answer = Vec::new();
    // The worker answers one command of a non-interactive client, then closes.
    stream.read_to_end(&mut answer).await.ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

/// The `help` text.
pub const HELP: &str = "\
The following commands are valid at this level:
  @!<pid>        : send a command to the <pid> process
  @<relative pid> : send a command to the <relative pid> process
  @master        : send a command to the master process
  help           : this message
  prompt         : toggle interactive mode with prompt
  quit           : disconnect
  reload         : reload haproxy
  show proc      : show processes status
";
