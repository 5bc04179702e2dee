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
//! - `confine`: the environment, the root directory and the user a worker runs with.
//!
//! A reload never closes a port: the sockets stay open in the master the whole time, and
//! the new worker accepts on the very sockets the old one stops accepting on.

pub mod cli;
pub mod confine;
pub mod default_path;
pub mod fdpass;
pub mod handover;
pub mod limits;
pub mod master;
pub mod server_state;
pub mod sockets;
pub mod worker;

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
