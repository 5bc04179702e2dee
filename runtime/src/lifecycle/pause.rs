//! SIGTTOU and SIGTTIN in a process that serves: its TCP listeners pause (the kernel then
//! refuses new connections, as their sockets no longer listen) and resume, as HAProxy pauses
//! and resumes its listeners, with its `Paused frontend <name>.` and `Resumed frontend
//! <name>.` warnings. A paused socket is disconnected (`connect` to `AF_UNSPEC`, which takes a
//! listening TCP socket out of the listening state) and listens again on resume with the
//! accept queue it had. The accept loops take nothing while paused.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

static PAUSED: AtomicBool = AtomicBool::new(false);

/// How many times the listeners resumed: an accept loop that saw this change registers its
/// socket again (see `Accepting::renew`).
static RESUMES: AtomicU64 = AtomicU64::new(0);

/// A listening socket that pauses: a descriptor of its own (the worker threads hold others),
/// its accept queue's length, and what the warnings call its proxy (`frontend fe`).
struct Paused {
    socket: std::net::TcpListener,
    backlog: i32,
    proxy: String,
}

static SOCKETS: Mutex<Vec<Paused>> = Mutex::new(Vec::new());

/// Whether the listeners are paused (the accept loops wait).
pub fn paused() -> bool {
    PAUSED.load(Ordering::Relaxed)
}

/// How many times the listeners resumed so far.
pub fn resumes() -> u64 {
    RESUMES.load(Ordering::Acquire)
}

/// Makes `socket` pause with the others; `proxy` is its section's kind and name.
pub fn register(socket: &std::net::TcpListener, backlog: i32, proxy: String) {
    if let Ok(socket) = socket.try_clone() {
        let mut sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
        sockets.push(Paused {
            socket,
            backlog,
            proxy,
        });
    }
}

/// At the stop: the listening sockets close with the worker threads' copies (a copy kept
/// here would leave the socket listening with nobody accepting). Paused ones listen again
/// first: under a master, the next worker accepts on the same sockets.
pub fn forget() {
    let mut sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    if PAUSED.load(Ordering::Relaxed) {
        for s in sockets.iter() {
            // SAFETY: the descriptor is open (owned by `s.socket`).
            let _ = unsafe { libc::listen(s.socket.as_raw_fd(), s.backlog) };
        }
    }
    sockets.clear();
}

/// The proxies of the registered sockets, each once, in their order.
fn proxies(sockets: &[Paused]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in sockets {
        if !out.contains(&s.proxy.as_str()) {
            out.push(&s.proxy);
        }
    }
    out
}

fn warn(msg: &str) {
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
}

/// SIGTTOU: every listener stops listening; nothing when already paused.
pub fn pause() {
    if PAUSED.swap(true, Ordering::Relaxed) {
        return;
    }
    let sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    for s in sockets.iter() {
        // SAFETY: a zeroed sockaddr is a valid value of the type; only its family is read
        // for AF_UNSPEC, and the length given is the structure's own.
        let unspec: libc::sockaddr = unsafe { std::mem::zeroed() };
        let unspec = libc::sockaddr {
            sa_family: libc::AF_UNSPEC as libc::sa_family_t,
            ..unspec
        };
        // SAFETY: the descriptor is open (owned by `s.socket`) and the address lives across
        // the call.
        let _ = unsafe {
            libc::connect(
                s.socket.as_raw_fd(),
                &unspec,
                std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
            )
        };
    }
    for p in proxies(&sockets) {
        warn(&format!("Paused {p}."));
    }
}

/// SIGTTIN: every paused listener listens again.
pub fn resume() {
    if !PAUSED.load(Ordering::Relaxed) {
        return;
    }
    let sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    for s in sockets.iter() {
        // SAFETY: the descriptor is open (owned by `s.socket`).
        let _ = unsafe { libc::listen(s.socket.as_raw_fd(), s.backlog) };
    }
    RESUMES.fetch_add(1, Ordering::Release);
    PAUSED.store(false, Ordering::Relaxed);
    for p in proxies(&sockets) {
        warn(&format!("Resumed {p}."));
    }
}
