//! Health checks. Each server's check runs on exactly one worker thread; its verdict is an
//! atomic flag every thread reads, so a state change is seen everywhere at once.
//!
//! `engine` interprets a check's rules without I/O (`expect`, `http`, `spop` and `agent`
//! parse replies); `driver` does the connecting, sending and reading; this module schedules
//! checks, applies results to the server's health as HAProxy does, and reports them.

pub mod agent;
mod driver;
pub mod engine;
mod expect;
mod external;
mod h2;
mod http;
pub(crate) mod mail;
pub mod observe;
mod spop;
mod start;
mod transitions;

use crate::api::health::CheckStatus;
use crate::log::Sink;
use crate::state::{BackendRt, ServerRt, Shared};
use engine::Outcome;
pub use start::{assignments, Assignment};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
pub(crate) use transitions::{
    force_health, force_state, report_down, report_maintenance, report_up, set_admin,
    set_admin_flag, titled, Admin, Health,
};
use transitions::{report_stopping, report_trackers};

/// Where check reports go: stderr as HAProxy's warnings, and the backend's log targets when
/// `option log-health-checks` asks for every result change.
pub struct Reporter {
    pub backend: Arc<str>,
    sinks: Vec<Sink>,
    log_changes: bool,
    /// `email-alert`: where reports are mailed (the backend's queues).
    mail: Option<Arc<mail::Alerts>>,
    /// The process and the backend's index, for the sessions a transition kills.
    sessions: Option<(Arc<Shared>, usize)>,
    /// The backend is a `listen` section's own: HAProxy calls it a proxy.
    listen: bool,
}

impl Reporter {
    pub fn new(backend: &BackendRt, tag: &str) -> Reporter {
        let mut reporter = Reporter::without_mail(backend, tag);
        reporter.mail = backend
            .mail
            .get_or_init(|| {
                let alert = backend.health_check.email.as_ref()?;
                Some(Arc::new(mail::Alerts::start(alert)))
            })
            .clone();
        reporter
    }

    fn without_mail(backend: &BackendRt, tag: &str) -> Reporter {
        let check = &backend.health_check;
        Reporter {
            backend: backend.name.clone(),
            sinks: Sink::open_list(&check.logs, tag)
                .filter_map(|(_, sink)| sink.ok())
                .collect(),
            log_changes: check.log_changes,
            mail: None,
            sessions: None,
            listen: false,
        }
    }

    /// The process, when the reporter was given it ([`Reporter::with_sessions`]).
    pub fn shared(&self) -> Option<&Shared> {
        self.sessions.as_ref().map(|(shared, _)| &**shared)
    }

    /// Lets transitions kill sessions (`on-marked-down`, `on-marked-up`) of backend `index`.
    pub fn with_sessions(mut self, shared: Arc<Shared>, index: usize) -> Reporter {
        self.listen = is_listen(&shared, index);
        self.sessions = Some((shared, index));
        self
    }

    /// The reports of a change made from the Runtime API or the stats page to backend
    /// `index`: to stderr, the backend's logs and its mailers.
    pub fn for_admin(shared: &Shared, index: usize) -> Reporter {
        let backend = &shared.backends[index];
        let mut reporter = Reporter::new(backend, &backend.log_tag);
        reporter.listen = is_listen(shared, index);
        reporter
    }

    /// Kills the sessions a health transition ends, as HAProxy does: the server's own when it
    /// went down under `on-marked-down shutdown-sessions` (logged `D`), the backend's backup
    /// servers' when it came up under `on-marked-up shutdown-backup-sessions` (logged `U`),
    /// so that their clients come back to the primary.
    pub fn on_transition(&self, backend: &BackendRt, server: &ServerRt, up: bool) {
        if let Some((shared, index)) = &self.sessions {
            end_sessions(shared, *index, backend, server, up);
        }
    }

    pub fn logs_changes(&self) -> bool {
        self.log_changes
    }

    /// Reports that the backend's last usable server went (HAProxy's alert on stderr and its
    /// emergency log line), naming it `proxy` when it is a listen section's own backend.
    pub fn no_server_left(&self) {
        let kind = if self.listen { "proxy" } else { "backend" };
        eprintln!(
            "[ALERT]    ({}) : {kind} '{}' has no server available!",
            std::process::id(),
            self.backend
        );
        for s in &self.sinks {
            s.send(
                0,
                &format!("{kind} {} has no server available!", self.backend),
            );
        }
    }

    /// A line of the backend's log at `level`, as it is (nothing on stderr, no mail).
    pub fn log_only(&self, level: u8, text: &str) {
        for s in &self.sinks {
            s.send(level, text);
        }
    }

    /// A warning on stderr and a log line at `level` (5: notice, 2: critical…), not mailed:
    /// HAProxy mails only a server going down, coming up or entering drain, and (at `info`)
    /// each check result.
    pub fn emit(&self, level: u8, text: &str) {
        eprintln!("[WARNING]  ({}) : {text}.", std::process::id());
        for s in &self.sinks {
            s.send(level, &format!("{text}."));
        }
    }

    /// [`Reporter::emit`] with the mail's own level: HAProxy logs check results at `notice`
    /// and mails them at `info`.
    pub fn emit_mail(&self, level: u8, mail_level: u8, text: &str) {
        self.emit(level, text);
        if let Some(m) = &self.mail {
            m.report(mail_level, text);
        }
    }
}

/// `, reason: …[, code: N][, info: "…"], check duration: Nms`: how HAProxy describes a
/// check result in its reports.
pub fn describe(outcome: &Outcome, duration_ms: u64) -> String {
    let mut out = format!(", reason: {}", outcome.status.description());
    if outcome.status.has_code() {
        out.push_str(&format!(", code: {}", outcome.code));
    }
    if !outcome.info.is_empty() {
        out.push_str(&format!(", info: \"{}\"", ascii_encode(&outcome.info)));
    }
    out.push_str(&format!(", check duration: {duration_ms}ms"));
    out
}

/// Bytes other than printable ASCII, `<`, `>` and quotes as `<XX>`, as HAProxy encodes
/// info texts.
fn ascii_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if !(b' '..=b'~').contains(&b) || matches!(b, b'<' | b'>' | b'"') {
            out.push_str(&format!("<{b:02X}>"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Kills the sessions `server` (of backend `index`) ends by going down (`up` false: by its
/// checks, into maintenance, or with the server it tracks) or coming up, as
/// [`Reporter::on_transition`] says; each server of a tracking chain applies its own settings.
pub(crate) fn end_sessions(
    shared: &Shared,
    index: usize,
    backend: &BackendRt,
    server: &ServerRt,
    up: bool,
) {
    use crate::api::sessions::kill_server_for;
    if !up && server.plan.shutdown_sessions_when_down {
        kill_server_for(shared, index, &server.name, b'D');
    }
    // Only a server that takes traffic once up sends the backups' clients back to it.
    let takes_traffic = !server.backup && server.uweight.load(Ordering::Relaxed) > 0;
    if up && takes_traffic && server.plan.shutdown_backup_sessions_when_up {
        for backup in backend.servers.iter().filter(|s| s.backup) {
            kill_server_for(shared, index, &backup.name, b'U');
        }
    }
}

/// Whether backend `index` is a `listen` section's own.
fn is_listen(shared: &Shared, index: usize) -> bool {
    shared
        .frontends
        .iter()
        .any(|f| f.own_backend == Some(index))
}

/// What a state change report says of the check that caused it. With `option
/// log-health-checks` the result was reported on its own line: HAProxy's state change line
/// then leaves the check's description out.
fn change_reason(reporter: &Reporter, outcome: &Outcome, duration_ms: u64) -> String {
    if reporter.log_changes {
        String::new()
    } else {
        describe(outcome, duration_ms)
    }
}

/// Applies one result to the server's health counter (HAProxy's `set_server_check_status`):
/// a failure takes one off, down to 0 once below `rise`; a success adds one, up to
/// `rise + fall - 1` once `rise` is reached. The server is up from `rise` on.
pub fn apply(
    backend: &BackendRt,
    server: &ServerRt,
    reporter: &Reporter,
    outcome: &Outcome,
    duration_ms: u64,
    agent: bool,
) {
    let state = &server.check;
    let (rise, fall) = (state.rise, state.fall);
    let max = rise + fall - 1;
    let previous = state.status();
    let mut health = state.health.load(Ordering::Relaxed);
    let mut report = false;
    let mut counted_failure = false;
    let passed = outcome.status.passed();
    if let (true, Some(o)) = (passed, &server.observer) {
        o.clear();
    }
    if passed {
        if health < max {
            report = true;
            health += 1;
            if health >= rise {
                health = max;
            }
        }
    } else if health > 0 && (!agent || outcome.status.has_code()) {
        report = true;
        counted_failure = true;
        health -= 1;
        if health < rise {
            health = 0;
        }
    }
    state.record(
        outcome.status,
        outcome.code,
        &outcome.info,
        duration_ms,
        health,
        counted_failure,
    );
    let label = if server.backup {
        "backup server"
    } else {
        "server"
    };
    if reporter.log_changes && (outcome.status != previous || report) {
        let verdict = match outcome.status {
            CheckStatus::L7OkCond => "conditionally succeeded",
            s if s.passed() => "succeeded",
            _ => "failed",
        };
        let (n, of, word) = if health >= rise {
            let weight = server.current_weight();
            (
                health - rise + 1,
                fall,
                if weight > 0 { "UP" } else { "DRAIN" },
            )
        } else {
            (health, rise, "DOWN")
        };
        reporter.emit_mail(
            5,
            6,
            &format!(
                "{} check for {label} {}/{} {verdict}{}, status: {n}/{of} {word}",
                if agent { "Agent" } else { "Health" },
                reporter.backend,
                server.name,
                describe(outcome, duration_ms)
            ),
        );
    }
    let why = change_reason(reporter, outcome, duration_ms);
    let up = server.up.load(Ordering::Relaxed);
    // A conditional success (a 404 under `disable-on-404`, or the `L7OKC` status a rule
    // gives) keeps the server up but out of the balancing; a plain success brings it back.
    let conditional = outcome.status == CheckStatus::L7OkCond;
    let maint = server.admin.load(Ordering::Relaxed) & crate::state::ADMIN_MAINT != 0;
    // As in HAProxy, a running agent that said `down` keeps the server down.
    let agent_ok = !(state.agent_configured && state.agent_enabled.load(Ordering::Relaxed))
        || state.agent_health.load(Ordering::Relaxed) > 0;
    let now = if up && health < rise {
        server.set_own_up(false);
        reporter.on_transition(backend, server, false);
        state.downs.fetch_add(1, Ordering::Relaxed);
        state.changed(false);
        let head = format!("{} is DOWN{why}", titled(reporter, server));
        report_down(reporter, backend, server, &head);
        Health::Down
    } else if health >= rise && agent_ok && conditional && !maint && !server.is_nolb() {
        let was_counted = server.is_usable();
        server.set_own_stopping();
        state.changed(!up);
        let head = format!("{} is stopping{why}", titled(reporter, server));
        report_stopping(reporter, backend, server, was_counted, &head);
        Health::Stopping
    } else if health >= rise && agent_ok && passed && !conditional && (!up || server.is_nolb()) {
        server.set_own_up(true);
        reporter.on_transition(backend, server, true);
        state.changed(!up);
        report_up(
            reporter,
            backend,
            server,
            &format!("{} is UP{why}", titled(reporter, server)),
        );
        Health::Up
    } else {
        return;
    };
    report_trackers(reporter.shared(), server, now, up);
}

/// The check loop of one server (runs forever on its owning thread), with its agent check
/// beside it when the server has one.
pub async fn run(shared: Arc<Shared>, at: Assignment) {
    let backend = &shared.backends[at.backend];
    let server = backend.servers[at.server].clone();
    let reporter =
        Reporter::new(backend, &backend.log_tag).with_sessions(shared.clone(), at.backend);
    let health = async {
        if server.plan.check {
            health_loop(
                backend,
                &server,
                &reporter,
                at.first_health,
                &shared.process,
            )
            .await;
        }
    };
    let agent = async {
        if server.plan.check_params.agent {
            agent::run(&shared, backend, &server, &reporter, at.first_agent).await;
        }
    };
    tokio::join!(health, agent);
}

async fn health_loop(
    backend: &BackendRt,
    server: &Arc<ServerRt>,
    reporter: &Reporter,
    first: Duration,
    process: &crate::api::Process,
) {
    let spread = process.spread_checks;
    let p = server.plan.check_params.clone();
    let state = &server.check;
    let mut first = Some(first);
    loop {
        // The first run waits its place in the start-up spread (start.rs), the next ones
        // the interval of the server's state, moved by `spread-checks`.
        let wait = first.take().unwrap_or_else(|| {
            let inter = current_inter(server);
            let inter = spread_interval(inter, spread, (crate::balance::random() >> 32) as u32);
            Duration::from_millis(u64::from(inter))
        });
        let observed = async {
            match &server.observer {
                Some(o) => o.wake.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = observed => {
                observed_errors(backend, server, reporter);
                continue;
            }
        }
        // `disable health` and maintenance pause the probes; the address may have changed
        // (the Runtime API, or DNS answers).
        let paused = server.admin.load(Ordering::Relaxed) & crate::state::ADMIN_MAINT != 0;
        if !state.enabled.load(Ordering::Relaxed) || paused {
            continue;
        }
        let Some(mut addr) = server.addr() else {
            continue;
        };
        if let Some(a) = p.addr.as_deref().and_then(|a| a.parse().ok()) {
            addr.set_ip(a);
        }
        if let Some(port) = p.port {
            addr.set_port(port);
        }
        let timeout = backend
            .timeouts
            .check
            .unwrap_or(Duration::from_millis(u64::from(p.inter)));
        let _probing = state.start_probe();
        let started = std::time::Instant::now();
        let outcome = match &backend.health_check.external {
            Some(ext) => {
                // HAProxy gives the command `inter`, or `timeout connect` when shorter and
                // `timeout check` is set.
                let inter = Duration::from_millis(u64::from(p.inter));
                let limit = match (backend.timeouts.check, backend.timeouts.connect) {
                    (Some(_), Some(connect)) => inter.min(connect),
                    _ => inter,
                };
                external::run(ext, backend, server, addr, limit).await
            }
            None => {
                let env = driver::CheckEnv::new(backend, server, addr)
                    .with_pp2_never_send_local(process.pp2_never_send_local);
                driver::execute(&backend.health_check, &env, timeout).await
            }
        };
        let took = started.elapsed().as_millis() as u64;
        crate::trace_event!(
            Check,
            2,
            "check_result",
            "{}/{}: {} in {took}ms",
            backend.name,
            server.name,
            if outcome.status.passed() {
                "passed".to_string()
            } else {
                format!("failed ({})", outcome.info)
            }
        );
        // `disable health` given while the probe ran: its result changes nothing, so that a
        // state forced meanwhile (`set server … health`) stays.
        if !state.enabled.load(Ordering::Relaxed) {
            continue;
        }
        apply(backend, server, reporter, &outcome, took, false);
    }
}

/// The interval of the server's health checks in its state: `downinter` when down for
/// good, `fastinter` while its health moves between the two, else `inter`.
fn current_inter(server: &ServerRt) -> u32 {
    let p = &server.plan.check_params;
    let up = server.up.load(Ordering::Relaxed);
    let health = server.check.health.load(Ordering::Relaxed);
    let transitioning = health != p.rise + p.fall - 1 && health != 0;
    match (up, transitioning) {
        (false, false) => p.downinter.unwrap_or(p.inter),
        (_, true) => p.fastinter.unwrap_or(p.inter),
        _ => p.inter,
    }
}

/// `inter` moved by up to `spread` % of itself either way (`spread-checks`), as HAProxy
/// moves it: `random` over the whole `u32` range picks the point.
fn spread_interval(inter: u32, spread: u32, random: u32) -> u32 {
    let reach = i64::from(inter) * i64::from(spread) / 100;
    let moved = reach - (2 * reach * i64::from(random)) / i64::from(u32::MAX);
    u32::try_from(i64::from(inter) + moved).unwrap_or(inter)
}

/// `observe`: the traffic's errors reached `error-limit`; `on-error` says what follows (the
/// next check comes after `fastinter` in every case, the health being in transition).
fn observed_errors(backend: &BackendRt, server: &ServerRt, reporter: &Reporter) {
    use observe::OnError;
    let Some(o) = &server.observer else { return };
    let Some(info) = o.take() else { return };
    let state = &server.check;
    let health = state.health.load(Ordering::Relaxed);
    match o.on_error {
        OnError::FastInter => return,
        OnError::SuddenDeath if health > state.rise => {
            state.health.store(state.rise + 1, Ordering::Relaxed)
        }
        OnError::MarkDown => state.health.store(state.rise, Ordering::Relaxed),
        _ => {}
    }
    let outcome = Outcome {
        status: crate::api::health::CheckStatus::Hana,
        code: 0,
        info,
    };
    apply(backend, server, reporter, &outcome, 0, false);
}

#[cfg(test)]
mod tests {
    use super::spread_interval;

    #[test]
    fn spread_checks_moves_the_interval_within_its_share_either_way() {
        assert_eq!(spread_interval(2000, 0, 12345), 2000);
        assert_eq!(spread_interval(2000, 50, 0), 3000);
        assert_eq!(spread_interval(2000, 50, u32::MAX), 1000);
        // The middle of the range leaves it where it was (to the millisecond).
        assert!((1999..=2001).contains(&spread_interval(2000, 10, u32::MAX / 2)));
        for r in [1, 1 << 20, 1 << 31, u32::MAX - 1] {
            let i = spread_interval(1000, 20, r);
            assert!((800..=1200).contains(&i), "{i}");
        }
    }
}
