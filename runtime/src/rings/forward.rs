//! `log-forward` sections: syslog received over UDP (`dgram-bind`, a message per datagram)
//! and TCP (`bind`, octet-counted or newline-framed, RFC 6587) is relayed to the section's
//! `log` targets with its own level, facility, program name and process id.

use crate::log::Sink;
use hapee_compiler::plan::rings::LogForwardPlan;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Where a section's messages go.
pub struct Relay {
    sinks: Vec<Sink>,
    timeout_client: Option<Duration>,
    slots: Option<Arc<tokio::sync::Semaphore>>,
}

impl Relay {
    fn relay(&self, line: &str) {
        let line = line.trim_end_matches(['\n', '\r', '\0']);
        if line.is_empty() {
            return;
        }
        let m = super::syslog::parse(line);
        for s in &self.sinks {
            s.send_relayed(&m);
        }
    }
}

/// One bound socket of a log-forward section; a TCP one with `ssl` speaks syslog over TLS.
pub enum Listener {
    Udp(std::net::UdpSocket, Arc<Relay>),
    Tcp(
        std::net::TcpListener,
        Arc<Relay>,
        Option<Arc<crate::tls::config::BindTlsConfig>>,
    ),
}

fn address(text: &str) -> Result<SocketAddr, String> {
    let bare = [
        "udp@", "udp4@", "ipv4@", "tcp@", "tcp4@", "ipv6@", "udp6@", "tcp6@",
    ]
    .iter()
    .find_map(|p| text.strip_prefix(p))
    .unwrap_or(text);
    bare.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("cannot parse address '{text}'"))
}

/// Binds every log-forward listener; errors name the section and address.
pub fn bind_all(sections: &[LogForwardPlan], tag: &str) -> Result<Vec<Listener>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in sections {
        let mut sinks = Vec::new();
        for (_, sink) in Sink::open_list(&f.logs, tag) {
            match sink {
                Ok(s) => sinks.push(s),
                Err(e) => errors.push(format!("log-forward '{}': log target: {e}", f.name)),
            }
        }
        let relay = Arc::new(Relay {
            sinks,
            timeout_client: f
                .timeout_client
                .map(|ms| Duration::from_millis(u64::from(ms))),
            slots: f
                .maxconn
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1) as usize))),
        });
        let fail = |what: &str, a: &str, e: String| {
            format!("log-forward '{}': cannot bind {what} '{a}': {e}", f.name)
        };
        for a in &f.dgram_binds {
            match address(a).and_then(|addr| {
                std::net::UdpSocket::bind(addr)
                    .and_then(|s| s.set_nonblocking(true).map(|_| s))
                    .map_err(|e| e.to_string())
            }) {
                Ok(s) => out.push(Listener::Udp(s, relay.clone())),
                Err(e) => errors.push(fail("dgram-bind", a, e)),
            }
        }
        for (i, a) in f.binds.iter().enumerate() {
            let tls = match f.bind_tls.get(i).and_then(Option::as_ref) {
                Some(t) => {
                    let mut warnings = Vec::new();
                    let built = crate::tls::config::BindTlsConfig::build(t, &mut warnings);
                    for w in warnings {
                        eprintln!(
                            "[WARNING]  ({}) : log-forward '{}' bind '{a}': {w}",
                            std::process::id(),
                            f.name
                        );
                    }
                    match built {
                        Ok(c) => Some(Arc::new(c)),
                        Err(e) => {
                            errors.push(format!("log-forward '{}' bind '{a}': {e}", f.name));
                            continue;
                        }
                    }
                }
                None => None,
            };
            match address(a)
                .and_then(|addr| crate::listener::bind(addr, 1024).map_err(|e| e.to_string()))
            {
                Ok(s) => out.push(Listener::Tcp(s, relay.clone(), tls)),
                Err(e) => errors.push(fail("bind", a, e)),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl Listener {
    /// Serves the socket on the current (local) tokio runtime.
    pub fn spawn(self) {
        match self {
            Listener::Udp(socket, relay) => {
                let Ok(socket) = tokio::net::UdpSocket::from_std(socket) else {
                    return;
                };
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 65536];
                    while let Ok((n, _)) = socket.recv_from(&mut buf).await {
                        relay.relay(&String::from_utf8_lossy(&buf[..n]));
                    }
                });
            }
            Listener::Tcp(listener, relay, tls) => {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                tokio::task::spawn_local(async move {
                    loop {
                        let permit = match &relay.slots {
                            Some(s) => s.clone().acquire_owned().await.ok(),
                            None => None,
                        };
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let relay = relay.clone();
                        let tls = tls.clone();
                        tokio::task::spawn_local(async move {
                            match tls {
                                None => read_stream(stream, &relay).await,
                                Some(tls) => {
                                    let limit =
                                        relay.timeout_client.unwrap_or(Duration::from_secs(10));
                                    if let Ok((stream, _)) =
                                        crate::tls::accept(&tls, stream, limit).await
                                    {
                                        read_stream(stream, &relay).await;
                                    }
                                }
                            }
                            drop(permit);
                        });
                    }
                });
            }
        }
    }
}

/// Reads framed messages from a TCP client until it closes or stays silent past
/// `timeout client`.
async fn read_stream(mut stream: impl tokio::io::AsyncRead + Unpin, relay: &Relay) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let read = stream.read(&mut buf);
        let n = match relay.timeout_client {
            Some(limit) => match tokio::time::timeout(limit, read).await {
                Ok(r) => r,
                Err(_) => return,
            },
            None => read.await,
        };
        match n {
            Ok(n) if n > 0 => pending.extend_from_slice(&buf[..n]),
            _ => return,
        }
        while let Some((message, used)) = next_frame(&pending) {
            relay.relay(&String::from_utf8_lossy(message));
            pending.drain(..used);
        }
        if pending.len() > 1 << 20 {
            return;
        }
    }
}

/// The next message of a TCP syslog stream: `<length> <message>` (octet counting) or a line.
pub fn next_frame(data: &[u8]) -> Option<(&[u8], usize)> {
    let digits = data.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && data.get(digits) == Some(&b' ') {
        let len: usize = std::str::from_utf8(&data[..digits]).ok()?.parse().ok()?;
        let start = digits + 1;
        let end = start.checked_add(len)?;
        return (data.len() >= end).then(|| (&data[start..end], end));
    }
    let nl = data.iter().position(|&b| b == b'\n')?;
    Some((&data[..nl], nl + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_frames_are_octet_counted_or_lines() {
        assert_eq!(next_frame(b"5 hello6 world!"), Some((&b"hello"[..], 7)));
        assert_eq!(next_frame(b"12 short"), None);
        assert_eq!(
            next_frame(b"<13>line one\n<13>two"),
            Some((&b"<13>line one"[..], 13))
        );
        assert_eq!(next_frame(b"<13>unfinished"), None);
    }
}
