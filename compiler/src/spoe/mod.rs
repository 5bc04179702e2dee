//! SPOE configuration files: what `filter spoe [engine <name>] config <file>` names. HAProxy reads
//! the file while it reads the filter's line, with its own sections (`spoe-agent`,
//! `spoe-message`, `spoe-group`) and `[name]` scopes that select one engine's lines. The file is
//! added to the source database so its diagnostics carry its file, line and column.

use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::ir::{Config, ProxyKind};
use crate::lexer::{lex_line, LineContext};
use crate::registry::RuleSet;
use crate::source::{SourceDb, Span};
use crate::syntax::Environment;
use sections::{prefix_ok, Reading};
use serde::Serialize;

mod places;
mod sections;

/// The smallest frame size `max-frame-size` accepts; the largest (and the default) is the
/// buffer size (`tune.bufsize`) less the 4 bytes of a frame's length.
pub const MIN_FRAME_SIZE: u32 = 256;
pub(crate) const DEFAULT_BUFSIZE: u32 = 16384;

/// A `filter spoe` line: its proxy, `engine` and `config` words, and the line's span.
struct SpoeFilterRef<'c> {
    proxy: &'c crate::ir::Proxy,
    engine: Option<&'c str>,
    file: &'c str,
    line: Span,
}

/// The `filter spoe` lines HAProxy accepted (a line it refused has its error already).
fn filter_lines(config: &Config) -> Vec<SpoeFilterRef<'_>> {
    let mut out = Vec::new();
    for proxy in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        for d in proxy.directives.iter().filter(|d| d.keyword == "filter") {
            let (Some("spoe"), rest) = (d.args.first().map(|a| a.as_str()), d.args.get(1..)) else {
                continue;
            };
            let (mut engine, mut file) = (None, None);
            for pair in rest.unwrap_or_default().chunks(2) {
                match (pair[0].as_str(), pair.get(1)) {
                    ("engine", Some(v)) => engine = Some(v.as_str()),
                    ("config", Some(v)) => file = Some(v.as_str()),
                    _ => {}
                }
            }
            if let Some(file) = file {
                out.push(SpoeFilterRef {
                    proxy,
                    engine,
                    file,
                    line: d.span,
                });
            }
        }
    }
    out
}

/// When a message is sent without a `send-spoe-group` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpoeEvent {
    OnClientSession,
    OnServerSession,
    OnFrontendTcpRequest,
    OnBackendTcpRequest,
    OnTcpResponse,
    OnFrontendHttpRequest,
    OnBackendHttpRequest,
    OnHttpResponse,
}

impl SpoeEvent {
    const NAMES: [(&'static str, SpoeEvent); 8] = [
        ("on-client-session", SpoeEvent::OnClientSession),
        ("on-server-session", SpoeEvent::OnServerSession),
        ("on-frontend-tcp-request", SpoeEvent::OnFrontendTcpRequest),
        ("on-backend-tcp-request", SpoeEvent::OnBackendTcpRequest),
        ("on-tcp-response", SpoeEvent::OnTcpResponse),
        ("on-frontend-http-request", SpoeEvent::OnFrontendHttpRequest),
        ("on-backend-http-request", SpoeEvent::OnBackendHttpRequest),
        ("on-http-response", SpoeEvent::OnHttpResponse),
    ];

    pub(crate) fn parse(name: &str) -> Option<SpoeEvent> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("", |(n, _)| n)
    }
}

/// One `spoe-message` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpoeMessage {
    pub name: String,
    /// `args [name=]<sample>…`: the argument's name (empty when none) and its expression.
    pub args: Vec<(String, String)>,
    /// `acl <name> <criterion> …` lines of the section, as words.
    pub acls: Vec<Vec<String>>,
    pub event: Option<SpoeEvent>,
    /// `if`/`unless` and the words after the event.
    pub condition: Vec<String>,
    /// The line of its `spoe-message` header, which HAProxy's messages name.
    pub line: usize,
}

/// One `spoe-group` section: messages sent together by `send-spoe-group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpoeGroup {
    pub name: String,
    pub messages: Vec<String>,
}

/// An SPOE engine: the filter's agent with the messages and groups it uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpoeEngine {
    /// The name `send-spoe-group` uses: the filter's `engine`, else the agent's name.
    pub id: String,
    pub agent: String,
    /// The file it was read from, as written.
    pub file: String,
    pub backend: String,
    /// `timeout hello|idle|processing`, in milliseconds (`None`: never).
    pub timeout_hello: Option<u32>,
    pub timeout_idle: Option<u32>,
    pub timeout_processing: Option<u32>,
    /// Variables the agent sets are named `<scope>.<var_prefix>.<name>`.
    pub var_prefix: String,
    pub continue_on_error: bool,
    pub force_set_var: bool,
    pub set_on_error: Option<String>,
    pub set_process_time: Option<String>,
    pub set_total_time: Option<String>,
    pub register_var_names: Vec<String>,
    pub max_frame_size: u32,
    pub max_waiting_frames: u32,
    pub maxconnrate: u32,
    pub maxerrrate: u32,
    /// `option async|pipelining|send-frag-payload` (on unless negated).
    pub async_mode: bool,
    pub pipelining: bool,
    pub send_frag_payload: bool,
    /// Messages sent on their event (`messages`).
    pub messages: Vec<SpoeMessage>,
    /// Groups `send-spoe-group` sends, with their messages resolved.
    pub groups: Vec<(SpoeGroup, Vec<SpoeMessage>)>,
    /// `<file>:<line>` of the `spoe-agent` line.
    pub declared: String,
    /// Name of the proxy whose filter it is.
    pub proxy: String,
    /// The `filter` line, to find the engine from the proxy's filters.
    #[serde(skip)]
    pub filter_line: Span,
}

impl SpoeEngine {
    /// The messages sent on `event`.
    pub fn on_event(&self, event: SpoeEvent) -> impl Iterator<Item = &SpoeMessage> {
        self.messages.iter().filter(move |m| m.event == Some(event))
    }
}

/// Reads the SPOE file of each `filter spoe` line, adds it to `db` (and to
/// `config.spoe_files`), and records the engines in `config.spoe_engines`; the diagnostics of
/// each filter line are those HAProxy reports while reading it, in its order.
pub fn load(
    db: &mut SourceDb,
    config: &mut Config,
    env: &dyn Environment,
) -> Vec<(Span, Vec<Diagnostic>)> {
    let mut found = Vec::new();
    let mut engines = Vec::new();
    let mut files = Vec::new();
    for f in filter_lines(config) {
        let mut out = Vec::new();
        let at = f.line;
        engines.extend(engine_of(f, db, config, env, &mut out, &mut files));
        found.push((at, out));
    }
    config.spoe_engines = engines;
    config.spoe_files = files;
    found
}

/// The engine of one `filter spoe` line, if its file is read without error.
fn engine_of(
    f: SpoeFilterRef,
    db: &mut SourceDb,
    config: &Config,
    env: &dyn Environment,
    out: &mut Vec<Diagnostic>,
    files: &mut Vec<crate::source::FileId>,
) -> Option<SpoeEngine> {
    {
        let shown = f.file.to_string();
        let path = match (&config.global.default_path, std::path::Path::new(&shown)) {
            (Some(dir), p) if p.is_relative() => std::path::Path::new(dir).join(p),
            (_, p) => p.to_path_buf(),
        };
        let filter_err = |m: String| {
            Diagnostic::new("E410", format!("'filter' : '{m}'"))
                .at(f.line)
                .label("in this SPOE configuration")
        };
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "No such file or directory",
                    std::io::ErrorKind::PermissionDenied => "Permission denied",
                    _ => "Is a directory",
                };
                out.push(filter_err(format!(
                    "Could not open configuration file {shown} : {reason}"
                )));
                return None;
            }
        };
        let file = db.add(shown.clone(), text);
        files.push(file);
        let proxy = f.proxy;
        let engine = f.engine.map(str::to_string);
        let mut reading = Reading {
            file_name: shown.clone(),
            max_frame_size: config
                .global
                .bufsize
                .unwrap_or(DEFAULT_BUFSIZE)
                .saturating_sub(4),
            ..Reading::default()
        };
        let source = db.file(file);
        let mut scope: Option<String> = None;
        for index in 0..source.line_count() {
            let range = source.line_range(index);
            let text = &source.text[range.clone()];
            let trimmed = text.trim_start();
            if let Some(rest) = trimmed.strip_prefix('[') {
                // `[name]`: the lines after it belong to that engine.
                let name = rest.split(']').next().unwrap_or("").trim();
                scope = Some(name.to_string());
                continue;
            }
            if scope != engine {
                continue;
            }
            let ctx = LineContext {
                file,
                offset: range.start,
                file_name: &shown,
                line_number: index + 1,
                section: "",
                env,
            };
            let lexed = lex_line(text, &ctx);
            if let Some(e) = lexed.error {
                reading.errors += 1;
                out.push(e);
                continue;
            }
            if lexed.words.is_empty() {
                continue;
            }
            let line = Span::new(file, range.start, range.end);
            reading.line_number = index + 1;
            reading.line(&lexed.words, out, line);
        }
        if reading.errors > 0 {
            out.push(filter_err(format!(
                "Error(s) found in configuration file {shown}"
            )));
            return None;
        }
        let Some((mut agent, agent_at)) = reading.agent.take() else {
            out.push(filter_err(format!("No SPOE agent found in file {shown}")));
            return None;
        };
        let declared = {
            let lc = db.line_col(agent_at);
            format!("{shown}:{}", lc.line)
        };
        if agent.backend.is_empty() {
            out.push(filter_err(format!(
                "No backend declared for SPOE agent '{}' declared at {declared}",
                agent.agent
            )));
            return None;
        }
        let proxy_name = proxy.name_str().to_string();
        if agent.timeout_hello.is_none()
            || agent.timeout_idle.is_none()
            || agent.timeout_processing.is_none()
        {
            let mut d = Diagnostic::new(
                "W411",
                format!(
                    "Proxy '{proxy_name}': missing timeouts for SPOE agent '{}' declare at {declared}.",
                    agent.agent
                ),
            )
            .at(agent_at)
            .label("this agent")
            .form(HaproxyForm::Bare)
            .help("set 'timeout hello', 'timeout idle' and 'timeout processing' in the spoe-agent section");
            d.haproxy_continuation = Some(
                "   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'hello', 'idle', 'processing'."
                    .into(),
            );
            out.push(d);
        }
        if agent.var_prefix.is_empty() {
            if !prefix_ok(&agent.agent) {
                out.push(filter_err(format!(
                    "Invalid variable prefix '{0}' for SPOE agent '{0}' declared at {declared}. Use 'option var-prefix' to set it. Only [a-zA-Z0-9_.] chars are supported.\n",
                    agent.agent
                )));
                return None;
            }
            agent.var_prefix = agent.agent.clone();
        }
        let warning = |code: &'static str, message: String, at: Span, label: &'static str| {
            Diagnostic::new(code, message)
                .at(at)
                .label(label)
                .form(HaproxyForm::Bare)
        };
        if reading.agent_messages.is_empty() && reading.agent_groups.is_empty() {
            out.push(
                warning(
                    "W412",
                    format!(
                        "Proxy '{proxy_name}': No message/group used by SPOE agent '{}' declared at {declared}.",
                        agent.agent
                    ),
                    agent_at,
                    "this agent",
                )
                .help("list the messages it sends ('messages') or the groups ('groups') in the spoe-agent section"),
            );
        }
        let both = proxy.kind == ProxyKind::Listen;
        let (fe, be) = (
            both || proxy.kind == ProxyKind::Frontend,
            both || proxy.kind == ProxyKind::Backend,
        );
        let mut failed = false;
        for ph in &reading.agent_messages {
            let Some((msg, _)) = reading.messages.iter().find(|(m, _)| m.name == ph.value) else {
                out.push(filter_err(format!(
                    "SPOE agent '{}' try to use undefined SPOE message '{}' at {declared}",
                    agent.agent, ph.value
                )));
                failed = true;
                break;
            };
            let mut msg = msg.clone();
            if both {
                msg.event = match msg.event {
                    Some(SpoeEvent::OnBackendTcpRequest) => Some(SpoeEvent::OnFrontendTcpRequest),
                    Some(SpoeEvent::OnBackendHttpRequest) => Some(SpoeEvent::OnFrontendHttpRequest),
                    e => e,
                };
            }
            // HAProxy leaves out, with a warning, a message it could never send here.
            let frontend_event = matches!(
                msg.event,
                Some(
                    SpoeEvent::OnClientSession
                        | SpoeEvent::OnFrontendTcpRequest
                        | SpoeEvent::OnFrontendHttpRequest
                )
            );
            if frontend_event && !fe {
                out.push(warning(
                    "W413",
                    format!(
                        "Proxy '{proxy_name}': frontend event used on a backend proxy at {shown}:{}.",
                        msg.line
                    ),
                    ph.span,
                    "this message is sent on a frontend event",
                ));
                continue;
            }
            let Some(event) = msg.event else {
                out.push(warning(
                    "W413",
                    format!(
                        "Proxy '{proxy_name}': Ignore SPOE message '{}' without event at {shown}:{}.",
                        msg.name, msg.line
                    ),
                    ph.span,
                    "this message has no 'event'",
                ));
                continue;
            };
            if let Some((reads, here)) =
                places::unavailable(&msg, places::event_places(event, fe, be))
            {
                out.push(filter_err(format!(
                    "Ignore SPOE message '{}' at {shown}:{}: some args extract information from '{reads}', none of which is available here ('{here}')",
                    msg.name, msg.line
                )));
                failed = true;
                break;
            }
            agent.messages.push(msg);
        }
        for ph in &reading.agent_groups {
            if failed {
                break;
            }
            let Some((group, _, _)) = reading.groups.iter().find(|(g, _, _)| g.name == ph.value)
            else {
                out.push(filter_err(format!(
                    "SPOE agent '{}' try to use undefined SPOE group '{}' at {declared}",
                    agent.agent, ph.value
                )));
                failed = true;
                break;
            };
            let mut messages = Vec::new();
            for name in &group.messages {
                match reading.messages.iter().find(|(m, _)| m.name == *name) {
                    Some((m, _)) => messages.push(m.clone()),
                    None => {
                        out.push(filter_err(format!(
                            "SPOE group '{}' try to use undefined SPOE message '{name}' at {declared}",
                            group.name
                        )));
                        failed = true;
                        break;
                    }
                }
            }
            agent.groups.push((group.clone(), messages));
        }
        if failed {
            return None;
        }
        agent.id = engine.clone().unwrap_or_else(|| agent.agent.clone());
        agent.file = shown;
        agent.proxy = proxy_name;
        agent.declared = declared;
        agent.filter_line = f.line;
        Some(agent)
    }
}

/// Post-parse checks of the engines: the agent's backend, and the engine and group each
/// `send-spoe-group` rule names.
pub fn check(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for engine in &config.spoe_engines {
        let agent_line = engine.filter_line;
        let declared = || engine.declared.clone();
        match config.backend(&engine.backend).map(|(i, _)| i) {
            None => out.push(
                Diagnostic::new(
                    "E410",
                    format!(
                        "Proxy {} : unknown backend '{}' used by SPOE agent '{}' declared at {}.",
                        engine.proxy,
                        engine.backend,
                        engine.agent,
                        declared()
                    ),
                )
                .at(agent_line)
                .form(HaproxyForm::Bare),
            ),
            Some(b) if config.proxies[b].mode.as_ref().is_some_and(|m| m.value == crate::ir::Mode::Http) => {
                out.push(
                    Diagnostic::new(
                        "E410",
                        format!(
                            "Proxy {} : backend '{}' used by SPOE agent '{}' declared at {} does not support HTTP mode.",
                            engine.proxy,
                            engine.backend,
                            engine.agent,
                            declared()
                        ),
                    )
                    .at(agent_line)
                    .form(HaproxyForm::Bare),
                )
            }
            Some(_) => {}
        }
    }
    for proxy in config
        .proxies
        .iter()
        .filter(|p| p.kind != ProxyKind::Defaults)
    {
        for rule in proxy.rules.iter().filter(|r| {
            r.action.value == "send-spoe-group"
                && matches!(
                    r.set,
                    RuleSet::HttpRequest
                        | RuleSet::HttpResponse
                        | RuleSet::TcpRequestContent
                        | RuleSet::TcpResponseContent
                )
        }) {
            let arg = |i: usize| rule.args.get(i).map_or("", |a| a.value.as_str());
            let (engine_id, group_id) = (arg(0), arg(1));
            let engine = config
                .spoe_engines
                .iter()
                .find(|e| e.proxy == proxy.name_str() && e.id == engine_id);
            let group = engine.and_then(|e| e.groups.iter().find(|(g, _)| g.name == group_id));
            let message = match (engine, group) {
                (None, _) => format!(
                    "unable to find SPOE engine '{engine_id}' used by the send-spoe-group '{group_id}'"
                ),
                (Some(_), None) => format!(
                    "unable to find SPOE group '{group_id}' into SPOE engine '{engine_id}' configuration"
                ),
                (Some(e), Some((_, messages))) => {
                    let here = places::rule_places(rule.set).unwrap_or(0);
                    let Some((m, (reads, here))) = messages
                        .iter()
                        .find_map(|m| places::unavailable(m, here).map(|u| (m, u)))
                    else {
                        continue;
                    };
                    // HAProxy's message lacks the space after its comma.
                    format!(
                        "Invalid SPOE message '{}' used by SPOE group '{group_id}' at {}:{}: some args extract information from '{reads}',none of which is available here ('{here}')",
                        m.name, e.file, m.line
                    )
                }
            };
            out.push(
                Diagnostic::new("E410", format!("Proxy '{}': {message}.", proxy.name_str()))
                    .at(rule.span)
                    .form(HaproxyForm::Bare),
            );
        }
    }
    out
}
