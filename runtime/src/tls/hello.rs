//! The ClientHello as `tune.ssl.capture-buffer-size` keeps it (read off the wire by the
//! handshake watch, `tap`), and the fetches that read it: `ssl_fc_cipherlist_*`,
//! `ssl_fc_extlist_bin`, `ssl_fc_eclist_bin`, `ssl_fc_ecformats_bin` and
//! `ssl_fc_protocol_hello_id`.

use crate::sample::Value;

/// What `tune.ssl.capture-buffer-size` keeps of a ClientHello, as HAProxy fills its capture
/// buffer: the cipher suite IDs as they travel (big-endian pairs), then the extension IDs,
/// then the elliptic curves and their point formats, each cut to what is left of the buffer;
/// plus the hello's version and the hash of the whole cipher list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedHello {
    cipher_list: Vec<u8>,
    cipher_list_xxh64: u64,
    /// The version the client wrote in the hello (`0x0303` even for TLS 1.3).
    pub protocol_version: u16,
    extensions: Vec<u8>,
    curves: Vec<u8>,
    point_formats: Vec<u8>,
}

impl CapturedHello {
    /// Reads a ClientHello handshake message (its 4-byte header first) as HAProxy does:
    /// nothing is kept unless the hello reaches its cipher list; a list or an extension
    /// whose length runs past its end stops the reading there (the curves and point formats
    /// are then not kept), and so does a full buffer for the extension IDs.
    pub fn parse(message: &[u8], limit: usize) -> Option<CapturedHello> {
        if message.len() < 4 || message[0] != 1 {
            return None;
        }
        let len = (usize::from(message[1]) << 16) | (usize::from(message[2]) << 8);
        let len = len | usize::from(message[3]);
        let body = message.get(4..4 + len)?;
        let be16 = |at: usize| be16_at(body, at);
        let protocol_version = u16::try_from(be16(0)?).ok()?;
        let mut at = 2 + 32;
        at += 1 + usize::from(*body.get(at)?);
        let ciphers = be16(at)?;
        at += 2;
        let suites = body.get(at..at + ciphers)?;
        let mut captured = CapturedHello {
            cipher_list: suites[..ciphers.min(limit)].to_vec(),
            cipher_list_xxh64: xxhash_rust::xxh64::xxh64(suites, 0),
            protocol_version,
            ..CapturedHello::default()
        };
        at += ciphers;
        captured.read_extensions(body, at, limit);
        Some(captured)
    }

    /// The extension IDs, curves and point formats from `at` (the compression methods).
    fn read_extensions(&mut self, body: &[u8], mut at: usize, limit: usize) {
        let mut used = self.cipher_list.len();
        let be16 = |at: usize| be16_at(body, at);
        let Some(&methods) = body.get(at) else {
            return;
        };
        at += 1 + usize::from(methods);
        let Some(listed) = be16(at) else { return };
        at += 2;
        let end = at + listed;
        if end > body.len() {
            return;
        }
        let (mut curves, mut formats) = (None, None);
        while at + 4 < end {
            if limit < used + 2 {
                break;
            }
            self.extensions.extend_from_slice(&body[at..at + 2]);
            used += 2;
            let id = u16::from_be_bytes([body[at], body[at + 1]]);
            let mut skip = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
            at += 4;
            if at + skip > end {
                return;
            }
            // What follows a list shorter than its extension is read as the next extension,
            // as HAProxy reads it.
            let inner = match id {
                0x000a => be16(at).filter(|_| at + 2 <= at + skip).map(|n| (2, n)),
                0x000b => body
                    .get(at)
                    .filter(|_| skip >= 1)
                    .map(|&n| (1, usize::from(n))),
                _ => Some((0, skip)),
            };
            let Some((head, n)) = inner else { return };
            if id == 0x000a || id == 0x000b {
                if at + head + n > at + skip {
                    return;
                }
                at += head;
                skip = n;
                let list = Some(&body[at..at + n]);
                if id == 0x000a {
                    curves = list;
                } else {
                    formats = list;
                }
            }
            at += skip;
        }
        for (list, kept) in [
            (curves, &mut self.curves),
            (formats, &mut self.point_formats),
        ] {
            if let Some(list) = list {
                let n = list.len().min(limit.saturating_sub(used));
                kept.extend_from_slice(&list[..n]);
                used += n;
            }
        }
    }

    /// `ssl_fc_extlist_bin`: the extension IDs; a first argument of 1 leaves GREASE values out.
    pub(super) fn extensions(&self, args: &[String]) -> Value {
        Value::Bin(without_grease(&self.extensions, skips_grease(args)).into())
    }

    /// `ssl_fc_eclist_bin`: the elliptic curves (groups) offered.
    pub(super) fn curves(&self, args: &[String]) -> Value {
        Value::Bin(without_grease(&self.curves, skips_grease(args)).into())
    }

    /// `ssl_fc_ecformats_bin`: the point formats offered.
    pub(super) fn point_formats(&self) -> Value {
        Value::Bin(self.point_formats.clone().into())
    }

    /// `ssl_fc_cipherlist_bin|hex|str|xxh`; a first argument of 1 leaves GREASE values out.
    pub(super) fn cipher_list(&self, name: &str, args: &[String]) -> Value {
        let skip_grease = skips_grease(args);
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

/// The big-endian 16-bit number at `at` in `body`, if both its bytes are there.
/// Whether the client's first bytes are a ClientHello record whose version is below TLS 1.2
/// (a TLS 1.0 or 1.1 client: a TLS 1.3 one writes 1.2 there and names 1.3 in an
/// extension). OpenSSL refuses such a hello for its version before it looks at anything else.
pub fn below_tls12(first: &[u8]) -> bool {
    matches!(first, [22, _, _, _, _, 1, _, _, _, major, minor, ..]
        if u16::from_be_bytes([*major, *minor]) < 0x0303)
}

fn be16_at(body: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *body.get(at)?,
        *body.get(at.checked_add(1)?)?,
    ])))
}

/// Whether a fetch's first argument asks for GREASE values to be left out.
fn skips_grease(args: &[String]) -> bool {
    args.first().is_some_and(|a| a.trim() == "1")
}

/// A list of 16-bit IDs, GREASE values left out when `skip` (an odd last byte is dropped
/// then, as HAProxy copies whole pairs only).
fn without_grease(list: &[u8], skip: bool) -> Vec<u8> {
    if !skip {
        return list.to_vec();
    }
    list.chunks_exact(2)
        .filter(|p| !is_grease(u16::from_be_bytes([p[0], p[1]])))
        .flatten()
        .copied()
        .collect()
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

    /// A ClientHello message offering `suites`, then `extensions` (ID, content).
    fn hello(suites: &[u16], extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
        suites
            .iter()
            .for_each(|s| body.extend_from_slice(&s.to_be_bytes()));
        body.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        for (id, content) in extensions {
            exts.extend_from_slice(&id.to_be_bytes());
            exts.extend_from_slice(&(content.len() as u16).to_be_bytes());
            exts.extend_from_slice(content);
        }
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut msg = vec![1];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn the_cipher_list_is_kept_cut_and_named() {
        let suites = [0x1a1a_u16, 0x1301, 0xc02f, 0x00ff, 0x1234];
        let whole = CapturedHello::parse(&hello(&suites, &[]), 64).unwrap();
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
        let cut = CapturedHello::parse(&hello(&suites, &[]), 3).unwrap();
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

    #[test]
    fn extensions_curves_and_formats_share_the_buffer() {
        let exts = [
            (0x0a0a, vec![]),
            (0x000a, vec![0, 4, 0x2a, 0x2a, 0, 0x1d]),
            (0x000b, vec![1, 0]),
            (0x0017, vec![]),
        ];
        let msg = hello(&[0x1301], &exts);
        let h = CapturedHello::parse(&msg, 64).unwrap();
        assert_eq!(h.protocol_version, 0x0303);
        // The last extension, empty, is not reached: HAProxy wants more than its header.
        assert_eq!(
            h.extensions(&[]),
            Value::Bin(vec![0x0a, 0x0a, 0, 0x0a, 0, 0x0b].into())
        );
        assert_eq!(
            h.extensions(&["1".into()]),
            Value::Bin(vec![0, 0x0a, 0, 0x0b].into())
        );
        assert_eq!(h.curves(&[]), Value::Bin(vec![0x2a, 0x2a, 0, 0x1d].into()));
        assert_eq!(h.curves(&["1".into()]), Value::Bin(vec![0, 0x1d].into()));
        assert_eq!(h.point_formats(), Value::Bin(vec![0].into()));
        // A small buffer: the cipher (2 bytes), two extension IDs, then what is left.
        let small = CapturedHello::parse(&msg, 7).unwrap();
        assert_eq!(
            small.extensions(&[]),
            Value::Bin(vec![0x0a, 0x0a, 0, 0x0a].into())
        );
        assert_eq!(small.curves(&[]), Value::Bin(vec![0x2a].into()));
        // Nothing before the cipher list, and junk never panics.
        assert!(CapturedHello::parse(&msg[..40], 64).is_none());
        for cut in 0..msg.len() {
            let mut junk = msg.clone();
            junk[cut] = 0xff;
            let _ = CapturedHello::parse(&junk, 64);
        }
    }
}
