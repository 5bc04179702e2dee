//! The TLS sample fetches: `ssl_fc*` (the client connection), `ssl_c_*` (the client's
//! certificate) and `ssl_f_*` (the certificate the proxy presented). Over a clear connection
//! they give no sample, as in HAProxy, except the booleans, which are false.

use super::x509::CertFacts;
use super::TlsInfo;
use crate::sample::Value;

/// Evaluates `name(args)`; `None` when it is not a TLS fetch.
pub fn fetch(name: &str, args: &[String], tls: Option<&TlsInfo>) -> Option<Vec<Value>> {
    let one = |v: Option<Value>| Some(v.into_iter().collect::<Vec<_>>());
    let boolean = |f: &dyn Fn(&TlsInfo) -> bool| one(Some(Value::Bool(tls.is_some_and(f))));
    match name {
        "ssl_fc" => return boolean(&|_| true),
        "ssl_fc_is_resumed" => return boolean(&|t| t.resumed),
        "ssl_fc_has_sni" => return boolean(&|t| t.sni.is_some()),
        "ssl_fc_has_crt" | "ssl_c_used" => return boolean(&|t| !t.client_chain.is_empty()),
        _ => {}
    }
    let text = |s: &str| (!s.is_empty()).then(|| Value::Str(s.to_string()));
    let Some(t) = tls else {
        return is_tls_fetch(name).then(Vec::new);
    };
    match name {
        "ssl_fc_sni" => one(t.sni.as_deref().and_then(text)),
        "ssl_fc_protocol" => one(text(t.version)),
        "ssl_fc_cipher" => one(text(t.cipher)),
        "ssl_fc_session_id" => one(t.session_id_sample()),
        "ssl_fc_session_key" => one(t.session_key_sample()),
        "ssl_fc_client_random" => one(t.random_sample(true)),
        "ssl_fc_server_random" => one(t.random_sample(false)),
        "ssl_fc_client_early_traffic_secret"
        | "ssl_fc_client_handshake_traffic_secret"
        | "ssl_fc_server_handshake_traffic_secret"
        | "ssl_fc_client_traffic_secret_0"
        | "ssl_fc_server_traffic_secret_0"
        | "ssl_fc_exporter_secret"
        | "ssl_fc_early_exporter_secret" => one(t.keylog_sample(name)),
        // True while the request came in early data and the handshake is not over yet; but
        // requests are only read once it is (see `tls::ServerTls`).
        "ssl_fc_has_early" => one(Some(Value::Bool(false))),
        "ssl_fc_alpn" => one(t.alpn.as_deref().and_then(text)),
        "ssl_fc_use_keysize" | "ssl_fc_alg_keysize" => one(Some(Value::Int(t.cipher_bits))),
        // A connection that exists finished its handshake without error.
        "ssl_fc_err" => one(Some(Value::Int(0))),
        "ssl_c_verify" => one(Some(Value::Int(i64::from(t.verify.verify)))),
        "ssl_c_err" => one(Some(Value::Int(i64::from(t.verify.crt_err)))),
        "ssl_c_ca_err" => one(Some(Value::Int(i64::from(t.verify.ca_err)))),
        "ssl_c_chain_der" => one(chain_der(&t.client_chain)),
        "ssl_fc_cipherlist_bin"
        | "ssl_fc_cipherlist_hex"
        | "ssl_fc_cipherlist_str"
        | "ssl_fc_cipherlist_xxh" => one(t.hello.as_ref().map(|h| h.cipher_list(name, args))),
        _ => {
            let (prefix, field) = name.split_at(name.find('_').map_or(0, |i| i + 2));
            let der = match prefix {
                "ssl_c" => t.client_chain.first().map(|c| c.as_ref()),
                "ssl_f" => t.server_cert.as_ref().map(|c| c.as_ref()),
                _ => return None,
            };
            let facts = der.and_then(CertFacts::of);
            cert_field(field, args, facts.as_ref()).map(|v| v.into_iter().collect())
        }
    }
}

/// Whether the fetch reads the TLS layer (so a clear connection gives no sample).
pub fn is_tls_fetch(name: &str) -> bool {
    name.starts_with("ssl_fc") || name.starts_with("ssl_c_") || name.starts_with("ssl_f_")
}

/// `_s_dn`, `_serial`… of a certificate; `None` when no such field exists.
pub(super) fn cert_field(
    field: &str,
    args: &[String],
    c: Option<&CertFacts>,
) -> Option<Option<Value>> {
    let known = [
        "_s_dn",
        "_i_dn",
        "_serial",
        "_der",
        "_notbefore",
        "_notafter",
        "_version",
        "_sig_alg",
        "_key_alg",
        "_sha1",
    ];
    if !known.contains(&field) {
        return None;
    }
    let Some(c) = c else {
        return Some(None);
    };
    let entry = args.first().map(String::as_str);
    // The first occurrence unless told otherwise, as HAProxy reads `(<entry>[,<occ>])`.
    let pos = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(1);
    Some(match field {
        "_s_dn" => CertFacts::dn(&c.subject, entry, pos).map(Value::Str),
        "_i_dn" => CertFacts::dn(&c.issuer, entry, pos).map(Value::Str),
        "_serial" => Some(Value::Bin(c.serial.clone().into())),
        "_der" => Some(Value::Bin(c.der.clone().into())),
        "_notbefore" => c.not_before.clone().map(Value::Str),
        "_notafter" => c.not_after.clone().map(Value::Str),
        "_version" => Some(Value::Int(c.version)),
        "_sig_alg" => Some(Value::Str(c.sig_alg.clone())),
        "_sha1" => Some(Value::Bin(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &c.der)
                .as_ref()
                .to_vec()
                .into(),
        )),
        _ => Some(Value::Str(c.key_alg.clone())),
    })
}

/// `ssl_c_chain_der`: the certificates the client sent above its own, DER after DER (OpenSSL's
/// peer chain on the accepting side leaves the client's own certificate out).
fn chain_der(chain: &[rustls_pki_types::CertificateDer<'static>]) -> Option<Value> {
    let above = chain.get(1..).filter(|c| !c.is_empty())?;
    let bytes: Vec<u8> = above.iter().flat_map(|c| c.as_ref().to_vec()).collect();
    Some(Value::Bin(bytes.into()))
}

/// What `tune.ssl.capture-buffer-size` keeps of a ClientHello: its cipher suite IDs as they
/// travel (big-endian pairs), cut to the buffer size, and the hash of the whole list.
#[derive(Debug, Clone, Default)]
pub struct CapturedHello {
    cipher_list: Vec<u8>,
    cipher_list_xxh64: u64,
}

impl CapturedHello {
    pub fn of(suites: &[rustls::CipherSuite], limit: usize) -> CapturedHello {
        let mut list: Vec<u8> = suites
            .iter()
            .flat_map(|s| u16::from(*s).to_be_bytes())
            .collect();
        let cipher_list_xxh64 = xxhash_rust::xxh64::xxh64(&list, 0);
        list.truncate(limit);
        CapturedHello {
            cipher_list: list,
            cipher_list_xxh64,
        }
    }

    /// `ssl_fc_cipherlist_bin|hex|str|xxh`; a first argument of 1 leaves GREASE values out.
    fn cipher_list(&self, name: &str, args: &[String]) -> Value {
        let skip_grease = args.first().is_some_and(|a| a.trim() == "1");
        let ids: Vec<u16> = self
            .cipher_list
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .filter(|id| !(skip_grease && is_grease(*id)))
            .collect();
        let bytes = || -> Vec<u8> { ids.iter().flat_map(|id| id.to_be_bytes()).collect() };
        match name {
            "ssl_fc_cipherlist_xxh" => Value::Int(self.cipher_list_xxh64 as i64),
            "ssl_fc_cipherlist_hex" => {
                Value::Str(bytes().iter().map(|b| format!("{b:02X}")).collect())
            }
            "ssl_fc_cipherlist_str" => Value::Str(
                ids.iter()
                    .map(|id| match openssl_suite_name(*id) {
                        Some(n) => n.to_string(),
                        None => format!("UNKNOWN({id:04x})"),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => Value::Bin(bytes().into()),
        }
    }
}

/// RFC 8701's reserved values (`0x?a?a` with both bytes equal), which clients send to keep
/// servers tolerant of unknown ones.
fn is_grease(id: u16) -> bool {
    let [hi, lo] = id.to_be_bytes();
    hi == lo && hi & 0x0f == 0x0a
}

/// OpenSSL's names of the suites clients commonly offer, by IANA ID (OpenSSL names the
/// signalling values too).
fn openssl_suite_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        0xc02b => "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xc02c => "ECDHE-ECDSA-AES256-GCM-SHA384",
        0xc02f => "ECDHE-RSA-AES128-GCM-SHA256",
        0xc030 => "ECDHE-RSA-AES256-GCM-SHA384",
        0xcca8 => "ECDHE-RSA-CHACHA20-POLY1305",
        0xcca9 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        0xccaa => "DHE-RSA-CHACHA20-POLY1305",
        0x009e => "DHE-RSA-AES128-GCM-SHA256",
        0x009f => "DHE-RSA-AES256-GCM-SHA384",
        0xc023 => "ECDHE-ECDSA-AES128-SHA256",
        0xc024 => "ECDHE-ECDSA-AES256-SHA384",
        0xc027 => "ECDHE-RSA-AES128-SHA256",
        0xc028 => "ECDHE-RSA-AES256-SHA384",
        0xc009 => "ECDHE-ECDSA-AES128-SHA",
        0xc00a => "ECDHE-ECDSA-AES256-SHA",
        0xc013 => "ECDHE-RSA-AES128-SHA",
        0xc014 => "ECDHE-RSA-AES256-SHA",
        0x0067 => "DHE-RSA-AES128-SHA256",
        0x006b => "DHE-RSA-AES256-SHA256",
        0x0033 => "DHE-RSA-AES128-SHA",
        0x0039 => "DHE-RSA-AES256-SHA",
        0x009c => "AES128-GCM-SHA256",
        0x009d => "AES256-GCM-SHA384",
        0x003c => "AES128-SHA256",
        0x003d => "AES256-SHA256",
        0x002f => "AES128-SHA",
        0x0035 => "AES256-SHA",
        0x000a => "DES-CBC3-SHA",
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        0x5600 => "TLS_FALLBACK_SCSV",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cipher_list_is_kept_cut_and_named() {
        let suites: Vec<rustls::CipherSuite> = [0x1a1a_u16, 0x1301, 0xc02f, 0x00ff, 0x1234]
            .into_iter()
            .map(rustls::CipherSuite::from)
            .collect();
        let whole = CapturedHello::of(&suites, 64);
        let filtered = ["1".to_string()];
        assert_eq!(
            whole.cipher_list("ssl_fc_cipherlist_hex", &[]),
            Value::Str("1A1A1301C02F00FF1234".into())
        );
        assert_eq!(
            whole.cipher_list("ssl_fc_cipherlist_str", &filtered),
            Value::Str(
                "TLS_AES_128_GCM_SHA256,ECDHE-RSA-AES128-GCM-SHA256,\
                 TLS_EMPTY_RENEGOTIATION_INFO_SCSV,UNKNOWN(1234)"
                    .into()
            )
        );
        let cut = CapturedHello::of(&suites, 3);
        assert_eq!(
            cut.cipher_list("ssl_fc_cipherlist_bin", &[]),
            Value::Bin(vec![0x1a, 0x1a].into())
        );
        // The hash covers the whole list, whatever the buffer kept.
        assert_eq!(
            cut.cipher_list("ssl_fc_cipherlist_xxh", &[]),
            whole.cipher_list("ssl_fc_cipherlist_xxh", &[])
        );
    }
}
