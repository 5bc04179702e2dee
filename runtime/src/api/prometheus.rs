//! The Prometheus exporter (`http-request use-service prometheus-exporter`): HAProxy 2.7's
//! metric names, help texts, types and labels, built from the same figures as `show info` and
//! `show stat`, with the `scope` and `no-maint` query parameters.

use super::fields::Val;
use super::health::CheckStatus;
use super::promex_fields::{PROCESS, PROXY};
use super::stat::{self, Row};
use crate::state::{ServerRt, Shared, ADMIN_DRAIN, ADMIN_MAINT};
use hapee_compiler::ir::Mode;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// What the query string asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    pub global: bool,
    pub frontend: bool,
    /// The listeners of frontends with `option socket-stats`.
    pub listener: bool,
    pub backend: bool,
    pub server: bool,
    pub no_maint: bool,
}

/// A query string the exporter refuses (answered 400, as HAProxy does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadQuery;

/// A query parameter's decoded name and value (none without `=`).
type Param = (Vec<u8>, Option<Vec<u8>>);

/// The query string's parameters as HAProxy's exporter splits them: `&` between them, the
/// first `=` before a value, `#` ending the list; a second `=` in a value or a bad `%`
/// escape in a name or a value makes the query refused. Names and values are URL-decoded
/// (`+` a space).
fn query_params(query: &str) -> Result<Vec<Param>, BadQuery> {
    let query = query.split('#').next().unwrap_or_default();
    let decode = |b: &str| crate::sample::url_decode_form(b.as_bytes()).ok_or(BadQuery);
    let mut params = Vec::new();
    for part in query.split('&') {
        let (key, value) = match part.split_once('=') {
            Some((_, v)) if v.contains('=') => return Err(BadQuery),
            Some((k, v)) => (k, Some(decode(v)?)),
            None => (part, None),
        };
        params.push((decode(key)?, value));
    }
    // A trailing `&` leaves no empty parameter behind (HAProxy's loop ends at the end).
    if query.is_empty() || query.ends_with('&') {
        params.pop();
    }
    Ok(params)
}

/// Reads `scope=…` (repeatable; `*` all, empty none) and `no-maint`.
pub fn parse_query(query: &str) -> Result<Scopes, BadQuery> {
    let all = Scopes {
        global: true,
        frontend: true,
        listener: true,
        backend: true,
        server: true,
        no_maint: false,
    };
    let mut s = Scopes::default();
    let mut any_scope = false;
    for (key, value) in query_params(query)? {
        match key.as_slice() {
            b"scope" => {
                any_scope = true;
                match value.as_deref().ok_or(BadQuery)? {
                    b"" => {
                        s = Scopes {
                            no_maint: s.no_maint,
                            ..Scopes::default()
                        }
                    }
                    // HAProxy reads the first character alone here.
                    v if v.starts_with(b"*") => {
                        s = Scopes {
                            no_maint: s.no_maint,
                            ..all
                        }
                    }
                    b"global" => s.global = true,
                    b"frontend" => s.frontend = true,
                    b"listener" => s.listener = true,
                    b"backend" => s.backend = true,
                    b"server" => s.server = true,
                    // hapee has no stick tables to export yet.
                    b"sticktable" => {}
                    _ => return Err(BadQuery),
                }
            }
            b"no-maint" => s.no_maint = true,
            _ => {}
        }
    }
    if !any_scope {
        s = Scopes {
            no_maint: s.no_maint,
            ..all
        };
    }
    Ok(s)
}

/// HAProxy's check status labels (statuses that are a check's result).
const CHECK_STATES: &[(&str, Option<CheckStatus>)] = &[
    ("HANA", None),
    ("SOCKERR", None),
    ("L4OK", Some(CheckStatus::L4Ok)),
    ("L4TOUT", Some(CheckStatus::L4Timeout)),
    ("L4CON", Some(CheckStatus::L4Conn)),
    ("L6OK", None),
    ("L6TOUT", None),
    ("L6RSP", None),
    ("L7TOUT", Some(CheckStatus::L7Timeout)),
    ("L7RSP", Some(CheckStatus::L7Response)),
    ("L7OK", Some(CheckStatus::L7Ok)),
    ("L7OKC", None),
    ("L7STS", Some(CheckStatus::L7Status)),
    ("PROCERR", None),
    ("PROCTOUT", None),
    ("PROCOK", None),
];

const HRSP: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// Columns holding milliseconds that the exporter gives in seconds.
const SECONDS: &[usize] = &[58, 59, 60, 61, 90, 91, 92, 93];

/// A metric family being written: its header goes out before its first sample only.
struct Family<'a> {
    out: &'a mut String,
    name: String,
    kind: &'a str,
    help: &'a str,
    started: bool,
}

impl Family<'_> {
    fn sample(&mut self, labels: &[(&str, &str)], value: &str) {
        if !self.started {
            let _ = writeln!(self.out, "# HELP {} {}", self.name, self.help);
            let _ = writeln!(self.out, "# TYPE {} {}", self.name, self.kind);
            self.started = true;
        }
        self.out.push_str(&self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(value);
        self.out.push('\n');
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: &Val, seconds: bool) -> String {
    match v {
        Val::U32(n) | Val::U64(n) if seconds => format!("{:.6}", *n as f64 / 1000.0),
        Val::U32(n) | Val::U64(n) => n.to_string(),
        Val::S32(n) => n.to_string(),
        Val::Str(_) | Val::Empty => "NaN".into(),
    }
}

/// The server state label HAProxy's exporter uses.
fn server_state(s: &ServerRt) -> &'static str {
    let admin = s.admin.load(Ordering::Relaxed);
    if admin & ADMIN_MAINT != 0 {
        "MAINT"
    } else if !s.up.load(Ordering::Relaxed) {
        "DOWN"
    } else if s.is_nolb() {
        "NOLB"
    } else if admin & ADMIN_DRAIN != 0 {
        "DRAIN"
    } else {
        "UP"
    }
}

fn http_only(col: usize) -> bool {
    matches!(col, 39..=44 | 47 | 48 | 51..=54 | 80 | 86 | 87)
}

/// The whole exposition for `scopes`.
pub fn render(shared: &Shared, scopes: Scopes) -> String {
    let mut out = String::new();
    if scopes.global {
        let values = super::info::values(shared);
        let mut process: Vec<_> = PROCESS.to_vec();
        process.sort_by_key(|m| m.0);
        for (pos, name, kind, help) in process {
            let mut f = Family {
                out: &mut out,
                name: format!("haproxy_process_{name}"),
                kind,
                help,
                started: false,
            };
            if name == "build_info" {
                f.sample(&[("version", super::info::HAPROXY_VERSION)], "1");
            } else {
                f.sample(&[], &number(&values[pos], false));
            }
        }
    }
    let mut metrics: Vec<_> = PROXY.to_vec();
    metrics.sort_by_key(|m| m.0);
    if scopes.frontend {
        let rows: Vec<(Row, Mode)> = shared
            .frontends
            .iter()
            .enumerate()
            .map(|(i, fe)| {
                let maxconn = shared.process.maxconn.load(Ordering::Relaxed);
                let rates = shared.process.frontend_rates(i);
                (stat::frontend_row(fe, rates, maxconn), fe.mode)
            })
            .collect();
        proxies(&mut out, "frontend", 'F', &metrics, &rows, shared);
    }
    if scopes.listener {
        listeners(&mut out, &metrics, shared);
    }
    if scopes.backend {
        let rows: Vec<(Row, Mode)> = shared
            .backends
            .iter()
            .map(|be| (stat::backend_row(be), be.mode))
            .collect();
        proxies(&mut out, "backend", 'B', &metrics, &rows, shared);
    }
    if scopes.server {
        servers(&mut out, &metrics, shared, scopes.no_maint);
    }
    out
}

type Metric = (
    usize,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn proxies(
    out: &mut String,
    object: &str,
    letter: char,
    metrics: &[Metric],
    rows: &[(Row, Mode)],
    shared: &Shared,
) {
    let mut hrsp_family: Option<String> = None;
    let backend_of: std::collections::HashMap<u32, &crate::state::BackendRt> =
        shared.backends.iter().map(|b| (b.id, b)).collect();
    for &(col, name, kind, objects, help) in metrics.iter().filter(|m| m.3.contains(letter)) {
        let mut f = Family {
            out,
            name: format!("haproxy_{object}_{name}"),
            kind,
            help,
            started: false,
        };
        // The six response classes are one family: its header comes once.
        if (39..=44).contains(&col) {
            f.started = hrsp_family.as_deref() == Some(f.name.as_str());
        }
        let _ = objects;
        for (row, mode) in rows {
            let px = row.values[0].text();
            if *mode != Mode::Http && http_only(col) {
                continue;
            }
            match col {
                17 => {
                    let up = if letter == 'B' {
                        let be = backend_of.get(&row.proxy_id);
                        be.is_none_or(|b| {
                            b.servers.is_empty()
                                || b.servers
                                    .iter()
                                    .any(|s| s.is_usable() && s.current_weight() > 0)
                        })
                    } else {
                        true
                    };
                    for (state, on) in [("DOWN", !up), ("UP", up)] {
                        f.sample(
                            &[("proxy", &px), ("state", state)],
                            if on { "1" } else { "0" },
                        );
                    }
                }
                100 => {
                    let Some(be) = backend_of.get(&row.proxy_id) else {
                        continue;
                    };
                    if be.servers.is_empty() {
                        continue;
                    }
                    for state in ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] {
                        let n = be
                            .servers
                            .iter()
                            .filter(|s| server_state(s) == state)
                            .count();
                        f.sample(&[("proxy", &px), ("state", state)], &n.to_string());
                    }
                }
                39..=44 => {
                    let code = HRSP[col - 39];
                    f.sample(
                        &[("proxy", &px), ("code", code)],
                        &number(&row.values[col], false),
                    );
                }
                _ => f.sample(
                    &[("proxy", &px)],
                    &number(&row.values[col], SECONDS.contains(&col)),
                ),
            }
        }
        if (39..=44).contains(&col) && f.started {
            hrsp_family = Some(f.name.clone());
        }
    }
}

/// HAProxy's listener states, in its order.
const LISTENER_STATES: [&str; 3] = ["WAITING", "OPEN", "FULL"];

/// The metrics of the listeners of frontends with `option socket-stats`, labelled with their
/// proxy and name.
fn listeners(out: &mut String, metrics: &[Metric], shared: &Shared) {
    let rows: Vec<Row> = shared
        .frontends
        .iter()
        .filter(|fe| fe.socket_stats)
        .flat_map(|fe| fe.listeners.iter().map(|l| stat::listener_row(fe, l)))
        .collect();
    for &(col, name, kind, _, help) in metrics.iter().filter(|m| m.3.contains('L')) {
        let mut f = Family {
            out,
            name: format!("haproxy_listener_{name}"),
            kind,
            help,
            started: false,
        };
        for row in &rows {
            let (px, li) = (row.values[0].text(), row.values[1].text());
            let labels = [("proxy", px.as_str()), ("listener", li.as_str())];
            if col == 17 {
                let now = row.values[17].text();
                for state in LISTENER_STATES {
                    let on = if now == state { "1" } else { "0" };
                    f.sample(&[labels[0], labels[1], ("state", state)], on);
                }
            } else {
                f.sample(&labels, &number(&row.values[col], false));
            }
        }
    }
}

fn servers(out: &mut String, metrics: &[Metric], shared: &Shared, no_maint: bool) {
    let mut hrsp_family: Option<String> = None;
    for &(col, name, kind, _, help) in metrics.iter().filter(|m| m.3.contains('S')) {
        let mut f = Family {
            out,
            name: format!("haproxy_server_{name}"),
            kind,
            help,
            started: false,
        };
        if (39..=44).contains(&col) {
            f.started = hrsp_family.as_deref() == Some(f.name.as_str());
        }
        for be in &shared.backends {
            if be.mode != Mode::Http && http_only(col) {
                continue;
            }
            for s in &be.servers {
                if no_maint && s.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0 {
                    continue;
                }
                let row = stat::server_row(be, s);
                let labels = [("proxy", &*be.name), ("server", &*s.name)];
                let check_on = s.check.configured && s.check.enabled.load(Ordering::Relaxed);
                match col {
                    17 => {
                        let now = server_state(s);
                        for state in ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] {
                            let v = if now == state { "1" } else { "0" };
                            f.sample(&[labels[0], labels[1], ("state", state)], v);
                        }
                    }
                    36 => {
                        if !check_on {
                            continue;
                        }
                        let now = s.check.status();
                        for (label, status) in CHECK_STATES {
                            let v = if *status == Some(now) { "1" } else { "0" };
                            f.sample(&[labels[0], labels[1], ("state", label)], v);
                        }
                    }
                    37 => {
                        if !check_on {
                            continue;
                        }
                        let code = s.check.code.load(Ordering::Relaxed);
                        f.sample(&labels, &code.to_string());
                    }
                    38 => {
                        if !check_on || s.check.status() == CheckStatus::Init {
                            continue;
                        }
                        let ms = s.check.duration_ms.load(Ordering::Relaxed);
                        f.sample(&labels, &format!("{:.6}", ms as f64 / 1000.0));
                    }
                    39..=44 => {
                        let code = HRSP[col - 39];
                        f.sample(
                            &[labels[0], labels[1], ("code", code)],
                            &number(&row.values[col], false),
                        );
                    }
                    _ => f.sample(&labels, &number(&row.values[col], SECONDS.contains(&col))),
                }
            }
        }
        if (39..=44).contains(&col) && f.started {
            hrsp_family = Some(f.name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let all = parse_query("").unwrap();
        assert!(all.global && all.frontend && all.backend && all.server);
        let s = parse_query("scope=frontend&scope=server&no-maint").unwrap();
        assert!(!s.global && s.frontend && !s.backend && s.server && s.no_maint);
        let none = parse_query("scope=").unwrap();
        assert!(!none.global && !none.server);
        assert!(parse_query("scope=bogus").is_err());
        assert!(parse_query("scope").is_err());
        // Parameters are URL-decoded; a bad escape or a second `=` refuses the query.
        assert!(parse_query("x=%41&y=%zz").is_err());
        assert!(parse_query("%zz").is_err());
        assert!(parse_query("a=b=c").is_err());
        assert!(parse_query("sc%6Fpe=server").unwrap().server);
        assert!(!parse_query("sc%6Fpe=server").unwrap().global);
        assert!(parse_query("x=1&#scope=bogus").unwrap().global);
    }

    #[test]
    fn tables_are_in_column_order_and_complete() {
        assert_eq!(PROCESS.len(), 60);
        assert!(PROXY
            .iter()
            .any(|m| m.1 == "http_responses_total" && m.3 == "FBS"));
        assert!(PROXY.iter().all(|m| m.0 <= 100));
    }
}
