//! `send-proxy`, `send-proxy-v2`, `send-proxy-v2-ssl[-cn]` and `proxy-v2-options`: the PROXY
//! protocol header a server connection starts with, telling the server who the client is.

use crate::proto::proxy_protocol::{self as pp, tlv};
use crate::tls::x509::CertFacts;
use crate::tls::TlsInfo;
use crate::txn::Txn;
use std::net::SocketAddr;

/// What a server's connections start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendProxy {
    pub version: u8,
    pub ssl: bool,
    pub ssl_cn: bool,
    pub authority: bool,
    pub unique_id: bool,
    pub crc32c: bool,
    /// SSL sub-TLVs: the cipher, and the signature and key algorithms of the certificate the
    /// proxy presented to the client.
    pub ssl_cipher: bool,
    pub cert_sig: bool,
    pub cert_key: bool,
}

impl SendProxy {
    /// From a server's option words (`default-server` ones first); `None` when it sends none.
    pub fn from_options(options: &[String]) -> Option<SendProxy> {
        let mut s = SendProxy::default();
        let mut i = 0;
        while i < options.len() {
            match options[i].as_str() {
                "send-proxy" => s.version = s.version.max(1),
                "send-proxy-v2" => s.version = 2,
                "send-proxy-v2-ssl" => (s.version, s.ssl) = (2, true),
                "send-proxy-v2-ssl-cn" => (s.version, s.ssl, s.ssl_cn) = (2, true, true),
                "no-send-proxy" | "no-send-proxy-v2" => s.version = 0,
                "no-send-proxy-v2-ssl" | "no-send-proxy-v2-ssl-cn" => {
                    (s.ssl, s.ssl_cn) = (false, false)
                }
                "proxy-v2-options" => {
                    i += 1;
                    for o in options.get(i).map_or("", String::as_str).split(',') {
                        match o {
                            "ssl" => s.ssl = true,
                            "cert-cn" => s.ssl_cn = true,
                            "authority" => s.authority = true,
                            "unique-id" => s.unique_id = true,
                            "crc32c" => s.crc32c = true,
                            "ssl-cipher" => s.ssl_cipher = true,
                            "cert-sig" => s.cert_sig = true,
                            "cert-key" => s.cert_key = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (s.version > 0).then_some(s)
    }

    /// The header for the transaction's client, with the TLVs in HAProxy's order: CRC32C,
    /// ALPN (whenever the client negotiated one), authority, unique id, SSL.
    pub fn header(&self, txn: &Txn) -> Vec<u8> {
        if self.version == 1 {
            return pp::encode_v1(txn.client, txn.local);
        }
        let received = txn.proxy.as_deref();
        let tls = txn.tls.as_deref();
        let mut tlvs: Vec<(u8, Vec<u8>)> = Vec::new();
        if let Some(alpn) = tls.and_then(|t| t.alpn.as_deref()) {
            tlvs.push((tlv::ALPN, alpn.as_bytes().to_vec()));
        }
        if self.authority {
            // The authority a PROXY header brought, else the name the TLS client asked for.
            let authority = received
                .and_then(|h| h.tlv(tlv::AUTHORITY))
                .map(<[u8]>::to_vec)
                .or_else(|| tls.and_then(|t| t.sni.clone()).map(String::into_bytes));
            if let Some(a) = authority {
                tlvs.push((tlv::AUTHORITY, a));
            }
        }
        if self.unique_id {
            // Without `unique-id-format` the id is empty; HAProxy sends the TLV all the same.
            let id = crate::http::unique_id::of(txn).unwrap_or("");
            tlvs.push((tlv::UNIQUE_ID, id.as_bytes().to_vec()));
        }
        if self.ssl {
            tlvs.push((tlv::SSL, self.ssl_tlv(tls)));
        }
        let refs: Vec<(u8, &[u8])> = tlvs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        pp::encode_v2(txn.client, txn.local, &refs, self.crc32c)
    }

    /// The header of a health check's connection from `local` to `server`. A version 2 one
    /// says LOCAL (no addresses), as HAProxy sends it on connections it starts itself, unless
    /// `pp2-never-send-local` asks for a PROXY command naming the connection. Only the TLVs
    /// that need no client go in: the checksum, and an empty SSL one.
    pub fn check_header(
        &self,
        local: SocketAddr,
        server: SocketAddr,
        never_local: bool,
    ) -> Vec<u8> {
        if self.version == 1 {
            return pp::encode_v1(local, server);
        }
        let ssl = self.ssl.then(|| self.ssl_tlv(None));
        let tlvs: Vec<(u8, &[u8])> = ssl.iter().map(|v| (tlv::SSL, v.as_slice())).collect();
        let ends = never_local.then_some((local, server));
        pp::encode_v2_of(ends, &tlvs, self.crc32c)
    }

    /// `PP2_TYPE_SSL`'s value: the client flags (SSL 1, certificate on this connection 2,
    /// certificate in the session 4), the verify result, then the sub-TLVs (version, CN, key
    /// algorithm, signature algorithm, cipher) of a TLS client connection.
    fn ssl_tlv(&self, tls: Option<&TlsInfo>) -> Vec<u8> {
        let mut value = vec![0u8; 5];
        let Some(t) = tls else {
            return value;
        };
        value[0] |= 0x01;
        if !t.version.is_empty() {
            pp::push_tlv(&mut value, tlv::SSL_VERSION, t.version.as_bytes());
        }
        let peer = t.client_chain.first();
        if peer.is_some() {
            value[0] |= 0x04;
            if !t.resumed {
                value[0] |= 0x02;
            }
            value[1..5].copy_from_slice(&(t.verify.verify as u32).to_be_bytes());
        }
        if self.ssl_cn {
            let cn = peer
                .and_then(|c| CertFacts::of(c))
                .and_then(|f| CertFacts::dn(&f.subject, Some("CN"), 1))
                .filter(|cn| !cn.is_empty());
            if let Some(cn) = cn {
                pp::push_tlv(&mut value, tlv::SSL_CN, cn.as_bytes());
            }
        }
        let own = t.server_cert.as_ref();
        if self.cert_key {
            if let Some(alg) = own.and_then(|c| key_algorithm(c)) {
                pp::push_tlv(&mut value, tlv::SSL_KEY_ALG, alg.as_bytes());
            }
        }
        if self.cert_sig {
            if let Some(alg) = own.and_then(|c| signature_algorithm(c)) {
                pp::push_tlv(&mut value, tlv::SSL_SIG_ALG, alg.as_bytes());
            }
        }
        if self.ssl_cipher && !t.cipher.is_empty() {
            pp::push_tlv(&mut value, tlv::SSL_CIPHER, t.cipher.as_bytes());
        }
        value
    }
}

/// A certificate's key as OpenSSL-based HAProxy names it: `RSA2048`, `EC256`, `DSA1024`
/// (`None` for other kinds).
fn key_algorithm(der: &[u8]) -> Option<String> {
    use x509_parser::public_key::PublicKey;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let parsed = cert.public_key().parsed().ok()?;
    let kind = match parsed {
        PublicKey::RSA(_) => "RSA",
        PublicKey::EC(_) => "EC",
        PublicKey::DSA(_) => "DSA",
        _ => return None,
    };
    Some(format!("{kind}{}", parsed.key_size()))
}

/// A certificate's signature algorithm under its OpenSSL short name (`RSA-SHA256`,
/// `ecdsa-with-SHA256`), else its dotted OID.
fn signature_algorithm(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.4" => "RSA-MD5",
        "1.2.840.113549.1.1.5" => "RSA-SHA1",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "RSA-SHA256",
        "1.2.840.113549.1.1.12" => "RSA-SHA384",
        "1.2.840.113549.1.1.13" => "RSA-SHA512",
        "1.2.840.113549.1.1.14" => "RSA-SHA224",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return Some(oid),
    };
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(words: &str) -> Vec<String> {
        words.split(' ').map(String::from).collect()
    }

    #[test]
    fn options_pick_the_version_and_tlvs() {
        assert_eq!(SendProxy::from_options(&opts("check inter 2s")), None);
        let v1 = SendProxy::from_options(&opts("send-proxy")).unwrap();
        assert_eq!(v1.version, 1);
        let v2 = SendProxy::from_options(&opts("send-proxy-v2 proxy-v2-options authority,crc32c"))
            .unwrap();
        assert_eq!(
            (v2.version, v2.authority, v2.crc32c, v2.ssl),
            (2, true, true, false)
        );
        let ssl = SendProxy::from_options(&opts("send-proxy-v2-ssl-cn")).unwrap();
        assert!(ssl.ssl && ssl.ssl_cn);
        // A server line's `no-send-proxy` undoes the default-server's.
        assert_eq!(
            SendProxy::from_options(&opts("send-proxy no-send-proxy")),
            None
        );
    }
}
