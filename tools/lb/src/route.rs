//! `hapee-lb route`: where does this request go? One request is replayed offline through the
//! compiled configuration with the runtime's own request path (`hapee_runtime::explain`, no
//! sockets): every `http-request` rule with its condition's outcome and the headers it
//! changed, every `use_backend` tried, then the backend and the server the balancing picks
//! (every server counted up: no health check runs offline), or the deny, redirect or return.

use hapee_compiler::check::compile;
use hapee_compiler::diagnostic::Severity;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::plan::{self, Plan};
use hapee_compiler::registry::RuleSet;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;
use hapee_runtime::explain::{self, Trace};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct RouteArgs {
    pub files: Vec<PathBuf>,
    /// The client address (`--src`), 192.0.2.1:40000 by default.
    pub src: Option<String>,
    pub tls: bool,
    pub sni: Option<String>,
    /// The frontend receiving the request (`--frontend`); else the first HTTP one with a bind.
    pub frontend: Option<String>,
    pub json: bool,
    /// `METHOD /path`.
    pub request: String,
    pub headers: Vec<String>,
    /// The request's body (`-d BODY`, `-d @FILE` as curl reads it).
    pub data: Option<String>,
}

pub const USAGE: &str = "usage: hapee-lb route -f CFG [--src ADDR[:PORT]] [--tls] [--sni NAME] \
[--frontend NAME] [--format json] 'METHOD /path' [-H 'Name: value']... [-d BODY|@FILE]";

pub fn parse_args(args: &[String]) -> Result<RouteArgs, String> {
    let mut r = RouteArgs::default();
    let mut i = 0;
    let value = |i: &mut usize, flag: &str| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("'{flag}' expects an argument\n{USAGE}"))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-f" => r.files.push(PathBuf::from(value(&mut i, a)?)),
            "--src" => r.src = Some(value(&mut i, a)?),
            "--tls" => r.tls = true,
            // A server name is only sent over TLS.
            "--sni" => {
                r.sni = Some(value(&mut i, a)?);
                r.tls = true;
            }
            "--frontend" => r.frontend = Some(value(&mut i, a)?),
            "-H" | "--header" => r.headers.push(value(&mut i, a)?),
            "-d" | "--data" => r.data = Some(value(&mut i, a)?),
            "--format" => match value(&mut i, a)?.as_str() {
                "json" => r.json = true,
                "human" => r.json = false,
                other => return Err(format!("unknown format '{other}' (human or json)")),
            },
            _ if a.starts_with('-') => return Err(format!("unknown option '{a}'\n{USAGE}")),
            _ if r.request.is_empty() => r.request = a.to_string(),
            _ => return Err(format!("unexpected argument '{a}'\n{USAGE}")),
        }
        i += 1;
    }
    if r.files.is_empty() || r.request.is_empty() {
        return Err(USAGE.into());
    }
    Ok(r)
}

/// The request's body: `-d`'s text, or the file it names after `@` (`@-` is no file here).
fn body(args: &RouteArgs) -> Result<Option<Vec<u8>>, String> {
    match args.data.as_deref() {
        None => Ok(None),
        Some(d) => match d.strip_prefix('@') {
            Some(path) => std::fs::read(path)
                .map(Some)
                .map_err(|e| format!("-d @{path}: {e}")),
            None => Ok(Some(d.as_bytes().to_vec())),
        },
    }
}

/// The request head the arguments describe. Without a `Host` header, the one an HTTP/1.1
/// client such as curl sends: the server name, else the address the request arrives on; with
/// a body and no length or chunked header, its `Content-Length`, as curl sends it.
fn head(args: &RouteArgs, local: SocketAddr, body: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut words = args.request.split_whitespace();
    let (Some(method), Some(target), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "the request is 'METHOD /path' (got '{}')",
            args.request
        ));
    };
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    let has_host = args.headers.iter().any(|h| {
        h.split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("host"))
    });
    if !has_host && !target.starts_with("http") {
        match &args.sni {
            Some(name) => head.push_str(&format!("Host: {name}\r\n")),
            None => head.push_str(&format!("Host: {local}\r\n")),
        }
    }
    for h in &args.headers {
        if !h.contains(':') {
            return Err(format!("a header is 'Name: value' (got '{h}')"));
        }
        head.push_str(h);
        head.push_str("\r\n");
    }
    let framed = args.headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(n, _)| {
            let n = n.trim();
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        })
    });
    if let Some(b) = body.filter(|_| !framed) {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

fn client(args: &RouteArgs) -> Result<SocketAddr, String> {
    let text = args.src.as_deref().unwrap_or("192.0.2.1");
    text.parse::<SocketAddr>()
        .or_else(|_| {
            text.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 40000))
        })
        .map_err(|_| format!("--src expects an address, ADDR or ADDR:PORT (got '{text}')"))
}

/// The frontend index and the local address the request arrives on.
fn entry(plan: &Plan, args: &RouteArgs) -> Result<(usize, SocketAddr), String> {
    let fe = match &args.frontend {
        Some(name) => plan
            .frontends
            .iter()
            .position(|f| &f.name == name)
            .ok_or_else(|| format!("no frontend '{name}'"))?,
        None => plan
            .listeners
            .iter()
            .map(|l| l.frontend)
            .find(|&f| plan.frontends[f].mode == hapee_compiler::ir::Mode::Http)
            .ok_or("no HTTP frontend with a bind (use --frontend)")?,
    };
    let local = plan
        .listeners
        .iter()
        .filter(|l| l.frontend == fe && l.tls == args.tls)
        .chain(plan.listeners.iter().filter(|l| l.frontend == fe))
        .map(|l| {
            let port = match l.address.port {
                hapee_compiler::address::Port::Range { low, .. } => low,
                _ => 80,
            };
            let ip = l
                .address
                .ip
                .filter(|ip| !ip.is_unspecified())
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
            SocketAddr::new(ip, port)
        })
        .next()
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], if args.tls { 443 } else { 80 })));
    Ok((fe, local))
}

/// `http-request set-header X-A b if cond`, as written (after variable expansion).
fn rule_text(r: &plan::Rule) -> String {
    // A `redirect` directive is shown as written, not as the rule it runs as.
    let mut words = if r.plain_redirect {
        vec![r.action.clone()]
    } else {
        vec![r.set.keyword().to_string(), r.action.clone()]
    };
    words.extend(r.args.iter().cloned());
    words.extend(r.condition.iter().cloned());
    words.join(" ")
}

/// The plan's rules of a proxy, in the runtime's order (check rules are not request rules).
fn request_rules(rules: &[plan::Rule]) -> Vec<&plan::Rule> {
    rules
        .iter()
        .filter(|r| !matches!(r.set, RuleSet::HttpCheck | RuleSet::TcpCheck))
        .collect()
}

/// The plan's rule a step ran.
fn step_rule<'a>(
    plan: &'a Plan,
    trace: &Trace,
    step: &explain::RuleStep,
) -> Option<&'a plan::Rule> {
    let rules = if step.proxy == trace.frontend {
        plan.frontends
            .iter()
            .find(|f| f.name == step.proxy)
            .map(|f| &f.rules)
    } else {
        plan.backends
            .iter()
            .find(|b| b.name == step.proxy)
            .map(|b| &b.rules)
    };
    rules.and_then(|r| request_rules(r).get(step.index).copied())
}

/// The rule text of each step, looked up in the plan.
fn step_rule_text(plan: &Plan, trace: &Trace, step: &explain::RuleStep) -> String {
    step_rule(plan, trace, step)
        .map(rule_text)
        .unwrap_or_default()
}

/// Where each line the trace went through is written, as `check` names places
/// (`file:line:col`): the rules, the `use_backend` lines, the `default_backend` line.
struct Places {
    rules: Vec<String>,
    switches: Vec<String>,
    default_backend: Option<String>,
}

impl Places {
    fn of(
        c: &hapee_compiler::check::Compilation,
        plan: &Plan,
        t: &Trace,
        place: &dyn Fn(Option<hapee_compiler::Span>) -> String,
    ) -> Places {
        let proxy = c.config.proxies.iter().find(|p| {
            p.name
                .as_ref()
                .is_some_and(|n| n.value.as_str() == t.frontend)
        });
        Places {
            rules: t
                .rules
                .iter()
                .map(|s| place(step_rule(plan, t, s).map(|r| r.span)))
                .collect(),
            switches: t
                .switches
                .iter()
                .map(|s| {
                    place(
                        proxy
                            .and_then(|p| p.use_backends.get(s.index))
                            .map(|u| u.span),
                    )
                })
                .collect(),
            default_backend: proxy
                .and_then(|p| p.default_backend.as_ref())
                .map(|d| place(Some(d.span))),
        }
    }
}

/// `  (file:line:col)` after a line of the human answer, when the place is known.
fn at(place: &str) -> String {
    if place.is_empty() {
        String::new()
    } else {
        format!("  ({place})")
    }
}

fn switch_text(plan: &Plan, fe: usize, index: usize) -> String {
    let s = &plan.frontends[fe].switches[index];
    let target = s
        .dynamic
        .clone()
        .or_else(|| s.backend.map(|b| plan.backends[b].name.clone()))
        .unwrap_or_default();
    let mut words = vec!["use_backend".to_string(), target];
    words.extend(s.condition.iter().cloned());
    words.join(" ")
}

pub fn run(args: &RouteArgs) -> u8 {
    match route(args) {
        Ok(text) => {
            say_raw!("{text}");
            0
        }
        Err(e) => {
            eprintln!("hapee-lb route: {e}");
            1
        }
    }
}

fn route(args: &RouteArgs) -> Result<String, String> {
    let mut db = SourceDb::new();
    for f in &args.files {
        db.load_path(f).map_err(|e| e.to_string())?;
    }
    let options = CheckOptions {
        no_env: true,
        ..Default::default()
    };
    let c = compile(db, &ProcessEnv, &options);
    let place = |span: Option<hapee_compiler::Span>| {
        span.map_or(String::new(), |s| {
            let f = c.db.file(s.file);
            let lc = f.line_col(s.start as usize);
            format!("{}:{}:{}", f.name, lc.line, lc.col)
        })
    };
    if let Some(d) = c.diagnostics.iter().find(|d| d.severity == Severity::Error) {
        let at = place(d.span);
        let at = if at.is_empty() { at } else { at + ": " };
        return Err(format!("{at}{} (run 'hapee-lb check')", d.message));
    }
    // What the runtime lacks is not replayed: the answer says so, since `run` would refuse
    // the configuration and HAProxy would act on those lines.
    let not_replayed: Vec<(String, String)> = crate::unsupported::unsupported(&c)
        .into_iter()
        .map(|(span, what)| (place(Some(span)), what))
        .collect();
    let plan = plan::build(&c.config, 1);
    let shared = hapee_runtime::state::Shared::build(&plan).map_err(|e| {
        // Mostly files the configuration names (maps, error files) that are not on this
        // machine: `run` needs them too, so nothing can be replayed without them.
        format!(
            "cannot replay: the runtime could not load this configuration: {}",
            e.join("; ")
        )
    })?;
    let shared = std::sync::Arc::new(shared);
    let (fe, local) = entry(&plan, args)?;
    let client = client(args)?;
    let body = body(args)?;
    let head = head(args, local, body.as_deref())?;
    let conn = explain::Connection {
        client,
        local,
        tls: args.tls,
        sni: args.sni.clone(),
    };
    let trace = explain::trace(&shared, fe, &conn, &head, body.as_deref())
        .ok_or("the request does not parse as HTTP/1.1 (check the method, path and headers)")?;
    let places = Places::of(&c, &plan, &trace, &place);
    let proxies = [
        trace.frontend.as_str(),
        trace.backend.as_deref().unwrap_or(""),
    ];
    let notes = Notes {
        body_len: body.as_ref().map(|b| b.len()),
        table_reads: crate::route_offline::table_reads(&c, &proxies)
            .into_iter()
            .map(|(span, read)| (place(Some(span)), read))
            .collect(),
        not_replayed,
    };
    Ok(if args.json {
        json(&plan, fe, &trace, args, client, &places, &notes)
    } else {
        let mut out = String::new();
        for (at, what) in &notes.not_replayed {
            out.push_str(&format!(
                "warning: {at}: not replayed, the answer may differ: {what}\n"
            ));
        }
        out.push_str(&human(&plan, fe, &trace, args, client, &places, &notes));
        if !notes.table_reads.is_empty() {
            out.push_str(&format!("note: {TABLES_OFFLINE}:\n"));
            for (at, read) in &notes.table_reads {
                out.push_str(&format!("  {read}  ({at})\n"));
            }
        }
        out
    })
}

/// Why a table read may be answered otherwise by the running proxy.
const TABLES_OFFLINE: &str = "stick tables start empty offline (no earlier request, no peer's \
entries): what reads them here sees this request alone, the running proxy the traffic before it";

/// What the answer says beside the trace: the body's size, the lines not replayed and what
/// reads stick tables (each with its place).
struct Notes {
    body_len: Option<usize>,
    not_replayed: Vec<(String, String)>,
    table_reads: Vec<(String, String)>,
}

/// The backend's `balance` line as written (`roundrobin`, `hdr(x-user)`, …).
fn balance_text(plan: &Plan, backend: &str) -> String {
    plan.backends
        .iter()
        .find(|b| b.name == backend)
        .map_or_else(String::new, |b| b.balance.clone())
}

fn human(
    plan: &Plan,
    fe: usize,
    t: &Trace,
    args: &RouteArgs,
    client: SocketAddr,
    places: &Places,
    notes: &Notes,
) -> String {
    let mut out = format!(
        "{} {} from {client}{} → frontend {}\n",
        t.method,
        args.request.split_whitespace().nth(1).unwrap_or(""),
        if args.tls { " over TLS" } else { "" },
        t.frontend
    );
    if let Some(sni) = &args.sni {
        out.push_str(&format!("  TLS server name (SNI): {sni}\n"));
    }
    if let Some(n) = notes.body_len {
        out.push_str(&format!("  body: {n} bytes\n"));
    }
    // The frontend's rules, its backend switch, then the backend's rules: the order they run.
    let (frontend_steps, backend_steps): (Vec<_>, Vec<_>) = t
        .rules
        .iter()
        .zip(&places.rules)
        .partition(|(s, _)| s.proxy == t.frontend);
    for (step, place) in frontend_steps {
        step_lines(plan, t, step, place, &mut out);
    }
    for (s, place) in t.switches.iter().zip(&places.switches) {
        out.push_str(&format!(
            "  [{}] {}{}\n",
            if s.matched { "match" } else { " no  " },
            switch_text(plan, fe, s.index),
            at(place)
        ));
        if let Some(name) = &s.rendered {
            let outcome = if s.chose {
                "chosen"
            } else {
                "no such backend: the default backend takes it, no later rule is tried"
            };
            out.push_str(&format!("          name '{name}': {outcome}\n"));
        }
    }
    if let Some(b) = t
        .backend
        .as_ref()
        .filter(|_| !t.switches.iter().any(|s| s.chose))
    {
        let place = places.default_backend.as_deref().unwrap_or("");
        out.push_str(&format!("  [default] backend {b}{}\n", at(place)));
    }
    if let Some((b, _)) = backend_steps.first() {
        out.push_str(&format!("backend {}\n", b.proxy));
    }
    for (step, place) in backend_steps {
        step_lines(plan, t, step, place, &mut out);
    }
    match (&t.backend, &t.balance) {
        (Some(b), Some(bal)) if t.verdict == "continue" => {
            if let Some(s) = &bal.server {
                out.push_str(&format!(
                    "→ backend {b}, server {s}{} by {}\n",
                    bal.address
                        .as_ref()
                        .map_or(String::new(), |a| format!(" ({a})")),
                    how_chosen(plan, b, bal)
                ));
            }
            out.push_str(&format!("request to the server: {} {}\n", t.method, t.uri));
            for (n, v) in &t.headers {
                out.push_str(&format!("  {n}: {v}\n"));
            }
        }
        _ => out.push_str(&format!("→ {}\n", t.verdict)),
    }
    out
}

/// One evaluated rule: its outcome, the headers it changed, the verdict it gave.
fn step_lines(plan: &Plan, t: &Trace, step: &explain::RuleStep, place: &str, out: &mut String) {
    out.push_str(&format!(
        "  [{}] {}{}\n",
        if step.matched { "match" } else { " no  " },
        step_rule_text(plan, t, step),
        at(place)
    ));
    for h in &step.headers {
        match &h.value {
            Some(v) => out.push_str(&format!("          header {}: {v}\n", h.name)),
            None => out.push_str(&format!("          header {} removed\n", h.name)),
        }
    }
    if let Some(s) = &step.stopped {
        out.push_str(&format!("          → {s}\n"));
    }
}

/// How the balancing chose the server, in words.
fn how_chosen(plan: &Plan, backend: &str, bal: &explain::Balance) -> String {
    let algorithm = balance_text(plan, backend);
    if bal.forced {
        "use-server (or a stickiness entry)".to_string()
    } else if let Some(k) = bal.hash_key {
        format!("balance {algorithm} (hash key {k:#x})")
    } else if bal.settled {
        format!("balance {algorithm} (the only server)")
    } else {
        format!(
            "balance {algorithm}: the first request's pick; later ones go in turn among {}",
            bal.candidates.join(", ")
        )
    }
}

fn json(
    plan: &Plan,
    fe: usize,
    t: &Trace,
    args: &RouteArgs,
    client: SocketAddr,
    places: &Places,
    notes: &Notes,
) -> String {
    use serde_json::json;
    let rules: Vec<_> = t
        .rules
        .iter()
        .zip(&places.rules)
        .map(|(s, place)| {
            json!({
                "proxy": s.proxy,
                "rule": step_rule_text(plan, t, s),
                "at": place,
                "matched": s.matched,
                "headers": s.headers.iter().map(|h| json!({"name": h.name, "value": h.value})).collect::<Vec<_>>(),
                "stopped": s.stopped,
            })
        })
        .collect();
    let switches: Vec<_> = t
        .switches
        .iter()
        .zip(&places.switches)
        .map(|(s, place)| {
            json!({
                "rule": switch_text(plan, fe, s.index),
                "at": place,
                "matched": s.matched,
                "name": s.rendered,
                "chosen": s.chose,
            })
        })
        .collect();
    let server = t.balance.as_ref().map(|b| {
        json!({
            "name": b.server,
            "address": b.address,
            "balance": t.backend.as_deref().map(|n| balance_text(plan, n)),
            "hash_key": b.hash_key,
            "use_server": b.forced,
            "settled": b.settled,
            "candidates": b.candidates,
        })
    });
    // The default backend took the request when no `use_backend` chose one.
    let by_default = t.backend.is_some() && !t.switches.iter().any(|s| s.chose);
    let v = json!({
        "frontend": t.frontend,
        "client": client.to_string(),
        "tls": args.tls,
        "sni": args.sni,
        "body_bytes": notes.body_len,
        "not_replayed": notes.not_replayed
            .iter()
            .map(|(at, what)| json!({"at": at, "what": what}))
            .collect::<Vec<_>>(),
        "table_reads": notes.table_reads
            .iter()
            .map(|(at, read)| json!({"at": at, "reads": read, "why": TABLES_OFFLINE}))
            .collect::<Vec<_>>(),
        "rules": rules,
        "use_backend": switches,
        "default_backend": by_default.then(|| json!({
            "name": t.backend,
            "at": places.default_backend,
        })),
        "verdict": t.verdict,
        "backend": t.backend,
        "server": server,
        "request": {
            "method": t.method,
            "uri": t.uri,
            "headers": t.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        },
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}
