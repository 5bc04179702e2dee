//! A server's state changes and how they are reported, in HAProxy's words: going down, up
//! or stopping (`NOLB`) on a check's or an agent's verdict, the health the Runtime API and
//! the stats page force, and the administrative changes (forced maintenance and drain) that
//! they and an agent's reply ask for.

use super::Reporter;
use crate::state::{
    BackendRt, ServerRt, Shared, ADMIN_DRAIN, ADMIN_FDRAIN, ADMIN_FMAINT, ADMIN_IDRAIN,
    ADMIN_IMAINT, ADMIN_MAINT,
};
use std::sync::atomic::Ordering;

/// Counts of usable servers for the "N active and M backup servers" part of reports.
pub(crate) fn servers_left(backend: &BackendRt) -> (usize, usize) {
    let usable = |backup: bool| {
        backend
            .servers
            .iter()
            .filter(|s| s.backup == backup && s.is_usable())
            .count()
    };
    (usable(false), usable(true))
}

/// The server as HAProxy's state-change reports name it: `Server be/s`, or `Backup Server be/s`
/// for a backup server.
pub(crate) fn titled(reporter: &Reporter, server: &ServerRt) -> String {
    let backup = if server.backup { "Backup " } else { "" };
    format!("{backup}Server {}/{}", reporter.backend, server.name)
}

/// The note HAProxy adds to the servers-left and servers-online counts when only backup
/// servers are serving.
fn backup_note(active: usize, backup: usize) -> &'static str {
    if backup > 0 && active == 0 {
        " Running on backup."
    } else {
        ""
    }
}

fn draining(server: &ServerRt) -> bool {
    server.admin.load(Ordering::Relaxed) & ADMIN_DRAIN != 0
}

/// `… servers online. 0 sessions requeued, 0 total in queue`: the tail of the reports of a
/// server that stays up (coming up, stopping, draining).
fn servers_online(backend: &BackendRt) -> String {
    let (active, backup) = servers_left(backend);
    let note = backup_note(active, backup);
    format!(
        "{active} active and {backup} backup servers online.{note} 0 sessions requeued, 0 total in queue"
    )
}

/// `… servers left. N sessions active, 0 requeued, 0 remaining in queue`: the tail of the
/// reports of a server that stops, with the sessions it still holds.
fn servers_left_after(backend: &BackendRt, server: &ServerRt) -> String {
    let (active, backup) = servers_left(backend);
    let note = backup_note(active, backup);
    format!(
        "{active} active and {backup} backup servers left.{note} {} sessions active, 0 requeued, 0 remaining in queue",
        server.active.load(Ordering::Relaxed)
    )
}

/// Reports that `server` came up, as a notice: `head` (which server, and why), then the
/// servers `backend` now has.
pub(crate) fn report_up(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, head: &str) {
    reporter.emit_mail(5, 5, &format!("{head}. {}", servers_online(backend)));
    still_draining(reporter, server);
}

/// HAProxy reviews a server's admin state on each change of its state, and a draining
/// server out of maintenance is said to stay draining each time.
fn still_draining(reporter: &Reporter, server: &ServerRt) {
    let admin = server.admin.load(Ordering::Relaxed);
    if admin & ADMIN_MAINT == 0 && admin & ADMIN_DRAIN != 0 {
        report_remaining_drain(reporter, server, admin);
    }
}

/// Reports that `server` entered the stopping state (`NOLB`): `head`, then the servers
/// `backend` now has, as a notice HAProxy does not mail; and the backend's alert when the
/// server was the last one in the balancing (`was_counted`: it was in it before).
pub(crate) fn report_stopping(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    was_counted: bool,
    head: &str,
) {
    reporter.emit(5, &format!("{head}. {}", servers_online(backend)));
    if was_counted && servers_left(backend) == (0, 0) {
        reporter.no_server_left();
    }
    still_draining(reporter, server);
}

/// Reports that `server` went down: `head` (which server, and why), then the servers
/// `backend` has left and the sessions the server held; and the backend's own alert when
/// this server was the last one serving. A draining or stopping server was already out of
/// the count: its going down is a notice, not an alert, as in HAProxy. Mailed.
pub(crate) fn report_down(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, head: &str) {
    report_stop(reporter, backend, server, head, true);
}

/// [`report_down`] for a server going down for maintenance (forced, or DNS left it without
/// an address): the same line, not mailed.
pub(crate) fn report_maintenance(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    head: &str,
) {
    report_stop(reporter, backend, server, head, false);
}

fn report_stop(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    head: &str,
    mail: bool,
) {
    let was_serving = !draining(server) && !server.nolb_flag();
    let level = if was_serving { 1 } else { 5 };
    let text = format!("{head}. {}", servers_left_after(backend, server));
    if mail {
        reporter.emit_mail(level, level, &text);
    } else {
        reporter.emit(level, &text);
    }
    if was_serving && servers_left(backend) == (0, 0) {
        reporter.no_server_left();
    }
    if mail {
        still_draining(reporter, server);
    }
}

/// The administrative states `set server … state` and an agent's reply ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admin {
    Ready,
    Drain,
    Maint,
}

/// Puts `server` in `wanted` as HAProxy does, one forced flag at a time and each change
/// reported: the flag `wanted` sets goes on before the other one goes off (so that a drained
/// server put in maintenance goes down from drain, and one leaving maintenance for drain is
/// never ready in between). The servers tracking it follow (see [`set_admin_flag`]).
pub(crate) fn set_admin(
    shared: &Shared,
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    wanted: Admin,
) {
    let flag = |bit, on| set_admin_flag(shared, reporter, backend, server, bit, on, None);
    match wanted {
        Admin::Maint => {
            flag(ADMIN_FMAINT, true);
            flag(ADMIN_FDRAIN, false);
        }
        Admin::Drain => {
            flag(ADMIN_FDRAIN, true);
            flag(ADMIN_FMAINT, false);
        }
        Admin::Ready => {
            flag(ADMIN_FDRAIN, false);
            flag(ADMIN_FMAINT, false);
        }
    }
}

/// Turns one admin flag (forced or inherited) on or off and reports the change, then hands
/// it down to the servers tracking this one as the inherited flag, unless this one stays in
/// (or already was in) that state through its other flag, as HAProxy does. `lastchg`
/// restarts where HAProxy 2.7 restarts it: a running server entering maintenance, a server
/// leaving it running (2.7 leaves that stop out of `downtime`), entering drain, and leaving
/// drain (2.7 counts the drained time in `downtime`). A server already down that enters
/// maintenance keeps its `lastchg`. `cause`, when given, is named in brackets at the end of
/// the lines of entering maintenance or drain (`'disable' on stats page`).
pub(crate) fn set_admin_flag(
    shared: &Shared,
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    bit: u8,
    on: bool,
    cause: Option<&str>,
) {
    let before = if on {
        server.admin.fetch_or(bit, Ordering::Relaxed)
    } else {
        server.admin.fetch_and(!bit, Ordering::Relaxed)
    };
    let after = if on { before | bit } else { before & !bit };
    if before == after {
        return;
    }
    let was_up = server.up.load(Ordering::Relaxed);
    report_admin_change(reporter, backend, server, before, after, cause);
    // Entering maintenance stops a running server and leaving it may start it again: the
    // sessions that ends go as a health change's would.
    let maint = |a: u8| a & ADMIN_MAINT != 0;
    if maint(before) != maint(after) {
        let running = |admin: u8, up: bool| up && !maint(admin);
        let now_up = server.up.load(Ordering::Relaxed);
        if running(before, was_up) != running(after, now_up) {
            if let Some(index) = backend_of(shared, server) {
                super::end_sessions(shared, index, backend, server, running(after, now_up));
            }
        }
    }
    let (kind, inherited) = if bit & ADMIN_MAINT != 0 {
        (ADMIN_MAINT, ADMIN_IMAINT)
    } else {
        (ADMIN_DRAIN, ADMIN_IDRAIN)
    };
    if after & kind & !bit != 0 {
        return;
    }
    for tracker in server.trackers.get().into_iter().flatten() {
        let Some(index) = backend_of(shared, tracker) else {
            continue;
        };
        let its_reporter = Reporter::for_admin(shared, index);
        let its_backend = &shared.backends[index];
        set_admin_flag(
            shared,
            &its_reporter,
            its_backend,
            tracker,
            inherited,
            on,
            cause,
        );
    }
}

/// The lines of one admin flag's change from `before` to `after`, in HAProxy's words; an
/// inherited state names the server it comes from (` via be/s`).
fn report_admin_change(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    before: u8,
    after: u8,
    cause: Option<&str>,
) {
    let maint = |a: u8| a & ADMIN_MAINT != 0;
    let drain = |a: u8| a & ADMIN_DRAIN != 0;
    let up = server.up.load(Ordering::Relaxed);
    let title = titled(reporter, server);
    let cause = cause.map(|c| format!(" ({c})")).unwrap_or_default();
    let via = server
        .tracked_name(&reporter.backend)
        .map(|t| format!(" via {t}"))
        .unwrap_or_default();
    // Where the state comes from the tracked server only, HAProxy names it.
    let via_unless = |forced: u8| {
        if after & forced == 0 {
            via.as_str()
        } else {
            ""
        }
    };
    if !maint(before) && maint(after) {
        let via = via_unless(ADMIN_FMAINT);
        if up {
            server.check.changed(false);
            report_maintenance(
                reporter,
                backend,
                server,
                &format!("{title} is going DOWN for maintenance{cause}{via}"),
            );
        } else {
            reporter.emit(
                5,
                &format!("{title} was DOWN and now enters maintenance{cause}{via}"),
            );
        }
        // Maintenance stops the server: it leaves as a running one.
        server.clear_nolb();
    } else if maint(before) && !maint(after) {
        let check = &server.check;
        if check.configured && check.enabled.load(Ordering::Relaxed) {
            // 2.7 takes a checked server out of maintenance as good and lets its next
            // check decide.
            check.health.store(check.rise, Ordering::Relaxed);
            server.set_up(true);
        }
        let up = server.up.load(Ordering::Relaxed);
        if up {
            check.changed(false);
            // Coming back: `slowstart` applies.
            server.warmup.start();
        }
        let state = if up { "UP" } else { "DOWN" };
        let admin = if drain(after) { "DRAIN" } else { "READY" };
        let which = if before & ADMIN_FMAINT != 0 {
            "leaving forced maintenance"
        } else {
            "leaving maintenance"
        };
        reporter.emit(5, &format!("{title} is {state}/{admin} ({which})"));
        // HAProxy then sees the drain flag unchanged by the change it is applying.
        if drain(after) {
            report_remaining_drain(reporter, server, after);
        }
    } else if maint(after) {
        // Still in maintenance through the other flag: said when a flag goes, not when one
        // comes.
        if before & ADMIN_FMAINT != 0 && after & ADMIN_FMAINT == 0 {
            reporter.emit(
                5,
                &format!("{title} is leaving forced maintenance but remains in maintenance{via}"),
            );
        } else if before & ADMIN_IMAINT != 0 && after & ADMIN_IMAINT == 0 {
            reporter.emit(5, &format!("{title} remains in forced maintenance"));
        }
    } else if drain(before) != drain(after) {
        server.check.changed(drain(before));
        if drain(after) {
            let via = via_unless(ADMIN_FDRAIN);
            report_drain(
                reporter,
                backend,
                server,
                &format!("{title} enters drain state{cause}{via}"),
            );
        } else {
            let state = if up { "UP" } else { "DOWN" };
            reporter.emit(5, &format!("{title} is {state} (leaving forced drain)"));
        }
    } else if drain(after) {
        report_remaining_drain(reporter, server, after);
    }
}

/// A draining server whose drain flags changed but that stays draining.
fn report_remaining_drain(reporter: &Reporter, server: &ServerRt, after: u8) {
    let title = titled(reporter, server);
    let via = server
        .tracked_name(&reporter.backend)
        .map(|t| format!(" via {t}"))
        .unwrap_or_default();
    if after & ADMIN_FDRAIN != 0 {
        reporter.emit(5, &format!("{title} remains in forced drain mode"));
    } else {
        reporter.emit(
            5,
            &format!("{title} is leaving forced drain but remains in drain mode{via}"),
        );
    }
}

/// `head` (`… enters drain state`), with the servers the backend has left, and the backend's alert
/// when the drained server was the last one serving. Called once the drain flag is on, with
/// no other flag before it: the server was serving just before iff it is up and running (not
/// stopping) with an address.
fn report_drain(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, head: &str) {
    let up = server.up.load(Ordering::Relaxed);
    let was_serving = up && !server.nolb_flag() && server.addr().is_some();
    // A running server drains: HAProxy counts it among those online.
    let counts = if up {
        servers_online(backend)
    } else {
        servers_left_after(backend, server)
    };
    reporter.emit_mail(5, 5, &format!("{head}. {counts}"));
    if was_serving && servers_left(backend) == (0, 0) {
        reporter.no_server_left();
    }
}

/// The operational states `set server … health` and the stats page's form force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    Up,
    /// Up and out of the balancing (`NOLB`).
    Stopping,
    Down,
}

/// Forces `server`'s health as HAProxy does for the Runtime API and the stats page: the
/// check's counter is set to match, and a change of state is reported with `cause`
/// (`changed from CLI`). A server in maintenance keeps its state; only its counter changes.
pub(crate) fn force_health(
    shared: &Shared,
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    wanted: Health,
    cause: &str,
) {
    let check = &server.check;
    let max = check.rise + check.fall - 1;
    let health = if wanted == Health::Down { 0 } else { max };
    check.health.store(health, Ordering::Relaxed);
    force_state(shared, reporter, backend, server, wanted, cause);
}

/// Puts `server` in the state `wanted` (whatever its checks say) and reports the change
/// with `cause`, and that of the servers tracking it; nothing changes in maintenance.
pub(crate) fn force_state(
    shared: &Shared,
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    wanted: Health,
    cause: &str,
) {
    let check = &server.check;
    if server.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0 {
        return;
    }
    let up = server.up.load(Ordering::Relaxed);
    let stopping = server.is_nolb();
    let was_counted = server.is_usable();
    let title = titled(reporter, server);
    match wanted {
        Health::Up if !up || stopping => {
            server.set_own_up(true);
            check.changed(!up);
            report_up(
                reporter,
                backend,
                server,
                &format!("{title} is UP, {cause}"),
            );
        }
        Health::Stopping if !stopping => {
            server.set_own_stopping();
            check.changed(!up);
            report_stopping(
                reporter,
                backend,
                server,
                was_counted,
                &format!("{title} is stopping, {cause}"),
            );
        }
        Health::Down if up => {
            server.set_own_up(false);
            check.downs.fetch_add(1, Ordering::Relaxed);
            check.changed(false);
            report_down(
                reporter,
                backend,
                server,
                &format!("{title} is DOWN, {cause}"),
            );
        }
        _ => return,
    }
    report_trackers(Some(shared), server, wanted, up);
}

/// The backend `server` belongs to, by index.
fn backend_of(shared: &Shared, server: &ServerRt) -> Option<usize> {
    shared
        .backends
        .iter()
        .position(|b| b.servers.iter().any(|s| std::ptr::eq(&**s, server)))
}

/// Hands `server`'s new state `now` (`was_up`: the state before) down to the servers
/// tracking it, one by one and each change reported as HAProxy does: each line names the
/// server it tracks (` via be/s`), down the chain. A tracker in maintenance takes the state
/// with no line (it shows once it leaves); so do all without `shared` to report with.
pub(crate) fn report_trackers(
    shared: Option<&Shared>,
    server: &ServerRt,
    now: Health,
    was_up: bool,
) {
    for tracker in server.trackers.get().into_iter().flatten() {
        let found = shared.and_then(|s| Some((s, backend_of(s, tracker)?)));
        let (Some((shared, index)), false) = (
            found,
            tracker.admin.load(Ordering::Relaxed) & ADMIN_MAINT != 0,
        ) else {
            match now {
                Health::Up => tracker.set_up(true),
                Health::Down => tracker.set_up(false),
                Health::Stopping => tracker.set_stopping(),
            }
            continue;
        };
        let reporter = Reporter::for_admin(shared, index);
        let backend = &shared.backends[index];
        let via = tracker
            .tracked_name(&backend.name)
            .map(|t| format!(" via {t}"))
            .unwrap_or_default();
        let title = titled(&reporter, tracker);
        let check = &tracker.check;
        match now {
            Health::Up => {
                tracker.set_own_up(true);
                check.changed(!was_up);
                report_up(&reporter, backend, tracker, &format!("{title} is UP{via}"));
                super::end_sessions(shared, index, backend, tracker, true);
            }
            Health::Stopping => {
                let was_counted = tracker.is_usable();
                tracker.set_own_stopping();
                check.changed(!was_up);
                let head = format!("{title} is stopping{via}");
                report_stopping(&reporter, backend, tracker, was_counted, &head);
            }
            Health::Down => {
                tracker.set_own_up(false);
                check.downs.fetch_add(1, Ordering::Relaxed);
                check.changed(false);
                report_down(
                    &reporter,
                    backend,
                    tracker,
                    &format!("{title} is DOWN{via}"),
                );
                super::end_sessions(shared, index, backend, tracker, false);
            }
        }
        report_trackers(Some(shared), tracker, now, was_up);
    }
}
