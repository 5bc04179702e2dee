//! Table keys: a sample converted to the table's key type, kept as the bytes HAProxy keys on
//! (IPv4/IPv6 in network order, integers as 32 bits, strings cut to the key size, binary
//! padded with zeros to it), so lookups and the peers' wire form agree.

use crate::sample::Value;
use hapee_compiler::plan::tables::KeyType;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Key bytes; integers are big-endian.
pub type Key = Box<[u8]>;

/// The key of `value` in a table of type `key` and key size `size`; `None` when the sample
/// does not convert (text that is not an address for an `ip` table).
pub fn from_value(value: &Value, key: KeyType, size: usize) -> Option<Key> {
    Some(match key {
        KeyType::Ip => match value.as_ip()? {
            IpAddr::V4(a) => a.octets().into(),
            IpAddr::V6(a) => a.to_ipv4_mapped()?.octets().into(),
        },
        KeyType::Ipv6 => match value.as_ip()? {
            IpAddr::V4(a) => a.to_ipv6_mapped().octets().into(),
            IpAddr::V6(a) => a.octets().into(),
        },
        KeyType::Integer => (value.as_int()? as u32).to_be_bytes().into(),
        KeyType::String => {
            let text = value.as_text();
            let b = text.as_bytes();
            b[..b.len().min(size.saturating_sub(1))].into()
        }
        KeyType::Binary => {
            let text = value.as_text();
            let mut v = text.as_bytes().to_vec();
            v.resize(size, 0);
            v.into()
        }
    })
}

/// The key as `show table` prints it after `key=`.
pub fn render(key: &[u8], kind: KeyType, out: &mut String) {
    use std::fmt::Write;
    match kind {
        KeyType::Ip if key.len() == 4 => {
            let _ = write!(out, "{}", Ipv4Addr::new(key[0], key[1], key[2], key[3]));
        }
        KeyType::Ipv6 if key.len() == 16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(key);
            let _ = write!(out, "{}", Ipv6Addr::from(b));
        }
        KeyType::Integer if key.len() == 4 => {
            let _ = write!(
                out,
                "{}",
                u32::from_be_bytes([key[0], key[1], key[2], key[3]])
            );
        }
        KeyType::String => {
            for &c in key.iter().take_while(|c| **c != 0) {
                match c {
                    b'\t' => out.push_str("\\t"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    0x1b => out.push_str("\\e"),
                    b'\\' | b' ' | b'=' => {
                        out.push('\\');
                        out.push(c as char);
                    }
                    c if c.is_ascii_graphic() => out.push(c as char),
                    c => {
                        let _ = write!(out, "\\x{c:02X}");
                    }
                }
            }
        }
        _ => {
            for c in key {
                let _ = write!(out, "{c:02X}");
            }
        }
    }
}

/// A key typed on the Runtime API (`show table t key 10.0.0.1`), as the table keys it.
pub fn parse(text: &str, kind: KeyType, size: usize) -> Option<Key> {
    let value = match kind {
        KeyType::Ip | KeyType::Ipv6 => Value::Ip(text.parse().ok()?),
        KeyType::Integer => Value::Int(text.parse().ok()?),
        _ => Value::Str(text.to_string()),
    };
    from_value(&value, kind, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(key: &[u8], kind: KeyType) -> String {
        let mut s = String::new();
        render(key, kind, &mut s);
        s
    }

    #[test]
    fn keys_convert_and_render_as_haproxy_prints_them() {
        let ip = from_value(&Value::Ip("10.0.0.1".parse().unwrap()), KeyType::Ip, 4).unwrap();
        assert_eq!(&*ip, &[10, 0, 0, 1]);
        assert_eq!(show(&ip, KeyType::Ip), "10.0.0.1");
        let v6 = from_value(&Value::Str("10.0.0.1".into()), KeyType::Ipv6, 16).unwrap();
        assert_eq!(show(&v6, KeyType::Ipv6), "::ffff:10.0.0.1");
        let i = from_value(&Value::Str("258".into()), KeyType::Integer, 4).unwrap();
        assert_eq!(
            (&*i, show(&i, KeyType::Integer)),
            (&[0, 0, 1, 2][..], "258".into())
        );
        let s = from_value(&Value::Str("a b=c\tdé".into()), KeyType::String, 33).unwrap();
        assert_eq!(show(&s, KeyType::String), "a\\ b\\=c\\td\\xC3\\xA9");
        let cut = from_value(&Value::Str("abcdef".into()), KeyType::String, 4).unwrap();
        assert_eq!(&*cut, b"abc");
        let b = from_value(&Value::Str("AB".into()), KeyType::Binary, 4).unwrap();
        assert_eq!(show(&b, KeyType::Binary), "41420000");
        assert!(from_value(&Value::Str("x".into()), KeyType::Ip, 4).is_none());
    }
}
