//! `option external-check`: the check is a command, run with HAProxy's arguments (the
//! proxy's first listening address and port, or `NOT_USED`, then the server's address and
//! port) and only HAProxy's environment variables (`PATH` from `external-check path`,
//! `HAPROXY_PROXY_*`, `HAPROXY_SERVER_*`). Exit status 0 passes; any other status fails; a
//! command still running when its time is up is sent SIGTERM and the check times out. A
//! command that cannot be run (missing, not executable) fails as HAProxy's forked child does:
//! an alert on standard error, then exit status 255.

use super::engine::Outcome;
use crate::api::health::CheckStatus;
use crate::state::{BackendRt, ServerRt};
use hapee_compiler::plan::mailers::ExternalCheck;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The command's arguments after its name, and its whole environment.
fn invocation(
    ext: &ExternalCheck,
    backend: &BackendRt,
    server: &ServerRt,
    addr: SocketAddr,
) -> (Vec<String>, Vec<(&'static str, String)>) {
    let (proxy_addr, proxy_port) = ext
        .listener
        .clone()
        .unwrap_or_else(|| ("NOT_USED".to_string(), "NOT_USED".to_string()));
    let server_addr = addr.ip().to_string();
    let server_port = addr.port().to_string();
    let proto = match backend.mode {
        hapee_compiler::ir::Mode::Http if server.plan.mux.h2 => "h2",
        hapee_compiler::ir::Mode::Http if server.plan.mux.fcgi => "fcgi",
        hapee_compiler::ir::Mode::Http => "h1",
        _ => "tcp",
    };
    let args = vec![
        proxy_addr.clone(),
        proxy_port.clone(),
        server_addr.clone(),
        server_port.clone(),
    ];
    let env = vec![
        ("PATH", ext.path.clone()),
        ("HAPROXY_PROXY_NAME", backend.name.to_string()),
        ("HAPROXY_PROXY_ID", backend.id.to_string()),
        ("HAPROXY_PROXY_ADDR", proxy_addr),
        ("HAPROXY_PROXY_PORT", proxy_port),
        ("HAPROXY_SERVER_NAME", server.name.to_string()),
        ("HAPROXY_SERVER_ID", server.id.to_string()),
        ("HAPROXY_SERVER_ADDR", server_addr),
        ("HAPROXY_SERVER_PORT", server_port),
        (
            "HAPROXY_SERVER_MAXCONN",
            server.maxconn.unwrap_or(0).to_string(),
        ),
        (
            "HAPROXY_SERVER_CURCONN",
            server.active.load(Ordering::Relaxed).to_string(),
        ),
        (
            "HAPROXY_SERVER_SSL",
            if server.tls.is_some() { "1" } else { "0" }.to_string(),
        ),
        ("HAPROXY_SERVER_PROTO", proto.to_string()),
    ];
    (args, env)
}

/// Runs the command once, for at most `limit`.
pub async fn run(
    ext: &ExternalCheck,
    backend: &BackendRt,
    server: &ServerRt,
    addr: SocketAddr,
    limit: Duration,
) -> Outcome {
    let (args, env) = invocation(ext, backend, server, addr);
    let mut command = tokio::process::Command::new(&ext.command);
    command
        .args(&args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(false);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            // HAProxy forks, and its child, failing to exec, says so and exits with -1.
            eprintln!(
                "[ALERT]    ({}) : Failed to exec process for external health check: {}. Aborting.",
                std::process::id(),
                super::engine::error_text(&e)
            );
            let mut o = Outcome::new(CheckStatus::ProcErr, "");
            o.code = 255;
            return o;
        }
    };
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => match status.code() {
            Some(0) => Outcome::new(CheckStatus::ProcOk, ""),
            Some(code) => {
                let mut o = Outcome::new(CheckStatus::ProcErr, "");
                o.code = u32::try_from(code).unwrap_or(0);
                o
            }
            // Killed by a signal: no exit code to report.
            None => Outcome::new(CheckStatus::ProcErr, ""),
        },
        Ok(Err(e)) => Outcome::new(CheckStatus::SockErr, e.to_string()),
        Err(_) => {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            // Reaped in the background once it is gone.
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            Outcome::new(CheckStatus::ProcTimeout, "")
        }
    }
}
