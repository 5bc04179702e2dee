//! Listening sockets by key (`address/slot`, the slot being the socket's rank among those
//! the configuration binds for that address: one per listener and thread group): a worker
//! takes the ones its master passed (open file descriptors listed in the environment) or a
//! process it replaces handed over, and binds the others itself.

use super::env;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

/// The key of the `slot`th socket for one address.
pub fn key(addr: SocketAddr, slot: usize) -> String {
    format!("{addr}/{slot}")
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
/// `slot`th one.
pub fn adopt(addr: SocketAddr, slot: usize, fd: OwnedFd) {
    use std::os::fd::IntoRawFd;
    if let Ok(mut m) = inherited().lock() {
        if let Some(old) = m.insert(key(addr, slot), fd.into_raw_fd()) {
            // SAFETY: a descriptor in this list is owned by the list alone (see `listen`).
            drop(unsafe { OwnedFd::from_raw_fd(old) });
        }
    }
}

/// The `slot`th socket for `addr`: the inherited one, else a new one; either way offered
/// to a process that replaces this one (`_getsocks`).
pub fn listen(
    addr: SocketAddr,
    slot: usize,
    flags: crate::listener::BindFlags,
) -> std::io::Result<TcpListener> {
    let socket = inherited_or_bound(addr, slot, flags)?;
    super::handover::export(&socket);
    Ok(socket)
}

/// Closes the inherited sockets no listener took (a process handing over more sockets for
/// an address than this configuration binds): left open, they would queue connections
/// that nobody accepts.
pub fn close_unclaimed() {
    if let Ok(mut m) = inherited().lock() {
        for (_, fd) in m.drain() {
            // SAFETY: a descriptor in this list is owned by the list alone (see `listen`).
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
}

fn inherited_or_bound(
    addr: SocketAddr,
    slot: usize,
    flags: crate::listener::BindFlags,
) -> std::io::Result<TcpListener> {
    let fd = inherited()
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&key(addr, slot)));
    if let Some(fd) = fd {
        // SAFETY: the master opened this descriptor for this key, left it open across exec
        // and listed it once; it is removed from the list above, so nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let socket = TcpListener::from(owned);
        // One bound with other options is let go (this process's copy), and a new one bound.
        if matches_flags(&socket, addr, flags) {
            socket.set_nonblocking(true)?;
            return Ok(socket);
        }
    }
    crate::listener::bind_with(addr, crate::listener::DEFAULT_BACKLOG, flags)
}

/// Whether a listening socket for `addr` bound earlier (by the master, or by the process this
/// one replaces) has the socket-level options `flags` ask for: as HAProxy takes over a
/// socket only when its options match (`v6only`, as the system's default makes it when the
/// line says neither `v6only` nor `v4v6`, and `transparent`), a bind line whose options
/// changed gets a new socket.
pub fn matches_flags(
    socket: &TcpListener,
    addr: SocketAddr,
    flags: crate::listener::BindFlags,
) -> bool {
    use crate::sockopt::get_int;
    let fd = socket.as_raw_fd();
    let transparent = if addr.is_ipv4() {
        get_int(fd, libc::SOL_IP, libc::IP_TRANSPARENT)
    } else {
        get_int(fd, libc::SOL_IPV6, libc::IPV6_TRANSPARENT)
    };
    if transparent.is_ok_and(|on| on != 0) != flags.transparent {
        return false;
    }
    if addr.is_ipv6() {
        let wanted = flags.v6only.unwrap_or_else(system_v6only);
        let has = get_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).is_ok_and(|on| on != 0);
        if has != wanted {
            return false;
        }
    }
    true
}

/// The system's default for IPv6 sockets (`net.ipv6.bindv6only`): IPv6 connections only.
fn system_v6only() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|v| v.trim() == "1")
}

/// Gives the sockets of one address their slots, in binding order.
#[derive(Default)]
pub struct Slots(HashMap<SocketAddr, usize>);

impl Slots {
    /// The slot of the next socket for `addr`.
    pub fn next(&mut self, addr: SocketAddr) -> usize {
        let n = self.0.entry(addr).or_insert(0);
        *n += 1;
        *n - 1
    }
}

/// Every `(address, slot)` a plan listens on, in binding order, with what its socket needs
/// before it is bound.
pub type Wanted = Vec<(SocketAddr, usize, crate::listener::BindFlags)>;

/// Every socket a plan listens on (see [`Wanted`]).
pub fn wanted(plan: &hapee_compiler::plan::Plan) -> Result<Wanted, Vec<String>> {
    let threads = plan.global.nbthread.max(1) as usize;
    let mut slots = Slots::default();
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
                let sets = crate::listener::thread_sets(l, threads, &plan.global.thread_group_of);
                let flags = crate::listener::BindFlags::of(l, &plan.global);
                for addr in addrs {
                    for _ in &sets {
                        out.push((addr, slots.next(addr), flags));
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
