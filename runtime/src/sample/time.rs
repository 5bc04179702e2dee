//! Date converters: `http_date` (an HTTP date), `ltime` and `utime` (`strftime` formats in
//! local time and UTC), from a number of seconds (or ms, us) since the epoch.

use super::convert::{arg, int_arg, pure, Run};
use super::{Unsupported, Value};
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Local, Utc};
use hapee_compiler::expr::sample::Call;

/// Large dates are cut to 55 bits, as HAProxy does, so that they never turn negative.
const DATE_MASK: i64 = 0x007f_ffff_ffff_ffff;

/// The date converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    Ok(Some(match c.name.as_str() {
        "http_date" => {
            let offset = int_arg(c, 0, 0)?;
            let divisor = match arg(c, 1) {
                "" | "s" => 1,
                "ms" => 1_000,
                "us" => 1_000_000,
                u => {
                    return Err(Unsupported(format!(
                        "http_date: invalid unit '{u}' (expects s, ms or us)"
                    )))
                }
            };
            pure(move |v| {
                let n = v.as_int()?.saturating_add(offset);
                let (secs, frac) = (n / divisor, n % divisor);
                let date = DateTime::<Utc>::from_timestamp(secs & DATE_MASK, 0)?;
                let mut text = date.format("%a, %d %b %Y %H:%M:%S").to_string();
                if divisor > 1 {
                    text.push_str(&format!(".{frac}"));
                }
                text.push_str(" GMT");
                Some(Value::Str(text))
            })
        }
        "ltime" | "utime" => {
            let format = arg(c, 0).to_string();
            if StrftimeItems::new(&format).any(|i| matches!(i, Item::Error)) {
                return Err(Unsupported(format!(
                    "{}: format '{format}' is not supported",
                    c.name
                )));
            }
            let offset = int_arg(c, 1, 0)?;
            let local = c.name == "ltime";
            pure(move |v| {
                let secs = (v.as_int()? & DATE_MASK).saturating_add(offset);
                let date = DateTime::<Utc>::from_timestamp(secs, 0)?;
                let text = if local {
                    date.with_timezone(&Local).format(&format).to_string()
                } else {
                    date.format(&format).to_string()
                };
                Some(Value::Str(text))
            })
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: &[&str], v: i64) -> Option<Value> {
        let call = Call {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            start: 0,
            end: 0,
        };
        compile(&call).unwrap().unwrap()(Value::Int(v), None)
    }

    #[test]
    fn dates() {
        assert_eq!(
            run("http_date", &[], 784111777),
            Some(Value::Str("Sun, 06 Nov 1994 08:49:37 GMT".into()))
        );
        assert_eq!(
            run("http_date", &["0", "ms"], 784111777123),
            Some(Value::Str("Sun, 06 Nov 1994 08:49:37.123 GMT".into()))
        );
        assert_eq!(
            run("utime", &["%Y-%m-%d %H:%M:%S", "3600"], 0),
            Some(Value::Str("1970-01-01 01:00:00".into()))
        );
    }
}
