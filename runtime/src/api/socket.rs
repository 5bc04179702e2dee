//! The `stats socket` listeners: unix sockets (with `mode`, `user`, `group`) and TCP
//! (`ipv4@`, `ipv6@`, `host:port`). They are bound before the workers start, and served by one
//! thread of their own, so an operator can reach a process whose workers are busy.

use super::cli::{self, Session};
use crate::state::Shared;
use hapee_compiler::plan::{CliLevel, StatsSocket};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A bound socket, not yet served.
pub enum Bound {
    /// With `expose-fd listeners` (the last field): `_getsocks` hands the listening sockets over.
    Unix(std::os::unix::net::UnixListener, CliLevel, bool),
    Tcp(std::net::TcpListener, CliLevel),
}

/// Where a `stats socket` address points.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Unix(String),
    Tcp(String),
}

/// Reads HAProxy's address forms for a stats socket.
pub fn target(address: &str) -> Result<Target, String> {
    if let Some(rest) = address.strip_prefix("unix@") {
        return Ok(Target::Unix(rest.to_string()));
    }
    for prefix in ["ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"] {
        if let Some(rest) = address.strip_prefix(prefix) {
            return Ok(Target::Tcp(rest.to_string()));
        }
    }
    if address.starts_with('/') || address.starts_with('.') {
        return Ok(Target::Unix(address.to_string()));
    }
    if address.contains('@') {
        return Err(format!("unsupported address family in '{address}'"));
    }
    if address.contains(':') {
        return Ok(Target::Tcp(address.to_string()));
    }
    Ok(Target::Unix(address.to_string()))
}

fn tcp_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("missing port in '{text}'"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() || host == "*" {
        "0.0.0.0"
    } else {
        host
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("invalid port in '{text}'"))?;
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| format!("invalid address '{host}'"))?;
    Ok(std::net::SocketAddr::new(ip, port))
}

fn bind_unix(path: &str, s: &StatsSocket) -> Result<std::os::unix::net::UnixListener, String> {
    crate::listener::bind_unix(path, s.mode, s.user.as_deref(), s.group.as_deref())
}

/// Binds every `stats socket`; errors name the socket, as HAProxy's start-up alerts do.
pub fn bind_all(sockets: &[StatsSocket]) -> Result<Vec<Bound>, Vec<String>> {
    let mut bound = Vec::new();
    let mut errors = Vec::new();
    for s in sockets {
        let result = target(&s.address).and_then(|t| match t {
            Target::Unix(path) => bind_unix(&path, s).map(|l| Bound::Unix(l, s.level, s.expose_fd)),
            Target::Tcp(text) => {
                let addr = tcp_addr(&text)?;
                crate::listener::bind(addr, 128)
                    .map(|l| Bound::Tcp(l, s.level))
                    .map_err(|e| format!("cannot bind socket ({e}) [{addr}]"))
            }
        });
        match result {
            Ok(b) => bound.push(b),
            Err(e) => errors.push(format!(
                "Starting proxy GLOBAL: stats socket '{}': {e}",
                s.address
            )),
        }
    }
    if errors.is_empty() {
        Ok(bound)
    } else {
        Err(errors)
    }
}

/// Serves the bound sockets on a thread of their own, and samples the rates once a second.
pub fn serve(shared: Arc<Shared>, bound: Vec<Bound>) -> std::io::Result<()> {
    crate::side_thread::spawn("hapee-cli", move || async move {
        let maxconn = shared.process.stats.maxconn.max(1) as usize;
        for b in bound {
            let shared = shared.clone();
            let slots = Arc::new(tokio::sync::Semaphore::new(maxconn));
            match b {
                Bound::Unix(l, level, expose_fd) => {
                    let _ = l.set_nonblocking(true);
                    let Ok(l) = tokio::net::UnixListener::from_std(l) else {
                        continue;
                    };
                    accept_loop(l, slots, move |stream| {
                        let shared = shared.clone();
                        async move {
                            use crate::lifecycle::handover;
                            if expose_fd && handover::asks_for_sockets(&stream).await {
                                handover::send_listeners(stream);
                            } else {
                                serve_client(stream, &shared, level).await;
                            }
                        }
                    });
                }
                Bound::Tcp(l, level) => {
                    let Ok(l) = tokio::net::TcpListener::from_std(l) else {
                        continue;
                    };
                    accept_loop(l, slots, move |stream| {
                        let shared = shared.clone();
                        async move { serve_client(stream, &shared, level).await }
                    });
                }
            }
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            shared.process.sample_rates(&shared);
        }
    })
    .map(|_| ())
}

/// One client: commands in, answers out, until `quit`, the end of a non-interactive client's
/// input, or `stats timeout` without a command.
pub async fn serve_client<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    shared: &Shared,
    level: CliLevel,
) {
    // A Runtime API connection is a stream of the process, numbered as HAProxy numbers its
    // streams (the next request's `%rt` is one more).
    crate::txn::next_stream_number();
    let timeout = Duration::from_millis(u64::from(shared.process.stats.timeout_ms.max(1)));
    let mut session = Session::new(level);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let idle = session.timeout.unwrap_or(timeout);
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        pending.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&pending).into_owned();
        let mut used = 0;
        let mut out = String::new();
        while let Some((command, len)) = cli::next_command(&text[used..]) {
            used += len;
            out.push_str(&cli::execute(shared, &mut session, command));
            if session.quit {
                break;
            }
            out.push_str(cli::answer_separator(&session));
        }
        // The bytes consumed, measured on the lossy text: equal to the input's unless the input
        // held invalid UTF-8, in which case the rest is dropped.
        let consumed = if text.len() == pending.len() {
            used
        } else {
            pending.len()
        };
        pending.drain(..consumed.min(pending.len()));
        if stream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        if let Some((ring, from)) = session.follow_events.take() {
            if let Some(ring) = crate::rings::get(&ring) {
                follow_events(&mut stream, &ring, from).await;
            }
            let _ = stream.shutdown().await;
            return;
        }
        // A non-interactive client is answered what it sent in one go, then let go.
        if session.quit || (!session.prompt && used > 0 && pending.is_empty()) {
            let _ = stream.shutdown().await;
            return;
        }
        // A command (with its payload) that does not end within a buffer less the byte HAProxy
        // keeps for its terminating nul is never read whole: HAProxy's CLI ends the
        // connection without an answer. What the client sent past it is dropped first, so
        // that the close is a FIN rather than a reset.
        if pending.len() >= shared.bufsize.max(1024) - 1 {
            let _ = stream.shutdown().await;
            while let Ok(Ok(n)) = tokio::time::timeout(Duration::ZERO, stream.read(&mut buf)).await
            {
                if n == 0 {
                    break;
                }
            }
            return;
        }
    }
}

/// `show events <ring> -w`: sends the ring's new lines until the client sends anything or
/// goes away.
async fn follow_events<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ring: &crate::rings::Ring,
    mut from: u64,
) {
    let mut key = [0u8; 64];
    loop {
        let (lines, next) = ring.since(from);
        from = next;
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if !text.is_empty() && stream.write_all(text.as_bytes()).await.is_err() {
            return;
        }
        tokio::select! {
            _ = ring.changed() => {}
            _ = stream.read(&mut key) => return,
        }
    }
}

/// A listening socket of the Runtime API: UNIX or TCP.
trait Accept {
    type Stream;
    async fn next(&self) -> std::io::Result<Self::Stream>;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn next(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn next(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

/// Accepts clients on `listener` while one of the `stats maxconn` `slots` is free; each is
/// served by `serve` on a task of its own, which gives its slot back when done.
fn accept_loop<L, F, Fut>(listener: L, slots: Arc<tokio::sync::Semaphore>, serve: F)
where
    L: Accept + 'static,
    F: Fn(L::Stream) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    tokio::task::spawn_local(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            if let Ok(stream) = listener.next().await {
                let served = serve(stream);
                tokio::task::spawn_local(async move {
                    served.await;
                    drop(permit);
                });
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_forms() {
        assert_eq!(
            target("/run/h.sock"),
            Ok(Target::Unix("/run/h.sock".into()))
        );
        assert_eq!(
            target("unix@/run/h.sock"),
            Ok(Target::Unix("/run/h.sock".into()))
        );
        assert_eq!(
            target("ipv4@127.0.0.1:9999"),
            Ok(Target::Tcp("127.0.0.1:9999".into()))
        );
        assert_eq!(
            target("127.0.0.1:9999"),
            Ok(Target::Tcp("127.0.0.1:9999".into()))
        );
        assert!(target("abns@x").is_err());
        assert_eq!(
            tcp_addr("[::1]:9999").unwrap(),
            "[::1]:9999".parse().unwrap()
        );
    }
}
