//! Listening sockets by key (`address/thread`): a worker takes the ones its master passed
//! (open file descriptors listed in the environment) and binds the others itself.

use super::env;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

/// The key of one thread's socket for one address.
pub fn key(addr: SocketAddr, thread: usize) -> String {
    format!("{addr}/{thread}")
}

/// The descriptors passed by the master, not yet taken.
fn inherited() -> &'static Mutex<HashMap<String, RawFd>> {
    static INHERITED: OnceLock<Mutex<HashMap<String, RawFd>>> = OnceLock::new();
    INHERITED.get_or_init(|| {
        let list = std::env::var(env::LISTEN_FDS).unwrap_or_default();
        Mutex::new(parse(&list))
    })
}

/// `key=fd;key=fd` (keys hold no `;` and end before the last `=`).
pub fn parse(list: &str) -> HashMap<String, RawFd> {
    list.split(';')
        .filter_map(|item| {
            let (k, fd) = item.rsplit_once('=')?;
            Some((k.to_string(), fd.parse().ok()?))
        })
        .collect()
}

/// The list a worker receives for `sockets`.
pub fn export<'a>(sockets: impl Iterator<Item = (&'a String, &'a TcpListener)>) -> String {
    sockets
        .map(|(k, s)| format!("{k}={}", s.as_raw_fd()))
        .collect::<Vec<_>>()
        .join(";")
}

/// Takes `fd`, a listening socket for `addr` another process handed over (`-x`), as the
/// socket of `thread`.
pub fn adopt(addr: SocketAddr, thread: usize, fd: OwnedFd) {
    use std::os::fd::IntoRawFd;
    if let Ok(mut m) = inherited().lock() {
        if let Some(old) = m.insert(key(addr, thread), fd.into_raw_fd()) {
            // SAFETY: a descriptor in this list is owned by the list alone (see `listen`).
            drop(unsafe { OwnedFd::from_raw_fd(old) });
        }
    }
}

/// The socket for `addr` on `thread`: the inherited one, else a new one; either way offered
/// to a process that replaces this one (`_getsocks`).
pub fn listen(addr: SocketAddr, thread: usize) -> std::io::Result<TcpListener> {
    let socket = inherited_or_bound(addr, thread)?;
    super::handover::export(&socket);
    Ok(socket)
}

fn inherited_or_bound(addr: SocketAddr, thread: usize) -> std::io::Result<TcpListener> {
    let fd = inherited()
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&key(addr, thread)));
    if let Some(fd) = fd {
        // SAFETY: the master opened this descriptor for this key, left it open across exec
        // and listed it once; it is removed from the list above, so nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let socket = TcpListener::from(owned);
        socket.set_nonblocking(true)?;
        return Ok(socket);
    }
    crate::listener::bind(addr, 1024)
}

/// Every `(address, thread)` a plan listens on, in binding order.
pub fn wanted(plan: &hapee_compiler::plan::Plan) -> Result<Vec<(SocketAddr, usize)>, Vec<String>> {
    let threads = plan.global.nbthread.max(1) as usize;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    // UNIX listeners are bound by each worker (see `crate::listener::bind_unix_listener`).
    for l in plan
        .listeners
        .iter()
        .filter(|l| !crate::listener::is_unix(l))
    {
        match crate::listener::addresses(l) {
            Ok(addrs) => {
                for addr in addrs {
                    for t in 0..threads {
                        if crate::listener::served_by(l, t, &plan.global.thread_group_of) {
                            out.push((addr, t));
                        }
                    }
                }
            }
            Err(e) => errors.push(format!(
                "Starting frontend {}: {e}",
                plan.frontends[l.frontend].name
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_round_trip() {
        let m = super::parse("127.0.0.1:80/0=5;[::1]:81/1=7;junk");
        assert_eq!(m.get("127.0.0.1:80/0"), Some(&5));
        assert_eq!(m.get("[::1]:81/1"), Some(&7));
        assert_eq!(m.len(), 2);
    }
}
