//! A worker's side of master-worker mode: it says when it serves, stops when its master
//! has gone, and once stopping never outlives `hard-stop-after` nor a SIGTERM.

use super::env;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Takes the descriptor named by an environment variable, once.
fn take_fd(var: &str) -> Option<OwnedFd> {
    let fd: RawFd = std::env::var(var).ok()?.parse().ok()?;
    std::env::remove_var(var);
    // SAFETY: the master left this pipe end open across exec for this process only and
    // named it once in the environment, which is cleared above: nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Tells the master (if any) that this worker now accepts connections.
pub fn announce_ready() {
    if let Some(fd) = take_fd(env::READY_FD) {
        let _ = std::fs::File::from(fd).write_all(b"R");
    }
}

/// Whether a master runs this worker (its pipe was found).
static UNDER_MASTER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Completes when the master has gone (its pipe reads end-of-file); never without a master.
pub async fn master_gone() {
    let Some(fd) = take_fd(env::MASTER_FD) else {
        return std::future::pending().await;
    };
    UNDER_MASTER.store(true, std::sync::atomic::Ordering::Relaxed);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = std::thread::Builder::new()
        .name("hapee-master-watch".into())
        .spawn(move || {
            let mut pipe = std::fs::File::from(fd);
            let mut byte = [0u8; 1];
            // The master never writes: any return means it has closed its end.
            let _ = pipe.read(&mut byte);
            let _ = tx.send(());
        });
    if watcher.is_err() {
        return std::future::pending().await;
    }
    if rx.await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// After a soft stop, ends the process at `hard-stop-after` (milliseconds) whatever is still
/// running.
pub fn arm_hard_stop(limit_ms: Option<u32>) {
    let Some(ms) = limit_ms else { return };
    let _ = std::thread::Builder::new()
        .name("hapee-hard-stop".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_millis(u64::from(ms)));
            eprintln!(
                "[WARNING]  ({}) : Proxy stopping: hard-stop-after reached, exiting now.",
                std::process::id()
            );
            std::process::exit(0);
        });
}

/// SIGTERM or SIGINT, whichever comes first: the hard stop, at any moment of a worker's life.
/// `None` when the handlers cannot be installed. Call it inside a tokio runtime.
pub fn hard_stop_signal() -> Option<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return None;
    };
    Some(async move {
        let sig = tokio::select! {
            _ = term.recv() => libc::SIGTERM,
            _ = int.recv() => libc::SIGINT,
        };
        // A master reports how its worker ended: HAProxy 2.7's worker ends by the signal
        // ("exited with code 143 (Terminated)").
        if UNDER_MASTER.load(std::sync::atomic::Ordering::Relaxed) {
            end_by(sig);
        }
    })
}

/// Ends this process by `sig` with its default action.
fn end_by(sig: libc::c_int) {
    // SAFETY: restoring a signal's default action and raising it in this process touches no
    // memory of ours; the process ends at the raise.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// During a soft stop, SIGTERM or SIGINT still stops at once (as they do before it: the master
/// sends SIGTERM to an old worker past `mworker-max-reloads`, an operator sends it to end a
/// stop that lingers). The handlers installed for the first signal keep the default action
/// away, so without this watcher the process would wait for its last connection.
pub fn exit_on_terminate() {
    let _ = std::thread::Builder::new()
        .name("hapee-terminate".into())
        .spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let stopped = rt.block_on(async {
                match hard_stop_signal() {
                    Some(signalled) => {
                        signalled.await;
                        true
                    }
                    None => false,
                }
            });
            if stopped {
                std::process::exit(0);
            }
        });
}

/// `-sf`/`-st`: once this process serves, the old ones stop (gracefully with `-sf`).
pub fn stop_old(pids: &[i32], graceful: bool) {
    use nix::sys::signal::{kill, Signal};
    let sig = if graceful {
        Signal::SIGUSR1
    } else {
        Signal::SIGTERM
    };
    for &pid in pids {
        let _ = kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// Serves the master CLI's commands for this worker (`@1 …`, `@!<pid> …`): each connection
/// arrives as a descriptor on the channel the master passed, and gets a Runtime API session
/// at the admin level, on a thread of its own. Nothing without a master.
pub fn serve_master_cli(shared: std::sync::Arc<crate::state::Shared>) {
    let Some(channel) = take_fd(env::CLI_FD) else {
        return;
    };
    let _ = crate::side_thread::spawn("hapee-master-cli", move || {
        accept_from_master(channel, shared)
    });
}

async fn accept_from_master(channel: OwnedFd, shared: std::sync::Arc<crate::state::Shared>) {
    use std::os::fd::AsRawFd;
    // A sequenced-packet socket, driven through tokio's datagram type: only readiness and
    // raw `recvmsg` calls are used on it.
    let channel = std::os::unix::net::UnixDatagram::from(channel);
    if channel.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(channel) = tokio::net::UnixDatagram::from_std(channel) else {
        return;
    };
    loop {
        if channel.readable().await.is_err() {
            return;
        }
        let mut byte = [0u8; 1];
        let received = channel.try_io(tokio::io::Interest::READABLE, || {
            super::fdpass::receive(channel.as_raw_fd(), &mut byte, 1)
        });
        let fds = match received {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            // The master has gone (or the channel broke): no more commands.
            Err(_) | Ok((0, _)) => return,
            Ok((_, fds)) => fds,
        };
        for fd in fds {
            let stream = std::os::unix::net::UnixStream::from(fd);
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let Ok(stream) = tokio::net::UnixStream::from_std(stream) else {
                continue;
            };
            let shared = shared.clone();
            tokio::task::spawn_local(async move {
                crate::api::socket::serve_client(
                    stream,
                    &shared,
                    hapee_compiler::plan::CliLevel::Admin,
                )
                .await;
            });
        }
    }
}
