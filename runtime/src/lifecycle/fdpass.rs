//! Open descriptors sent between processes over Unix sockets (`SCM_RIGHTS`): how a master
//! hands a worker a connection to its Runtime API, and how listening sockets move from an old
//! process to a new one (`-x`).

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Sends `data` with `fds` attached, in one message.
pub fn send(socket: RawFd, data: &[u8], fds: &[RawFd], flags: MsgFlags) -> std::io::Result<usize> {
    let iov = [IoSlice::new(data)];
    let control = [ControlMessage::ScmRights(fds)];
    let control: &[ControlMessage] = if fds.is_empty() { &[] } else { &control };
    sendmsg::<()>(socket, &iov, control, flags, None).map_err(std::io::Error::from)
}

/// Receives one message into `buf`, with at most `max_fds` descriptors attached: the bytes
/// read (0 at end of stream) and the descriptors, owned from here on.
pub fn receive(
    socket: RawFd,
    buf: &mut [u8],
    max_fds: usize,
) -> std::io::Result<(usize, Vec<OwnedFd>)> {
    let mut space = vec![0u8; nix::sys::socket::cmsg_space::<RawFd>() * max_fds.max(1)];
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        socket,
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    let mut fds = Vec::new();
    for cmsg in msg.cmsgs().map_err(std::io::Error::from)? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            for fd in received {
                // SAFETY: the kernel has just installed this descriptor in this process for
                // this message; nothing else knows its number, so taking ownership is sound.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Ok((msg.bytes, fds))
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    #[test]
    fn descriptors_cross_a_socket_pair() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (x, mut y) = std::os::unix::net::UnixStream::pair().unwrap();
        super::send(
            a.as_raw_fd(),
            b"c",
            &[x.as_raw_fd()],
            nix::sys::socket::MsgFlags::empty(),
        )
        .unwrap();
        drop(x);
        let mut buf = [0u8; 4];
        let (n, fds) = super::receive(b.as_raw_fd(), &mut buf, 1).unwrap();
        assert_eq!((n, fds.len()), (1, 1));
        let mut got = std::os::unix::net::UnixStream::from(fds.into_iter().next().unwrap());
        use std::io::{Read, Write};
        got.write_all(b"hi").unwrap();
        let mut two = [0u8; 2];
        y.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"hi");
    }
}
