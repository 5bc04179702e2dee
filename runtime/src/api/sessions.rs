//! Live sessions for `show sess`, kept per worker thread in a thread-local table (no lock, no
//! shared cache line on the request path). The Runtime API asks every worker for its table
//! through a channel and prints the answers.

use super::anon::Masker;
use super::cli::Session;
use crate::state::Shared;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
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

/// A worker's end of the `show sess` channel: each query carries where to send the answer.
pub type Queries = mpsc::UnboundedReceiver<std::sync::mpsc::Sender<Vec<Snapshot>>>;
pub type Asker = mpsc::UnboundedSender<std::sync::mpsc::Sender<Vec<Snapshot>>>;

/// Answers the Runtime API's questions on this worker, forever. Called once per worker with
/// its thread number.
pub async fn answer(thread: usize, mut queries: Queries) {
    THREAD.with(|t| t.set(thread));
    while let Some(reply) = queries.recv().await {
        let _ = reply.send(snapshot());
    }
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
        .filter(|a| a.send(tx.clone()).is_ok())
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
