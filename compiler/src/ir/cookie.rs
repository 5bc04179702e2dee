//! The words of a proxy's `cookie <name> [options]` line, checked as HAProxy reads them while
//! parsing: the first malformed option stops the line, and once every option is read the three
//! mode rules are checked (rewrite or indirect; one of rewrite, insert and prefix; preserve only
//! with insert or indirect).

use super::build::{Builder, Stmt};
use super::values::{parse_time, TimeError, TimeUnit};
use crate::diagnostic::{Diagnostic, HaproxyForm};

const CODE: &str = "E298";

fn refuse(b: &mut Builder, stmt: &Stmt, at: usize, form: HaproxyForm, message: String) {
    b.push(
        Diagnostic::new(CODE, message)
            .at(stmt.span(at))
            .label("refused by HAProxy")
            .form(form),
    );
}

/// `maxidle`/`maxlife <time>`: seconds by default; whatever cannot be read is refused.
fn lifetime(b: &mut Builder, stmt: &Stmt, at: usize) -> bool {
    let (word, value) = (stmt.word(at), stmt.word(at + 1));
    let tight = HaproxyForm::ParsingTight;
    if value.is_empty() {
        let message = format!("'{word}' expects <{}> in seconds as argument.", {
            if word == "maxidle" {
                "idletime"
            } else {
                "lifetime"
            }
        });
        refuse(b, stmt, at, tight, message);
        return false;
    }
    let message = match parse_time(value, TimeUnit::S) {
        Ok(d) => {
            if let Some(junk) = d.trailing_junk {
                super::timeouts::warn_time_junk(b, stmt, at + 1, junk);
            }
            return true;
        }
        Err(TimeError::Overflow) => format!("timer overflow in argument <{value}> to <{word}>, maximum value is 2147483647 s (~68 years)."),
        Err(TimeError::Underflow) => format!("timer underflow in argument <{value}> to <{word}>, minimum non-null value is 1 s."),
        Err(TimeError::Char(i)) => {
            let c = value[i..].chars().next().unwrap_or(' ');
            format!("unexpected character '{c}' in argument to <{word}>.")
        }
    };
    refuse(b, stmt, at + 1, tight, message);
    false
}

/// Checks a `cookie` line of a proxy or defaults section.
pub(super) fn cookie(b: &mut Builder, stmt: &Stmt) {
    let parsing = HaproxyForm::Parsing;
    let tight = HaproxyForm::ParsingTight;
    if stmt.word(1).is_empty() {
        let message = "'cookie' expects <cookie_name> as argument.".to_string();
        return refuse(b, stmt, 0, parsing, message);
    }
    let (mut rewrite, mut insert, mut prefix) = (false, false, false);
    let (mut indirect, mut preserve) = (false, false);
    let mut i = 2;
    while i < stmt.len() {
        let word = stmt.word(i);
        match word {
            "rewrite" => rewrite = true,
            "indirect" => indirect = true,
            "insert" => insert = true,
            "prefix" => prefix = true,
            "preserve" => preserve = true,
            "nocache" | "postonly" | "httponly" | "secure" | "dynamic" => {}
            "domain" => {
                let domain = stmt.word(i + 1);
                if domain.is_empty() {
                    let message = "'domain' expects <domain> as argument.".to_string();
                    return refuse(b, stmt, i, tight, message);
                }
                if !domain.contains('.') {
                    // RFC 6265 5.2.3: browsers may refuse a domain without an embedded dot.
                    b.push(
                        Diagnostic::new(
                            "W537",
                            format!("domain '{domain}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."),
                        )
                        .severity(crate::diagnostic::Severity::Warning)
                        .at(stmt.span(i + 1))
                        .label("a cookie domain without a dot")
                        .form(tight),
                    );
                }
                let bad = domain
                    .chars()
                    .find(|c| !c.is_ascii_alphanumeric() && !matches!(c, '.' | '_' | '-'));
                if let Some(c) = bad {
                    let message =
                        format!("character '{c}' is not permitted in domain name '{domain}'.");
                    return refuse(b, stmt, i + 1, tight, message);
                }
                i += 1;
            }
            "maxidle" | "maxlife" => {
                if !lifetime(b, stmt, i) {
                    return;
                }
                i += 1;
            }
            "attr" => {
                let value = stmt.word(i + 1);
                if value.is_empty() {
                    let message = "'attr' expects <value> as argument.".to_string();
                    return refuse(b, stmt, i, tight, message);
                }
                if let Some(c) = value.bytes().find(|c| c.is_ascii_control() || *c == b';') {
                    let message =
                        format!("character '%x{c:02X}' is not permitted in attribute value.");
                    return refuse(b, stmt, i + 1, tight, message);
                }
                i += 1;
            }
            _ => {
                let message = "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.".to_string();
                return refuse(b, stmt, i, parsing, message);
            }
        }
        i += 1;
    }
    if rewrite && indirect {
        let message = "cookie 'rewrite' and 'indirect' modes are incompatible.".to_string();
        refuse(b, stmt, 0, parsing, message);
    }
    if [rewrite, insert, prefix].iter().filter(|m| **m).count() > 1 {
        let message = "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.".to_string();
        refuse(b, stmt, 0, parsing, message);
    }
    if preserve && !insert && !indirect {
        let message = "cookie 'preserve' requires at least 'insert' or 'indirect'.".to_string();
        refuse(b, stmt, 0, parsing, message);
    }
}
