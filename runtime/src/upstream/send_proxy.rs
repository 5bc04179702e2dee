//! `send-proxy`, `send-proxy-v2`, `send-proxy-v2-ssl[-cn]` and `proxy-v2-options`: the PROXY
//! protocol header a server connection starts with, telling the server who the client is.

use crate::proto::proxy_protocol::{self as pp, tlv};
use crate::txn::Txn;

/// What a server's connections start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendProxy {
    pub version: u8,
    pub ssl: bool,
    pub ssl_cn: bool,
    pub authority: bool,
    pub unique_id: bool,
    pub crc32c: bool,
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
                            // ssl-cipher, cert-sig, cert-key: SSL sub-TLVs, filled once the
                            // client side has TLS.
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

    /// The header for the transaction's client, in the order HAProxy writes the TLVs.
    pub fn header(&self, txn: &Txn) -> Vec<u8> {
        if self.version == 1 {
            return pp::encode_v1(txn.client, txn.local);
        }
        let received = txn.proxy.as_deref();
        let mut tlvs: Vec<(u8, Vec<u8>)> = Vec::new();
        if self.authority {
            if let Some(a) = received.and_then(|h| h.tlv(tlv::AUTHORITY)) {
                tlvs.push((tlv::AUTHORITY, a.to_vec()));
            }
        }
        if self.unique_id {
            // Without `unique-id-format` the id is empty; HAProxy sends the TLV all the same.
            let id = crate::http::unique_id::of(txn).unwrap_or("");
            tlvs.push((tlv::UNIQUE_ID, id.as_bytes().to_vec()));
        }
        if self.ssl {
            // Client flags, then the verify result: a plain client connection has neither
            // SSL nor a certificate. The sub-TLVs (version, CN) come with TLS on the client side.
            tlvs.push((tlv::SSL, vec![0, 0, 0, 0, 0]));
        }
        let refs: Vec<(u8, &[u8])> = tlvs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        pp::encode_v2(txn.client, txn.local, &refs, self.crc32c)
    }
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
