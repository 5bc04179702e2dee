//! Cookie-based persistence of a backend (`cookie`, the servers' `cookie` values,
//! `dynamic-cookie-key`, `force-persist`/`ignore-persist`) and the monitor URI of a frontend
//! (`monitor-uri`, `monitor fail`).

use crate::ir::values::{parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

/// How the persistence cookie is carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CookieMode {
    /// The server sets the cookie itself; it is only read (no mode word).
    #[default]
    Passive,
    /// The server's cookie value is replaced by the server's identifier.
    Rewrite,
    /// The load balancer sets the cookie itself.
    Insert,
    /// The server's identifier is put before the server's own cookie value, with a `~`.
    Prefix,
}

/// A backend's `cookie <name> …` line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CookiePersist {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    /// Each `domain` value, in order.
    pub domains: Vec<String>,
    /// Seconds a cookie may go unused (`maxidle`), and may live at all (`maxlife`).
    pub maxidle: u32,
    pub maxlife: u32,
    /// Server cookies derived from `dynamic-cookie-key` and the server's address.
    pub dynamic: bool,
    /// Each `attr` value, in order.
    pub attrs: Vec<String>,
}

/// Whether a rule forces persistence or ignores it, and its condition words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersistRule {
    pub force: bool,
    pub condition: Vec<String>,
}

/// What decides the server by cookie, before the balancing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Persistence {
    pub cookie: Option<CookiePersist>,
    /// `dynamic-cookie-key`: the secret the dynamic server cookies are made from.
    pub dynamic_key: Option<String>,
    /// `force-persist` and `ignore-persist` lines in order.
    pub rules: Vec<PersistRule>,
}

fn seconds(text: &str) -> u32 {
    parse_time(text, TimeUnit::S).map_or(0, |d| d.value)
}

impl Persistence {
    pub fn of(lines: &[DirectiveLine]) -> Persistence {
        let mut out = Persistence::default();
        for d in lines {
            let args: Vec<&str> = d.args.iter().map(|a| a.as_str()).collect();
            match d.keyword.as_str() {
                "cookie" if d.prefix.is_none() => out.cookie = cookie_line(&args),
                "dynamic-cookie-key" => out.dynamic_key = args.first().map(|k| k.to_string()),
                kw @ ("force-persist" | "ignore-persist") => out.rules.push(PersistRule {
                    force: kw == "force-persist",
                    condition: args.iter().map(|a| a.to_string()).collect(),
                }),
                _ => {}
            }
        }
        out
    }
}

fn cookie_line(args: &[&str]) -> Option<CookiePersist> {
    let (name, rest) = args.split_first()?;
    let mut c = CookiePersist {
        name: name.to_string(),
        ..Default::default()
    };
    let mut words = rest.iter();
    while let Some(w) = words.next() {
        match *w {
            "rewrite" => c.mode = CookieMode::Rewrite,
            "insert" => c.mode = CookieMode::Insert,
            "prefix" => c.mode = CookieMode::Prefix,
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "dynamic" => c.dynamic = true,
            "domain" => c.domains.extend(words.next().map(|v| v.to_string())),
            "attr" => c.attrs.extend(words.next().map(|v| v.to_string())),
            "maxidle" => c.maxidle = words.next().map_or(0, |v| seconds(v)),
            "maxlife" => c.maxlife = words.next().map_or(0, |v| seconds(v)),
            _ => {}
        }
    }
    Some(c)
}

/// A server's own `cookie <value>` (the words after its address).
pub fn server_cookie(options: &[String]) -> Option<String> {
    options
        .iter()
        .position(|w| w == "cookie")
        .and_then(|i| options.get(i + 1))
        .cloned()
}

/// A frontend's `monitor-uri` and the conditions of its `monitor fail` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Monitor {
    pub uri: Option<String>,
    pub fail: Vec<Vec<String>>,
}

impl Monitor {
    pub fn of(lines: &[DirectiveLine]) -> Monitor {
        let mut out = Monitor::default();
        for d in lines.iter().filter(|d| d.prefix.is_none()) {
            let args: Vec<String> = d.args.iter().map(|a| a.to_string()).collect();
            match d.keyword.as_str() {
                "monitor-uri" => out.uri = args.first().cloned(),
                "monitor" if args.first().is_some_and(|a| a == "fail") => {
                    out.fail.push(args[1..].to_vec())
                }
                "monitor fail" => out.fail.push(args),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_line_options() {
        let c = cookie_line(&[
            "SRV",
            "insert",
            "indirect",
            "nocache",
            "domain",
            "a.example",
            "domain",
            "b.example",
            "maxidle",
            "30m",
            "maxlife",
            "1d",
            "httponly",
            "secure",
            "attr",
            "SameSite=Lax",
        ])
        .unwrap();
        assert_eq!(c.name, "SRV");
        assert_eq!(c.mode, CookieMode::Insert);
        assert!(c.indirect && c.nocache && c.httponly && c.secure && !c.postonly);
        assert_eq!(c.domains, ["a.example", "b.example"]);
        assert_eq!((c.maxidle, c.maxlife), (1800, 86400));
        assert_eq!(c.attrs, ["SameSite=Lax"]);
        assert_eq!(
            cookie_line(&["JSESSIONID", "prefix"]).unwrap().mode,
            CookieMode::Prefix
        );
        assert_eq!(
            server_cookie(&["check".into(), "cookie".into(), "s1".into()]).as_deref(),
            Some("s1")
        );
    }
}
