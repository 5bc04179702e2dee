//! Integer converters (`add`… `mod`, bitwise operators, `neg`, `cpl`, `odd`, `even`, `not`,
//! `bool`, `htonl`) and `ipmask`. Operands are integers or variables; results saturate at
//! the 64-bit limits as HAProxy's do.

use super::convert::{arg, pure, with_txn, Run};
use super::{is_var_name, leading_int, var, Unsupported, Value};
use hapee_compiler::expr::sample::Call;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An operand: a constant or a variable read at each use.
enum Operand {
    Const(i64),
    Var(String),
}

impl Operand {
    fn parse(c: &Call) -> Result<Operand, Unsupported> {
        let a = arg(c, 0).trim();
        if is_var_name(a) {
            return Ok(Operand::Var(a.to_string()));
        }
        let digits = a.strip_prefix(['-', '+']).unwrap_or(a);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Unsupported(format!(
                "converter '{}': expects an integer or a variable name",
                c.name
            )));
        }
        Ok(Operand::Const(leading_int(a.as_bytes()).unwrap_or(0)))
    }
}

/// The integer converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    let unary = |f: fn(i64) -> Value| pure(move |v| Some(f(v.as_int()?)));
    let binary = |f: fn(i64, i64) -> i64| -> Result<Run, Unsupported> {
        Ok(match Operand::parse(c)? {
            Operand::Const(b) => pure(move |v| Some(Value::Int(f(v.as_int()?, b)))),
            Operand::Var(name) => with_txn(move |v, txn| {
                let b = var(txn, &name)?.as_int()?;
                Some(Value::Int(f(v.as_int()?, b)))
            }),
        })
    };
    Ok(Some(match c.name.as_str() {
        "add" => binary(i64::saturating_add)?,
        "sub" => binary(sub)?,
        "mul" => binary(i64::saturating_mul)?,
        "div" => binary(|a, b| {
            if b == 0 {
                i64::MAX
            } else {
                a.checked_div(b).unwrap_or(i64::MAX)
            }
        })?,
        "mod" => binary(|a, b| a.checked_rem(b).unwrap_or(0))?,
        "and" => binary(|a, b| a & b)?,
        "or" => binary(|a, b| a | b)?,
        "xor" => binary(|a, b| a ^ b)?,
        "neg" => unary(|a| Value::Int(a.checked_neg().unwrap_or(i64::MAX))),
        "cpl" => unary(|a| Value::Int(!a)),
        "odd" => unary(|a| Value::Bool(a & 1 == 1)),
        "even" => unary(|a| Value::Bool(a & 1 == 0)),
        "not" => unary(|a| Value::Bool(a == 0)),
        "bool" => unary(|a| Value::Bool(a != 0)),
        "htonl" => unary(|a| Value::Bin(bytes::Bytes::copy_from_slice(&(a as u32).to_be_bytes()))),
        "ipmask" => {
            let v4 = mask4(arg(c, 0)).ok_or_else(|| {
                Unsupported(format!("ipmask: '{}' is not a valid IPv4 mask", arg(c, 0)))
            })?;
            let v6 = match arg(c, 1) {
                "" => None,
                m => Some(mask6(m).ok_or_else(|| {
                    Unsupported(format!("ipmask: '{m}' is not a valid IPv6 mask"))
                })?),
            };
            pure(move |v| {
                Some(Value::Ip(match v.as_ip()? {
                    IpAddr::V6(a) => match a.to_ipv4_mapped() {
                        Some(a4) => IpAddr::V4((u32::from(a4) & v4).into()),
                        None => IpAddr::V6((u128::from(a) & v6?).into()),
                    },
                    IpAddr::V4(a) => IpAddr::V4((u32::from(a) & v4).into()),
                }))
            })
        }
        _ => return Ok(None),
    }))
}

/// `sub`, with HAProxy's care for the most negative operand.
fn sub(a: i64, b: i64) -> i64 {
    if b == i64::MIN {
        let r = a.saturating_add(i64::MAX);
        return if r < i64::MAX { r + 1 } else { r };
    }
    a.saturating_add(-b)
}

/// An IPv4 mask: a prefix length or a dotted mask.
fn mask4(m: &str) -> Option<u32> {
    match m.parse::<u32>() {
        Ok(0) => Some(0),
        Ok(bits) if bits <= 32 => Some(u32::MAX << (32 - bits)),
        Ok(_) => None,
        Err(_) => m.parse::<Ipv4Addr>().ok().map(u32::from),
    }
}

/// An IPv6 mask: a prefix length or an address.
fn mask6(m: &str) -> Option<u128> {
    match m.parse::<u32>() {
        Ok(0) => Some(0),
        Ok(bits) if bits <= 128 => Some(u128::MAX << (128 - bits)),
        Ok(_) => None,
        Err(_) => m.parse::<Ipv6Addr>().ok().map(u128::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturating_arithmetic() {
        assert_eq!(sub(0, i64::MIN), i64::MAX);
        assert_eq!(sub(-1, i64::MIN), i64::MAX);
        assert_eq!(sub(-2, i64::MIN), i64::MAX - 1);
        assert_eq!(sub(5, 7), -2);
        assert_eq!(mask4("16"), Some(0xffff_0000));
        assert_eq!(mask4("255.255.255.0"), Some(0xffff_ff00));
        assert_eq!(mask6("64"), Some(u128::MAX << 64));
    }
}
