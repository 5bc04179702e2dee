//! TLS towards servers as the fetches see it: what a server connection's handshake settled
//! (`ssl_bc_*`) and the certificate the server presented (`ssl_s_*`).

use super::TlsInfo;
use crate::sample::Value;
use rustls::ClientConnection;

/// What a finished handshake with a server settled. `server_cert` is the server's own
/// certificate; `sni` the name sent.
pub fn info((tcp, conn): (&super::tap::Tapped, &ClientConnection)) -> TlsInfo {
    let server_chain: Vec<_> = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
        .unwrap_or_default();
    TlsInfo {
        session_id: client_session_id(conn, tcp.seen_so_far()),
        session_key: super::tls12_master_key(tcp, conn),
        randoms: super::Randoms::of(tcp.seen_so_far()),
        server_cert: server_chain.first().cloned(),
        server_chain,
        ..TlsInfo::negotiated(conn)
    }
}

/// A server connection's session ID as OpenSSL has it on the client side: the SHA-256 of the
/// ticket when the server sent one (OpenSSL names a ticket's session so), else the
/// ServerHello's ID. A TLS 1.3 ticket travels encrypted and rustls keeps it: no ID then.
fn client_session_id(conn: &ClientConnection, seen: Option<&super::tap::Seen>) -> bytes::Bytes {
    let Some(seen) =
        seen.filter(|_| conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2))
    else {
        return bytes::Bytes::new();
    };
    if seen.ticket.is_empty() {
        return seen.session_id.clone().into();
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &seen.ticket);
    bytes::Bytes::copy_from_slice(digest.as_ref())
}

/// Evaluates a `ssl_bc*` or `ssl_s_*` fetch over the server connection's TLS (`None` when
/// the request went over clear TCP, or no server was connected yet). `None` when `name` is
/// not one of them.
pub fn fetch(name: &str, args: &[String], tls: Option<&TlsInfo>) -> Option<Vec<Value>> {
    let one = |v: Option<Value>| Some(v.into_iter().collect::<Vec<_>>());
    let text = |s: &str| (!s.is_empty()).then(|| Value::Str(s.to_string()));
    match name {
        "ssl_bc" => return one(Some(Value::Bool(tls.is_some()))),
        "ssl_bc_is_resumed" => return one(Some(Value::Bool(tls.is_some_and(|t| t.resumed)))),
        _ => {}
    }
    let Some(t) = tls else {
        return (name.starts_with("ssl_bc_") || name.starts_with("ssl_s_")).then(Vec::new);
    };
    match name {
        "ssl_bc_protocol" => one(text(t.version)),
        "ssl_bc_cipher" => one(text(t.cipher)),
        "ssl_bc_session_id" => one(t.session_id_sample()),
        "ssl_bc_session_key" => one(t.session_key_sample()),
        "ssl_bc_client_random" => one(t.random_sample(true)),
        "ssl_bc_server_random" => one(t.random_sample(false)),
        "ssl_bc_alpn" => one(t.alpn.as_deref().and_then(text)),
        "ssl_bc_use_keysize" | "ssl_bc_alg_keysize" => one(Some(Value::Int(t.cipher_bits))),
        // A connection that carries the request finished its handshake without error.
        "ssl_bc_err" => one(Some(Value::Int(0))),
        // No NPN is negotiated: no server line offers it (see the runtime's support lists).
        "ssl_bc_npn" => Some(Vec::new()),
        // OpenSSL's peer chain on the connecting side starts with the server's own.
        "ssl_s_chain_der" => one((!t.server_chain.is_empty()).then(|| {
            let der: Vec<u8> = t.server_chain.iter().flat_map(|c| c.to_vec()).collect();
            Value::Bin(der.into())
        })),
        _ => {
            let field = name.strip_prefix("ssl_s")?;
            let facts = t
                .server_cert
                .as_ref()
                .and_then(|c| super::x509::CertFacts::of(c.as_ref()));
            super::fetch::cert_field(field, args, facts.as_ref()).map(|v| v.into_iter().collect())
        }
    }
}
