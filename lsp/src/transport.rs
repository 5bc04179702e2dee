//! stdio transport. `lsp-server`'s own carries `serde_json::Value`s; large answers (thousands of
//! diagnostics, long completion lists) spent more time being turned into a `Value` tree than
//! being computed. This transport keeps `lsp-server`'s `Connection` for the protocol's
//! handshake and small messages, and adds a channel of messages already serialised to bytes.

use crossbeam_channel::{select, unbounded, Receiver, Sender};
use lsp_server::{Connection, Message, RequestId};
use std::io::{self, BufReader, Write};
use std::thread;

/// The reader and writer threads.
pub struct IoThreads {
    reader: thread::JoinHandle<io::Result<()>>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl IoThreads {
    pub fn join(self) -> io::Result<()> {
        self.reader
            .join()
            .map_err(|_| io::Error::other("reader thread panicked"))??;
        self.writer
            .join()
            .map_err(|_| io::Error::other("writer thread panicked"))?
    }
}

/// A connection over stdin/stdout, and the sender of pre-serialised message bodies.
pub fn stdio() -> (Connection, Sender<Vec<u8>>, IoThreads) {
    let (to_writer, from_server) = unbounded::<Message>();
    let (raw_to_writer, raw_from_server) = unbounded::<Vec<u8>>();
    let writer = thread::spawn(move || write_loop(&from_server, &raw_from_server));
    let (to_server, from_reader) = unbounded::<Message>();
    let reader = thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = BufReader::new(stdin.lock());
        while let Some(msg) = Message::read(&mut input)? {
            let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
            if to_server.send(msg).is_err() || exit {
                break;
            }
        }
        Ok(())
    });
    let connection = Connection {
        sender: to_writer,
        receiver: from_reader,
    };
    (connection, raw_to_writer, IoThreads { reader, writer })
}

fn write_raw(out: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body)?;
    out.flush()
}

/// Standard output, written without its line buffering when the descriptor can be shared:
/// that buffering looks for the last line feed of every message, and the diagnostics of a
/// large file are a megabyte of JSON without one. Each message is flushed whole.
fn output() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(io::BufWriter::new(std::fs::File::from(fd))),
        Err(_) => Box::new(io::stdout()),
    }
}

/// Writes messages from both channels as they come, until both are closed.
fn write_loop(messages: &Receiver<Message>, raw: &Receiver<Vec<u8>>) -> io::Result<()> {
    let mut out = output();
    loop {
        select! {
            recv(messages) -> m => match m {
                Ok(m) => m.write(&mut out)?,
                Err(_) => {
                    for body in raw.iter() {
                        write_raw(&mut out, &body)?;
                    }
                    return Ok(());
                }
            },
            recv(raw) -> body => match body {
                Ok(body) => write_raw(&mut out, &body)?,
                Err(_) => {
                    for m in messages.iter() {
                        m.write(&mut out)?;
                    }
                    return Ok(());
                }
            },
        }
    }
}

/// A notification body: `{"jsonrpc":"2.0","method":…,"params":…}` (the diagnostics' body is
/// written by [`crate::publish`]; the tests check it against this one).
#[cfg(test)]
pub fn notification<P: serde::Serialize>(method: &str, params: &P) -> serde_json::Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Body<'a, P> {
        jsonrpc: &'static str,
        method: &'a str,
        params: &'a P,
    }
    serde_json::to_vec(&Body {
        jsonrpc: "2.0",
        method,
        params,
    })
}

/// A success response body around an already serialised result.
pub fn response(id: &RequestId, result: &[u8]) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(result.len() + 48);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    serde_json::to_writer(&mut out, id)?;
    out.extend_from_slice(b",\"result\":");
    out.extend_from_slice(result);
    out.push(b'}');
    Ok(out)
}
