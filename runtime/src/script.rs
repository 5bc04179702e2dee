//! Script hooks: what the runtime asks of a scripting engine (Lua, in the `hapee-lua` crate)
//! without depending on it. `hapee-lb` builds the engine from the plan and hands it to
//! [`crate::run_with`]; each worker thread then takes its own [`Hooks`] (its per-thread script
//! states, and access to the shared one) and keeps them in a thread-local, so the request path
//! reaches them without carrying them around.
//!
//! Actions and services may wait (`core.sleep`): they take the transaction by value and give it
//! back when done, so that nothing borrowed is held across the wait.

use crate::sample::Value;
use crate::txn::Txn;
use bytes::Bytes;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A future run on the calling worker thread.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Builds the hooks of each worker thread.
pub trait Engine: Send + Sync {
    /// Called once the runtime's state is built, before any thread serves: scripts may now
    /// see the proxies, and their init functions run. Errors stop the start.
    fn start(&self, shared: &std::sync::Arc<crate::state::Shared>) -> Result<(), Vec<String>>;
    /// The hooks worker thread `thread` (0-based) uses.
    fn for_thread(&self, thread: usize) -> Rc<dyn Hooks>;
}

/// A response made by a script (an HTTP service, or `txn:done(reply)`).
#[derive(Debug, Clone, Default)]
pub struct ScriptReply {
    pub status: u16,
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// How a script action ended.
#[derive(Debug)]
pub enum ActionEnd {
    /// The next rule runs.
    Continue,
    /// `txn:done()`: the transaction ends here, with this response if one was given.
    Done(Option<ScriptReply>),
    /// The script failed (already reported): the transaction ends with an internal error.
    Failed,
}

/// Where in the transaction an action runs (`http-req`, `http-res`, `tcp-req`, `tcp-res`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    HttpRequest,
    HttpResponse,
    TcpRequest,
    TcpResponse,
}

/// A call of a script action written in a rule (`http-request lua.<name> [args]`).
#[derive(Debug, Clone)]
pub struct ScriptCall {
    /// The registered name, without `lua.`.
    pub name: String,
    pub args: Vec<String>,
}

/// What one worker thread's scripts offer the request path.
pub trait Hooks {
    /// Runs action `call`; gives the transaction back with how it ended.
    fn action(&self, call: &ScriptCall, phase: Phase, txn: Txn) -> LocalFuture<(Txn, ActionEnd)>;
    /// Runs HTTP service `name` on a request whose body has been read; `None` when the service
    /// failed (already reported).
    fn service(&self, name: &str, txn: Txn, body: Bytes)
        -> LocalFuture<(Txn, Option<ScriptReply>)>;
    /// Runs TCP service `name` on the client connection; gives the transaction back (with
    /// the bytes counted) once the service has returned.
    fn tcp_service(&self, name: &str, stream: crate::ClientStream, txn: Txn) -> LocalFuture<Txn>;
    /// Sample fetch `lua.<name>(args)`.
    fn fetch(&self, name: &str, args: &[String], txn: &Txn) -> Option<Value>;
    /// Converter `lua.<name>(args)`.
    fn convert(&self, name: &str, args: &[String], value: Value, txn: &Txn) -> Option<Value>;
    /// The background tasks (`core.register_task`) this thread runs, started once.
    fn tasks(&self) -> Vec<LocalFuture<()>>;
}

thread_local! {
    static HOOKS: RefCell<Option<Rc<dyn Hooks>>> = const { RefCell::new(None) };
}

/// Makes `hooks` the calling worker thread's hooks.
pub fn enter_thread(hooks: Rc<dyn Hooks>) {
    HOOKS.with(|h| *h.borrow_mut() = Some(hooks));
}

/// The calling thread's hooks, if scripts are loaded.
pub fn hooks() -> Option<Rc<dyn Hooks>> {
    HOOKS.with(|h| h.borrow().clone())
}

/// Runs a script action on `txn` in place: the transaction is lent to the script while it
/// runs. Without an engine, the action fails.
pub async fn run_action(call: &ScriptCall, phase: Phase, txn: &mut Txn) -> ActionEnd {
    let Some(hooks) = hooks() else {
        return ActionEnd::Failed;
    };
    let lent = std::mem::replace(txn, placeholder(txn));
    let (back, end) = hooks.action(call, phase, lent).await;
    *txn = back;
    end
}

/// Runs HTTP service `name` on `txn` in place.
pub async fn run_service(name: &str, txn: &mut Txn, body: Bytes) -> Option<ScriptReply> {
    let hooks = hooks()?;
    let lent = std::mem::replace(txn, placeholder(txn));
    let (back, reply) = hooks.service(name, lent, body).await;
    *txn = back;
    reply
}

/// Runs TCP service `name` on `stream`; the connection closes when it returns.
pub async fn run_tcp_service(name: &str, stream: crate::ClientStream, txn: Txn) -> Txn {
    match hooks() {
        Some(hooks) => hooks.tcp_service(name, stream, txn).await,
        None => txn,
    }
}

/// What stays in place of a transaction lent to a script: if the client leaves meanwhile, it
/// is what gets logged.
fn placeholder(txn: &Txn) -> Txn {
    let mut p = Txn::new(
        txn.shared.clone(),
        txn.client,
        txn.local,
        txn.frontend.clone(),
    );
    p.accept_date = txn.accept_date;
    p.start = txn.start;
    p.backend = txn.backend.clone();
    p
}
