//! Live sessions for `show sess`, kept per worker thread in a thread-local table (no lock, no
//! shared cache line on the request path). The Runtime API asks every worker for its table
//! through a channel and prints the answers. The same channel carries `shutdown session` and
//! `shutdown sessions server` (and Lua's `Server:shut_sess()`): each session's serving task
//! waits on its entry's kill signal beside its work, and drops the connections when told.

use super::anon::Masker;
use super::cli::Session;
use crate::state::Shared;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// One client connection, as `show sess` describes it.
pub struct Entry {
    pub id: u64,
    pub frontend: usize,
    pub client: SocketAddr,
    pub local: SocketAddr,
    pub started: Instant,
    /// Where its current (or last) request went.
    pub backend: Cell<Option<usize>>,
    pub server: RefCell<Option<Arc<str>>>,
    /// The tasks to wake when the session is to end at once; `dead` stays set for whoever
    /// looks later. The entry lives on one thread, so a plain list does: a `Notify` took a
    /// lock on each poll of the waiting future, several times per request.
    kill: RefCell<Vec<Waker>>,
    dead: Cell<bool>,
    /// Who killed it, the first letter of its termination state: `K` (the Runtime API, a
    /// script), `D` (its server went down), `U` (a primary came back, ending backup sessions).
    cause: Cell<u8>,
    /// An HTTP session: between requests it has nothing to kill (HAProxy has no stream then).
    http: Cell<bool>,
    /// How many of its requests wait for a server's answer now.
    waiting: Cell<u32>,
}

impl Entry {
    fn end(&self, cause: u8) {
        // HAProxy kills streams: an HTTP connection with no request under way is spared.
        if self.http.get() && self.waiting.get() == 0 {
            return;
        }
        self.cause.set(cause);
        self.dead.set(true);
        for waker in self.kill.take() {
            waker.wake();
        }
    }
}

/// Counts a request as waiting for its server's answer while alive.
pub struct Waiting(Rc<Entry>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.set(self.0.waiting.get().saturating_sub(1));
    }
}

/// What a worker reports of one session.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: u64,
    pub frontend: usize,
    pub client: SocketAddr,
    pub local: SocketAddr,
    pub age: Duration,
    pub backend: Option<usize>,
    pub server: Option<Arc<str>>,
    pub thread: usize,
}

thread_local! {
    static TABLE: RefCell<BTreeMap<u64, Rc<Entry>>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
    static THREAD: Cell<usize> = const { Cell::new(0) };
}

/// Keeps a session in its thread's table while alive.
pub struct Handle(Rc<Entry>);

impl Handle {
    /// Records where the session's request is going.
    pub fn route(&self, backend: usize) {
        self.0.backend.set(Some(backend));
        self.0.server.replace(None);
    }

    pub fn server(&self, name: Arc<str>) {
        self.0.server.replace(Some(name));
    }

    /// Marks an HTTP session: a kill reaches it only while one of its requests waits for a
    /// server (see [`Handle::waiting`]), and that request answers it.
    pub fn set_http(&self) {
        self.0.http.set(true);
    }

    /// The first letter of a killed session's termination state (see `Entry::cause`).
    pub fn kill_cause(&self) -> u8 {
        self.0.cause.get()
    }

    /// Forgets a kill that a request has answered.
    pub fn revive(&self) {
        self.0.dead.set(false);
    }

    /// A request of this session waits for its server's answer until the guard drops.
    pub fn waiting(&self) -> Waiting {
        self.0.waiting.set(self.0.waiting.get() + 1);
        Waiting(self.0.clone())
    }

    /// Ready once the session is killed (`shutdown session`, `shutdown sessions server`);
    /// every waiter sees it (the serving task and the forwarding inside it).
    pub fn killed(&self) -> impl std::future::Future<Output = ()> + 'static {
        let entry = self.0.clone();
        std::future::poll_fn(move |cx| {
            if entry.dead.get() {
                return Poll::Ready(());
            }
            let mut wakers = entry.kill.borrow_mut();
            // Each waiting task once: its waker stays valid for as long as the task lives.
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let id = self.0.id;
        TABLE.with(|t| t.borrow_mut().remove(&id));
    }
}

/// Registers a new session on the calling worker. Ids are unique across threads: the thread
/// number in the low byte.
pub fn open(frontend: usize, client: SocketAddr, local: SocketAddr) -> Handle {
    let n = NEXT.with(|n| {
        let v = n.get() + 1;
        n.set(v);
        v
    });
    let thread = THREAD.with(Cell::get);
    let entry = Rc::new(Entry {
        id: n << 8 | (thread as u64 & 0xff),
        frontend,
        client,
        local,
        started: crate::clock::now(),
        backend: Cell::new(None),
        server: RefCell::new(None),
        kill: RefCell::new(Vec::new()),
        dead: Cell::new(false),
        cause: Cell::new(b'K'),
        http: Cell::new(false),
        waiting: Cell::new(0),
    });
    TABLE.with(|t| t.borrow_mut().insert(entry.id, entry.clone()));
    Handle(entry)
}

fn snapshot() -> Vec<Snapshot> {
    let now = crate::clock::now();
    let thread = THREAD.with(Cell::get);
    TABLE.with(|t| {
        t.borrow()
            .values()
            .map(|e| Snapshot {
                id: e.id,
                frontend: e.frontend,
                client: e.client,
                local: e.local,
                age: now.saturating_duration_since(e.started),
                backend: e.backend.get(),
                server: e.server.borrow().clone(),
                thread,
            })
            .collect()
    })
}

/// What the Runtime API asks a worker about its sessions.
pub enum Query {
    /// Its sessions, sent back (`show sess`).
    Show(std::sync::mpsc::Sender<Vec<Snapshot>>),
    /// End session `id`, answering whether it was this worker's (`shutdown session`).
    Kill(u64, std::sync::mpsc::Sender<bool>),
    /// End the sessions whose request went to this server of this backend, for this cause
    /// (`Entry::cause`).
    KillServer(usize, Arc<str>, u8),
}

/// A worker's end of the sessions channel.
pub type Queries = mpsc::UnboundedReceiver<Query>;
pub type Asker = mpsc::UnboundedSender<Query>;

/// Answers the Runtime API's questions on this worker, forever. Called once per worker with
/// its thread number.
pub async fn answer(thread: usize, mut queries: Queries) {
    THREAD.with(|t| t.set(thread));
    while let Some(query) = queries.recv().await {
        match query {
            Query::Show(reply) => {
                let _ = reply.send(snapshot());
            }
            Query::Kill(id, reply) => {
                let entry = TABLE.with(|t| t.borrow().get(&id).cloned());
                if let Some(e) = &entry {
                    e.end(b'K');
                }
                let _ = reply.send(entry.is_some());
            }
            Query::KillServer(backend, server, cause) => TABLE.with(|t| {
                for e in t.borrow().values() {
                    let on = e.backend.get() == Some(backend)
                        && e.server.borrow().as_deref() == Some(&*server);
                    if on {
                        e.end(cause);
                    }
                }
            }),
        }
    }
}

/// Ends every session on server `server` of backend `backend`, on every worker (`shutdown
/// sessions server`, `Server:shut_sess()`).
pub fn kill_server(shared: &Shared, backend: usize, server: &Arc<str>) {
    kill_server_for(shared, backend, server, b'K');
}

/// [`kill_server`] with the termination state's first letter the sessions log: `D` when the
/// server went down (`on-marked-down shutdown-sessions`), `U` for a backup server's sessions
/// when a primary came back (`on-marked-up shutdown-backup-sessions`).
pub fn kill_server_for(shared: &Shared, backend: usize, server: &Arc<str>, cause: u8) {
    for asker in shared.process.session_askers() {
        let _ = asker.send(Query::KillServer(backend, server.clone(), cause));
    }
}

/// `shutdown sessions server <backend>/<server>`.
pub fn shutdown_server(
    shared: &Shared,
    s: &mut Session,
    args: &[String],
) -> Result<String, String> {
    s.need(hapee_compiler::plan::CliLevel::Admin)?;
    let (be, srv) = super::servers::find_server(shared, args.get(3))?;
    let index = shared
        .backends
        .iter()
        .position(|b| std::ptr::eq(b, be))
        .unwrap_or(usize::MAX);
    kill_server(shared, index, &srv.name);
    Ok(String::new())
}

/// `shutdown session <id>`.
pub fn shutdown(shared: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    s.need(hapee_compiler::plan::CliLevel::Admin)?;
    let id = args
        .get(2)
        .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .filter(|id| *id != 0)
        .ok_or_else(|| "Session pointer expected (use 'show sess').\n".to_string())?;
    let (tx, rx) = std::sync::mpsc::channel();
    let asked = shared
        .process
        .session_askers()
        .iter()
        .filter(|a| a.send(Query::Kill(id, tx.clone())).is_ok())
        .count();
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(5);
    for _ in 0..asked {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(true) => return Ok(String::new()),
            Ok(false) => {}
            Err(_) => break,
        }
    }
    Err("No such session (use 'show sess').\n".into())
}

/// Sets the thread number of the calling worker (ids carry it).
pub fn enter_thread(thread: usize) {
    THREAD.with(|t| t.set(thread));
}

/// Every worker's sessions, oldest first. The API thread waits for the workers' answers
/// (each worker answers between two of its tasks), as HAProxy's CLI dumps synchronously.
fn gather(shared: &Shared) -> Vec<Snapshot> {
    let (tx, rx) = std::sync::mpsc::channel();
    let asked = shared
        .process
        .session_askers()
        .iter()
        .filter(|a| a.send(Query::Show(tx.clone())).is_ok())
        .count();
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut all = Vec::new();
    for _ in 0..asked {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(mut list) => all.append(&mut list),
            Err(_) => break,
        }
    }
    all.sort_by(|a, b| b.age.cmp(&a.age).then(a.id.cmp(&b.id)));
    all
}

/// `show sess [all|<id>]`, after the worker tables were gathered.
pub fn render(shared: &Shared, s: &Session, list: &[Snapshot], args: &[String]) -> String {
    let mut m = Masker::new(s);
    let one = args
        .get(2)
        .filter(|a| *a != "all")
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(u64::MAX));
    let mut out = String::new();
    for e in list.iter().filter(|e| one.is_none_or(|id| id == e.id)) {
        let fe = shared
            .frontends
            .get(e.frontend)
            .map_or("<NONE>".to_string(), |f| m.name(&f.name));
        let be = e
            .backend
            .and_then(|b| shared.backends.get(b))
            .map_or("<NONE>".to_string(), |b| m.name(&b.name));
        let srv = e
            .server
            .as_deref()
            .map_or("<none>".to_string(), |n| m.name(n));
        let proto = if e.client.is_ipv4() { "tcpv4" } else { "tcpv6" };
        let _ = writeln!(
            out,
            "{:#x}: proto={proto} src={}:{} fe={fe} be={be} srv={srv} age={}s thread={}",
            e.id,
            m.ip(e.client.ip()),
            e.client.port(),
            e.age.as_secs(),
            e.thread + 1
        );
        if one.is_some() {
            let _ = writeln!(
                out,
                "  frontend={fe} (id={}) addr={}:{}",
                shared.frontends.get(e.frontend).map_or(0, |f| f.id),
                m.ip(e.local.ip()),
                e.local.port()
            );
        }
    }
    if one.is_some() && out.is_empty() {
        return "Session not found.\n".into();
    }
    out
}

/// `show sess [all|<id>]`.
pub fn show(shared: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    s.need(hapee_compiler::plan::CliLevel::Operator)?;
    let list = gather(shared);
    Ok(render(shared, s, &list, args))
}
