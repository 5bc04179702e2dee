//! Network namespaces (`namespace <name>` on `bind` and `server` lines): a socket belongs to
//! the namespace of the thread that made it, so the thread enters the namespace
//! (`/var/run/netns/<name>`, as `ip netns add` makes it) just to make the socket, and comes
//! back at once. Namespaces are opened once, when the configuration is loaded, and named by a
//! small number afterwards so that the settings that carry one stay `Copy`.

use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A namespace opened by [`open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Netns(u16);

struct Opened {
    names: Vec<String>,
    files: Vec<Arc<File>>,
}

fn opened() -> &'static Mutex<Opened> {
    static OPENED: OnceLock<Mutex<Opened>> = OnceLock::new();
    OPENED.get_or_init(|| {
        Mutex::new(Opened {
            names: Vec::new(),
            files: Vec::new(),
        })
    })
}

/// The namespace called `name`, opened on first use; HAProxy's words when it cannot be.
pub fn open(name: &str) -> Result<Netns, String> {
    let mut o = opened().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(i) = o.names.iter().position(|n| n == name) {
        return Ok(Netns(i as u16));
    }
    let file = File::open(format!("/var/run/netns/{name}"))
        .map_err(|_| format!("Cannot open namespace '{name}'"))?;
    let id = u16::try_from(o.names.len()).map_err(|_| "too many namespaces".to_string())?;
    o.names.push(name.to_string());
    o.files.push(Arc::new(file));
    Ok(Netns(id))
}

/// What `make` returns, run with the calling thread in namespace `ns` (in its own one for
/// `None`).
pub fn within<T>(ns: Option<Netns>, make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let Some(Netns(id)) = ns else {
        return make();
    };
    let target = opened()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .files
        .get(usize::from(id))
        .cloned()
        .ok_or_else(|| io::Error::other("unknown namespace"))?;
    let own = File::open("/proc/thread-self/ns/net")?;
    nix::sched::setns(&*target, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
    let made = make();
    if let Err(e) = nix::sched::setns(&own, nix::sched::CloneFlags::CLONE_NEWNET) {
        // The thread would make its next sockets in the wrong namespace: stop here rather.
        eprintln!(
            "[ALERT]    ({}) : cannot return to the process's network namespace ({e})",
            std::process::id()
        );
        std::process::abort();
    }
    made
}
