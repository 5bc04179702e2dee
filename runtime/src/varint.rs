//! HAProxy's variable-length integers, which the peers protocol and SPOP both write: a value
//! below 240 is one byte; a larger one starts with its low 4 bits and 0xF0 set, then follow
//! 7-bit groups, every byte but the last with its high bit set.

use bytes::BufMut;

/// Appends `value` in HAProxy's varint form.
pub fn put_varint(out: &mut impl BufMut, value: u64) {
    if value < 240 {
        out.put_u8(value as u8);
        return;
    }
    out.put_u8(value as u8 | 0xF0);
    let mut rest = (value - 240) >> 4;
    while rest >= 128 {
        out.put_u8(rest as u8 | 0x80);
        rest = (rest - 128) >> 7;
    }
    out.put_u8(rest as u8);
}

/// Takes one varint off the front of `data`; `None` when it is cut short or does not fit in
/// 64 bits.
pub fn get_varint(data: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = data.split_first()?;
    *data = rest;
    let mut value = u64::from(first);
    if first < 240 {
        return Some(value);
    }
    let mut shift = 4u32;
    loop {
        let (&b, rest) = data.split_first()?;
        *data = rest;
        value = value.checked_add(u64::from(b).checked_shl(shift)?)?;
        shift += 7;
        if b < 128 {
            return Some(value);
        }
        if shift > 63 {
            return None;
        }
    }
}
