//! Socket options the rules set on the client connection and the fetches read from it
//! (`silent-drop`, `set-mark`, `set-tos`, `fc_rtt` …). A transaction carries the client
//! socket's descriptor as a plain number ([`ClientFd`]); it is read only while the rules or
//! the log of a live transaction run, when the connection still holds the socket open.
//!
//! Every call here goes to `setsockopt`/`getsockopt` with a pointer to a local value of the
//! exact size passed: a descriptor that is not (or no longer) a socket only makes the call fail
//! (`EBADF`, `ENOTSOCK`), which HAProxy ignores as hapee does.

use hapee_compiler::plan::process::SocketBuffers;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// The client connection's socket descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientFd(pub RawFd);

/// Sets an integer socket option on descriptor `fd` (for the options neither socket2 nor nix
/// names: TCP_DEFER_ACCEPT, TCP_FASTOPEN, TCP_REPAIR…).
pub fn set_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: `value` lives for the call and its size is the length given; the kernel only
    // reads it, and a descriptor that is not a socket only makes the call fail.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            std::ptr::from_ref(&value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Reads an integer socket option of descriptor `fd`.
pub fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> std::io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` live for the call; `len` is the size of `value`, and the
    // kernel writes at most that many bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            std::ptr::from_mut(&mut value).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `tune.rcvbuf.*` and `tune.sndbuf.*`, process-wide as in HAProxy: set once at start
/// ([`set_buffer_sizes`]), read by every accept and every connection to a server.
static BUFFERS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
const CLIENT_RCV: usize = 0;
const CLIENT_SND: usize = 1;
const SERVER_RCV: usize = 2;
const SERVER_SND: usize = 3;

/// Keeps the plan's socket buffer sizes for the sockets made from now on.
pub fn set_buffer_sizes(b: &SocketBuffers) {
    for (at, size) in [
        (CLIENT_RCV, b.client_rcvbuf),
        (CLIENT_SND, b.client_sndbuf),
        (SERVER_RCV, b.server_rcvbuf),
        (SERVER_SND, b.server_sndbuf),
    ] {
        BUFFERS[at].store(size, Ordering::Relaxed);
    }
}

/// Sizes the buffers of an accepted client socket, as HAProxy does to each one (a UNIX
/// socket's accepted end does not inherit them from its listener); a refusal changes nothing.
pub fn size_client_buffers(fd: RawFd) {
    size_buffers(fd, CLIENT_RCV, CLIENT_SND);
}

/// Sizes the buffers of a socket to a server, before it connects (the receive window it
/// announces depends on them).
pub fn size_server_buffers(fd: RawFd) {
    size_buffers(fd, SERVER_RCV, SERVER_SND);
}

fn size_buffers(fd: RawFd, rcv: usize, snd: usize) {
    for (at, name) in [(snd, libc::SO_SNDBUF), (rcv, libc::SO_RCVBUF)] {
        let size = BUFFERS[at].load(Ordering::Relaxed);
        if size > 0 {
            let _ = set_int(
                fd,
                libc::SOL_SOCKET,
                name,
                libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX),
            );
        }
    }
}

impl ClientFd {
    fn set_int(self, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> bool {
        set_int(self.0, level, name, value).is_ok()
    }

    /// `silent-drop [rst-ttl <ttl>]`: makes the coming close of the connection tell the
    /// client nothing, as HAProxy does. Without a TTL, the socket is put in TCP repair mode
    /// (which needs CAP_NET_ADMIN), where closing it sends neither FIN nor RST. Else (or when
    /// repair mode is refused) the close resets the connection (no lingering) with the
    /// packets' TTL (hop limit) at `ttl` (1 by default), so that the reset dies before
    /// reaching a client more than that many hops away.
    pub fn prepare_silent_drop(self, ttl: Option<u8>) {
        // Acknowledge what came in at once: the client does not retransmit it.
        self.set_int(libc::IPPROTO_TCP, libc::TCP_QUICKACK, 1);
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: `linger` lives for the call and its size is the length given.
        unsafe {
            libc::setsockopt(
                self.0,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                std::ptr::from_ref(&linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        if ttl.is_none() && self.set_int(libc::IPPROTO_TCP, libc::TCP_REPAIR, 1) {
            return;
        }
        let ttl = libc::c_int::from(ttl.unwrap_or(1));
        if !self.set_int(libc::IPPROTO_IP, libc::IP_TTL, ttl) {
            self.set_int(libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, ttl);
        }
    }

    /// `set-mark`: the firewall mark of the connection's packets (SO_MARK). It needs
    /// CAP_NET_ADMIN; without it nothing changes, silently, as in HAProxy.
    pub fn set_mark(self, mark: u32) {
        self.set_int(libc::SOL_SOCKET, libc::SO_MARK, mark as libc::c_int);
    }

    /// `set-tos`: the TOS field (DSCP) of the connection's IPv4 packets, or the traffic
    /// class of its IPv6 ones.
    pub fn set_tos(self, tos: u8, ipv6: bool) {
        if ipv6 {
            self.set_int(
                libc::IPPROTO_IPV6,
                libc::IPV6_TCLASS,
                libc::c_int::from(tos),
            );
        } else {
            self.set_int(libc::IPPROTO_IP, libc::IP_TOS, libc::c_int::from(tos));
        }
    }

    /// The kernel's TCP_INFO of the connection, if it has one (not for a UNIX socket).
    pub fn tcp_info(self) -> Option<libc::tcp_info> {
        // SAFETY: `tcp_info` is plain integers, for which all zeroes is a valid value.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: `info` and `len` live for the call; `len` is the size of `info`, and the
        // kernel writes at most that many bytes.
        let done = unsafe {
            libc::getsockopt(
                self.0,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                std::ptr::from_mut(&mut info).cast(),
                &mut len,
            ) == 0
        };
        done.then_some(info)
    }
}

/// A `fc_*` fetch of TCP_INFO, as HAProxy answers it: `fc_rtt` and `fc_rttvar` in
/// milliseconds (rounded) unless `us` is asked, the counters as they are.
pub fn tcp_info_fetch(name: &str, unit: &str, fd: Option<ClientFd>) -> Option<Option<i64>> {
    let pick: fn(&libc::tcp_info) -> u32 = match name {
        "fc_rtt" => |i| i.tcpi_rtt,
        "fc_rttvar" => |i| i.tcpi_rttvar,
        "fc_unacked" => |i| i.tcpi_unacked,
        "fc_sacked" => |i| i.tcpi_sacked,
        "fc_lost" => |i| i.tcpi_lost,
        "fc_retrans" => |i| i.tcpi_retrans,
        "fc_fackets" => |i| i.tcpi_fackets,
        "fc_reordering" => |i| i.tcpi_reordering,
        _ => return None,
    };
    let Some(info) = fd.and_then(ClientFd::tcp_info) else {
        return Some(None);
    };
    let v = i64::from(pick(&info));
    let time = matches!(name, "fc_rtt" | "fc_rttvar");
    Some(Some(if time && unit != "us" {
        (v + 500) / 1000
    } else {
        v
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn tcp_info_of_a_live_connection() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let fd = Some(ClientFd(c.as_raw_fd()));
        assert!(matches!(tcp_info_fetch("fc_rtt", "us", fd), Some(Some(v)) if v > 0));
        assert_eq!(tcp_info_fetch("fc_lost", "", fd), Some(Some(0)));
        assert_eq!(tcp_info_fetch("fc_rtt", "", None), Some(None));
        assert_eq!(tcp_info_fetch("src", "", fd), None);
    }
}
