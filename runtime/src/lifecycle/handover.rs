//! Listening sockets handed from a running process to its replacement in the standalone
//! form (`-x <stats socket> -sf <pid>`), over a `stats socket … expose-fd listeners`, in
//! HAProxy's `_getsocks` wire format, so that either side may be HAProxy:
//!
//! 1. the new process connects and sends `_getsocks\n`;
//! 2. the old one answers the number of sockets it will send (a native-endian 32-bit
//!    integer, alone in its message);
//! 3. then messages of at most 252 descriptors (`SCM_RIGHTS`), whose bytes describe each
//!    descriptor in turn: a length-prefixed namespace name, a length-prefixed interface name
//!    and 4 zero bytes; the receiver acknowledges every message with 4 bytes, and the sender
//!    waits for that acknowledgement after each full message.
//!
//! The new process then listens on the very sockets the old one accepted on: the kernel's
//! queues of pending connections carry over, and no connection is refused in between.

use super::fdpass;
use nix::sys::socket::MsgFlags;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Most descriptors in one message.
const BATCH: usize = 252;
/// The bytes a sender may attach to one descriptor: two names (a path, an interface) with
/// their lengths, and 4 bytes.
const RECORD_MAX: usize = 1 + 4096 + 1 + 16 + 4;

/// Copies of this process's listening sockets, for `_getsocks`; emptied once it stops.
fn exported() -> &'static Mutex<Vec<OwnedFd>> {
    static EXPORTED: OnceLock<Mutex<Vec<OwnedFd>>> = OnceLock::new();
    EXPORTED.get_or_init(|| Mutex::new(Vec::new()))
}

/// Offers `socket` to a replacement process.
pub fn export(socket: &std::net::TcpListener) {
    if let (Ok(copy), Ok(mut list)) = (socket.try_clone(), exported().lock()) {
        list.push(copy.into());
    }
}

/// A stopping process offers nothing more: a socket no one took must not linger open (it
/// would keep receiving connections that nobody accepts).
pub fn forget_exported() {
    if let Ok(mut list) = exported().lock() {
        list.clear();
    }
}

/// Whether a stats socket client's first command is `_getsocks` (looked at without taking
/// it, so that any other command reaches the Runtime API untouched).
pub async fn asks_for_sockets(stream: &tokio::net::UnixStream) -> bool {
    const ASK: &[u8] = b"_getsocks";
    let mut buf = [0u8; 16];
    for _ in 0..100 {
        if stream.readable().await.is_err() {
            return false;
        }
        // Through `try_io`, so that a spurious wake-up clears the readiness.
        let peeked = stream.try_io(tokio::io::Interest::READABLE, || {
            nix::sys::socket::recv(stream.as_raw_fd(), &mut buf, MsgFlags::MSG_PEEK)
                .map_err(std::io::Error::from)
        });
        match peeked {
            Ok(0) => return false,
            Ok(n) if n > ASK.len() || buf[..n].contains(&b'\n') => {
                return buf[..n].starts_with(ASK) && matches!(buf[ASK.len()], b'\n' | b'\r');
            }
            // Only the start of a command so far: it may still be `_getsocks`.
            Ok(n) if ASK.starts_with(&buf[..n]) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Ok(_) => return false,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return false,
        }
    }
    false
}

/// Answers `_getsocks`: sends every exported listening socket, then closes.
pub fn send_listeners(stream: tokio::net::UnixStream) {
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut acks = &stream;
    // The command itself, already seen.
    let mut line = [0u8; 10];
    let _ = acks.read(&mut line);
    let Ok(list) = exported().lock() else {
        return;
    };
    let fds: Vec<RawFd> = list.iter().map(AsRawFd::as_raw_fd).collect();
    // With nothing to send, HAProxy closes without a word.
    if fds.is_empty() {
        return;
    }
    let total = (fds.len() as i32).to_ne_bytes();
    if fdpass::send(stream.as_raw_fd(), &total, &[], MsgFlags::empty()).is_err() {
        return;
    }
    // No namespace, no interface, and the 4 bytes that once held listener options.
    const RECORD: [u8; 6] = [0; 6];
    for batch in fds.chunks(BATCH) {
        let data = RECORD.repeat(batch.len());
        if fdpass::send(stream.as_raw_fd(), &data, batch, MsgFlags::empty()).is_err() {
            return;
        }
        if batch.len() == BATCH {
            let mut ack = [0u8; 4];
            if acks.read_exact(&mut ack).is_err() {
                return;
            }
        }
    }
}

/// Takes the listening sockets of the process behind the stats socket `path` (`-x`): they
/// become the sockets this process listens on for the same addresses. Answers how many TCP
/// listening sockets were taken.
pub fn fetch(path: &Path) -> Result<usize, String> {
    let failed = |what: &str| format!("{what} '{}'", path.display());
    let mut stream = std::os::unix::net::UnixStream::connect(path)
        .map_err(|_| failed("Failed to connect to the old process socket"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let count_failed = || "Failed to get the number of sockets to be transferred !".to_string();
    stream
        .write_all(b"_getsocks\n")
        .map_err(|_| count_failed())?;
    let mut count = [0u8; 4];
    stream.read_exact(&mut count).map_err(|_| count_failed())?;
    let total = usize::try_from(i32::from_ne_bytes(count)).map_err(|_| count_failed())?;
    let mut fds: Vec<OwnedFd> = Vec::with_capacity(total);
    let mut records = Vec::new();
    let mut buf = vec![0u8; BATCH * RECORD_MAX];
    while fds.len() < total {
        let (n, got) = fdpass::receive(stream.as_raw_fd(), &mut buf, BATCH)
            .map_err(|e| format!("Failed to receive the sockets: {e}"))?;
        if n == 0 {
            break;
        }
        // The acknowledgement a sender waits for after a full message.
        let _ = (&stream).write_all(&(fds.len() as i32).to_ne_bytes());
        if fds.len() + got.len() > total {
            return Err("Got to many sockets !".into());
        }
        fds.extend(got);
        records.extend_from_slice(&buf[..n]);
    }
    if fds.len() != total {
        return Err(format!(
            "We didn't get the expected number of sockets (expecting {total} got {})",
            fds.len()
        ));
    }
    check_records(&records, total)?;
    let mut taken = 0;
    let mut slots = super::sockets::Slots::default();
    for fd in fds {
        let Some(addr) = tcp_listening_address(&fd) else {
            continue;
        };
        super::sockets::adopt(addr, slots.next(addr), fd);
        taken += 1;
    }
    Ok(taken)
}

/// Walks the descriptions (namespace, interface, 4 bytes each) to make sure they are whole.
fn check_records(records: &[u8], count: usize) -> Result<(), String> {
    let broken = || "Inconsistency while transferring sockets".to_string();
    let mut at = 0;
    for _ in 0..count {
        for _name in 0..2 {
            let len = *records.get(at).ok_or_else(broken)? as usize;
            at += 1 + len;
        }
        at += 4;
        if at > records.len() {
            return Err(broken());
        }
    }
    Ok(())
}

/// The address of a listening TCP socket (`None` for anything else: unix sockets, UDP).
fn tcp_listening_address(fd: &OwnedFd) -> Option<SocketAddr> {
    let socket = socket2::SockRef::from(fd);
    if socket.r#type().ok()? != socket2::Type::STREAM || !socket.is_listener().ok()? {
        return None;
    }
    socket.local_addr().ok()?.as_socket()
}

#[cfg(test)]
mod tests {
    #[test]
    fn descriptions_must_be_whole() {
        assert!(super::check_records(&[0; 12], 2).is_ok());
        assert!(super::check_records(&[0; 11], 2).is_err());
        // An interface name of 3 bytes.
        assert!(super::check_records(&[0, 3, b'l', b'o', b'0', 0, 0, 0, 0], 1).is_ok());
    }
}
