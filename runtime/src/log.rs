//! Log sinks: stdout/stderr, unix datagram sockets and UDP syslog, with HAProxy's
//! RFC3164/RFC5424/short/raw headers.

use chrono::{Local, Utc};
use hapee_compiler::plan::{LogDest, LogHeader, LogTarget};
use std::io::Write;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;

enum Out {
    Stdout,
    Stderr,
    Udp(UdpSocket, std::net::SocketAddr),
    Unix(UnixDatagram, String),
    /// `ring@<name>`: written with the ring's own format.
    Ring(std::sync::Arc<crate::rings::Ring>),
}

pub struct Sink {
    target: LogTarget,
    out: Out,
    tag: String,
    /// The most verbose level of each logger before this one in its list, which HAProxy's
    /// numbering of loggers in its alerts counts when they take the message
    /// ([`Sink::open_list`]; empty for a sink opened alone).
    earlier: Vec<u8>,
}

/// Whether a send to a logger has failed yet: HAProxy reports only the first failure of the
/// process.
static SEND_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The machine's host name (`uname`'s node name), read once; `None` if the system gives none.
pub fn machine_name() -> Option<&'static str> {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
    })
    .as_deref()
}

/// The machine's host name, for `%H`, `log-send-hostname` and the peers' local name.
pub fn hostname() -> String {
    machine_name().unwrap_or("localhost").to_string()
}

/// `log-send-hostname`: the host name this process writes in its syslog headers, set once at
/// start (`None`: none in RFC3164 headers, `-` in RFC5424 ones, as HAProxy writes them).
static SENT_HOSTNAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Sets the host name of this process's syslog headers (`log-send-hostname`; an empty name
/// stands for the machine's). Only the first call counts.
pub fn send_hostname(name: Option<&str>) {
    let name = name.map(|n| {
        if n.is_empty() {
            hostname()
        } else {
            n.to_string()
        }
    });
    let _ = SENT_HOSTNAME.set(name);
}

/// Who a message is from, as its header names it.
#[derive(Clone, Copy)]
struct Origin<'a> {
    facility: u8,
    tag: &'a str,
    pid: &'a str,
    host: Option<&'a str>,
}

impl Sink {
    pub fn open(target: &LogTarget, tag: &str) -> std::io::Result<Sink> {
        use std::net::ToSocketAddrs;
        let mut target = target.clone();
        let out = match &target.dest {
            LogDest::Ring(name) => {
                let ring = crate::rings::get(name)
                    .ok_or_else(|| std::io::Error::other(format!("no ring named '{name}'")))?;
                target.header = ring.format;
                Out::Ring(ring)
            }
            LogDest::Stdout => Out::Stdout,
            LogDest::Stderr => Out::Stderr,
            LogDest::Udp(addr) => {
                let to = addr
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| std::io::Error::other(format!("cannot resolve '{addr}'")))?;
                let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let s = UdpSocket::bind(bind)?;
                s.set_nonblocking(true)?;
                Out::Udp(s, to)
            }
            // Always a datagram socket's address, as HAProxy reads it: a path that is no
            // socket (or none yet) fails at each send, reported once, and is never written.
            LogDest::Path(p) => {
                let s = UnixDatagram::unbound()?;
                s.set_nonblocking(true)?;
                Out::Unix(s, p.clone())
            }
        };
        Ok(Sink {
            target,
            out,
            tag: tag.to_string(),
            earlier: Vec::new(),
        })
    }

    /// Opens the sinks of one list of loggers (a section's `log` lines) in order, each
    /// with its target, knowing its place in the list.
    pub fn open_list<'a>(
        targets: &'a [LogTarget],
        tag: &'a str,
    ) -> impl Iterator<Item = (&'a LogTarget, std::io::Result<Sink>)> + 'a {
        targets.iter().enumerate().map(move |(i, t)| {
            let sink = Sink::open(t, tag).map(|mut s| {
                s.earlier = targets[..i].iter().map(|e| e.max_level).collect();
                s
            });
            (t, sink)
        })
    }

    /// Reports a failed send as HAProxy does, on standard error and for the first failure
    /// of the process only; a full socket drops the message silently. The logger's number
    /// counts the loggers of its list that take a message of this level.
    fn failed(&self, level: u8, e: &std::io::Error) {
        if e.kind() == std::io::ErrorKind::WouldBlock
            || SEND_FAILED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let number = 1 + self.earlier.iter().filter(|&&max| level <= max).count();
        eprintln!(
            "[ALERT]    ({}) : sendmsg()/writev() failed in logger #{number}: {} (errno={})",
            std::process::id(),
            crate::checks::engine::error_text(e),
            e.raw_os_error().unwrap_or(0)
        );
    }

    /// Sends one message at `level`; silently drops it when the sink is full or gone, as a
    /// logger must never stall traffic.
    pub fn send(&self, level: u8, message: &str) {
        self.send_structured(level, "", message);
    }

    /// [`Sink::send`] with RFC 5424 structured data (`log-format-sd`), which only that header
    /// carries; empty is none (`-`).
    pub fn send_structured(&self, level: u8, data: &str, message: &str) {
        let pid = std::process::id().to_string();
        let host = SENT_HOSTNAME.get().and_then(Option::as_deref);
        let from = Origin {
            facility: self.target.facility,
            tag: &self.tag,
            pid: &pid,
            host,
        };
        self.send_framed(level, from, data, message);
    }

    /// Relays a message a `log-forward` section received: its own level and facility when it
    /// had a priority (this target's facility and the most urgent level when not), under the
    /// header its fields call for in this target's format.
    pub fn send_relayed(&self, m: &crate::rings::syslog::Message<'_>) {
        if m.level.is_some_and(|l| l > self.target.max_level) {
            return;
        }
        let level = m.level.unwrap_or(0);
        let facility = m.facility.unwrap_or(self.target.facility);
        let head = crate::rings::syslog::header(self.target.header, level, facility, m);
        self.deliver(level, head, m.text);
    }

    fn send_framed(&self, level: u8, from: Origin<'_>, data: &str, message: &str) {
        let Origin {
            facility,
            tag,
            pid,
            host,
        } = from;
        if level > self.target.max_level {
            return;
        }
        let pri = u32::from(facility) * 8 + u32::from(level);
        let line = match self.target.header {
            LogHeader::Raw => String::new(),
            // `short` names the level alone.
            LogHeader::Short => format!("<{level}>"),
            LogHeader::Unspec | LogHeader::Rfc3164 | LogHeader::Local => format!(
                "<{pri}>{} {}{tag}[{pid}]: ",
                Local::now().format("%b %e %H:%M:%S"),
                // The host, when one is configured; a target set to `rfc3164` names one
                // whatever (`localhost` when none is), the local form never does.
                match (host, self.target.header) {
                    (_, LogHeader::Local) => String::new(),
                    (Some(h), _) => format!("{h} "),
                    (None, LogHeader::Rfc3164) => "localhost ".to_string(),
                    (None, _) => String::new(),
                },
            ),
            LogHeader::Rfc5424 => format!(
                "<{pri}>1 {} {} {tag} {pid} - {} ",
                Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f%:z"),
                host.unwrap_or("-"),
                if data.is_empty() { "-" } else { data },
            ),
        };
        self.deliver(level, line, message);
    }

    /// Sends `line` (a header) followed by `message`, cut to the target's length.
    /// The text carries the bytes a sample held ([`hapee_compiler::bytestr`]): each goes out
    /// as that byte, and the cut falls on a byte, as HAProxy cuts. A ring keeps text.
    fn deliver(&self, level: u8, mut line: String, message: &str) {
        line.push_str(message);
        let max = self.target.len.saturating_sub(1);
        if let Out::Ring(r) = &self.out {
            if line.len() > max {
                let mut cut = max;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
            }
            r.push(&line);
            return;
        }
        let mut bytes = hapee_compiler::bytestr::into_bytes(line);
        bytes.truncate(max);
        match &self.out {
            Out::Udp(s, to) => {
                if let Err(e) = s.send_to(&bytes, to) {
                    self.failed(level, &e);
                }
            }
            Out::Unix(s, path) => {
                if let Err(e) = s.send_to(&bytes, path) {
                    self.failed(level, &e);
                }
            }
            Out::Stdout => {
                bytes.push(b'\n');
                let _ = std::io::stdout().lock().write_all(&bytes);
            }
            Out::Stderr => {
                bytes.push(b'\n');
                let _ = std::io::stderr().lock().write_all(&bytes);
            }
            Out::Ring(_) => {}
        }
    }
}
