//! How a datagram reaches the thread that owns its connection.
//!
//! Each thread serving a QUIC listener has its own UDP socket on the listener's address, all
//! bound with SO_REUSEPORT, so they form one reuseport group in the kernel; a socket's index in
//! the group is the order it was bound in. Every connection ID a thread's endpoint hands out
//! starts with that index ([`ThreadCids`]), and a classic BPF program attached to the group
//! ([`attach_steering`]) picks the socket from the first byte of the packet's destination
//! connection ID, modulo the group size:
//! - short-header packets (all traffic after the handshake): the ID starts at byte 1;
//! - long-header packets: it starts at byte 6 (after the flags, the version and its length).
//!
//! A client's first Initial carries an ID the client chose at random; it lands on the socket
//! its first byte selects, and that thread's endpoint answers with an ID of its own, which
//! steers every later datagram back to it, even when the client's address changes (NAT
//! rebinding, migration), where the kernel's 4-tuple hash would pick another socket. Nothing is
//! shared between threads on the datagram path. Where the program cannot be attached, the
//! kernel's 4-tuple hash still keeps each client on one socket while its address stays put.

use quinn::{ConnectionId, ConnectionIdGenerator};
use socket2::{Protocol, Type};
use std::net::SocketAddr;
use std::time::Duration;

/// Length of the connection IDs the proxy hands out: one steering byte and 7 random ones.
pub const CID_LEN: usize = 8;

/// Connection IDs of one socket of a reuseport group: the socket's index, then random bytes.
pub struct ThreadCids {
    pub index: u8,
}

impl ConnectionIdGenerator for ThreadCids {
    fn generate_cid(&mut self) -> ConnectionId {
        let mut bytes = [0u8; CID_LEN];
        // A failing system RNG leaves zeros: the ID still steers, it is only guessable.
        let _ = aws_lc_rs::rand::fill(&mut bytes[1..]);
        bytes[0] = self.index;
        ConnectionId::new(&bytes)
    }

    fn cid_len(&self) -> usize {
        CID_LEN
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// A non-blocking UDP socket with SO_REUSEADDR and SO_REUSEPORT.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    crate::listener::reuseport_socket(addr, Type::DGRAM, Protocol::UDP).map(Into::into)
}

/// The steering program for a group of `sockets` sockets (see the module's comment).
fn program(sockets: u32) -> [libc::sock_filter; 8] {
    const LD_B_ABS: u16 = (libc::BPF_LD | libc::BPF_B | libc::BPF_ABS) as u16;
    const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
    const MOD_K: u16 = (libc::BPF_ALU | libc::BPF_MOD | libc::BPF_K) as u16;
    const RET_A: u16 = (libc::BPF_RET | libc::BPF_A) as u16;
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    [
        op(LD_B_ABS, 0, 0, 0),    // A = first byte
        op(JSET_K, 3, 0, 0x80),   // long header? -> 5
        op(LD_B_ABS, 0, 0, 1),    // short: A = DCID[0]
        op(MOD_K, 0, 0, sockets), // A %= sockets
        op(RET_A, 0, 0, 0),       // socket A
        op(LD_B_ABS, 0, 0, 6),    // long: A = DCID[0]
        op(MOD_K, 0, 0, sockets), // A %= sockets
        op(RET_A, 0, 0, 0),       // socket A
    ]
}

/// Attaches the steering program to the reuseport group `socket` belongs to, which holds
/// `sockets` sockets. A packet too short for the program's loads goes to socket 0.
pub fn attach_steering(socket: &std::net::UdpSocket, sockets: u32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    if sockets <= 1 {
        return Ok(());
    }
    let mut filter = program(sockets);
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `prog` points at `filter`, which lives until the call returns; the kernel copies
    // the program during setsockopt and keeps no pointer to it. The length passed is the size
    // of the `sock_fprog` given, and the descriptor is valid for as long as `socket` is.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            std::ptr::addr_of!(prog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    /// A datagram whose destination connection ID starts with `first`: a short-header packet,
    /// or a long-header one.
    fn packet(long: bool, first: u8) -> Vec<u8> {
        if long {
            let mut p = vec![0xc0, 0, 0, 0, 1, 8, first];
            p.extend_from_slice(&[0; 30]);
            p
        } else {
            let mut p = vec![0x40, first];
            p.extend_from_slice(&[0; 30]);
            p
        }
    }

    #[test]
    fn the_first_byte_of_the_connection_id_picks_the_socket() {
        let first = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let mut group = vec![first];
        for _ in 1..3 {
            group.push(bind(addr).unwrap());
        }
        if let Err(e) = attach_steering(&group[0], 3) {
            eprintln!("SKIP: SO_ATTACH_REUSEPORT_CBPF refused here ({e})");
            return;
        }
        for s in &group {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
        }
        // One client address for all packets: the 4-tuple hash alone would pick one socket.
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        for (long, byte) in [(false, 0u8), (false, 1), (false, 5), (true, 2), (true, 3)] {
            client.send_to(&packet(long, byte), addr).unwrap();
            let expected = usize::from(byte) % 3;
            let mut buf = [0u8; 64];
            let got: Vec<usize> = group
                .iter()
                .enumerate()
                .filter(|(_, s)| s.recv_from(&mut buf).is_ok())
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, vec![expected], "long={long} byte={byte}");
        }
    }

    #[test]
    fn generated_ids_carry_the_socket_index() {
        let mut g = ThreadCids { index: 7 };
        let a = g.generate_cid();
        let b = g.generate_cid();
        assert_eq!(a.len(), CID_LEN);
        assert_eq!((a[0], b[0]), (7, 7));
        assert_ne!(a, b);
    }
}
