//! The statistics page (`stats enable`, `stats uri`, …): HTML with HAProxy's sections and
//! columns, `;csv` and `;json` exports, Basic authentication, `stats refresh`, and the admin
//! form (`stats admin if …`) that sets servers ready, drained or in maintenance.

use super::fields::Val;
use super::page_modules;
use super::stat::{self, Kind, Row};
use crate::acl::{AclSet, Condition};
use crate::checks::{
    force_health, force_state, set_admin, set_admin_flag, Admin, Health, Reporter,
};
use crate::http::reply::full;
use crate::http::{ReqBody, ResBody};
use crate::sample::{base64_decode, url_decode};
use crate::state::{ServerRt, Shared, ADMIN_FDRAIN, ADMIN_FMAINT};
use crate::txn::Txn;
use hapee_compiler::plan::{StatsAction, StatsPage};
use http_body_util::BodyExt;
use hyper::Response;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A backend's page settings, its admin condition and `stats http-request` rules compiled.
pub struct Page {
    pub plan: StatsPage,
    pub admin: Option<Condition>,
    rules: Vec<(StatsAction, Option<Condition>)>,
}

impl Page {
    pub fn compile(plan: &StatsPage, acls: &AclSet) -> Result<Page, String> {
        let admin = if plan.admin.is_empty() {
            None
        } else {
            Some(Condition::compile(&plan.admin, acls).map_err(|e| e.0)?)
        };
        let rules = plan
            .rules
            .iter()
            .map(|r| {
                let cond = if r.cond.is_empty() {
                    None
                } else {
                    Some(Condition::compile(&r.cond, acls).map_err(|e| e.0)?)
                };
                Ok((r.action.clone(), cond))
            })
            .collect::<Result<_, String>>()?;
        Ok(Page {
            plan: plan.clone(),
            admin,
            rules,
        })
    }

    /// The action of the first `stats http-request` rule whose condition holds, if any.
    fn ruling(&self, txn: &Txn) -> Option<&StatsAction> {
        self.rules
            .iter()
            .find(|(_, cond)| cond.as_ref().is_none_or(|c| c.holds(txn)))
            .map(|(action, _)| action)
    }

    /// Whether the request asks for the page: a GET, HEAD or POST whose target as written
    /// starts with `stats uri` (HAProxy passes other methods on to the backend, page or
    /// not). A prefix starting with `/` is compared with the target's path, which an
    /// absolute target without one (`GET http://a`) lacks: that request is not the page's.
    pub fn wanted(&self, txn: &Txn) -> bool {
        txn.request.as_ref().is_some_and(|r| {
            if !matches!(
                r.method,
                hyper::Method::GET | hyper::Method::HEAD | hyper::Method::POST
            ) {
                return false;
            }
            let written = crate::http::target::written(txn, &r.uri, r.version);
            let target = written.as_bytes();
            let target = if self.plan.uri.starts_with('/') {
                crate::http::target::path_of(target)
            } else {
                target
            };
            target.starts_with(self.plan.uri.as_bytes())
        })
    }
}

fn text(status: u16, content_type: &str, body: String) -> Response<ResBody> {
    let mut r = Response::new(full(body));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    let h = r.headers_mut();
    // In HAProxy's order.
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        h.insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// Whether the request carries one of `stats auth`'s user:password pairs.
fn authorized(page: &StatsPage, txn: &Txn) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(header) = txn
        .request
        .as_ref()
        .and_then(|r| r.headers.get(hyper::header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = header.strip_prefix("Basic ") else {
        return false;
    };
    let Some(decoded) = base64_decode(encoded.trim()).and_then(|b| String::from_utf8(b).ok())
    else {
        return false;
    };
    page.auth
        .iter()
        .any(|(u, p)| decoded.split_once(':') == Some((u.as_str(), p.as_str())))
}

/// A server row's class, from its status as HAProxy's page picks it: `maintain`, or
/// `active_`/`backup_` and the state (`up`, `down`, `going_up`, `going_down`, `draining`,
/// `nolb`, `no_check`); a status with counts is on its way to the other state.
fn server_class(v: &[Val]) -> String {
    let status = v[17].text();
    if status.starts_with("MAINT") {
        return "maintain".into();
    }
    let number = |i: usize| v[i].text().parse::<u64>().ok();
    // `chkfail` is empty for a server without checks.
    let checked = v[21] != Val::Empty;
    let full_health = matches!(
        (number(67), number(68), number(69)),
        (Some(rise), Some(fall), Some(health)) if health + 1 == rise + fall
    );
    let state = match status.as_str() {
        "DOWN" | "DOWN (agent)" => "down",
        s if s.starts_with("DOWN ") => "going_up",
        "DRAIN" => "draining",
        s if s.starts_with("NOLB ") => "going_down",
        "NOLB" => "nolb",
        "no check" => "no_check",
        _ if !checked || full_health => {
            if number(18).unwrap_or(0) > 0 {
                "up"
            } else {
                "draining"
            }
        }
        _ => "going_down",
    };
    let side = if v[20].text() == "1" {
        "backup"
    } else {
        "active"
    };
    format!("{side}_{state}")
}

/// The cause the page's health changes are reported with.
const FROM_PAGE: &str = "changed from Web interface";

/// Applies one of the form's actions to `server` (of backend `index`) as HAProxy's page does;
/// false when the action does not apply to it (health checks or an agent it lacks, a flag
/// already in the state asked for, a tracking server's health).
fn act_on_server(
    shared: &Shared,
    index: usize,
    reporter: &Reporter,
    server: &Arc<ServerRt>,
    action: &str,
) -> bool {
    let be = &shared.backends[index];
    let check = &server.check;
    let admin = server.admin.load(Ordering::Relaxed);
    let agent_on = check.agent_configured && check.agent_enabled.load(Ordering::Relaxed);
    let flag = |bit, on, cause| set_admin_flag(shared, reporter, be, server, bit, on, cause);
    let health = |wanted| force_health(shared, reporter, be, server, wanted, FROM_PAGE);
    let agent = |wanted, value| {
        check.agent_health.store(value, Ordering::Relaxed);
        force_state(shared, reporter, be, server, wanted, FROM_PAGE);
    };
    match action {
        "ready" => set_admin(shared, reporter, be, server, Admin::Ready),
        "drain" => set_admin(shared, reporter, be, server, Admin::Drain),
        "maint" => set_admin(shared, reporter, be, server, Admin::Maint),
        "disable" if admin & ADMIN_FMAINT == 0 => {
            flag(ADMIN_FMAINT, true, Some("'disable' on stats page"))
        }
        "enable" if admin & ADMIN_FMAINT != 0 => flag(ADMIN_FMAINT, false, None),
        "stop" if admin & ADMIN_FDRAIN == 0 => {
            flag(ADMIN_FDRAIN, true, Some("'stop' on stats page"))
        }
        "start" if admin & ADMIN_FDRAIN != 0 => flag(ADMIN_FDRAIN, false, None),
        "dhlth" | "ehlth" if check.configured => {
            check.enabled.store(action == "ehlth", Ordering::Relaxed)
        }
        "dagent" | "eagent" if check.agent_configured => check
            .agent_enabled
            .store(action == "eagent", Ordering::Relaxed),
        "hrunn" if !server.tracks() => health(Health::Up),
        "hnolb" if !server.tracks() => health(Health::Stopping),
        "hdown" if !server.tracks() => health(Health::Down),
        "arunn" if agent_on => agent(Health::Up, super::health::AGENT_RISE_FALL),
        "adown" if agent_on => agent(Health::Down, 0),
        "shutdown" => {
            super::sessions::kill_server_for(shared, index, &server.name, b'K');
        }
        _ => return false,
    }
    true
}

/// The actions HAProxy's admin form knows (an unknown one is a form error).
const ADMIN_ACTIONS: &[&str] = &[
    "ready", "drain", "maint", "shutdown", "dhlth", "ehlth", "hrunn", "hnolb", "hdown", "dagent",
    "eagent", "arunn", "adown", "disable", "enable", "stop", "start",
];

/// Applies an admin form (`b=#<backend id>&s=<server>…&action=<ready|drain|maint|…>`);
/// answers HAProxy's status word for the redirect. As HAProxy, the parameters are read from
/// the last: the last `b` and `action` count, and an unknown backend or action is `ERRP` at
/// once; a form naming no server for a known backend and action (none of the three, only
/// other words, an empty body) is `NONE`; otherwise `DONE` when every server named changed,
/// `PART` when some did, `ERRP` when none did (a server the backend lacks changes nothing).
fn apply_admin(shared: &Shared, form: &str) -> &'static str {
    let mut backend = None;
    let mut servers = Vec::new();
    let mut action = None;
    for pair in form.split('&').rev() {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = url_decode(v);
        match k {
            "b" if backend.is_none() => {
                let be = match v.strip_prefix('#') {
                    Some(id) => shared.backends.iter().find(|x| id.parse() == Ok(x.id)),
                    None => shared.backend_by_name(&v),
                };
                match be {
                    Some(be) => backend = Some(be),
                    None => return "ERRP",
                }
            }
            "action" if action.is_none() => {
                if !ADMIN_ACTIONS.contains(&v.as_str()) {
                    return "ERRP";
                }
                action = Some(v);
            }
            "s" => servers.push(v),
            _ => {}
        }
    }
    let (Some(be), Some(action)) = (backend, action) else {
        return "NONE";
    };
    let index = shared
        .backends
        .iter()
        .position(|b| std::ptr::eq(b, be))
        .unwrap_or_default();
    let reporter = Reporter::for_admin(shared, index);
    let (mut named, mut changed) = (0, 0);
    for name in &servers {
        let Some(s) = be.server_named(name) else {
            named += 1;
            continue;
        };
        // HAProxy counts a server the action does not apply to nowhere.
        if act_on_server(shared, index, &reporter, s, &action) {
            named += 1;
            changed += 1;
        }
    }
    match (named, changed) {
        (0, _) => "NONE",
        (_, 0) => "ERRP",
        (n, c) if c < n => "PART",
        _ => "DONE",
    }
}

/// Answers a request for `page` (a backend's, or a frontend's own).
pub async fn serve(
    shared: &Shared,
    page: &Page,
    txn: &mut Txn,
    body: ReqBody,
) -> Response<ResBody> {
    // `stats auth` is HAProxy's shorthand for one `auth` rule unless the credentials match.
    let challenge = match page.ruling(txn) {
        Some(StatsAction::Deny) => return crate::http::reply::error(403, &[]),
        Some(StatsAction::Auth { realm }) => Some(realm.as_deref()),
        Some(StatsAction::Allow) => None,
        None => (!authorized(&page.plan, txn)).then_some(page.plan.realm.as_deref()),
    };
    if let Some(realm) = challenge {
        let realm = realm.unwrap_or("HAProxy Statistics");
        let mut r = crate::http::reply::error(401, &[]);
        if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, v);
        }
        return r;
    }
    let admin = page.admin.as_ref().is_some_and(|c| c.holds(txn));
    let (method, target) = match &txn.request {
        Some(r) => (
            r.method.clone(),
            r.uri
                .path_and_query()
                .map_or("", |p| p.as_str())
                .to_string(),
        ),
        None => return text(400, "text/plain", String::new()),
    };
    let options = &target[page.plan.uri.len().min(target.len())..];
    if method == hyper::Method::POST {
        let status = if admin {
            match body.collect().await {
                Ok(c) => apply_admin(shared, &String::from_utf8_lossy(&c.to_bytes())),
                Err(_) => "ERRP",
            }
        } else {
            "DENY"
        };
        let mut r = text(303, "text/plain", String::new());
        // HAProxy gives the length before the location.
        r.headers_mut().insert(
            hyper::header::CONTENT_LENGTH,
            hyper::header::HeaderValue::from_static("0"),
        );
        let location = format!("{};st={status}", page.plan.uri);
        if let Ok(v) = hyper::header::HeaderValue::from_str(&location) {
            r.headers_mut().insert(hyper::header::LOCATION, v);
        }
        return r;
    }
    let up_only = options.contains(";up");
    let filter = stat::Filter {
        up_only,
        ..Default::default()
    };
    let rows: Vec<Row> = stat::rows(shared, &filter)
        .into_iter()
        .filter(|r| in_scope(&page.plan, r))
        .collect();
    if options.contains(";csv") {
        return text(200, "text/plain", stat::render(&rows, stat::Form::Csv));
    }
    if options.contains(";json") {
        return text(
            200,
            "application/json",
            stat::render(&rows, stat::Form::Json),
        );
    }
    let refresh = page
        .plan
        .refresh
        .filter(|_| !options.contains(";norefresh"));
    let mut r = text(200, "text/html", html(shared, &page.plan, &rows, admin));
    if let Some(secs) = refresh {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert("refresh", v);
        }
    }
    r
}

fn in_scope(page: &StatsPage, row: &Row) -> bool {
    page.scopes.is_empty() || page.scopes.iter().any(|s| *s == row.values[0].text())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cell(v: &Val) -> String {
    esc(&v.text())
}

/// The HTML page: process information, then one table per proxy with HAProxy's column groups.
fn html(shared: &Shared, page: &StatsPage, rows: &[Row], admin: bool) -> String {
    let p = &shared.process;
    let mut out = String::new();
    let node = match page.show_node.as_deref() {
        Some("") | None => p.node.clone(),
        Some(n) => n.to_string(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><title>Statistics Report for HAProxy{}</title>\n\
<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n\
<style>body{{font-family:arial,helvetica,sans-serif;font-size:12px;}}\
table.tbl{{border-collapse:collapse;border:1px solid #999;margin-bottom:12px;}}\
table.tbl td,table.tbl th{{border:1px solid #999;padding:1px 4px;text-align:right;}}\
th.pxname{{background:#b00040;color:#ffff40;text-align:left;}}\
tr.titre th{{background:#20a0ff;}} tr.frontend td{{background:#e8e8d0;}}\
tr.backend td{{background:#e8e8d0;}} tr.active_up td{{background:#c0ffc0;}}\
tr.active_down td{{background:#ff9090;}} tr.maintain td{{background:#c07820;}}\
tr.active_draining td{{background:#20a0ff;}} tr.active_nolb td{{background:#20a0ff;}}\
tr.active_going_up td{{background:#ffe080;}} tr.active_going_down td{{background:#ffd020;}}\
tr.active_no_check td{{background:#e0e0e0;}} tr.backup_up td{{background:#b0d0ff;}}\
tr.backup_down td{{background:#ff9090;}} tr.backup_draining td{{background:#cc9900;}}\
tr.backup_nolb td{{background:#90b0e0;}} tr.backup_going_up td{{background:#ffe080;}}\
tr.backup_going_down td{{background:#ffd020;}} tr.backup_no_check td{{background:#e0e0e0;}}\
td.ac{{text-align:center;}}</style></head>\n<body>\n",
        if page.show_node.is_some() {
            format!(" on {}", esc(&node))
        } else {
            String::new()
        }
    );
    out.push_str("<h1>HAProxy</h1>\n");
    if page.hide_version {
        let _ = writeln!(
            out,
            "<h2>Statistics Report for pid {}</h2>",
            std::process::id()
        );
    } else {
        let _ = writeln!(
            out,
            "<h2>Statistics Report for pid {}</h2>\n<p>version {} (hapee {}), released {}</p>",
            std::process::id(),
            super::info::HAPROXY_VERSION,
            super::info::VERSION,
            super::info::RELEASE_DATE
        );
    }
    let _ = writeln!(
        out,
        "<h3>&gt; General process information</h3>\n<p>pid = {} (process #1, nbproc = 1, nbthread = {})<br>\nuptime = {}s<br>\nmaxconn = {}; current conns = {}; current pipes = 0/0; conn rate = {}/sec<br>\nRunning tasks: {}</p>",
        std::process::id(),
        p.nbthread,
        p.uptime_secs(),
        p.maxconn.load(Ordering::Relaxed),
        shared.active.load(Ordering::Relaxed),
        p.conn_rates().0,
        shared.active.load(Ordering::Relaxed),
    );
    if page.show_node.is_some() {
        let _ = writeln!(out, "<p>Node: {}</p>", esc(&node));
    }
    if let Some(desc) = &page.show_desc {
        let _ = writeln!(out, "<p>Description: {}</p>", esc(desc));
    }
    if page.show_legends {
        out.push_str("<p class=\"legends\">active UP, active UP going down, active DOWN going up, active or backup DOWN, active or backup DOWN for maintenance (MAINT), active or backup SOFT STOPPED for maintenance. Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</p>\n");
    }
    out.push_str(&format!(
        "<p>Display option: <a href=\"{uri};csv\">CSV export</a> <a href=\"{uri};json\">JSON export</a></p>\n",
        uri = esc(&page.uri)
    ));
    let modules = page.show_modules.then_some(shared);
    // Group rows by proxy, in order.
    let mut i = 0;
    while i < rows.len() {
        let name = rows[i].values[0].text();
        let start = i;
        while i < rows.len() && rows[i].values[0].text() == name {
            i += 1;
        }
        proxy_table(&mut out, &rows[start..i], admin, modules);
    }
    out.push_str("</body></html>\n");
    out
}

/// One proxy's table; `modules`: with the statistics modules' columns (`stats show-modules`).
fn proxy_table(out: &mut String, rows: &[Row], admin: bool, modules: Option<&Shared>) {
    let name = rows[0].values[0].text();
    let be_id = rows
        .iter()
        .find(|r| r.kind != Kind::Frontend)
        .map(|r| r.proxy_id);
    let with_form = admin && be_id.is_some() && rows.iter().any(|r| r.kind == Kind::Server);
    if with_form {
        let _ = writeln!(out, "<form method=\"post\">");
    }
    let _ = writeln!(
        out,
        "<table class=\"tbl\"><tr class=\"titre\"><th class=\"pxname\" colspan=\"30\"><a name=\"{n}\">{n}</a></th></tr>",
        n = esc(&name)
    );
    out.push_str(
        "<tr class=\"titre\"><th rowspan=\"2\"></th><th colspan=\"3\">Queue</th><th colspan=\"3\">Session rate</th>\
<th colspan=\"6\">Sessions</th><th colspan=\"2\">Bytes</th><th colspan=\"2\">Denied</th><th colspan=\"3\">Errors</th>\
<th colspan=\"2\">Warnings</th><th colspan=\"9\">Server</th>",
    );
    if modules.is_some() {
        page_modules::group_heading(out);
    }
    out.push_str(
        "</tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th>\
<th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th>\
<th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th>\
<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>",
    );
    if modules.is_some() {
        page_modules::headings(out);
    }
    out.push_str("</tr>\n");
    for r in rows {
        let v = &r.values;
        let class = match r.kind {
            Kind::Frontend => "frontend",
            Kind::Listener => "socket",
            Kind::Backend => "backend",
            Kind::Server => &server_class(v),
        };
        let label = match r.kind {
            Kind::Server if with_form => format!(
                "<input type=\"checkbox\" name=\"s\" value=\"{n}\">{n}",
                n = cell(&v[1])
            ),
            Kind::Frontend => "Frontend".into(),
            Kind::Backend => "Backend".into(),
            Kind::Server | Kind::Listener => cell(&v[1]),
        };
        let last_chk = if v[36] == Val::Empty {
            String::new()
        } else {
            format!("{} in {}ms", cell(&v[36]), cell(&v[38]))
        };
        let cols: Vec<String> = [
            2, 3, 25, 33, 35, 34, 4, 5, 6, 7, 30, 55, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ]
        .iter()
        .map(|&c| cell(&v[c]))
        .chain([
            cell(&v[17]),
            last_chk,
            cell(&v[18]),
            cell(&v[19]),
            cell(&v[20]),
            cell(&v[21]),
            cell(&v[22]),
            cell(&v[24]),
            cell(&v[29]),
        ])
        .collect();
        let _ = write!(out, "<tr class=\"{class}\"><td class=\"ac\">{label}</td>");
        for c in cols {
            let _ = write!(out, "<td>{c}</td>");
        }
        if let Some(shared) = modules {
            page_modules::cells(out, shared, r);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if with_form {
        let _ = writeln!(
            out,
            "<input type=\"hidden\" name=\"b\" value=\"#{}\">\
Choose the action to perform on the checked servers : <select name=\"action\">\
<option value=\"\"></option><option value=\"ready\">Set state to READY</option>\
<option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option>\
<option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option>\
</select><input type=\"submit\" value=\"Apply\"></form>",
            be_id.unwrap_or(0)
        );
    }
}
