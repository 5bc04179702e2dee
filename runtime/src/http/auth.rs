//! HTTP Basic authentication against `userlist` sections: the `http_auth(<userlist>)` and
//! `http_auth_group(<userlist>)` fetches, and the reply of `http-request auth`.

use crate::logfmt::Format;
use crate::rules::{Reply, ReplyBody};
use crate::sample::{Unsupported, Value};
use crate::txn::Txn;
use hapee_compiler::plan::userlists::UserlistPlan;
use std::collections::HashMap;
use std::sync::Arc;

/// The users of each userlist, by name.
pub type Userlists = HashMap<String, HashMap<String, User>>;

#[derive(Debug, Clone)]
pub struct User {
    password: String,
    hashed: bool,
    groups: Vec<String>,
}

pub fn load(plans: &[UserlistPlan]) -> Userlists {
    plans
        .iter()
        .map(|l| {
            let users = l
                .users
                .iter()
                .map(|u| {
                    let user = User {
                        password: u.password.clone(),
                        hashed: u.hashed,
                        groups: u.groups.clone(),
                    };
                    (u.name.clone(), user)
                })
                .collect();
            (l.name.clone(), users)
        })
        .collect()
}

/// The field a request's credentials come in: `Proxy-Authorization` for a proxied request
/// under `option http-use-proxy-header`, else `Authorization`.
pub fn field(txn: &Txn) -> hyper::header::HeaderName {
    if txn.proxy_auth {
        hyper::header::PROXY_AUTHORIZATION
    } else {
        hyper::header::AUTHORIZATION
    }
}

/// The user and password of the request's `Authorization: Basic` header.
fn credentials(txn: &Txn) -> Option<(String, String)> {
    let header = txn
        .request
        .as_ref()?
        .headers
        .get(field(txn))?
        .to_str()
        .ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = crate::sample::base64_decode(encoded.trim())?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The user of `userlist` the request authenticates as, if its credentials are valid.
fn authenticated<'a>(txn: &'a Txn, userlist: &str) -> Option<(String, &'a User)> {
    let (name, password) = credentials(txn)?;
    let user = txn.shared.userlists.get(userlist)?.get(&name)?;
    let valid = if user.hashed {
        crypt::verify(&password, &user.password)
    } else {
        password == user.password
    };
    valid.then_some((name, user))
}

/// `http_auth(<userlist>)`: whether the credentials are valid; `http_auth_group(<userlist>)`:
/// the groups of the user they are valid for (what its ACL patterns are matched against).
pub fn fetch(name: &str, userlist: &str, txn: &Txn) -> Vec<Value> {
    let user = authenticated(txn, userlist);
    match name {
        "http_auth" => vec![Value::Bool(user.is_some())],
        _ => user
            .map(|(_, u)| u.groups.iter().map(|g| Value::Str(g.clone())).collect())
            .unwrap_or_default(),
    }
}

/// The reply of `http-request auth [realm <realm>]`: the proxy's 401 page asking for Basic
/// credentials, the realm being the rule's proxy name unless given.
pub fn challenge(args: &[String]) -> Result<Reply, Unsupported> {
    let realm = match args.first().map(String::as_str) {
        Some("realm") => args.get(1).cloned().unwrap_or_default(),
        // The proxy whose rule this is: the frontend before a backend is chosen, the backend
        // after.
        _ => "%b".to_string(),
    };
    let value = Format::parse(&format!("Basic realm=\"{realm}\""))?;
    Ok(Reply {
        status: 401,
        content_type: None,
        body: ReplyBody::ProxyPage,
        headers: vec![("www-authenticate".to_string(), Arc::new(value))],
        denial: false,
    })
}

/// The system's crypt(3), as HAProxy checks `password` hashes: every scheme the C library
/// knows (yescrypt, SHA-512, SHA-256, MD5, DES) works the same.
mod crypt {
    use std::ffi::{CStr, CString};
    use std::os::raw::c_char;

    // The runtime library itself (Debian's essential libcrypt1), so that building needs no
    // libcrypt-dev for the `libcrypt.so` link.
    #[link(name = "libcrypt.so.1", kind = "dylib", modifiers = "+verbatim")]
    extern "C" {
        fn crypt(key: *const c_char, setting: *const c_char) -> *mut c_char;
    }

    /// crypt(3) returns a static buffer: one call at a time.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    pub fn verify(password: &str, hash: &str) -> bool {
        let (Ok(key), Ok(setting)) = (CString::new(password), CString::new(hash)) else {
            return false;
        };
        let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: both arguments are NUL-terminated strings that outlive the call; crypt
        // returns NULL or a pointer to a NUL-terminated string in its static buffer, which is
        // only read (and copied) before the lock is released, so no other call overwrites it.
        let out = unsafe { crypt(key.as_ptr(), setting.as_ptr()) };
        if out.is_null() {
            return false;
        }
        // SAFETY: non-null and NUL-terminated, as above.
        let computed = unsafe { CStr::from_ptr(out) }.to_bytes();
        // A failed hash starts with `*`; it never equals a stored hash.
        !computed.starts_with(b"*") && computed == hash.as_bytes()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_c_library_checks_sha512_and_md5_hashes() {
            // `openssl passwd -6 -salt saltsalt secret` and `openssl passwd -1 -salt salt secret`.
            let sha512 = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
            assert!(super::verify("secret", sha512));
            assert!(super::verify("secret", "$1$salt$ez2vlPGdaLYkJam5pWs/Y1"));
            assert!(!super::verify("wrong", sha512));
            assert!(!super::verify("secret", "not a hash"));
        }
    }
}
