//! `balance roundrobin` in HAProxy's order (its "fast weighted round robin"): each server is
//! given a next position in a window as wide as the group's total weight, advancing by the
//! total divided by its own weight, and the server with the lowest position (then the
//! heaviest, then the first queued) goes next. Servers of unequal weights are therefore
//! interleaved (weights 3, 2, 1 give `a b a c a b`), and a request lands on the server
//! HAProxy would have chosen.
//!
//! The state follows one group of servers (index, weight). A server leaving the group (gone
//! down) or joining it (come up) changes the rotation in place, as HAProxy's trees do, so
//! that the others keep their turns; a weight change, or a group with none of the previous
//! servers (the backups taking over), starts the rotation over on the new group.

use std::sync::Mutex;

/// HAProxy's scale between user weights and effective ones.
const WEIGHT_SCALE: u64 = 16;
/// The greatest user weight, and its effective counterpart.
const UWEIGHT_RANGE: u64 = 256;
const EWEIGHT_MAX: u64 = UWEIGHT_RANGE * WEIGHT_SCALE;

/// Which tree of the group a server waits in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tree {
    /// Sorted by position: the servers of the current window.
    Current,
    /// Sorted by weight: the trees of the servers not placed yet (`Weighted(n)`, one of
    /// two that swap roles when a window ends).
    Weighted(usize),
    Out,
}

#[derive(Debug)]
struct Server {
    index: usize,
    eweight: u64,
    npos: u64,
    rweight: u64,
    tree: Tree,
    key: u64,
}

#[derive(Debug)]
struct State {
    group: Vec<(usize, u32)>,
    servers: Vec<Server>,
    curr_pos: u64,
    curr_weight: u64,
    next_weight: u64,
    /// Slots into `servers`, each tree in order (equal keys in the order queued).
    current: Vec<usize>,
    weighted: [Vec<usize>; 2],
    /// Which of `weighted` is the "init" tree (the other is the "next" one).
    init: usize,
}

/// What the caller says of a server the rotation reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reached {
    /// It may take the request.
    Take,
    /// It is at its `maxconn`: passed over, and requeued as if it had taken it.
    Full,
    /// The server a redispatch moves away from: taken only if nothing else is.
    Avoid,
}

/// The rotation of one backend.
#[derive(Debug, Default)]
pub struct Fwrr {
    state: Mutex<Option<State>>,
}

impl Fwrr {
    /// The next server of `group` ((index, weight) pairs of the usable servers, weights > 0):
    /// the first the rotation reaches that `reached` lets take the request; `None` when every
    /// server is full.
    pub fn pick(
        &self,
        group: &[(usize, u32)],
        reached: impl Fn(usize) -> Reached,
    ) -> Option<usize> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let kept = guard
            .as_mut()
            .is_some_and(|state| state.group == group || state.follow(group));
        if !kept {
            *guard = Some(State::new(group));
        }
        guard.as_mut()?.next(reached)
    }
}

impl State {
    fn new(group: &[(usize, u32)]) -> State {
        let servers: Vec<Server> = group
            .iter()
            .map(|&(index, w)| Server {
                index,
                eweight: u64::from(w) * WEIGHT_SCALE,
                npos: 0,
                rweight: 0,
                tree: Tree::Out,
                key: 0,
            })
            .collect();
        let total = servers.iter().map(|s| s.eweight).sum();
        let mut state = State {
            group: group.to_vec(),
            servers,
            curr_pos: total,
            curr_weight: total,
            next_weight: total,
            current: Vec::new(),
            weighted: [Vec::new(), Vec::new()],
            init: 0,
        };
        for slot in 0..state.servers.len() {
            state.queue_by_weight(0, slot);
        }
        state
    }

    /// Takes the servers that left `group` out of the rotation and places those that joined
    /// it, as HAProxy does when a server goes down or comes up; `false` (nothing changed)
    /// when a server kept in the group changed its weight or none was kept.
    fn follow(&mut self, group: &[(usize, u32)]) -> bool {
        let weight_of = |g: &[(usize, u32)], index: usize| {
            g.iter().find(|&&(i, _)| i == index).map(|&(_, w)| w)
        };
        let mut kept = false;
        for &(index, w) in &self.group {
            match weight_of(group, index) {
                Some(now) if now != w => return false,
                Some(_) => kept = true,
                None => {}
            }
        }
        if !kept {
            return false;
        }
        let left: Vec<(usize, u32)> = self
            .group
            .iter()
            .copied()
            .filter(|&(i, _)| weight_of(group, i).is_none())
            .collect();
        for (index, _) in left {
            if let Some(slot) = self.slot_of(index) {
                self.next_weight -= self.servers[slot].eweight;
                self.dequeue(slot);
            }
        }
        let joined: Vec<(usize, u32)> = group
            .iter()
            .copied()
            .filter(|&(i, _)| weight_of(&self.group, i).is_none())
            .collect();
        for (index, w) in joined {
            let eweight = u64::from(w) * WEIGHT_SCALE;
            let slot = self.slot_of(index).unwrap_or_else(|| {
                self.servers.push(Server {
                    index,
                    eweight,
                    npos: 0,
                    rweight: 0,
                    tree: Tree::Out,
                    key: 0,
                });
                self.servers.len() - 1
            });
            self.next_weight += eweight;
            let s = &mut self.servers[slot];
            s.eweight = eweight;
            s.npos = self.curr_pos
                + (self.next_weight + self.curr_weight).saturating_sub(self.curr_pos) / eweight;
            self.queue(slot);
        }
        self.group = group.to_vec();
        true
    }

    fn slot_of(&self, index: usize) -> Option<usize> {
        self.servers.iter().position(|s| s.index == index)
    }

    fn insert(&mut self, tree: Tree, slot: usize, key: u64) {
        self.servers[slot].key = key;
        self.servers[slot].tree = tree;
        let servers = &self.servers;
        let list = match tree {
            Tree::Current => &mut self.current,
            Tree::Weighted(n) => &mut self.weighted[n],
            Tree::Out => return,
        };
        let at = list.partition_point(|&s| servers[s].key <= key);
        list.insert(at, slot);
    }

    fn dequeue(&mut self, slot: usize) {
        let list = match self.servers[slot].tree {
            Tree::Current => &mut self.current,
            Tree::Weighted(n) => &mut self.weighted[n],
            Tree::Out => return,
        };
        list.retain(|&s| s != slot);
        self.servers[slot].tree = Tree::Out;
    }

    /// Heavier servers first.
    fn queue_by_weight(&mut self, tree: usize, slot: usize) {
        let key = EWEIGHT_MAX.saturating_sub(self.servers[slot].eweight);
        self.insert(Tree::Weighted(tree), slot, key);
    }

    /// Places a server by its next position: in the current window, or in the next one's
    /// tree when its position is past it.
    fn queue(&mut self, slot: usize) {
        let s = &self.servers[slot];
        if s.npos >= 2 * self.curr_weight || s.npos >= self.curr_weight + self.next_weight {
            self.servers[slot].npos -= self.curr_weight;
            self.queue_by_weight(1 - self.init, slot);
        } else {
            let key = UWEIGHT_RANGE * s.npos + (EWEIGHT_MAX + s.rweight - s.eweight) / WEIGHT_SCALE;
            self.insert(Tree::Current, slot, key);
        }
    }

    /// The current window's first server if its turn has come, else the heaviest server not
    /// placed yet, else the current window's first.
    fn due(&mut self) -> Option<usize> {
        let first = self.current.first().copied();
        if let Some(s) = first {
            if self.servers[s].npos <= self.curr_pos {
                return Some(s);
            }
        }
        if let Some(&s) = self.weighted[self.init].first() {
            self.servers[s].npos = 0;
            self.servers[s].rweight = 0;
            return Some(s);
        }
        first
    }

    fn update_position(&mut self, slot: usize) {
        let (curr_pos, next_weight) = (self.curr_pos, self.next_weight);
        let s = &mut self.servers[slot];
        if s.npos == 0 {
            s.npos = curr_pos;
        }
        s.npos += next_weight / s.eweight;
        s.rweight += next_weight % s.eweight;
        if s.rweight >= s.eweight {
            s.rweight -= s.eweight;
            s.npos += 1;
        }
    }

    fn next(&mut self, reached: impl Fn(usize) -> Reached) -> Option<usize> {
        let mut switched = false;
        let mut avoided = None;
        let mut passed = Vec::new();
        let chosen = 'search: loop {
            if self.curr_weight == 0 {
                self.curr_pos = self.next_weight;
                self.curr_weight = self.next_weight;
            }
            let slot = loop {
                if let Some(s) = self.due() {
                    break s;
                }
                if switched {
                    break 'search avoided;
                }
                switched = true;
                self.init = 1 - self.init;
                self.curr_weight = self.next_weight;
                self.curr_pos = self.curr_weight;
            };
            self.update_position(slot);
            self.dequeue(slot);
            self.curr_pos += 1;
            match reached(self.servers[slot].index) {
                Reached::Take => break Some(slot),
                Reached::Avoid if avoided.is_some() => break Some(slot),
                Reached::Avoid => avoided = Some(slot),
                Reached::Full => {}
            }
            passed.push(slot);
        };
        if let Some(slot) = chosen {
            self.queue(slot);
        }
        for slot in passed.into_iter().filter(|&s| Some(s) != chosen) {
            if switched {
                self.queue_by_weight(self.init, slot);
            } else {
                self.queue(slot);
            }
        }
        chosen.map(|s| self.servers[s].index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(weights: &[u32], n: usize) -> Vec<usize> {
        let group: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let rr = Fwrr::default();
        (0..n)
            .map(|_| rr.pick(&group, |_| Reached::Take).unwrap())
            .collect()
    }

    /// Orders HAProxy 2.7.0 gave (observed with the differential traffic check and by hand).
    #[test]
    fn interleaves_servers_by_weight_as_haproxy() {
        assert_eq!(turns(&[1, 2, 3], 8), [2, 1, 2, 0, 2, 1, 2, 1]);
        assert_eq!(turns(&[70, 30], 10), [0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
        assert_eq!(turns(&[100, 100, 100], 7), [0, 1, 2, 0, 1, 2, 0]);
        let shares = turns(&[5, 3, 2], 1000);
        assert_eq!(shares.iter().filter(|&&s| s == 0).count(), 500);
        assert_eq!(shares.iter().filter(|&&s| s == 2).count(), 200);
    }

    #[test]
    fn full_servers_are_passed_over_and_an_avoided_one_is_the_last_resort() {
        let rr = Fwrr::default();
        let group = [(4, 1), (7, 1)];
        let full_4 = |i| if i == 4 { Reached::Full } else { Reached::Take };
        assert_eq!(rr.pick(&group, full_4), Some(7));
        assert_eq!(rr.pick(&group, full_4), Some(7));
        assert_eq!(rr.pick(&group, |_| Reached::Full), None);
        let avoid_7 = |i| {
            if i == 7 {
                Reached::Avoid
            } else {
                Reached::Take
            }
        };
        assert_eq!(rr.pick(&group, avoid_7), Some(4));
        assert_eq!(rr.pick(&[(7, 1)], avoid_7), Some(7));
    }
}
