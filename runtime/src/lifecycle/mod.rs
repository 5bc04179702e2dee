//! The process lifecycle: master-worker mode and hitless reloads.
//!
//! - `sockets`: the listening sockets a worker takes over from its master (or binds itself);
//! - `worker`: what a worker tells its master (ready) and hears from it (gone), and the
//!   bound on a stopping worker (`hard-stop-after`);
//! - `master`: the master process, which binds the sockets once, runs a worker on them,
//!   and on a reload starts a new worker on the same sockets before stopping the old one;
//! - `cli`: the master CLI (`-S`): `show proc`, `reload`, `@<process> <command>`;
//! - `fdpass`: descriptors sent over Unix sockets (`SCM_RIGHTS`);
//! - `handover`: listening sockets passed to a replacing process (`-x`, `_getsocks`);
//! - `server_state`: server states saved before a reload, given back at start;
//! - `dump_state`: SIGHUP, every server's state written out;
//! - `pause`: SIGTTOU and SIGTTIN, the listeners paused and resumed;
//! - `confine`: the environment, the root directory and the user a worker runs with.
//!
//! A reload never closes a port: the sockets stay open in the master the whole time, and
//! the new worker accepts on the very sockets the old one stops accepting on.

pub mod cli;
pub mod confine;
pub mod default_path;
pub mod dump_state;
pub mod fdpass;
pub mod handover;
pub mod limits;
pub mod master;
pub mod pause;
pub mod server_state;
pub mod sockets;
pub mod worker;

/// The version a master reports (`show proc`, `show version`, its start-up notices).
pub const VERSION: &str = concat!("2.7.0-hapee-", env!("CARGO_PKG_VERSION"));

/// The path this executable was started by, as `execve` got it (HAProxy's "path to
/// executable"); the first argument when the kernel did not say.
pub fn exec_path() -> String {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave this process; for
    // AT_EXECFN it answers a pointer to a NUL-terminated string that lives as long as the
    // process (on the initial stack), or 0.
    let p = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const libc::c_char;
    if p.is_null() {
        return std::env::args().next().unwrap_or_default();
    }
    // SAFETY: non-null and NUL-terminated, never freed (see above).
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// Environment variables a master hands its worker.
pub mod env {
    /// `ADDR/THREAD=FD;…`: the inherited listening sockets.
    pub const LISTEN_FDS: &str = "HAPEE_LISTEN_FDS";
    /// The pipe the worker writes one byte to once it serves.
    pub const READY_FD: &str = "HAPEE_READY_FD";
    /// A pipe that reads end-of-file when the master has gone.
    pub const MASTER_FD: &str = "HAPEE_MASTER_FD";
    /// The socket on which the master sends connections to the worker's Runtime API.
    pub const CLI_FD: &str = "HAPEE_CLI_FD";
}
