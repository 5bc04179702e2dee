//! The master CLI (`-S <path>`): a Unix socket taking one command line per connection
//! (commands separated by `;`), or many after `prompt`. The master answers them.

use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// One command for the master, and where its answer goes.
pub struct Request {
    pub command: String,
    pub answer: oneshot::Sender<String>,
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

async fn session(stream: tokio::net::UnixStream, master: mpsc::UnboundedSender<Request>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut interactive = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let mut out = String::new();
        for command in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            match command {
                "prompt" => interactive = !interactive,
                "quit" => return,
                _ => {
                    let (tx, rx) = oneshot::channel();
                    let request = Request {
                        command: command.to_string(),
                        answer: tx,
                    };
                    if master.send(request).is_err() {
                        return;
                    }
                    out.push_str(&rx.await.unwrap_or_default());
                }
            }
        }
        if interactive {
            out.push_str("\nmaster> ");
        }
        if write.write_all(out.as_bytes()).await.is_err() || !interactive {
            return;
        }
    }
}

/// The `help` text.
pub const HELP: &str = "\
The following commands are valid at this level:
  help           : this message
  prompt         : toggle interactive mode with prompt
  quit           : disconnect
  reload         : reload haproxy
  show proc      : show processes status
";
