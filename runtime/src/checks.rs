//! Health checks. Each server's check runs on exactly one worker thread; its verdict is an
//! atomic flag every thread reads, so a state change is seen everywhere at once.

use crate::api::health::{unix_now, CheckStatus};
use crate::state::{BackendRt, ServerRt};
use hapee_compiler::plan::{Expect, HealthCheck};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Ok,
    Failed(String),
}

/// Whether an HTTP check response (status code and body) satisfies `expect`.
pub fn expect_matches(expect: Option<&Expect>, status: u16, body: &str) -> bool {
    let Some(e) = expect else {
        return (200..400).contains(&status);
    };
    let hit = match e.kind.as_str() {
        "status" => e.pattern.split(',').any(|p| match p.split_once('-') {
            Some((lo, hi)) => {
                lo.parse().is_ok_and(|lo: u16| lo <= status)
                    && hi.parse().is_ok_and(|hi: u16| status <= hi)
            }
            None => p.parse() == Ok(status),
        }),
        "rstatus" => regex::Regex::new(&e.pattern).is_ok_and(|r| r.is_match(&status.to_string())),
        "string" => body.contains(&e.pattern),
        "rstring" => regex::Regex::new(&e.pattern).is_ok_and(|r| r.is_match(body)),
        _ => (200..400).contains(&status),
    };
    hit != e.negate
}

async fn probe(
    check: &HealthCheck,
    addr: SocketAddr,
    timeout: Duration,
    tls: Option<&crate::tls::client::ServerTlsConfig>,
) -> Probe {
    let run = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("Layer4 connection problem, info: \"{e}\""))?;
        match tls {
            None => http_check(check, tcp).await,
            Some(config) => {
                let txn = crate::txn::Txn::for_checks(addr);
                let name = config.server_name(&txn, addr);
                let tls = tokio_rustls::TlsConnector::from(config.config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("Layer6 invalid response, info: \"{e}\""))?;
                http_check(check, tls).await
            }
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(())) => Probe::Ok,
        Ok(Err(e)) => Probe::Failed(e),
        Err(_) => Probe::Failed("Layer4 timeout".into()),
    }
}

/// The HTTP exchange of an `option httpchk` check over an established connection; nothing
/// more for a plain connection check.
async fn http_check<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    check: &HealthCheck,
    mut s: S,
) -> Result<(), String> {
    {
        let HealthCheck::Http {
            method,
            uri,
            version,
            headers,
            body,
            expect,
        } = check
        else {
            return Ok(());
        };
        let mut req = format!("{method} {uri} {version}\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        let _ = s.read_to_end(&mut resp).await;
        let text = String::from_utf8_lossy(&resp);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| "Layer7 invalid response".to_string())?;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if expect_matches(expect.as_ref(), status, body) {
            Ok(())
        } else {
            Err(format!("Layer7 wrong status, code: {status}"))
        }
    }
}

/// The check loop of one server (runs forever on its owning thread).
pub async fn run(
    backend: Arc<str>,
    check: HealthCheck,
    check_timeout: Option<Duration>,
    server: Arc<ServerRt>,
) {
    let p = server.plan.check_params.clone();
    let state = &server.check;
    let max = p.rise + p.fall - 1;
    // Full unless a server-state file gave it back otherwise.
    let mut health = state.health.load(Ordering::Relaxed).min(max);
    loop {
        let up = server.up.load(Ordering::Relaxed);
        let transitioning = health != max && health != 0;
        let inter = match (up, transitioning) {
            (false, false) => p.downinter.unwrap_or(p.inter),
            (_, true) => p.fastinter.unwrap_or(p.inter),
            _ => p.inter,
        };
        tokio::time::sleep(Duration::from_millis(u64::from(inter))).await;
        // `disable health` and maintenance pause the probes; the address may have changed
        // (the Runtime API, or DNS answers).
        let paused = server.admin.load(Ordering::Relaxed) & crate::state::ADMIN_MAINT != 0;
        if !state.enabled.load(Ordering::Relaxed) || paused {
            continue;
        }
        let Some(mut addr) = server.addr() else {
            continue;
        };
        if let Some(a) = p.addr.as_deref().and_then(|a| a.parse().ok()) {
            addr.set_ip(a);
        }
        if let Some(port) = p.port {
            addr.set_port(port);
        }
        let timeout = check_timeout.unwrap_or(Duration::from_millis(u64::from(p.inter)));
        let started = std::time::Instant::now();
        let outcome = probe(&check, addr, timeout, server.check_tls.as_deref()).await;
        let took = started.elapsed().as_millis() as u64;
        match outcome {
            Probe::Ok => {
                health = (health + 1).min(max);
                if !up && health >= p.fall {
                    server.up.store(true, Ordering::Relaxed);
                    state.last_change.store(unix_now(), Ordering::Relaxed);
                    eprintln!("[WARNING]  ({}) : Server {backend}/{} is UP, reason: Layer4 check passed, check duration: 0ms.", std::process::id(), server.name);
                }
                let status = if matches!(check, HealthCheck::Http { .. }) {
                    CheckStatus::L7Ok
                } else {
                    CheckStatus::L4Ok
                };
                state.record(status, 0, took, health);
            }
            Probe::Failed(reason) => {
                health = health.saturating_sub(1);
                if up && health < p.fall {
                    health = 0;
                    server.up.store(false, Ordering::Relaxed);
                    state.downs.fetch_add(1, Ordering::Relaxed);
                    state.last_change.store(unix_now(), Ordering::Relaxed);
                    eprintln!(
                        "[WARNING]  ({}) : Server {backend}/{} is DOWN, reason: {reason}.",
                        std::process::id(),
                        server.name
                    );
                }
                state.record(failure_status(&reason), failure_code(&reason), took, health);
            }
        }
    }
}

/// The check status of a failed probe, from its reason.
fn failure_status(reason: &str) -> CheckStatus {
    if reason.starts_with("Layer4 timeout") {
        CheckStatus::L4Timeout
    } else if reason.starts_with("Layer4") {
        CheckStatus::L4Conn
    } else if reason.starts_with("Layer7 wrong status") {
        CheckStatus::L7Status
    } else {
        CheckStatus::L7Response
    }
}

fn failure_code(reason: &str) -> u32 {
    reason
        .rsplit("code: ")
        .next()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0)
}

/// Every checked server with the index of the thread that owns its check.
pub fn assignments(backends: &[BackendRt], threads: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut next = 0;
    for (b, be) in backends.iter().enumerate() {
        for (s, srv) in be.servers.iter().enumerate() {
            if srv.plan.check && !srv.disabled {
                out.push((next % threads.max(1), b, s));
                next += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        let e = |kind: &str, pattern: &str, negate| Expect {
            kind: kind.into(),
            pattern: pattern.into(),
            negate,
        };
        assert!(expect_matches(None, 204, ""));
        assert!(!expect_matches(None, 503, ""));
        assert!(expect_matches(
            Some(&e("status", "200-299", false)),
            250,
            ""
        ));
        assert!(expect_matches(Some(&e("rstatus", "^2", false)), 204, ""));
        assert!(expect_matches(
            Some(&e("string", "ready", false)),
            200,
            "all ready"
        ));
        assert!(!expect_matches(
            Some(&e("string", "ready", true)),
            200,
            "all ready"
        ));
    }
}
