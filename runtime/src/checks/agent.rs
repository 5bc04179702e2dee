//! Agent checks (`agent-check`): a line from an agent on the server sets its health, its
//! administrative state, its weight and its connection limit, as HAProxy applies it.

use super::engine::Outcome;
use super::{describe, Reporter};
use crate::api::health::{CheckStatus, AGENT_RISE_FALL};
use crate::state::{BackendRt, ServerRt, Shared};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What one agent reply asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// `up`, `down`, `stopped` or `fail` (the last one given).
    pub health: Option<String>,
    /// `ready`, `drain` or `maint`.
    pub admin: Option<String>,
    /// `NN%`.
    pub weight: Option<String>,
    /// `maxconn:N`.
    pub maxconn: Option<String>,
    /// The first word understood as none of these.
    pub error: Option<String>,
    /// The text after `#`.
    pub description: String,
}

/// Parses the first line of an agent's answer (`None` until a line end arrives).
pub fn parse(data: &[u8]) -> Option<Reply> {
    let end = data.iter().position(|b| *b == b'\n' || *b == b'\r')?;
    let line = String::from_utf8_lossy(&data[..end]);
    let (words, description) = match line.split_once('#') {
        Some((w, d)) => (w.to_string(), d.trim_start_matches([' ', '\n']).to_string()),
        None => (line.to_string(), String::new()),
    };
    let mut reply = Reply {
        description,
        ..Reply::default()
    };
    for word in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "up" | "down" | "stopped" | "fail" => reply.health = Some(lower),
            "ready" | "drain" | "maint" => reply.admin = Some(lower),
            _ if word.starts_with(|c: char| c.is_ascii_digit()) && word.contains('%') => {
                reply.weight = Some(word.to_string())
            }
            _ if lower.starts_with("maxconn:") => reply.maxconn = Some(word[8..].to_string()),
            _ => {
                if reply.error.is_none() {
                    reply.error = Some(word.to_string());
                }
            }
        }
    }
    Some(reply)
}

/// The weight a `NN%` word gives a server whose configured weight is `initial` (HAProxy
/// caps weights at 256); `Err` carries HAProxy's complaint.
pub fn weight(word: &str, initial: u32) -> Result<u32, &'static str> {
    let digits: String = word.chars().take_while(|c| c.is_ascii_digit()).collect();
    let pct: u64 = digits
        .parse()
        .map_err(|_| "Require <weight> or <weight%>.\n")?;
    let w = u64::from(initial) * pct / 100;
    if w > 256 {
        return Err("Absolute weight is too high.\n");
    }
    Ok(w as u32)
}

async fn ask(addr: std::net::SocketAddr, send: Option<&str>) -> std::io::Result<Vec<u8>> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    if let Some(text) = send {
        s.write_all(text.as_bytes()).await?;
    }
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 || data.len() > 16384 {
            return Ok(data);
        }
        data.extend_from_slice(&buf[..n]);
        if parse(&data).is_some() {
            return Ok(data);
        }
    }
}

/// The agent loop of one server; its first run waits `first` (its place in the start-up
/// spread).
pub async fn run(
    shared: &Shared,
    backend: &BackendRt,
    server: &ServerRt,
    reporter: &Reporter,
    first: Duration,
) {
    let p = &server.plan.check_params;
    let inter = Duration::from_millis(u64::from(super::start::agent_inter(server)));
    let timeout = backend.timeouts.check.unwrap_or(inter);
    let mut wait = first;
    loop {
        tokio::time::sleep(wait).await;
        wait = inter;
        if !server.check.agent_enabled.load(Ordering::Relaxed) {
            continue;
        }
        let Some(mut addr) = server.addr() else {
            continue;
        };
        if let Some(a) = p.agent_addr.as_deref().and_then(|a| a.parse().ok()) {
            addr.set_ip(a);
        }
        if let Some(port) = p.agent_port {
            addr.set_port(port);
        }
        let _probing = server.check.start_agent_probe();
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(timeout, ask(addr, p.agent_send.as_deref())).await;
        let took = started.elapsed().as_millis() as u64;
        let outcome = match answer {
            Err(_) => Outcome::new(CheckStatus::L4Timeout, ""),
            Ok(Err(e)) => Outcome::new(CheckStatus::L4Conn, e.to_string()),
            Ok(Ok(data)) => match parse(&data) {
                Some(reply) => apply_reply(shared, backend, server, reporter, &reply, took),
                None => Outcome::new(
                    server.check.agent_status(),
                    "Ignoring incomplete line from agent",
                ),
            },
        };
        server
            .check
            .record_agent(outcome.status, &outcome.info, took);
    }
}

/// Applies a reply: administrative state first, then weight and connection limit, then
/// health, as HAProxy orders them.
fn apply_reply(
    shared: &Shared,
    backend: &BackendRt,
    server: &ServerRt,
    reporter: &Reporter,
    reply: &Reply,
    took: u64,
) -> Outcome {
    let admin = match reply.admin.as_deref() {
        Some("drain") => Some(super::Admin::Drain),
        Some("maint") => Some(super::Admin::Maint),
        Some(_) => Some(super::Admin::Ready),
        None => None,
    };
    if let Some(admin) = admin {
        super::set_admin(shared, reporter, backend, server, admin);
    }
    let mut warning: Option<String> = None;
    if let Some(w) = &reply.weight {
        match weight(w, server.weight) {
            Ok(v) => server.uweight.store(v, Ordering::Relaxed),
            Err(e) => warning = Some(e.trim_end().to_string()),
        }
    }
    if reply.maxconn.is_some() && warning.is_none() {
        // The server's connection slots are fixed when the runtime starts.
        warning = Some("maxconn changes from an agent are not applied by hapee".into());
    }
    let Some(health) = reply.health.as_deref() else {
        return Outcome::new(CheckStatus::Unknown, "");
    };
    let up = health == "up";
    let status = if up {
        CheckStatus::L7Ok
    } else {
        CheckStatus::L7Status
    };
    let mut msg = reply.description.clone();
    if msg.is_empty() || up {
        if let Some(e) = reply.error.clone().or(warning) {
            msg = e;
        }
    }
    let info = if msg.is_empty() {
        format!("via agent : {health}")
    } else {
        format!("via agent : {health} ({msg})")
    };
    let outcome = Outcome {
        status,
        code: 0,
        info,
    };
    let state = &server.check;
    state
        .agent_health
        .store(if up { AGENT_RISE_FALL } else { 0 }, Ordering::Relaxed);
    let was_up = server.up.load(Ordering::Relaxed);
    let previous = state.agent_status();
    if reporter_logs(reporter) && (status != previous || up != was_up) {
        // An agent's verdict is final at once: HAProxy counts it on a scale of one.
        let (n, of, word) = if up { (1, 1, "UP") } else { (0, 1, "DOWN") };
        reporter.emit_mail(
            5,
            6,
            &format!(
                "Agent check for {} {}/{} {}{}, status: {n}/{of} {word}",
                if server.backup {
                    "backup server"
                } else {
                    "server"
                },
                reporter.backend,
                server.name,
                if up { "succeeded" } else { "failed" },
                describe(&outcome, took)
            ),
        );
    }
    // The health check, when there is one, must agree before an agent's `up` counts.
    let health_ok = !server.plan.check || state.health.load(Ordering::Relaxed) >= state.rise;
    let why = super::change_reason(reporter, &outcome, took);
    if was_up && !up {
        server.set_own_up(false);
        reporter.on_transition(backend, server, false);
        state.downs.fetch_add(1, Ordering::Relaxed);
        state.changed(false);
        let head = format!("{} is DOWN{why}", super::titled(reporter, server));
        super::report_down(reporter, backend, server, &head);
        super::report_trackers(Some(shared), server, super::Health::Down, true);
    } else if !was_up && up && health_ok {
        server.set_own_up(true);
        reporter.on_transition(backend, server, true);
        state.changed(true);
        let head = format!("{} is UP{why}", super::titled(reporter, server));
        super::report_up(reporter, backend, server, &head);
        super::report_trackers(Some(shared), server, super::Health::Up, false);
    }
    outcome
}

fn reporter_logs(r: &Reporter) -> bool {
    r.logs_changes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_in_any_order_last_word_wins() {
        let r = parse(b"75%, drain up maxconn:30 # going away\n").unwrap();
        assert_eq!(r.health.as_deref(), Some("up"));
        assert_eq!(r.admin.as_deref(), Some("drain"));
        assert_eq!(r.weight.as_deref(), Some("75%"));
        assert_eq!(r.maxconn.as_deref(), Some("30"));
        assert_eq!(r.description, "going away");
        assert!(parse(b"up").is_none());
        assert_eq!(
            parse(b"pouet down\r\n").unwrap().error.as_deref(),
            Some("pouet")
        );
        assert_eq!(weight("50%", 100), Ok(50));
        assert!(weight("300%", 100).is_err());
    }
}
