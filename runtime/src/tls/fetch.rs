//! The TLS sample fetches: `ssl_fc*` (the client connection), `ssl_c_*` (the client's
//! certificate) and `ssl_f_*` (the certificate the proxy presented). Over a clear connection
//! they give no sample, as in HAProxy, except `ssl_fc`, `ssl_fc_is_resumed` and
//! `ssl_fc_has_sni`, which are false (`ssl_c_used` and `ssl_fc_has_crt` give none: a log
//! prints `-` for them).

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
        _ => {}
    }
    let text = |s: &str| (!s.is_empty()).then(|| Value::Str(s.to_string()));
    let Some(t) = tls else {
        return is_tls_fetch(name).then(Vec::new);
    };
    match name {
        "ssl_fc_has_crt" | "ssl_c_used" => one(Some(Value::Bool(!t.client_chain.is_empty()))),
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
        "ssl_fc_extlist_bin" => one(t.hello.as_ref().map(|h| h.extensions(args))),
        "ssl_fc_eclist_bin" => one(t.hello.as_ref().map(|h| h.curves(args))),
        "ssl_fc_ecformats_bin" => one(t.hello.as_ref().map(|h| h.point_formats())),
        "ssl_fc_protocol_hello_id" => one(t
            .hello
            .as_ref()
            .map(|h| Value::Int(i64::from(h.protocol_version)))),
        "ssl_c_ca_err_depth" => one(Some(Value::Int(i64::from(t.verify.ca_err_depth)))),
        // No NPN is negotiated: no bind line offers it (see the runtime's support lists).
        "ssl_fc_npn" => Some(Vec::new()),
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
