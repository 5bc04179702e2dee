//! `tcp-response content` rules in TCP mode: the server's first bytes are held while the
//! backend's rules wait for them (until the rules can decide, the buffer is full, the server
//! closes, or `tcp-response inspect-delay` passes), then the rules run once on what arrived:
//! they forward it, reject the stream, or forward it and close the server connection. Without a delay the
//! rules decide at once on nothing, as the request side does (`crate::tcp::inspect`).

use crate::rules::{self, Verdict};
use crate::state::BackendRt;
use crate::txn::Txn;
use bytes::{Bytes, BytesMut};
use hapee_compiler::registry::RuleSet;
use tokio::io::{AsyncRead, AsyncReadExt};

/// What the response rules need: the backend, the buffer size and the stream's own
/// transaction, lent through `txn` while the tunnel runs (the script filters act on it there
/// too). The rules take it out while they run and put it back after, waking `back`.
pub struct Gate<'a> {
    pub backend: &'a BackendRt,
    pub bufsize: usize,
    pub txn: &'a crate::script::TxnSlot,
    pub back: &'a tokio::sync::Notify,
    /// Where a rule's script keeps the transaction while it runs, for the script filters
    /// running beside it (none without filters).
    pub lend: Option<crate::script::LendTo>,
}

/// The transaction taken out of its slot while the response rules run on it; put back (and
/// the waiting direction woken) when they are done or dropped.
struct Taken<'a> {
    txn: Option<Box<Txn>>,
    slot: &'a crate::script::TxnSlot,
    back: &'a tokio::sync::Notify,
}

impl<'a> Taken<'a> {
    fn out(slot: &'a crate::script::TxnSlot, back: &'a tokio::sync::Notify) -> Option<Self> {
        let txn = slot.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        Some(Taken {
            txn: Some(txn),
            slot,
            back,
        })
    }

    fn txn(&mut self) -> &mut Txn {
        self.txn.as_mut().expect("held until dropped")
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = self.txn.take();
        self.back.notify_waiters();
    }
}

/// Why a tunnel ended before both sides closed: the response rules refused the server's
/// bytes, the session was killed, or a connection failed (reset, or gone when written to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `reject`: both connections are closed (logged `PD`).
    Reject,
    /// A script action ended the stream (`txn:done()`, or it could not run).
    Script,
    /// The session was killed (`shutdown session`, `Server:shut_sess()`): logged `K-`, as HAProxy logs it.
    Killed,
    /// Reading from or writing to the client failed: logged `CD`.
    ClientAborted,
    /// Reading from or writing to the server failed: logged `SD`.
    ServerAborted,
    /// A script filter failed to start the response's analysis (its place): logged `PR`.
    FilterFailed(usize),
    /// Nothing woke a script filter waiting on the response's start before the server's
    /// idle limit: logged `sD`.
    StartTimedOut,
}

impl Refusal {
    /// The termination state the log line shows.
    pub fn term(self) -> [u8; 2] {
        match self {
            Refusal::Reject => *b"PD",
            Refusal::Script => *b"LD",
            Refusal::Killed => *b"K-",
            Refusal::ClientAborted => *b"CD",
            Refusal::ServerAborted => *b"SD",
            Refusal::FilterFailed(_) => *b"PR",
            Refusal::StartTimedOut => *b"sD",
        }
    }
}

/// What the rules let through: the held bytes, and whether the server connection goes on
/// (`close` forwards what was held, then closes it, as HAProxy does).
#[derive(Debug)]
pub struct Forward {
    pub held: Bytes,
    pub more: bool,
    /// The download limits enabled by then (`set-bandwidth-limit` in either rule set).
    pub limits: crate::bwlim::Pacer,
}

/// Where more response bytes come from while a script waits for them, and until when.
pub type Source<'a> = (
    &'a mut (dyn tokio::io::AsyncRead + Unpin),
    Option<tokio::time::Instant>,
);

/// Whether the backend has response content rules to hold the server's bytes for.
pub fn wanted(backend: &BackendRt) -> bool {
    backend
        .rules
        .iter()
        .any(|r| r.set == RuleSet::TcpResponseContent)
}

/// Holds the server's first bytes until the rules can decide, runs them, and answers the
/// bytes to forward to the client first (what a script left there), or the refusal.
pub async fn inspect<R: AsyncRead + Unpin>(
    server: &mut R,
    gate: Gate<'_>,
) -> Result<Forward, Refusal> {
    let Gate {
        backend,
        bufsize,
        txn: slot,
        back,
        lend,
    } = gate;
    let mut buf = BytesMut::new();
    let deadline = backend
        .response_inspect_delay
        .map(|d| tokio::time::Instant::now() + d);
    let mut closed = false;
    loop {
        // Taken out only while looked at: the filters of the client's bytes reach it between.
        let Some(mut taken) = Taken::out(slot, back) else {
            return Err(Refusal::Script);
        };
        let txn = taken.txn();
        txn.res_payload = Some(Bytes::copy_from_slice(&buf));
        txn.res_payload_closed = closed;
        txn.res_payload_final = closed || buf.len() >= bufsize || deadline.is_none();
        if txn.res_payload_final
            || !rules::awaits_data(&backend.rules, RuleSet::TcpResponseContent, txn)
        {
            break;
        }
        drop(taken);
        buf.reserve(bufsize - buf.len());
        let Some(deadline) = deadline else { break };
        match tokio::time::timeout_at(deadline, server.read_buf(&mut buf)).await {
            Err(_) => {
                if let Some(mut taken) = Taken::out(slot, back) {
                    taken.txn().res_payload_final = true;
                }
                break;
            }
            Ok(Ok(0) | Err(_)) => closed = true,
            Ok(Ok(_)) => {}
        }
    }
    let Some(mut taken) = Taken::out(slot, back) else {
        return Err(Refusal::Script);
    };
    let txn = taken.txn();
    // A script among the rules keeps the transaction where the filters reach it.
    let lending = lend.is_some();
    if lending {
        txn.rare_mut().lend_to = lend;
    }
    let ran = run_rules(backend, txn, Some((server, deadline))).await;
    if lending {
        txn.rare_mut().lend_to = None;
    }
    let more = ran?;
    let held = txn.res_payload.take().unwrap_or_else(|| buf.freeze());
    let limits = std::mem::take(&mut txn.filters.limits.download);
    Ok(Forward { held, more, limits })
}

/// In HTTP mode, before the response content rules run on a response that opens a tunnel (a
/// 101, a 2xx to CONNECT): that message never ends, so rules waiting for its end (`WAIT_END`,
/// or any fetch that more data could change) wait out `tcp-response inspect-delay`, as
/// HAProxy's rules wait for the end of the message, a full buffer or the delay. Other
/// responses are there whole when the rules run.
pub async fn wait_message_end(backend: &BackendRt, txn: &mut Txn) {
    let Some(delay) = backend.response_inspect_delay else {
        return;
    };
    txn.res_payload_final = false;
    let waits = rules::awaits_data(&backend.rules, RuleSet::TcpResponseContent, txn);
    txn.res_payload_final = true;
    if waits {
        tokio::time::sleep(delay).await;
    }
}

/// Runs the backend's response content rules on what is held (in HTTP mode, on the response
/// whose headers arrived: nothing more is awaited, as in HAProxy, where they pass at once),
/// script actions included, which may wait for more of `source` until its deadline. Answers
/// whether the server connection goes on (`close` ends it).
pub async fn run_rules(
    backend: &BackendRt,
    txn: &mut Txn,
    mut source: Option<Source<'_>>,
) -> Result<bool, Refusal> {
    let mut from = 0;
    loop {
        match rules::run_from(&backend.rules, RuleSet::TcpResponseContent, txn, from) {
            Verdict::Reject | Verdict::Deny(_) => return Err(Refusal::Reject),
            Verdict::Close => return Ok(false),
            Verdict::Script(call, next) => {
                use crate::script::{run_action, run_action_fed, ActionEnd, Phase};
                let phase = Phase::TcpResponse;
                let end = match source.as_mut() {
                    Some((from, deadline)) => {
                        Box::pin(run_action_fed(
                            call,
                            phase,
                            txn,
                            Some(*from),
                            None,
                            *deadline,
                        ))
                        .await
                    }
                    None => Box::pin(run_action(call, phase, txn)).await,
                };
                match end {
                    ActionEnd::Continue => from = next,
                    ActionEnd::Stop | ActionEnd::RulesDone | ActionEnd::Yield(_) => {
                        from = usize::MAX
                    }
                    ActionEnd::Deny | ActionEnd::Abort | ActionEnd::Invalid => {
                        return Err(Refusal::Reject)
                    }
                    ActionEnd::Done(_) | ActionEnd::Failed => return Err(Refusal::Script),
                }
            }
            Verdict::Spoe(group, next) => {
                // The rules wait for the agent while the inspection delay lasts (in HTTP mode,
                // from now: the response is there), else HAProxy interrupts the processing.
                let deadline = match &source {
                    Some((_, deadline)) => *deadline,
                    None => backend
                        .response_inspect_delay
                        .map(|d| tokio::time::Instant::now() + d),
                };
                let wait = crate::spoe::Wait::content(deadline);
                group.run(txn, &backend.name, wait).await;
                from = next;
            }
            _ => return Ok(true),
        }
    }
}
