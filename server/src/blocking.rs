//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...). A blocked client's request is kept
//! in a [`Waiter`], queued FIFO under every key it waits for. When a write command touches such
//! a key, the writing thread re-runs the waiter's command on the waiter's behalf (under the
//! key's slot lock, like any command) and sends the reply to the waiter's event loop.
//! Timeouts and disconnects race with that through one atomic state per waiter.

use crate::client::ClientInfo;
use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use slotbox_protocol::Frame;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

const WAITING: u8 = 0;
const SERVING: u8 = 1;
const DONE: u8 = 2;

/// One blocked request.
pub struct Waiter {
    pub info: Arc<ClientInfo>,
    /// The database its keys are in.
    pub db: usize,
    /// The command (its registry id, and its table row for its flags).
    pub cmd: u16,
    pub spec: &'static slotbox_protocol::command::CommandSpec,
    pub args: Vec<Bytes>,
    pub keys: Vec<Bytes>,
    /// Unix ms at which the client gets `timeout_reply` (0 = never).
    pub deadline_ms: i64,
    pub timeout_reply: Frame,
    state: AtomicU8,
}

impl Waiter {
    pub fn new(
        (info, db): (Arc<ClientInfo>, usize),
        (cmd, spec): (u16, &'static slotbox_protocol::command::CommandSpec),
        args: Vec<Bytes>,
        keys: Vec<Bytes>,
        deadline_ms: i64,
        timeout_reply: Frame,
    ) -> Self {
        Waiter { info, db, cmd, spec, args, keys, deadline_ms, timeout_reply, state: AtomicU8::new(WAITING) }
    }

    /// Take the waiter for serving; false if it is being served, timed out or gone.
    pub fn claim(&self) -> bool {
        self.state.compare_exchange(WAITING, SERVING, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Give a claimed waiter back (its command would still block).
    pub fn release(&self) {
        self.state.store(WAITING, Ordering::Release);
    }

    /// Mark a claimed waiter as finished.
    pub fn finish(&self) {
        self.state.store(DONE, Ordering::Release);
    }

    /// For timeouts and disconnects: end the wait unless a server thread got it first.
    /// Returns None while another thread is serving it (try again later).
    pub fn cancel(&self) -> Option<bool> {
        match self.state.compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Some(true),
            Err(SERVING) => None,
            Err(_) => Some(false),
        }
    }
}

/// Waiters in arrival order, by (database, key).
type Queues = HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>;

/// Every blocked client, by database and key.
#[derive(Default)]
pub struct Blocking {
    by_key: Mutex<Queues>,
    count: AtomicUsize,
}

impl Blocking {
    /// Cheap check done after every write.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Number of blocked clients (INFO blocked_clients).
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn register(&self, w: Arc<Waiter>) {
        let mut map = self.by_key.lock();
        for k in &w.keys {
            let q = map.entry((w.db, k.clone())).or_default();
            if !q.iter().any(|x| Arc::ptr_eq(x, &w)) {
                q.push_back(w.clone());
            }
        }
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    /// Remove a waiter from every key queue.
    pub fn remove(&self, w: &Arc<Waiter>) {
        let mut map = self.by_key.lock();
        let mut found = false;
        for k in &w.keys {
            let at = (w.db, k.clone());
            if let Some(q) = map.get_mut(&at) {
                let before = q.len();
                q.retain(|x| !Arc::ptr_eq(x, w));
                found |= q.len() != before;
                if q.is_empty() {
                    map.remove(&at);
                }
            }
        }
        if found {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Is anybody waiting for `key` of database `db`?
    pub fn waits_for(&self, db: usize, key: &Bytes) -> bool {
        self.any() && self.by_key.lock().contains_key(&(db, key.clone()))
    }

    /// The keys of database `db` somebody waits for.
    pub fn keys_waited_in(&self, db: usize) -> Vec<Bytes> {
        self.by_key.lock().keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect()
    }

    /// The waiter of client `id`, if it is blocked on keys.
    pub fn waiter_of(&self, id: u64) -> Option<Arc<Waiter>> {
        let map = self.by_key.lock();
        map.values().flatten().find(|w| w.info.id == id).cloned()
    }

    /// The first waiter of `key` of database `db` that could be claimed, claimed; waiters in
    /// `skip` (already given their turn) are passed over.
    pub fn claim_first(&self, db: usize, key: &Bytes, skip: &[Arc<Waiter>]) -> Option<Arc<Waiter>> {
        let map = self.by_key.lock();
        let q = map.get(&(db, key.clone()))?;
        q.iter().find(|w| !skip.iter().any(|s| Arc::ptr_eq(s, w)) && w.claim()).cloned()
    }
}
