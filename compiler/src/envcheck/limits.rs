//! The open-file limit at start-up, as `hapee-lb run` (and HAProxy) will find it: the limit
//! asked for (`ulimit-n`, else what the global `maxconn` needs, [`crate::plan::fds`]) must
//! be one this process may set, and the limit then had must hold what `maxconn` needs. Under
//! `strict-limits` (the default) HAProxy refuses to start otherwise; `haproxy -c` does not look.

use crate::diagnostic::Diagnostic;
use crate::ir::Config;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

pub fn check(config: &Config) -> Vec<Diagnostic> {
    let g = &config.global;
    let line = |keyword: &str| {
        g.directives
            .iter()
            .find(|d| d.keyword == keyword && d.prefix.is_none())
    };
    let ulimit = line("ulimit-n");
    if g.maxconn.is_none() && ulimit.is_none() {
        return Vec::new();
    }
    let nbthread = g
        .nbthread
        .as_ref()
        .map_or_else(crate::ir::default_nbthread, |n| n.value);
    let plan = crate::plan::build(config, nbthread);
    let p = &plan.global.process;
    if !p.strict_limits {
        return Vec::new();
    }
    let Some(wanted) = p.open_files_wanted() else {
        return Vec::new();
    };
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Vec::new();
    };
    let note = super::START_NOTE;
    let cap = |n: u64| p.fd_hard_limit.map_or(n, |c| n.min(c));
    let reachable = p.fd_hard_limit.is_none_or(|c| wanted <= c) && may_raise(soft, hard, wanted);
    if !reachable {
        let span = match (ulimit, &g.maxconn) {
            (Some(d), _) => d.span,
            (None, Some(m)) => m.span,
            (None, None) => return Vec::new(),
        };
        return vec![
            Diagnostic::new("E408", crate::plan::fds::cannot_raise(wanted, cap(soft)))
                .at(span)
                .label(format!("this process may open {} files", cap(soft)))
                .note(note),
        ];
    }
    let had = soft.max(wanted);
    match (p.fds, &g.maxconn) {
        (Some(need), Some(maxconn)) if had < need.maxsock => {
            vec![Diagnostic::new("E408", need.too_low(had))
                .at(maxconn.span)
                .label(format!("needs {} open files", need.maxsock))
                .note(note)]
        }
        _ => Vec::new(),
    }
}

/// Whether the open-file limit may be raised to `wanted` (the hard limit with it when below),
/// found as HAProxy finds it: by setting it, then the limits back as they were.
fn may_raise(soft: u64, hard: u64, wanted: u64) -> bool {
    if soft >= wanted {
        return true;
    }
    let raised = setrlimit(Resource::RLIMIT_NOFILE, wanted, hard.max(wanted)).is_ok();
    if raised {
        // Lowering back is always allowed.
        let _ = setrlimit(Resource::RLIMIT_NOFILE, soft, hard);
    }
    raised
}
