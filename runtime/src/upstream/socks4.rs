//! Servers reached through a SOCKS4 proxy (`server … socks4 <addr:port>`, and for health
//! checks `check-via-socks4`): the TCP connection goes to the proxy, which is asked to
//! CONNECT to the server, as HAProxy asks it: version 4, command 1, the server's port and
//! IPv4 address, and the user id `HAProxy`. The proxy's 8-byte answer must grant the request
//! (code 90) before anything else (a PROXY protocol header, TLS, the request) is sent.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The request asking the proxy to connect to `dst` (an IPv6 server is asked for as 0.0.0.0,
/// which a SOCKS4 proxy cannot reach: SOCKS4 has no IPv6).
pub fn request(dst: SocketAddr) -> [u8; 16] {
    let mut req = [0u8; 16];
    req[0] = 4;
    req[1] = 1;
    req[2..4].copy_from_slice(&dst.port().to_be_bytes());
    if let IpAddr::V4(ip) = dst.ip() {
        req[4..8].copy_from_slice(&ip.octets());
    }
    req[8..].copy_from_slice(b"HAProxy\0");
    req
}

/// Asks the proxy at the other end of `tcp` to connect to `dst`, and reads its answer.
pub async fn handshake(tcp: &mut TcpStream, dst: SocketAddr) -> io::Result<()> {
    tcp.write_all(&request(dst)).await?;
    let mut answer = [0u8; 8];
    tcp.read_exact(&mut answer).await?;
    if answer[1] != 90 {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("SOCKS4 proxy refused the connection (code {})", answer[1]),
        ));
    }
    Ok(())
}

/// Connects to `dst`, through the SOCKS4 proxy `via` when there is one; the connection and
/// the proxy's handshake together take at most `timeout`.
pub async fn connect(
    dst: SocketAddr,
    via: Option<SocketAddr>,
    timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    let attempt = async {
        let to = via.unwrap_or(dst);
        let mut tcp = super::dial::tcp_socket(to)?.connect(to).await?;
        if via.is_some() {
            handshake(&mut tcp, dst).await?;
        }
        Ok(tcp)
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, attempt)
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?,
        None => attempt.await,
    }
}

/// The proxy address of a `socks4` option: `ip:port`, or `host:port` resolved now.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let text = text.strip_prefix("ipv4@").unwrap_or(text);
    if let Ok(a) = text.parse() {
        return Ok(a);
    }
    text.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("invalid 'socks4' address '{text}' (an address and a port)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_haproxys() {
        let r = request("127.0.0.1:20001".parse().unwrap());
        assert_eq!(
            r,
            [4, 1, 0x4e, 0x21, 127, 0, 0, 1, b'H', b'A', b'P', b'r', b'o', b'x', b'y', 0]
        );
        assert_eq!(
            parse_addr("127.0.0.1:1080"),
            Ok("127.0.0.1:1080".parse().unwrap())
        );
        assert!(parse_addr("127.0.0.1").is_err());
    }
}
