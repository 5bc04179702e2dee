//! JSON and JWT converters: `json_query` (a JSON path into a JSON text), the JWT header and
//! payload queries, and `jwt_verify` (HMAC, RSA PKCS#1 v1.5 and ECDSA signatures).

use super::convert::{arg, pure, with_txn, Run};
use super::{is_var_name, var, Unsupported, Value};
use aws_lc_rs::{hmac, signature};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hapee_compiler::bytestr;
use hapee_compiler::expr::sample::Call;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest integer `json_query(…,"int")` gives (JSON's exactly representable range).
const JSON_INT_MAX: i64 = (1 << 53) - 1;

/// The JSON and JWT converters this module prepares.
pub fn compile(c: &Call) -> Result<Option<Run>, Unsupported> {
    Ok(Some(match c.name.as_str() {
        "json_query" => {
            let query = Query::parse(c, 0)?.ok_or_else(|| {
                Unsupported("json_query: json_path must not be empty".to_string())
            })?;
            pure(move |v| query.run(&v.as_bytes()))
        }
        "jwt_header_query" | "jwt_payload_query" => {
            let part = usize::from(c.name == "jwt_payload_query");
            let query = Query::parse(c, 0)?;
            pure(move |v| {
                let token = v.as_bytes();
                let encoded = token.split(|b| *b == b'.').nth(part)?;
                let decoded = URL_SAFE_NO_PAD.decode(encoded).ok()?;
                match &query {
                    Some(q) => q.run(&decoded),
                    None => Some(Value::Str(bytestr::from_bytes(&decoded).into_owned())),
                }
            })
        }
        "jwt_verify" => {
            let (alg, key) = (arg(c, 0).to_string(), arg(c, 1).to_string());
            if !is_var_name(&alg) && !ALGORITHMS.contains(&alg.as_str()) {
                return Err(Unsupported(format!(
                    "jwt_verify: unknown JWT algorithm: {alg}"
                )));
            }
            // Public keys named by a constant are read at start, as HAProxy loads them.
            let mut keys = HashMap::new();
            if !is_var_name(&alg) && !is_var_name(&key) && public_key_alg(&alg) {
                let der = load_public_key(&key)
                    .map_err(|e| Unsupported(format!("jwt_verify: key '{key}': {e}")))?;
                keys.insert(key.clone(), der);
            }
            let keys = Arc::new(keys);
            with_txn(move |v, txn| {
                let read = |a: &str| match is_var_name(a) {
                    true => var(txn, a).map(|v| v.as_text().into_owned()),
                    false => Some(a.to_string()),
                };
                let (alg, key) = (read(&alg)?, read(&key)?);
                Some(Value::Int(verify(&v.as_bytes(), &alg, &key, &keys)))
            })
        }
        _ => return Ok(None),
    }))
}

/// A JSON path (`$.a.b[2]`, `\.` escaping a dot in a name) and the output wanted.
struct Query {
    steps: Vec<Step>,
    as_int: bool,
}

enum Step {
    Key(String),
    Index(usize),
}

impl Query {
    fn parse(c: &Call, i: usize) -> Result<Option<Query>, Unsupported> {
        let path = arg(c, i);
        if path.is_empty() {
            return Ok(None);
        }
        let as_int = match arg(c, i + 1) {
            "" => false,
            "int" => true,
            _ => {
                return Err(Unsupported(format!(
                    "{}: output_type only supports \"int\" as argument",
                    c.name
                )))
            }
        };
        let bad = || Unsupported(format!("{}: invalid JSON path '{path}'", c.name));
        let rest = path.strip_prefix('$').ok_or_else(bad)?;
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '.' => {
                    let mut key = String::new();
                    while let Some(&n) = chars.peek() {
                        match n {
                            '\\' => {
                                chars.next();
                                key.extend(chars.next());
                            }
                            '.' | '[' => break,
                            _ => {
                                key.push(n);
                                chars.next();
                            }
                        }
                    }
                    steps.push(Step::Key(key));
                }
                '[' => {
                    let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                    steps.push(Step::Index(digits.trim().parse().map_err(|_| bad())?));
                }
                _ => return Err(bad()),
            }
        }
        Ok(Some(Query { steps, as_int }))
    }

    /// The value at the path: strings, numbers (as `%g` text, or integers with `int`) and
    /// booleans; nulls, arrays and objects give nothing.
    fn run(&self, text: &[u8]) -> Option<Value> {
        let doc: serde_json::Value = serde_json::from_slice(text).ok()?;
        let mut at = &doc;
        for step in &self.steps {
            at = match step {
                Step::Key(k) => at.as_object()?.get(k)?,
                Step::Index(i) => at.as_array()?.get(*i)?,
            };
        }
        match at {
            serde_json::Value::String(s) => Some(Value::Str(s.clone())),
            serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
            serde_json::Value::Number(n) if self.as_int => {
                let i = match n.as_i64() {
                    Some(i) => i,
                    None => n.as_f64()?.trunc() as i64,
                };
                (-JSON_INT_MAX..=JSON_INT_MAX)
                    .contains(&i)
                    .then_some(Value::Int(i))
            }
            serde_json::Value::Number(n) => Some(Value::Str(format_g(n.as_f64()?))),
            _ => None,
        }
    }
}

/// C's `%g`: six significant digits, trailing zeros dropped, exponent form outside
/// 1e-4..1e6.
fn format_g(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        trim(&format!("{x:.*}", (5 - exp) as usize))
    }
}

/// The JWS algorithms HAProxy knows (`PS*` known but not verified).
const ALGORITHMS: &[&str] = &[
    "none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "PS256", "PS384", "PS512",
];

/// Whether `alg` verifies with a public key file (RSA or ECDSA).
fn public_key_alg(alg: &str) -> bool {
    matches!(
        alg,
        "RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "ES512"
    )
}

/// The DER SubjectPublicKeyInfo of a PEM public key file.
fn load_public_key(path: &str) -> Result<Vec<u8>, String> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_file(path)
        .map(|k| k.as_ref().to_vec())
        .map_err(|e| e.to_string())
}

/// `jwt_verify`'s answer: 1 verified, 0 not, -1 unknown algorithm, -2 algorithm not
/// handled (PS*), -3 malformed token, -5 no such key loaded.
fn verify(token: &[u8], alg: &str, key: &str, keys: &HashMap<String, Vec<u8>>) -> i64 {
    if !ALGORITHMS.contains(&alg) {
        return -1;
    }
    let parts: Vec<&[u8]> = token.split(|b| *b == b'.').collect();
    if parts.len() > 3 || (parts.len() < 3 && !(alg == "none" && parts.len() == 2)) {
        return -3;
    }
    if alg == "none" {
        return i64::from(parts.get(2).is_none_or(|s| s.is_empty()));
    }
    if parts[2].is_empty() {
        return -3;
    }
    let Ok(sig) = URL_SAFE_NO_PAD.decode(parts[2]) else {
        return -3;
    };
    let signed = &token[..parts[0].len() + 1 + parts[1].len()];
    let hmac_alg = match alg {
        "HS256" => Some(hmac::HMAC_SHA256),
        "HS384" => Some(hmac::HMAC_SHA384),
        "HS512" => Some(hmac::HMAC_SHA512),
        _ => None,
    };
    if let Some(h) = hmac_alg {
        let k = hmac::Key::new(h, key.as_bytes());
        return i64::from(hmac::verify(&k, signed, &sig).is_ok());
    }
    let params: &'static dyn signature::VerificationAlgorithm = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "ES256" => &signature::ECDSA_P256_SHA256_FIXED,
        "ES384" => &signature::ECDSA_P384_SHA384_FIXED,
        "ES512" => &signature::ECDSA_P521_SHA512_FIXED,
        _ => return -2,
    };
    let Some(der) = keys.get(key) else {
        return -5;
    };
    let public = signature::UnparsedPublicKey::new(params, der);
    i64::from(public.verify(signed, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(path: &str, out: &str, json: &str) -> Option<Value> {
        let call = Call {
            name: "json_query".into(),
            args: vec![path.into(), out.into()],
            start: 0,
            end: 0,
        };
        Query::parse(&call, 0)
            .unwrap()
            .unwrap()
            .run(json.as_bytes())
    }

    #[test]
    fn json_paths() {
        let doc = r#"{"iss":"kubernetes","integer":4,"double":1.5e3,"t":true,"my.key":"x","a":[1,{"b":"c"}]}"#;
        assert_eq!(
            query("$.iss", "", doc),
            Some(Value::Str("kubernetes".into()))
        );
        assert_eq!(query("$.integer", "int", doc), Some(Value::Int(4)));
        assert_eq!(query("$.double", "", doc), Some(Value::Str("1500".into())));
        assert_eq!(query("$.t", "", doc), Some(Value::Bool(true)));
        assert_eq!(query("$.my\\.key", "", doc), Some(Value::Str("x".into())));
        assert_eq!(query("$.a[1].b", "", doc), Some(Value::Str("c".into())));
        assert_eq!(query("$.a", "", doc), None);
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(1234567.0), "1.23457e+06");
        assert_eq!(format_g(-2.5), "-2.5");
    }

    #[test]
    fn hmac_tokens_verify() {
        // RFC 7515 appendix A.1 style: HS256 over "header.payload" with key "secret".
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        let signed = format!("{header}.{payload}");
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, b"secret"),
            signed.as_bytes(),
        );
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        let keys = HashMap::new();
        assert_eq!(verify(token.as_bytes(), "HS256", "secret", &keys), 1);
        assert_eq!(verify(token.as_bytes(), "HS256", "wrong", &keys), 0);
        assert_eq!(verify(token.as_bytes(), "XX256", "secret", &keys), -1);
        assert_eq!(verify(token.as_bytes(), "PS256", "k", &keys), -2);
        assert_eq!(verify(b"a.b", "HS256", "secret", &keys), -3);
        assert_eq!(verify(token.as_bytes(), "RS256", "/no/key", &keys), -5);
        assert_eq!(
            verify(format!("{signed}.").as_bytes(), "none", "", &keys),
            1
        );
    }
}
