//! The sections of an SPOE file, line by line: `spoe-agent`, `spoe-message` and
//! `spoe-group`, with HAProxy 2.7's messages.

use super::{SpoeEngine, SpoeEvent, SpoeGroup, SpoeMessage, DEFAULT_BUFSIZE, MIN_FRAME_SIZE};
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::ir::Spanned;
use crate::source::Span;
use crate::syntax::Word;

pub(super) fn err(code: &'static str, message: String, at: Span) -> Diagnostic {
    Diagnostic::new(code, message).at(at)
}

/// What the sections of one file gave, while it is read.
#[derive(Default)]
pub(super) struct Reading {
    pub(super) agent: Option<(SpoeEngine, Span)>,
    /// `messages` and `groups` of the agent, with the span of the name.
    pub(super) agent_messages: Vec<Spanned<String>>,
    pub(super) agent_groups: Vec<Spanned<String>>,
    /// Each with the line number it was declared at.
    pub(super) messages: Vec<(SpoeMessage, usize)>,
    pub(super) groups: Vec<(SpoeGroup, Vec<Spanned<String>>, usize)>,
    /// The file's name and the line being read, for the messages that name a place.
    pub(super) file_name: String,
    pub(super) line_number: usize,
    /// The largest frame size: the buffer size less 4.
    pub(super) max_frame_size: u32,
    pub(super) section: Section,
    pub(super) errors: usize,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Section {
    #[default]
    None,
    Agent,
    Message,
    Group,
}

/// HAProxy's `invalid_char` for section names.
fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
}

pub(super) fn prefix_ok(p: &str) -> bool {
    p.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A timeout value in milliseconds, with HAProxy's messages.
fn timeout_ms(value: &str, what: &str) -> Result<u32, String> {
    if value.is_empty() {
        return Err(format!(
            "'timeout {what}' expects an integer value (in milliseconds)."
        ));
    }
    use crate::ir::values::{parse_time, TimeError, TimeUnit};
    match parse_time(value, TimeUnit::Ms) {
        Err(TimeError::Overflow) => Err(format!(
            "timer overflow in argument <{value}> to <timeout {what}>, maximum value is 2147483647 ms (~24.8 days)."
        )),
        Err(TimeError::Underflow) => Err(format!(
            "timer underflow in argument <{value}> to <timeout {what}>, minimum non-null value is 1 ms."
        )),
        Err(TimeError::Char(at)) => {
            let c = value[at..].chars().next().unwrap_or(' ');
            Err(format!("unexpected character '{c}' in 'timeout {what}'."))
        }
        Ok(d) => Ok(d.value),
    }
}

impl Reading {
    fn push(&mut self, out: &mut Vec<Diagnostic>, d: Diagnostic) {
        if d.severity == Severity::Error {
            self.errors += 1;
        }
        out.push(d);
    }

    pub(super) fn line(&mut self, words: &[Word], out: &mut Vec<Diagnostic>, line: Span) {
        let word = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
        let at = |i: usize| words.get(i).map_or(line, |w| w.span);
        let (negated, words) = if word(0) == "no" {
            (true, &words[1..])
        } else {
            (false, words)
        };
        let word = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
        let kw = word(0);
        let e = |m: String, i: usize| err("E410", m, at(i));
        match kw {
            "spoe-agent" | "spoe-message" | "spoe-group" => {
                self.header(kw, words, out, line);
                return;
            }
            _ => {}
        }
        match self.section {
            Section::None => {
                self.push(out, e(format!("unknown keyword '{kw}' out of section."), 0))
            }
            Section::Agent => {
                if let Some(d) = self.agent_line(words, negated, line) {
                    self.push(out, d);
                }
            }
            Section::Message => {
                if let Some(d) = self.message_line(words, line) {
                    self.push(out, d);
                }
            }
            Section::Group => {
                let Some((group, names, _)) = self.groups.last_mut() else {
                    return;
                };
                if kw == "messages" {
                    for w in &words[1..] {
                        if group.messages.iter().any(|m| *m == w.value) {
                            let d = e(format!("spoe-message '{}' already used.", w.value), 0)
                                .form(HaproxyForm::ParsingTight);
                            self.push(out, d);
                            return;
                        }
                        group.messages.push(w.value.to_string());
                        names.push(Spanned::new(w.value.to_string(), w.span));
                    }
                } else {
                    let d = e(format!("unknown keyword '{kw}' in spoe-group section."), 0);
                    self.push(out, d);
                }
            }
        }
    }

    fn header(&mut self, kw: &str, words: &[Word], out: &mut Vec<Diagnostic>, line: Span) {
        let name = words.get(1).map_or("", |w| w.value.as_str());
        let at = words.first().map_or(line, |w| w.span);
        let what = &kw["spoe-".len()..];
        if name.is_empty() {
            let d = err("E410", format!("missing name for {kw} section."), at);
            return self.push(out, d);
        }
        if let Some(extra) = words.get(2) {
            let d = err(
                "E410",
                format!(
                    "'{kw}' cannot handle unexpected argument '{}'.",
                    extra.value
                ),
                extra.span,
            );
            return self.push(out, d);
        }
        if let Some(c) = invalid_char(name) {
            let d = err(
                "E410",
                format!("character '{c}' is not permitted in '{kw}' name '{name}'."),
                words[1].span,
            );
            return self.push(out, d);
        }
        let tight = |m: String| err("E410", m, words[1].span).form(HaproxyForm::ParsingTight);
        match what {
            "agent" => {
                if self.agent.is_some() {
                    let d = err(
                        "E410",
                        "another spoe-agent section previously defined.".into(),
                        at,
                    );
                    return self.push(out, d);
                }
                let mut agent = new_agent(name);
                agent.max_frame_size = self.max_frame_size;
                self.agent = Some((agent, words[1].span));
                self.section = Section::Agent;
            }
            "message" => {
                if let Some((_, first)) = self.messages.iter().find(|(m, _)| m.name == name) {
                    let d = tight(format!(
                        "spoe-message section '{name}' has the same name as another spoe-message section declared at {}:{first}.",
                        self.file_name
                    ));
                    return self.push(out, d);
                }
                self.messages.push((
                    SpoeMessage {
                        name: name.to_string(),
                        args: Vec::new(),
                        acls: Vec::new(),
                        event: None,
                        condition: Vec::new(),
                        line: self.line_number,
                    },
                    self.line_number,
                ));
                self.section = Section::Message;
            }
            _ => {
                if let Some((_, _, first)) = self.groups.iter().find(|(g, _, _)| g.name == name) {
                    let d = tight(format!(
                        "spoe-group section '{name}' has the same name as another spoe-group section declared at {}:{first}.",
                        self.file_name
                    ));
                    return self.push(out, d);
                }
                self.groups.push((
                    SpoeGroup {
                        name: name.to_string(),
                        messages: Vec::new(),
                    },
                    Vec::new(),
                    self.line_number,
                ));
                self.section = Section::Group;
            }
        }
    }

    fn agent_line(&mut self, words: &[Word], negated: bool, line: Span) -> Option<Diagnostic> {
        let word = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
        let at = |i: usize| words.get(i).map_or(line, |w| w.span);
        let e = |m: String, i: usize| Some(err("E410", m, at(i)));
        let tight =
            |m: String, i: usize| Some(err("E410", m, at(i)).form(HaproxyForm::ParsingTight));
        let too_many = |max: usize| {
            words.get(max + 1).map(|w| {
                err(
                    "E410",
                    format!(
                        "'{}' cannot handle unexpected argument '{}'.",
                        word(0),
                        w.value
                    ),
                    w.span,
                )
            })
        };
        let kw = word(0);
        let (agent, _) = self.agent.as_mut()?;
        match kw {
            "use-backend" => {
                if word(1).is_empty() {
                    return e(format!("'{kw}' expects a backend name."), 0);
                }
                agent.backend = word(1).to_string();
            }
            "messages" | "groups" => {
                for w in &words[1..] {
                    let list = if kw == "messages" {
                        &mut self.agent_messages
                    } else {
                        &mut self.agent_groups
                    };
                    if list.iter().any(|m| m.value == w.value) {
                        let what = if kw == "messages" { "message" } else { "group" };
                        return tight(format!("spoe-{what} '{}' already used.", w.value), 0);
                    }
                    list.push(Spanned::new(w.value.to_string(), w.span));
                }
            }
            "timeout" => {
                if word(1).is_empty() {
                    return e(
                        "'timeout' expects 'hello', 'idle' and 'processing'.".into(),
                        0,
                    );
                }
                if let Some(d) = too_many(2) {
                    return Some(d);
                }
                let slot = match word(1) {
                    "hello" => &mut agent.timeout_hello,
                    "idle" => &mut agent.timeout_idle,
                    "processing" => &mut agent.timeout_processing,
                    other => {
                        return e(
                            format!(
                                "'timeout' supports 'hello', 'idle' or 'processing' (got {other})."
                            ),
                            1,
                        )
                    }
                };
                match timeout_ms(word(2), word(1)) {
                    Ok(ms) => *slot = Some(ms),
                    Err(m) if m.starts_with("timer") => return tight(m, 2),
                    Err(m) => return e(m, 2),
                }
            }
            "option" => return self.agent_option(words, negated, line),
            "maxconnrate" | "maxerrrate" | "max-frame-size" | "max-waiting-frames" => {
                if word(1).is_empty() {
                    return e(format!("'{kw}' expects an integer argument."), 0);
                }
                if let Some(d) = too_many(1) {
                    return Some(d);
                }
                let n = crate::ir::values::atol(word(1));
                match kw {
                    "maxconnrate" => agent.maxconnrate = n.max(0) as u32,
                    "maxerrrate" => agent.maxerrrate = n.max(0) as u32,
                    "max-frame-size" => {
                        let max = self.max_frame_size;
                        if n < i64::from(MIN_FRAME_SIZE) || n > i64::from(max) {
                            return e(
                                format!("'{kw}' expects a positive integer argument in the range [{MIN_FRAME_SIZE}, {max}]."),
                                0,
                            );
                        }
                        agent.max_frame_size = n as u32;
                    }
                    _ => {
                        if n < 1 {
                            return e(format!("'{kw}' expects a positive integer argument."), 0);
                        }
                        agent.max_waiting_frames = n as u32;
                    }
                }
            }
            "register-var-names" => {
                if word(1).is_empty() {
                    return e(format!("'{kw}' expects one or more variable names."), 0);
                }
                agent
                    .register_var_names
                    .extend(words[1..].iter().map(|w| w.value.to_string()));
            }
            // Log targets are HAProxy's `log` lines; the agent's exchanges are not logged.
            "log" => {}
            _ => return e(format!("unknown keyword '{kw}' in spoe-agent section."), 0),
        }
        None
    }

    fn agent_option(&mut self, words: &[Word], negated: bool, line: Span) -> Option<Diagnostic> {
        let word = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
        let at = |i: usize| words.get(i).map_or(line, |w| w.span);
        let tight =
            |m: String, i: usize| Some(err("E410", m, at(i)).form(HaproxyForm::ParsingTight));
        let agent = &mut self.agent.as_mut()?.0;
        let name = word(1);
        if name.is_empty() {
            return tight("'option' expects an option name.".into(), 0);
        }
        let flag = match name {
            "pipelining" => Some(&mut agent.pipelining),
            "async" => Some(&mut agent.async_mode),
            "send-frag-payload" => Some(&mut agent.send_frag_payload),
            "dontlog-normal" => None,
            _ => {
                if negated {
                    return tight(format!("negation is not supported for option '{name}'."), 1);
                }
                let value = word(2);
                let named = |slot: &mut Option<String>| -> Option<Diagnostic> {
                    if value.is_empty() {
                        return tight(format!("'option {name}' expects a value."), 1);
                    }
                    if !prefix_ok(value) {
                        return tight(
                            format!("'option {name}' only supports [a-zA-Z0-9_.] chars."),
                            2,
                        );
                    }
                    *slot = Some(value.to_string());
                    None
                };
                return match name {
                    "var-prefix" => {
                        let mut slot = None;
                        let d = named(&mut slot);
                        if let Some(p) = slot {
                            agent.var_prefix = p;
                        }
                        d
                    }
                    "continue-on-error" => {
                        agent.continue_on_error = true;
                        None
                    }
                    "force-set-var" => {
                        agent.force_set_var = true;
                        None
                    }
                    "set-on-error" => named(&mut agent.set_on_error),
                    "set-process-time" => named(&mut agent.set_process_time),
                    "set-total-time" => named(&mut agent.set_total_time),
                    _ => tight(format!("option '{name}' is not supported."), 1),
                };
            }
        };
        if let Some(w) = words.get(2) {
            return Some(err(
                "E410",
                format!("'option' cannot handle unexpected argument '{}'.", w.value),
                w.span,
            ));
        }
        if let Some(flag) = flag {
            *flag = !negated;
        }
        None
    }

    fn message_line(&mut self, words: &[Word], line: Span) -> Option<Diagnostic> {
        let word = |i: usize| words.get(i).map_or("", |w| w.value.as_str());
        let at = |i: usize| words.get(i).map_or(line, |w| w.span);
        let e = |m: String, i: usize| Some(err("E410", m, at(i)));
        let (msg, _) = self.messages.last_mut()?;
        match word(0) {
            "args" => {
                for w in &words[1..] {
                    let (name, expr) = match w.value.split_once('=') {
                        Some((n, x)) => (n.to_string(), x.to_string()),
                        None => (String::new(), w.value.to_string()),
                    };
                    if expr.is_empty() {
                        return e("'args': missing fetch method.".into(), 0);
                    }
                    msg.args.push((name, expr));
                }
            }
            "acl" => {
                let name = word(1);
                if let Some(c) = name
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
                {
                    return e(
                        format!("character '{c}' is not permitted in acl name '{name}'."),
                        1,
                    );
                }
                if name.eq_ignore_ascii_case("or") {
                    return e(format!("acl name '{name}' will never match. 'or' is used to express a logical OR condition."), 1);
                }
                msg.acls
                    .push(words[1..].iter().map(|w| w.value.to_string()).collect());
            }
            "event" => {
                let name = word(1);
                if name.is_empty() {
                    return e("missing event name.".into(), 0);
                }
                let Some(event) = SpoeEvent::parse(name) else {
                    return e(format!("unknown event '{name}'."), 1);
                };
                msg.event = Some(event);
                match word(2) {
                    "if" | "unless" => {
                        msg.condition = words[2..].iter().map(|w| w.value.to_string()).collect();
                        if words.len() == 3 {
                            return e(format!("error detected while parsing an 'event {name}' condition : missing ACL name after 'if'/'unless'."), 2);
                        }
                    }
                    "" => {}
                    other => {
                        return Some(
                            err(
                                "E410",
                                format!("'event {name}' expects either 'if' or 'unless' followed by a condition but found '{other}'."),
                                at(2),
                            )
                            .form(HaproxyForm::ParsingTight),
                        )
                    }
                }
            }
            kw => {
                return e(
                    format!("unknown keyword '{kw}' in spoe-message section."),
                    0,
                )
            }
        }
        None
    }
}

pub(super) fn new_agent(name: &str) -> SpoeEngine {
    SpoeEngine {
        id: String::new(),
        agent: name.to_string(),
        file: String::new(),
        backend: String::new(),
        timeout_hello: None,
        timeout_idle: None,
        timeout_processing: None,
        var_prefix: String::new(),
        continue_on_error: false,
        force_set_var: false,
        set_on_error: None,
        set_process_time: None,
        set_total_time: None,
        register_var_names: Vec::new(),
        max_frame_size: DEFAULT_BUFSIZE - 4,
        max_waiting_frames: 20,
        maxconnrate: 0,
        maxerrrate: 0,
        async_mode: true,
        pipelining: true,
        send_frag_payload: true,
        messages: Vec::new(),
        groups: Vec::new(),
        declared: String::new(),
        proxy: String::new(),
        filter_line: Span::new(crate::source::FileId(0), 0, 0),
    }
}
