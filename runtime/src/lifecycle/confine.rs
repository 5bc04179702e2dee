//! What a worker does between binding its sockets and serving: it takes its root directory
//! (`chroot`) and drops to its configured group and user, so that a compromised worker
//! neither sees the file system nor holds the privileges it needed to bind. The order is
//! HAProxy's: chroot, then the group (supplementary groups cleared first), then the user.
//!
//! Everything the process reads from files (configuration, certificates, scripts, maps,
//! error pages, log files) is open before this point; the user and group names are looked up
//! in `/etc` here, before the root changes.

use hapee_compiler::plan::process::{Identity, ProcessSettings};
use nix::unistd::{Gid, Group, Uid, User};

/// The process environment as `setenv`, `presetenv`, `unsetenv` and `resetenv` leave it.
///
/// # Safety
/// No other thread of the process may be running: changing the environment while another
/// thread reads it (directly or through the C library) is undefined behaviour.
pub unsafe fn apply_environment(settings: &ProcessSettings) {
    use hapee_compiler::plan::process::EnvChange;
    for change in &settings.environment {
        // SAFETY (each call below): the caller guarantees this is the only thread.
        match change {
            EnvChange::Set(name, value) => unsafe { std::env::set_var(name, value) },
            EnvChange::Preset(name, value) => {
                if std::env::var_os(name).is_none() {
                    unsafe { std::env::set_var(name, value) }
                }
            }
            EnvChange::Unset(names) => {
                for name in names {
                    unsafe { std::env::remove_var(name) }
                }
            }
            EnvChange::Reset(keep) => {
                let all: Vec<_> = std::env::vars_os().map(|(k, _)| k).collect();
                for name in all
                    .iter()
                    .filter(|n| !keep.iter().any(|k| *n == k.as_str()))
                {
                    unsafe { std::env::remove_var(name) }
                }
            }
        }
    }
}

/// Takes the configured root, group and user; the error is HAProxy's message for the step
/// that failed, and the process must not serve after it.
pub fn confine(settings: &ProcessSettings) -> Result<(), String> {
    // Resolved before the root changes: the user and group databases live under /etc.
    let uid = match &settings.user {
        Some(user) => Some(user_id(user)?),
        None => None,
    };
    let gid = match &settings.group {
        Some(group) => Some(group_id(group)?),
        None => None,
    };
    let program = "hapee-lb";
    if let Some(dir) = &settings.chroot {
        nix::unistd::chroot(dir.as_str())
            .and_then(|()| nix::unistd::chdir("/"))
            .map_err(|_| format!("[{program}.main()] Cannot chroot({dir})."))?;
    }
    if let Some(gid) = gid.filter(|g| g.as_raw() != 0) {
        if nix::unistd::setgroups(&[]).is_err() {
            eprintln!(
                "[WARNING]  ({}) : [{program}.main()] Failed to drop supplementary groups. Using \
                 'gid'/'group' without 'uid'/'user' is generally useless.",
                std::process::id()
            );
        }
        nix::unistd::setgid(gid)
            .map_err(|_| format!("[{program}.main()] Cannot set gid {gid}."))?;
    }
    if let Some(uid) = uid.filter(|u| !u.is_root()) {
        nix::unistd::setuid(uid)
            .map_err(|_| format!("[{program}.main()] Cannot set uid {uid}."))?;
    }
    Ok(())
}

fn user_id(user: &Identity) -> Result<Uid, String> {
    match user {
        Identity::Id(id) => Ok(Uid::from_raw(*id)),
        Identity::Name(name) => match User::from_name(name) {
            Ok(Some(u)) => Ok(u.uid),
            _ => Err(format!("cannot find user id for '{name}'")),
        },
    }
}

fn group_id(group: &Identity) -> Result<Gid, String> {
    match group {
        Identity::Id(id) => Ok(Gid::from_raw(*id)),
        Identity::Name(name) => match Group::from_name(name) {
            Ok(Some(g)) => Ok(g.gid),
            _ => Err(format!("cannot find group id for '{name}'")),
        },
    }
}
