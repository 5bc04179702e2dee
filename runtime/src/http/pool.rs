//! Per-thread pools of idle server connections, keyed by (backend, server). Only the owning
//! thread touches its pool, so no lock sits on this path.

use super::ReqBody;
use hyper::client::conn::http1::SendRequest;
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

pub type Sender = SendRequest<ReqBody>;

/// Idle connections kept per server, per thread.
const MAX_IDLE: usize = 64;

/// Idle connections by (backend, server).
type IdleMap = HashMap<(usize, usize), Vec<Sender>>;

#[derive(Clone, Default)]
pub struct Pool(Rc<RefCell<IdleMap>>);

impl Pool {
    /// An idle connection to the server that can take a request now.
    pub fn take(&self, key: (usize, usize)) -> Option<Sender> {
        let mut map = self.0.borrow_mut();
        let list = map.get_mut(&key)?;
        while let Some(s) = list.pop() {
            if s.is_ready() {
                return Some(s);
            }
        }
        None
    }

    pub fn put(&self, key: (usize, usize), sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut map = self.0.borrow_mut();
        let list = map.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push(sender);
        }
    }
}
