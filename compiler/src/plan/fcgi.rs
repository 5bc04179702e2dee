//! `fcgi-app` sections (FastCGI applications such as PHP-FPM) and the FastCGI filter
//! (`use-fcgi-app`, `filter fcgi-app`) that puts one in front of a backend's `proto fcgi`
//! servers, lowered for the runtime.

use super::lower::{global_logs, proxy_logs, LogTarget};
use super::Acl;
use crate::ir::{Config, DirectiveLine};
use crate::registry::SectionKind;
use serde::Serialize;

/// `set-param <name> <format> [if|unless <condition>]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParamRule {
    /// The parameter's name as sent: upper case, anything but letters and digits as `_`.
    pub name: String,
    pub format: String,
    /// `if`/`unless` and the condition words, empty when unconditional.
    pub condition: Vec<String>,
}

/// `pass-header <name> [if|unless <condition>]`, and the headers hidden by default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderRule {
    /// Lower case.
    pub name: String,
    /// `true`: passed (`pass-header`); `false`: removed.
    pub pass: bool,
    pub condition: Vec<String>,
}

/// One `fcgi-app` section, with HAProxy's defaults where unset.
#[derive(Clone, Debug, Serialize)]
pub struct FcgiAppPlan {
    pub name: String,
    /// `docroot`: prefixed to the script name in `SCRIPT_FILENAME` and `PATH_TRANSLATED`.
    pub docroot: String,
    /// `index`: the script appended to a path ending in `/`.
    pub index: Option<String>,
    /// `path-info`: the regular expression whose first capture is the script name and
    /// second the path info.
    pub path_info: Option<String>,
    /// The section's `acl` lines, which its rules' conditions may name.
    pub acls: Vec<Acl>,
    /// `REMOTE_USER` and `AUTH_TYPE` first, then the section's `set-param` lines.
    pub params: Vec<ParamRule>,
    /// The hop-by-hop and credential headers hidden by default, then `pass-header` lines.
    pub headers: Vec<HeaderRule>,
    /// `log-stderr`: where what the application writes on its error stream is logged.
    pub log_stderr: Vec<LogTarget>,
    /// `option keep-conn` (on by default): the application keeps the connection open.
    pub keep_conn: bool,
    /// `option get-values`: the application's limits are asked for first.
    pub get_values: bool,
    /// `option mpxs-conns`: the application multiplexes requests on a connection.
    pub mpxs_conns: bool,
    /// `option max-reqs`: requests a connection may carry at once.
    pub max_reqs: u32,
}

/// The headers HAProxy never passes unless a `pass-header` line asks for them.
const HIDDEN: [&str; 10] = [
    "connection",
    "keep-alive",
    "authorization",
    "proxy",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
];

/// A parameter name as FastCGI receives it: letters and digits upper-cased, anything else `_`.
pub fn param_name(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b.to_ascii_uppercase())
            } else {
                '_'
            }
        })
        .collect()
}

fn words(args: &[crate::ir::Text], from: usize) -> Vec<String> {
    args.iter().skip(from).map(|a| a.to_string()).collect()
}

/// Lowers one section's statements.
fn app(
    name: &str,
    lines: &[DirectiveLine],
    global: &[DirectiveLine],
    env: &dyn crate::syntax::Environment,
) -> FcgiAppPlan {
    let unconditional = |name: &str, format: &str| ParamRule {
        name: name.to_string(),
        format: format.to_string(),
        condition: Vec::new(),
    };
    let mut app = FcgiAppPlan {
        name: name.to_string(),
        docroot: String::new(),
        index: None,
        path_info: None,
        acls: Vec::new(),
        params: vec![
            unconditional("REMOTE_USER", "%[http_auth_user]"),
            unconditional("AUTH_TYPE", "%[http_auth_type]"),
        ],
        headers: HIDDEN
            .iter()
            .map(|h| HeaderRule {
                name: h.to_string(),
                pass: false,
                condition: Vec::new(),
            })
            .collect(),
        log_stderr: Vec::new(),
        keep_conn: true,
        get_values: false,
        mpxs_conns: false,
        max_reqs: 1,
    };
    let mut stderr_lines = Vec::new();
    for d in lines {
        let arg = |i: usize| d.args.get(i).map(|a| a.to_string());
        let on = d.prefix.is_none();
        match (d.keyword.as_str(), arg(0).as_deref()) {
            ("docroot", Some(v)) => app.docroot = v.to_string(),
            ("index", Some(v)) => app.index = Some(v.to_string()),
            ("path-info", Some(v)) => app.path_info = Some(v.to_string()),
            ("acl", Some(n)) => app.acls.push(Acl {
                name: n.to_string(),
                criterion: words(&d.args, 1),
            }),
            ("set-param", Some(n)) => app.params.push(ParamRule {
                name: param_name(n),
                format: arg(1).unwrap_or_default(),
                condition: words(&d.args, 2),
            }),
            ("pass-header", Some(n)) => app.headers.push(HeaderRule {
                name: n.to_ascii_lowercase(),
                pass: true,
                condition: words(&d.args, 1),
            }),
            ("option", Some("keep-conn")) => app.keep_conn = on,
            ("option", Some("get-values")) => app.get_values = on,
            ("option", Some("mpxs-conns")) => app.mpxs_conns = on,
            ("option", Some("max-reqs")) => {
                app.max_reqs = arg(1).and_then(|n| n.parse().ok()).unwrap_or(1)
            }
            ("log-stderr", Some(_)) => {
                let mut line = d.clone();
                line.keyword = "log".into();
                stderr_lines.push(line);
            }
            _ => {}
        }
    }
    app.log_stderr = proxy_logs(&stderr_lines, &global_logs(global, env), env);
    app
}

/// Every `fcgi-app` section, in declaration order.
pub fn lower(config: &Config) -> Vec<FcgiAppPlan> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::FcgiApp)
        .map(|s| {
            let name = s.name.as_ref().map_or("", |n| n.value.as_str());
            app(
                name,
                &s.lines,
                &config.global.directives,
                &config.environment(),
            )
        })
        .collect()
}

/// The application of a proxy's FastCGI filter (`use-fcgi-app` or `filter fcgi-app`, the one
/// the checks read), as an index into `apps`.
pub(crate) fn used_by(p: &crate::ir::Proxy, apps: &[FcgiAppPlan]) -> Option<usize> {
    let (name, _) = crate::ir::filter_chain::fcgi_app(p)?;
    apps.iter().position(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_are_upper_case_with_underscores() {
        assert_eq!(param_name("script_filename"), "SCRIPT_FILENAME");
        assert_eq!(param_name("x-Forwarded.by"), "X_FORWARDED_BY");
    }

    #[test]
    fn an_app_has_haproxy_defaults_and_its_own_lines() {
        let line = |kw: &str, args: &[&str]| DirectiveLine {
            prefix: None,
            keyword: kw.into(),
            args: args.iter().map(|a| (*a).into()).collect(),
            span: crate::Span::default(),
        };
        let mut no_keep = line("option", &["keep-conn"]);
        no_keep.prefix = Some("no".into());
        let a = app(
            "php",
            &[
                line("docroot", &["/var/www"]),
                line("index", &["index.php"]),
                line("set-param", &["my-var", "%[src]", "if", "TRUE"]),
                line("pass-header", &["Authorization"]),
                line("option", &["max-reqs", "5"]),
                no_keep,
            ],
            &[],
            &crate::syntax::MapEnv::default(),
        );
        assert_eq!(a.docroot, "/var/www");
        assert_eq!(a.index.as_deref(), Some("index.php"));
        assert_eq!(a.params[0].name, "REMOTE_USER");
        assert_eq!(a.params[2].name, "MY_VAR");
        assert_eq!(a.params[2].condition, ["if", "TRUE"]);
        let last = a.headers.last().unwrap();
        assert!(last.pass && last.name == "authorization");
        assert!(!a.keep_conn);
        assert_eq!(a.max_reqs, 5);
    }
}
