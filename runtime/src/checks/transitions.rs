//! A server's state changes and how they are reported, in HAProxy's words: going down or
//! up on a check's or an agent's verdict, and the administrative changes (forced
//! maintenance and drain) that the Runtime API and an agent's reply ask for.

use super::Reporter;
use crate::state::{BackendRt, ServerRt, ADMIN_DRAIN, ADMIN_MAINT};
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

/// Reports that `server` came up, as a notice: `head` (which server, and why), then the
/// servers `backend` now has.
pub(crate) fn report_up(reporter: &Reporter, backend: &BackendRt, head: &str) {
    let (active, backup) = servers_left(backend);
    let note = backup_note(active, backup);
    reporter.emit(
        5,
        &format!(
            "{head}. {active} active and {backup} backup servers online.{note} 0 sessions requeued, 0 total in queue"
        ),
    );
}

/// Reports that `server` went down: `head` (which server, and why), then the servers
/// `backend` has left and the sessions the server held; and the backend's own alert when
/// this server was the last one serving. A draining server was already out of the count
/// and takes no traffic: its going down is a notice, not an alert, as in HAProxy.
pub(crate) fn report_down(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, head: &str) {
    let (active, backup) = servers_left(backend);
    let note = backup_note(active, backup);
    let was_serving = !draining(server);
    reporter.emit(
        if was_serving { 1 } else { 5 },
        &format!(
            "{head}. {active} active and {backup} backup servers left.{note} {} sessions active, 0 requeued, 0 remaining in queue",
            server.active.load(Ordering::Relaxed)
        ),
    );
    if was_serving && active == 0 && backup == 0 {
        reporter.no_server_left();
    }
}

/// The administrative states `set server … state` and an agent's reply ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admin {
    Ready,
    Drain,
    Maint,
}

/// Puts `server` in `wanted` as HAProxy does, one flag at a time and each change reported:
/// the flag `wanted` sets goes on before the other one goes off (so that a drained server
/// put in maintenance goes down from drain, and one leaving maintenance for drain is never
/// ready in between).
pub(crate) fn set_admin(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    wanted: Admin,
) {
    let flag = |bit, on| set_admin_flag(reporter, backend, server, bit, on);
    match wanted {
        Admin::Maint => {
            flag(ADMIN_MAINT, true);
            flag(ADMIN_DRAIN, false);
        }
        Admin::Drain => {
            flag(ADMIN_DRAIN, true);
            flag(ADMIN_MAINT, false);
        }
        Admin::Ready => {
            flag(ADMIN_DRAIN, false);
            flag(ADMIN_MAINT, false);
        }
    }
}

/// Turns one admin flag on or off and reports the change. `lastchg` restarts where HAProxy
/// 2.7 restarts it: a running server entering maintenance, a server leaving it running
/// (2.7 leaves that stop out of `downtime`), entering drain, and leaving drain (2.7 counts
/// the drained time in `downtime`). A server already down that enters maintenance keeps its
/// `lastchg`.
fn set_admin_flag(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, bit: u8, on: bool) {
    let before = if on {
        server.admin.fetch_or(bit, Ordering::Relaxed)
    } else {
        server.admin.fetch_and(!bit, Ordering::Relaxed)
    };
    let after = if on { before | bit } else { before & !bit };
    if before == after {
        return;
    }
    let maint = |a: u8| a & ADMIN_MAINT != 0;
    let drain = |a: u8| a & ADMIN_DRAIN != 0;
    let up = server.up.load(Ordering::Relaxed);
    let title = titled(reporter, server);
    if !maint(before) && maint(after) {
        if up {
            server.check.changed(false);
            report_down(
                reporter,
                backend,
                server,
                &format!("{title} is going DOWN for maintenance"),
            );
        } else {
            reporter.emit(5, &format!("{title} was DOWN and now enters maintenance"));
        }
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
        reporter.emit(
            5,
            &format!("{title} is {state}/{admin} (leaving forced maintenance)"),
        );
        // HAProxy then sees the drain flag unchanged by the change it is applying.
        if drain(after) {
            reporter.emit(5, &format!("{title} remains in forced drain mode"));
        }
    } else if !maint(after) && drain(before) != drain(after) {
        server.check.changed(drain(before));
        if drain(after) {
            report_drain(reporter, backend, server, &title);
        } else {
            let state = if up { "UP" } else { "DOWN" };
            reporter.emit(5, &format!("{title} is {state} (leaving forced drain)"));
        }
    }
}

/// `… enters drain state`, with the servers the backend has left, and the backend's alert
/// when the drained server was the last one serving. Called once the drain flag is on, with
/// no other flag before it: the server was serving just before iff it is up with an address.
fn report_drain(reporter: &Reporter, backend: &BackendRt, server: &ServerRt, title: &str) {
    let was_serving = server.up.load(Ordering::Relaxed) && server.addr().is_some();
    let (active, backup) = servers_left(backend);
    let note = backup_note(active, backup);
    // A running server drains: HAProxy counts it among those online.
    let counts = if server.up.load(Ordering::Relaxed) {
        format!(
            "{active} active and {backup} backup servers online.{note} 0 sessions requeued, 0 total in queue"
        )
    } else {
        format!(
            "{active} active and {backup} backup servers left.{note} {} sessions active, 0 requeued, 0 remaining in queue",
            server.active.load(Ordering::Relaxed)
        )
    };
    reporter.emit(5, &format!("{title} enters drain state. {counts}"));
    if was_serving && (active, backup) == (0, 0) {
        reporter.no_server_left();
    }
}
