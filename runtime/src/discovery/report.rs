//! What DNS resolution reports when it moves a server, in HAProxy 2.7's words: each line a
//! warning on stderr and a line of the backend's log.

use crate::checks::Reporter;
use crate::state::{BackendRt, ServerRt, ADMIN_DRAIN};
use std::net::IpAddr;
use std::sync::atomic::Ordering;

/// The server got a new address from an answer: `by` names who gave it, `<section>/<id of
/// the nameserver>` for the first server of a resolution and `DNS cache` for the servers
/// that share its answer (HAProxy hands the nameserver to the first requester only).
pub fn address_changed(
    reporter: &Reporter,
    server: &ServerRt,
    old: Option<IpAddr>,
    new: IpAddr,
    by: &str,
) {
    let old = old.map_or_else(|| "(none)".to_string(), |ip| ip.to_string());
    reporter.emit(
        5,
        &format!(
            "{}/{} changed its IP from {old} to {new} by {by}",
            reporter.backend, server.name
        ),
    );
}

/// The server takes a new name (`by`: who gave it, `SRV record` for a template slot): a line
/// of the backend's log only, without a final period, `(null)` standing for no name before.
pub fn fqdn_changed(
    reporter: &Reporter,
    server: &ServerRt,
    old: Option<&str>,
    new: &str,
    by: &str,
) {
    let old = old.unwrap_or("(null)");
    reporter.log_only(
        5,
        &format!(
            "{}/{} changed its FQDN from {old} to {new} by '{by}'",
            reporter.backend, server.name
        ),
    );
}

/// The server, which DNS had left without an address (or which started without one), has
/// one again: it leaves the maintenance DNS put it in. `own_resolution`: the address came
/// from a resolution of the server's own name, which says so in a second line (an address
/// an SRV answer carried in its additional records does not).
pub fn resolves_again(reporter: &Reporter, server: &ServerRt, host: &str, own_resolution: bool) {
    let state = if server.up.load(Ordering::Relaxed) {
        "UP"
    } else {
        "DOWN"
    };
    let admin = if server.admin.load(Ordering::Relaxed) & ADMIN_DRAIN != 0 {
        "DRAIN"
    } else {
        "READY"
    };
    let titled = crate::checks::titled(reporter, server);
    reporter.emit(
        5,
        &format!("{titled} ('{host}') is {state}/{admin} (resolves again)"),
    );
    if !own_resolution {
        return;
    }
    // HAProxy names a backup server plainly in this one.
    reporter.emit(
        5,
        &format!(
            "Server {}/{} administratively READY thanks to valid DNS answer",
            reporter.backend, server.name
        ),
    );
}

/// The server lost its address (`cause`: the resolution's status): a server its checks hold
/// down only changes its admin state (a notice); a running one goes down, with the counts
/// of the servers left as a check failure reports them (an alert), and the backend's alert
/// when none is left.
pub fn enters_maintenance(
    reporter: &Reporter,
    backend: &BackendRt,
    server: &ServerRt,
    cause: &str,
) {
    let titled = crate::checks::titled(reporter, server);
    if !server.up.load(Ordering::Relaxed) {
        reporter.emit(
            5,
            &format!("{titled} was DOWN and now enters maintenance ({cause})"),
        );
        return;
    }
    let head = format!("{titled} is going DOWN for maintenance ({cause})");
    crate::checks::report_maintenance(reporter, backend, server, &head);
}
