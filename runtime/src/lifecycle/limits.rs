//! The open-file limit (RLIMIT_NOFILE), raised before anything is bound, as HAProxy raises it
//! (never lowered): `ulimit-n` is the limit asked for, else what the global `maxconn` needs
//! (HAProxy's `maxsock`, see [`hapee_compiler::plan::fds`]); the hard limit is raised to it
//! when it is below. `fd-hard-limit` is the most that may be asked, and `strict-limits` (the
//! default) makes a limit that cannot be had stop the start; without it the process raises
//! its limit as far as it can, with a warning. A limit that ends below what `maxconn` needs
//! (a `ulimit-n` under it) stops the start too, under `strict-limits`.

use hapee_compiler::plan::fds::cannot_raise;
use hapee_compiler::plan::process::ProcessSettings;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

pub fn apply(p: &ProcessSettings) -> Result<(), String> {
    raise_to_wanted(p)?;
    let Some(need) = p.fds else {
        return Ok(());
    };
    let Ok((now, _)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    if now >= need.maxsock {
        return Ok(());
    }
    let message = format!("[haproxy.main()] {}", need.too_low(now));
    if p.strict_limits {
        return Err(message);
    }
    eprintln!("[ALERT]    ({}) : {message}", std::process::id());
    Ok(())
}

fn raise_to_wanted(p: &ProcessSettings) -> Result<(), String> {
    let Some(wanted) = p.open_files_wanted() else {
        return Ok(());
    };
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    let cap = |n: u64| p.fd_hard_limit.map_or(n, |c| n.min(c));
    let beyond_cap = p.fd_hard_limit.is_some_and(|c| wanted > c);
    if !beyond_cap && raise(soft, hard, wanted, hard.max(wanted)) {
        return Ok(());
    }
    let (now, max) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((soft, hard));
    if p.strict_limits {
        return Err(format!(
            "[haproxy.main()] {}",
            cannot_raise(wanted, cap(now))
        ));
    }
    // As far as it can, then.
    raise(now, max, cap(max), max);
    let now = getrlimit(Resource::RLIMIT_NOFILE).map_or(now, |(s, _)| s);
    eprintln!(
        "[WARNING]  ({}) : [haproxy.main()] {}",
        std::process::id(),
        cannot_raise(wanted, now)
    );
    Ok(())
}

/// Sets the limits to `(to_soft, to_hard)` when that raises either; whether the limits are
/// now at least those.
fn raise(soft: u64, hard: u64, to_soft: u64, to_hard: u64) -> bool {
    soft >= to_soft && hard >= to_hard
        || setrlimit(Resource::RLIMIT_NOFILE, to_soft, to_hard).is_ok()
}
